import { describe, expect, it } from 'vitest';
import { formatSoakResult, runSoak } from './soak-harness.ts';

/**
 * The bounded chaos soak with real time on: each chaos cycle is a window of the real CLI's `sync --watch` (EWS
 * streaming notifications, the Severa change poll, live cycles of the users who changed), killed at a random request in
 * a share of the windows, while users edit both sides every second and both simulators inject faults. After the chaos
 * the usual `sync --once` cycles settle, and every entry must agree on both sides: nothing doubled, nothing lost.
 * Live cycles must have run, so a run in which real time did nothing cannot pass. On on-premises
 * Exchange (streaming notifications). Real time makes the order of cycles depend on timing, so the same seed does not
 * replay the same run. Windows of 10 s leave room for live cycles after the watch's first scheduled cycle on a busy
 * machine (each counted from the watch's first report, however long its first cycle took), and kills are
 * planned in most windows, so the guards below (real time ran, a kill struck) hold whatever the timing;
 * `npm run soak -- --real-time` runs longer ones. It runs alone at the end of `npm test` (scripts/run-tests.sh, with
 * SCS_SOAK_REAL_TIME=1), not beside the other files, whose load would starve its timed windows.
 */

describe.skipIf(process.env.SCS_SOAK_REAL_TIME !== '1')('chaos soak with real time on (bounded) on ews (runs alone at the end of npm test: SCS_SOAK_REAL_TIME=1)', () => {
  it('3 users, 8 watch windows of 10 s, seed 20261203: no duplicate, no loss, both sides agree', { timeout: 600_000 }, async () => {
    const result = await runSoak({ exchange: 'ews', seed: 20261203, cycles: 8, users: 3, killShare: 0.6, realTime: { windowMs: 10_000 } });
    const summary = formatSoakResult(result);
    console.log(summary);

    // Real time ran: live cycles started from notifications and polls. How many of them changed entries depends on
    // which of them the injected faults failed, so that count is printed, not asserted.
    expect(result.live?.cycles, summary).toBeGreaterThan(3);
    expect(result.kills, summary).toBeGreaterThan(0);
    expect(result.faultsTotal, summary).toBeGreaterThan(5);
    expect(result.edits, summary).toBeGreaterThan(20);

    expect(result.crashes, summary).toEqual([]);
    expect(result.quiet, summary).toBe(true);
    expect(result.duplicates, summary).toBe(0);
    expect(result.losses, summary).toBe(0);
    expect(result.mismatches, summary).toBe(0);
  });
});
