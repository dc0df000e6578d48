import { DateTime, DateTimeKind, DayOfTheWeek, DayOfTheWeekIndex, ExchangeVersion, Recurrence } from 'ews-javascript-api';
import type { DayGroup, EventFields, RecurrenceRule, WeekOrdinal, Weekday } from '../../sync/calendar-event.ts';
import { canonicalRule } from '../../sync/recurrence-rule.ts';
import { CalendarError } from '../calendar-connector.ts';
import { read } from './ews-calendar-mapping.ts';
import { WEEKDAYS, recurrenceProblemForVersion } from './recurrence-expansion.ts';
import { localDateOf, parseDate } from './time-zone-conversion.ts';

/**
 * Recurrence between the neutral rule and EWS patterns (ews-javascript-api's Recurrence classes), both ways, and the
 * exceptions' side of a series: the key an exception is known by and what an unchanged occurrence looks like.
 */

// ---- recurrence dates ----

/** A recurrence date (StartDate/EndDate): the library parses "YYYY-MM-DD" as a local-time moment; read the date back the same way. */
function recurrenceDateOf(value: DateTime): string {
  return value.Format('YYYY-MM-DD');
}

function recurrenceDateValue(date: string): DateTime {
  return new DateTime(parseDate(date), DateTimeKind.Utc);
}

// ---- patterns ----

const DAY_OF_THE_WEEK_BY_NAME: Record<Weekday | DayGroup, DayOfTheWeek> = {
  Sunday: DayOfTheWeek.Sunday,
  Monday: DayOfTheWeek.Monday,
  Tuesday: DayOfTheWeek.Tuesday,
  Wednesday: DayOfTheWeek.Wednesday,
  Thursday: DayOfTheWeek.Thursday,
  Friday: DayOfTheWeek.Friday,
  Saturday: DayOfTheWeek.Saturday,
  Day: DayOfTheWeek.Day,
  Weekday: DayOfTheWeek.Weekday,
  WeekendDay: DayOfTheWeek.WeekendDay,
};
const ORDINAL_BY_NAME: Record<WeekOrdinal, DayOfTheWeekIndex> = {
  First: DayOfTheWeekIndex.First,
  Second: DayOfTheWeekIndex.Second,
  Third: DayOfTheWeekIndex.Third,
  Fourth: DayOfTheWeekIndex.Fourth,
  Last: DayOfTheWeekIndex.Last,
};

function weekdayName(value: DayOfTheWeek): Weekday | null {
  return value >= 0 && value <= 6 ? WEEKDAYS[value] : null;
}
/** A relative pattern's day: a weekday or a day group. */
function dayValueName(value: DayOfTheWeek): Weekday | DayGroup | null {
  const n = Number(value);
  if (n === DayOfTheWeek.Day) return 'Day';
  if (n === DayOfTheWeek.Weekday) return 'Weekday';
  if (n === DayOfTheWeek.WeekendDay) return 'WeekendDay';
  return weekdayName(n);
}
/** A weekly pattern's DaysOfWeek entry as the days it stands for (Exchange accepts the groups there too). */
function weekdaysOf(value: DayOfTheWeek): Weekday[] | null {
  const name = dayValueName(value);
  if (name === 'Day') return [...WEEKDAYS];
  if (name === 'Weekday') return ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];
  if (name === 'WeekendDay') return ['Saturday', 'Sunday'];
  return name ? [name] : null;
}
function ordinalName(value: DayOfTheWeekIndex): WeekOrdinal | null {
  return (['First', 'Second', 'Third', 'Fourth', 'Last'] as const)[value] ?? null;
}

type PatternCtor<A extends unknown[]> = new (...args: A) => Recurrence;
const DailyPattern = Recurrence.DailyPattern as unknown as PatternCtor<[DateTime, number]>;
const WeeklyPattern = Recurrence.WeeklyPattern as unknown as PatternCtor<[DateTime, number, DayOfTheWeek[]]>;
const MonthlyPattern = Recurrence.MonthlyPattern as unknown as PatternCtor<[DateTime, number, number]>;
const RelativeMonthlyPattern = Recurrence.RelativeMonthlyPattern as unknown as PatternCtor<[DateTime, number, DayOfTheWeek, DayOfTheWeekIndex]>;
const YearlyPattern = Recurrence.YearlyPattern as unknown as PatternCtor<[DateTime, number, number]>;
const RelativeYearlyPattern = Recurrence.RelativeYearlyPattern as unknown as PatternCtor<[DateTime, number, DayOfTheWeek, DayOfTheWeekIndex]>;

/** Exchange 2010 SP1 and later take a weekly pattern's FirstDayOfWeek; Exchange 2007 SP1 counts weeks from Sunday. */
export function supportsFirstDayOfWeek(version: ExchangeVersion): boolean {
  return version >= ExchangeVersion.Exchange2010_SP1;
}

/**
 * The EWS pattern for a rule. `withFirstDayOfWeek`: the server takes FirstDayOfWeek; an "every N weeks" pattern then
 * always names its week start, so the server's own default (a mailbox setting) never moves the dates.
 */
export function recurrenceToEws(rule: RecurrenceRule, withFirstDayOfWeek = true): Recurrence {
  const problem = recurrenceProblemForVersion(rule, withFirstDayOfWeek);
  if (problem) throw new CalendarError('other', problem);
  const start = recurrenceDateValue(rule.startDate);
  let recurrence: Recurrence;
  switch (rule.frequency) {
    case 'Daily':
      recurrence = new DailyPattern(start, rule.interval);
      break;
    case 'Weekly': {
      recurrence = new WeeklyPattern(start, rule.interval, (rule.daysOfWeek ?? []).map((d) => DAY_OF_THE_WEEK_BY_NAME[d]));
      if (withFirstDayOfWeek && rule.interval > 1) {
        // DayOfWeek (System.DayOfWeek) numbers Sunday..Saturday as 0..6, like DayOfTheWeek.
        (recurrence as unknown as { FirstDayOfWeek: number }).FirstDayOfWeek = WEEKDAYS.indexOf(rule.firstDayOfWeek ?? 'Sunday');
      }
      break;
    }
    case 'Monthly':
      recurrence = rule.weekOrdinal
        ? new RelativeMonthlyPattern(start, rule.interval, DAY_OF_THE_WEEK_BY_NAME[rule.dayOfWeek as Weekday | DayGroup], ORDINAL_BY_NAME[rule.weekOrdinal])
        : new MonthlyPattern(start, rule.interval, rule.dayOfMonth as number);
      break;
    case 'Yearly':
      recurrence = rule.weekOrdinal
        ? new RelativeYearlyPattern(start, rule.month as number, DAY_OF_THE_WEEK_BY_NAME[rule.dayOfWeek as Weekday | DayGroup], ORDINAL_BY_NAME[rule.weekOrdinal])
        : new YearlyPattern(start, rule.month as number, rule.dayOfMonth as number);
      break;
  }
  if (rule.count !== undefined) recurrence.NumberOfOccurrences = rule.count;
  else if (rule.until !== undefined) recurrence.EndDate = recurrenceDateValue(rule.until);
  else recurrence.NeverEnds();
  return recurrence;
}

export interface RecurrenceReading {
  rule: RecurrenceRule | null;
  /** Set when the series uses a pattern the neutral model cannot hold (a task's regenerating pattern). */
  unsupported?: string;
  /** Week start the server uses for weekly intervals (0 = Sunday). */
  firstDayOfWeek: number;
}

export function recurrenceFromEws(recurrence: Recurrence | null | undefined): RecurrenceReading {
  if (!recurrence) return { rule: null, firstDayOfWeek: 0 };
  const startDate = recurrenceDateOf(recurrence.StartDate);
  const end: Pick<RecurrenceRule, 'count' | 'until'> = {};
  const count = Number(read(() => recurrence.NumberOfOccurrences, null as number | null) ?? NaN);
  const endDate = read(() => recurrence.EndDate, null as DateTime | null);
  if (Number.isInteger(count) && count > 0) end.count = count;
  else if (endDate) end.until = recurrenceDateOf(endDate);
  const r = recurrence as unknown as {
    Interval?: number;
    DaysOfTheWeek?: { GetEnumerator(): DayOfTheWeek[] };
    FirstDayOfWeek?: number;
    DayOfMonth?: number;
    DayOfTheWeek?: DayOfTheWeek;
    DayOfTheWeekIndex?: DayOfTheWeekIndex;
    Month?: number;
  };
  // The library leaves some numbers as the strings it parsed from XML.
  const num = (get: () => unknown, fallback: number): number => {
    const n = Number(read(get as () => number, fallback));
    return Number.isFinite(n) ? n : fallback;
  };
  const interval = num(() => r.Interval, 1);
  const unsupported = (what: string): RecurrenceReading => ({ rule: null, unsupported: what, firstDayOfWeek: 0 });
  const done = (rule: RecurrenceRule, firstDayOfWeek = 0): RecurrenceReading => ({ rule: canonicalRule(rule), firstDayOfWeek });
  if (recurrence instanceof Recurrence.DailyPattern) return done({ frequency: 'Daily', interval, startDate, ...end });
  if (recurrence instanceof Recurrence.WeeklyPattern) {
    const days = read(() => r.DaysOfTheWeek?.GetEnumerator() ?? [], [] as DayOfTheWeek[]);
    const expanded = days.map(weekdaysOf);
    if (expanded.some((n) => n === null) || expanded.length === 0) return unsupported('a weekly pattern without days');
    const names = WEEKDAYS.filter((d) => expanded.some((list) => list!.includes(d)));
    const firstDayOfWeek = num(() => r.FirstDayOfWeek, 0);
    const weekStart = weekdayName(firstDayOfWeek) ?? 'Sunday';
    return done({ frequency: 'Weekly', interval, daysOfWeek: names, startDate, ...end, ...(weekStart !== 'Sunday' ? { firstDayOfWeek: weekStart } : {}) }, firstDayOfWeek);
  }
  if (recurrence instanceof Recurrence.MonthlyPattern) {
    return done({ frequency: 'Monthly', interval, dayOfMonth: num(() => r.DayOfMonth, 1), startDate, ...end });
  }
  if (recurrence instanceof Recurrence.YearlyPattern) {
    return done({ frequency: 'Yearly', interval: 1, month: num(() => r.Month, 1), dayOfMonth: num(() => r.DayOfMonth, 1), startDate, ...end });
  }
  if (recurrence instanceof Recurrence.RelativeMonthlyPattern || recurrence instanceof Recurrence.RelativeYearlyPattern) {
    const day = dayValueName(read(() => r.DayOfTheWeek as DayOfTheWeek, -1 as DayOfTheWeek));
    const ordinal = ordinalName(Number(read(() => r.DayOfTheWeekIndex as DayOfTheWeekIndex, -1 as DayOfTheWeekIndex)));
    if (!day || !ordinal) return unsupported('a relative pattern without a day or week of the month');
    if (recurrence instanceof Recurrence.RelativeMonthlyPattern) {
      return done({ frequency: 'Monthly', interval, weekOrdinal: ordinal, dayOfWeek: day, startDate, ...end });
    }
    return done({ frequency: 'Yearly', interval: 1, weekOrdinal: ordinal, dayOfWeek: day, month: num(() => r.Month, 1), startDate, ...end });
  }
  return unsupported('a regenerating (task) pattern');
}

// ---- exceptions ----

/** The key an exception is known by: a UTC instant, or the local date for an all-day series. */
export function exceptionKey(originalStartIso: string, series: Pick<EventFields, 'isAllDay' | 'timeZone'>): string {
  const ms = Date.parse(originalStartIso);
  return series.isAllDay ? localDateOf(ms, series.timeZone) : new Date(ms).toISOString();
}

/** What the occurrence at `key` looks like when nobody changed it. */
export function patternOccurrence(series: EventFields, key: string): Omit<EventFields, 'recurrence'> {
  const { recurrence: _r, ...rest } = series;
  if (series.isAllDay) {
    const days = Math.round((parseDate(series.end) - parseDate(series.start)) / 86_400_000);
    return { ...rest, start: key, end: new Date(parseDate(key) + days * 86_400_000).toISOString().slice(0, 10), exceptions: [] };
  }
  const startMs = Date.parse(key);
  const duration = Date.parse(series.end) - Date.parse(series.start);
  return { ...rest, start: new Date(startMs).toISOString(), end: new Date(startMs + duration).toISOString(), exceptions: [] };
}

export function sameAsPattern(fields: Omit<EventFields, 'recurrence'>, key: string, series: EventFields): boolean {
  const p = patternOccurrence(series, key);
  return (
    fields.subject === p.subject &&
    fields.start === p.start &&
    fields.end === p.end &&
    fields.isAllDay === p.isAllDay &&
    fields.location === p.location &&
    fields.body === p.body &&
    fields.isPrivate === p.isPrivate &&
    fields.attendees.join(',') === [...p.attendees].sort().join(',')
  );
}
