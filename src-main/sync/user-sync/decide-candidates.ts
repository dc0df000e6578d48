import { contentHash } from '../event-content-hash.ts';
import { decodeSeriesBase } from '../series-merge.ts';
import { decide, type Decision } from '../sync-decision.ts';
import type { Candidate, Decided } from './candidate.ts';
import { windowPosition, type UserState } from './user-sync-state.ts';

/**
 * Phase 5, decide: each candidate goes through the decision table (sync-decision.ts), which says what to do with it:
 * nothing, record the pair, forget it, or create, update, delete or merge on one side. Only the cases the table does not
 * see are settled here (a series that changed shape, an interrupted copy to finish).
 */
export function decideCandidates(u: UserState, candidates: Candidate[]): Decided[] {
  return candidates.map((c) => ({ c, d: decideCandidate(u, c) }));
}

/** Both sides' last-update times on this machine's clock. */
export function correctedTimes(u: UserState, severaModified: string | undefined, exchangeModified: string | undefined): { s?: string; e?: string } {
  const { severa, exchange } = u.ctx.offsets();
  const shift = (v: string | undefined, offset: number | null) => {
    if (!v || Number.isNaN(Date.parse(v))) return undefined;
    return new Date(Date.parse(v) - (offset ?? 0)).toISOString();
  };
  return { s: shift(severaModified, severa), e: shift(exchangeModified, exchange) };
}

export function decideCandidate(u: UserState, c: Candidate): Decision {
  // The series changed shape in Exchange: the other shape's Severa side gives way to the new one (created as new).
  if (c.exchange.reshaped && c.pair) {
    return { action: 'delete', side: 'severa', cell: 'paired: Exchange series changed shape', reason: 'the Exchange series changed its pattern; Severa gets it in its new shape' };
  }
  // An activity a crashed run created from this Exchange item: Exchange is the source, finish the job.
  if (c.recovered && !c.pair && c.severa.item && c.exchange.event) {
    return c.severa.item.hash === contentHash(c.exchange.event.fields)
      ? { action: 'record', cell: 'new: recovered, same content' }
      : { action: 'update', side: 'severa', cell: 'new: recovered', reason: 'finishing an interrupted copy from Exchange', conflict: false };
  }
  // A meeting's copy in another enrolled mailbox is the same meeting as the activity it links to (never a second
  // activity). Like any entry found on both sides without a pair, it goes through the table: the same content is
  // recorded; different content (say the activity changed after this copy was last written, and the sync updates no
  // attendee's copy but an enrolled one's) is brought in line with the side changed later.
  const sItem = c.severa.item;
  const eEvent = c.exchange.event;
  const sHash = sItem?.hash ?? (c.pair && c.severa.state === 'unchanged' ? c.pair.severaHash : undefined);
  const eHash = eEvent ? contentHash(eEvent.fields) : c.pair && c.exchange.state === 'unchanged' ? c.pair.exchangeHash : undefined;
  const sameContent = c.severa.state !== 'absent' && c.exchange.state !== 'absent' && sHash !== undefined && sHash === eHash;
  const times = correctedTimes(u, sItem?.modified ?? c.pair?.severaModified, eEvent?.lastModified ?? c.pair?.exchangeModified);
  let severaEligible = false;
  if (!c.pair && sItem) {
    severaEligible = sItem.eligible.ok && windowPosition(u, sItem.fields, sItem.timeZone) === 'inside';
  }
  const mergeable = !!c.pair && !!sItem?.fields.recurrence && !!eEvent?.fields.recurrence
    && decodeSeriesBase(c.pair.severaSeriesBase) !== null && decodeSeriesBase(c.pair.exchangeSeriesBase) !== null;
  return decide({
    paired: c.pair !== null,
    severa: c.severa.state,
    exchange: c.exchange.state,
    sameContent,
    severaModified: times.s,
    exchangeModified: times.e,
    severaEligible,
    exchangeEligible: true,
    mergeable,
  });
}
