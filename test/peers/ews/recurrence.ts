/**
 * Expands an EWS recurrence into occurrences, in the series' own time zone: every occurrence starts at the same
 * wall-clock time as the first one, so a 09:00 meeting stays at 09:00 across a DST change, as in Exchange.
 */
import { DAY_INDEXES, MONTHS, WEEKDAYS } from './calendar-model.ts';
import type { DaysOfWeekValue, SimRecurrence, SimRecurrencePattern } from './calendar-model.ts';
import { localToUtc, parseEwsDate, utcToLocal } from './time-zones.ts';

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a civil date (timezone-free arithmetic). */
export function dayNumber(y: number, m: number, d: number): number {
  return Math.floor(Date.UTC(y, m - 1, d) / DAY_MS);
}
function civil(day: number): [number, number, number] {
  const dt = new Date(day * DAY_MS);
  return [dt.getUTCFullYear(), dt.getUTCMonth() + 1, dt.getUTCDate()];
}
function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}
function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

export class RecurrenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecurrenceError';
  }
}

function matchesDayValue(value: DaysOfWeekValue, weekday: number): boolean {
  if (value === 'Day') return true;
  if (value === 'Weekday') return weekday >= 1 && weekday <= 5;
  if (value === 'WeekendDay') return weekday === 0 || weekday === 6;
  return WEEKDAYS[weekday] === value;
}

/** The n-th (or last) day of a month matching a DaysOfWeek value; null when the month has no such day. */
function relativeDay(y: number, m: number, value: DaysOfWeekValue, index: string): number | null {
  const first = dayNumber(y, m, 1);
  const matches: number[] = [];
  for (let d = 0; d < daysInMonth(y, m); d++) if (matchesDayValue(value, weekdayOf(first + d))) matches.push(first + d);
  if (index === 'Last') return matches.length ? matches[matches.length - 1] : null;
  const i = DAY_INDEXES.indexOf(index as (typeof DAY_INDEXES)[number]);
  return matches[i] ?? null;
}

export function validatePattern(p: SimRecurrencePattern): void {
  const interval = 'interval' in p ? p.interval : 1;
  if (!Number.isInteger(interval) || interval < 1 || interval > 999) throw new RecurrenceError('Interval must be 1..999');
  if (p.type === 'Weekly' && p.daysOfWeek.length === 0) throw new RecurrenceError('A weekly pattern needs at least one day');
  if ((p.type === 'AbsoluteMonthly' || p.type === 'AbsoluteYearly') && (p.dayOfMonth < 1 || p.dayOfMonth > 31)) {
    throw new RecurrenceError('DayOfMonth must be 1..31');
  }
}

/**
 * Candidate local dates (day numbers) of the pattern, in order, from the range start on. Infinite for NoEnd;
 * the caller stops.
 */
function* patternDays(p: SimRecurrencePattern, startDay: number): Generator<number> {
  const [sy, sm] = civil(startDay);
  switch (p.type) {
    case 'Daily':
      for (let d = startDay; ; d += p.interval) yield d;
    case 'Weekly': {
      const firstDow = WEEKDAYS.indexOf(p.firstDayOfWeek ?? 'Sunday');
      const weekStart = startDay - ((weekdayOf(startDay) - firstDow + 7) % 7);
      const offsets = p.daysOfWeek.map((w) => (WEEKDAYS.indexOf(w) - firstDow + 7) % 7).sort((a, b) => a - b);
      for (let w = 0; ; w += p.interval) {
        for (const o of offsets) {
          const d = weekStart + w * 7 + o;
          if (d >= startDay) yield d;
        }
      }
    }
    case 'AbsoluteMonthly':
    case 'RelativeMonthly':
    case 'AbsoluteYearly':
    case 'RelativeYearly': {
      const yearly = p.type === 'AbsoluteYearly' || p.type === 'RelativeYearly';
      const step = yearly ? 12 : p.interval;
      let y = sy;
      let m = yearly ? MONTHS.indexOf(p.month) + 1 : sm;
      if (yearly && m < sm) y++;
      for (let guard = 0; guard < 100_000; guard++) {
        let d: number | null;
        if (p.type === 'AbsoluteMonthly' || p.type === 'AbsoluteYearly') {
          // A day beyond the month's end falls on its last day, as Outlook schedules "the 31st" in shorter months.
          d = dayNumber(y, m, Math.min(p.dayOfMonth, daysInMonth(y, m)));
        } else {
          d = relativeDay(y, m, p.daysOfWeek, p.dayOfWeekIndex);
        }
        if (d !== null && d >= startDay) yield d;
        m += step;
        while (m > 12) {
          m -= 12;
          y++;
        }
      }
      return;
    }
  }
}

export interface SeriesTiming {
  startMs: number;
  endMs: number;
  isAllDay: boolean;
  timeZone: string;
  recurrence: SimRecurrence;
}

export interface ExpandedOccurrence {
  /** 1-based position in the series (deleted occurrences keep their index). */
  index: number;
  startMs: number;
  endMs: number;
}

function rangeStartDay(r: SimRecurrence): number {
  const d = parseEwsDate(r.range.startDate);
  if (!d) throw new RecurrenceError(`Invalid recurrence StartDate '${r.range.startDate}'`);
  return dayNumber(d[0], d[1], d[2]);
}

/**
 * Occurrences of the series in pattern order. `untilMs`: stop once an occurrence starts at or after it
 * (needed for NoEnd series). `maxIndex`: stop after that many. `fromMs`: occurrences ending well before it are
 * counted (indexes stay right) but not computed, which keeps a view late in a long series cheap.
 */
export function* expandSeries(s: SeriesTiming, untilMs: number, maxIndex = Infinity, fromMs = -Infinity): Generator<ExpandedOccurrence> {
  validatePattern(s.recurrence.pattern);
  const local = utcToLocal(s.timeZone, s.startMs);
  const startDay = rangeStartDay(s.recurrence);
  const range = s.recurrence.range;
  let endDay = Infinity;
  if (range.type === 'EndDate') {
    const e = parseEwsDate(range.endDate);
    if (!e) throw new RecurrenceError(`Invalid recurrence EndDate '${range.endDate}'`);
    endDay = dayNumber(e[0], e[1], e[2]);
  }
  const count = range.type === 'Numbered' ? range.count : Infinity;
  const durationMs = s.endMs - s.startMs;
  const allDayDays = s.isAllDay ? Math.max(1, Math.round(durationMs / DAY_MS)) : 0;
  let index = 0;
  // Two days of slack for time zone offsets, plus the occurrence's own length.
  const skipBeforeDay = Number.isFinite(fromMs) ? Math.floor(fromMs / DAY_MS) - 2 - Math.ceil(durationMs / DAY_MS) : -Infinity;
  for (const day of patternDays(s.recurrence.pattern, startDay)) {
    if (day > endDay || index >= count || index >= maxIndex) return;
    if (day < skipBeforeDay) {
      index++;
      continue;
    }
    const [y, m, d] = civil(day);
    const startMs = s.isAllDay ? localToUtc(s.timeZone, y, m, d) : localToUtc(s.timeZone, y, m, d, local.hour, local.minute, local.second);
    if (startMs >= untilMs) return;
    index++;
    const endMs = s.isAllDay ? localToUtc(s.timeZone, ...civil(day + allDayDays)) : startMs + durationMs;
    yield { index, startMs, endMs };
  }
}

/** The first occurrence (Exchange moves a series' Start onto it), or null when the range holds none. */
export function firstOccurrence(s: SeriesTiming): ExpandedOccurrence | null {
  for (const o of expandSeries(s, Infinity, 1)) return o;
  return null;
}

/** The last occurrence of a bounded series; null for NoEnd (or an empty range). */
export function lastOccurrence(s: SeriesTiming): ExpandedOccurrence | null {
  if (s.recurrence.range.type === 'NoEnd') return null;
  let last: ExpandedOccurrence | null = null;
  for (const o of expandSeries(s, Infinity, 50_000)) last = o;
  return last;
}

/** The occurrence with this 1-based index, or null beyond the series. */
export function occurrenceByIndex(s: SeriesTiming, index: number): ExpandedOccurrence | null {
  if (!Number.isInteger(index) || index < 1) return null;
  let found: ExpandedOccurrence | null = null;
  for (const o of expandSeries(s, Infinity, index)) found = o;
  return found && found.index === index ? found : null;
}

/** The occurrence whose pattern start is exactly `originalStartMs`, or null. */
export function occurrenceAt(s: SeriesTiming, originalStartMs: number): ExpandedOccurrence | null {
  for (const o of expandSeries(s, originalStartMs + 1)) if (o.startMs === originalStartMs) return o;
  return null;
}
