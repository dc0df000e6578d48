import type { ChangeLine, SideCounts, SideName, UserProblem, UserReport } from '../../common/sync-report.ts';
import type { CalendarConnector } from '../../exchange/calendar-connector.ts';
import type { PairRecord, PairRole, SyncStore, UserSyncState, UserWork } from '../../store/sync-store.ts';
import type { EventFields, SideEvent } from '../calendar-event.ts';
import type { DeletionGuardSettings } from '../deletion-guard.ts';
import { serverItemId } from '../series-flattening.ts';
import type { SeveraPort, SeveraUser } from '../severa-port.ts';
import type { SeveraItem, SeveraSnapshot } from '../severa-snapshot.ts';
import { localToMs } from '../zoned-time.ts';
import { itemRangeMs } from './item-helpers.ts';

/**
 * What one user's sync works with: the cycle's shared context, the user's plan, and the working state every phase adds
 * to (the report, and the store work committed at the end), with the small operations on them the phases share.
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
  /**
   * Of those, the ones whose version a stored pair already has: no one changed them since the sync saw them. Not for
   * their owner when she has no pair of one (her syncs failed since others' made or paired it): new to her.
   */
  settledGuids: Set<string>;
  /**
   * Of those, activities the sync pairs for someone whose content changed since (an edit): a user without a pair of one
   * is not asked about as a new participant (Severa lists no participants with activities: that would be a request per
   * edit); a participant added in the same interval is found by that user's reconciliation turn.
   */
  editedGuids: Set<string>;
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

/** The store work one user's sync stages, committed in one transaction at the end (commit-user.ts). */
export type StagedWork = Required<Pick<UserWork, 'upsertPairs' | 'deletePairIds' | 'removeIntentIds' | 'addDeferred' | 'removeDeferred'>> & UserWork;

/** One user's working state, handed to every phase. */
export interface UserState {
  readonly ctx: CycleContext;
  readonly plan: UserPlan;
  readonly mailbox: string;
  /** The user's Severa user guid. */
  readonly userGuid: string;
  /** Start of the sync window: the user's sync start date in their time zone. */
  readonly windowStartMs: number;
  /** What the user's status shows: changes, problems, notes, counts. */
  readonly report: UserReport;
  /** Pairs, intents and deferred items to commit. */
  readonly work: StagedWork;
  /** Severa activities this user's sync deleted: every other user's pair of them is marked gone on commit. */
  readonly markGone: Set<string>;
  /** The latest known state of series whose occurrences this cycle writes (each write gives a new ChangeKey). */
  readonly seriesNow: Map<string, SideEvent>;
  /** Where the mailbox lives (the connector's location id) and since when, once read; null where the connector has no say. */
  readonly where: { location: string | null; since: string | null };
  /**
   * Other users' interrupted creates of a meeting's activity, by its UID (Recovery.activityOfOthersInterruptedCreate),
   * once the intents are read: a write that finds the pair's activity gone asks it before creating one anew.
   */
  othersInterruptedCreate?: (uid: string) => Promise<SeveraItem | null>;
  /** Activities a write of this run linked an existing pair to (its own activity was gone): not new to the user. */
  readonly linkedMeanwhile: Set<string>;
}

const emptyCounts = () => ({ created: 0, updated: 0, deleted: 0 });

export function newUserState(ctx: CycleContext, plan: UserPlan): UserState {
  return {
    ctx,
    plan,
    mailbox: plan.mailbox,
    userGuid: plan.severaUser.guid,
    windowStartMs: localToMs(ctx.snapshot.timeZoneOf(plan.severaUser.guid), plan.syncStartDate),
    report: {
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
    },
    work: { email: plan.email, upsertPairs: [], deletePairIds: [], removeIntentIds: [], addDeferred: [], removeDeferred: [] },
    markGone: new Set(),
    seriesNow: new Map(),
    where: { location: null, since: null },
    linkedMeanwhile: new Set(),
  };
}

// ---- the report ------------------------------------------------------------------------------------------------------------

export function note(u: UserState, message: string): void {
  if (!u.report.notes.includes(message)) u.report.notes.push(message);
}

export function problem(u: UserState, p: UserProblem): void {
  u.report.errors.push(p);
}

/**
 * Change lines a user's report lists; beyond them only the counts grow (`changesOmitted`). A first sync of thousands of
 * entries would otherwise keep thousands of lines in every report the runner and the window hold.
 */
export const CHANGE_LINES_KEPT = 50;

/** A line of its own: its strings copied, so it never keeps alive the server answer they were cut from. */
const ownLine = (line: ChangeLine): ChangeLine => JSON.parse(JSON.stringify(line)) as ChangeLine;

export function change(u: UserState, line: ChangeLine): void {
  if (u.report.changes.length < CHANGE_LINES_KEPT) u.report.changes.push(ownLine(line));
  else u.report.changesOmitted = (u.report.changesOmitted ?? 0) + 1;
  const counts = line.side === 'severa' ? u.report.toSevera : u.report.toExchange;
  if (line.action === 'create') counts.created++;
  else if (line.action === 'update') counts.updated++;
  else counts.deleted++;
}

export interface ReportMark {
  changes: number;
  omitted: number;
  toSevera: SideCounts;
  toExchange: SideCounts;
  conflicts: number;
}

export function reportMark(u: UserState): ReportMark {
  const r = u.report;
  return { changes: r.changes.length, omitted: r.changesOmitted ?? 0, toSevera: { ...r.toSevera }, toExchange: { ...r.toExchange }, conflicts: r.conflicts };
}

export function rollBackReport(u: UserState, mark: ReportMark): void {
  const r = u.report;
  r.changes.length = mark.changes;
  if (mark.omitted > 0 || r.changesOmitted !== undefined) r.changesOmitted = mark.omitted || undefined;
  r.toSevera = mark.toSevera;
  r.toExchange = mark.toExchange;
  r.conflicts = mark.conflicts;
}

// ---- the staged store work -------------------------------------------------------------------------------------------------

export function stagePair(u: UserState, p: PairRecord): void {
  const i = u.work.upsertPairs.findIndex((x) => (p.id !== undefined && x.id === p.id) || x.exchangeId === p.exchangeId || x.severaGuid === p.severaGuid);
  if (i >= 0) {
    const [displaced] = u.work.upsertPairs.splice(i, 1);
    // A stored pair staged under new ids (found again after a move) and superseded: the store's upsert clears only rows
    // holding the new pair's ids, so its row, still under the old ones, goes here.
    if (displaced.id !== undefined && displaced.id !== p.id) u.work.deletePairIds.push(displaced.id);
  }
  u.work.upsertPairs.push(p);
  if (p.uid) {
    u.ctx.uidIndex.set(p.uid, p.severaGuid);
    let mine = indexedUids.get(u);
    if (!mine) indexedUids.set(u, (mine = new Set()));
    mine.add(p.uid);
  }
}

/** The UIDs each user's staged pairs put in the cycle's index. */
const indexedUids = new WeakMap<UserState, Set<string>>();

/**
 * After the user's commit its pairs are in the store, where other users find them by UID: the cycle's index lets them
 * go (it would otherwise hold every pair a first sync of a thousand users makes). An activity created this cycle stays
 * indexed only while its pair is not committed.
 */
export function releaseUidIndex(u: UserState): void {
  for (const uid of indexedUids.get(u) ?? []) u.ctx.uidIndex.delete(uid);
  indexedUids.delete(u);
}

export function dropPair(u: UserState, p: PairRecord | null): void {
  if (p?.id !== undefined) u.work.deletePairIds.push(p.id);
}

/** Looks at an item again next cycle (after an item-level failure). */
export function retryLater(u: UserState, side: SideName, itemId: string): void {
  u.work.addDeferred.push({ email: u.plan.email, side, itemId: side === 'exchange' ? serverItemId(itemId) : itemId, startsAt: '0000-00-00T00:00:00.000Z' });
}

// ---- the user and the window -----------------------------------------------------------------------------------------------

export function roleIn(u: UserState, item: SeveraItem): PairRole {
  return item.ownerGuid === u.userGuid ? 'owner' : 'participant';
}

/** Is a new item inside the window? 'before': ends before the sync start date; 'after': starts beyond the window. */
export function windowPosition(u: UserState, fields: EventFields, timeZone: string): 'inside' | 'before' | 'after' {
  const { start, end } = itemRangeMs(fields, timeZone);
  if (Number.isNaN(start)) return 'before';
  if (end <= u.windowStartMs && !(end === start && start === u.windowStartMs)) return 'before';
  if (start >= u.ctx.windowEndMs) return 'after';
  return 'inside';
}
