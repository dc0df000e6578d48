import type { RecurrenceRule, WeekOrdinal, Weekday } from '../../sync/calendar-event.ts';
import { addDays, dayOfWeek, daysInMonth, isIsoDate, makeDate, parseDate } from './time-zone-conversion.ts';

/**
 * Expands a RecurrenceRule into its occurrence dates the way Exchange does (MS-OXOCAL): the series starts at
 * `startDate`, weekly intervals count whole weeks from the week holding the start, a monthly day beyond the end of a
 * shorter month falls on that month's last day. EWS addresses an occurrence by its 1-based position in this
 * sequence (OccurrenceItemId InstanceIndex), which is why the connector needs it to edit or delete one occurrence.
 */

export const WEEKDAYS: readonly Weekday[] = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const ORDINALS: readonly WeekOrdinal[] = ['First', 'Second', 'Third', 'Fourth', 'Last'];

/** Safety bound: no real series has more positions than this before the date we look for. */
const MAX_POSITIONS = 100_000;

/** One plain sentence when the rule cannot be written to Exchange, else null. */
export function recurrenceRuleProblem(rule: RecurrenceRule): string | null {
  if (!rule || typeof rule !== 'object') return 'The recurrence is not an object.';
  if (!['Daily', 'Weekly', 'Monthly', 'Yearly'].includes(rule.frequency)) return `Unknown recurrence frequency "${String(rule.frequency)}".`;
  if (!Number.isInteger(rule.interval) || rule.interval < 1 || rule.interval > 999) return `The recurrence interval must be a whole number from 1 to 999, not ${String(rule.interval)}.`;
  if (!isIsoDate(rule.startDate)) return `The recurrence start date "${String(rule.startDate)}" is not a date (YYYY-MM-DD).`;
  if (rule.count !== undefined && rule.until !== undefined) return 'A recurrence ends either after a count or on a date, not both.';
  if (rule.count !== undefined && (!Number.isInteger(rule.count) || rule.count < 1 || rule.count > 999)) return `The occurrence count must be from 1 to 999, not ${String(rule.count)}.`;
  if (rule.until !== undefined) {
    if (!isIsoDate(rule.until)) return `The recurrence end date "${String(rule.until)}" is not a date (YYYY-MM-DD).`;
    if (rule.until < rule.startDate) return `The recurrence ends (${rule.until}) before it starts (${rule.startDate}).`;
  }
  const isWeekday = (d: unknown) => typeof d === 'string' && (WEEKDAYS as readonly string[]).includes(d);
  switch (rule.frequency) {
    case 'Weekly':
      if (!Array.isArray(rule.daysOfWeek) || rule.daysOfWeek.length === 0 || !rule.daysOfWeek.every(isWeekday))
        return 'A weekly recurrence needs at least one day of the week.';
      break;
    case 'Monthly':
    case 'Yearly': {
      const relative = rule.weekOrdinal !== undefined || rule.dayOfWeek !== undefined;
      if (relative) {
        if (!(ORDINALS as readonly string[]).includes(rule.weekOrdinal as string)) return `Unknown week of the month "${String(rule.weekOrdinal)}".`;
        if (!isWeekday(rule.dayOfWeek)) return `Unknown day of the week "${String(rule.dayOfWeek)}".`;
      } else if (!Number.isInteger(rule.dayOfMonth) || (rule.dayOfMonth as number) < 1 || (rule.dayOfMonth as number) > 31) {
        return `The day of the month must be from 1 to 31, not ${String(rule.dayOfMonth)}.`;
      }
      if (rule.frequency === 'Yearly') {
        if (!Number.isInteger(rule.month) || (rule.month as number) < 1 || (rule.month as number) > 12) return `The month must be from 1 to 12, not ${String(rule.month)}.`;
        if (rule.interval !== 1) return 'A yearly recurrence repeats every year (interval 1).';
      }
      break;
    }
  }
  return null;
}

function nthWeekdayOfMonth(year: number, month: number, weekday: number, ordinal: WeekOrdinal): string {
  if (ordinal === 'Last') {
    const last = makeDate(year, month, daysInMonth(year, month));
    return addDays(last, -((dayOfWeek(last) - weekday + 7) % 7));
  }
  const first = makeDate(year, month, 1);
  const firstMatch = addDays(first, (weekday - dayOfWeek(first) + 7) % 7);
  return addDays(firstMatch, 7 * ORDINALS.indexOf(ordinal));
}

/** Candidate dates in order, before the range end is applied; never yields a date before startDate. */
function* patternDates(rule: RecurrenceRule, firstDayOfWeek: number): Generator<string> {
  const start = rule.startDate;
  const startTime = new Date(parseDate(start));
  const startYear = startTime.getUTCFullYear();
  const startMonth = startTime.getUTCMonth() + 1;
  switch (rule.frequency) {
    case 'Daily':
      for (let k = 0; ; k++) yield addDays(start, k * rule.interval);
    case 'Weekly': {
      const wanted = new Set((rule.daysOfWeek ?? []).map((d) => WEEKDAYS.indexOf(d)));
      const weekStart = addDays(start, -((dayOfWeek(start) - firstDayOfWeek + 7) % 7));
      for (let w = 0; ; w += rule.interval) {
        for (let i = 0; i < 7; i++) {
          const date = addDays(weekStart, w * 7 + i);
          if (date >= start && wanted.has(dayOfWeek(date))) yield date;
        }
      }
    }
    case 'Monthly':
    case 'Yearly': {
      const step = rule.frequency === 'Monthly' ? rule.interval : 12;
      let year = startYear;
      let month = rule.frequency === 'Monthly' ? startMonth : (rule.month as number);
      for (;;) {
        const date = rule.weekOrdinal
          ? nthWeekdayOfMonth(year, month, WEEKDAYS.indexOf(rule.dayOfWeek as Weekday), rule.weekOrdinal)
          : makeDate(year, month, Math.min(rule.dayOfMonth as number, daysInMonth(year, month)));
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
export function* occurrenceDates(rule: RecurrenceRule, firstDayOfWeek = 0): Generator<string> {
  let n = 0;
  for (const date of patternDates(rule, firstDayOfWeek)) {
    if (rule.until !== undefined && date > rule.until) return;
    if (rule.count !== undefined && n >= rule.count) return;
    n++;
    yield date;
    if (n >= MAX_POSITIONS) return;
  }
}

/** 1-based position of the occurrence on `date`, or null when the series has no occurrence that day. */
export function occurrenceIndexOf(rule: RecurrenceRule, date: string, firstDayOfWeek = 0): number | null {
  if (date < rule.startDate) return null;
  let index = 0;
  for (const d of occurrenceDates(rule, firstDayOfWeek)) {
    index++;
    if (d === date) return index;
    if (d > date) return null;
  }
  return null;
}

