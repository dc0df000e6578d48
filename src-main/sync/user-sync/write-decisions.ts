import { t } from '../../common/i18n/i18n.ts';
import { CalendarError } from '../../exchange/calendar-connector.ts';
import type { PairRecord } from '../../store/sync-store.ts';
import { contentHash } from '../event-content-hash.ts';
import { occurrenceEventAt, parseOccurrenceItemId, serverItemId } from '../series-flattening.ts';
import { decodeSeriesBase, mergeSeries } from '../series-merge.ts';
import { classifySide, type Decision } from '../sync-decision.ts';
import { isItemLevel, problemFor } from '../sync-problems.ts';
import { buildPair, currentFields, exchangeSide, severaSide, type Candidate, type Decided, type ExchangeSideNow } from './candidate.ts';
import { correctedTimes, decideCandidate } from './decide-candidates.ts';
import { batchableExchangeWrite, writeExchangeBatch } from './exchange-batch.ts';
import { createInExchange, deleteInExchange, freshExchangeEvent, updateExchange } from './exchange-writes.ts';
import { createInSevera, deleteInSevera, ensureMember, updateSevera } from './severa-writes.ts';
import { change, dropPair, note, problem, reportMark, retryLater, roleIn, rollBackReport, stagePair, type UserState } from './user-sync-state.ts';

/** Why the sync's copy of a meeting goes when Exchange delivered the meeting itself again (see Candidate.copyGivesWay). */
const COPY_GIVES_WAY = 'the meeting itself was delivered again; the copy made by the sync gives way';

/**
 * Phase 7, write: each decision is carried out in turn, on Exchange (exchange-writes.ts) or Severa (severa-writes.ts).
 * A write Exchange refuses because the item changed meanwhile is decided once more with the item read again. An
 * item-level failure is reported, the item retried next cycle, and the rest of the user's sync goes on; any other
 * failure stops the user's sync before its commit.
 */
export async function writeDecisions(u: UserState, decided: Decided[]): Promise<void> {
  // Creates and single-item updates in Exchange go together (exchange-batch.ts), after the rest, one by one.
  const batch = new Set(decided.filter(({ c, d }) => batchableExchangeWrite(u, c, d)));
  const rest = decided.filter((x) => !batch.has(x));
  await prefetch(u, rest);
  for (const { c, d } of rest) if (!linkedMeanwhile(u, c)) await execute(u, c, d, true);
  const batched = [...batch].filter(({ c }) => !linkedMeanwhile(u, c));
  if (batched.length) await writeExchangeBatch(u, batched, (c, d, err) => handleFailure(u, c, d, err, true));
}

/**
 * An activity new to the user that an earlier write of this run linked one of their pairs to (the pair's activity was
 * gone, and this one is the meeting's activity made anew): that pair holds it now, so it is no entry of its own.
 */
function linkedMeanwhile(u: UserState, c: Candidate): boolean {
  return !c.pair && c.exchange.state === 'absent' && c.severa.item !== undefined && u.linkedMeanwhile.has(c.severa.item.guid);
}

/** Reads in batches what the writes need and this cycle has not read yet. */
async function prefetch(u: UserState, decided: Decided[]): Promise<void> {
  const needExchange: Candidate[] = [];
  for (const { c, d } of decided) {
    if ((d.action === 'update' || d.action === 'delete') && d.side === 'exchange' && !c.exchange.event && c.pair) needExchange.push(c);
  }
  if (needExchange.length && !u.ctx.dryRun) {
    const ids = [...new Set(needExchange.map((c) => serverItemId(c.pair!.exchangeId)))];
    const events = new Map((await u.ctx.calendar.getEvents(u.mailbox, ids)).map((e) => [e.id, e]));
    for (const c of needExchange) {
      const ref = parseOccurrenceItemId(c.pair!.exchangeId);
      const read = events.get(ref?.seriesId ?? c.pair!.exchangeId);
      if (ref && read) u.seriesNow.set(read.id, read);
      const e = ref ? (read ? occurrenceEventAt(read, ref.key) : null) : read;
      if (e) c.exchange = { state: c.exchange.state, event: e };
    }
  }
}

async function execute(u: UserState, c: Candidate, d: Decision, mayRetry: boolean): Promise<void> {
  const mark = reportMark(u);
  try {
    await apply(u, c, d);
  } catch (err) {
    // The change lines were written before the side effect (so a dry run lists them); a write that failed did not happen.
    rollBackReport(u, mark);
    await handleFailure(u, c, d, err, mayRetry);
  }
}

/** A write that failed: decided again after a conflict, kept as Outlook has it, or reported and retried next cycle. */
async function handleFailure(u: UserState, c: Candidate, d: Decision, err: unknown, mayRetry: boolean): Promise<void> {
  if (err instanceof CalendarError && err.code === 'conflict' && mayRetry && c.pair) {
    // Someone changed the Exchange item while we wrote it: read it again and decide once more.
    const fresh = await freshExchangeEvent(u, c.pair.exchangeId);
    const exchange: ExchangeSideNow = fresh
      ? { state: classifySide({ version: c.pair.exchangeVersion, hash: c.pair.exchangeHash }, { version: fresh.version, hash: contentHash(fresh.fields) }), event: fresh }
      : { state: 'absent' };
    const again = { ...c, exchange };
    await execute(u, again, decideCandidate(u, again), false);
    return;
  }
  if (err instanceof CalendarError && err.code === 'would-notify') {
    await keepOutlookMeeting(u, c, d, err);
    return;
  }
  if (!isItemLevel(err)) throw err;
  const subject = c.exchange.event?.fields.subject ?? c.severa.item?.fields.subject ?? c.pair?.subject ?? '';
  const p = problemFor(err, { mailbox: u.mailbox, what: t('engine.steps.syncing', { subject }) });
  problem(u, { ...p, message: t('engine.problems.entry', { subject, message: p.message }) });
  if (c.exchange.event) retryLater(u, 'exchange', c.exchange.event.id);
  if (c.severa.item) retryLater(u, 'severa', c.severa.item.guid);
  keepGoneSides(u, c, d, err, await exchangeItemGone(u, c, err));
}

/**
 * Whether a write that Exchange answered 'not found' really lost its item: a series' write can fail on one occurrence
 * (an index out of range, an occurrence deleted from the series) while the series stands; marking that gone would have
 * the next cycle create it again beside itself. So the item is looked up by id once; only when that finds nothing is it
 * gone (a look-up that fails tells nothing: the next cycle reads the item again anyway).
 */
async function exchangeItemGone(u: UserState, c: Candidate, err: unknown): Promise<boolean> {
  if (!(err instanceof CalendarError) || err.code !== 'not-found' || !c.pair || u.ctx.dryRun) return false;
  try {
    return (await freshExchangeEvent(u, c.pair.exchangeId)) === undefined;
  } catch {
    return false;
  }
}

/**
 * Exchange refused to change or delete a meeting silently (Exchange Online mails the attendees of an organizer's meeting
 * on any change; the connector never lets that happen). Outlook is then the only place the meeting can change, so:
 * - a deletion in Severa leaves the meeting, and its pair remembers Severa's side is gone: until the user deletes it in
 *   Outlook (then both are gone) or changes it there (a change beats a deletion: it comes back to Severa), every cycle
 *   says so;
 * - a change in Severa stays in Severa, the pair records both sides as they are (said once); a change made in Outlook
 *   too (a merge) is taken to Severa, since Outlook's is the version that can stand on both sides.
 */
async function keepOutlookMeeting(u: UserState, c: Candidate, d: Decision, err: CalendarError): Promise<void> {
  const subject = c.exchange.event?.fields.subject ?? c.severa.item?.fields.subject ?? c.pair?.subject ?? '';
  const advice = err.advice ?? { message: err.message, fix: t('engine.notes.changeInOutlook') };
  if (d.action === 'delete') {
    note(u, t('engine.notes.deletedStaysInOutlook', { subject, message: advice.message, fix: advice.fix }));
    keepGoneSides(u, c, d, err, false);
    return;
  }
  note(u, t('engine.notes.changedInSeveraOnly', { subject, message: advice.message, fix: advice.fix }));
  if (d.action === 'merge' && c.exchange.event && c.severa.item) {
    await updateSevera(u, c, 'changed in Outlook; the meeting can only change there');
    return;
  }
  // An organizer's meeting linked to its activity by UID has no pair yet: it gets one now, or the next cycle would take
  // the activity for new to this user and put a second copy beside the meeting.
  if (u.ctx.dryRun || !(c.pair || (c.severa.item && c.exchange.event))) return;
  stagePair(u, buildPair(u, c, severaSide(c), exchangeSide(c), currentFields(c)));
}

/**
 * A failed write leaves its pair as stored, yet the cycle still commits both sides' change positions: a deletion read
 * this cycle is not reported again. Unless the pair remembers which side is gone, the next cycle takes that side for
 * unchanged (an entry deleted in Outlook and changed in Severa is then "updated" in Exchange, and fails, for good; a
 * deletion to carry over is dropped). So the pair keeps the gone marks, as a held deletion does, and the next cycle
 * decides it again with that side absent. A write that found the Exchange item missing (looked up again: `itemGone`)
 * marks it gone too (this also frees a pair a store left in that state earlier). Not a side that is only absent for
 * this user (removed as participant, the activity still exists) or an Exchange series that changed shape: neither is
 * gone.
 */
function keepGoneSides(u: UserState, c: Candidate, d: Decision, err: unknown, itemGone: boolean): void {
  const p = c.pair;
  if (!p || u.ctx.dryRun) return;
  const writesExchange = d.action === 'merge' || ((d.action === 'update' || d.action === 'delete') && d.side === 'exchange');
  const exchangeMissing = writesExchange && err instanceof CalendarError && err.code === 'not-found' && itemGone;
  const exchangeGone = p.exchangeGone || (c.exchange.state === 'absent' && !c.exchange.reshaped) || exchangeMissing;
  const severaGone = p.severaGone || (c.severa.state === 'absent' && !c.severa.leftBy);
  if (exchangeGone === p.exchangeGone && severaGone === p.severaGone) return;
  stagePair(u, { ...p, exchangeGone, severaGone });
}

async function apply(u: UserState, c: Candidate, d: Decision): Promise<void> {
  if ((d.action === 'update' || d.action === 'create') && d.conflict) u.report.conflicts++;
  // A meeting's copy linked to its activity by UID: this user takes part in the activity, whichever way it is paired.
  if (c.linkedByUid && !c.pair && c.severa.item && (d.action === 'record' || d.action === 'update')) await ensureMember(u, c.severa.item);
  switch (d.action) {
    case 'none': {
      // Versions may have moved without a content change: remember them, so the next cycle compares with them.
      if (c.pair && (c.severa.item || c.exchange.event) && c.severa.state !== 'absent' && c.exchange.state !== 'absent' && !d.cell.startsWith('held')) {
        const s = severaSide(c);
        const e = exchangeSide(c);
        if (c.pairRepaired || s.version !== c.pair.severaVersion || e.version !== c.pair.exchangeVersion) {
          stagePair(u, { ...buildPair(u, c, s, e, { ...currentFields(c) }), subject: c.pair.subject, start: c.pair.start, end: c.pair.end });
        }
      }
      return;
    }
    case 'record': {
      stagePair(u, buildPair(u, c, severaSide(c), exchangeSide(c), currentFields(c)));
      return;
    }
    case 'forget':
      dropPair(u, c.pair);
      return;
    case 'create':
      if (d.side === 'exchange') await createInExchange(u, c, d.reason);
      else if (c.severa.leftBy && c.pair) await rejoinInSevera(u, c, d.reason);
      else await createInSevera(u, c, d.reason);
      return;
    case 'update':
      if (d.side === 'exchange') await updateExchange(u, c, d.reason);
      else await updateSevera(u, c, d.reason);
      return;
    case 'delete':
      if (d.side === 'exchange') await deleteInExchange(u, c, c.copyGivesWay ? COPY_GIVES_WAY : d.reason);
      else await deleteInSevera(u, c, d.reason);
      return;
    case 'merge':
      await mergeBothWays(u, c, d.reason);
      return;
  }
}

/**
 * The user's copy changed after they were removed from the activity in Severa: as a change beats a deletion, the
 * removal is undone (the user takes part again) and the item is then decided as usual against the activity as it is,
 * so a change made meanwhile in Severa is not overwritten unseen. Never a second activity: the first one still exists.
 */
async function rejoinInSevera(u: UserState, c: Candidate, reason: string): Promise<void> {
  const item = c.severa.leftBy!;
  const p = c.pair!;
  if (!u.ctx.dryRun) await ensureMember(u, item);
  const again: Candidate = {
    ...c,
    pair: { ...p, role: roleIn(u, item) },
    severa: { state: classifySide({ version: p.severaVersion, hash: p.severaHash }, item, false), item },
  };
  const next = decideCandidate(u, again);
  const writesSevera = next.action === 'merge' || ((next.action === 'update' || next.action === 'create') && next.side === 'severa');
  if (!writesSevera) {
    const event = c.exchange.event;
    change(u, { side: 'severa', action: 'update', subject: item.fields.subject, start: item.fields.start, sourceId: event?.id ?? p.exchangeId, reason: `${reason}: takes part again` });
  }
  await apply(u, again, next);
}

/**
 * A series both sides changed: each side gets what the other changed, occurrence by occurrence (series-merge.ts).
 * The pair is staged once, after both writes: if the second fails, the stored pair still shows both sides changed, so
 * the next cycle merges again (what was written already then counts as the same on both sides) instead of taking one
 * side's series whole.
 */
async function mergeBothWays(u: UserState, c: Candidate, reason: string): Promise<void> {
  const item = c.severa.item!;
  const event = c.exchange.event!;
  const p = c.pair!;
  const times = correctedTimes(u, item.modified, event.lastModified);
  const plan = mergeSeries({
    severa: item.fields,
    exchange: event.fields,
    severaBase: decodeSeriesBase(p.severaSeriesBase)!,
    exchangeBase: decodeSeriesBase(p.exchangeSeriesBase)!,
    severaModified: times.s,
    exchangeModified: times.e,
  });
  if (plan.conflicts > 0) u.report.conflicts++;
  const staged = (x: PairRecord) => (p.id !== undefined && x.id === p.id) || x.exchangeId === p.exchangeId || x.severaGuid === p.severaGuid;
  const stagedBefore = u.work.upsertPairs.filter(staged);
  let now = c;
  try {
    if (plan.toExchange) {
      const written = await updateExchange(u, now, reason, plan.exchange);
      if (written) now = { ...now, exchange: { state: 'changed', event: written } };
    }
    if (plan.toSevera) await updateSevera(u, now, reason, plan.severa);
    else if (!u.ctx.dryRun) stagePair(u, buildPair(u, now, severaSide(now), exchangeSide(now), currentFields(now)));
  } catch (err) {
    const others = u.work.upsertPairs.filter((x) => !staged(x));
    u.work.upsertPairs.splice(0, u.work.upsertPairs.length, ...others, ...stagedBefore);
    throw err;
  }
}
