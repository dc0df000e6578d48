import { describe, expect, it } from 'vitest';
import { EXCHANGES } from '../sync/outlook-back-door.ts';
import { formatSoakResult, runSoak } from './soak-harness.ts';

/**
 * CI's bounded chaos soak (the long one is `npm run soak`): three users edit both sides between and during cycles,
 * both simulators inject faults, answers to writes get lost, the sync process is killed at random requests. After the
 * chaos: every entry agrees on both sides, nothing is doubled, nothing a user kept is missing. The counts of faults and
 * kills are asserted too, so a run in which the chaos did not happen cannot pass. Once on on-premises Exchange (EWS)
 * and once on Exchange Online (Graph), where a meeting with attendees changed or deleted in Severa is left as Outlook has
 * it: such differences are counted apart (accepted), never as agreement.
 *
 * One user at a time (`usersAtOnce: 1`): the requests of a cycle come in the same order every run, so the seeded edits
 * during cycles and the kills land on the same requests and the run takes the same course on a busy CI machine as on a
 * laptop; a failure repeats with `npm run soak -- --exchange X --seed 20261121 --cycles 15 --users 3 --kill-share 0.4
 * --users-at-once 1`. With users side by side (the product's default) the interleavings vary with timing; the long soak
 * (`npm run soak`) explores those, and docs/safety.md keeps what it still finds.
 */

describe.each(EXCHANGES)('chaos soak (bounded) on %s', (exchange) => {
  it('3 users, 15 chaos cycles, seed 20261121: no duplicate, no loss, both sides agree', { timeout: 420_000 }, async () => {
    const result = await runSoak({ exchange, seed: 20261121, cycles: 15, users: 3, killShare: 0.4, usersAtOnce: 1 });
    const summary = formatSoakResult(result);
    // The figures go to the test log, as `npm run soak` prints them.
    console.log(summary);

    expect(result.kills, summary).toBeGreaterThan(0);
    expect(result.killsAfterServer, summary).toBeGreaterThan(0);
    expect(result.faultsTotal, summary).toBeGreaterThan(10);
    expect(Object.keys(result.faults).filter((k) => k.startsWith(`${exchange}.`)).length, summary).toBeGreaterThanOrEqual(3);
    expect(Object.keys(result.faults).filter((k) => k.startsWith('severa.')).length, summary).toBeGreaterThanOrEqual(2);
    expect(result.edits, summary).toBeGreaterThan(30);
    // (How many entries are left at the end varies with the interleaving: Graph's fewer requests per cycle give fewer
    // chances of an edit during a cycle, so the same seed takes another course than on EWS.)
    expect(result.items.severa, summary).toBeGreaterThan(5);

    expect(result.crashes, summary).toEqual([]);
    expect(result.quiet, summary).toBe(true);
    expect(result.duplicates, summary).toBe(0);
    expect(result.losses, summary).toBe(0);
    expect(result.mismatches, summary).toBe(0);
  });
});
