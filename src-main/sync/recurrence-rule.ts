import type { DayGroup, EventFields, OccurrenceException, RecurrenceRule, WeekOrdinal, Weekday } from './calendar-event.ts';
import { addDays, formatDate, isDate, localDate, localParts, localToMs, weekdayOf } from './zoned-time.ts';
import { t } from '../common/i18n/i18n.ts';

/**
 * What a RecurrenceRule means, side-neutral and pure: its occurrence dates (the way Exchange counts them, MS-OXOCAL),
 * the canonical form both mappings produce, and a series' occurrences inside a window (what the engine syncs as single
 * items when the other side cannot hold the series).
 *
 * - A series starts at `startDate`; weekly intervals count whole weeks from the week holding the start, weeks starting
 *   on `firstDayOfWeek` (Sunday when absent).
 * - A monthly day beyond the end of a shorter month falls on that month's last day.
 * - "The n-th Weekday / WeekendDay / Day" counts only the days of that group in the month.
 */

export const WEEKDAYS: readonly Weekday[] = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
export const DAY_GROUPS: readonly DayGroup[] = ['Day', 'Weekday', 'WeekendDay'];
export const WEEK_ORDINALS: readonly WeekOrdinal[] = ['First', 'Second', 'Third', 'Fourth', 'Last'];

/** Safety bound: no real series has more positions than this before the date looked for. */
const MAX_POSITIONS = 100_000;

export const isWeekday = (v: unknown): v is Weekday => typeof v === 'string' && (WEEKDAYS as readonly string[]).includes(v);
export const isDayGroup = (v: unknown): v is DayGroup => typeof v === 'string' && (DAY_GROUPS as readonly string[]).includes(v);

/** A day of the week as the reader's language names it ("Sunday" / "sunnuntai" / "söndag"). */
export function weekdayName(day: string): string {
  return isWeekday(day) ? t(`engine.rule.days.${day}`) : day;
}


function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function dayMatches(weekday: number, value: Weekday | DayGroup): boolean {
  if (value === 'Day') return true;
  if (value === 'Weekday') return weekday >= 1 && weekday <= 5;
  if (value === 'WeekendDay') return weekday === 0 || weekday === 6;
  return WEEKDAYS[weekday] === value;
}

/** "The Last Friday" / "the Second Weekday" of a month, as a date. Every month has at least four of each. */
export function relativeDayOfMonth(year: number, month: number, value: Weekday | DayGroup, ordinal: WeekOrdinal): string {
  const matches: number[] = [];
  const first = weekdayOf(formatDate(year, month, 1));
  for (let d = 1; d <= daysInMonth(year, month); d++) if (dayMatches((first + d - 1) % 7, value)) matches.push(d);
  const index = ordinal === 'Last' ? matches.length - 1 : Math.min(WEEK_ORDINALS.indexOf(ordinal), matches.length - 1);
  return formatDate(year, month, matches[index]);
}

/** Candidate dates in order, before the range end is applied; never a date before startDate. */
function* patternDates(rule: RecurrenceRule): Generator<string> {
  const start = rule.startDate;
  const [startYear, startMonth] = start.split('-').map(Number);
  switch (rule.frequency) {
    case 'Daily':
      for (let k = 0; ; k++) yield addDays(start, k * rule.interval);
    case 'Weekly': {
      const wanted = new Set((rule.daysOfWeek ?? []).map((d) => WEEKDAYS.indexOf(d)));
      if (wanted.size === 0) return;
      const firstDay = WEEKDAYS.indexOf(rule.firstDayOfWeek ?? 'Sunday');
      const weekStart = addDays(start, -((weekdayOf(start) - firstDay + 7) % 7));
      for (let w = 0; ; w += rule.interval) {
        for (let i = 0; i < 7; i++) {
          const date = addDays(weekStart, w * 7 + i);
          if (date >= start && wanted.has(weekdayOf(date))) yield date;
        }
      }
    }
    case 'Monthly':
    case 'Yearly': {
      const step = rule.frequency === 'Monthly' ? rule.interval : 12;
      let year = startYear;
      let month = rule.frequency === 'Monthly' ? startMonth : (rule.month as number);
      for (;;) {
        const date = rule.weekOrdinal && rule.dayOfWeek
          ? relativeDayOfMonth(year, month, rule.dayOfWeek, rule.weekOrdinal)
          : formatDate(year, month, Math.min(rule.dayOfMonth as number, daysInMonth(year, month)));
        if (date >= start) yield date;
        month += step;
        while (month > 12) {
          month -= 12;
          year += 1;
        }
        if (year > 9999) return;
      }
    }
  }
}

/** Occurrence dates of the series in order, honouring count / until. Unbounded series never end: take what you need. */
export function* occurrenceDates(rule: RecurrenceRule): Generator<string> {
  if (!isDate(rule.startDate) || !(rule.interval >= 1)) return;
  let n = 0;
  for (const date of patternDates(rule)) {
    if (rule.until !== undefined && date > rule.until) return;
    if (rule.count !== undefined && n >= rule.count) return;
    n++;
    yield date;
    if (n >= MAX_POSITIONS) return;
  }
}

/** 1-based position of the occurrence on `date`, or null when the series has no occurrence that day. */
export function occurrenceIndexOf(rule: RecurrenceRule, date: string): number | null {
  if (date < rule.startDate) return null;
  let index = 0;
  for (const d of occurrenceDates(rule)) {
    index++;
    if (d === date) return index;
    if (d > date) return null;
  }
  return null;
}

/**
 * Do two rules give the same dates? Used for week starts: a weekly pattern's dates repeat every `interval` weeks from
 * each week start's anchor, so two full periods after the start decide it for ever.
 */
export function sameOccurrenceDates(a: RecurrenceRule, b: RecurrenceRule, horizonDays: number): boolean {
  const last = addDays(a.startDate < b.startDate ? a.startDate : b.startDate, horizonDays);
  const ga = occurrenceDates(a);
  const gb = occurrenceDates(b);
  for (;;) {
    const x = ga.next();
    const y = gb.next();
    const xd = x.done || x.value > last ? null : x.value;
    const yd = y.done || y.value > last ? null : y.value;
    if (xd !== yd) return false;
    if (xd === null) return true;
  }
}

const weekStartHorizon = (rule: RecurrenceRule) => 14 * Math.max(1, rule.interval) + 7;

/** The same rule counting weeks from another week start. */
export function withWeekStart(rule: RecurrenceRule, firstDayOfWeek: Weekday): RecurrenceRule {
  const { firstDayOfWeek: _old, ...rest } = rule;
  return firstDayOfWeek === 'Sunday' ? rest : { ...rest, firstDayOfWeek };
}

/**
 * The one form both mappings produce for the same dates: `firstDayOfWeek` only on weekly rules with an interval above 1
 * whose dates it changes (never 'Sunday', which is the default), and `interval` 1 on yearly rules.
 */
export function canonicalRule(rule: RecurrenceRule): RecurrenceRule {
  let out = rule;
  if (out.frequency === 'Yearly' && out.interval !== 1) out = { ...out, interval: 1 };
  if (out.firstDayOfWeek === undefined) return out;
  const { firstDayOfWeek, ...rest } = out;
  if (out.frequency !== 'Weekly' || out.interval <= 1 || firstDayOfWeek === 'Sunday' || !isWeekday(firstDayOfWeek)) return rest;
  return sameOccurrenceDates(rest, out, weekStartHorizon(out)) ? rest : out;
}

/** Whether counting weeks from `firstDayOfWeek` instead of the rule's own week start gives the same dates. */
export function sameDatesWithWeekStart(rule: RecurrenceRule, firstDayOfWeek: Weekday): boolean {
  if (rule.frequency !== 'Weekly' || rule.interval <= 1) return true;
  return sameOccurrenceDates(rule, withWeekStart(rule, firstDayOfWeek), weekStartHorizon(rule));
}

// ---- occurrences of a series ------------------------------------------------------------------------------------------

/** An occurrence of a series as a single entry. */
export interface SeriesOccurrence {
  /** The occurrence's original start: UTC ISO instant, or the local date for an all-day series. */
  key: string;
  fields: EventFields;
}

/** The key an occurrence is known by (as OccurrenceException.originalStart): a UTC instant, or a local date when all-day. */
export function occurrenceKeyOf(originalStart: string, series: Pick<EventFields, 'isAllDay' | 'timeZone'>): string {
  if (series.isAllDay) {
    if (isDate(originalStart.slice(0, 10)) && originalStart.length === 10) return originalStart;
    const ms = Date.parse(originalStart);
    return Number.isNaN(ms) ? originalStart.slice(0, 10) : localDate(ms, series.timeZone);
  }
  const ms = Date.parse(originalStart);
  return Number.isNaN(ms) ? originalStart : new Date(ms).toISOString();
}

function rangeMs(f: Pick<EventFields, 'start' | 'end' | 'isAllDay' | 'timeZone'>): { start: number; end: number } {
  const toMs = (v: string) => (f.isAllDay ? localToMs(f.timeZone, v.slice(0, 10)) : Date.parse(v));
  const start = toMs(f.start);
  const end = toMs(f.end);
  return { start, end: Number.isNaN(end) || end < start ? start : end };
}

/** The occurrence on `date` as the pattern makes it (before any exception). */
function patternOccurrence(series: EventFields, date: string): SeriesOccurrence {
  const base: EventFields = { ...series, recurrence: null, exceptions: [] };
  if (series.isAllDay) {
    const days = Math.max(1, Math.round((Date.parse(`${series.end.slice(0, 10)}T00:00:00Z`) - Date.parse(`${series.start.slice(0, 10)}T00:00:00Z`)) / 86_400_000));
    return { key: date, fields: { ...base, start: date, end: addDays(date, days) } };
  }
  const first = Date.parse(series.start);
  const t = localParts(first, series.timeZone);
  const startMs = localToMs(series.timeZone, date, t.hour, t.minute, t.second);
  const duration = Math.max(0, Date.parse(series.end) - first);
  const key = new Date(startMs).toISOString();
  return { key, fields: { ...base, start: key, end: new Date(startMs + duration).toISOString() } };
}

function asOccurrence(series: EventFields, key: string, ex: NonNullable<OccurrenceException['fields']>): SeriesOccurrence {
  return { key, fields: { ...series, ...ex, recurrence: null, exceptions: [] } };
}

/**
 * The series' occurrences that overlap [fromMs, toMs), as single entries in start order: deleted ones left out, changed
 * ones with their changed fields (also when the change moved them into the window from outside it).
 */
export function occurrencesInWindow(series: EventFields, fromMs: number, toMs: number): SeriesOccurrence[] {
  const rule = series.recurrence;
  if (!rule) return [];
  const exceptions = new Map(series.exceptions.map((x) => [occurrenceKeyOf(x.originalStart, series), x.fields]));
  const overlaps = (f: EventFields) => {
    const r = rangeMs(f);
    return r.start < toMs && (r.end > fromMs || (r.end === r.start && r.start >= fromMs));
  };
  const out: SeriesOccurrence[] = [];
  const seen = new Set<string>();
  // Occurrences are at most a few days long; start two days early so one already running at fromMs is caught.
  const firstDate = localDate(fromMs - 2 * 86_400_000, series.timeZone);
  const lastDate = localDate(toMs, series.timeZone);
  const spanDays = series.isAllDay ? 0 : Math.ceil(Math.max(0, rangeMs(series).end - rangeMs(series).start) / 86_400_000);
  for (const date of occurrenceDates(rule)) {
    if (date > lastDate) break;
    if (addDays(date, spanDays) < firstDate) continue;
    const occurrence = patternOccurrence(series, date);
    seen.add(occurrence.key);
    const ex = exceptions.get(occurrence.key);
    if (ex === null) continue;
    const actual = ex ? asOccurrence(series, occurrence.key, ex) : occurrence;
    if (overlaps(actual.fields)) out.push(actual);
  }
  for (const [key, ex] of exceptions) {
    if (!ex || seen.has(key)) continue;
    const actual = asOccurrence(series, key, ex);
    if (overlaps(actual.fields) && occurrenceAt(series, key) !== undefined) out.push(actual);
  }
  return out.sort((a, b) => rangeMs(a.fields).start - rangeMs(b.fields).start || (a.key < b.key ? -1 : 1));
}

/**
 * The occurrence with this key as a single entry; null when it was deleted; undefined when the series has no
 * occurrence with that original start.
 */
export function occurrenceAt(series: EventFields, key: string): EventFields | null | undefined {
  const rule = series.recurrence;
  if (!rule) return undefined;
  const k = occurrenceKeyOf(key, series);
  const date = series.isAllDay ? k : localDate(Date.parse(k), series.timeZone);
  if (!isDate(date) || occurrenceIndexOf(rule, date) === null) return undefined;
  const occurrence = patternOccurrence(series, date);
  if (occurrence.key !== k) return undefined;
  const ex = series.exceptions.find((x) => occurrenceKeyOf(x.originalStart, series) === k);
  if (!ex) return occurrence.fields;
  return ex.fields === null ? null : asOccurrence(series, k, ex.fields).fields;
}

/**
 * The key of the series' occurrence on the local day of `originalStart`, when the pattern has one that day; undefined
 * otherwise. For an occurrence kept under its old original start after the series moved to another time of day (Severa
 * keeps those): the same day's occurrence of the moved series is the one it stands for.
 */
export function occurrenceKeyOnDay(series: EventFields, originalStart: string): string | undefined {
  const rule = series.recurrence;
  if (!rule) return undefined;
  const k = occurrenceKeyOf(originalStart, series);
  const date = series.isAllDay ? k : localDate(Date.parse(k), series.timeZone);
  if (!isDate(date) || occurrenceIndexOf(rule, date) === null) return undefined;
  return patternOccurrence(series, date).key;
}

/**
 * A series whose changed or deleted occurrences all sit on occurrences of its own pattern: one kept under an original
 * start the pattern no longer has (a Severa that keeps the old start when a series moves to another time of day; its
 * public API does not say) is put on the same day's occurrence, unless another exception already holds that one.
 * `moved`: old occurrence key -> new one.
 */
export function exceptionsOnPatternDays(series: EventFields): { fields: EventFields; moved: Map<string, string> } {
  const moved = new Map<string, string>();
  if (!series.recurrence || series.exceptions.length === 0) return { fields: series, moved };
  const pattern: EventFields = { ...series, exceptions: [] };
  const taken = new Set(series.exceptions.map((x) => occurrenceKeyOf(x.originalStart, series)));
  const exceptions = series.exceptions.map((x) => {
    const key = occurrenceKeyOf(x.originalStart, series);
    if (occurrenceAt(pattern, key) !== undefined) return x;
    const day = occurrenceKeyOnDay(pattern, x.originalStart);
    if (day === undefined || taken.has(day)) return x;
    taken.add(day);
    moved.set(key, day);
    return { ...x, originalStart: day };
  });
  if (moved.size === 0) return { fields: series, moved };
  exceptions.sort((a, b) => (a.originalStart < b.originalStart ? -1 : a.originalStart > b.originalStart ? 1 : 0));
  return { fields: { ...series, exceptions }, moved };
}

/** Original start (ms) of the first occurrence starting at or after `ms`, or null when the series ends before. */
export function firstOccurrenceFrom(series: EventFields, ms: number): number | null {
  const rule = series.recurrence;
  if (!rule) return null;
  const fromDate = localDate(ms - 86_400_000, series.timeZone);
  for (const date of occurrenceDates(rule)) {
    if (date < fromDate) continue;
    const start = rangeMs(patternOccurrence(series, date).fields).start;
    if (start >= ms) return start;
  }
  return null;
}
