import type { ChangeLine, SideCounts, SideName, UserProblem, UserReport } from '../common/sync-report.ts';
import { CalendarError, type CalendarConnector } from '../exchange/calendar-connector.ts';
import type { DeferredItem, PairRecord, PairRole, SyncStore, UserSyncState, UserWork } from '../store/sync-store.ts';
import type { EventFields, SideEvent } from './calendar-event.ts';
import { evaluateDeletionGuard, type DeletionGuardSettings } from './deletion-guard.ts';
import { contentHash } from './event-content-hash.ts';
import { firstOccurrenceFrom, occurrencesInWindow } from './recurrence-rule.ts';
import { occurrenceEvent, occurrenceEventAt, parseOccurrenceItemId, seriesWithOccurrence, serverItemId } from './series-flattening.ts';
import { decodeSeriesBase, encodeSeriesBase, keptSeveraOccurrences, mergeSeries, seriesBaseOf } from './series-merge.ts';
import {
  activityPatches,
  activityToFields,
  occurrenceKey,
  reachesBeyondSeveraHorizon,
  severaHorizonDate,
  severaHorizonProblem,
  severaRecurrenceProblem,
  categoryOf,
  chooseActivityType,
  describeFields,
  fieldsToActivityInput,
  mergeIntoExchangeFields,
} from './severa-activity-mapping.ts';
import { isSeveraNotFound, type SeveraActivity, type SeveraActivityFilter, type SeveraParticipant, type SeveraPort, type SeveraUser } from './severa-port.ts';
import type { SeveraItem, SeveraSnapshot } from './severa-snapshot.ts';
import { classifySide, decide, type Decision, type SideNow } from './sync-decision.ts';
import { isItemLevel, problemFor } from './sync-problems.ts';
import { addDays, localDate, localToMs } from './zoned-time.ts';
import { baseHash, exchangeOnlyPair, identityKey, itemRangeMs, OVERLAP_TOLERANCE_MS, RESTORED_TAG_PREFIX } from './user-sync/item-helpers.ts';

/**
 * One user's part of a cycle: read both sides' changes, pair them with what the store remembers, decide each item with
 * the decision table, guard deletions, carry out the writes, and commit the user's new state in one transaction.
 */

export interface SyncLog {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug?(...args: unknown[]): void;
}

/** What every user's sync shares within one cycle. */
export interface CycleContext {
  severa: SeveraPort;
  calendar: CalendarConnector;
  store: SyncStore;
  snapshot: SeveraSnapshot;
  now: () => Date;
  log: SyncLog;
  newId: () => string;
  dryRun: boolean;
  confirmDeletions: boolean;
  guard: DeletionGuardSettings;
  windowEndMs: number;
  /** changedSince position this cycle consumed up to (committed per user). */
  severaCursor: string;
  /** Severa items changed org-wide since the oldest enrolled user's cursor (incremental users). */
  orgChanged: Map<string, SeveraItem>;
  /** Of those, the ones whose version a stored pair already has: no one changed them since the sync saw them. */
  settledGuids: Set<string>;
  /** Exchange meeting UID -> Severa guid, for pairs made this cycle (before or without a commit). */
  uidIndex: Map<string, string>;
  /** Enrolled users by primary SMTP address and by Severa user guid. */
  enrolledByMailbox: Map<string, { email: string; severaGuid: string }>;
  /** Clock offsets (server minus local, ms) to put both sides' last-update times on one clock. */
  offsets: () => { severa: number | null; exchange: number | null };
}

export interface UserPlan {
  email: string;
  syncStartDate: string;
  mode: 'first' | 'reconcile' | 'incremental';
  severaUser: SeveraUser & { guid: string };
  mailbox: string;
  state: UserSyncState | null;
}

/**
 * `leftBy`: absent for this user only: the activity still exists, but the user no longer owns it or takes part in it
 * (removed as participant). A change of the user's copy then brings the participation back, not a second activity.
 */
type SeveraSideNow = { state: SideNow; item?: SeveraItem; leftBy?: SeveraItem };
/** `reshaped`: the Exchange series now travels in the other shape (whole vs. as occurrences); its old pair goes. */
type ExchangeSideNow = { state: SideNow; event?: SideEvent; reshaped?: boolean };

interface Candidate {
  pair: PairRecord | null;
  severa: SeveraSideNow;
  exchange: ExchangeSideNow;
  /** For pair-less candidates: the user's part in the activity and where the item came from. */
  role: PairRole;
  origin: SideName;
  /** Guid of a Severa activity this Exchange item is linked to by meeting UID (membership to ensure). */
  linkedByUid?: boolean;
  /** The Severa activity was created from this Exchange item by a run that crashed before pairing them. */
  recovered?: boolean;
  /** The pair was brought forward to a write a killed run made (see UpdateIntent): it is stored again whatever happens. */
  pairRepaired?: boolean;
}

interface CreateSeveraIntent {
  exchangeId: string;
  mailbox: string;
  ownerGuid: string;
  hash: string;
  start: string;
  end: string;
  participantGuids: string[];
  /** The activity's name as written (absent in intents of older versions). */
  name?: string;
  /** The meeting's UID, when the item is a meeting (absent in intents of older versions). */
  uid?: string;
}

/** A create in Severa announced by an intent, with the time of that intent and of the same run's next one. */
interface PendingSeveraCreate {
  intent: CreateSeveraIntent;
  at: string;
  next?: string;
}

interface CreateExchangeIntent {
  mailbox: string;
  severaGuid: string;
}

/**
 * Written before the sync copies one side of a pair onto the other (kinds 'update-exchange', 'update-severa'). A run
 * killed after the write but before its commit leaves the pair as it was, so the next run would take the sync's own
 * write for a user's change (and, say, bring back an entry deleted meanwhile on the other side). With this it knows
 * better: when the written side still holds exactly what was written, the pair is first brought to where the killed run
 * would have left it.
 */
interface UpdateIntent {
  exchangeId: string;
  severaGuid: string;
  /** The written side's content hash (as the pair stores it) and series base once the write landed. */
  writtenHash: string;
  writtenBase: string | null;
  /** The other side as it was copied from. */
  source: { version: string; hash: string; modified: string; base: string | null };
}

/** The full item as journaled before a deletion. */
export type JournaledItem =
  | { side: 'exchange'; mailbox: string; event: SideEvent; severaGuid: string | null }
  | { side: 'severa'; activity: SeveraActivity; participants: SeveraParticipant[]; exchangeId: string | null; mailbox: string }
  | { side: 'severa'; participation: { activityGuid: string; userGuid: string; participantGuid: string }; activity: SeveraActivity | null; exchangeId: string | null; mailbox: string };

/** How long after its intent an activity the sync created may carry as its creation time (retries, slow answers). */
const CREATE_RECOVERY_WINDOW_MS = 5 * 60_000;

/**
 * One side as a pair records it. `fields` (what the side holds now) or `base` (already encoded, e.g. from the stored
 * pair) give the series base kept for a per-occurrence merge (series-merge.ts).
 */
interface SideState {
  version: string;
  hash: string;
  modified: string;
  fields?: EventFields;
  base?: string | null;
}
type SeveraState = SideState & { guid: string };
type ExchangeState = SideState & { id: string; uid?: string | null };

function seriesBaseText(side: SideState): string | null {
  if (side.base !== undefined) return side.base;
  return encodeSeriesBase(seriesBaseOf(side.fields));
}

const emptyCounts = () => ({ created: 0, updated: 0, deleted: 0 });

export class UserSync {
  private readonly ctx: CycleContext;
  private readonly plan: UserPlan;
  private readonly report: UserReport;
  private readonly work: Required<Pick<UserWork, 'upsertPairs' | 'deletePairIds' | 'removeIntentIds' | 'addDeferred' | 'removeDeferred'>> & UserWork;
  private readonly windowStartMs: number;
  private readonly markGone = new Set<string>();
  private pairsByExchangeId = new Map<string, PairRecord>();
  private pairsBySeveraGuid = new Map<string, PairRecord>();
  private pairs: PairRecord[] = [];
  private exchangeChanged = new Map<string, SideEvent>();
  private exchangeDeleted = new Set<string>();
  private fullExchange = false;
  private newSyncState: string | null = null;
  private severaView = new Map<string, SeveraItem>();
  /** Paired activities this user no longer owns or takes part in, by guid. */
  private lostMembership = new Map<string, SeveraItem>();
  private fullSevera = false;
  /**
   * Activities created by a crashed run and found again, by the Exchange id they came from; `changedSince`: changed
   * after the sync wrote it (found by its identity, not its content).
   */
  private recoveredSevera = new Map<string, { item: SeveraItem; changedSince: boolean }>();
  /** Other users' pending creates from meeting copies, by UID (read once, when a copy first needs them). */
  private othersPendingCreates: Map<string, PendingSeveraCreate[]> | null = null;
  /** Updates a killed run made (or may have made) before recording them, by the pair's Exchange id. */
  private unrecordedWrites = new Map<string, Array<UpdateIntent & { side: SideName }>>();
  private held = { severa: 0, exchange: 0 };
  /** Exchange series read this cycle whose pattern Severa cannot hold: synced as their occurrences, by series id. */
  private flattenedSeries = new Map<string, SideEvent>();
  /** Series read this cycle that travel whole, though earlier cycles synced them as occurrences. */
  private wholeAgain = new Set<string>();
  /** Pairs of single occurrences of an Exchange series, by series id. */
  private occurrencePairsBySeries = new Map<string, PairRecord[]>();
  /** The latest known state of series whose occurrences this cycle writes (each write gives a new ChangeKey). */
  private seriesNow = new Map<string, SideEvent>();

  constructor(ctx: CycleContext, plan: UserPlan) {
    this.ctx = ctx;
    this.plan = plan;
    this.report = {
      email: plan.email,
      outcome: 'ok',
      toSevera: emptyCounts(),
      toExchange: emptyCounts(),
      conflicts: 0,
      heldDeletions: 0,
      changes: [],
      errors: [],
      notes: [],
      firstSync: plan.mode === 'first',
    };
    this.work = { email: plan.email, upsertPairs: [], deletePairIds: [], removeIntentIds: [], addDeferred: [], removeDeferred: [] };
    this.windowStartMs = localToMs(ctx.snapshot.timeZoneOf(plan.severaUser.guid), plan.syncStartDate);
  }

  private get mailbox(): string {
    return this.plan.mailbox;
  }

  private get userGuid(): string {
    return this.plan.severaUser.guid;
  }

  note(message: string): void {
    if (!this.report.notes.includes(message)) this.report.notes.push(message);
  }

  private problem(p: UserProblem): void {
    this.report.errors.push(p);
  }

  private reportMark(): { changes: number; toSevera: SideCounts; toExchange: SideCounts; conflicts: number } {
    const r = this.report;
    return { changes: r.changes.length, toSevera: { ...r.toSevera }, toExchange: { ...r.toExchange }, conflicts: r.conflicts };
  }

  private rollBackReport(mark: ReturnType<UserSync['reportMark']>): void {
    const r = this.report;
    r.changes.length = mark.changes;
    r.toSevera = mark.toSevera;
    r.toExchange = mark.toExchange;
    r.conflicts = mark.conflicts;
  }

  private change(line: ChangeLine): void {
    this.report.changes.push(line);
    const counts = line.side === 'severa' ? this.report.toSevera : this.report.toExchange;
    if (line.action === 'create') counts.created++;
    else if (line.action === 'update') counts.updated++;
    else counts.deleted++;
  }

  async run(): Promise<UserReport> {
    this.pairs = this.ctx.store.pairsForUser(this.plan.email);
    for (const p of this.pairs) {
      this.pairsByExchangeId.set(p.exchangeId, p);
      this.pairsBySeveraGuid.set(p.severaGuid, p);
      const ref = parseOccurrenceItemId(p.exchangeId);
      if (ref) this.occurrencePairsBySeries.set(ref.seriesId, [...(this.occurrencePairsBySeries.get(ref.seriesId) ?? []), p]);
    }
    await this.readExchange();
    await this.readSevera();
    await this.readDeferred();
    await this.recoverIntents();
    this.flattenExchangeSeries();
    const candidates = await this.buildCandidates();
    const decided = candidates.map((c) => ({ c, d: this.decideCandidate(c) }));
    if (!this.applyGuard(decided)) {
      this.report.outcome = 'failed';
      return this.report;
    }
    await this.prefetch(decided);
    for (const { c, d } of decided) await this.execute(c, d, true);
    if (this.report.heldDeletions > 0 || this.report.errors.length > 0) this.report.outcome = 'partial';
    this.commit();
    return this.report;
  }

  // ---- reading -----------------------------------------------------------------------------------------------------------

  private async readExchange(): Promise<void> {
    const state = this.plan.state?.exchangeSyncState ?? null;
    let changes;
    try {
      changes = await this.ctx.calendar.syncChanges(this.mailbox, state);
      this.fullExchange = state === null;
    } catch (err) {
      if (!(err instanceof CalendarError) || err.code !== 'invalid-sync-state') throw err;
      // The server forgot our position: read everything again; the pairs keep what was already synced.
      this.note('Exchange no longer accepted the sync position for this mailbox: everything was read again and matched with the existing pairs.');
      changes = await this.ctx.calendar.syncChanges(this.mailbox, null);
      this.fullExchange = true;
    }
    for (const e of changes.changed) this.exchangeChanged.set(e.id, e);
    for (const id of changes.deletedIds) {
      this.exchangeDeleted.add(id);
      this.exchangeChanged.delete(id);
    }
    this.newSyncState = changes.syncState;
  }

  private async readSevera(): Promise<void> {
    const { snapshot } = this.ctx;
    if (this.plan.mode !== 'incremental') {
      // First sync or this user's turn in the rolling reconciliation: everything the user owns or takes part in.
      const windowFilter = {
        userGuids: [this.userGuid],
        includeAsMember: true,
        startDateTime: new Date(this.windowStartMs).toISOString(),
        endDateTime: new Date(this.ctx.windowEndMs).toISOString(),
      };
      const seriesRows = await this.ctx.severa.listActivities({ ...windowFilter, recurrenceType: 'Series' });
      const rows = [...(await this.ctx.severa.listActivities(windowFilter)), ...seriesRows];
      const listedSeries = new Set(seriesRows.map((a) => a.guid));
      for (const item of await snapshot.itemsFromRows(rows)) {
        // A series listed only through one of its exceptions (which keeps the participants it had when it was made), not
        // as a series the user owns or takes part in, is not the user's when the series itself no longer names them:
        // they were removed from it.
        if (item.fields.recurrence && !listedSeries.has(item.guid) && item.ownerGuid !== this.userGuid && !(await snapshot.members(item)).has(this.userGuid)) {
          if (this.pairsBySeveraGuid.has(item.guid)) this.lostMembership.set(item.guid, item);
          continue;
        }
        this.severaView.set(item.guid, item);
      }
      this.fullSevera = true;
    }
    // Changes seen org-wide: those of this user's activities, and memberships gained or lost. Only the user's own pairs
    // and the activities nobody has seen in this state can matter (settled ones are the sync's own writes read back).
    const relevant = new Map<string, SeveraItem>();
    for (const p of this.pairs) {
      const item = this.ctx.orgChanged.get(p.severaGuid);
      if (item) relevant.set(item.guid, item);
    }
    for (const item of this.ctx.orgChanged.values()) if (!this.ctx.settledGuids.has(item.guid)) relevant.set(item.guid, item);
    for (const item of relevant.values()) {
      if (this.severaView.has(item.guid)) continue;
      const paired = this.pairsBySeveraGuid.get(item.guid);
      if (paired && paired.severaVersion === item.version && paired.severaHash === item.hash) continue;
      if (!paired && this.ctx.settledGuids.has(item.guid)) continue;
      const isMember = item.ownerGuid === this.userGuid || (await snapshot.members(item)).has(this.userGuid);
      if (isMember) this.severaView.set(item.guid, item);
      else if (paired) this.lostMembership.set(item.guid, item);
    }
  }

  /** Items to look at again: entering the window, or left over by an item-level failure. */
  private async readDeferred(): Promise<void> {
    const due = this.ctx.store.deferredStartingBefore(this.plan.email, new Date(this.ctx.windowEndMs).toISOString());
    if (due.length === 0) return;
    const exchangeIds = [...new Set(due.filter((d) => d.side === 'exchange').map((d) => serverItemId(d.itemId)))].filter((id) => !this.exchangeChanged.has(id) && !this.exchangeDeleted.has(id));
    if (exchangeIds.length) {
      for (const e of await this.ctx.calendar.getEvents(this.mailbox, exchangeIds)) this.exchangeChanged.set(e.id, e);
    }
    for (const d of due.filter((x) => x.side === 'severa' && !this.severaView.has(x.itemId))) {
      const item = await this.ctx.snapshot.fetchItem(d.itemId);
      if (item && (item.ownerGuid === this.userGuid || (await this.ctx.snapshot.members(item)).has(this.userGuid))) this.severaView.set(item.guid, item);
    }
    for (const d of due) this.work.removeDeferred.push({ side: d.side, itemId: d.itemId });
  }

  private retryLater(side: SideName, itemId: string): void {
    this.work.addDeferred.push({ email: this.plan.email, side, itemId: side === 'exchange' ? serverItemId(itemId) : itemId, startsAt: '0000-00-00T00:00:00.000Z' });
  }

  // ---- Exchange series Severa cannot hold ----------------------------------------------------------------------------

  /**
   * An Exchange series whose pattern Severa cannot hold is replaced, in this cycle's view of Exchange, by its occurrences
   * inside the window, each a single event of its own (see series-flattening.ts). The series is looked at again when its
   * next occurrence enters the window, so occurrences keep arriving while nothing changes.
   */
  private flattenExchangeSeries(): void {
    for (const event of [...this.exchangeChanged.values()]) {
      const rule = event.fields.recurrence;
      if (!rule) continue;
      const windowEndDate = localDate(this.ctx.windowEndMs, event.fields.timeZone);
      const reason = severaRecurrenceProblem(rule) ?? severaHorizonProblem(rule, windowEndDate);
      if (!reason) {
        if (this.occurrencePairsBySeries.has(event.id)) this.wholeAgain.add(event.id);
        // Whole for now; once the window reaches past Severa's horizon it must travel as occurrences: look again then.
        if (reachesBeyondSeveraHorizon(rule)) {
          const after = localToMs(event.fields.timeZone, addDays(severaHorizonDate(rule), 1));
          this.work.addDeferred.push({ email: this.plan.email, side: 'exchange', itemId: event.id, startsAt: new Date(after).toISOString() });
        }
        continue;
      }
      this.exchangeChanged.delete(event.id);
      this.flattenedSeries.set(event.id, event);
      this.seriesNow.set(event.id, event);
      this.note(`Exchange series "${describeFields(event.fields).subject}" is synced to Severa as single occurrences inside the window: ${reason}.`);
      for (const occurrence of occurrencesInWindow(event.fields, this.windowStartMs, this.ctx.windowEndMs)) {
        const single = occurrenceEvent(event, occurrence);
        this.exchangeChanged.set(single.id, single);
      }
      const next = firstOccurrenceFrom(event.fields, this.ctx.windowEndMs);
      if (next !== null) this.work.addDeferred.push({ email: this.plan.email, side: 'exchange', itemId: event.id, startsAt: new Date(next).toISOString() });
    }
  }

  /** The occurrence paired under an occurrence id, as this cycle knows it. */
  private exchangeNowForOccurrence(p: PairRecord, seriesId: string, key: string): ExchangeSideNow {
    if (this.exchangeDeleted.has(seriesId)) return { state: 'absent' };
    const series = this.flattenedSeries.get(seriesId);
    if (series) {
      // Inside the window it was expanded already; outside it (moved there, or paired before) it is looked up.
      const event = this.exchangeChanged.get(p.exchangeId) ?? occurrenceEventAt(series, key);
      if (!event) return { state: 'absent' };
      return { state: classifySide({ version: p.exchangeVersion, hash: p.exchangeHash }, { version: event.version, hash: contentHash(event.fields) }), event };
    }
    if (this.wholeAgain.has(seriesId)) return { state: 'absent', reshaped: true };
    if (this.fullExchange) return { state: 'absent' };
    return { state: 'unchanged' };
  }

  /** Reads an item again by the id the engine holds (an occurrence id reads its series). */
  private async freshExchangeEvent(id: string): Promise<SideEvent | undefined> {
    const ref = parseOccurrenceItemId(id);
    const [event] = await this.ctx.calendar.getEvents(this.mailbox, [ref?.seriesId ?? id]);
    if (!ref) return event;
    if (!event) return undefined;
    this.seriesNow.set(event.id, event);
    return occurrenceEventAt(event, ref.key) ?? undefined;
  }

  /** Writes one occurrence of a series synced as occurrences: as an exception of the series (null: deleted). */
  private async writeOccurrence(id: string, fields: EventFields | null): Promise<{ version: string; lastModified: string }> {
    const ref = parseOccurrenceItemId(id)!;
    const series = this.seriesNow.get(ref.seriesId) ?? (await this.ctx.calendar.getEvents(this.mailbox, [ref.seriesId]))[0];
    if (!series?.fields.recurrence) throw new CalendarError('not-found', 'The Exchange series of this occurrence is gone.');
    const occurrence = fields ? (({ recurrence: _r, exceptions: _x, ...rest }) => rest)(fields) : null;
    const updated = seriesWithOccurrence(series.fields, ref.key, occurrence);
    try {
      const written = await this.ctx.calendar.updateEvent(this.mailbox, series.id, series.version, updated);
      this.seriesNow.set(series.id, { ...series, version: written.version, lastModified: written.lastModified, fields: updated });
      return written;
    } catch (err) {
      this.seriesNow.delete(series.id);
      throw err;
    }
  }

  // ---- crash recovery ----------------------------------------------------------------------------------------------------

  private async recoverIntents(): Promise<void> {
    const intents = this.ctx.store.intentsForUser(this.plan.email);
    const severaCreates: PendingSeveraCreate[] = [];
    for (const [index, intent] of intents.entries()) {
      this.work.removeIntentIds.push(intent.id);
      if (intent.kind === 'create-exchange') {
        const p = intent.payload as CreateExchangeIntent;
        // Paired already, with an item still there: nothing was left behind. (A pair whose item was deleted in Exchange
        // is the case of a copy created again: it may be the one this intent announced.)
        const pair = this.pairsBySeveraGuid.get(p.severaGuid);
        if (pair && !this.exchangeDeleted.has(pair.exchangeId) && !pair.exchangeGone) continue;
        // The item carries the Severa guid as its tag: bring it into this cycle as if Exchange had just reported it.
        for (const e of await this.ctx.calendar.findByTag(this.mailbox, p.severaGuid)) {
          if (!this.pairsByExchangeId.has(e.id) && !this.exchangeDeleted.has(e.id)) this.exchangeChanged.set(e.id, e);
        }
      } else if (intent.kind === 'update-exchange' || intent.kind === 'update-severa') {
        const p = intent.payload as UpdateIntent;
        if (!p || typeof p.exchangeId !== 'string' || typeof p.writtenHash !== 'string' || !p.source) continue;
        const side: SideName = intent.kind === 'update-exchange' ? 'exchange' : 'severa';
        this.unrecordedWrites.set(p.exchangeId, [...(this.unrecordedWrites.get(p.exchangeId) ?? []), { ...p, side }]);
      } else if (intent.kind === 'create-severa') {
        const p = intent.payload as CreateSeveraIntent;
        // (Also for an Exchange item that is paired: the run may have re-created the pair's activity deleted in Severa.)
        if (!p || typeof p.exchangeId !== 'string' || typeof p.ownerGuid !== 'string') continue;
        // The run wrote its intents one after the other: the create happened before the next one was written.
        severaCreates.push({ intent: p, at: intent.createdAt, next: intents[index + 1]?.createdAt });
      }
    }
    await this.recoverSeveraCreates(severaCreates);
  }

  /**
   * Finds the activities killed runs created from Exchange items without pairing them. First by content: the activity
   * still holds what was written. Then by identity, for an activity its owner changed before this run: the one created
   * for that owner at the moment of the intent, still holding either the name or the times written (a user's own
   * activity created at that moment, when the sync's create never landed, holds neither). Its content no longer says
   * which side is current: it is decided like any entry found on both sides, so the owner's change is kept when later.
   */
  private async recoverSeveraCreates(creates: readonly PendingSeveraCreate[]): Promise<void> {
    for (const { create, item, changedSince } of await this.findCreatedActivities(creates)) {
      this.recoveredSevera.set(create.intent.exchangeId, { item, changedSince });
      if (!this.ctx.dryRun) await this.ensureParticipants(item.guid, create.intent.participantGuids);
    }
  }

  /** The activities these creates made, each claimed once and only when no pair holds it yet (see recoverSeveraCreates). */
  private async findCreatedActivities(creates: readonly PendingSeveraCreate[]): Promise<Array<{ create: PendingSeveraCreate; item: SeveraItem; changedSince: boolean }>> {
    const out: Array<{ create: PendingSeveraCreate; item: SeveraItem; changedSince: boolean }> = [];
    const claimed = new Set<string>();
    const free = (item: SeveraItem) => !claimed.has(item.guid) && this.ctx.store.pairsBySeveraGuid(item.guid).length === 0;
    const adopt = (create: PendingSeveraCreate, item: SeveraItem, changedSince: boolean) => {
      claimed.add(item.guid);
      out.push({ create, item, changedSince });
    };
    const listBoth = async (filter: SeveraActivityFilter) => this.ctx.snapshot.itemsFromRows([
      ...(await this.ctx.severa.listActivities(filter)),
      ...(await this.ctx.severa.listActivities({ ...filter, recurrenceType: 'Series' })),
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
    const offset = this.ctx.offsets().severa ?? 0;
    const severaMs = (local: string) => Date.parse(local) + offset;
    const byOwner = new Map<string, SeveraItem[]>();
    for (const c of unmatched) {
      const owner = c.intent.ownerGuid;
      if (!byOwner.has(owner)) {
        const since = Math.min(...unmatched.filter((u) => u.intent.ownerGuid === owner).map((u) => severaMs(u.at))) - OVERLAP_TOLERANCE_MS;
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

  /**
   * A meeting copy with no activity known by its UID: another enrolled user's run may have created the activity from
   * their copy of the same meeting and died before pairing it (its intent is still pending, and that user's next sync,
   * which would find it, may come after this one in the cycle). Found here, the activity is the meeting's: linked,
   * never created a second time, and given the participants the interrupted run meant to add.
   */
  private async activityOfOthersInterruptedCreate(uid: string): Promise<SeveraItem | null> {
    if (!this.othersPendingCreates) {
      this.othersPendingCreates = new Map();
      // By user, then in the order written: the next intent of the same user bounds when the create happened.
      const all = this.ctx.store.allIntents();
      for (const [index, intent] of all.entries()) {
        const p = intent.payload as CreateSeveraIntent;
        if (intent.email === this.plan.email.toLowerCase() || intent.kind !== 'create-severa' || !p || typeof p.uid !== 'string' || typeof p.ownerGuid !== 'string') continue;
        const following = all[index + 1];
        const pending = this.othersPendingCreates.get(p.uid) ?? [];
        pending.push({ intent: p, at: intent.createdAt, next: following?.email === intent.email ? following.createdAt : undefined });
        this.othersPendingCreates.set(p.uid, pending);
      }
    }
    const pending = this.othersPendingCreates.get(uid);
    if (!pending?.length) return null;
    this.othersPendingCreates.delete(uid);
    const [found] = await this.findCreatedActivities(pending);
    if (!found) return null;
    if (!this.ctx.dryRun) await this.ensureParticipants(found.item.guid, found.create.intent.participantGuids);
    this.ctx.uidIndex.set(uid, found.item.guid);
    return found.item;
  }

  // ---- candidates ---------------------------------------------------------------------------------------------------------

  private pairExpectedInListing(p: PairRecord): boolean {
    const start = Date.parse(p.start.length === 10 ? `${p.start}T00:00:00Z` : p.start);
    const end = Date.parse(p.end.length === 10 ? `${p.end}T00:00:00Z` : p.end);
    return !(end < this.windowStartMs - 86_400_000) && !(start > this.ctx.windowEndMs);
  }

  private async severaNowForPair(p: PairRecord): Promise<SeveraSideNow> {
    const stored = { version: p.severaVersion, hash: p.severaHash };
    if (p.severaGone || this.ctx.snapshot.deletedGuids.has(p.severaGuid)) return { state: 'absent' };
    const item = this.severaView.get(p.severaGuid);
    if (item) return { state: classifySide(stored, item, false), item };
    const left = this.lostMembership.get(p.severaGuid);
    if (left) return { state: 'absent', leftBy: left };
    if (this.fullSevera && this.pairExpectedInListing(p)) {
      // Not in the user's listing: deleted, no longer theirs, or moved out of the window.
      const found = await this.ctx.snapshot.fetchItem(p.severaGuid);
      if (!found) return { state: 'absent' };
      const member = found.ownerGuid === this.userGuid || (await this.ctx.snapshot.members(found)).has(this.userGuid);
      if (!member) return { state: 'absent', leftBy: found };
      return { state: classifySide(stored, found, false), item: found };
    }
    return { state: 'unchanged' };
  }

  private exchangeNowForPair(p: PairRecord): ExchangeSideNow {
    if (p.exchangeGone) return { state: 'absent' };
    const ref = parseOccurrenceItemId(p.exchangeId);
    if (ref) return this.exchangeNowForOccurrence(p, ref.seriesId, ref.key);
    // Synced whole until now, but its pattern changed into one Severa cannot hold.
    if (this.flattenedSeries.has(p.exchangeId)) return { state: 'absent', reshaped: true };
    const event = this.exchangeChanged.get(p.exchangeId);
    if (event) return { state: classifySide({ version: p.exchangeVersion, hash: p.exchangeHash }, { version: event.version, hash: contentHash(event.fields) }), event };
    if (this.exchangeDeleted.has(p.exchangeId) || this.fullExchange) return { state: 'absent' };
    return { state: 'unchanged' };
  }

  /** Is a new item inside the window? 'before': ends before the sync start date; 'after': starts beyond the window. */
  private windowPosition(fields: EventFields, timeZone: string): 'inside' | 'before' | 'after' {
    const { start, end } = itemRangeMs(fields, timeZone);
    if (Number.isNaN(start)) return 'before';
    if (end <= this.windowStartMs && !(end === start && start === this.windowStartMs)) return 'before';
    if (start >= this.ctx.windowEndMs) return 'after';
    return 'inside';
  }

  /** Unpaired Exchange items of meetings a pair of this user holds, by UID (a meeting copy the mailbox received again). */
  private newCopiesOfPairedMeetings(): Map<string, SideEvent> {
    const pairedUids = new Set(this.pairs.map((p) => p.uid).filter((uid): uid is string => !!uid));
    const out = new Map<string, SideEvent>();
    if (pairedUids.size === 0) return out;
    for (const event of this.exchangeChanged.values()) {
      if (!event.uid || !pairedUids.has(event.uid) || this.pairsByExchangeId.has(event.id) || parseOccurrenceItemId(event.id)) continue;
      if (!out.has(event.uid)) out.set(event.uid, event);
    }
    return out;
  }

  /**
   * Unpaired Exchange items carrying a paired activity's tag, by that guid: copies the sync created for the pair (say,
   * re-created after a deletion in Outlook) in a run that died before it could record them.
   */
  private taggedCopiesOfPairs(): Map<string, SideEvent> {
    const out = new Map<string, SideEvent>();
    for (const event of this.exchangeChanged.values()) {
      const tag = event.syncTag;
      if (!tag || tag.startsWith(RESTORED_TAG_PREFIX) || this.pairsByExchangeId.has(event.id) || parseOccurrenceItemId(event.id)) continue;
      if (this.pairsBySeveraGuid.has(tag) && !out.has(tag)) out.set(tag, event);
    }
    return out;
  }

  /**
   * The pair as a killed run left it after copying one side onto the other (UpdateIntent): when the written side holds
   * exactly what was written, the pair records that write, with the other side as it was copied from. Otherwise (the
   * write never landed, or someone changed the item since) the pair stays as stored.
   */
  private async withUnrecordedWrites(stored: PairRecord): Promise<{ pair: PairRecord; repaired: boolean }> {
    const writes = (this.unrecordedWrites.get(stored.exchangeId) ?? []).filter((w) => w.severaGuid === stored.severaGuid);
    let pair = stored;
    let repaired = false;
    for (const w of writes) {
      if (w.side === 'exchange') {
        const now = this.exchangeNowForPair(pair).event;
        if (!now || contentHash(now.fields) !== w.writtenHash) continue;
        pair = {
          ...pair,
          exchangeVersion: now.version, exchangeHash: w.writtenHash, exchangeModified: now.lastModified, exchangeSeriesBase: w.writtenBase,
          severaVersion: w.source.version, severaHash: w.source.hash, severaModified: w.source.modified, severaSeriesBase: w.source.base,
        };
      } else {
        const now = (await this.severaNowForPair(pair)).item;
        if (!now || now.hash !== w.writtenHash) continue;
        pair = {
          ...pair,
          severaVersion: now.version, severaHash: now.hash, severaModified: now.modified, severaSeriesBase: encodeSeriesBase(seriesBaseOf(now.fields)),
          exchangeVersion: w.source.version, exchangeHash: w.source.hash, exchangeModified: w.source.modified, exchangeSeriesBase: w.source.base,
        };
      }
      repaired = true;
    }
    return { pair, repaired };
  }

  private async buildCandidates(): Promise<Candidate[]> {
    const out: Candidate[] = [];
    const consumedSevera = new Set<string>(this.pairsBySeveraGuid.keys());
    const taggedCopies = this.taggedCopiesOfPairs();
    const meetingCopies = this.newCopiesOfPairedMeetings();
    /** Exchange items that took the place of a pair's vanished item. */
    const adopted = new Set<string>();
    for (const stored of this.pairs) {
      const { pair: p, repaired } = await this.withUnrecordedWrites(stored);
      let exchange = this.exchangeNowForPair(p);
      const copy = taggedCopies.get(p.severaGuid) ?? (p.uid ? meetingCopies.get(p.uid) : undefined);
      if (exchange.state === 'absent' && !exchange.reshaped && copy && !adopted.has(copy.id) && !parseOccurrenceItemId(p.exchangeId)) {
        // The pair's item is gone and another copy of the same entry is there: one of ours for the same activity, or the
        // same meeting (its UID) delivered again, say by the organizer's update after the user removed their copy. It
        // is the pair's item now, decided against what the pair remembers (the same content: recorded, nothing written;
        // the organizer's change: copied to the activity), never a second activity or a removal from the first.
        adopted.add(copy.id);
        exchange = { state: classifySide({ version: p.exchangeVersion, hash: p.exchangeHash }, { version: copy.version, hash: contentHash(copy.fields) }), event: copy };
      }
      const severa = await this.severaNowForPair(p);
      const replacement = severa.state === 'absent' && !severa.leftBy ? await this.replacementActivity(p, exchange, consumedSevera) : null;
      if (replacement === 'planned') continue;
      if (replacement) {
        consumedSevera.add(replacement.guid);
        out.push(replacement.candidate);
        continue;
      }
      out.push({ pair: p, severa, exchange, role: p.role, origin: p.origin, ...(repaired ? { pairRepaired: true } : {}) });
    }
    const unpairedSeveraByIdentity = new Map<string, SeveraItem>();
    for (const item of this.severaView.values()) {
      if (!consumedSevera.has(item.guid)) unpairedSeveraByIdentity.set(identityKey(item.fields), item);
    }
    const tz = this.ctx.snapshot.timeZoneOf(this.userGuid);

    for (const event of this.exchangeChanged.values()) {
      if (this.pairsByExchangeId.has(event.id) || adopted.has(event.id)) continue;
      const position = this.windowPosition(event.fields, tz);
      if (position === 'before') continue;
      if (position === 'after') {
        const { start } = itemRangeMs(event.fields, tz);
        this.work.addDeferred.push({ email: this.plan.email, side: 'exchange', itemId: event.id, startsAt: new Date(start).toISOString() });
        continue;
      }
      const exchange: ExchangeSideNow = { state: 'changed', event };
      // 1. Created by a crashed run of ours in Severa, found again.
      const recovered = this.recoveredSevera.get(event.id);
      if (recovered && !consumedSevera.has(recovered.item.guid)) {
        const item = recovered.item;
        consumedSevera.add(item.guid);
        out.push({ pair: null, severa: { state: 'changed', item }, exchange, role: this.roleIn(item), origin: 'exchange', recovered: !recovered.changedSince });
        continue;
      }
      // 2. An item the sync itself created (it carries the Severa guid): never imported back as new.
      // (Not a series that was synced as occurrences until now: its tag names the activity that gave way to them.)
      if (event.syncTag && !event.syncTag.startsWith(RESTORED_TAG_PREFIX) && !this.occurrencePairsBySeries.has(event.id)) {
        if (consumedSevera.has(event.syncTag)) {
          this.note(`A second Exchange copy of a synced Severa activity was found ("${event.fields.subject}"); it was left alone. Another sync running in parallel creates such copies.`);
          continue;
        }
        consumedSevera.add(event.syncTag);
        const item = this.severaView.get(event.syncTag) ?? (await this.ctx.snapshot.fetchItem(event.syncTag));
        if (item) out.push({ pair: null, severa: { state: 'changed', item }, exchange, role: this.roleIn(item), origin: 'severa' });
        else {
          // Its activity is gone: the copy is an orphan of ours. Pair it as "deleted in Severa" so it is removed (journaled).
          out.push({ pair: this.syntheticPair(event, event.syncTag), severa: { state: 'absent' }, exchange: { state: 'unchanged', event }, role: 'owner', origin: 'severa' });
        }
        continue;
      }
      // 3. A meeting whose copy in another enrolled mailbox is already paired: the same activity.
      const uidGuid = event.uid ? this.guidForUid(event.uid) : undefined;
      if (uidGuid?.startsWith('dry-run:')) continue; // a dry run's planned activity: nothing more to plan for this copy
      if (uidGuid && !consumedSevera.has(uidGuid)) {
        const item = this.severaView.get(uidGuid) ?? (await this.ctx.snapshot.fetchItem(uidGuid));
        if (item) {
          consumedSevera.add(uidGuid);
          out.push({ pair: null, severa: { state: 'changed', item }, exchange, role: this.roleIn(item), origin: 'exchange', linkedByUid: true });
          continue;
        }
      }
      // 3b. A meeting another user's interrupted run created its activity for, found by that run's pending intent.
      const othersCreated = !uidGuid && event.uid ? await this.activityOfOthersInterruptedCreate(event.uid) : null;
      if (othersCreated && !consumedSevera.has(othersCreated.guid)) {
        consumedSevera.add(othersCreated.guid);
        out.push({ pair: null, severa: { state: 'changed', item: othersCreated }, exchange, role: this.roleIn(othersCreated), origin: 'exchange', linkedByUid: true });
        continue;
      }
      // 4. The same entry already on both sides (first sync, or both created by hand): pair, don't duplicate.
      const twin = unpairedSeveraByIdentity.get(identityKey(event.fields));
      if (twin && !consumedSevera.has(twin.guid)) {
        consumedSevera.add(twin.guid);
        out.push({ pair: null, severa: { state: 'changed', item: twin }, exchange, role: this.roleIn(twin), origin: 'exchange' });
        continue;
      }
      out.push({ pair: null, severa: { state: 'absent' }, exchange, role: 'owner', origin: 'exchange' });
    }

    for (const item of this.severaView.values()) {
      if (consumedSevera.has(item.guid)) continue;
      if (this.ctx.snapshot.isFlattenedSeries(item.guid)) continue;
      out.push({ pair: null, severa: { state: 'changed', item }, exchange: { state: 'absent' }, role: this.roleIn(item), origin: 'severa' });
    }
    return out;
  }

  /**
   * A pair whose activity was deleted in Severa while its Exchange item changed is to get its activity back (a change
   * beats a deletion). It may have one already: a killed or failed run of ours re-created it (the intent finds it), or,
   * for a meeting, another attendee's sync re-created it from their copy this cycle or earlier (the UID finds it). Then
   * this copy is linked to that activity, decided like any entry found on both sides, never made into a second one.
   * 'planned': a dry run plans to re-create it for another copy already.
   */
  private async replacementActivity(p: PairRecord, exchange: ExchangeSideNow, consumed: ReadonlySet<string>): Promise<{ guid: string; candidate: Candidate } | 'planned' | null> {
    if (exchange.state === 'absent' || parseOccurrenceItemId(p.exchangeId)) return null;
    const recovered = this.recoveredSevera.get(p.exchangeId);
    const uid = exchange.event?.uid ?? p.uid;
    const uidGuid = uid ? this.guidForUid(uid) : undefined;
    const byUid = uidGuid && uidGuid !== p.severaGuid && !consumed.has(uidGuid) ? uidGuid : undefined;
    if (!(recovered && !consumed.has(recovered.item.guid)) && !byUid) return null;
    // Unchanged since the last cycle (its change was read by a run that then failed to re-create the activity, or only
    // another copy changed): read it, so it is linked rather than deleted as "deleted in Severa".
    const event = exchange.event ?? (await this.ctx.calendar.getEvents(this.mailbox, [p.exchangeId]))[0];
    if (!event) return null;
    if (recovered && !consumed.has(recovered.item.guid)) {
      const item = recovered.item;
      return { guid: item.guid, candidate: { pair: null, severa: { state: 'changed', item }, exchange: { state: 'changed', event }, role: this.roleIn(item), origin: p.origin, recovered: !recovered.changedSince } };
    }
    const guid = byUid;
    if (!guid) return null;
    if (guid.startsWith('dry-run:')) return 'planned';
    if (this.ctx.snapshot.deletedGuids.has(guid)) return null;
    const item = this.severaView.get(guid) ?? (await this.ctx.snapshot.fetchItem(guid));
    if (!item) return null;
    return { guid, candidate: { pair: null, severa: { state: 'changed', item }, exchange: { state: 'changed', event }, role: this.roleIn(item), origin: p.origin, linkedByUid: true } };
  }

  private roleIn(item: SeveraItem): PairRole {
    return item.ownerGuid === this.userGuid ? 'owner' : 'participant';
  }

  private guidForUid(uid: string): string | undefined {
    const inCycle = this.ctx.uidIndex.get(uid);
    if (inCycle) return inCycle;
    return this.ctx.store.pairsByUid(uid).find((p) => p.email !== this.plan.email)?.severaGuid;
  }

  private syntheticPair(event: SideEvent, severaGuid: string): PairRecord {
    return exchangeOnlyPair(event, { email: this.plan.email, mailbox: this.mailbox, severaGuid, role: 'owner', origin: 'severa' });
  }

  // ---- deciding ------------------------------------------------------------------------------------------------------------

  private correctedTimes(severaModified: string | undefined, exchangeModified: string | undefined): { s?: string; e?: string } {
    const { severa, exchange } = this.ctx.offsets();
    const shift = (v: string | undefined, offset: number | null) => {
      if (!v || Number.isNaN(Date.parse(v))) return undefined;
      return new Date(Date.parse(v) - (offset ?? 0)).toISOString();
    };
    return { s: shift(severaModified, severa), e: shift(exchangeModified, exchange) };
  }

  private decideCandidate(c: Candidate): Decision {
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
    const times = this.correctedTimes(sItem?.modified ?? c.pair?.severaModified, eEvent?.lastModified ?? c.pair?.exchangeModified);
    let severaEligible = false;
    if (!c.pair && sItem) {
      severaEligible = sItem.eligible.ok && this.windowPosition(sItem.fields, sItem.timeZone) === 'inside';
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

  /** Returns false when the user's sync must stop (a side was emptied). */
  private applyGuard(decided: Array<{ c: Candidate; d: Decision }>): boolean {
    const pairCount = this.pairs.length;
    const deletions = { severa: 0, exchange: 0 };
    const goneOn = { severa: 0, exchange: 0 };
    for (const { c, d } of decided) {
      // A series changing shape replaces its Severa side with the same occurrences: nothing is lost.
      if (c.exchange.reshaped) continue;
      if (d.action === 'delete') deletions[d.side]++;
      if (c.pair?.id !== undefined) {
        if (c.severa.state === 'absent') goneOn.severa++;
        if (c.exchange.state === 'absent') goneOn.exchange++;
      }
    }
    const verdict = evaluateDeletionGuard({ pairCount, deletions, goneOn, settings: this.ctx.guard, confirmed: this.ctx.confirmDeletions });
    if (verdict.emptied) {
      const emptied = verdict.emptied === 'exchange' ? `the Exchange calendar of ${this.mailbox}` : 'Severa';
      const other = verdict.emptied === 'exchange' ? 'Severa' : 'Exchange';
      this.problem({
        code: 'side-emptied',
        message: `Every one of the ${pairCount} synced entries is gone from ${emptied} since the last sync; this user's sync stopped instead of deleting them all in ${other}.`,
        fix: `If the entries were meant to go, run the sync with --confirm-deletions (or confirm in the settings window); otherwise check the mailbox or Severa account, e.g. after a migration.`,
      });
      if (!this.ctx.dryRun) this.ctx.store.setStatus(this.plan.email, this.report, this.ctx.now().toISOString());
      return false;
    }
    for (const side of ['severa', 'exchange'] as const) {
      if (!verdict.hold[side]) continue;
      const where = side === 'severa' ? 'Severa' : `the Exchange calendar of ${this.mailbox}`;
      this.problem({
        code: 'mass-deletion-held',
        message: `${deletions[side]} of ${pairCount} synced entries would be deleted in ${where}; the deletions are held.`,
        fix: 'If they are meant to go, run the sync with --confirm-deletions (or confirm in the settings window).',
      });
      for (const entry of decided) {
        if (entry.d.action === 'delete' && entry.d.side === side && !entry.c.exchange.reshaped) {
          this.held[side]++;
          this.report.heldDeletions++;
          entry.d = { action: 'none', cell: `held: ${entry.d.cell}` };
          // Remember that the item is gone on the other side, so the deletion can follow once confirmed.
          const p = entry.c.pair;
          if (p) this.stagePair({ ...p, severaGone: p.severaGone || entry.c.severa.state === 'absent', exchangeGone: p.exchangeGone || entry.c.exchange.state === 'absent' });
        }
      }
    }
    return true;
  }

  // ---- writing -------------------------------------------------------------------------------------------------------------

  /** Reads in batches what the writes need and this cycle has not read yet. */
  private async prefetch(decided: Array<{ c: Candidate; d: Decision }>): Promise<void> {
    const needExchange: Candidate[] = [];
    for (const { c, d } of decided) {
      if ((d.action === 'update' || d.action === 'delete') && d.side === 'exchange' && !c.exchange.event && c.pair) needExchange.push(c);
    }
    if (needExchange.length && !this.ctx.dryRun) {
      const ids = [...new Set(needExchange.map((c) => serverItemId(c.pair!.exchangeId)))];
      const events = new Map((await this.ctx.calendar.getEvents(this.mailbox, ids)).map((e) => [e.id, e]));
      for (const c of needExchange) {
        const ref = parseOccurrenceItemId(c.pair!.exchangeId);
        const read = events.get(ref?.seriesId ?? c.pair!.exchangeId);
        if (ref && read) this.seriesNow.set(read.id, read);
        const e = ref ? (read ? occurrenceEventAt(read, ref.key) : null) : read;
        if (e) c.exchange = { state: c.exchange.state, event: e };
      }
    }
  }

  private stagePair(p: PairRecord): void {
    const i = this.work.upsertPairs.findIndex((x) => (p.id !== undefined && x.id === p.id) || x.exchangeId === p.exchangeId || x.severaGuid === p.severaGuid);
    if (i >= 0) this.work.upsertPairs.splice(i, 1);
    this.work.upsertPairs.push(p);
    if (p.uid) this.ctx.uidIndex.set(p.uid, p.severaGuid);
  }

  private dropPair(p: PairRecord | null): void {
    if (p?.id !== undefined) this.work.deletePairIds.push(p.id);
  }

  private buildPair(c: Candidate, s: SeveraState, e: ExchangeState, fields: EventFields): PairRecord {
    return {
      id: c.pair?.id,
      email: this.plan.email,
      mailbox: this.mailbox,
      exchangeId: e.id,
      severaGuid: s.guid,
      role: c.pair?.role ?? c.role,
      origin: c.pair?.origin ?? c.origin,
      uid: e.uid ?? c.pair?.uid ?? null,
      exchangeVersion: e.version,
      exchangeHash: e.hash,
      exchangeModified: e.modified,
      severaVersion: s.version,
      severaHash: s.hash,
      severaModified: s.modified,
      subject: fields.subject,
      start: fields.start,
      end: fields.end,
      exchangeGone: false,
      severaGone: false,
      severaSeriesBase: seriesBaseText(s),
      exchangeSeriesBase: seriesBaseText(e),
    };
  }

  private severaSide(c: Candidate): SeveraState {
    const i = c.severa.item;
    if (i) return { guid: i.guid, version: i.version, hash: i.hash, modified: i.modified, fields: i.fields };
    const p = c.pair!;
    return { guid: p.severaGuid, version: p.severaVersion, hash: p.severaHash, modified: p.severaModified, base: p.severaSeriesBase ?? null };
  }

  private exchangeSide(c: Candidate): ExchangeState {
    const e = c.exchange.event;
    if (e) return { id: e.id, version: e.version, hash: contentHash(e.fields), modified: e.lastModified, uid: e.uid ?? null, fields: e.fields };
    const p = c.pair!;
    return { id: p.exchangeId, version: p.exchangeVersion, hash: p.exchangeHash, modified: p.exchangeModified, uid: p.uid, base: p.exchangeSeriesBase ?? null };
  }

  private currentFields(c: Candidate): EventFields {
    return c.exchange.event?.fields ?? c.severa.item!.fields;
  }

  private async execute(c: Candidate, d: Decision, mayRetry: boolean): Promise<void> {
    const mark = this.reportMark();
    try {
      await this.apply(c, d);
    } catch (err) {
      // The change lines were written before the side effect (so a dry run lists them); a write that failed did not happen.
      this.rollBackReport(mark);
      if (err instanceof CalendarError && err.code === 'conflict' && mayRetry && c.pair) {
        // Someone changed the Exchange item while we wrote it: read it again and decide once more.
        const fresh = await this.freshExchangeEvent(c.pair.exchangeId);
        const exchange: ExchangeSideNow = fresh
          ? { state: classifySide({ version: c.pair.exchangeVersion, hash: c.pair.exchangeHash }, { version: fresh.version, hash: contentHash(fresh.fields) }), event: fresh }
          : { state: 'absent' };
        const again = { ...c, exchange };
        await this.execute(again, this.decideCandidate(again), false);
        return;
      }
      if (!isItemLevel(err)) throw err;
      const subject = c.exchange.event?.fields.subject ?? c.severa.item?.fields.subject ?? c.pair?.subject ?? '';
      const p = problemFor(err, { mailbox: this.mailbox, what: `syncing "${subject}"` });
      this.problem({ ...p, message: `"${subject}": ${p.message}` });
      if (c.exchange.event) this.retryLater('exchange', c.exchange.event.id);
      if (c.severa.item) this.retryLater('severa', c.severa.item.guid);
      this.keepGoneSides(c, d, err);
    }
  }

  /**
   * A failed write leaves its pair as stored, yet the cycle still commits both sides' change positions: a deletion read
   * this cycle is not reported again. Unless the pair remembers which side is gone, the next cycle takes that side for
   * unchanged (an entry deleted in Outlook and changed in Severa is then "updated" in Exchange, and fails, for good; a
   * deletion to carry over is dropped). So the pair keeps the gone marks, as a held deletion does, and the next cycle
   * decides it again with that side absent. A write that found the Exchange item missing marks it gone too (this also
   * frees a pair a store left in that state earlier). Not a side that is only absent for this user (removed as
   * participant, the activity still exists) or an Exchange series that changed shape: neither is gone.
   */
  private keepGoneSides(c: Candidate, d: Decision, err: unknown): void {
    const p = c.pair;
    if (!p || this.ctx.dryRun) return;
    const writesExchange = d.action === 'merge' || ((d.action === 'update' || d.action === 'delete') && d.side === 'exchange');
    const exchangeMissing = writesExchange && err instanceof CalendarError && err.code === 'not-found';
    const exchangeGone = p.exchangeGone || (c.exchange.state === 'absent' && !c.exchange.reshaped) || exchangeMissing;
    const severaGone = p.severaGone || (c.severa.state === 'absent' && !c.severa.leftBy);
    if (exchangeGone === p.exchangeGone && severaGone === p.severaGone) return;
    this.stagePair({ ...p, exchangeGone, severaGone });
  }

  private async apply(c: Candidate, d: Decision): Promise<void> {
    if ((d.action === 'update' || d.action === 'create') && d.conflict) this.report.conflicts++;
    // A meeting's copy linked to its activity by UID: this user takes part in the activity, whichever way it is paired.
    if (c.linkedByUid && !c.pair && c.severa.item && (d.action === 'record' || d.action === 'update')) await this.ensureMember(c.severa.item);
    switch (d.action) {
      case 'none': {
        // Versions may have moved without a content change: remember them, so the next cycle compares with them.
        if (c.pair && (c.severa.item || c.exchange.event) && c.severa.state !== 'absent' && c.exchange.state !== 'absent' && !d.cell.startsWith('held')) {
          const s = this.severaSide(c);
          const e = this.exchangeSide(c);
          if (c.pairRepaired || s.version !== c.pair.severaVersion || e.version !== c.pair.exchangeVersion) {
            this.stagePair({ ...this.buildPair(c, s, e, { ...this.currentFields(c) }), subject: c.pair.subject, start: c.pair.start, end: c.pair.end });
          }
        }
        return;
      }
      case 'record': {
        this.stagePair(this.buildPair(c, this.severaSide(c), this.exchangeSide(c), this.currentFields(c)));
        return;
      }
      case 'forget':
        this.dropPair(c.pair);
        return;
      case 'create':
        if (d.side === 'exchange') await this.createInExchange(c, d.reason);
        else if (c.severa.leftBy && c.pair) await this.rejoinInSevera(c, d.reason);
        else await this.createInSevera(c, d.reason);
        return;
      case 'update':
        if (d.side === 'exchange') await this.updateExchange(c, d.reason);
        else await this.updateSevera(c, d.reason);
        return;
      case 'delete':
        if (d.side === 'exchange') await this.deleteInExchange(c, d.reason);
        else await this.deleteInSevera(c, d.reason);
        return;
      case 'merge':
        await this.mergeBothWays(c, d.reason);
        return;
    }
  }

  /**
   * The user's copy changed after they were removed from the activity in Severa: as a change beats a deletion, the
   * removal is undone (the user takes part again) and the item is then decided as usual against the activity as it is,
   * so a change made meanwhile in Severa is not overwritten unseen. Never a second activity: the first one still exists.
   */
  private async rejoinInSevera(c: Candidate, reason: string): Promise<void> {
    const item = c.severa.leftBy!;
    const p = c.pair!;
    if (!this.ctx.dryRun) await this.ensureMember(item);
    const again: Candidate = {
      ...c,
      pair: { ...p, role: this.roleIn(item) },
      severa: { state: classifySide({ version: p.severaVersion, hash: p.severaHash }, item, false), item },
    };
    const next = this.decideCandidate(again);
    const writesSevera = next.action === 'merge' || ((next.action === 'update' || next.action === 'create') && next.side === 'severa');
    if (!writesSevera) {
      const event = c.exchange.event;
      this.change({ side: 'severa', action: 'update', subject: item.fields.subject, start: item.fields.start, sourceId: event?.id ?? p.exchangeId, reason: `${reason}: takes part again` });
    }
    await this.apply(again, next);
  }

  /**
   * A series both sides changed: each side gets what the other changed, occurrence by occurrence (series-merge.ts).
   * The pair is staged once, after both writes: if the second fails, the stored pair still shows both sides changed, so
   * the next cycle merges again (what was written already then counts as the same on both sides) instead of taking one
   * side's series whole.
   */
  private async mergeBothWays(c: Candidate, reason: string): Promise<void> {
    const item = c.severa.item!;
    const event = c.exchange.event!;
    const p = c.pair!;
    const times = this.correctedTimes(item.modified, event.lastModified);
    const plan = mergeSeries({
      severa: item.fields,
      exchange: event.fields,
      severaBase: decodeSeriesBase(p.severaSeriesBase)!,
      exchangeBase: decodeSeriesBase(p.exchangeSeriesBase)!,
      severaModified: times.s,
      exchangeModified: times.e,
    });
    if (plan.conflicts > 0) this.report.conflicts++;
    const staged = (x: PairRecord) => (p.id !== undefined && x.id === p.id) || x.exchangeId === p.exchangeId || x.severaGuid === p.severaGuid;
    const stagedBefore = this.work.upsertPairs.filter(staged);
    let now = c;
    try {
      if (plan.toExchange) {
        const written = await this.updateExchange(now, reason, plan.exchange);
        if (written) now = { ...now, exchange: { state: 'changed', event: written } };
      }
      if (plan.toSevera) await this.updateSevera(now, reason, plan.severa);
      else if (!this.ctx.dryRun) this.stagePair(this.buildPair(now, this.severaSide(now), this.exchangeSide(now), this.currentFields(now)));
    } catch (err) {
      const others = this.work.upsertPairs.filter((x) => !staged(x));
      this.work.upsertPairs.splice(0, this.work.upsertPairs.length, ...others, ...stagedBefore);
      throw err;
    }
  }

  private async createInExchange(c: Candidate, reason: string): Promise<void> {
    const item = c.severa.item!;
    const fields: EventFields = { ...item.fields, attendees: [], organizer: null };
    this.change({ side: 'exchange', action: 'create', ...describeFields(fields), sourceId: item.guid, reason });
    if (this.ctx.dryRun) return;
    const intentId = this.ctx.newId();
    this.ctx.store.addIntent({ id: intentId, email: this.plan.email, kind: 'create-exchange', payload: { mailbox: this.mailbox, severaGuid: item.guid } satisfies CreateExchangeIntent, createdAt: this.ctx.now().toISOString() });
    const written = await this.ctx.calendar.createEvent(this.mailbox, fields, item.guid);
    this.work.removeIntentIds.push(intentId);
    if (c.pair) this.dropPair(c.pair);
    const pair = this.buildPair({ ...c, pair: null, role: this.roleIn(item), origin: c.pair?.origin ?? 'severa' }, this.severaSide(c), { id: written.id, version: written.version, hash: contentHash(fields), modified: written.lastModified, fields }, fields);
    this.stagePair(pair);
  }

  private ownerFor(event: SideEvent): { ownerGuid: string; participantGuids: string[] } {
    const me = this.userGuid;
    const organizer = event.fields.organizer?.toLowerCase() ?? null;
    const enrolledOrganizer = organizer ? this.ctx.enrolledByMailbox.get(organizer) : undefined;
    const ownerGuid = enrolledOrganizer?.severaGuid ?? me;
    const participants = new Set<string>();
    for (const address of [organizer, ...event.fields.attendees.map((a) => a.toLowerCase())]) {
      if (!address) continue;
      const guid = this.ctx.enrolledByMailbox.get(address)?.severaGuid ?? this.ctx.snapshot.userByEmail(address)?.guid ?? undefined;
      if (guid && guid !== ownerGuid) participants.add(guid);
    }
    if (ownerGuid !== me) participants.add(me);
    return { ownerGuid, participantGuids: [...participants] };
  }

  private async createInSevera(c: Candidate, reason: string): Promise<void> {
    const event = c.exchange.event!;
    const { ownerGuid, participantGuids } = c.pair ? { ownerGuid: c.pair.role === 'owner' ? this.userGuid : this.ownerFor(event).ownerGuid, participantGuids: this.ownerFor(event).participantGuids } : this.ownerFor(event);
    const owner = this.ctx.snapshot.userByGuid(ownerGuid);
    const type = chooseActivityType(event.fields.isPrivate, owner, this.ctx.snapshot.types);
    if (!type) {
      this.problem({ code: 'no-activity-type', message: `"${event.fields.subject}" cannot be created in Severa: there is no active default activity type.`, fix: 'Mark one activity type as the default in Severa.' });
      return;
    }
    const timeZone = this.ctx.snapshot.timeZoneOf(ownerGuid);
    const input = fieldsToActivityInput(event.fields, { ownerGuid, activityTypeGuid: type.guid, timeZone });
    this.change({ side: 'severa', action: 'create', ...describeFields(event.fields), sourceId: event.id, reason });
    if (this.ctx.dryRun) {
      if (event.uid) this.ctx.uidIndex.set(event.uid, `dry-run:${event.id}`);
      return;
    }
    const expected = activityToFields({ ...input, activityType: { guid: type.guid, category: type.category } }, { timeZone, typesByGuid: this.ctx.snapshot.typesByGuid }).fields;
    const intentId = this.ctx.newId();
    this.ctx.store.addIntent({
      id: intentId,
      email: this.plan.email,
      kind: 'create-severa',
      payload: { exchangeId: event.id, mailbox: this.mailbox, ownerGuid, hash: baseHash(expected), start: input.startDateTime, end: input.endDateTime ?? input.startDateTime, participantGuids, name: input.name, ...(event.uid ? { uid: event.uid } : {}) } satisfies CreateSeveraIntent,
      createdAt: this.ctx.now().toISOString(),
    });
    const created = await this.ctx.severa.createActivity(input);
    this.ctx.snapshot.remember(created);
    // The meeting has its activity from now on, whatever fails next in this user's sync: the other enrolled copies of
    // the meeting, synced later in this cycle, link to it instead of creating it again (this user's next cycle finds
    // it by the intent, or by the UID of the pair those copies made).
    if (event.uid && created.guid) this.ctx.uidIndex.set(event.uid, created.guid);
    await this.ensureParticipants(created.guid ?? '', participantGuids);
    let item = this.ctx.snapshot.toItem(created);
    if (!item) throw new Error('Severa answered the new activity without a guid.');
    if (event.fields.recurrence && event.fields.exceptions.length) item = await this.writeSeveraExceptions(item, event.fields);
    this.work.removeIntentIds.push(intentId);
    if (c.pair) this.dropPair(c.pair);
    this.stagePair(this.buildPair({ ...c, pair: null, role: ownerGuid === this.userGuid ? 'owner' : 'participant', origin: c.pair?.origin ?? 'exchange' }, item, this.exchangeSide(c), event.fields));
  }

  private async ensureParticipants(activityGuid: string, userGuids: readonly string[]): Promise<void> {
    if (!activityGuid || userGuids.length === 0) return;
    const present = new Set((await this.ctx.snapshot.participants(activityGuid)).map((p) => p.participantGuid));
    for (const guid of userGuids) {
      if (present.has(guid)) continue;
      const added = await this.ctx.severa.addParticipant(activityGuid, guid);
      this.ctx.snapshot.rememberParticipant(activityGuid, (added && typeof added === 'object' ? added : { participantGuid: guid }) as SeveraParticipant);
      present.add(guid);
    }
  }

  /** A meeting linked by UID: the user must take part in the activity. */
  private async ensureMember(item: SeveraItem): Promise<void> {
    if (this.ctx.dryRun || item.ownerGuid === this.userGuid) return;
    await this.ensureParticipants(item.flattenedFrom ?? item.guid, [this.userGuid]);
  }

  /** Writes Severa's item (or `merged`, the fields a merge decided) to Exchange; returns the item as written. */
  private async updateExchange(c: Candidate, reason: string, merged?: EventFields): Promise<SideEvent | undefined> {
    const item = c.severa.item!;
    const p = c.pair;
    const current = c.exchange.event;
    const fields = merged ?? mergeIntoExchangeFields(current?.fields ?? null, item.fields);
    this.change({ side: 'exchange', action: 'update', ...describeFields(fields), sourceId: item.guid, reason });
    if (this.ctx.dryRun) return undefined;
    const id = current?.id ?? p!.exchangeId;
    const version = current?.version ?? p!.exchangeVersion;
    const uid = current?.uid ?? p?.uid ?? null;
    const occurrence = parseOccurrenceItemId(id) !== null;
    // A merge's half-done writes are left to the next merge, which needs the pair as it was (see mergeBothWays).
    const intentId = merged ? null : this.announceUpdate('exchange', c, {
      writtenHash: occurrence ? contentHash({ ...fields, recurrence: null, exceptions: [] }) : contentHash(fields),
      writtenBase: occurrence ? null : encodeSeriesBase(seriesBaseOf(fields)),
      source: this.severaSide(c),
    });
    if (occurrence) {
      // One occurrence of a series synced as occurrences: an exception of the series; its version is its content.
      const written = await this.writeOccurrence(id, fields);
      if (intentId) this.work.removeIntentIds.push(intentId);
      const hash = contentHash({ ...fields, recurrence: null, exceptions: [] });
      this.stagePair(this.buildPair(c, this.severaSide(c), { id, version: hash, hash, modified: written.lastModified, uid, base: null }, fields));
      return { id, version: hash, lastModified: written.lastModified, fields: { ...fields, recurrence: null, exceptions: [] }, ...(uid ? { uid } : {}) };
    }
    const written = await this.ctx.calendar.updateEvent(this.mailbox, id, version, fields);
    if (intentId) this.work.removeIntentIds.push(intentId);
    const after: SideEvent = { id: written.id || id, version: written.version, lastModified: written.lastModified, fields, ...(uid ? { uid } : {}) };
    this.stagePair(this.buildPair(c, this.severaSide(c), { id: after.id, version: after.version, hash: contentHash(fields), modified: after.lastModified, uid, fields }, fields));
    return after;
  }

  /** Writes the Exchange item (or `merged`, the fields a merge decided) to Severa. */
  private async updateSevera(c: Candidate, reason: string, merged?: EventFields): Promise<void> {
    const source = c.exchange.event!;
    const event: SideEvent = merged ? { ...source, fields: merged } : source;
    const guid = c.severa.item?.guid ?? c.pair!.severaGuid;
    this.change({ side: 'severa', action: 'update', ...describeFields(event.fields), sourceId: event.id, reason });
    if (this.ctx.dryRun) return;
    const current = c.severa.item?.activity ?? (await this.ctx.snapshot.activity(guid));
    if (!current) {
      // Gone meanwhile: decide again with Severa absent (the change wins over the deletion).
      await this.createInSevera({ ...c, severa: { state: 'absent' } }, 'changed in Exchange after deletion in Severa');
      return;
    }
    const category = categoryOf(current, this.ctx.snapshot.typesByGuid);
    let activityTypeGuid: string | undefined;
    if (event.fields.isPrivate !== (category === 'Personal')) {
      const owner = this.ctx.snapshot.userByGuid(current.ownerUser?.guid ?? '');
      const type = chooseActivityType(event.fields.isPrivate, owner, this.ctx.snapshot.types);
      if (type && type.guid !== current.activityType?.guid) activityTypeGuid = type.guid;
    }
    const timeZone = c.severa.item?.timeZone ?? this.ctx.snapshot.timeZoneOf(current.ownerUser?.guid);
    const ops = activityPatches(current, event.fields, { timeZone, activityTypeGuid });
    const intentId = merged ? null : this.announceUpdate('severa', c, {
      writtenHash: contentHash(event.fields),
      writtenBase: encodeSeriesBase(seriesBaseOf(event.fields)),
      source: this.exchangeSide(c),
    });
    let updated: SeveraActivity = current;
    if (ops.length) {
      const result = await this.ctx.severa.patchActivity(guid, ops);
      updated = (Array.isArray(result) ? (result.find((a) => a.guid === guid) ?? result[0]) : result) ?? current;
      this.ctx.snapshot.remember(updated);
    }
    // Attendees added to the meeting in the organizer's calendar take part in the activity too (never removed here:
    // an attendee who declines keeps what they did in Severa).
    if ((current.ownerUser?.guid ?? '') === this.userGuid && event.fields.attendees.length > 0) {
      const wanted = this.ownerFor(event).participantGuids.filter((g) => g !== this.userGuid);
      if (wanted.length) await this.ensureParticipants(guid, wanted);
    }
    let item = await this.ctx.snapshot.itemFor(updated);
    if (!item) throw new Error('Severa answered the updated activity without a guid.');
    if (event.fields.recurrence) item = await this.writeSeveraExceptions(item, event.fields);
    if (intentId) this.work.removeIntentIds.push(intentId);
    const exchange = event.fields.recurrence ? await this.keepSeveraOccurrencesInExchange(c, item, event.fields, reason, merged !== undefined) : this.exchangeSide(c);
    this.stagePair(this.buildPair(c, item, exchange, event.fields));
  }

  /**
   * A series copied onto Severa (`wanted`; `item`: Severa after the write) may still hold there an occurrence changed or
   * deleted in Severa where `wanted` has a regular one: Severa cannot undo that, so it keeps its change, and the change
   * goes to the Exchange series too (see keptSeveraOccurrences in series-merge.ts for why this way round). Returns the
   * Exchange side to record: as written, so the next cycle finds both sides unchanged. Outside a merge the write is
   * announced (UpdateIntent) like any copy onto Exchange; a merge's half-done writes are left to the next merge.
   */
  private async keepSeveraOccurrencesInExchange(c: Candidate, item: SeveraItem, wanted: EventFields, reason: string, inMerge: boolean): Promise<ExchangeState> {
    const current = c.exchange.event!;
    const plan = keptSeveraOccurrences({ wanted, severa: item.fields, exchange: current.fields });
    for (const x of plan.unplaced) {
      this.note(`"${wanted.subject}": an occurrence changed in Severa (${x.originalStart}) is not an occurrence of the Exchange series; Severa keeps its change.`);
    }
    if (!plan.toExchange || parseOccurrenceItemId(current.id) !== null) return this.exchangeSide(c);
    const fields = plan.exchange;
    this.change({ side: 'exchange', action: 'update', ...describeFields(fields), sourceId: item.guid, reason: `${reason}; an occurrence changed in Severa is kept` });
    const source: SeveraState = { guid: item.guid, version: item.version, hash: item.hash, modified: item.modified, fields: item.fields };
    const intentId = inMerge ? null : this.announceUpdate('exchange', c, { writtenHash: contentHash(fields), writtenBase: encodeSeriesBase(seriesBaseOf(fields)), source });
    const written = await this.ctx.calendar.updateEvent(this.mailbox, current.id, current.version, fields);
    if (intentId) this.work.removeIntentIds.push(intentId);
    const uid = current.uid ?? c.pair?.uid ?? null;
    return { id: written.id || current.id, version: written.version, hash: contentHash(fields), modified: written.lastModified, uid, fields };
  }

  /** Writes the intent of copying onto `side` of a stored pair (see UpdateIntent); null when there is no pair. */
  private announceUpdate(side: SideName, c: Candidate, what: { writtenHash: string; writtenBase: string | null; source: SideState }): string | null {
    const p = c.pair;
    if (!p || this.ctx.dryRun) return null;
    const { source } = what;
    const payload: UpdateIntent = {
      exchangeId: p.exchangeId,
      severaGuid: p.severaGuid,
      writtenHash: what.writtenHash,
      writtenBase: what.writtenBase,
      source: { version: source.version, hash: source.hash, modified: source.modified, base: seriesBaseText(source) },
    };
    const id = this.ctx.newId();
    this.ctx.store.addIntent({ id, email: this.plan.email, kind: side === 'exchange' ? 'update-exchange' : 'update-severa', payload, createdAt: this.ctx.now().toISOString() });
    return id;
  }

  /**
   * Brings a Severa series' changed and deleted occurrences in line with Exchange's: an occurrence is changed by patching
   * it (Severa turns it into an exception) and deleted by deleting it. Returns the series as Severa then holds it. An
   * occurrence changed or deleted in Severa that is regular in `fields` stays as it is (Severa cannot make it regular
   * again): keepSeveraOccurrencesInExchange copies it to Exchange.
   */
  private async writeSeveraExceptions(series: SeveraItem, fields: EventFields): Promise<SeveraItem> {
    const { snapshot } = this.ctx;
    const tz = series.timeZone;
    const isAllDay = fields.isAllDay;
    const current = new Map(series.fields.exceptions.map((x) => [occurrenceKey(x.originalStart, isAllDay, tz), x]));
    let wrote = false;
    for (const ex of fields.exceptions) {
      const key = occurrenceKey(ex.originalStart, isAllDay, tz);
      const have = current.get(key);
      if (ex.fields === null && have && have.fields === null) continue;
      if (ex.fields && have?.fields && contentHash({ ...have.fields, recurrence: null, exceptions: [] }) === contentHash({ ...ex.fields, recurrence: null, exceptions: [] })) continue;
      const target = await this.occurrenceActivity(series, key, isAllDay);
      if (!target?.guid) {
        this.note(`An occurrence of "${fields.subject}" (${ex.originalStart}) was not found in Severa; its change was not copied.`);
        continue;
      }
      if (ex.fields === null) {
        await this.ctx.severa.deleteActivity(target.guid);
      } else {
        const ops = activityPatches(target, { ...ex.fields, recurrence: null, exceptions: [] }, { timeZone: tz });
        if (ops.length) await this.ctx.severa.patchActivity(target.guid, ops);
      }
      wrote = true;
    }
    if (!wrote) return series;
    snapshot.invalidate(series.guid, series.ownerGuid);
    return (await snapshot.fetchItem(series.guid)) ?? series;
  }

  /** The Severa activity of one occurrence of a series: its Exception activity, or the occurrence as the API lists it. */
  private async occurrenceActivity(series: SeveraItem, key: string, isAllDay: boolean): Promise<SeveraActivity | null> {
    const rowGuid = series.exceptionRowGuids?.get(key);
    if (rowGuid) return this.ctx.snapshot.activity(rowGuid);
    const originalMs = isAllDay ? localToMs(series.timeZone, key) : Date.parse(key);
    const rows = await this.ctx.severa.listActivities({
      userGuids: [series.ownerGuid],
      recurrenceType: 'Occurrence',
      startDateTime: new Date(originalMs - OVERLAP_TOLERANCE_MS).toISOString(),
      endDateTime: new Date(originalMs + OVERLAP_TOLERANCE_MS).toISOString(),
    });
    return rows.find((r) => r.recurrenceParentActivityGuid === series.guid && Math.abs(Date.parse(r.startDateTime ?? '') - originalMs) < 1000) ?? null;
  }

  private async deleteInExchange(c: Candidate, reason: string): Promise<void> {
    const p = c.pair!;
    const event = c.exchange.event;
    this.change({ side: 'exchange', action: 'delete', subject: event?.fields.subject ?? p.subject, start: event?.fields.start ?? p.start, sourceId: p.severaGuid, reason });
    if (this.ctx.dryRun) return;
    if (!event) {
      // Already gone from Exchange too.
      this.dropPair(p);
      return;
    }
    const journalId = this.ctx.store.journalDeletion({
      email: this.plan.email,
      side: 'exchange',
      kind: 'item',
      itemId: event.id,
      subject: event.fields.subject,
      start: event.fields.start,
      reason,
      item: { side: 'exchange', mailbox: this.mailbox, event, severaGuid: p.severaGuid.startsWith('dry-run:') ? null : p.severaGuid } satisfies JournaledItem,
      deletedAt: this.ctx.now().toISOString(),
    });
    try {
      // One occurrence of a series synced as occurrences is deleted from the series, never the series itself.
      if (parseOccurrenceItemId(event.id)) await this.writeOccurrence(event.id, null);
      else await this.ctx.calendar.deleteEvent(this.mailbox, event.id);
    } catch (err) {
      this.ctx.store.unjournal(journalId);
      throw err;
    }
    this.dropPair(p);
  }

  private async deleteInSevera(c: Candidate, reason: string): Promise<void> {
    const p = c.pair!;
    const activity = c.severa.item?.activity ?? (this.ctx.dryRun ? null : await this.ctx.snapshot.activity(p.severaGuid));
    const subject = activity?.name ?? p.subject;
    const start = c.severa.item?.fields.start ?? p.start;
    const owner = (activity?.ownerUser?.guid ?? (p.role === 'owner' ? this.userGuid : '')) === this.userGuid;
    this.change({ side: 'severa', action: 'delete', subject, start, sourceId: p.exchangeId, reason: owner ? reason : `${reason} (removed as participant)` });
    if (this.ctx.dryRun) return;
    if (!activity) {
      this.dropPair(p);
      return;
    }
    const guid = activity.guid ?? p.severaGuid;
    if (owner) {
      const participants = await this.ctx.snapshot.participants(guid);
      const journalId = this.ctx.store.journalDeletion({
        email: this.plan.email,
        side: 'severa',
        kind: 'item',
        itemId: guid,
        subject,
        start,
        reason,
        item: { side: 'severa', activity, participants, exchangeId: p.exchangeId, mailbox: this.mailbox } satisfies JournaledItem,
        deletedAt: this.ctx.now().toISOString(),
      });
      try {
        await this.ctx.severa.deleteActivity(guid);
      } catch (err) {
        if (!isSeveraNotFound(err)) {
          this.ctx.store.unjournal(journalId);
          throw err;
        }
      }
      this.ctx.snapshot.markDeleted(guid);
      this.markGone.add(guid);
    } else {
      // Only the owner deletes an activity: a participant's deletion ends their participation.
      const source = c.severa.item?.flattenedFrom ?? guid;
      const record = (await this.ctx.snapshot.participants(source)).find((x) => x.participantGuid === this.userGuid);
      if (record?.guid) {
        const journalId = this.ctx.store.journalDeletion({
          email: this.plan.email,
          side: 'severa',
          kind: 'participation',
          itemId: source,
          subject,
          start,
          reason: `${reason} (removed as participant)`,
          item: { side: 'severa', participation: { activityGuid: source, userGuid: this.userGuid, participantGuid: record.guid }, activity, exchangeId: p.exchangeId, mailbox: this.mailbox } satisfies JournaledItem,
          deletedAt: this.ctx.now().toISOString(),
        });
        try {
          await this.ctx.severa.removeParticipant(source, record.guid);
        } catch (err) {
          if (!isSeveraNotFound(err)) {
            this.ctx.store.unjournal(journalId);
            throw err;
          }
        }
        this.ctx.snapshot.forgetParticipants(source);
      }
    }
    this.dropPair(p);
  }

  // ---- commit ------------------------------------------------------------------------------------------------------------

  private commit(): void {
    if (this.ctx.dryRun) return;
    const now = this.ctx.now().toISOString();
    const user: UserWork['user'] = {
      mailbox: this.mailbox,
      severaUserGuid: this.userGuid,
      exchangeSyncState: this.newSyncState,
      severaCursor: this.ctx.severaCursor,
    };
    if (!this.plan.state?.firstSyncedAt) user.firstSyncedAt = now;
    const work: UserWork = { ...this.work, user, status: this.report, statusAt: now };
    // Deferred items re-added this cycle must not be removed by the same work.
    const readded = new Set(this.work.addDeferred.map((d: DeferredItem) => `${d.side}:${d.itemId}`));
    work.removeDeferred = this.work.removeDeferred.filter((d) => !readded.has(`${d.side}:${d.itemId}`));
    work.markSeveraGone = [...this.markGone];
    this.ctx.store.commitUserWork(work);
  }
}
