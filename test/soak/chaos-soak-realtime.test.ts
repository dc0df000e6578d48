import { describe, expect, it } from 'vitest';
import { formatSoakResult, runSoak } from './soak-harness.ts';

/**
 * The bounded chaos soak with real time on: each chaos cycle is a window of the real CLI's `sync --watch` (EWS
 * streaming notifications, the Severa change poll, live cycles of the users who changed), killed at a random request in
 * a share of the windows, while users edit both sides every second and both simulators inject faults. After the chaos
 * the usual `sync --once` cycles settle, and every entry must agree on both sides: nothing doubled, nothing lost.
 * Live cycles must have run and changed entries, so a run in which real time did nothing cannot pass. On on-premises
 * Exchange (streaming notifications). Real time makes the order of cycles depend on timing, so the same seed does not
 * replay the same run. Some runs meet engine cases the scheduled soak has not met (docs/real-time.md, "Soak"), so it
 * runs only when asked (SCS_SOAK_REAL_TIME=1; `npm run soak -- --real-time` for longer ones).
 */

// Opt-in until the engine cases the real-time runs meet are fixed (docs/real-time.md, "Soak"): SCS_SOAK_REAL_TIME=1.
describe.skipIf(process.env.SCS_SOAK_REAL_TIME !== '1')('chaos soak with real time on (bounded) on ews', () => {
  it('3 users, 8 watch windows of 6 s, seed 20261203: no duplicate, no loss, both sides agree', { timeout: 420_000 }, async () => {
    const result = await runSoak({ exchange: 'ews', seed: 20261203, cycles: 8, users: 3, killShare: 0.4, realTime: { windowMs: 6000 } });
    const summary = formatSoakResult(result);
    console.log(summary);

    expect(result.live?.cycles, summary).toBeGreaterThan(3);
    expect(result.live?.changes, summary).toBeGreaterThan(3);
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
