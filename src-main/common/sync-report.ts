/**
 * What one sync cycle reports: printed by the CLI (--json prints it as is), shown by the settings window, stored as the
 * last status per user. Plain data only (it crosses IPC and is written to disk).
 */

export type SideName = 'severa' | 'exchange';

export interface SideCounts {
  created: number;
  updated: number;
  deleted: number;
}

/** One planned or performed change, for dry-run previews, the log and the window. */
export interface ChangeLine {
  side: SideName; // where the change is (to be) made
  action: 'create' | 'update' | 'delete';
  subject: string;
  start: string;
  /** The other side's id it comes from, when any. */
  sourceId?: string;
  reason?: string; // e.g. 'changed in Exchange', 'conflict: Severa newer', 'deleted in Severa'
}

export interface UserProblem {
  /** Stable code, e.g. 'impersonation-denied', 'no-mailbox', 'mass-deletion-held', 'throttled'. */
  code: string;
  /** One plain sentence: what is wrong. */
  message: string;
  /** What the user or the admin does about it. */
  fix?: string;
}

export interface UserReport {
  email: string;
  /** ok: synced; partial: synced with item-level errors or held deletions; failed: nothing synced for this user; skipped: paused/not ready. */
  outcome: 'ok' | 'partial' | 'failed' | 'skipped';
  toSevera: SideCounts;
  toExchange: SideCounts;
  conflicts: number;
  /** Deletions held by the mass-deletion guard, waiting for confirmation. */
  heldDeletions: number;
  /** The first changes, in the order they were made (at most 50: a first sync of thousands lists only its beginning). */
  changes: ChangeLine[];
  /** Changes made beyond those listed in `changes` (absent when every one is listed). */
  changesOmitted?: number;
  errors: UserProblem[];
  /** Notes that are not errors, e.g. 'series flattened to occurrences: pattern not expressible in Severa'. */
  notes: string[];
  firstSync: boolean;
  /** Where the user's mailbox lives (which Exchange connection serves it) and since when, when the connector says. */
  mailboxLocation?: { label: string; since: string };
}

export interface CycleReport {
  startedAt: string;
  finishedAt: string;
  dryRun: boolean;
  outcome: 'ok' | 'partial' | 'failed';
  users: UserReport[];
  /** Organization-level problems (Severa login failed, clock skew, ...). */
  errors: UserProblem[];
  /** Requests made this cycle, per side. */
  requests: { severa: number; exchange: number };
  /** Server clock minus local clock, ms, when measured; a warning is in errors above 60 s. */
  clockOffsetMs: { severa: number | null; exchange: number | null };
  /** Upper bound, in cycles, before a deletion made in Severa reaches Exchange (rolling reconciliation). */
  severaDeletionLatencyCycles: number;
  /**
   * 'live': a small cycle of the users whose calendars just changed (real time), not the scheduled cycle of everyone;
   * it does not move the schedule and is not "the last cycle" of the status. Absent for every other cycle.
   */
  trigger?: 'live';
}
