import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { orgSettings } from '../../src-main/common/settings-schema.ts';
import type { CycleReport } from '../../src-main/common/sync-report.ts';
import type { RunnerStatus } from '../../src-main/runner/runner-types.ts';
import { minutes, runnerMaker, settingsValue } from './sync-runner-fixtures.ts';

/**
 * SyncRunner, one cycle ("Sync now"): only one runs at a time, whom it syncs, what it reports when it fails,
 * what it tells listeners while it runs, that a restore never overlaps it, and the connection checks.
 * The schedule is in sync-runner-schedule.test.ts, the agreement audit in sync-runner-audit.test.ts.
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

describe('SyncRunner: one cycle at a time', () => {
  it('returns the running cycle\'s promise to a second caller instead of starting another', async () => {
    const { runner, requests, finish } = makeRunner();
    const first = runner.runNow();
    const second = runner.runNow({ dryRun: true });
    expect(second).toBe(first);
    await new Promise((r) => setImmediate(r));
    expect(requests).toHaveLength(1);
    expect(runner.status().state).toBe('syncing');
    await finish();
    const report = await first;
    expect(report.outcome).toBe('ok');
    expect(runner.status().state).toBe('idle');
    // After it ended, a new call starts a new cycle.
    const third = runner.runNow();
    expect(third).not.toBe(first);
    await new Promise((r) => setImmediate(r));
    expect(requests).toHaveLength(2);
    await finish();
    await third;
  });

  it('hands the engine only enrolled users that are not paused, and reports the paused one as skipped', async () => {
    const { runner, requests, finish } = makeRunner();
    const run = runner.runNow();
    await new Promise((r) => setImmediate(r));
    expect(requests[0].users.map((u) => u.email)).toEqual(['aino.virtanen@contoso.example', 'mikko.lahtinen@contoso.example']);
    await finish();
    const report = await run;
    expect(report.users.find((u) => u.email === 'sara.nieminen@contoso.example')?.outcome).toBe('skipped');
  });

  it('restricts a cycle to the users asked for and reports an address that is not enrolled', async () => {
    const { runner, requests, finish } = makeRunner();
    const run = runner.runNow({ users: ['Mikko.Lahtinen@contoso.example', 'nobody@contoso.example'] });
    await new Promise((r) => setImmediate(r));
    expect(requests[0].users.map((u) => u.email)).toEqual(['mikko.lahtinen@contoso.example']);
    await finish();
    const report = await run;
    const nobody = report.users.find((u) => u.email === 'nobody@contoso.example');
    expect(nobody?.outcome).toBe('failed');
    expect(nobody?.errors[0].code).toBe('not-enrolled');
    expect(report.outcome).toBe('partial');
  });

  it('turns an engine crash into a failed report instead of a rejected promise', async () => {
    const { runner, finish, setOutcome } = makeRunner();
    setOutcome('throw');
    const run = runner.runNow();
    await new Promise((r) => setImmediate(r));
    await finish();
    const report = await run;
    expect(report.outcome).toBe('failed');
    expect(report.errors[0].code).toBe('cycle-crashed');
    expect(report.errors[0].message).toContain('engine exploded');
    expect(runner.status().state).toBe('error');
    expect(runner.status().consecutiveFailures).toBe(1);
  });

  it('reports invalid settings without calling the engine', async () => {
    const { runner, requests } = makeRunner({}, () => orgSettings.parse({ exchange: { serverType: 'Exchange2016', ewsUrl: 'not a url', username: 'x' }, severa: { clientId: 'c' } }));
    const report = await runner.runNow();
    expect(requests).toHaveLength(0);
    expect(report.outcome).toBe('failed');
    expect(report.errors[0].code).toBe('settings-invalid');
  });

  it('with nobody enrolled there is nothing to sync: no problem, no recorded cycle, and automatic sync waits', async () => {
    const { runner, requests, tick } = makeRunner({}, () => settingsValue({ enrollments: [] }));
    const report = await runner.runNow();
    expect(requests).toHaveLength(0);
    expect(report).toMatchObject({ outcome: 'ok', errors: [], users: [] });
    // Not a sync: the status still says it never ran and is not in error.
    expect(runner.status()).toMatchObject({ state: 'idle', consecutiveFailures: 0, waitingFor: 'enrollment' });
    expect(runner.status().lastRunAt).toBeUndefined();
    runner.startSchedule();
    tick();
    await new Promise((r) => setImmediate(r));
    expect(runner.status().state).toBe('idle');
    expect(requests).toHaveLength(0);
    runner.stopSchedule();
  });

  it('automatic sync waits for the host\'s reason (no settings saved yet) and starts once it is gone', async () => {
    let waiting: 'settings' | null = 'settings';
    const reports: CycleReport[] = [];
    const { runner, requests, tick, finish } = makeRunner({ waitingFor: () => waiting }, () => {
      if (waiting) throw new Error('No settings saved yet.');
      return settingsValue();
    });
    runner.onReport((r) => reports.push(r));
    runner.startSchedule();
    tick();
    await new Promise((r) => setImmediate(r));
    expect(requests).toHaveLength(0);
    expect(reports).toEqual([]);
    expect(runner.status()).toMatchObject({ state: 'idle', waitingFor: 'settings' });
    waiting = null;
    tick();
    await new Promise((r) => setImmediate(r));
    expect(requests).toHaveLength(1);
    expect(runner.status().waitingFor).toBeUndefined();
    await finish();
    runner.stopSchedule();
  });
});

describe('SyncRunner: events', () => {
  it('emits status changes, progress and the report, and unsubscribes', async () => {
    const { runner, finish } = makeRunner();
    const states: RunnerStatus['state'][] = [];
    const reports: CycleReport[] = [];
    const progress: number[] = [];
    const offStatus = runner.onStatus((s) => states.push(s.state));
    runner.onReport((r) => reports.push(r));
    runner.onProgress((p) => progress.push(p.usersDone));
    runner.onStatus(() => {
      throw new Error('a broken listener must not stop the cycle');
    });
    const run = runner.runNow();
    await new Promise((r) => setImmediate(r));
    await finish();
    await run;
    expect(states).toEqual(['syncing', 'idle']);
    expect(reports).toHaveLength(1);
    offStatus();
    const run2 = runner.runNow();
    await new Promise((r) => setImmediate(r));
    await finish();
    await run2;
    expect(states).toEqual(['syncing', 'idle']);
    expect(reports).toHaveLength(2);
    expect(progress).toEqual([]);
  });

  it('forwards the engine\'s progress to listeners and into status()', async () => {
    const { runner, requests, finish } = makeRunner();
    const seen: string[] = [];
    runner.onProgress((p) => seen.push(`${p.usersDone}/${p.usersTotal} ${p.currentUser ?? ''}`));
    const run = runner.runNow();
    await new Promise((r) => setImmediate(r));
    requests[0].onProgress({ usersDone: 1, usersTotal: 2, currentUser: 'mikko.lahtinen@contoso.example' });
    expect(runner.status().progress).toMatchObject({ usersDone: 1, usersTotal: 2, currentUser: 'mikko.lahtinen@contoso.example', startedAt: '2026-05-04T08:00:00.000Z' });
    await finish();
    await run;
    expect(seen).toEqual(['1/2 mikko.lahtinen@contoso.example']);
    expect(runner.status().progress).toBeUndefined();
  });

  it('a long first sync reports entries done and, once a person is done, the time left', async () => {
    const { runner, requests, finish } = makeRunner({}, () =>
      settingsValue({ enrollments: ['a', 'b', 'c', 'd'].map((n) => ({ email: `${n}@contoso.example`, syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' })) }),
    );
    const run = runner.runNow();
    await new Promise((r) => setImmediate(r));
    requests[0].onProgress({ usersDone: 0, usersTotal: 4, currentUser: 'a@contoso.example', entriesDone: 0 });
    clock += minutes(3);
    requests[0].onProgress({ usersDone: 0, usersTotal: 4, currentUser: 'a@contoso.example', entriesDone: 800 });
    // Nobody is done yet: no estimate rather than a guess.
    expect(runner.status().progress).toMatchObject({ entriesDone: 800 });
    expect(runner.status().progress?.secondsLeft).toBeUndefined();
    clock += minutes(1);
    requests[0].onProgress({ usersDone: 1, usersTotal: 4, currentUser: 'b@contoso.example', entriesDone: 1000 });
    // One person took 4 minutes; three are left.
    expect(runner.status().progress).toMatchObject({ usersDone: 1, entriesDone: 1000, secondsLeft: 12 * 60 });
    clock += minutes(2);
    requests[0].onProgress({ usersDone: 1, usersTotal: 4, currentUser: 'b@contoso.example', entriesDone: 1500 });
    expect(runner.status().progress?.secondsLeft).toBe(10 * 60);
    await finish();
    await run;
  });
});

describe('SyncRunner: restore and cycles never overlap', () => {
  it('a restore waits for the running cycle, and a cycle asked for during a restore waits for it', async () => {
    const fakePeers = { createCalendar: async () => ({}) as never, createSevera: async () => ({}) as never };
    const { runner, requests, finish } = makeRunner({ connectors: fakePeers });
    const cycle = runner.runNow();
    await new Promise((r) => setImmediate(r));
    let restored = false;
    const restore = runner.restoreDeletions(['not-a-number']).then((results) => {
      restored = true;
      return results;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(restored).toBe(false);
    await finish();
    await cycle;
    const results = await restore;
    expect(results).toEqual([{ id: 'not-a-number', ok: false, message: '"not-a-number" is not a journal entry number (see "restore --list").' }]);
    expect(requests).toHaveLength(1);
  });
});

describe('SyncRunner.check: results as they come', () => {
  const result = (id: string, ok = true) => ({ id, title: id, ok, message: `${id} ${ok ? 'passed' : 'failed'}` });

  it('passes each result on with its index as the checks report it, then any they only returned, each once and in order', async () => {
    const order: string[] = [];
    const { runner } = makeRunner({
      checks: async (_settings, onResult) => {
        onResult!(result('first'));
        order.push('first reported');
        await new Promise((r) => setImmediate(r));
        onResult!(result('second', false));
        order.push('second reported');
        return [result('first'), result('second', false), result('third')];
      },
    });
    const seen: string[] = [];
    const results = await runner.check({
      onResult: (r, index) => {
        seen.push(`${index}:${r.id}:${r.ok}`);
        order.push(`listener got ${r.id}`);
      },
    });
    expect(seen).toEqual(['0:first:true', '1:second:false', '2:third:true']);
    expect(results.map((r) => r.id)).toEqual(['first', 'second', 'third']);
    // Delivered while the checks ran, not in a batch at the end.
    expect(order).toEqual(['listener got first', 'first reported', 'listener got second', 'second reported', 'listener got third']);
  });

  it('reports the invalid-settings result too, and a failing listener stops neither the checks nor the other results', async () => {
    const bad = makeRunner({}, () => {
      throw new Error('intervalMinutes: too small');
    });
    const got: string[] = [];
    const invalid = await bad.runner.check({ onResult: (r) => got.push(r.id) });
    expect(got).toEqual(['settings']);
    expect(invalid).toHaveLength(1);

    const warnings: string[] = [];
    const { runner } = makeRunner({
      log: { info() {}, warn: (_o, msg) => void warnings.push(String(msg)), error() {} },
      checks: async (_settings, onResult) => {
        onResult!(result('a'));
        onResult!(result('b'));
        return [result('a'), result('b')];
      },
    });
    const indexes: number[] = [];
    const results = await runner.check({
      onResult: (_r, index) => {
        indexes.push(index);
        if (index === 0) throw new Error('window closed');
      },
    });
    expect(indexes).toEqual([0, 1]);
    expect(results.map((r) => r.id)).toEqual(['a', 'b']);
    expect(warnings).toHaveLength(1);
  });
});
