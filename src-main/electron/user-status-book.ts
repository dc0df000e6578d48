import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ChangeView, UserStatusView } from '../common/ipc-contract.ts';
import type { CycleReport } from '../common/sync-report.ts';

/**
 * Every user's last sync, across cycles: a cycle run for one user (after enabling, or "Sync now" on a single user) must not
 * wipe what the status shows for the others, which the runner's single last report would do. Plain JSON beside the
 * runner's state in the data dir.
 */

export type UserStatusBook = Record<string, UserStatusView>;

export const USER_STATUS_FILE = 'user-status.json';

/** How many changed entries the status keeps per person (newest first, across cycles). */
export const RECENT_CHANGES_KEPT = 100;

/** Folds a finished cycle into the book. A dry run, or a user the cycle skipped, leaves the book as it was. */
export function recordCycle(book: UserStatusBook, report: CycleReport): UserStatusBook {
  if (report.dryRun) return book;
  const next: UserStatusBook = { ...book };
  for (const user of report.users) {
    if (user.outcome === 'skipped') continue;
    const before = book[user.email];
    const changes: ChangeView[] = user.changes.map((c) => ({ side: c.side, action: c.action, subject: c.subject, start: c.start, ...(c.reason ? { reason: c.reason } : {}), at: report.finishedAt }));
    next[user.email] = {
      email: user.email,
      lastSyncAt: report.finishedAt,
      outcome: user.outcome,
      toSevera: user.toSevera,
      toExchange: user.toExchange,
      conflicts: user.conflicts,
      heldDeletions: user.heldDeletions,
      errors: user.errors,
      notes: user.notes,
      firstSyncDone: (before?.firstSyncDone ?? false) || user.outcome !== 'failed',
      recentChanges: [...changes.reverse(), ...(before?.recentChanges ?? [])].slice(0, RECENT_CHANGES_KEPT),
    };
    // Where the mailbox lives: as this cycle found it, else as last known (a failed cycle may not have asked).
    const location = user.mailboxLocation ?? before?.mailboxLocation;
    if (location) next[user.email].mailboxLocation = { label: location.label, since: location.since };
  }
  return next;
}

/** The status rows for the enrolled users, in enrollment order; an enrolled user who never synced gets an empty row. */
export function statusRows(book: UserStatusBook, enrolledEmails: string[]): UserStatusView[] {
  return enrolledEmails.map(
    (email) => book[email] ?? { email, conflicts: 0, heldDeletions: 0, errors: [], notes: [], firstSyncDone: false },
  );
}

export function readUserStatusBook(dataDir: string): UserStatusBook {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path.join(dataDir, USER_STATUS_FILE), 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as UserStatusBook) : {};
  } catch {
    // Missing or damaged: the status is rebuilt by the next cycle; nothing of the sync depends on it.
    return {};
  }
}

export function writeUserStatusBook(dataDir: string, book: UserStatusBook): void {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, USER_STATUS_FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(book, null, 2));
  renameSync(`${file}.tmp`, file);
}
