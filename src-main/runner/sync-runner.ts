import { t } from '../common/i18n/i18n.ts';
import { realTimeOf, type OrgSettings } from '../common/settings-schema.ts';
import type { CycleReport } from '../common/sync-report.ts';
import type { JournalEntryView, RestoreResultView } from '../common/ipc-contract.ts';
import type { AuditReport } from '../sync/agreement-audit.ts';
import { runChecks } from './activation-check-run.ts';
import { failedAudit, summarizeAudit } from './automatic-audit.ts';
import { automaticAuditIntervalPassed, automaticAuditStatus } from './automatic-audit-status.ts';
import { cycleReportWithoutSync, describeError } from './cycle-report-builders.ts';
import { cycleSettings, failedCycleReportFor, runEngineCycle, selectCycleUsers } from './cycle-run.ts';
import type { LiveSync } from './live-sync.ts';
import { consolidateReport } from './report-consolidation.ts';
import { safeCall, type Listener } from './runner-listeners.ts';
import { initialNextRunAtMs, pausedUntilMs, waitingReason } from './runner-schedule.ts';
import { readRunnerState, writeRunnerState } from './runner-state-file.ts';
import type { RunnerStateFile } from './runner-state-file.ts';
import { silentLog } from './runner-types.ts';
import type { CheckResult, ConnectorFactory, CycleProgress, LastAudit, RunnerLog, RunnerStatus } from './runner-types.ts';
import { DEFAULT_BACKOFF_CAP_MS, isDue, nextDelayMs } from './schedule-policy.ts';
import { everyMinute, type CheckOptions, type CycleFunction, type RunNowOptions, type SyncRunnerOptions } from './sync-runner-options.ts';

/**
 * The one way cycles run, for the CLI and the tray app: never two at once, on a schedule that backs off after failures,
 * pausable, with status, report and progress events. Every cycle resolves to a CycleReport; failures are reported,
 * never thrown.
 */
export class SyncRunner {
  readonly #options: SyncRunnerOptions;
  readonly #log: RunnerLog;
  readonly #now: () => number;
  #persisted: RunnerStateFile;
  #running: Promise<CycleReport> | null = null;
  /** A restore under way: cycles wait for it, so the two never write the store at once. */
  #restoring: Promise<unknown> | null = null;
  #busy = false;
  #progress: CycleProgress | undefined;
  #ticker: { stop(): void } | null = null;
  #nextRunAtMs: number | null = null;
  #triggerTimer: ReturnType<typeof setTimeout> | null = null;
  #pauseTimer: ReturnType<typeof setTimeout> | null = null;
  /** Real time (settings `realTime`), while the schedule runs; see live-sync.ts. */
  #live: LiveSync | null = null;
  #runningLive = false;
  /** A full cycle asked for while a real-time one ran: it starts when that one ends. */
  #fullAfterLive: Promise<CycleReport> | null = null;
  /** The automatic agreement audit under way: no cycle starts until it ends. */
  #auditing: Promise<void> | null = null;
  /** The cycle that just ended asks for the automatic audit (started once the cycle has let go of the store). */
  #auditAfterCycle = false;
  readonly #auditListeners = new Set<Listener<LastAudit>>();
  readonly #statusListeners = new Set<Listener<RunnerStatus>>();
  readonly #reportListeners = new Set<Listener<CycleReport>>();
  readonly #progressListeners = new Set<Listener<CycleProgress>>();

  constructor(options: SyncRunnerOptions) {
    this.#options = options;
    this.#log = options.log ?? silentLog;
    this.#now = options.now ?? Date.now;
    this.#persisted = readRunnerState(options.dataDir);
    this.#armPauseTimer();
  }

  get dataDir(): string {
    return this.#options.dataDir;
  }

  /** Starts a cycle, or returns the running cycle's promise when one is under way. */
  runNow(opts: RunNowOptions = {}): Promise<CycleReport> {
    if (this.#running) {
      // A full cycle asked for (Sync now, the schedule) while a small real-time one runs follows it.
      if (!opts.live && this.#runningLive && this.#ticker) {
        this.#fullAfterLive ??= this.#running.then(() => {
          this.#fullAfterLive = null;
          return this.runNow(opts);
        });
        return this.#fullAfterLive;
      }
      return this.#running;
    }
    // Set before the cycle starts so the 'syncing' status it emits is already true.
    this.#busy = true;
    this.#runningLive = opts.live === true;
    // A restore or an automatic audit under way finishes first: a cycle never overlaps either.
    const before = [this.#restoring, this.#auditing].filter((p) => p !== null);
    const run = (before.length > 0 ? Promise.all(before).then(() => this.#runCycle(opts)) : this.#runCycle(opts)).finally(() => {
      this.#busy = false;
      this.#running = null;
      this.#progress = undefined;
      if (this.#auditAfterCycle) {
        this.#auditAfterCycle = false;
        this.#startAudit();
      }
      this.#emitStatus();
    });
    this.#running = run;
    return run;
  }

  status(): RunnerStatus {
    const pausedUntil = this.#pausedUntilMs();
    let state: RunnerStatus['state'] = 'idle';
    if (this.#busy) state = 'syncing';
    else if (pausedUntil !== null) state = 'paused';
    else if (this.#persisted.lastReport && this.#persisted.lastReport.outcome !== 'ok') state = 'error';
    const status: RunnerStatus = { state, consecutiveFailures: this.#persisted.consecutiveFailures, scheduled: this.#ticker !== null };
    if (this.#persisted.lastReport) status.lastReport = this.#persisted.lastReport;
    if (this.#persisted.lastRunAt) status.lastRunAt = this.#persisted.lastRunAt;
    if (this.#ticker && this.#nextRunAtMs !== null) {
      // While paused the next cycle waits for the pause to end as well.
      const next = pausedUntil === null ? this.#nextRunAtMs : Math.max(this.#nextRunAtMs, pausedUntil);
      if (Number.isFinite(next)) status.nextRunAt = new Date(next).toISOString();
    }
    if (pausedUntil !== null) status.pausedUntil = Number.isFinite(pausedUntil) ? new Date(pausedUntil).toISOString() : null;
    if (this.#progress) status.progress = { ...this.#progress };
    const waiting = waitingReason(this.#options);
    if (waiting) status.waitingFor = waiting;
    if (this.#live) status.live = this.#live.status();
    const audit = automaticAuditStatus(this.#options, this.#persisted, this.#auditing !== null);
    if (audit) status.audit = audit;
    return status;
  }

  /** Automatic cycles on the settings' interval; the first is due at once unless the last one ran recently. */
  startSchedule(): void {
    if (this.#ticker) return;
    const scheduler = this.#options.scheduler ?? everyMinute;
    this.#nextRunAtMs = initialNextRunAtMs(this.#options, this.#persisted, this.#now(), this.#backoffCap());
    this.#ticker = scheduler(() => this.tick());
    this.#applyLive();
    this.#log.info({ nextRunAt: new Date(this.#nextRunAtMs).toISOString() }, 'schedule started');
    this.#emitStatus();
    this.tick();
  }

  stopSchedule(): void {
    this.#ticker?.stop();
    this.#ticker = null;
    this.#nextRunAtMs = null;
    this.#clearTrigger();
    this.#applyLive();
    this.#emitStatus();
  }

  /** Pauses automatic cycles until `untilMs`, or until resume() when null. "Sync now" still works while paused. */
  pause(untilMs: number | null): void {
    if (untilMs !== null && (!Number.isFinite(untilMs) || untilMs <= this.#now())) {
      throw new Error('Pause needs a time in the future, or null to pause until resumed.');
    }
    this.#persisted.pausedUntil = untilMs === null ? null : new Date(untilMs).toISOString();
    this.#clearTrigger();
    this.#armPauseTimer();
    this.#save();
    this.#applyLive();
    this.#log.info({ pausedUntil: this.#persisted.pausedUntil }, 'auto-sync paused');
    this.#emitStatus();
  }

  resume(): void {
    if (this.#persisted.pausedUntil === undefined) return;
    delete this.#persisted.pausedUntil;
    if (this.#pauseTimer) clearTimeout(this.#pauseTimer);
    this.#pauseTimer = null;
    this.#save();
    this.#log.info({}, 'auto-sync resumed');
    this.#emitStatus();
    this.tick();
  }

  /**
   * Asks for a cycle shortly, e.g. after the machine woke or the network came back: events within the delay make one
   * cycle, and it does not wait for the back-off (the failures may have been the network that is now back).
   * Ignored while paused or when automatic sync is off.
   */
  triggerSoon(reason: string): void {
    if (!this.#ticker || this.#pausedUntilMs() !== null || this.#triggerTimer) return;
    const delay = this.#options.triggerDelayMs ?? 30_000;
    this.#log.info({ reason, delayMs: delay }, 'cycle requested');
    this.#triggerTimer = setTimeout(() => {
      this.#triggerTimer = null;
      if (this.#ticker && this.#pausedUntilMs() === null) void this.runNow();
    }, delay);
    this.#triggerTimer.unref?.();
  }

  /** One schedule tick: starts a cycle when one is due. Public so a host can tick on its own events. */
  tick(): void {
    this.#applyLive();
    if (!this.#ticker || this.#nextRunAtMs === null) return;
    // A cycle that falls due during the automatic audit starts at the first tick after it.
    if (this.#auditing) return;
    // A full cycle that falls due while a real-time one runs follows it.
    if (this.#busy && !(this.#runningLive && isDue({ nowMs: this.#now(), nextRunAtMs: this.#nextRunAtMs, pausedUntilMs: this.#pausedUntilMs() }))) return;
    const nowMs = this.#now();
    const pausedUntilMs = this.#pausedUntilMs();
    if (pausedUntilMs !== null && nowMs >= pausedUntilMs) {
      this.resume();
      return;
    }
    // Before setup is done there is nothing to sync: no cycle, no report, no failure to back off from.
    if (waitingReason(this.#options)) return;
    if (isDue({ nowMs, nextRunAtMs: this.#nextRunAtMs, pausedUntilMs })) void this.runNow();
  }

  /** The activation diagnostics (see activation-checks.ts), each result also reported as it comes when asked. */
  check(opts: CheckOptions = {}): Promise<CheckResult[]> {
    return runChecks({ options: this.#options, connectors: () => this.#connectors(), log: this.#log, now: this.#now }, opts);
  }

  /** The deletion journal: every deletion the sync made, newest first (restored ones included, marked). */
  async listDeletions(email?: string): Promise<JournalEntryView[]> {
    const { listJournalEntries } = await import('./journal-actions.ts');
    return listJournalEntries(this.#options.dataDir, email);
  }

  /** Brings deleted items back, one result per id; never while a cycle writes (it waits for the cycle to end). */
  restoreDeletions(ids: string[]): Promise<RestoreResultView[]> {
    const work = (async () => {
      if (this.#running) await this.#running;
      const { restoreJournalEntries } = await import('./journal-actions.ts');
      return restoreJournalEntries({ dataDir: this.#options.dataDir, settings: this.#options.loadSettings(), secrets: this.#options.secrets, connectors: await this.#connectors(), now: this.#now }, ids);
    })();
    const settled = work.catch(() => undefined);
    this.#restoring = settled;
    void settled.finally(() => {
      if (this.#restoring === settled) this.#restoring = null;
    });
    return work;
  }

  onStatus(cb: Listener<RunnerStatus>): () => void {
    this.#statusListeners.add(cb);
    return () => this.#statusListeners.delete(cb);
  }

  onReport(cb: Listener<CycleReport>): () => void {
    this.#reportListeners.add(cb);
    return () => this.#reportListeners.delete(cb);
  }

  onProgress(cb: Listener<CycleProgress>): () => void {
    this.#progressListeners.add(cb);
    return () => this.#progressListeners.delete(cb);
  }

  /** Each automatic agreement audit's outcome, once it is saved in the status. */
  onAudit(cb: Listener<LastAudit>): () => void {
    this.#auditListeners.add(cb);
    return () => this.#auditListeners.delete(cb);
  }

  /** Resolves when no cycle and no automatic audit runs (e.g. before a process exits). */
  async settled(): Promise<void> {
    for (let work = this.#running ?? this.#auditing; work; work = this.#running ?? this.#auditing) {
      await work.then(
        () => undefined,
        () => undefined,
      );
    }
  }

  // ---------- internals ----------

  async #runCycle(opts: RunNowOptions): Promise<CycleReport> {
    const dryRun = opts.dryRun ?? false;
    const startedAt = new Date(this.#now()).toISOString();
    this.#progress = { usersDone: 0, usersTotal: 0, phase: 'starting' };
    this.#emitStatus();
    let report: CycleReport;
    let intervalMinutes = 15;
    let nothingToSync = false;
    try {
      const settings = cycleSettings(this.#options);
      intervalMinutes = settings.intervalMinutes;
      const { users, extra } = selectCycleUsers(settings, opts.users);
      this.#progress = { usersDone: 0, usersTotal: users.length, phase: 'starting' };
      if (users.length === 0) {
        // Nobody enrolled (or only paused users): nothing to sync, which is a state to set up, not a problem.
        nothingToSync = extra.length === 0;
        report = cycleReportWithoutSync({ startedAt, finishedAt: new Date(this.#now()).toISOString(), dryRun, users: extra, errors: [] });
      } else {
        const onProgress = (progress: CycleProgress) => {
          this.#progress = { ...progress };
          this.#live?.onProgress(progress);
          for (const cb of this.#progressListeners) safeCall(cb, progress, this.#log);
        };
        report = await runEngineCycle({ options: this.#options, defaultCycle: () => this.#defaultCycle(), now: this.#now, onProgress, settings, users, extra, opts });
      }
    } catch (error) {
      report = failedCycleReportFor(error, { startedAt, dryRun, now: this.#now, log: this.#log });
    }
    report = consolidateReport(report);
    if (opts.live) report.trigger = 'live';
    // A cycle with nobody to sync is not a sync: the status keeps saying what it said (e.g. "not synced yet"); a
    // real-time cycle of a few users is not the organization's cycle.
    if (!dryRun && !nothingToSync && !opts.live) {
      this.#persisted.lastReport = report;
      this.#persisted.lastRunAt = report.finishedAt;
      this.#persisted.consecutiveFailures = report.outcome === 'failed' ? this.#persisted.consecutiveFailures + 1 : 0;
      if (this.#ticker) this.#nextRunAtMs = this.#now() + nextDelayMs(this.#persisted.consecutiveFailures, intervalMinutes * 60_000, this.#backoffCap());
      this.#auditAfterCycle = this.#auditDue(report, opts);
      this.#save();
    }
    this.#log.info({ outcome: report.outcome, dryRun, users: report.users.length, requests: report.requests, ...(opts.live ? { live: true } : {}) }, 'cycle finished');
    if (!dryRun) this.#live?.afterCycle(report);
    for (const cb of this.#reportListeners) safeCall(cb, report, this.#log);
    return report;
  }

  /** The standing agreement audit: every pair of the enrolled users (or those named) compared on both servers; reads only. */
  async audit(users?: readonly string[]): Promise<AuditReport> {
    if (this.#options.audit) return this.#options.audit(users);
    const { runAgreementAudit } = await import('./agreement-audit-run.ts');
    return runAgreementAudit({ settings: this.#options.loadSettings(), secrets: this.#options.secrets, connectors: await this.#connectors(), dataDir: this.#options.dataDir, now: this.#now }, users);
  }

  /**
   * Whether the cycle that just ended is followed by the automatic audit: a full scheduled cycle that did not fail, the
   * schedule unpaused, the audit on, and its interval passed. The first such cycle only starts the interval's count, so a
   * new installation (or a restart, whose count is saved) does not audit at once.
   */
  #auditDue(report: CycleReport, opts: RunNowOptions): boolean {
    if (opts.dryRun || opts.live || opts.users || !this.#ticker || this.#pausedUntilMs() !== null || report.outcome === 'failed') return false;
    return automaticAuditIntervalPassed(this.#options, this.#persisted, this.#now);
  }

  /** Runs the automatic audit of the enrolled users that are not paused; its outcome is saved, logged and reported. */
  #startAudit(): void {
    const work = (async () => {
      const startedAtMs = this.#now();
      this.#log.info({}, 'automatic audit started');
      let last: LastAudit;
      try {
        const users = this.#options.loadSettings().enrollments.filter((e) => !e.paused).map((e) => e.email);
        last = summarizeAudit(await this.audit(users), new Date(this.#now()).toISOString());
      } catch (error) {
        last = failedAudit(new Date(this.#now()).toISOString(), describeError(error));
      }
      this.#persisted.lastAudit = last;
      this.#persisted.auditCountsFrom = new Date(startedAtMs).toISOString();
      this.#save();
      const fields = { pairs: last.pairs, agreeing: last.agreeing, explained: last.explained, unexplained: last.unexplained, failedUsers: last.failedUsers.length, ...(last.error ? { err: last.error } : {}) };
      if (last.error || last.unexplained > 0) this.#log.warn(fields, 'automatic audit finished: the sides differ or could not be compared');
      else this.#log.info(fields, 'automatic audit finished');
      for (const cb of this.#auditListeners) safeCall(cb, last, this.#log);
    })();
    this.#auditing = work.finally(() => {
      this.#auditing = null;
      this.#emitStatus();
    });
  }

  async #connectors(): Promise<ConnectorFactory> {
    if (this.#options.connectors) return this.#options.connectors;
    const { defaultConnectorFactory } = await import('./connector-factory.ts');
    return defaultConnectorFactory;
  }

  async #defaultCycle(): Promise<CycleFunction> {
    const { createEngineCycle } = await import('./engine-cycle.ts');
    return createEngineCycle({ dataDir: this.#options.dataDir, secrets: this.#options.secrets, connectors: await this.#connectors(), log: this.#log, now: this.#now });
  }

  #backoffCap(): number {
    return this.#options.backoffCapMs ?? DEFAULT_BACKOFF_CAP_MS;
  }

  #pausedUntilMs(): number | null {
    return pausedUntilMs(this.#persisted);
  }

  /** A timed pause ends on its own even when no tick comes (schedule stopped), so the status stops saying paused. */
  #armPauseTimer(): void {
    if (this.#pauseTimer) clearTimeout(this.#pauseTimer);
    this.#pauseTimer = null;
    const until = this.#pausedUntilMs();
    // setTimeout cannot wait longer than 2^31-1 ms; a schedule tick ends such a pause instead.
    if (until === null || !Number.isFinite(until) || until - this.#now() > 2 ** 31 - 1) return;
    this.#pauseTimer = setTimeout(() => {
      this.#pauseTimer = null;
      if (this.#pausedUntilMs() === until) this.resume();
    }, Math.max(0, until - this.#now()));
    this.#pauseTimer.unref?.();
  }

  /** Starts, follows or stops real time: on while the schedule runs unpaused and the settings say so. */
  #applyLive(): void {
    let settings: OrgSettings | null = null;
    try {
      settings = this.#options.loadSettings();
    } catch {
      settings = null;
    }
    const enabled = settings !== null && realTimeOf(settings).enabled;
    const why = !enabled ? undefined : this.#ticker === null ? t('engine.runner.automaticNotRunning') : this.#pausedUntilMs() !== null ? t('engine.runner.automaticPaused') : null;
    if (!this.#live && why !== null) return;
    void this.#liveSync().then((live) => live.apply(why === null ? settings : null, why ?? undefined));
  }

  async #liveSync(): Promise<LiveSync> {
    if (!this.#live) {
      const { LiveSync } = await import('./live-sync.ts');
      this.#live ??= new LiveSync({
        dataDir: this.#options.dataDir,
        secrets: this.#options.secrets,
        connectors: () => this.#connectors(),
        log: this.#log,
        now: this.#now,
        host: {
          runNow: (o) => this.runNow(o),
          isBusy: () => this.#busy || this.#fullAfterLive !== null || this.#auditing !== null,
          whenIdle: () => Promise.all([this.#fullAfterLive ?? this.#running, this.#auditing]).then(
            () => undefined,
            () => undefined,
          ),
        },
        onChange: () => this.#emitStatus(),
      });
    }
    return this.#live;
  }

  #clearTrigger(): void {
    if (this.#triggerTimer) clearTimeout(this.#triggerTimer);
    this.#triggerTimer = null;
  }

  #save(): void {
    try {
      writeRunnerState(this.#options.dataDir, this.#persisted);
    } catch (error) {
      this.#log.warn({ err: describeError(error) }, 'could not save the runner status');
    }
  }

  #emitStatus(): void {
    if (this.#statusListeners.size === 0) return;
    const status = this.status();
    for (const cb of this.#statusListeners) safeCall(cb, status, this.#log);
  }
}
