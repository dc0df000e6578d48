import { t } from '../common/i18n/i18n.ts';
import { realTimeOf, type OrgSettings } from '../common/settings-schema.ts';
import type { SecretSource } from '../common/secrets-contract.ts';
import type { CycleReport } from '../common/sync-report.ts';
import type { ChangeWatch, WatchMode } from '../exchange/calendar-connector.ts';
import { LiveStoreView } from './live-store-view.ts';
import type { ConnectorFactory, CountedCalendar, CycleProgress, RunnerLog } from './runner-types.ts';
import { SeveraChangePoll } from './severa-change-poll.ts';

/**
 * Near real time, both ways (settings `realTime`): owns the Exchange change watch (EWS streaming notifications or
 * polling, Graph delta polling) and the Severa change poll, debounces per user, and asks the runner for small
 * "live" cycles of just the users whose calendars changed. The scheduled full cycle stays the safety net (Severa
 * deletions, anything a watch missed); the deletion guard, intents and journal apply to live cycles as to any.
 *
 * - A notification or poll hit marks the user; the user is synced `debounceMs` after the last mark (a burst of calendar
 *   events is one sync), at most `maxWaitMs` after the first. A Severa listing is a batch already: its users wait only
 *   `severaDebounceMs`.
 * - One cycle at a time (the runner's single flight): users that become due while a cycle runs wait and go together
 *   into the next small cycle, so no user is ever synced twice at once and no live cycle writes the store beside a
 *   full one. A user marked while its own live sync runs is synced once more afterwards (the change may have come
 *   after that sync's read).
 * - A full cycle that reaches a marked user after the mark (it read everything up to then) clears the mark.
 * - A user whose live sync failed is tried again after 5 s, 30 s and 2 min, then left to the schedule.
 */

export interface LiveModeView {
  mode: WatchMode;
  since: string;
  reason?: string;
}

/** Real time as the status shows it. */
export interface LiveStatus {
  /** On in the settings and running. */
  on: boolean;
  /** Why not, when not (off in the settings, starting, cannot start). */
  reason?: string;
  /** Severa's change poll. */
  severa: LiveModeView;
  /** Per enrolled user (email): how their calendar is watched ('live': changes arrive within seconds). */
  users: Record<string, LiveModeView>;
  /** Users waiting for their live sync. */
  pending: number;
  /** Live cycles run since real time started, and when the last one ended. */
  cycles: number;
  lastCycleAt?: string;
}

/** What real time needs of the runner. */
export interface LiveSyncHost {
  /** Starts a live cycle of these users; when a cycle already runs, its promise (whatever it syncs). */
  runNow(opts: { users: string[]; live: true }): Promise<CycleReport>;
  isBusy(): boolean;
  /** Resolves when no cycle runs. */
  whenIdle(): Promise<void>;
}

export interface LiveSyncOptions {
  dataDir: string;
  secrets: SecretSource;
  connectors: () => Promise<ConnectorFactory>;
  host: LiveSyncHost;
  log: RunnerLog;
  /** The status changed (modes, pending users, on/off). */
  onChange?: () => void;
  now?: () => number;
  /** Quiet time after a user's last Exchange notification or poll hit before the sync (default 300 ms). */
  debounceMs?: number;
  /** The same after a Severa listing (default 50 ms). */
  severaDebounceMs?: number;
  maxWaitMs?: number;
  maxUsersPerCycle?: number;
  retryDelaysMs?: readonly number[];
  /** How often watch modes are looked at for a status change (default 2 s). */
  modeCheckMs?: number;
  /** A start that failed is tried again after this (default 60 s). */
  restartAfterMs?: number;
}

// Said in the process's language when said (engine.realTime).
const TEXT = {
  get off() { return t('engine.realTime.off'); },
  get starting() { return t('engine.realTime.starting'); },
  cannotStart: (why: string) => t('engine.realTime.cannotStart', { why }),
  get notSynced() { return t('engine.realTime.notSynced'); },
  get noWatch() { return t('engine.realTime.noWatch'); },
  get notWatched() { return t('engine.realTime.notWatched'); },
};

function describe(error: unknown): string {
  const advice = (error as { advice?: { message?: string } } | null)?.advice;
  if (advice?.message) return advice.message;
  return error instanceof Error ? error.message : String(error);
}

/** The settings whose change needs the watches made again (connections, credentials' place, intervals). */
function connectionKey(s: OrgSettings): string {
  const { exchange, severa, network, realTime } = s as OrgSettings & Record<string, unknown>;
  const extra = s as unknown as { secondExchange?: unknown; mailboxLocations?: unknown };
  return JSON.stringify({ exchange, secondExchange: extra.secondExchange ?? null, mailboxLocations: extra.mailboxLocations ?? null, severa, network, realTime: realTimeOf({ realTime }) });
}

interface Mark {
  firstAt: number;
  lastAt: number;
  timer: NodeJS.Timeout;
}

export class LiveSync {
  readonly #o: LiveSyncOptions;
  readonly #now: () => number;
  #settings: OrgSettings | null = null;
  #key: string | null = null;
  #state: 'off' | 'starting' | 'on' | 'failed' = 'off';
  #reason: string = TEXT.off;
  #failedAtMs = 0;
  /** Enrolled, unpaused users. */
  #enrolled = new Set<string>();
  #view: LiveStoreView | null = null;
  #calendar: CountedCalendar | null = null;
  #watch: ChangeWatch | null = null;
  /** The mailboxes last given to the watch. */
  #watchedKey: string | null = null;
  #poll: SeveraChangePoll | null = null;
  readonly #pending = new Map<string, Mark>();
  readonly #ready = new Set<string>();
  /** Users of the live cycle running now. */
  readonly #syncing = new Set<string>();
  readonly #retries = new Map<string, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #draining = false;
  #chain: Promise<void> = Promise.resolve();
  #modeTimer: NodeJS.Timeout | null = null;
  #lastStatusJson = '';
  #cycles = 0;
  #lastCycleAt: string | undefined;
  /** Live syncs asked for, by cause (for tests and the benchmark). */
  readonly counts = { marks: { exchange: 0, resync: 0, severa: 0, retry: 0 }, cycles: 0, usersSynced: 0 };

  constructor(options: LiveSyncOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Follows the settings: starts, reconfigures or stops real time. Safe to call often (each schedule tick). Null stops
   * it, with `why` for the status (default: off in the settings).
   */
  apply(settings: OrgSettings | null, why?: string): Promise<void> {
    this.#chain = this.#chain.then(() => this.#apply(settings, why)).catch((error: unknown) => this.#o.log.warn({ err: describe(error) }, 'real time: applying the settings failed'));
    return this.#chain;
  }

  /** After every cycle: the positions it stored, users synced for the first time, failed live syncs. */
  afterCycle(report: CycleReport): void {
    if (this.#state !== 'on' || !this.#view) return;
    try {
      this.#view.refresh(report.trigger === 'live' ? report.users.map((u) => u.email) : undefined);
    } catch (error) {
      this.#o.log.warn({ err: describe(error) }, 'real time: reading the sync store failed');
    }
    this.#updateMailboxes();
    if (report.trigger !== 'live') return;
    for (const u of report.users) {
      if (u.outcome === 'failed') this.#retry(u.email);
      else this.#retries.delete(u.email);
    }
  }

  /** A cycle reached a user: a mark older than that cycle's start is settled by it. */
  onProgress(progress: CycleProgress): void {
    const email = progress.currentUser;
    if (!email || !progress.startedAt) return;
    const startedMs = Date.parse(progress.startedAt);
    const mark = this.#pending.get(email);
    if (mark && mark.lastAt < startedMs) {
      clearTimeout(mark.timer);
      this.#pending.delete(email);
    }
  }

  status(): LiveStatus {
    const users: Record<string, LiveModeView> = {};
    const modes = this.#watchModes();
    for (const email of [...this.#enrolled].sort()) {
      if (this.#state !== 'on') continue;
      const mailbox = this.#view?.mailboxOf(email) ?? null;
      if (!mailbox) users[email] = { mode: 'off', since: this.#iso(), reason: TEXT.notSynced };
      else if (!this.#watch) users[email] = { mode: 'off', since: this.#iso(), reason: TEXT.noWatch };
      else users[email] = modes[mailbox] ?? { mode: 'off', since: this.#iso(), reason: TEXT.notWatched };
    }
    const status: LiveStatus = {
      on: this.#state === 'on',
      severa: this.#poll?.mode() ?? { mode: 'off', since: this.#iso(), reason: this.#reason },
      users,
      pending: this.#pending.size + this.#ready.size,
      cycles: this.#cycles,
    };
    if (this.#state !== 'on') status.reason = this.#reason;
    if (this.#lastCycleAt) status.lastCycleAt = this.#lastCycleAt;
    return status;
  }

  /** Marks a user's calendar as changed (public for the host and tests). */
  mark(email: string, cause: keyof LiveSync['counts']['marks'] = 'exchange'): void {
    const key = email.toLowerCase();
    if (!this.#enrolled.has(key) || this.#state !== 'on') return;
    this.counts.marks[cause]++;
    if (this.#ready.has(key)) return;
    const nowMs = this.#now();
    const mark = this.#pending.get(key);
    if (mark) clearTimeout(mark.timer);
    const firstAt = mark?.firstAt ?? nowMs;
    const quietMs = cause === 'severa' ? (this.#o.severaDebounceMs ?? 50) : (this.#o.debounceMs ?? 300);
    const dueMs = Math.min(nowMs + quietMs, firstAt + (this.#o.maxWaitMs ?? 2000));
    const timer = setTimeout(() => {
      this.#pending.delete(key);
      this.#ready.add(key);
      void this.#drain();
    }, Math.max(0, dueMs - nowMs));
    timer.unref?.();
    this.#pending.set(key, { firstAt, lastAt: nowMs, timer });
  }

  async stop(): Promise<void> {
    await this.apply(null);
  }

  // ---- internals ----

  async #apply(settings: OrgSettings | null, why?: string): Promise<void> {
    const on = settings !== null && realTimeOf(settings).enabled;
    if (!on) {
      await this.#teardown(why ?? TEXT.off);
      this.#settings = settings;
      return;
    }
    this.#settings = settings;
    this.#enrolled = new Set(settings.enrollments.filter((e) => !e.paused).map((e) => e.email.toLowerCase()));
    const key = connectionKey(settings);
    const retryDue = this.#state === 'failed' && this.#now() - this.#failedAtMs >= (this.#o.restartAfterMs ?? 60_000);
    if (key !== this.#key || retryDue) {
      await this.#teardown(TEXT.starting);
      await this.#start(settings, key);
    } else {
      this.#updateMailboxes();
    }
    this.#changed();
  }

  async #start(settings: OrgSettings, key: string): Promise<void> {
    this.#key = key;
    this.#state = 'starting';
    this.#reason = TEXT.starting;
    const rt = realTimeOf(settings);
    try {
      this.#view = new LiveStoreView(this.#o.dataDir);
      this.#view.refresh();
      const factory = await this.#o.connectors();
      this.#calendar = await factory.createCalendar(settings, this.#o.secrets);
      const severa = await factory.createSevera(settings, this.#o.secrets);
      const view = this.#view;
      const pollIntervalMs = (settings.exchange.serverType === 'Office365' ? rt.exchangeOnlinePollSeconds : rt.ewsPollSeconds) * 1000;
      this.#watch =
        this.#calendar.watchChanges?.(
          {
            changed: (mailbox) => this.#markMailbox(mailbox, 'exchange'),
            resync: (mailbox, reason) => {
              this.#o.log.info({ mailbox, reason }, 'real time: resync');
              this.#markMailbox(mailbox, 'resync');
            },
          },
          { pollIntervalMs, positions: view },
        ) ?? null;
      this.#poll = new SeveraChangePoll({
        severa,
        intervalMs: rt.severaPollSeconds * 1000,
        range: () => this.#severaRange(),
        directory: {
          emailOfUser: (guid) => view.emailOfUser(guid),
          pairsOf: (guid) => view.pairsOf(guid),
          // Pairs are stored when a user's sync ends: during a full cycle (anyone) or this user's live sync.
          busy: (email) => this.#syncing.has(email) || (this.#syncing.size === 0 && this.#o.host.isBusy()),
        },
        onChanged: (emails) => {
          for (const email of emails) this.mark(email, 'severa');
        },
        onError: (error) => this.#o.log.warn({ err: describe(error) }, 'real time: Severa change listing failed'),
      });
      this.#state = 'on';
      this.#updateMailboxes();
      this.#poll.start();
      this.#modeTimer = setInterval(() => this.#changed(), this.#o.modeCheckMs ?? 2000);
      this.#modeTimer.unref?.();
      this.#o.log.info({ exchangePollMs: pollIntervalMs, severaPollMs: rt.severaPollSeconds * 1000, users: this.#enrolled.size }, 'real time started');
    } catch (error) {
      await this.#teardown(TEXT.cannotStart(describe(error)));
      this.#state = 'failed';
      this.#failedAtMs = this.#now();
      this.#o.log.warn({ err: describe(error) }, 'real time could not start');
    }
  }

  async #teardown(reason: string): Promise<void> {
    const wasOn = this.#state !== 'off' || this.#watch !== null;
    this.#state = 'off';
    this.#reason = reason;
    this.#key = null;
    if (this.#modeTimer) clearInterval(this.#modeTimer);
    this.#modeTimer = null;
    for (const mark of this.#pending.values()) clearTimeout(mark.timer);
    this.#pending.clear();
    this.#ready.clear();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#retries.clear();
    this.#poll?.stop();
    this.#poll = null;
    const watch = this.#watch;
    this.#watch = null;
    this.#watchedKey = null;
    this.#calendar = null;
    if (watch) await watch.stop().catch(() => undefined);
    this.#view?.close();
    this.#view = null;
    if (wasOn) this.#changed();
  }

  #markMailbox(mailbox: string, cause: 'exchange' | 'resync'): void {
    const email = this.#view?.emailOfMailbox(mailbox);
    if (email) this.mark(email, cause);
  }

  #updateMailboxes(): void {
    if (!this.#watch || !this.#view) return;
    const mailboxes: string[] = [];
    for (const email of this.#enrolled) {
      const mailbox = this.#view.mailboxOf(email);
      if (mailbox) mailboxes.push(mailbox);
    }
    mailboxes.sort();
    const key = mailboxes.join(',');
    if (key === this.#watchedKey) return;
    this.#watchedKey = key;
    this.#watch.setMailboxes(mailboxes);
  }

  #severaRange(): { startDateTime: string; endDateTime: string } {
    const s = this.#settings;
    const earliest = s?.enrollments.map((e) => e.syncStartDate).sort()[0] ?? new Date(this.#now()).toISOString().slice(0, 10);
    return {
      startDateTime: new Date(Date.parse(`${earliest}T00:00:00Z`) - 86_400_000).toISOString(),
      endDateTime: new Date(this.#now() + (s?.windowDaysAhead ?? 365) * 86_400_000).toISOString(),
    };
  }

  #retry(email: string): void {
    const delays = this.#o.retryDelaysMs ?? [5_000, 30_000, 120_000];
    const n = this.#retries.get(email) ?? 0;
    if (n >= delays.length) {
      this.#retries.delete(email);
      return;
    }
    this.#retries.set(email, n + 1);
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.mark(email, 'retry');
    }, delays[n]);
    t.unref?.();
    this.#timers.add(t);
  }

  /** Runs the users that are due, in small cycles, one cycle at a time. */
  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    this.#changed();
    try {
      while (this.#ready.size > 0 && this.#state === 'on') {
        if (this.#o.host.isBusy()) {
          await this.#o.host.whenIdle();
          continue;
        }
        const users = [...this.#ready].filter((e) => this.#enrolled.has(e)).slice(0, this.#o.maxUsersPerCycle ?? 100);
        for (const u of [...this.#ready]) if (!this.#enrolled.has(u)) this.#ready.delete(u);
        if (users.length === 0) continue;
        for (const u of users) this.#ready.delete(u);
        let report: CycleReport | null = null;
        for (const u of users) this.#syncing.add(u);
        try {
          report = await this.#o.host.runNow({ users, live: true });
        } catch (error) {
          this.#o.log.warn({ err: describe(error) }, 'real time: the live cycle failed');
        } finally {
          this.#syncing.clear();
        }
        if (report?.trigger !== 'live') {
          // Another cycle was under way after all: these users go into the next one.
          for (const u of users) if (!this.#pending.has(u)) this.#ready.add(u);
          continue;
        }
        this.#cycles++;
        this.counts.cycles++;
        this.counts.usersSynced += users.length;
        this.#lastCycleAt = new Date(this.#now()).toISOString();
      }
    } finally {
      this.#draining = false;
      this.#changed();
    }
  }

  #watchModes(): Record<string, LiveModeView> {
    try {
      return this.#watch?.modes() ?? {};
    } catch {
      return {};
    }
  }

  /** Tells the host when what status() shows changed. */
  #changed(): void {
    if (!this.#o.onChange) return;
    // Modes and on/off, not the counters: those go out with the status after each cycle anyway.
    const json = JSON.stringify(this.status(), (k, v) => (k === 'since' || k === 'pending' || k === 'cycles' || k === 'lastCycleAt' ? undefined : v));
    if (json === this.#lastStatusJson) return;
    this.#lastStatusJson = json;
    try {
      this.#o.onChange();
    } catch (error) {
      this.#o.log.warn({ err: describe(error) }, 'real time: status listener failed');
    }
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }
}
