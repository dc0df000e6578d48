import cron from 'node-cron';
import type { OrgSettings } from '../common/settings-schema.ts';
import type { SecretSource } from '../common/secrets-contract.ts';
import type { CycleReport } from '../common/sync-report.ts';
import type { AuditReport } from '../sync/agreement-audit.ts';
import type { CheckResult, ConnectorFactory, CycleRequest, RunnerLog, WaitingReason } from './runner-types.ts';

/**
 * What the SyncRunner (sync-runner.ts) is given and asked: its constructor's options, with the default schedule ticker,
 * and the options of its check() and runNow().
 */

/** Runs one cycle; the default one drives the sync engine over the connectors and the store in the data dir. */
export type CycleFunction = (request: CycleRequest) => Promise<CycleReport>;

/** Calls `tick` periodically until stopped. The default ticks once a minute with node-cron. */
export type TickScheduler = (tick: () => void) => { stop(): void };

export const everyMinute: TickScheduler = (tick) => {
  // Ticking every minute and deciding in code (rather than a cron pattern per interval) serves any interval,
  // the back-off and the pause with one rule, and catches up after the machine slept.
  const task = cron.schedule('* * * * *', () => tick(), { name: 'severa-calendar-sync', noOverlap: true });
  return { stop: () => void task.stop() };
};

export interface SyncRunnerOptions {
  loadSettings: () => OrgSettings;
  secrets: SecretSource;
  dataDir: string;
  connectors?: ConnectorFactory;
  log?: RunnerLog;
  /** Milliseconds since the epoch. */
  now?: () => number;
  cycle?: CycleFunction;
  scheduler?: TickScheduler;
  /** How long triggerSoon waits so a burst of wake/network events makes one cycle. */
  triggerDelayMs?: number;
  backoffCapMs?: number;
  /** Replaces the activation diagnostics (tests); may report results through `onResult` as they come. */
  checks?: (settings: OrgSettings, onResult?: (result: CheckResult) => void) => Promise<CheckResult[]>;
  /**
   * What automatic sync waits for before its first cycle: 'settings' (none saved yet), 'enrollment' (nobody turned on
   * their sync), or null when it can run. Default: 'enrollment' while the settings enrol nobody active.
   */
  waitingFor?: () => WaitingReason | null;
  /** Replaces the agreement audit (tests): the enrolled users named, or all of them when absent. */
  audit?: (users?: readonly string[]) => Promise<AuditReport>;
}

export interface CheckOptions {
  /**
   * Called with each result as soon as it is known: every result of the returned list exactly once, in its order,
   * before check() resolves; `index` is its position in that list.
   */
  onResult?: (result: CheckResult, index: number) => void;
}

export interface RunNowOptions {
  dryRun?: boolean;
  confirmDeletions?: boolean;
  /** Only these enrolled users (email); all enrolled users when absent. */
  users?: string[];
  /**
   * A real-time cycle of `users` (live-sync.ts): it does not move the schedule, count as a failure or become the last
   * cycle of the status; its report says `trigger: 'live'`.
   */
  live?: boolean;
}
