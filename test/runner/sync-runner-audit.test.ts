import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { auditOf } from '../../src-main/common/settings-schema.ts';
import type { CycleRequest, LastAudit } from '../../src-main/runner/runner-types.ts';
import type { AuditReport } from '../../src-main/sync/agreement-audit.ts';
import { minutes, runnerMaker, settingsValue } from './sync-runner-fixtures.ts';

/**
 * SyncRunner, the automatic agreement audit that runs after a scheduled cycle once its interval has passed.
 * One cycle is in sync-runner-cycles.test.ts, the schedule itself in sync-runner-schedule.test.ts.
 */

let dataDir: string;
let clock: number;
const now = () => clock;
const makeRunner = runnerMaker({ dataDir: () => dataDir, now });

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'runner-test-'));
  clock = Date.parse('2026-05-04T08:00:00Z');
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('SyncRunner: the automatic agreement audit', () => {
  const hours = (n: number) => n * 3_600_000;
  const AINO = 'aino.virtanen@contoso.example';
  const MIKKO = 'mikko.lahtinen@contoso.example';
  const auditReport = (at: string): AuditReport => ({
    auditedAt: at,
    users: [
      {
        email: AINO,
        pairs: 7,
        agreeing: 5,
        differences: [
          { subject: 'Workshop', start: '2026-05-06T07:00:00Z', what: 'location', severa: 'Room 1', exchange: 'Room 2', story: 'last changed in Severa 2026-05-05 06:22 UTC, in Exchange 2026-05-05 07:01 UTC (Exchange later)', rule: null },
          { subject: 'Board', start: '2026-05-07T07:00:00Z', what: 'missing in Exchange', severa: 'Board', exchange: null, story: 'a deletion', rule: 'a deletion waits' },
        ],
      },
      { email: MIKKO, pairs: 0, agreeing: 0, differences: [], error: 'The mailbox could not be opened.' },
    ],
  });

  /** An audit the test finishes by hand, recording whom each run compared. */
  function controllableAudit() {
    const calls: Array<readonly string[] | undefined> = [];
    const pending: Array<{ resolve: (r: AuditReport) => void; reject: (e: unknown) => void }> = [];
    const audit = (users?: readonly string[]) => {
      calls.push(users);
      return new Promise<AuditReport>((resolve, reject) => pending.push({ resolve, reject }));
    };
    const finishAudit = async (fail?: Error) => {
      const p = pending.shift();
      if (!p) throw new Error('no audit is running');
      if (fail) p.reject(fail);
      else p.resolve(auditReport(new Date(clock).toISOString()));
      await new Promise((r) => setImmediate(r));
    };
    return { audit, calls, finishAudit };
  }

  /** Moves the clock on and lets the schedule run the cycle that falls due, to its end. */
  async function cycleAt(ms: number, r: { tick: () => void; finish: () => Promise<void>; requests: CycleRequest[] }) {
    const before = r.requests.length;
    clock = ms;
    r.tick();
    await new Promise((res) => setImmediate(res));
    expect(r.requests).toHaveLength(before + 1);
    await r.finish();
  }

  const daily = () => settingsValue({ intervalMinutes: 60, audit: { everyHours: 24 } });

  it('runs after a scheduled cycle once the interval has passed, not before, never during a cycle, and keeps the differences', async () => {
    const a = controllableAudit();
    const r = makeRunner({ audit: a.audit }, daily);
    const t0 = clock;
    const seen: LastAudit[] = [];
    r.runner.onAudit((last) => seen.push(last));
    r.runner.startSchedule();
    await new Promise((res) => setImmediate(res));
    await r.finish();
    // The first successful scheduled cycle starts the count: no audit yet.
    expect(a.calls).toHaveLength(0);
    expect(r.runner.status().audit).toEqual({ everyHours: 24, running: false, nextAfter: new Date(t0 + hours(24)).toISOString() });

    for (let h = 1; h < 24; h++) await cycleAt(t0 + hours(h), r);
    expect(a.calls).toHaveLength(0);

    // A dry run, a cycle of some users or a failed cycle past the interval do not audit.
    clock = t0 + hours(24) + minutes(5);
    const dry = r.runner.runNow({ dryRun: true });
    await new Promise((res) => setImmediate(res));
    await r.finish();
    await dry;
    const some = r.runner.runNow({ users: [AINO] });
    await new Promise((res) => setImmediate(res));
    await r.finish();
    await some;
    // (A cycle of some users moves the schedule on like any other.)
    r.setOutcome('failed');
    await cycleAt(t0 + hours(25) + minutes(5), r);
    expect(a.calls).toHaveLength(0);
    r.setOutcome('ok');
    // The back-off after the failure: the next cycle is due two hours on.
    await cycleAt(t0 + hours(27) + minutes(5), r);
    // The audit runs after that cycle, over the enrolled users that are not paused.
    expect(a.calls).toEqual([[AINO, MIKKO]]);
    expect(r.runner.status().audit?.running).toBe(true);
    expect(r.runner.status().state).toBe('idle');

    // No cycle starts while it compares: a due tick waits, "Sync now" waits for the audit to end.
    clock = t0 + hours(29);
    r.tick();
    await new Promise((res) => setImmediate(res));
    expect(r.requests).toHaveLength(28);
    const syncNow = r.runner.runNow();
    await new Promise((res) => setImmediate(res));
    expect(r.requests).toHaveLength(28);

    await a.finishAudit();
    await new Promise((res) => setImmediate(res));
    expect(r.requests).toHaveLength(29);
    const last = r.runner.status().audit?.last;
    expect(last).toMatchObject({ at: new Date(t0 + hours(29)).toISOString(), users: 1, pairs: 7, agreeing: 5, explained: 1, unexplained: 1, failedUsers: [{ email: MIKKO, error: 'The mailbox could not be opened.' }] });
    expect(last?.differences.map((d) => [d.email, d.subject, d.rule])).toEqual([
      [AINO, 'Workshop', null],
      [AINO, 'Board', 'a deletion waits'],
    ]);
    expect(last?.differences[0].story).toMatch(/Exchange later/);
    expect(seen).toEqual([last]);
    // The interval counts from when the audit started.
    expect(r.runner.status().audit?.nextAfter).toBe(new Date(t0 + hours(27) + minutes(5) + hours(24)).toISOString());
    await r.finish();
    await syncNow;
    // The cycle after it does not audit again.
    expect(a.calls).toHaveLength(1);
    r.runner.stopSchedule();
  });

  it('a restart keeps the last audit and does not audit again before the interval has passed', async () => {
    const a = controllableAudit();
    const r = makeRunner({ audit: a.audit }, daily);
    const t0 = clock;
    r.runner.startSchedule();
    await new Promise((res) => setImmediate(res));
    await r.finish();
    await cycleAt(t0 + hours(24), r);
    expect(a.calls).toHaveLength(1);
    await a.finishAudit();
    r.runner.stopSchedule();

    const b = controllableAudit();
    const again = makeRunner({ audit: b.audit }, daily);
    expect(again.runner.status().audit?.last?.unexplained).toBe(1);
    clock = t0 + hours(25);
    again.runner.startSchedule();
    await new Promise((res) => setImmediate(res));
    await again.finish();
    for (let h = 26; h < 48; h++) await cycleAt(t0 + hours(h), again);
    expect(b.calls).toHaveLength(0);
    await cycleAt(t0 + hours(48), again);
    expect(b.calls).toHaveLength(1);
    // An audit that cannot run at all is kept with its reason, and counts as the day's audit.
    await b.finishAudit(new Error('Severa did not answer.'));
    expect(again.runner.status().audit?.last).toMatchObject({ error: 'Severa did not answer.', pairs: 0, unexplained: 0 });
    expect(again.runner.status().audit?.nextAfter).toBe(new Date(t0 + hours(72)).toISOString());
    again.runner.stopSchedule();
  });

  it('is on by default once a day, also for settings written before it existed', () => {
    const older = settingsValue();
    expect(older.audit).toBeUndefined();
    expect(auditOf(older)).toEqual({ everyHours: 24 });
    expect(makeRunner({}, () => older).runner.status().audit).toEqual({ everyHours: 24, running: false });
    expect(() => settingsValue({ audit: { everyHours: -1 } })).toThrow();
  });

  it('is off with everyHours 0, and does not run when the schedule does not (sync --once)', async () => {
    const a = controllableAudit();
    const off = makeRunner({ audit: a.audit }, () => settingsValue({ intervalMinutes: 60, audit: { everyHours: 0 } }));
    off.runner.startSchedule();
    await new Promise((res) => setImmediate(res));
    await off.finish();
    for (let h = 1; h <= 50; h++) await cycleAt(Date.parse('2026-05-04T08:00:00Z') + hours(h), off);
    expect(a.calls).toHaveLength(0);
    expect(off.runner.status().audit).toEqual({ everyHours: 0, running: false });
    off.runner.stopSchedule();

    const once = makeRunner({ audit: a.audit }, daily);
    for (let h = 0; h <= 50; h += 25) {
      clock = Date.parse('2026-05-10T08:00:00Z') + hours(h);
      const run = once.runner.runNow();
      await new Promise((res) => setImmediate(res));
      await once.finish();
      await run;
    }
    expect(a.calls).toHaveLength(0);
  });
});
