import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { CycleReport, SideName, UserProblem, UserReport } from '../common/sync-report.ts';
import { CalendarError, type CalendarConnector } from '../exchange/calendar-connector.ts';
import type { PairRecord, SyncStore } from '../store/sync-store.ts';
import { DEFAULT_DELETION_GUARD, type DeletionGuardSettings } from './deletion-guard.ts';
import { addEnrolledElsewhere, type EnrolledByMailbox } from './enrolled-mailboxes.ts';
import type { SeveraActivity, SeveraPort } from './severa-port.ts';
import { SeveraSnapshot, type SeveraItem } from './severa-snapshot.ts';
import { problemFor, severaProblem } from './sync-problems.ts';
import { UserSync, type CycleContext, type SyncLog, type UserPlan } from './user-sync.ts';
import { runUsers, type ScheduledUser } from './user-schedule.ts';
import { RESTORED_TAG_PREFIX } from './user-sync/item-helpers.ts';
import type { JournaledItem } from './user-sync/write-ahead.ts';
import { isDate } from './zoned-time.ts';
import { t } from '../common/i18n/i18n.ts';

/**
 * One sync cycle for the whole organization (`syncOrganization`). The deletion journal it writes is listed and undone
 * in deletion-restore.ts.
 *
 * Cost model (what the benchmark checks): a cycle with no change makes one `syncChanges` per enrolled user and a constant
 * number of Severa requests for the whole organization (one org-wide `changedSince` listing of single activities and one
 * of series, plus the reconciliation slice's two listings); K changes cost O(K) more requests.
 */

export type { SyncLog } from './user-sync.ts';
export type { JournaledItem } from './user-sync/write-ahead.ts';
export { RESTORED_TAG_PREFIX };

export interface SyncDeps {
  severa: SeveraPort;
  calendar: CalendarConnector;
  store: SyncStore;
  now: () => Date;
  log?: SyncLog;
  /** Requests made so far on each side (e.g. the clients' own counters); without it, port calls are counted. */
  requestCounts?: () => { severa: number; exchange: number };
  /** Ids for intents; tests make them deterministic. */
  newId?: () => string;
}

export interface SyncUser {
  email: string;
  /** YYYY-MM-DD: nothing that ends before this date is touched. */
  syncStartDate: string;
}

export interface SyncProgress {
  email: string;
  index: number;
  /** Users finished so far in this cycle (users run side by side: not index + 1). */
  done: number;
  total: number;
  phase: 'start' | 'done';
}

export interface SyncOptions {
  users: SyncUser[];
  /** Activity type guids that go Severa -> Exchange (project tasks never, whatever this says). */
  activityTypesToExchange: readonly string[];
  windowDaysAhead: number;
  dryRun?: boolean;
  confirmDeletions?: boolean;
  deletionGuard?: DeletionGuardSettings;
  /** Users re-listed in full each cycle to find deletions made in Severa (default 4). */
  reconcileSliceSize?: number;
  /** false: no user is re-listed in full this cycle and the rotation stays where it is (real-time cycles of a few users). */
  reconcile?: boolean;
  /**
   * A real-time cycle of a few users: Severa is listed for these users' activities only (owned or taking part), so its
   * cost does not grow with the organization's changes, and their Severa positions are not moved forward (the next
   * scheduled cycle lists the whole organization from where the last one stopped, lost memberships included).
   */
  live?: boolean;
  /** The other enrolled users' emails, when `users` is a few of them (enrolled-mailboxes.ts). */
  enrolledElsewhere?: readonly string[];
  /** Zone for users whose Severa profile has none (default Europe/Helsinki). */
  defaultTimeZone?: string;
  /**
   * Users synced side by side (default 8, at most 27: Exchange's EWSMaxConcurrency per account; each user has one
   * request at a time in flight): they read both sides at once, and write one after the other in list order unless
   * `writers` says more (users sharing a meeting or an activity always write one after the other; user-schedule.ts).
   */
  concurrency?: number;
  /** Users writing at the same time (default 1). */
  writers?: number;
  onProgress?: (p: SyncProgress) => void;
}

/** changedSince is re-read this far back each cycle: a write landing during the previous listing is never missed. */
const CURSOR_OVERLAP_MS = 2 * 60_000;
const CLOCK_SKEW_LIMIT_MS = 60_000;
const RECONCILE_KEY = 'reconcile-next';
const DEFAULT_CONCURRENCY = 8;
const MAX_CONCURRENCY = 27;
const DEFAULT_SLICE = 4;

const silentLog: SyncLog = { info() {}, warn() {}, error() {} };

/** Wraps a port so every method call is counted as one request. */
function counted<T extends object>(target: T, counter: { n: number }): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function' || prop === 'clockOffsetMs') return value;
      return (...args: unknown[]) => {
        counter.n++;
        return (value as (...a: unknown[]) => unknown).apply(obj, args);
      };
    },
  });
}

function emptyUserReport(email: string, outcome: UserReport['outcome'], errors: UserProblem[], firstSync = false): UserReport {
  return {
    email,
    outcome,
    toSevera: { created: 0, updated: 0, deleted: 0 },
    toExchange: { created: 0, updated: 0, deleted: 0 },
    conflicts: 0,
    heldDeletions: 0,
    changes: [],
    errors,
    notes: [],
    firstSync,
  };
}

function clockProblem(side: SideName, offset: number | null): UserProblem | null {
  if (offset === null || Math.abs(offset) <= CLOCK_SKEW_LIMIT_MS) return null;
  const seconds = Math.round(Math.abs(offset) / 1000);
  const key = side === 'severa' ? (offset > 0 ? 'engine.clock.severaAhead' : 'engine.clock.severaBehind') : offset > 0 ? 'engine.clock.exchangeAhead' : 'engine.clock.exchangeBehind';
  return {
    code: 'clock-skew',
    message: t(key, { seconds }),
    fix: side === 'exchange' ? t('engine.clock.exchangeFix') : t('engine.clock.severaFix'),
  };
}

function validateOptions(options: SyncOptions): string[] {
  const problems: string[] = [];
  if (!options || typeof options !== 'object') return [t('engine.options.none')];
  if (!Array.isArray(options.users)) problems.push(t('engine.options.noUsers'));
  if (!Number.isInteger(options.windowDaysAhead) || options.windowDaysAhead < 1 || options.windowDaysAhead > 730) {
    problems.push(t('engine.options.windowDays', { days: String(options.windowDaysAhead) }));
  }
  if (!Array.isArray(options.activityTypesToExchange)) problems.push(t('engine.options.activityTypes'));
  const g = options.deletionGuard;
  if (g && (!(g.maxItems >= 0) || !(g.maxPercent >= 0 && g.maxPercent <= 100))) problems.push(t('engine.options.guard'));
  if (options.reconcileSliceSize !== undefined && !(Number.isInteger(options.reconcileSliceSize) && options.reconcileSliceSize >= 1)) {
    problems.push(t('engine.options.sliceSize'));
  }
  return problems;
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export async function syncOrganization(deps: SyncDeps, options: SyncOptions): Promise<CycleReport> {
  const startedAt = deps.now();
  const log = deps.log ?? silentLog;
  const dryRun = options?.dryRun === true;
  const counters = { severa: { n: 0 }, exchange: { n: 0 } };
  const severa = counted(deps.severa, counters.severa);
  const calendar = counted(deps.calendar, counters.exchange);
  const baseCounts = deps.requestCounts?.() ?? null;
  const report: CycleReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: startedAt.toISOString(),
    dryRun,
    outcome: 'ok',
    users: [],
    errors: [],
    requests: { severa: 0, exchange: 0 },
    clockOffsetMs: { severa: null, exchange: null },
    severaDeletionLatencyCycles: 1,
  };
  const finish = (): CycleReport => {
    report.finishedAt = deps.now().toISOString();
    const counts = deps.requestCounts?.();
    report.requests = counts && baseCounts
      ? { severa: counts.severa - baseCounts.severa, exchange: counts.exchange - baseCounts.exchange }
      : { severa: counters.severa.n, exchange: counters.exchange.n };
    report.clockOffsetMs = { severa: deps.severa.clockOffsetMs(), exchange: deps.calendar.clockOffsetMs() };
    for (const side of ['severa', 'exchange'] as const) {
      const p = clockProblem(side, report.clockOffsetMs[side]);
      if (p) report.errors.push(p);
    }
    // Exchange answered, but its clock offset stayed unknown (no Date header, no write to measure by): say so.
    const unknownClock: unknown = report.clockOffsetMs.exchange === null ? deps.calendar.clockOffsetUnknownReason?.() : null;
    if (typeof unknownClock === 'string' && unknownClock) report.errors.push({ code: 'clock-unknown', message: unknownClock, fix: t('engine.clock.unknownFix') });
    if (report.outcome !== 'failed') {
      const outcomes = report.users.map((u) => u.outcome);
      if (outcomes.length > 0 && outcomes.every((o) => o === 'failed')) report.outcome = 'failed';
      else if (outcomes.some((o) => o !== 'ok' && o !== 'skipped')) report.outcome = 'partial';
    }
    if (!dryRun) {
      try {
        deps.store.recordCycle(report);
        // A full scan of the pairs: in the scheduled cycles only, not in every live cycle of a few seconds.
        if (!options.live) deps.store.pruneMeetingActivities();
      } catch (err) {
        log.error({ err }, 'recording the cycle failed');
      }
    }
    return report;
  };

  const optionProblems = validateOptions(options);
  if (optionProblems.length) {
    report.outcome = 'failed';
    report.errors.push(...optionProblems.map((message) => ({ code: 'bad-options', message, fix: t('engine.options.fix') })));
    return finish();
  }

  // Enrolments: one per email; bad ones are reported, the rest go on.
  const seen = new Set<string>();
  const enrolments: Array<{ email: string; syncStartDate: string }> = [];
  for (const u of options.users) {
    const email = typeof u?.email === 'string' ? u.email.trim().toLowerCase() : '';
    if (!EMAIL_RE.test(email)) {
      report.users.push(emptyUserReport(email || String(u?.email), 'failed', [{ code: 'bad-enrollment', message: t('engine.users.notEmail', { email: String(u?.email) }), fix: t('engine.users.notEmailFix') }]));
      continue;
    }
    if (!isDate(u.syncStartDate)) {
      report.users.push(emptyUserReport(email, 'failed', [{ code: 'bad-enrollment', message: t('engine.users.badStartDate', { date: String(u.syncStartDate), email }), fix: t('engine.users.badStartDateFix') }]));
      continue;
    }
    if (seen.has(email)) continue;
    seen.add(email);
    enrolments.push({ email, syncStartDate: u.syncStartDate });
  }

  const orgNotes: string[] = [];
  // A note goes to the report of the user whose work raised it (users run side by side: told by async context).
  const userNotes = new AsyncLocalStorage<string[]>();
  const snapshot = new SeveraSnapshot(severa, deps.store, {
    defaultTimeZone: options.defaultTimeZone ?? 'Europe/Helsinki',
    selectedTypeGuids: new Set(options.activityTypesToExchange),
    dryRun,
    now: deps.now,
    notes: (m) => {
      if (orgNotes.includes(m)) return;
      orgNotes.push(m);
      userNotes.getStore()?.push(m);
    },
    // Asked of the connector itself (no request; not counted). Anything but a sentence (e.g. a wrapped, async answer) is "can hold".
    seriesProblem: (rule) => {
      const answer: unknown = deps.calendar.recurrenceProblem?.(rule) ?? null;
      if (answer instanceof Promise) answer.catch(() => undefined);
      return typeof answer === 'string' ? answer : null;
    },
  });

  try {
    await snapshot.loadDirectory(enrolments.map((e) => e.email));
  } catch (err) {
    report.outcome = 'failed';
    report.errors.push(severaProblem(err, t('engine.steps.readingDirectory')));
    for (const e of enrolments) report.users.push(emptyUserReport(e.email, 'failed', [{ code: 'severa-unavailable', message: t('engine.users.severaUnread'), fix: report.errors[0].fix }]));
    return finish();
  }

  // Who is who: the Severa user by email, the mailbox the email resolves to.
  const plans: UserPlan[] = [];
  const enrolledByMailbox: EnrolledByMailbox = new Map();
  for (const e of enrolments) {
    const state = deps.store.getUser(e.email);
    const severaUser = snapshot.userByEmail(e.email);
    if (!severaUser?.guid) {
      report.users.push(emptyUserReport(e.email, 'failed', [{ code: 'no-severa-user', message: t('engine.users.noSeveraUser', { email: e.email }), fix: t('engine.users.noSeveraUserFix') }]));
      continue;
    }
    let mailbox = state?.mailbox ?? null;
    if (!mailbox) {
      try {
        mailbox = await calendar.resolveMailbox(e.email);
      } catch (err) {
        report.users.push(emptyUserReport(e.email, 'failed', [problemFor(err, { mailbox: e.email, what: t('engine.steps.findingMailbox') })]));
        continue;
      }
    }
    if (!mailbox) {
      report.users.push(emptyUserReport(e.email, 'failed', [{ code: 'no-mailbox', message: t('engine.users.noMailbox', { email: e.email }), fix: t('engine.users.noMailboxFix') }]));
      continue;
    }
    mailbox = mailbox.toLowerCase();
    const first = !state?.severaCursor;
    plans.push({ email: e.email, syncStartDate: e.syncStartDate, mode: first ? 'first' : 'incremental', severaUser: severaUser as typeof severaUser & { guid: string }, mailbox, state });
    enrolledByMailbox.set(mailbox, { email: e.email, severaGuid: severaUser.guid });
    enrolledByMailbox.set(e.email, { email: e.email, severaGuid: severaUser.guid });
  }
  addEnrolledElsewhere(enrolledByMailbox, (options.enrolledElsewhere ?? []).filter((e) => !seen.has(e.trim().toLowerCase())), snapshot, deps.store);

  // Rolling reconciliation: a slice of the users already synced is re-listed in full (Severa deletions are invisible to changedSince).
  const incremental = plans.filter((p) => p.mode === 'incremental').sort((a, b) => a.email.localeCompare(b.email));
  const slice = Math.min(options.reconcileSliceSize ?? DEFAULT_SLICE, Math.max(1, incremental.length));
  report.severaDeletionLatencyCycles = Math.max(1, Math.ceil(incremental.length / slice) || 1);
  if (incremental.length && options.reconcile !== false) {
    const start = (deps.store.getOrgValue<number>(RECONCILE_KEY) ?? 0) % incremental.length;
    for (let i = 0; i < slice; i++) incremental[(start + i) % incremental.length].mode = 'reconcile';
    if (!dryRun) deps.store.setOrgValue(RECONCILE_KEY, (start + slice) % incremental.length);
  }

  // One org-wide listing of what changed since the oldest position any enrolled user has consumed.
  const cursorMs = deps.now().getTime() + (deps.severa.clockOffsetMs() ?? 0) - CURSOR_OVERLAP_MS;
  const severaCursor = new Date(cursorMs).toISOString();
  const orgChanged = new Map<string, SeveraItem>();
  const settledGuids = new Set<string>();
  const editedGuids = new Set<string>();
  const since = plans.filter((p) => p.mode !== 'first').map((p) => p.state!.severaCursor!).sort()[0];
  if (since) {
    try {
      // Only what can matter: from the earliest sync start date (a day early, for zones) to the end of the window.
      const earliest = plans.map((p) => p.syncStartDate).sort()[0];
      const range = {
        changedSince: since,
        startDateTime: new Date(Date.parse(`${earliest}T00:00:00Z`) - 86_400_000).toISOString(),
        endDateTime: new Date(deps.now().getTime() + options.windowDaysAhead * 86_400_000).toISOString(),
        ...(options.live ? { userGuids: plans.map((p) => p.severaUser.guid), includeAsMember: true } : {}),
      };
      // Page by page: after a first sync the listing holds every activity it wrote, and only what someone still has to
      // look at is kept (an activity every pair of which already holds this version is nobody's business, unless its
      // owner, synced in this cycle, has no pair of it: see ownerHasNoPair).
      // (A wrapper around the port may hand the pages back through a promise: awaited, an iterable stays itself.)
      const pagesOf = async (filter: typeof range & { recurrenceType?: 'Series' }): Promise<AsyncIterable<SeveraActivity[]>> =>
        deps.severa.iterateActivityPages ? await severa.iterateActivityPages!(filter) : (async function* () {
          yield await severa.listActivities(filter);
        })();
      // The activity's owner is synced in this cycle and has no pair of it: made or paired by other users' syncs while
      // the owner's own failed or were killed (an attendee's copy of the owner's meeting makes it hers). The pairs of
      // others may be the sync's own copies, with UIDs of their own, so only this listing can show it to her; left out,
      // her meeting, read again as new, became a second activity (the long soak's K19, seed 1).
      const ownerEmailByGuid = new Map(plans.map((p) => [p.severaUser.guid, p.email.toLowerCase()]));
      const ownerHasNoPair = (item: SeveraItem, pairs: PairRecord[]) => {
        const owner = ownerEmailByGuid.get(item.ownerGuid);
        return owner !== undefined && !pairs.some((p) => p.email.toLowerCase() === owner);
      };
      // Series masters first: the occurrences the other listing holds then find their series among what was read.
      for (const filter of [{ ...range, recurrenceType: 'Series' as const }, range]) {
        for await (const rows of await pagesOf(filter)) {
          const items = await snapshot.itemsFromRows(rows);
          const pairsOf = deps.store.pairsBySeveraGuids(items.map((i) => i.guid));
          for (const item of items) {
            const pairs = pairsOf.get(item.guid) ?? [];
            if (!item.eligible.ok && pairs.length === 0) continue;
            const same = (p: PairRecord) => p.severaVersion === item.version && p.severaHash === item.hash;
            if (pairs.length > 0 && pairs.every(same) && !ownerHasNoPair(item, pairs)) continue;
            orgChanged.set(item.guid, item);
            // Unchanged since the sync last saw it (typically our own write read back): no membership lookups needed.
            if (pairs.some(same)) settledGuids.add(item.guid);
            else if (pairs.length > 0 && pairs.every((p) => p.severaHash !== item.hash)) editedGuids.add(item.guid);
          }
        }
      }
    } catch (err) {
      report.outcome = 'failed';
      report.errors.push(severaProblem(err, t('engine.steps.readingChanges')));
      for (const p of plans) report.users.push(emptyUserReport(p.email, 'failed', [{ code: 'severa-unavailable', message: t('engine.users.changesUnread'), fix: report.errors[0].fix }]));
      return finish();
    }
  }

  const ctx: CycleContext = {
    severa,
    calendar,
    store: deps.store,
    snapshot,
    now: deps.now,
    log,
    newId: deps.newId ?? randomUUID,
    dryRun,
    confirmDeletions: options.confirmDeletions === true,
    guard: options.deletionGuard ?? DEFAULT_DELETION_GUARD,
    windowEndMs: deps.now().getTime() + options.windowDaysAhead * 86_400_000,
    // A live cycle read only its users' changes: their positions stay (at the oldest of them) for the scheduled cycle.
    severaCursor: options.live && since ? since : severaCursor,
    orgChanged,
    settledGuids,
    editedGuids,
    uidIndex: new Map(),
    enrolledByMailbox,
    offsets: () => ({ severa: deps.severa.clockOffsetMs(), exchange: deps.calendar.clockOffsetMs() }),
  };

  // A connector that can batch (Graph) reads every mailbox's changes at once; a quiet cycle then costs a request per 20.
  if (deps.calendar.prefetchChanges) {
    await calendar.prefetchChanges!(plans.map((p) => ({ mailbox: p.mailbox, syncState: p.state?.exchangeSyncState ?? null }))).catch((err: unknown) => {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'reading changes ahead failed; each mailbox is read on its own');
    });
  }

  const reports: UserReport[] = new Array(plans.length);
  let done = 0;
  const userRun = (plan: UserPlan, index: number): ScheduledUser => {
    const notes: string[] = [];
    let sync: UserSync | null = null;
    let failure: unknown = null;
    return {
      read: async () => {
        options.onProgress?.({ email: plan.email, index, done, total: plans.length, phase: 'start' });
        try {
          sync = new UserSync(ctx, plan);
          await userNotes.run(notes, () => sync!.readPhase());
          return sync.keys();
        } catch (err) {
          failure = err;
          return new Set<string>();
        }
      },
      finish: async () => {
        let userReport: UserReport;
        try {
          if (failure !== null || !sync) throw failure;
          const running = sync;
          userReport = await userNotes.run(notes, () => running.finish());
        } catch (err) {
          const problem = problemFor(err, { mailbox: plan.mailbox, what: `syncing ${plan.email}` });
          log.warn({ email: plan.email, code: problem.code, err: err instanceof Error ? err.message : String(err) }, 'user sync failed');
          userReport = { ...emptyUserReport(plan.email, 'failed', [problem], plan.mode === 'first'), ...(sync ? (sync as UserSync).writtenSoFar() : {}) };
          if (err instanceof CalendarError && err.code === 'no-mailbox' && !dryRun) {
            // The address may have moved to another mailbox: resolve it again next cycle.
            deps.store.commitUserWork({ email: plan.email, user: { mailbox: null } });
          }
          if (!dryRun) deps.store.setStatus(plan.email, userReport, deps.now().toISOString());
        }
        for (const n of notes) if (!userReport.notes.includes(n)) userReport.notes.push(n);
        // The user's read sides and decisions are done with: a cycle over a thousand users holds only the reports of
        // those that finished, not every calendar it read (heap snapshot of the benchmark: 2.5 KB per entry before).
        sync = null;
        failure = null;
        log.info({ email: plan.email, outcome: userReport.outcome, toSevera: userReport.toSevera, toExchange: userReport.toExchange, conflicts: userReport.conflicts, held: userReport.heldDeletions }, 'user synced');
        reports[index] = userReport;
        done++;
        options.onProgress?.({ email: plan.email, index, done, total: plans.length, phase: 'done' });
      },
    };
  };
  const concurrency = Math.min(MAX_CONCURRENCY, Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY) || 1));
  await runUsers(plans.map(userRun), concurrency, options.writers ?? 1);
  report.users.push(...reports);
  return finish();
}
