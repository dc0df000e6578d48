import { t } from '../../common/i18n/i18n.ts';
import type { PairRecord } from '../../store/sync-store.ts';
import { contentHash } from '../event-content-hash.ts';
import { firstOccurrenceFrom, occurrencesInWindow } from '../recurrence-rule.ts';
import { occurrenceEvent, occurrenceEventAt } from '../series-flattening.ts';
import { describeFields, reachesBeyondSeveraHorizon, severaHorizonDate, severaHorizonProblem, severaRecurrenceProblem } from '../severa-activity-mapping.ts';
import { classifySide } from '../sync-decision.ts';
import { addDays, localDate, localToMs } from '../zoned-time.ts';
import type { ExchangeSideNow } from './candidate.ts';
import type { ExchangeView, UserRead } from './read-sides.ts';
import { note, type UserState } from './user-sync-state.ts';

/**
 * Phase 3, shape: Exchange series Severa cannot hold. Such a series is replaced, in this cycle's view of Exchange, by
 * its occurrences inside the window, each a single event of its own (see series-flattening.ts); the pairs of those
 * occurrences are then matched and decided like any other.
 */

/**
 * Reshapes `read.exchange`. The series is looked at again when its next occurrence enters the window, so occurrences
 * keep arriving while nothing changes.
 */
export function flattenExchangeSeries(u: UserState, read: UserRead): void {
  const view = read.exchange;
  for (const event of [...view.changed.values()]) {
    const rule = event.fields.recurrence;
    if (!rule) continue;
    const windowEndDate = localDate(u.ctx.windowEndMs, event.fields.timeZone);
    const reason = severaRecurrenceProblem(rule) ?? severaHorizonProblem(rule, windowEndDate);
    if (!reason) {
      if (read.pairs.occurrencesBySeries.has(event.id)) view.wholeAgain.add(event.id);
      // Whole for now; once the window reaches past Severa's horizon it must travel as occurrences: look again then.
      if (reachesBeyondSeveraHorizon(rule)) {
        const after = localToMs(event.fields.timeZone, addDays(severaHorizonDate(rule), 1));
        u.work.addDeferred.push({ email: u.plan.email, side: 'exchange', itemId: event.id, startsAt: new Date(after).toISOString() });
      }
      continue;
    }
    view.changed.delete(event.id);
    view.flattenedSeries.set(event.id, event);
    u.seriesNow.set(event.id, event);
    note(u, t('engine.notes.exchangeSeriesFlattened', { subject: describeFields(event.fields).subject, why: reason }));
    for (const occurrence of occurrencesInWindow(event.fields, u.windowStartMs, u.ctx.windowEndMs)) {
      const single = occurrenceEvent(event, occurrence);
      view.changed.set(single.id, single);
    }
    const next = firstOccurrenceFrom(event.fields, u.ctx.windowEndMs);
    if (next !== null) u.work.addDeferred.push({ email: u.plan.email, side: 'exchange', itemId: event.id, startsAt: new Date(next).toISOString() });
  }
}

/** The occurrence paired under an occurrence id, as this cycle knows it. */
export function exchangeNowForOccurrence(view: ExchangeView, p: PairRecord, seriesId: string, key: string): ExchangeSideNow {
  if (view.deleted.has(seriesId)) return { state: 'absent' };
  const series = view.flattenedSeries.get(seriesId);
  if (series) {
    // Inside the window it was expanded already; outside it (moved there, or paired before) it is looked up.
    const event = view.changed.get(p.exchangeId) ?? occurrenceEventAt(series, key);
    if (!event) return { state: 'absent' };
    return { state: classifySide({ version: p.exchangeVersion, hash: p.exchangeHash }, { version: event.version, hash: contentHash(event.fields) }), event };
  }
  if (view.wholeAgain.has(seriesId)) return { state: 'absent', reshaped: true };
  if (view.full) return { state: 'absent' };
  return { state: 'unchanged' };
}
