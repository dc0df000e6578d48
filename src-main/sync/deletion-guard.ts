import type { SideName } from '../common/sync-report.ts';

/**
 * The mass-deletion guard (pure). Two protections against a wrong setting, an emptied calendar or a half-migrated
 * mailbox wiping the other side:
 *
 * - hold: a cycle that would delete more than `maxItems` AND more than `maxPercent` of a user's paired items on one side
 *   holds those deletions until a run with `confirmDeletions`;
 * - emptied: a side on which every one of the user's paired items vanished since the last cycle (at least
 *   `EMPTIED_MIN_PAIRS` pairs) stops that user's sync altogether, instead of emptying the other side.
 */

export interface DeletionGuardSettings {
  maxItems: number;
  maxPercent: number;
}

export const DEFAULT_DELETION_GUARD: DeletionGuardSettings = { maxItems: 10, maxPercent: 20 };

/** Below this many pairs, losing them all is an ordinary edit (a user deleting their one synced entry), not an emptied side. */
export const EMPTIED_MIN_PAIRS = 2;

export interface GuardInput {
  /** The user's pairs at the start of the cycle. */
  pairCount: number;
  /** Deletions the cycle would make on each side. */
  deletions: Record<SideName, number>;
  /** Pairs whose item is gone on each side (the source of the deletions on the other side). */
  goneOn: Record<SideName, number>;
  settings: DeletionGuardSettings;
  confirmed: boolean;
}

export interface GuardVerdict {
  /** Deletions on this side are held. */
  hold: Record<SideName, boolean>;
  /** The side that was emptied, when one was: the user's sync stops. */
  emptied: SideName | null;
}

export function evaluateDeletionGuard(input: GuardInput): GuardVerdict {
  const verdict: GuardVerdict = { hold: { severa: false, exchange: false }, emptied: null };
  if (input.confirmed || input.pairCount <= 0) return verdict;
  for (const side of ['exchange', 'severa'] as const) {
    if (input.pairCount >= EMPTIED_MIN_PAIRS && input.goneOn[side] >= input.pairCount) {
      verdict.emptied = side;
      break;
    }
  }
  for (const side of ['severa', 'exchange'] as const) {
    const n = input.deletions[side];
    verdict.hold[side] = n > input.settings.maxItems && (n * 100) / input.pairCount > input.settings.maxPercent;
  }
  return verdict;
}
