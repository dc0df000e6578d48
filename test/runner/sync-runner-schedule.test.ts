import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { minutes, runnerMaker } from './sync-runner-fixtures.ts';

/**
 * SyncRunner, automatic sync: the interval, the back-off after failures, pausing (also across a restart),
 * and the early cycle after wake/network events (triggerSoon).
 * One cycle on its own is in sync-runner-cycles.test.ts, the agreement audit in sync-runner-audit.test.ts.
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

describe('SyncRunner: schedule, back-off, pause', () => {
  it('runs at start, then only when the interval has passed', async () => {
    const { runner, requests, finish, tick } = makeRunner();
    runner.startSchedule();
    await new Promise((r) => setImmediate(r));
    expect(requests).toHaveLength(1);
    await finish();
    expect(runner.status().nextRunAt).toBe(new Date(clock + minutes(15)).toISOString());
    clock += minutes(14);
    tick();
    await new Promise((r) => setImmediate(r));
    expect(requests).toHaveLength(1);
    clock += minutes(1);
    tick();
    await new Promise((r) => setImmediate(r));
    expect(requests).toHaveLength(2);
    await finish();
    runner.stopSchedule();
  });

  it('backs off exponentially after failures, caps the wait, and resets on success', async () => {
    const { runner, requests, finish, tick, setOutcome } = makeRunner({ backoffCapMs: minutes(60) });
    setOutcome('failed');
    runner.startSchedule();
    await new Promise((r) => setImmediate(r));
    await finish();
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const next = Date.parse(runner.status().nextRunAt!);
      waits.push((next - clock) / 60_000);
      clock = next;
      tick();
      await new Promise((r) => setImmediate(r));
      await finish();
    }
    expect(waits).toEqual([30, 60, 60, 60]);
    expect(runner.status().consecutiveFailures).toBe(5);
    setOutcome('ok');
    clock = Date.parse(runner.status().nextRunAt!);
    tick();
    await new Promise((r) => setImmediate(r));
    await finish();
    expect(runner.status().consecutiveFailures).toBe(0);
    expect(Date.parse(runner.status().nextRunAt!) - clock).toBe(minutes(15));
    expect(requests).toHaveLength(6);
    runner.stopSchedule();
  });

  it('skips ticks while paused, resumes by itself when a timed pause ends, and stays paused until resume() otherwise', async () => {
    const { runner, requests, finish, tick } = makeRunner();
    runner.startSchedule();
    await new Promise((r) => setImmediate(r));
    await finish();
    runner.pause(clock + minutes(60));
    expect(runner.status().state).toBe('paused');
    expect(runner.status().pausedUntil).toBe(new Date(clock + minutes(60)).toISOString());
    clock += minutes(30);
    tick();
    await new Promise((r) => setImmediate(r));
    expect(requests).toHaveLength(1);
    clock += minutes(31);
    tick(); // this tick ends the pause and, the interval having passed, starts a cycle
    await new Promise((r) => setImmediate(r));
    expect(runner.status().pausedUntil).toBeUndefined();
    expect(requests).toHaveLength(2);
    await finish();

    runner.pause(null);
    expect(runner.status().pausedUntil).toBeNull();
    clock += minutes(600);
    tick();
    await new Promise((r) => setImmediate(r));
    expect(requests).toHaveLength(2);
    runner.resume();
    await new Promise((r) => setImmediate(r));
    expect(requests).toHaveLength(3);
    await finish();
    runner.stopSchedule();
  });

  it('refuses a pause that ends in the past', () => {
    const { runner } = makeRunner();
    expect(() => runner.pause(clock - 1)).toThrow(/future/);
  });

  it('keeps the pause and the failure streak across a restart (they are saved in the data dir)', async () => {
    const { runner, finish, setOutcome } = makeRunner();
    setOutcome('failed');
    const run = runner.runNow();
    await new Promise((r) => setImmediate(r));
    await finish();
    await run;
    runner.pause(null);
    const saved = JSON.parse(readFileSync(join(dataDir, 'runner-state.json'), 'utf8'));
    expect(saved.consecutiveFailures).toBe(1);
    const again = makeRunner().runner;
    expect(again.status().state).toBe('paused');
    expect(again.status().consecutiveFailures).toBe(1);
    expect(again.status().lastReport?.outcome).toBe('failed');
  });

  it('does not count a dry run toward the status or the back-off', async () => {
    const { runner, finish, setOutcome } = makeRunner();
    setOutcome('failed');
    const run = runner.runNow({ dryRun: true });
    await new Promise((r) => setImmediate(r));
    await finish();
    expect((await run).dryRun).toBe(true);
    expect(runner.status().consecutiveFailures).toBe(0);
    expect(runner.status().lastReport).toBeUndefined();
  });
});

describe('SyncRunner: triggerSoon', () => {
  it('turns a burst of wake/network events into one cycle after the delay, ignoring the back-off', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { runner, requests, finish, setOutcome } = makeRunner({ triggerDelayMs: 5_000 });
    setOutcome('failed');
    runner.startSchedule();
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    await finish();
    expect(runner.status().consecutiveFailures).toBe(1);
    runner.triggerSoon('resume');
    runner.triggerSoon('network-up');
    runner.triggerSoon('resume');
    vi.advanceTimersByTime(4_999);
    expect(requests).toHaveLength(1);
    vi.advanceTimersByTime(1);
    await vi.waitFor(() => expect(requests).toHaveLength(2));
    await finish();
    runner.stopSchedule();
  });

  it('does nothing while paused or when automatic sync is off', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { runner, requests, finish } = makeRunner({ triggerDelayMs: 1_000 });
    runner.triggerSoon('resume');
    vi.advanceTimersByTime(2_000);
    expect(requests).toHaveLength(0);
    runner.startSchedule();
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    await finish();
    runner.pause(null);
    runner.triggerSoon('network-up');
    vi.advanceTimersByTime(2_000);
    await Promise.resolve();
    expect(requests).toHaveLength(1);
    runner.stopSchedule();
  });
});
