import type { CycleReport } from '../common/sync-report.ts';
import type { CalendarConnector } from '../exchange/calendar-connector.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
import type { SecretSource } from '../common/secrets-contract.ts';
import type { SeveraPort } from '../sync/severa-port.ts';
import type { AuditDifference } from '../sync/agreement-audit.ts';
import type { LiveStatus } from './live-sync.ts';

export type { LiveModeView, LiveStatus } from './live-sync.ts';

/**
 * The runner's public shapes: what the CLI prints and what the tray app's main process forwards to the window.
 * Plain data only, so every one of them can cross IPC and be written to disk.
 */

export type RunnerState = 'idle' | 'syncing' | 'error' | 'paused';

/** What automatic sync waits for before it starts: the admin settings, or a first person turning on their sync. */
export type WaitingReason = 'settings' | 'enrollment';

export interface CycleProgress {
  /** Users finished in the running cycle, out of `usersTotal`. */
  usersDone: number;
  usersTotal: number;
  /** The user being synced now, when the engine says. */
  currentUser?: string;
  /** A short phrase for the window, e.g. 'reading Severa changes'. */
  phase?: string;
  /** Entries created, updated or deleted so far in this cycle (both sides). */
  entriesDone?: number;
  /** When the cycle started (ISO). */
  startedAt?: string;
  /** Estimated seconds until the cycle ends; absent until the first person is done. */
  secondsLeft?: number;
}

export interface RunnerStatus {
  state: RunnerState;
  lastReport?: CycleReport;
  /** ISO instants. */
  lastRunAt?: string;
  nextRunAt?: string;
  /** ISO instant; absent while not paused; null: paused until resumed by hand. */
  pausedUntil?: string | null;
  progress?: CycleProgress;
  /** Cycles that failed in a row; the schedule backs off while it is above zero. */
  consecutiveFailures: number;
  scheduled: boolean;
  /** Set while automatic sync waits for setup (no cycle runs, nothing is wrong). */
  waitingFor?: WaitingReason;
  /** Real time (settings `realTime`), while the schedule runs: on or off and why, Severa's poll, each user's watch. */
  live?: LiveStatus;
  /** The automatic agreement audit (settings `audit`); absent while the settings cannot be read. */
  audit?: AuditStatus;
}

/** A difference of the automatic audit, with whose entry it is. */
export type LastAuditDifference = AuditDifference & { email: string };

/** The outcome of the last automatic agreement audit, kept in the runner's state file. */
export interface LastAudit {
  /** When it finished (ISO). */
  at: string;
  /** Users compared (those that could not be are in `failedUsers`). */
  users: number;
  pairs: number;
  agreeing: number;
  /** Differences a rule explains (expected), and those none does (problems to look at). */
  explained: number;
  unexplained: number;
  /** The differences with their story, unexplained first; at most MAX_KEPT_AUDIT_DIFFERENCES of them. */
  differences: LastAuditDifference[];
  /** Users that could not be compared, and why. */
  failedUsers: Array<{ email: string; error: string }>;
  /** Why the audit could not run at all (settings, a server), when it could not. */
  error?: string;
}

export interface AuditStatus {
  /** Settings `audit.everyHours`; 0: the automatic audit is off. */
  everyHours: number;
  /** An automatic audit is comparing now (no cycle starts until it ends). */
  running: boolean;
  /** The next one runs after the first successful scheduled cycle from this instant (ISO); absent while off or not known yet. */
  nextAfter?: string;
  last?: LastAudit;
}

/** One activation diagnostic: one plain sentence of what is wrong (or right) and what the admin does about it. */
export interface CheckResult {
  id: string;
  title: string;
  ok: boolean;
  message: string;
  fix?: string;
}

/** The subset of pino's API the runner writes to; a pino logger fits as is. */
export interface RunnerLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLog: RunnerLog = { info() {}, warn() {}, error() {} };

/** What one cycle asks of the sync engine; the runner fills it from the settings. */
export interface CycleRequest {
  settings: OrgSettings;
  users: { email: string; syncStartDate: string }[];
  dryRun: boolean;
  confirmDeletions: boolean;
  onProgress: (progress: CycleProgress) => void;
  /** A real-time cycle of a few users: no reconciliation slice, peers kept between such cycles. */
  live?: boolean;
}

/** A peer that can say how many HTTP requests it sent (retries and logins included), for the cycle report. */
export type CountedCalendar = CalendarConnector & { requestCount?: () => number };
export type CountedSevera = SeveraPort & { requestCount?: () => number; checkAuthorization?: () => Promise<unknown> };

/** Opens the peers of a cycle from settings + secrets; tests and the demo pass their own. */
export interface ConnectorFactory {
  /** Throws an Error with a plain message when the settings or secrets cannot make a connector. */
  createCalendar(settings: OrgSettings, secrets: SecretSource): Promise<CountedCalendar>;
  /** `purpose` 'check': one quick try, since an admin waiting on a diagnostic wants the answer, not retries. */
  createSevera(settings: OrgSettings, secrets: SecretSource, purpose?: 'sync' | 'check'): Promise<CountedSevera>;
}
