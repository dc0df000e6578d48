import type { RecurrenceRule } from '../../sync/calendar-event.ts';
import { WEEKDAYS, WEEK_ORDINALS, isDayGroup, isWeekday, weekdayName } from '../../sync/recurrence-rule.ts';
import { isIsoDate } from './time-zone-conversion.ts';
import { t } from '../../common/i18n/i18n.ts';

/**
 * What Exchange accepts as a recurrence, and the occurrence positions it addresses occurrences by. The expansion itself
 * is the neutral one (src-main/sync/recurrence-rule.ts), which counts the way Exchange does (MS-OXOCAL): EWS addresses an
 * occurrence by its 1-based position (OccurrenceItemId InstanceIndex), which is why the connector needs it to edit or
 * delete one occurrence.
 */

export { WEEKDAYS, occurrenceDates, occurrenceIndexOf } from '../../sync/recurrence-rule.ts';

/** One plain sentence when the rule cannot be written to Exchange, else null. */
export function recurrenceRuleProblem(rule: RecurrenceRule): string | null {
  if (!rule || typeof rule !== 'object') return t('engine.series.notObject');
  if (!['Daily', 'Weekly', 'Monthly', 'Yearly'].includes(rule.frequency)) return t('engine.series.unknownFrequencyRule', { frequency: String(rule.frequency) });
  if (!Number.isInteger(rule.interval) || rule.interval < 1 || rule.interval > 999) return t('engine.series.interval', { interval: String(rule.interval) });
  if (!isIsoDate(rule.startDate)) return t('engine.series.startDate', { date: String(rule.startDate) });
  if (rule.count !== undefined && rule.until !== undefined) return t('engine.series.countAndUntil');
  if (rule.count !== undefined && (!Number.isInteger(rule.count) || rule.count < 1 || rule.count > 999)) return t('engine.series.count', { number: String(rule.count) });
  if (rule.until !== undefined) {
    if (!isIsoDate(rule.until)) return t('engine.series.untilDate', { date: String(rule.until) });
    if (rule.until < rule.startDate) return t('engine.series.endsBeforeStart', { until: rule.until, start: rule.startDate });
  }
  if (rule.firstDayOfWeek !== undefined && !isWeekday(rule.firstDayOfWeek)) return t('engine.series.firstDayOfWeek', { day: String(rule.firstDayOfWeek) });
  switch (rule.frequency) {
    case 'Weekly':
      if (!Array.isArray(rule.daysOfWeek) || rule.daysOfWeek.length === 0 || !rule.daysOfWeek.every(isWeekday))
        return t('engine.series.weeklyDays');
      break;
    case 'Monthly':
    case 'Yearly': {
      const relative = rule.weekOrdinal !== undefined || rule.dayOfWeek !== undefined;
      if (relative) {
        if (!(WEEK_ORDINALS as readonly string[]).includes(rule.weekOrdinal as string)) return t('engine.series.weekOfMonth', { week: String(rule.weekOrdinal) });
        if (!isWeekday(rule.dayOfWeek) && !isDayGroup(rule.dayOfWeek)) return t('engine.series.dayOfWeek', { day: String(rule.dayOfWeek) });
      } else if (!Number.isInteger(rule.dayOfMonth) || (rule.dayOfMonth as number) < 1 || (rule.dayOfMonth as number) > 31) {
        return t('engine.series.dayOfMonth', { day: String(rule.dayOfMonth) });
      }
      if (rule.frequency === 'Yearly') {
        if (!Number.isInteger(rule.month) || (rule.month as number) < 1 || (rule.month as number) > 12) return t('engine.series.month', { month: String(rule.month) });
        if (rule.interval !== 1) return t('engine.series.yearlyInterval');
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
    return t('engine.series.exchange2007WeekStart', { interval: rule.interval, weekStart: weekdayName(rule.firstDayOfWeek) });
  }
  return null;
}
