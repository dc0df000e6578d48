import { t } from '../../common/i18n/i18n.ts';
import type { PairRecord } from '../../store/sync-store.ts';
import type { SideEvent } from '../calendar-event.ts';
import { contentHash } from '../event-content-hash.ts';
import { parseOccurrenceItemId } from '../series-flattening.ts';
import { encodeSeriesBase, seriesBaseOf } from '../series-merge.ts';
import type { SeveraItem } from '../severa-snapshot.ts';
import { classifySide } from '../sync-decision.ts';
import { isPlainSingle, type Candidate, type ExchangeSideNow, type SeveraSideNow } from './candidate.ts';
import { exchangeNowForOccurrence } from './flatten-series.ts';
import { exchangeOnlyPair, identityKey, itemRangeMs, RESTORED_TAG_PREFIX } from './item-helpers.ts';
import { anotherActivityOfMeeting, guidForUid } from './meeting-activity-lookup.ts';
import type { ExchangeView, UserRead } from './read-sides.ts';
import type { Recovery } from './recover-intents.ts';
import { note, roleIn, windowPosition, type UserState } from './user-sync-state.ts';

/**
 * Phase 4, match: every stored pair and every new item on either side becomes one candidate, holding both sides as they
 * are now. A pair's side is 'unchanged', 'changed' or 'absent' (deleted, or no longer the user's); a new Exchange item is
 * matched to its activity when one exists already (created by a killed run, tagged by the sync, the same meeting in
 * another enrolled mailbox, or the same entry typed on both sides), so it is never copied a second time. A pair whose
 * activity was deleted in Severa while its item changed is linked to an activity re-created meanwhile, if any
 * (replacementActivity). Items outside the window are deferred until they enter it.
 */
export async function matchCandidates(u: UserState, read: UserRead, recovery: Recovery): Promise<Candidate[]> {
  const { ctx } = u;
  const { pairs, exchange: exchangeView, severa: severaView } = read;
  const out: Candidate[] = [];
  const consumedSevera = new Set<string>(pairs.bySeveraGuid.keys());
  const taggedCopies = taggedCopiesOfPairs(read);
  const meetingCopies = newCopiesOfPairedMeetings(read);
  const deliveredMeetings = await deliveredMeetingsByActivity(u, read, recovery);
  /** Exchange items that took the place of a pair's vanished item. */
  const adopted = new Set<string>();
  for (const stored of pairs.list) {
    const { pair: p, repaired } = await withUnrecordedWrites(u, read, recovery, stored);
    let exchange = exchangeNowForPair(exchangeView, p);
    const delivered = exchange.state === 'unchanged' || exchange.state === 'absent' ? deliveredMeetingReplacing(deliveredMeetings, p, adopted) : undefined;
    const copy = taggedCopies.get(p.severaGuid) ?? (p.uid ? meetingCopies.get(p.uid) : undefined) ?? delivered;
    if (delivered && exchange.state === 'unchanged') {
      // The pair's item is a copy the sync made of a meeting the user was no longer sent (they had removed it), and the
      // organizer's update has now delivered the meeting itself again: the meeting takes the copy's place in the pair
      // (decided against what the pair remembers, as below), and the copy, unchanged since the sync wrote it, goes as a
      // copy whose activity is elsewhere. One activity, one entry in the calendar, nothing the user did lost.
      adopted.add(delivered.id);
      const { id: _storedId, ...copyOnly } = p;
      out.push({ pair: copyOnly, severa: { state: 'absent' }, exchange: { state: 'unchanged' }, role: p.role, origin: 'severa', copyGivesWay: true });
      exchange = { state: classifySide({ version: p.exchangeVersion, hash: p.exchangeHash }, { version: delivered.version, hash: contentHash(delivered.fields) }), event: delivered };
    } else if (exchange.state === 'absent' && !exchange.reshaped && copy && !adopted.has(copy.id) && !parseOccurrenceItemId(p.exchangeId)) {
      // The pair's item is gone and another copy of the same entry is there: one of ours for the same activity, or the
      // same meeting (its UID) delivered again, say by the organizer's update after the user removed their copy. It
      // is the pair's item now, decided against what the pair remembers (the same content: recorded, nothing written;
      // the organizer's change: copied to the activity), never a second activity or a removal from the first.
      adopted.add(copy.id);
      exchange = { state: classifySide({ version: p.exchangeVersion, hash: p.exchangeHash }, { version: copy.version, hash: contentHash(copy.fields) }), event: copy };
    }
    const severa = await severaNowForPair(u, read, p, recovery);
    const replacement = severa.state === 'absent' && !severa.leftBy ? await replacementActivity(u, read, recovery, p, exchange, consumedSevera) : null;
    if (replacement === 'planned') continue;
    if (replacement) {
      consumedSevera.add(replacement.guid);
      out.push(replacement.candidate);
      continue;
    }
    out.push({ pair: p, severa, exchange, role: p.role, origin: p.origin, ...(repaired ? { pairRepaired: true } : {}) });
  }
  const unpairedSeveraByIdentity = new Map<string, SeveraItem>();
  for (const item of severaView.items.values()) {
    if (!consumedSevera.has(item.guid)) unpairedSeveraByIdentity.set(identityKey(item.fields), item);
  }
  const tz = ctx.snapshot.timeZoneOf(u.userGuid);

  for (const event of exchangeView.changed.values()) {
    if (pairs.byExchangeId.has(event.id) || adopted.has(event.id)) continue;
    const position = windowPosition(u, event.fields, tz);
    if (position === 'before') continue;
    if (position === 'after') {
      const { start } = itemRangeMs(event.fields, tz);
      u.work.addDeferred.push({ email: u.plan.email, side: 'exchange', itemId: event.id, startsAt: new Date(start).toISOString() });
      continue;
    }
    const exchange: ExchangeSideNow = { state: 'changed', event };
    // 1. Created by a crashed run of ours in Severa, found again.
    const recovered = recovery.recoveredSevera.get(event.id);
    if (recovered && !consumedSevera.has(recovered.item.guid)) {
      const item = recovered.item;
      consumedSevera.add(item.guid);
      out.push({ pair: null, severa: { state: 'changed', item }, exchange, role: roleIn(u, item), origin: 'exchange', recovered: !recovered.changedSince });
      continue;
    }
    // 2. An item the sync itself created (it carries the Severa guid): never imported back as new.
    // (Not a series that was synced as occurrences until now: its tag names the activity that gave way to them.)
    if (event.syncTag && !event.syncTag.startsWith(RESTORED_TAG_PREFIX) && !pairs.occurrencesBySeries.has(event.id)) {
      if (consumedSevera.has(event.syncTag)) {
        note(u, t('engine.notes.secondCopy', { subject: event.fields.subject }));
        continue;
      }
      consumedSevera.add(event.syncTag);
      const item = severaView.items.get(event.syncTag) ?? (await ctx.snapshot.fetchItem(event.syncTag));
      if (item) out.push({ pair: null, severa: { state: 'changed', item }, exchange, role: roleIn(u, item), origin: 'severa' });
      else {
        // Its activity is gone: the copy is an orphan of ours. Pair it as "deleted in Severa" so it is removed (journaled).
        out.push({ pair: syntheticPair(u, event, event.syncTag), severa: { state: 'absent' }, exchange: { state: 'unchanged', event }, role: 'owner', origin: 'severa' });
      }
      continue;
    }
    // 3. A meeting whose copy in another enrolled mailbox is already paired: the same activity.
    const uidGuid = event.uid ? guidForUid(u, event.uid) : undefined;
    if (uidGuid?.startsWith('dry-run:')) continue; // a dry run's planned activity: nothing more to plan for this copy
    if (uidGuid && !consumedSevera.has(uidGuid)) {
      // The activity the UID names first may be gone (deleted in Severa; a pair not yet told so still names it) while
      // another attendee's sync made the meeting's activity anew: that one, never a new one (K23 of the real-time soak).
      const item = (severaView.items.get(uidGuid) ?? (await ctx.snapshot.fetchItem(uidGuid))) ?? (await anotherActivityOfMeeting(u, event.uid!, uidGuid, consumedSevera));
      if (item) {
        consumedSevera.add(item.guid);
        out.push({ pair: null, severa: { state: 'changed', item }, exchange, role: roleIn(u, item), origin: 'exchange', linkedByUid: true });
        continue;
      }
    } else if (uidGuid && pairs.bySeveraGuid.has(uidGuid)) {
      // The meeting's activity is this user's already, with another entry of theirs (one the sync made, changed since,
      // so it did not give way above): never a second activity for the same meeting.
      note(u, t('engine.notes.secondMeetingCopy', { subject: event.fields.subject }));
      continue;
    }
    // 3b. A meeting another user's interrupted run created its activity for, found by that run's pending intent.
    const othersCreated = !uidGuid && event.uid ? await recovery.activityOfOthersInterruptedCreate(event.uid) : null;
    if (othersCreated && !consumedSevera.has(othersCreated.guid)) {
      consumedSevera.add(othersCreated.guid);
      out.push({ pair: null, severa: { state: 'changed', item: othersCreated }, exchange, role: roleIn(u, othersCreated), origin: 'exchange', linkedByUid: true });
      continue;
    }
    // 4. The same entry already on both sides (first sync, or both created by hand): pair, don't duplicate.
    const twin = unpairedSeveraByIdentity.get(identityKey(event.fields));
    if (twin && !consumedSevera.has(twin.guid)) {
      consumedSevera.add(twin.guid);
      out.push({ pair: null, severa: { state: 'changed', item: twin }, exchange, role: roleIn(u, twin), origin: 'exchange' });
      continue;
    }
    out.push({ pair: null, severa: { state: 'absent' }, exchange, role: 'owner', origin: 'exchange' });
  }

  for (const item of severaView.items.values()) {
    if (consumedSevera.has(item.guid)) continue;
    if (ctx.snapshot.isFlattenedSeries(item.guid)) continue;
    out.push({ pair: null, severa: { state: 'changed', item }, exchange: { state: 'absent' }, role: roleIn(u, item), origin: 'severa' });
  }
  return out;
}

// ---- each side of a pair now -----------------------------------------------------------------------------------------------

function pairExpectedInListing(u: UserState, p: PairRecord): boolean {
  const start = Date.parse(p.start.length === 10 ? `${p.start}T00:00:00Z` : p.start);
  const end = Date.parse(p.end.length === 10 ? `${p.end}T00:00:00Z` : p.end);
  return !(end < u.windowStartMs - 86_400_000) && !(start > u.ctx.windowEndMs);
}

/**
 * The pair's activity now. Not listed this cycle, it is taken as unchanged, except that a full read (or a killed run
 * that re-created the pair's activity: it met it gone) looks it up: deleted, no longer the user's, or still theirs.
 */
async function severaNowForPair(u: UserState, read: UserRead, p: PairRecord, recovery?: Recovery): Promise<SeveraSideNow> {
  const { snapshot } = u.ctx;
  const stored = { version: p.severaVersion, hash: p.severaHash };
  if (p.severaGone || snapshot.deletedGuids.has(p.severaGuid)) return { state: 'absent' };
  const item = read.severa.items.get(p.severaGuid);
  if (item) return { state: classifySide(stored, item, false), item };
  const left = read.severa.lostMembership.get(p.severaGuid);
  if (left) return { state: 'absent', leftBy: left };
  // A cycle that does not re-list Severa (a live cycle) does not see a deletion there; but a killed run that wrote the
  // pair's item to its activity, met it gone and created it anew has said so: looked up, so the activity that run
  // made is linked (replacementActivity), never a third made (K16 of the real-time soak).
  const recreated = recovery?.recoveredSevera.get(p.exchangeId);
  if ((read.severa.full && pairExpectedInListing(u, p)) || (recreated && recreated.item.guid !== p.severaGuid)) {
    // Not in the user's listing: deleted, no longer theirs, or moved out of the window.
    const found = await snapshot.fetchItem(p.severaGuid);
    if (!found) return { state: 'absent' };
    const member = found.ownerGuid === u.userGuid || (await snapshot.members(found)).has(u.userGuid);
    if (!member) return { state: 'absent', leftBy: found };
    return { state: classifySide(stored, found, false), item: found };
  }
  return { state: 'unchanged' };
}

function exchangeNowForPair(view: ExchangeView, p: PairRecord): ExchangeSideNow {
  if (p.exchangeGone) return { state: 'absent' };
  const ref = parseOccurrenceItemId(p.exchangeId);
  if (ref) return exchangeNowForOccurrence(view, p, ref.seriesId, ref.key);
  // Synced whole until now, but its pattern changed into one Severa cannot hold.
  if (view.flattenedSeries.has(p.exchangeId)) return { state: 'absent', reshaped: true };
  const event = view.changed.get(p.exchangeId);
  if (event) return { state: classifySide({ version: p.exchangeVersion, hash: p.exchangeHash }, { version: event.version, hash: contentHash(event.fields) }), event };
  if (view.deleted.has(p.exchangeId) || view.full) return { state: 'absent' };
  return { state: 'unchanged' };
}

/**
 * The pair as a killed run left it after copying one side onto the other (UpdateIntent): when the written side holds
 * exactly what was written, the pair records that write, with the other side as it was copied from. Otherwise (the
 * write never landed, or someone changed the item since) the pair stays as stored.
 */
async function withUnrecordedWrites(u: UserState, read: UserRead, recovery: Recovery, stored: PairRecord): Promise<{ pair: PairRecord; repaired: boolean }> {
  const writes = (recovery.unrecordedWrites.get(stored.exchangeId) ?? []).filter((w) => w.severaGuid === stored.severaGuid);
  let pair = stored;
  let repaired = false;
  for (const w of writes) {
    if (w.side === 'exchange') {
      const now = exchangeNowForPair(read.exchange, pair).event;
      if (!now || contentHash(now.fields) !== w.writtenHash) continue;
      pair = {
        ...pair,
        exchangeVersion: now.version, exchangeHash: w.writtenHash, exchangeModified: now.lastModified, exchangeSeriesBase: w.writtenBase, exchangePlainSingle: isPlainSingle(now.id, now.fields),
        severaVersion: w.source.version, severaHash: w.source.hash, severaModified: w.source.modified, severaSeriesBase: w.source.base,
      };
    } else {
      const now = (await severaNowForPair(u, read, pair)).item;
      if (!now || now.hash !== w.writtenHash) continue;
      pair = {
        ...pair,
        severaVersion: now.version, severaHash: now.hash, severaModified: now.modified, severaSeriesBase: encodeSeriesBase(seriesBaseOf(now.fields)),
        exchangeVersion: w.source.version, exchangeHash: w.source.hash, exchangeModified: w.source.modified, exchangeSeriesBase: w.source.base, exchangePlainSingle: null,
      };
    }
    repaired = true;
  }
  return { pair, repaired };
}

// ---- other copies of the same entry ----------------------------------------------------------------------------------------

/** Unpaired Exchange items of meetings a pair of this user holds, by UID (a meeting copy the mailbox received again). */
function newCopiesOfPairedMeetings(read: UserRead): Map<string, SideEvent> {
  const pairedUids = new Set(read.pairs.list.map((p) => p.uid).filter((uid): uid is string => !!uid));
  const out = new Map<string, SideEvent>();
  if (pairedUids.size === 0) return out;
  for (const event of read.exchange.changed.values()) {
    if (!event.uid || !pairedUids.has(event.uid) || read.pairs.byExchangeId.has(event.id) || parseOccurrenceItemId(event.id)) continue;
    if (!out.has(event.uid)) out.set(event.uid, event);
  }
  return out;
}

/**
 * Meeting copies new in this calendar that Exchange delivered, by the activity their meeting is paired with in the
 * organizer's (or another attendee's) calendar: not tagged by the sync, not paired, organized by someone else. Read
 * once per user (one UID lookup per copy), then asked per pair. A meeting no other pair knows by its UID may have its
 * activity from another user's interrupted run, still pending (the organizer's run that created it died before
 * pairing it): that run's intent finds it, though this user holds it already with the sync's own copy, which gives way
 * (the long soak's K7). Else, when the organizer's syncs failed since an attendee's made its activity, it is the
 * activity of a pair of the sync's own copy here when it is that entry (its subject and times) and its organizer owns
 * the activity (see sameEntryOfOrganizer; K19).
 */
async function deliveredMeetingsByActivity(u: UserState, read: UserRead, recovery: Recovery): Promise<Map<string, SideEvent>> {
  const out = new Map<string, SideEvent>();
  // Only a pair of the sync's own copy can give way: none, nothing to look up (a first sync reads every meeting).
  const ownCopies = read.pairs.list.filter(isSyncsOwnCopy);
  if (ownCopies.length === 0) return out;
  const mailbox = u.mailbox.toLowerCase();
  for (const event of read.exchange.changed.values()) {
    if (event.syncTag || !event.uid || read.pairs.byExchangeId.has(event.id) || parseOccurrenceItemId(event.id)) continue;
    const organizer = event.fields.organizer?.toLowerCase() ?? null;
    if (organizer === null || organizer === mailbox) continue;
    const guid = guidForUid(u, event.uid)
      ?? (await recovery.activityOfOthersInterruptedCreate(event.uid, isSyncsOwnCopy))?.guid
      ?? (await sameEntryOfOrganizer(u, read, ownCopies, event, organizer));
    if (guid && !out.has(guid)) out.set(guid, event);
  }
  return out;
}

/** A pair whose Exchange item is the sync's own copy of an activity (it came from Severa), whole: it may give way to a meeting. */
function isSyncsOwnCopy(p: PairRecord): boolean {
  return p.origin === 'severa' && !parseOccurrenceItemId(p.exchangeId);
}

/**
 * The activity of a pair of the sync's own copy that a delivered meeting is the same entry as: the same subject and
 * times as the pair last recorded, and the meeting's organizer, an enrolled user, owns the activity (an attendee's sync
 * makes a meeting's activity its enrolled organizer's). Looked up in Severa only for a copy that is the same entry.
 */
async function sameEntryOfOrganizer(u: UserState, read: UserRead, ownCopies: readonly PairRecord[], event: SideEvent, organizer: string): Promise<string | undefined> {
  const organizerGuid = u.ctx.enrolledByMailbox.get(organizer)?.severaGuid;
  if (!organizerGuid) return undefined;
  const key = identityKey(event.fields);
  for (const p of ownCopies) {
    if (identityKey({ subject: p.subject, start: p.start, end: p.end, isAllDay: p.start.length === 10 }) !== key) continue;
    const activity = read.severa.items.get(p.severaGuid) ?? (await u.ctx.snapshot.fetchItem(p.severaGuid));
    if (activity?.ownerGuid === organizerGuid) return p.severaGuid;
  }
  return undefined;
}

/**
 * For a pair whose Exchange item is the sync's own copy of an activity, the meeting Exchange delivered for the same
 * activity (deliveredMeetingsByActivity), when it is another item than the pair's own meeting.
 */
function deliveredMeetingReplacing(delivered: ReadonlyMap<string, SideEvent>, p: PairRecord, adopted: ReadonlySet<string>): SideEvent | undefined {
  if (!isSyncsOwnCopy(p)) return undefined;
  const event = delivered.get(p.severaGuid);
  return event && event.uid !== p.uid && !adopted.has(event.id) ? event : undefined;
}

/**
 * Unpaired Exchange items carrying a paired activity's tag, by that guid: copies the sync created for the pair (say,
 * re-created after a deletion in Outlook) in a run that died before it could record them.
 */
function taggedCopiesOfPairs(read: UserRead): Map<string, SideEvent> {
  const out = new Map<string, SideEvent>();
  for (const event of read.exchange.changed.values()) {
    const tag = event.syncTag;
    if (!tag || tag.startsWith(RESTORED_TAG_PREFIX) || read.pairs.byExchangeId.has(event.id) || parseOccurrenceItemId(event.id)) continue;
    if (read.pairs.bySeveraGuid.has(tag) && !out.has(tag)) out.set(tag, event);
  }
  return out;
}

/**
 * A pair whose activity was deleted in Severa while its Exchange item changed is to get its activity back (a change
 * beats a deletion). It may have one already: a killed or failed run of ours re-created it (the intent finds it), or,
 * for a meeting, another attendee's sync re-created it from their copy this cycle or earlier (the UID finds it), or
 * another attendee's killed or failed run did (that run's pending intent finds it). Then
 * this copy is linked to that activity, decided like any entry found on both sides, never made into a second one.
 * 'planned': a dry run plans to re-create it for another copy already.
 */
async function replacementActivity(u: UserState, read: UserRead, recovery: Recovery, p: PairRecord, exchange: ExchangeSideNow, consumed: ReadonlySet<string>): Promise<{ guid: string; candidate: Candidate } | 'planned' | null> {
  const { ctx } = u;
  if (exchange.state === 'absent' || parseOccurrenceItemId(p.exchangeId)) return null;
  const recovered = recovery.recoveredSevera.get(p.exchangeId);
  const uid = exchange.event?.uid ?? p.uid;
  const uidGuid = uid ? guidForUid(u, uid) : undefined;
  const byUid = uidGuid && uidGuid !== p.severaGuid && !consumed.has(uidGuid) ? uidGuid : undefined;
  // A meeting's activity another enrolled user's killed or failed run re-created from their copy, its intent still
  // pending (that user's next sync, which would pair it, may come after this one): the same activity, never a second.
  const ours = recovered && !consumed.has(recovered.item.guid) ? recovered : null;
  const othersCreated = !ours && !byUid && uid ? await recovery.activityOfOthersInterruptedCreate(uid) : null;
  const byOthersIntent = othersCreated && othersCreated.guid !== p.severaGuid && !consumed.has(othersCreated.guid) ? othersCreated : null;
  if (!ours && !byUid && !byOthersIntent) return null;
  // Unchanged since the last cycle (its change was read by a run that then failed to re-create the activity, or only
  // another copy changed): read it, so it is linked rather than deleted as "deleted in Severa".
  const event = exchange.event ?? (await ctx.calendar.getEvents(u.mailbox, [p.exchangeId]))[0];
  if (!event) return null;
  if (ours) {
    const item = ours.item;
    return { guid: item.guid, candidate: { pair: null, severa: { state: 'changed', item }, exchange: { state: 'changed', event }, role: roleIn(u, item), origin: p.origin, recovered: !ours.changedSince } };
  }
  if (byOthersIntent) {
    return { guid: byOthersIntent.guid, candidate: { pair: null, severa: { state: 'changed', item: byOthersIntent }, exchange: { state: 'changed', event }, role: roleIn(u, byOthersIntent), origin: p.origin, linkedByUid: true } };
  }
  const guid = byUid;
  if (!guid) return null;
  if (guid.startsWith('dry-run:')) return 'planned';
  if (ctx.snapshot.deletedGuids.has(guid)) return null;
  const item = read.severa.items.get(guid) ?? (await ctx.snapshot.fetchItem(guid));
  if (!item) return null;
  return { guid, candidate: { pair: null, severa: { state: 'changed', item }, exchange: { state: 'changed', event }, role: roleIn(u, item), origin: p.origin, linkedByUid: true } };
}

function syntheticPair(u: UserState, event: SideEvent, severaGuid: string): PairRecord {
  return exchangeOnlyPair(event, { email: u.plan.email, mailbox: u.mailbox, severaGuid, role: 'owner', origin: 'severa' });
}
