import { CalendarError } from '../../exchange/calendar-connector.ts';
import type { PairRecord } from '../../store/sync-store.ts';
import type { SideEvent } from '../calendar-event.ts';
import { parseOccurrenceItemId, serverItemId } from '../series-flattening.ts';
import type { SeveraItem } from '../severa-snapshot.ts';
import { describeLocation } from '../../exchange/exchange-locations.ts';
import { t } from '../../common/i18n/i18n.ts';
import { relocatePairs } from './relocate-pairs.ts';
import { note, type UserState } from './user-sync-state.ts';

/**
 * Phase 1, read: what the store remembers of the user's pairs, and what changed on each side since the user's last
 * cycle (or everything, on a first sync, a reconciliation turn, or when Exchange forgot the sync position), plus the
 * items deferred to this cycle.
 */

/** The user's pairs as stored, with the lookups the later phases need. */
export interface StoredPairs {
  list: PairRecord[];
  byExchangeId: Map<string, PairRecord>;
  bySeveraGuid: Map<string, PairRecord>;
  /** Pairs of single occurrences of an Exchange series, by series id. */
  occurrencesBySeries: Map<string, PairRecord[]>;
}

/** This cycle's view of the user's Exchange calendar. */
export interface ExchangeView {
  /** Items changed (or, when `full`, all items), by id. Recovery adds items it finds; flattening swaps series for occurrences. */
  changed: Map<string, SideEvent>;
  deleted: Set<string>;
  /** Everything was read: an item not in `changed` is gone. */
  full: boolean;
  /** The sync position to commit. */
  newSyncState: string | null;
  /** Exchange series read this cycle whose pattern Severa cannot hold: synced as their occurrences, by series id (flatten-series.ts). */
  flattenedSeries: Map<string, SideEvent>;
  /** Series read this cycle that travel whole, though earlier cycles synced them as occurrences (flatten-series.ts). */
  wholeAgain: Set<string>;
  /** The mailbox moved: old id -> new id of each pair found again there (relocate-pairs.ts). */
  relocated: Map<string, string>;
}

/** This cycle's view of the user's Severa activities. */
export interface SeveraView {
  /** The user's activities read this cycle (changed, or all when `full`), by guid. */
  items: Map<string, SeveraItem>;
  /** Paired activities this user no longer owns or takes part in, by guid. */
  lostMembership: Map<string, SeveraItem>;
  /** The user's whole window was listed: a paired activity missing from it is looked up. */
  full: boolean;
}

export interface UserRead {
  pairs: StoredPairs;
  exchange: ExchangeView;
  severa: SeveraView;
}

export async function readSides(u: UserState): Promise<UserRead> {
  const { pairs, view: exchange } = await readExchange(u, storedPairs(u));
  const severa = await readSevera(u, pairs);
  await readDeferred(u, exchange, severa);
  return { pairs, exchange, severa };
}

function storedPairs(u: UserState): StoredPairs {
  return indexPairs(u.ctx.store.pairsForUser(u.plan.email));
}

/** Pairs with their lookups. */
export function indexPairs(list: PairRecord[]): StoredPairs {
  const out: StoredPairs = { list, byExchangeId: new Map(), bySeveraGuid: new Map(), occurrencesBySeries: new Map() };
  for (const p of out.list) {
    out.byExchangeId.set(p.exchangeId, p);
    out.bySeveraGuid.set(p.severaGuid, p);
    const ref = parseOccurrenceItemId(p.exchangeId);
    if (ref) out.occurrencesBySeries.set(ref.seriesId, [...(out.occurrencesBySeries.get(ref.seriesId) ?? []), p]);
  }
  return out;
}

async function readExchange(u: UserState, stored: StoredPairs): Promise<{ view: ExchangeView; pairs: StoredPairs }> {
  let pairs = stored;
  const view: ExchangeView = { changed: new Map(), deleted: new Set(), full: false, newSyncState: null, flattenedSeries: new Map(), wholeAgain: new Set(), relocated: new Map() };
  const remembered = u.plan.state?.exchangeLocation ?? null;
  let moved = await locateMailbox(u, remembered, pairs);
  const state = moved ? null : (u.plan.state?.exchangeSyncState ?? null);
  let changes;
  try {
    // The ids the store pairs: a connector may take their changes as the change feed gives them (no read by id).
    changes = await u.ctx.calendar.syncChanges(u.mailbox, state, { pairedIds: pairs.byExchangeId });
    view.full = state === null;
  } catch (err) {
    if (err instanceof CalendarError && err.code === 'mailbox-moved') {
      // Found in another place while reading: read it there, whole.
      moved = (await locateMailbox(u, remembered, null)) || true;
    } else if (err instanceof CalendarError && err.code === 'invalid-sync-state') {
      // The server forgot our position: read everything again; the pairs keep what was already synced.
      note(u, t('engine.notes.syncPositionForgotten'));
    } else throw err;
    changes = await u.ctx.calendar.syncChanges(u.mailbox, null, { pairedIds: pairs.byExchangeId });
    view.full = true;
  }
  for (const e of changes.changed) view.changed.set(e.id, e);
  for (const id of changes.deletedIds) {
    view.deleted.add(id);
    view.changed.delete(id);
  }
  view.newSyncState = changes.syncState;
  if (moved) {
    const relocated = relocatePairs(u, pairs, view);
    pairs = relocated.pairs;
    view.relocated = relocated.ids;
    const { found, notFound } = relocated;
    const where = { from: describeLocation(remembered), to: describeLocation(u.where.location), count: found, notFound };
    note(u, t(notFound ? 'engine.notes.mailboxMovedSomeLost' : 'engine.notes.mailboxMoved', where));
  }
  if (view.full) await verifyMissing(u, pairs, view);
  return { view, pairs };
}

/**
 * Where the mailbox lives now (a connector that serves several Exchange connections says; one that is one place does
 * not). True when it lives elsewhere than the store remembers: it moved (or the organization was re-pointed at
 * another Exchange), so its ids and sync position are void and its pairs must be found again.
 */
async function locateMailbox(u: UserState, remembered: string | null, pairs: StoredPairs | null): Promise<boolean> {
  if (!u.ctx.calendar.locate) return false;
  const where = await u.ctx.calendar.locate(u.mailbox, remembered, u.plan.email);
  const moved = remembered !== null && where.location !== remembered && !(pairs && (await sameStore(u, pairs)));
  u.where.location = where.location;
  u.where.since = moved || !u.plan.state?.exchangeLocationSince ? u.ctx.now().toISOString() : u.plan.state.exchangeLocationSince;
  u.report.mailboxLocation = { label: where.label, since: u.where.since };
  return moved;
}

/**
 * A new location may be the same mailbox reached another way (the EWS address changed, the server did not): when the
 * ids of a few synced entries still open there, nothing moved and the sync position still holds. A move gives every
 * item a new id, so one id that does not open means a move.
 */
async function sameStore(u: UserState, pairs: StoredPairs): Promise<boolean> {
  const sample = [...new Set(pairs.list.filter((p) => !p.exchangeGone).map((p) => serverItemId(p.exchangeId)))].slice(0, 3);
  if (sample.length === 0) return false;
  const found = await u.ctx.calendar.getEvents(u.mailbox, sample).catch(() => []);
  return found.length === sample.length;
}

/**
 * A full read lists what the connector sees, which need not be everything: Graph reads a window of the calendar, and a
 * paired item may have moved out of it. A paired item the full read did not list is looked up by id (batched) before
 * anything takes it for deleted: found, it counts as read; not found, as deleted.
 */
async function verifyMissing(u: UserState, pairs: StoredPairs, view: ExchangeView): Promise<void> {
  const ids = new Set<string>();
  for (const p of pairs.list) {
    if (p.exchangeGone) continue;
    const id = serverItemId(p.exchangeId);
    if (!view.changed.has(id) && !view.deleted.has(id)) ids.add(id);
  }
  if (ids.size === 0) return;
  const found = await u.ctx.calendar.getEvents(u.mailbox, [...ids]);
  for (const e of found) view.changed.set(e.id, e);
  for (const id of ids) if (!view.changed.has(id)) view.deleted.add(id);
}

async function readSevera(u: UserState, pairs: StoredPairs): Promise<SeveraView> {
  const view: SeveraView = { items: new Map(), lostMembership: new Map(), full: false };
  const { ctx } = u;
  const { snapshot } = ctx;
  if (u.plan.mode !== 'incremental') {
    // First sync or this user's turn in the rolling reconciliation: everything the user owns or takes part in.
    const windowFilter = {
      userGuids: [u.userGuid],
      includeAsMember: true,
      startDateTime: new Date(u.windowStartMs).toISOString(),
      endDateTime: new Date(ctx.windowEndMs).toISOString(),
    };
    const seriesRows = await ctx.severa.listActivities({ ...windowFilter, recurrenceType: 'Series' });
    const rows = [...(await ctx.severa.listActivities(windowFilter)), ...seriesRows];
    const listedSeries = new Set(seriesRows.map((a) => a.guid));
    for (const item of await snapshot.itemsFromRows(rows)) {
      // A series listed only through one of its exceptions (which keeps the participants it had when it was made), not
      // as a series the user owns or takes part in, is not the user's when the series itself no longer names them:
      // they were removed from it.
      if (item.fields.recurrence && !listedSeries.has(item.guid) && item.ownerGuid !== u.userGuid && !(await snapshot.members(item)).has(u.userGuid)) {
        if (pairs.bySeveraGuid.has(item.guid)) view.lostMembership.set(item.guid, item);
        continue;
      }
      view.items.set(item.guid, item);
    }
    view.full = true;
  }
  // Changes seen org-wide: those of this user's activities, and memberships gained or lost. Only the user's own pairs
  // and the activities nobody has seen in this state can matter (settled ones are the sync's own writes read back),
  // and the user's own activities they have no pair of: settled for the others, new to them.
  const relevant = new Map<string, SeveraItem>();
  for (const p of pairs.list) {
    const item = ctx.orgChanged.get(p.severaGuid);
    if (item) relevant.set(item.guid, item);
  }
  const settledForUser = (item: SeveraItem) => ctx.settledGuids.has(item.guid) && item.ownerGuid !== u.userGuid;
  for (const item of ctx.orgChanged.values()) if (!settledForUser(item)) relevant.set(item.guid, item);
  for (const item of relevant.values()) {
    if (view.items.has(item.guid)) continue;
    const paired = pairs.bySeveraGuid.get(item.guid);
    if (paired && paired.severaVersion === item.version && paired.severaHash === item.hash) continue;
    if (!paired && settledForUser(item)) continue;
    if (!paired && item.ownerGuid !== u.userGuid && ctx.editedGuids.has(item.guid)) continue;
    const isMember = item.ownerGuid === u.userGuid || (await snapshot.members(item)).has(u.userGuid);
    if (isMember) view.items.set(item.guid, item);
    else if (paired) view.lostMembership.set(item.guid, item);
  }
  return view;
}

/** Items to look at again: entering the window, or left over by an item-level failure. */
async function readDeferred(u: UserState, exchange: ExchangeView, severa: SeveraView): Promise<void> {
  const due = u.ctx.store.deferredStartingBefore(u.plan.email, new Date(u.ctx.windowEndMs).toISOString());
  if (due.length === 0) return;
  const exchangeIds = [...new Set(due.filter((d) => d.side === 'exchange').map((d) => serverItemId(d.itemId)))].filter((id) => !exchange.changed.has(id) && !exchange.deleted.has(id));
  if (exchangeIds.length) {
    for (const e of await u.ctx.calendar.getEvents(u.mailbox, exchangeIds)) exchange.changed.set(e.id, e);
    // Looked for and not there: gone (deleted before the change feed could say so).
    for (const id of exchangeIds) if (!exchange.changed.has(id)) exchange.deleted.add(id);
  }
  for (const d of due.filter((x) => x.side === 'severa' && !severa.items.has(x.itemId))) {
    const item = await u.ctx.snapshot.fetchItem(d.itemId);
    if (item && (item.ownerGuid === u.userGuid || (await u.ctx.snapshot.members(item)).has(u.userGuid))) severa.items.set(item.guid, item);
  }
  for (const d of due) u.work.removeDeferred.push({ side: d.side, itemId: d.itemId });
}
