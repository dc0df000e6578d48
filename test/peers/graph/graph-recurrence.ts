/**
 * Graph's patternedRecurrence (recurrencePattern + recurrenceRange) and its expansion into occurrences, at the series'
 * wall-clock time in its zone (a weekly 10:00 meeting stays at 10:00 across a DST change).
 */
import { addDays, wallTime, wallToUtc } from '../common/zoned-time.ts';

export type DayOfWeek = 'sunday' | 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday';
export const DAYS_OF_WEEK: readonly DayOfWeek[] = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
export type WeekIndex = 'first' | 'second' | 'third' | 'fourth' | 'last';
export const WEEK_INDEXES: readonly WeekIndex[] = ['first', 'second', 'third', 'fourth', 'last'];
export type PatternType = 'daily' | 'weekly' | 'absoluteMonthly' | 'relativeMonthly' | 'absoluteYearly' | 'relativeYearly';
export const PATTERN_TYPES: readonly PatternType[] = ['daily', 'weekly', 'absoluteMonthly', 'relativeMonthly', 'absoluteYearly', 'relativeYearly'];
export type RangeType = 'endDate' | 'noEnd' | 'numbered';

export interface RecurrencePattern {
  type: PatternType;
  interval: number;
  month: number;
  dayOfMonth: number;
  daysOfWeek: DayOfWeek[];
  firstDayOfWeek: DayOfWeek;
  index: WeekIndex;
}

export interface RecurrenceRange {
  type: RangeType;
  /** YYYY-MM-DD in recurrenceTimeZone (the event's zone when absent). */
  startDate: string;
  /** YYYY-MM-DD, inclusive; '0001-01-01' when unused, as Graph writes it. */
  endDate: string;
  recurrenceTimeZone: string;
  numberOfOccurrences: number;
}

export interface PatternedRecurrence {
  pattern: RecurrencePattern;
  range: RecurrenceRange;
}

export class RecurrenceError extends Error {}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function civil(date: string): { year: number; month: number; day: number } {
  const m = DATE.exec(date);
  if (!m) throw new RecurrenceError(`'${date}' is not a date (YYYY-MM-DD).`);
  return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
}

const dayNumber = (d: { year: number; month: number; day: number }) => Math.floor(Date.UTC(d.year, d.month - 1, d.day) / 86_400_000);
const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** Checks a recurrence as Graph does (the messages are Graph's wording where known) and fills the defaults. */
export function normalizeRecurrence(input: unknown, eventZone: string): PatternedRecurrence {
  const r = input as { pattern?: Record<string, unknown>; range?: Record<string, unknown> } | null;
  if (!r || typeof r !== 'object' || !r.pattern || !r.range) throw new RecurrenceError('The recurrence must have a pattern and a range.');
  const p = r.pattern;
  const type = p.type as PatternType;
  if (!PATTERN_TYPES.includes(type)) throw new RecurrenceError(`The recurrence pattern type '${String(p.type)}' is not valid.`);
  const interval = p.interval === undefined && (type === 'absoluteYearly' || type === 'relativeYearly') ? 1 : Number(p.interval);
  if (!Number.isInteger(interval) || interval < 1 || interval > 99) throw new RecurrenceError('The recurrence pattern interval must be between 1 and 99.');
  const daysOfWeek = Array.isArray(p.daysOfWeek) ? (p.daysOfWeek as string[]).map((d) => String(d).toLowerCase() as DayOfWeek) : [];
  if (daysOfWeek.some((d) => !DAYS_OF_WEEK.includes(d))) throw new RecurrenceError('daysOfWeek holds a value that is not a day of the week.');
  const firstDayOfWeek = (typeof p.firstDayOfWeek === 'string' ? p.firstDayOfWeek.toLowerCase() : 'sunday') as DayOfWeek;
  if (!DAYS_OF_WEEK.includes(firstDayOfWeek)) throw new RecurrenceError('firstDayOfWeek is not a day of the week.');
  const index = (typeof p.index === 'string' ? p.index.toLowerCase() : 'first') as WeekIndex;
  if (!WEEK_INDEXES.includes(index)) throw new RecurrenceError('index must be first, second, third, fourth or last.');
  const month = Number(p.month ?? 0);
  const dayOfMonth = Number(p.dayOfMonth ?? 0);
  if ((type === 'weekly' || type === 'relativeMonthly' || type === 'relativeYearly') && daysOfWeek.length === 0) {
    throw new RecurrenceError(`A ${type} recurrence pattern needs daysOfWeek.`);
  }
  if ((type === 'absoluteMonthly' || type === 'absoluteYearly') && !(dayOfMonth >= 1 && dayOfMonth <= 31)) {
    throw new RecurrenceError(`A ${type} recurrence pattern needs dayOfMonth from 1 to 31.`);
  }
  if ((type === 'absoluteYearly' || type === 'relativeYearly') && !(month >= 1 && month <= 12)) {
    throw new RecurrenceError(`A ${type} recurrence pattern needs month from 1 to 12.`);
  }
  const g = r.range;
  const rangeType = g.type as RangeType;
  if (!['endDate', 'noEnd', 'numbered'].includes(rangeType)) throw new RecurrenceError(`The recurrence range type '${String(g.type)}' is not valid.`);
  if (typeof g.startDate !== 'string') throw new RecurrenceError('The recurrence range needs a startDate.');
  civil(g.startDate);
  const endDate = typeof g.endDate === 'string' && g.endDate ? g.endDate : '0001-01-01';
  if (rangeType === 'endDate') {
    if (endDate === '0001-01-01') throw new RecurrenceError('An endDate recurrence range needs an endDate.');
    if (dayNumber(civil(endDate)) < dayNumber(civil(g.startDate))) throw new RecurrenceError('The recurrence range endDate is before its startDate.');
  }
  const numberOfOccurrences = Number(g.numberOfOccurrences ?? 0);
  if (rangeType === 'numbered' && !(Number.isInteger(numberOfOccurrences) && numberOfOccurrences >= 1 && numberOfOccurrences <= 999)) {
    throw new RecurrenceError('A numbered recurrence range needs numberOfOccurrences from 1 to 999.');
  }
  return {
    pattern: { type, interval, month, dayOfMonth, daysOfWeek, firstDayOfWeek, index },
    range: {
      type: rangeType,
      startDate: g.startDate,
      endDate,
      recurrenceTimeZone: typeof g.recurrenceTimeZone === 'string' && g.recurrenceTimeZone ? g.recurrenceTimeZone : eventZone,
      numberOfOccurrences: rangeType === 'numbered' ? numberOfOccurrences : 0,
    },
  };
}

/** Does the civil date `d` (day number n, weekday wd) match the pattern, counting from the range's start? */
function matches(p: RecurrencePattern, start: { year: number; month: number; day: number }, d: { year: number; month: number; day: number }): boolean {
  const n = dayNumber(d);
  const n0 = dayNumber(start);
  const wd = new Date(n * 86_400_000).getUTCDay();
  const dayName = DAYS_OF_WEEK[wd];
  const months = (d.year - start.year) * 12 + (d.month - start.month);
  const relative = (): boolean => {
    if (!p.daysOfWeek.includes(dayName)) return false;
    // The k-th day of the month (counting only days in daysOfWeek), or the last such day.
    const candidates: number[] = [];
    for (let day = 1; day <= daysInMonth(d.year, d.month); day++) {
      const w = new Date(Date.UTC(d.year, d.month - 1, day)).getUTCDay();
      if (p.daysOfWeek.includes(DAYS_OF_WEEK[w])) candidates.push(day);
    }
    const pick = p.index === 'last' ? candidates[candidates.length - 1] : candidates[WEEK_INDEXES.indexOf(p.index)];
    return pick === d.day;
  };
  const absoluteDay = (): boolean => d.day === Math.min(p.dayOfMonth, daysInMonth(d.year, d.month));
  switch (p.type) {
    case 'daily':
      return (n - n0) % p.interval === 0;
    case 'weekly': {
      if (!p.daysOfWeek.includes(dayName)) return false;
      const fdw = DAYS_OF_WEEK.indexOf(p.firstDayOfWeek);
      const weekStart = (x: number) => x - ((new Date(x * 86_400_000).getUTCDay() - fdw + 7) % 7);
      const weeks = Math.round((weekStart(n) - weekStart(n0)) / 7);
      return weeks % p.interval === 0;
    }
    case 'absoluteMonthly':
      return months % p.interval === 0 && absoluteDay();
    case 'relativeMonthly':
      return months % p.interval === 0 && relative();
    case 'absoluteYearly':
      return d.month === p.month && (d.year - start.year) % p.interval === 0 && absoluteDay();
    case 'relativeYearly':
      return d.month === p.month && (d.year - start.year) % p.interval === 0 && relative();
  }
}

export interface SeriesTiming {
  /** The master's start instant; its wall time in `zone` is every occurrence's time of day. */
  startMs: number;
  durationMs: number;
  zone: string;
}

/** Upper bound on days walked for one expansion (noEnd series): 30 years. */
const MAX_DAYS = 366 * 30;

/**
 * Original starts (UTC ms) of the occurrences overlapping [fromMs, toMs), in order, before exceptions and cancellations
 * are applied. An occurrence's identity in the series is its original start.
 */
export function expandOccurrences(rec: PatternedRecurrence, timing: SeriesTiming, fromMs: number, toMs: number, limit = 5000): number[] {
  const zone = timing.zone;
  const start = civil(rec.range.startDate);
  const tod = wallTime(timing.startMs, zone);
  const end = rec.range.type === 'endDate' ? dayNumber(civil(rec.range.endDate)) : Infinity;
  const out: number[] = [];
  let count = 0;
  for (let i = 0; i < MAX_DAYS; i++) {
    const d = addDays(start.year, start.month, start.day, i);
    if (dayNumber(d) > end) break;
    if (!matches(rec.pattern, start, d)) continue;
    const at = wallToUtc(zone, d.year, d.month, d.day, tod.hour, tod.minute, tod.second);
    count++;
    if (rec.range.type === 'numbered' && count > rec.range.numberOfOccurrences) break;
    if (at >= toMs) break;
    if (at + timing.durationMs > fromMs || (timing.durationMs === 0 && at >= fromMs)) out.push(at);
    if (out.length >= limit) break;
  }
  return out;
}

/** The first occurrence's start (a series starts on its first occurrence), or null when the pattern never occurs. */
export function firstOccurrence(rec: PatternedRecurrence, timing: SeriesTiming): number | null {
  const first = expandOccurrences(rec, { ...timing, durationMs: 0 }, -8.64e15, 8.64e15, 1);
  return first.length ? first[0] : null;
}

/** The last occurrence's start for a bounded series, or null for noEnd. */
export function lastOccurrence(rec: PatternedRecurrence, timing: SeriesTiming): number | null {
  if (rec.range.type === 'noEnd') return null;
  const all = expandOccurrences(rec, { ...timing, durationMs: 0 }, -8.64e15, 8.64e15, 100_000);
  return all.length ? all[all.length - 1] : null;
}

/** Is `originalStartMs` one of the series' occurrences? */
export function isOccurrence(rec: PatternedRecurrence, timing: SeriesTiming, originalStartMs: number): boolean {
  return expandOccurrences(rec, { ...timing, durationMs: 1 }, originalStartMs, originalStartMs + 1, 1)[0] === originalStartMs;
}

/** The recurrence as Graph writes it (every property present, as the service returns them). */
export function recurrenceJson(rec: PatternedRecurrence): Record<string, unknown> {
  return {
    pattern: { ...rec.pattern, daysOfWeek: [...rec.pattern.daysOfWeek] },
    range: { ...rec.range },
  };
}
