import type { CycleReport, UserProblem, UserReport } from './sync-report.ts';
import type { SetupView } from './ipc-setup-types.ts';

/**
 * The status part of the IPC contract (ipc-contract.ts is the contract and re-exports it): what the Status section and
 * the tray show. The runner's state, progress, real time and automatic audit; each person's last sync and changed
 * entries; the deletion journal and its restores; the agreement audit's report.
 */

export type RunnerStateView = 'idle' | 'syncing' | 'error' | 'paused';

export interface ProgressView {
  usersDone: number;
  usersTotal: number;
  currentUser?: string;
  phase?: string;
  /** Entries created, updated or deleted so far in this cycle. */
  entriesDone?: number;
  startedAt?: string;
  /** Estimated; absent until the first person is done. */
  secondsLeft?: number;
}

/** Why automatic sync has not started: the admin settings are missing, or nobody turned on their sync. */
export type WaitingView = 'settings' | 'enrollment';

/** How changes are picked up in real time: 'live' within seconds, 'polling' every few seconds, or 'off' and why. */
export interface LiveModeView {
  mode: 'live' | 'polling' | 'off';
  since: string;
  reason?: string;
}

/** Real time as the status shows it (settings `realTime`). */
export interface LiveStatusView {
  on: boolean;
  /** Why not, when not. */
  reason?: string;
  /** Severa's change poll. */
  severa: LiveModeView;
  /** Each enrolled user's calendar watch, by email. */
  users: Record<string, LiveModeView>;
  pending: number;
  cycles: number;
  lastCycleAt?: string;
}

export interface RunnerStatusView {
  state: RunnerStateView;
  lastRunAt?: string;
  nextRunAt?: string;
  /** Absent: not paused; null: paused until resumed by hand; else an ISO instant. */
  pausedUntil?: string | null;
  progress?: ProgressView;
  consecutiveFailures: number;
  /** Set while automatic sync waits for setup: nothing is wrong, there is nothing to sync yet. */
  waitingFor?: WaitingView;
  /** After a start at login with a delay: when automatic sync begins (ISO). */
  startsAt?: string;
  /** Real time, while the schedule runs. */
  live?: LiveStatusView;
  /** The automatic comparison of both sides (settings `audit`). */
  audit?: AuditStatusView;
}

/** The last automatic agreement audit: when, how much agreed, the differences with their story, who was not compared. */
export interface LastAuditView {
  at: string;
  users: number;
  pairs: number;
  agreeing: number;
  explained: number;
  unexplained: number;
  /** Unexplained first; at most a hundred (the counts cover every one). */
  differences: Array<AuditDifferenceView & { email: string }>;
  failedUsers: Array<{ email: string; error: string }>;
  /** Why it could not run at all. */
  error?: string;
}

export interface AuditStatusView {
  /** 0: off. */
  everyHours: number;
  running: boolean;
  /** The next one runs after the first successful cycle from this instant. */
  nextAfter?: string;
  last?: LastAuditView;
}

export interface UserStatusView {
  email: string;
  /** When this user's last cycle finished; absent before the first. */
  lastSyncAt?: string;
  outcome?: UserReport['outcome'];
  toSevera?: UserReport['toSevera'];
  toExchange?: UserReport['toExchange'];
  conflicts: number;
  heldDeletions: number;
  errors: UserProblem[];
  notes: string[];
  firstSyncDone: boolean;
  /** The latest changed entries, newest first, across the recent cycles. */
  recentChanges?: ChangeView[];
  /** Which Exchange connection serves the mailbox (e.g. "Exchange Online (contoso.onmicrosoft.com)") and since when. */
  mailboxLocation?: { label: string; since: string };
}

/** One entry the sync created, updated or deleted. */
export interface ChangeView {
  /** Where the change was made. */
  side: 'severa' | 'exchange';
  action: 'create' | 'update' | 'delete';
  subject: string;
  /** The entry's start (ISO instant, or YYYY-MM-DD for all-day entries). */
  start: string;
  reason?: string;
  /** When the cycle that made it finished. */
  at: string;
}

export interface AppStatusView {
  runner: RunnerStatusView;
  users: UserStatusView[];
  /** Organization-level problems of the last cycle (Severa login failed, clock skew, ...). */
  orgErrors: UserProblem[];
  lastCycle?: { startedAt: string; finishedAt: string; outcome: CycleReport['outcome'] };
  /** Where the log is, for "open log". */
  logPath: string | null;
  setup: SetupView;
}

export interface JournalEntryView {
  id: string;
  email: string;
  side: 'severa' | 'exchange';
  subject: string;
  start: string;
  deletedAt: string;
  restored: boolean;
}

export interface RestoreResultView {
  id: string;
  ok: boolean;
  message?: string;
}

/** One difference the agreement audit found between the two sides of a synced entry. */
export interface AuditDifferenceView {
  subject: string;
  start: string;
  /** The field that differs, or 'missing in Exchange' / 'missing in Severa'. */
  what: string;
  severa: string | null;
  exchange: string | null;
  /** When each side was last written, and by whom. */
  story: string;
  /** The rule that explains it; null when none does (then it is a problem to look at). */
  rule: string | null;
}

export interface UserAuditView {
  email: string;
  pairs: number;
  agreeing: number;
  differences: AuditDifferenceView[];
  /** Why this user could not be compared. */
  error?: string;
}

export interface AuditReportView {
  auditedAt: string;
  users: UserAuditView[];
}
