import type { SideName } from '../../common/sync-report.ts';
import type { PairRecord } from '../../store/sync-store.ts';
import type { SeveraActivityFilter } from '../severa-port.ts';
import type { SeveraItem } from '../severa-snapshot.ts';
import { baseHash, OVERLAP_TOLERANCE_MS } from './item-helpers.ts';
import type { UserRead } from './read-sides.ts';
import { ensureParticipants } from './severa-writes.ts';
import type { UserState } from './user-sync-state.ts';
import type { CreateExchangeIntent, CreateSeveraIntent, PendingSeveraCreate, UpdateIntent } from './write-ahead.ts';

/**
 * Phase 2, recover: the intents a killed run left behind (write-ahead.ts) are read back, so this run finishes that run's
 * job rather than doing it a second time: Exchange items it created are brought into the Exchange view, activities it
 * created are found again (and given the participants it meant to add), and updates it made are remembered so matching
 * can bring their pairs forward. Every intent read is removed on commit.
 */

/** An activity a killed run created from an Exchange item. `changedSince`: changed after the sync wrote it (found by its identity, not its content). */
export interface RecoveredActivity {
  item: SeveraItem;
  changedSince: boolean;
}

export interface Recovery {
  /** Activities created by a crashed run and found again, by the Exchange id they came from. */
  recoveredSevera: Map<string, RecoveredActivity>;
  /** Updates a killed run made (or may have made) before recording them, by the pair's Exchange id. */
  unrecordedWrites: Map<string, Array<UpdateIntent & { side: SideName }>>;
  /**
   * A meeting copy with no activity known by its UID: another enrolled user's run may have created the activity from
   * their copy of the same meeting and died before pairing it (its intent is still pending, and that user's next sync,
   * which would find it, may come after this one in the cycle). Found here, the activity is the meeting's: linked,
   * never created a second time, and given the participants the interrupted run meant to add. An activity a pair of this
   * user holds already is not found, unless `givesWay` says that pair gives way to this copy (the sync's own copy of
   * the meeting, which Exchange has now delivered itself again).
   */
  activityOfOthersInterruptedCreate: (uid: string, givesWay?: PairGivingWay) => Promise<SeveraItem | null>;
}

/** A pair of this user whose item gives way to the Exchange item being matched, so its activity may go to that item. */
export type PairGivingWay = (pair: PairRecord) => boolean;

/** How long after its intent an activity the sync created may carry as its creation time (retries, slow answers). */
const CREATE_RECOVERY_WINDOW_MS = 5 * 60_000;

/** Reads the user's intents back; Exchange items a killed run created are added to `read.exchange.changed`. */
export async function recoverIntents(u: UserState, read: UserRead): Promise<Recovery> {
  const { pairs, exchange } = read;
  const recovery: Recovery = {
    recoveredSevera: new Map(),
    unrecordedWrites: new Map(),
    activityOfOthersInterruptedCreate: othersInterruptedCreates(u),
  };
  const intents = u.ctx.store.intentsForUser(u.plan.email);
  // Intents name Exchange items by the ids they had then; a mailbox that moved since has them under new ids.
  const idNow = (id: string) => exchange.relocated.get(id) ?? id;
  const severaCreates: PendingSeveraCreate[] = [];
  for (const [index, intent] of intents.entries()) {
    u.work.removeIntentIds.push(intent.id);
    if (intent.kind === 'create-exchange') {
      const p = intent.payload as CreateExchangeIntent;
      // Paired already, with an item still there: nothing was left behind. (A pair whose item was deleted in Exchange
      // is the case of a copy created again: it may be the one this intent announced.)
      const pair = pairs.bySeveraGuid.get(p.severaGuid);
      if (pair && !exchange.deleted.has(pair.exchangeId) && !pair.exchangeGone) continue;
      // The item carries the Severa guid as its tag: bring it into this cycle as if Exchange had just reported it.
      for (const e of await u.ctx.calendar.findByTag(u.mailbox, p.severaGuid)) {
        if (!pairs.byExchangeId.has(e.id) && !exchange.deleted.has(e.id)) exchange.changed.set(e.id, e);
      }
    } else if (intent.kind === 'update-exchange' || intent.kind === 'update-severa') {
      const p = intent.payload as UpdateIntent;
      if (!p || typeof p.exchangeId !== 'string' || typeof p.writtenHash !== 'string' || !p.source) continue;
      const side: SideName = intent.kind === 'update-exchange' ? 'exchange' : 'severa';
      const id = idNow(p.exchangeId);
      recovery.unrecordedWrites.set(id, [...(recovery.unrecordedWrites.get(id) ?? []), { ...p, exchangeId: id, side }]);
    } else if (intent.kind === 'create-severa') {
      const p = intent.payload as CreateSeveraIntent;
      // (Also for an Exchange item that is paired: the run may have re-created the pair's activity deleted in Severa.)
      if (!p || typeof p.exchangeId !== 'string' || typeof p.ownerGuid !== 'string') continue;
      // The run wrote its intents one after the other: the create happened before the next one was written.
      severaCreates.push({ intent: { ...p, exchangeId: idNow(p.exchangeId) }, at: intent.createdAt, next: intents[index + 1]?.createdAt });
    }
  }
  await recoverSeveraCreates(u, severaCreates, recovery);
  return recovery;
}

/**
 * Finds the activities killed runs created from Exchange items without pairing them. First by content: the activity
 * still holds what was written. Then by identity, for an activity its owner changed before this run: the one created
 * for that owner at the moment of the intent, still holding either the name or the times written (a user's own
 * activity created at that moment, when the sync's create never landed, holds neither). Its content no longer says
 * which side is current: it is decided like any entry found on both sides, so the owner's change is kept when later.
 */
async function recoverSeveraCreates(u: UserState, creates: readonly PendingSeveraCreate[], recovery: Recovery): Promise<void> {
  for (const { create, item, changedSince } of await findCreatedActivities(u, creates)) {
    recovery.recoveredSevera.set(create.intent.exchangeId, { item, changedSince });
    if (!u.ctx.dryRun) await ensureParticipants(u, item.guid, create.intent.participantGuids);
  }
}

/**
 * The activities these creates made, each claimed once and only when no pair of this user holds it yet (see
 * recoverSeveraCreates), or only pairs that give way (`givesWay`).
 */
async function findCreatedActivities(u: UserState, creates: readonly PendingSeveraCreate[], givesWay: PairGivingWay = () => false): Promise<Array<{ create: PendingSeveraCreate; item: SeveraItem; changedSince: boolean }>> {
  const { ctx } = u;
  const out: Array<{ create: PendingSeveraCreate; item: SeveraItem; changedSince: boolean }> = [];
  const claimed = new Set<string>();
  // Free: no pair of this user holds it yet. Another user's pair may: a participant added in Severa meanwhile, whose
  // sync ran first, has a copy of it paired (K11 of the real-time soak).
  const email = u.plan.email.toLowerCase();
  const free = (item: SeveraItem) => !claimed.has(item.guid) && !ctx.store.pairsBySeveraGuid(item.guid).some((p) => p.email === email && !givesWay(p));
  const adopt = (create: PendingSeveraCreate, item: SeveraItem, changedSince: boolean) => {
    claimed.add(item.guid);
    out.push({ create, item, changedSince });
  };
  const listBoth = async (filter: SeveraActivityFilter) => ctx.snapshot.itemsFromRows([
    ...(await ctx.severa.listActivities(filter)),
    ...(await ctx.severa.listActivities({ ...filter, recurrenceType: 'Series' })),
  ]);
  const unmatched: PendingSeveraCreate[] = [];
  for (const c of creates) {
    const p = c.intent;
    const range = {
      userGuids: [p.ownerGuid],
      startDateTime: new Date(Date.parse(p.start) - OVERLAP_TOLERANCE_MS).toISOString(),
      endDateTime: new Date(Date.parse(p.end) + OVERLAP_TOLERANCE_MS).toISOString(),
    };
    // Exceptions may or may not have been written before the crash: compare without them.
    const found = (await listBoth(range)).find((item) => baseHash(item.fields) === p.hash && free(item));
    if (found) adopt(c, found, false);
    else if (!Number.isNaN(Date.parse(c.at))) unmatched.push(c);
  }
  if (unmatched.length === 0) return out;
  // Intent times are this machine's clock, creation stamps Severa's.
  const offset = ctx.offsets().severa ?? 0;
  const severaMs = (local: string) => Date.parse(local) + offset;
  const byOwner = new Map<string, SeveraItem[]>();
  for (const c of unmatched) {
    const owner = c.intent.ownerGuid;
    if (!byOwner.has(owner)) {
      const since = Math.min(...unmatched.filter((x) => x.intent.ownerGuid === owner).map((x) => severaMs(x.at))) - OVERLAP_TOLERANCE_MS;
      const items = await listBoth({ userGuids: [owner], changedSince: new Date(since).toISOString() });
      byOwner.set(owner, items.filter((item) => item.ownerGuid === owner && !item.flattenedFrom && !Number.isNaN(Date.parse(item.activity.createdDateTime ?? ''))));
    }
    const from = severaMs(c.at) - OVERLAP_TOLERANCE_MS;
    const nextMs = c.next ? severaMs(c.next) : NaN;
    const to = Math.min(severaMs(c.at) + CREATE_RECOVERY_WINDOW_MS, Number.isNaN(nextMs) ? Infinity : nextMs) + OVERLAP_TOLERANCE_MS;
    const distance = (item: SeveraItem) => Math.abs(Date.parse(item.activity.createdDateTime!) - severaMs(c.at));
    const sameName = (item: SeveraItem) => c.intent.name !== undefined && item.activity.name === c.intent.name;
    const sameTimes = (item: SeveraItem) => Date.parse(item.activity.startDateTime ?? '') === Date.parse(c.intent.start)
      && Date.parse(item.activity.endDateTime ?? item.activity.startDateTime ?? '') === Date.parse(c.intent.end);
    const best = byOwner.get(c.intent.ownerGuid)!
      .filter((item) => free(item) && (sameName(item) || sameTimes(item)))
      .filter((item) => Date.parse(item.activity.createdDateTime!) >= from && Date.parse(item.activity.createdDateTime!) <= to)
      .sort((a, b) => distance(a) - distance(b))[0];
    if (best) adopt(c, best, true);
  }
  return out;
}

/** See Recovery.activityOfOthersInterruptedCreate. Other users' pending creates are read once, when a copy first needs them. */
function othersInterruptedCreates(u: UserState): Recovery['activityOfOthersInterruptedCreate'] {
  /** Other users' pending creates from meeting copies, by UID. */
  let othersPendingCreates: Map<string, PendingSeveraCreate[]> | null = null;
  return async (uid, givesWay) => {
    if (!othersPendingCreates) {
      othersPendingCreates = new Map();
      // By user, then in the order written: the next intent of the same user bounds when the create happened.
      const all = u.ctx.store.allIntents();
      for (const [index, intent] of all.entries()) {
        const p = intent.payload as CreateSeveraIntent;
        if (intent.email === u.plan.email.toLowerCase() || intent.kind !== 'create-severa' || !p || typeof p.uid !== 'string' || typeof p.ownerGuid !== 'string') continue;
        const following = all[index + 1];
        const pending = othersPendingCreates.get(p.uid) ?? [];
        pending.push({ intent: p, at: intent.createdAt, next: following?.email === intent.email ? following.createdAt : undefined });
        othersPendingCreates.set(p.uid, pending);
      }
    }
    const pending = othersPendingCreates.get(uid);
    if (!pending?.length) return null;
    othersPendingCreates.delete(uid);
    const [found] = await findCreatedActivities(u, pending, givesWay);
    if (!found) return null;
    if (!u.ctx.dryRun) await ensureParticipants(u, found.item.guid, found.create.intent.participantGuids);
    u.ctx.uidIndex.set(uid, found.item.guid);
    return found.item;
  };
}
