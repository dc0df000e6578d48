import { describe, expect, it } from 'vitest';
import { formatSoakResult, runSoak } from './soak-harness.ts';

/**
 * CI's bounded chaos soak with mailbox moves (the long one is `npm run soak -- --moves`): a hybrid organization
 * (on-premises Exchange over EWS, Exchange Online over Graph), three users editing both sides, faults, lost answers and
 * kills as in the chaos soak, and between cycles users' mailboxes move from on-premises to Exchange Online and back,
 * some with the move in progress while a cycle runs. After the chaos: every calendar, read where it lives at the end,
 * agrees with Severa; nothing is doubled, nothing a user kept is missing. The moves are asserted too, so a run in which
 * no mailbox moved cannot pass. One user at a time (`usersAtOnce: 1`): every run takes the same course, so a failure here
 * repeats with `npm run soak -- --moves --seed 7 --cycles 10 --users 3 --users-at-once 1`.
 */

describe('chaos soak with mailbox moves (bounded)', () => {
  it('3 users, 10 chaos cycles, seed 7: mailboxes move both ways mid-run, no duplicate, no loss', { timeout: 300_000 }, async () => {
    const result = await runSoak({ moves: true, seed: 7, cycles: 10, users: 3, usersAtOnce: 1 });
    const summary = formatSoakResult(result);
    console.log(summary);

    expect(result.moves, summary).toBeDefined();
    const moves = result.moves!;
    expect(moves.ewsToGraph, summary).toBeGreaterThan(0);
    expect(moves.inProgressMet, summary).toBeGreaterThan(0);
    // The same course every run: the cycle that meets a finished move runs to its end and says so.
    expect(moves.relocations, summary).toBeGreaterThan(0);
    expect(result.edits, summary).toBeGreaterThan(15);

    expect(result.crashes, summary).toEqual([]);
    expect(result.quiet, summary).toBe(true);
    expect(result.duplicates, summary).toBe(0);
    expect(result.losses, summary).toBe(0);
    expect(result.mismatches, summary).toBe(0);
  });
});
