import { addDays, wallTime, wallToUtc } from '../common/zoned-time.ts';

/**
 * Expands a Severa recurrence (ActivityRecurrenceModel: frequency + pattern + range) into occurrence start instants.
 * Occurrences keep the series' local wall time in the organization's zone, so a weekly 09:00 stays at 09:00 across DST.
 */

export type Frequency = 'Daily' | 'Weekly' | 'Monthly' | 'Yearly';
export type DayOrdinal = 'First' | 'Second' | 'Third' | 'Fourth' | 'Last';
export type DayOrdinalOption =
  | 'Sunday' | 'Monday' | 'Tuesday' | 'Wednesday' | 'Thursday' | 'Friday' | 'Saturday' | 'WeekDay' | 'WeekendDay' | 'Day';
export const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;
export type MonthName = (typeof MONTHS)[number];

export interface RecurrenceSpec {
  frequency: Frequency;
  pattern: {
    daily?: { everyWeekday?: boolean; interval?: number | null } | null;
    weekly?: { interval?: number; monday?: boolean; tuesday?: boolean; wednesday?: boolean; thursday?: boolean; friday?: boolean; saturday?: boolean; sunday?: boolean } | null;
    monthly?: { interval?: number; dayOfMonth?: number | null; dayOrdinal?: DayOrdinal | null; dayOrdinalOption?: DayOrdinalOption | null } | null;
    yearly?: { month?: MonthName; dayOfMonth?: number | null; dayOrdinal?: DayOrdinal | null; dayOrdinalOption?: DayOrdinalOption | null } | null;
  } | null;
  range: { maxOccurrences?: number | null; recursUntilDate?: string | null } | null;
  /** Alternative end given as the last occurrence's start (the model's lastOccurrenceDateTime). */
  lastOccurrenceMs?: number | null;
}

/** A series with no end is expanded this far past its start at most (Severa advises series under a year). */
export const OPEN_SERIES_HORIZON_DAYS = 2 * 366;
/** Hard cap on occurrences of one series, so a hostile pattern cannot make a request run forever. */
export const MAX_OCCURRENCES = 5000;

const WEEKDAY_KEYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/** Checks a spec for what the expansion needs; returns a plain sentence per problem. */
export function recurrenceProblems(spec: RecurrenceSpec): string[] {
  const problems: string[] = [];
  const p = spec.pattern ?? {};
  const positive = (n: number | null | undefined, what: string) => {
    if (n !== undefined && n !== null && (!Number.isInteger(n) || n < 1 || n > 999)) problems.push(`${what} must be a whole number from 1 to 999.`);
  };
  positive(p.daily?.interval, 'recurrence.pattern.daily.interval');
  positive(p.weekly?.interval, 'recurrence.pattern.weekly.interval');
  positive(p.monthly?.interval, 'recurrence.pattern.monthly.interval');
  for (const [what, dom] of [['monthly', p.monthly?.dayOfMonth], ['yearly', p.yearly?.dayOfMonth]] as const) {
    if (dom !== undefined && dom !== null && (!Number.isInteger(dom) || dom < 1 || dom > 31)) problems.push(`recurrence.pattern.${what}.dayOfMonth must be from 1 to 31.`);
  }
  const max = spec.range?.maxOccurrences;
  if (max !== undefined && max !== null && (!Number.isInteger(max) || max < 1)) problems.push('recurrence.range.maxOccurrences must be a positive whole number.');
  const until = spec.range?.recursUntilDate;
  if (until && !/^\d{4}-\d{2}-\d{2}/.test(until)) problems.push('recurrence.range.recursUntilDate must be a date (YYYY-MM-DD).');
  return problems;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function matchesOption(weekday: number, option: DayOrdinalOption): boolean {
  switch (option) {
    case 'Day':
      return true;
    case 'WeekDay':
      return weekday >= 1 && weekday <= 5;
    case 'WeekendDay':
      return weekday === 0 || weekday === 6;
    default:
      return WEEKDAY_KEYS[weekday] === option.toLowerCase();
  }
}

/** The day of the month for "the Second Tuesday", "the Last WeekDay", ... of a month. */
function ordinalDay(year: number, month: number, ordinal: DayOrdinal, option: DayOrdinalOption): number {
  const n = daysInMonth(year, month);
  const matching: number[] = [];
  for (let d = 1; d <= n; d++) {
    if (matchesOption(new Date(Date.UTC(year, month - 1, d)).getUTCDay(), option)) matching.push(d);
  }
  const index = { First: 0, Second: 1, Third: 2, Fourth: 3, Last: matching.length - 1 }[ordinal];
  return matching[Math.min(index, matching.length - 1)];
}

interface CivilDate {
  year: number;
  month: number;
  day: number;
}

const civilKey = (d: CivilDate) => d.year * 10000 + d.month * 100 + d.day;

/** Candidate local dates in order, starting at or after the series' first day. */
function* candidateDates(spec: RecurrenceSpec, first: CivilDate, firstWeekday: number): Generator<CivilDate> {
  const p = spec.pattern ?? {};
  const firstKey = civilKey(first);
  switch (spec.frequency) {
    case 'Daily': {
      const everyWeekday = p.daily?.everyWeekday === true;
      const interval = everyWeekday ? 1 : (p.daily?.interval ?? 1);
      for (let i = 0; ; i += interval) {
        const d = addDays(first.year, first.month, first.day, i);
        const wd = new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay();
        if (!everyWeekday || (wd >= 1 && wd <= 5)) yield d;
      }
    }
    case 'Weekly': {
      const w = p.weekly ?? {};
      const interval = w.interval && w.interval > 0 ? w.interval : 1;
      let days = [1, 2, 3, 4, 5, 6, 0].filter((wd) => w[WEEKDAY_KEYS[wd]] === true);
      if (days.length === 0) days = [firstWeekday];
      // Weeks start on Monday (Finnish and Severa convention).
      const mondayOffset = (firstWeekday + 6) % 7;
      const weekStart = addDays(first.year, first.month, first.day, -mondayOffset);
      for (let week = 0; ; week += interval) {
        for (const wd of days) {
          const d = addDays(weekStart.year, weekStart.month, weekStart.day, week * 7 + ((wd + 6) % 7));
          if (civilKey(d) >= firstKey) yield d;
        }
      }
    }
    case 'Monthly':
    case 'Yearly': {
      const m = spec.frequency === 'Monthly' ? (p.monthly ?? {}) : (p.yearly ?? {});
      const stepMonths = spec.frequency === 'Monthly' ? Math.max(1, p.monthly?.interval ?? 1) : 12;
      let year = first.year;
      let month = first.month;
      if (spec.frequency === 'Yearly' && p.yearly?.month) {
        month = MONTHS.indexOf(p.yearly.month) + 1;
        if (month < first.month) year += 1;
      }
      for (;;) {
        let day: number;
        if (m.dayOrdinal && m.dayOrdinalOption) day = ordinalDay(year, month, m.dayOrdinal, m.dayOrdinalOption);
        else day = Math.min(m.dayOfMonth ?? first.day, daysInMonth(year, month));
        const d = { year, month, day };
        if (civilKey(d) >= firstKey) yield d;
        month += stepMonths;
        while (month > 12) {
          month -= 12;
          year += 1;
        }
      }
    }
  }
}

/**
 * Original start instants of a series, in order, from the first occurrence up to `untilMs` (inclusive) or the series'
 * end, whichever is first. The series' own start gives the local time of day; its local date is the first possible day.
 */
export function* occurrenceStarts(spec: RecurrenceSpec, seriesStartMs: number, zone: string, untilMs: number): Generator<number> {
  const w = wallTime(seriesStartMs, zone);
  const first = { year: w.year, month: w.month, day: w.day };
  const horizonMs = seriesStartMs + OPEN_SERIES_HORIZON_DAYS * 86_400_000;
  const untilDate = spec.range?.recursUntilDate ? Number(spec.range.recursUntilDate.slice(0, 10).replaceAll('-', '')) : null;
  const maxCount = Math.min(spec.range?.maxOccurrences ?? MAX_OCCURRENCES, MAX_OCCURRENCES);
  let count = 0;
  for (const d of candidateDates(spec, first, w.weekday)) {
    if (count >= maxCount) return;
    if (untilDate !== null && civilKey(d) > untilDate) return;
    const start = wallToUtc(zone, d.year, d.month, d.day, w.hour, w.minute, w.second);
    if (start > horizonMs) return;
    if (spec.lastOccurrenceMs != null && start > spec.lastOccurrenceMs) return;
    if (start > untilMs) return;
    count += 1;
    yield start;
  }
}

/** The start of the last occurrence, or null for a series without end (within the horizon it is still open). */
export function lastOccurrenceStart(spec: RecurrenceSpec, seriesStartMs: number, zone: string): number | null {
  const bounded = (spec.range?.maxOccurrences ?? null) !== null || !!spec.range?.recursUntilDate || spec.lastOccurrenceMs != null;
  if (!bounded) return null;
  let last: number | null = null;
  for (const s of occurrenceStarts(spec, seriesStartMs, zone, Number.MAX_SAFE_INTEGER)) last = s;
  return last;
}

/** An RFC 5545 RRULE for the model's read-only `recurrenceRule`. */
export function toRRule(spec: RecurrenceSpec, lastStartMs: number | null): string {
  const p = spec.pattern ?? {};
  const parts = [`FREQ=${spec.frequency.toUpperCase()}`];
  const byDay = (option: DayOrdinalOption | null | undefined, ordinal: DayOrdinal | null | undefined) => {
    const code: Record<string, string> = { Sunday: 'SU', Monday: 'MO', Tuesday: 'TU', Wednesday: 'WE', Thursday: 'TH', Friday: 'FR', Saturday: 'SA' };
    const pos = ordinal ? { First: '1', Second: '2', Third: '3', Fourth: '4', Last: '-1' }[ordinal] : '';
    if (!option) return;
    if (option === 'Day') parts.push('BYDAY=MO,TU,WE,TH,FR,SA,SU', `BYSETPOS=${pos}`);
    else if (option === 'WeekDay') parts.push('BYDAY=MO,TU,WE,TH,FR', `BYSETPOS=${pos}`);
    else if (option === 'WeekendDay') parts.push('BYDAY=SA,SU', `BYSETPOS=${pos}`);
    else parts.push(`BYDAY=${pos}${code[option]}`);
  };
  if (spec.frequency === 'Daily') {
    if (p.daily?.everyWeekday) parts.push('BYDAY=MO,TU,WE,TH,FR');
    else parts.push(`INTERVAL=${p.daily?.interval ?? 1}`);
  } else if (spec.frequency === 'Weekly') {
    parts.push(`INTERVAL=${p.weekly?.interval ?? 1}`);
    const days = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
    const set = days.filter((d) => p.weekly?.[d]).map((d) => d.slice(0, 2).toUpperCase());
    if (set.length) parts.push(`BYDAY=${set.join(',')}`);
  } else if (spec.frequency === 'Monthly') {
    parts.push(`INTERVAL=${p.monthly?.interval ?? 1}`);
    if (p.monthly?.dayOrdinal) byDay(p.monthly.dayOrdinalOption, p.monthly.dayOrdinal);
    else if (p.monthly?.dayOfMonth) parts.push(`BYMONTHDAY=${p.monthly.dayOfMonth}`);
  } else {
    if (p.yearly?.month) parts.push(`BYMONTH=${MONTHS.indexOf(p.yearly.month) + 1}`);
    if (p.yearly?.dayOrdinal) byDay(p.yearly.dayOrdinalOption, p.yearly.dayOrdinal);
    else if (p.yearly?.dayOfMonth) parts.push(`BYMONTHDAY=${p.yearly.dayOfMonth}`);
  }
  if (spec.range?.maxOccurrences) parts.push(`COUNT=${spec.range.maxOccurrences}`);
  else if (lastStartMs !== null) parts.push(`UNTIL=${new Date(lastStartMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')}`);
  return parts.join(';');
}
