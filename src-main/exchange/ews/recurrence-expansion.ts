import type { RecurrenceRule } from '../../sync/calendar-event.ts';
import { WEEKDAYS, WEEK_ORDINALS, isDayGroup, isWeekday } from '../../sync/recurrence-rule.ts';
import { isIsoDate } from './time-zone-conversion.ts';

/**
 * What Exchange accepts as a recurrence, and the occurrence positions it addresses occurrences by. The expansion itself
 * is the neutral one (src-main/sync/recurrence-rule.ts), which counts the way Exchange does (MS-OXOCAL): EWS addresses an
 * occurrence by its 1-based position (OccurrenceItemId InstanceIndex), which is why the connector needs it to edit or
 * delete one occurrence.
 */

export { WEEKDAYS, occurrenceDates, occurrenceIndexOf } from '../../sync/recurrence-rule.ts';

/** One plain sentence when the rule cannot be written to Exchange, else null. */
export function recurrenceRuleProblem(rule: RecurrenceRule): string | null {
  if (!rule || typeof rule !== 'object') return 'The recurrence is not an object.';
  if (!['Daily', 'Weekly', 'Monthly', 'Yearly'].includes(rule.frequency)) return `Unknown recurrence frequency "${String(rule.frequency)}".`;
  if (!Number.isInteger(rule.interval) || rule.interval < 1 || rule.interval > 999) return `The recurrence interval must be a whole number from 1 to 999, not ${String(rule.interval)}.`;
  if (!isIsoDate(rule.startDate)) return `The recurrence start date "${String(rule.startDate)}" is not a date (YYYY-MM-DD).`;
  if (rule.count !== undefined && rule.until !== undefined) return 'A recurrence ends either after a count or on a date, not both.';
  if (rule.count !== undefined && (!Number.isInteger(rule.count) || rule.count < 1 || rule.count > 999)) return `Exchange counts a series' occurrences from 1 to 999, not ${String(rule.count)}.`;
  if (rule.until !== undefined) {
    if (!isIsoDate(rule.until)) return `The recurrence end date "${String(rule.until)}" is not a date (YYYY-MM-DD).`;
    if (rule.until < rule.startDate) return `The recurrence ends (${rule.until}) before it starts (${rule.startDate}).`;
  }
  if (rule.firstDayOfWeek !== undefined && !isWeekday(rule.firstDayOfWeek)) return `Unknown first day of the week "${String(rule.firstDayOfWeek)}".`;
  switch (rule.frequency) {
    case 'Weekly':
      if (!Array.isArray(rule.daysOfWeek) || rule.daysOfWeek.length === 0 || !rule.daysOfWeek.every(isWeekday))
        return 'A weekly recurrence needs at least one day of the week.';
      break;
    case 'Monthly':
    case 'Yearly': {
      const relative = rule.weekOrdinal !== undefined || rule.dayOfWeek !== undefined;
      if (relative) {
        if (!(WEEK_ORDINALS as readonly string[]).includes(rule.weekOrdinal as string)) return `Unknown week of the month "${String(rule.weekOrdinal)}".`;
        if (!isWeekday(rule.dayOfWeek) && !isDayGroup(rule.dayOfWeek)) return `Unknown day of the week "${String(rule.dayOfWeek)}".`;
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

/** Exchange 2007 SP1 has no FirstDayOfWeek: its weeks start on Sunday, so a rule that needs another week start cannot be written. */
export function recurrenceProblemForVersion(rule: RecurrenceRule, supportsFirstDayOfWeek: boolean): string | null {
  const problem = recurrenceRuleProblem(rule);
  if (problem) return problem;
  if (!supportsFirstDayOfWeek && rule.frequency === 'Weekly' && rule.interval > 1 && rule.firstDayOfWeek && rule.firstDayOfWeek !== 'Sunday') {
    return `Exchange 2007 counts "every ${rule.interval} weeks" in weeks that start on Sunday, which puts this series (weeks starting on ${rule.firstDayOfWeek}) on other dates`;
  }
  return null;
}
