import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { orgSettings } from '../../src-main/common/settings-schema.ts';
import type { OrgSettings } from '../../src-main/common/settings-schema.ts';
import type { CycleReport } from '../../src-main/common/sync-report.ts';
import { EnvSecretSource } from '../../src-main/runner/env-secret-source.ts';
import { SyncRunner } from '../../src-main/runner/sync-runner.ts';
import type { CycleFunction, SyncRunnerOptions } from '../../src-main/runner/sync-runner.ts';
import type { CycleRequest, RunnerStatus } from '../../src-main/runner/runner-types.ts';

const settingsValue = (overrides: Record<string, unknown> = {}): OrgSettings =>
  orgSettings.parse({
    exchange: { serverType: 'Exchange2016', ewsUrl: 'https://mail.contoso.example/EWS/Exchange.asmx', domain: 'CONTOSO', username: 'svc-severa-sync' },
    severa: { clientId: 'demo-client-id' },
    intervalMinutes: 15,
    enrollments: [
      { email: 'aino.virtanen@contoso.example', syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' },
      { email: 'mikko.lahtinen@contoso.example', syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' },
      { email: 'sara.nieminen@contoso.example', syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z', paused: true },
    ],
    ...overrides,
  });

function reportFor(request: CycleRequest, outcome: CycleReport['outcome'], at: string): CycleReport {
  return {
    startedAt: at,
    finishedAt: at,
    dryRun: request.dryRun,
    outcome,
    users: request.users.map((u) => ({
      email: u.email,
      outcome: outcome === 'failed' ? 'failed' : 'ok',
      toSevera: { created: 1, updated: 0, deleted: 0 },
      toExchange: { created: 0, updated: 0, deleted: 0 },
      conflicts: 0,
      heldDeletions: 0,
      changes: [],
      errors: outcome === 'failed' ? [{ code: 'auth', message: 'Login failed.' }] : [],
      notes: [],
      firstSync: true,
    })),
    errors: [],
    requests: { severa: 1, exchange: request.users.length },
    clockOffsetMs: { severa: 0, exchange: 0 },
    severaDeletionLatencyCycles: 1,
  };
}

/** A cycle whose completion the test controls, recording every request. */
function controllableCycle(now: () => number) {
  const requests: CycleRequest[] = [];
  const pending: Array<{ resolve: (r: CycleReport) => void; reject: (e: unknown) => void; request: CycleRequest }> = [];
  let nextOutcome: CycleReport['outcome'] | 'throw' = 'ok';
  const cycle: CycleFunction = (request) => {
    requests.push(request);
    return new Promise<CycleReport>((resolve, reject) => pending.push({ resolve, reject, request }));
  };
  const finish = async () => {
    const p = pending.shift();
    if (!p) throw new Error('no cycle is running');
    if (nextOutcome === 'throw') p.reject(new Error('engine exploded'));
    else p.resolve(reportFor(p.request, nextOutcome, new Date(now()).toISOString()));
    // Let the runner's bookkeeping (finally handlers) run.
    await new Promise((r) => setImmediate(r));
  };
  return { cycle, requests, finish, setOutcome: (o: typeof nextOutcome) => (nextOutcome = o), pendingCount: () => pending.length };
}

/** A scheduler the test ticks by hand, like node-cron would once a minute. */
function manualScheduler() {
  let tickFn: (() => void) | null = null;
  return {
    scheduler: (tick: () => void) => {
      tickFn = tick;
      return { stop: () => (tickFn = null) };
    },
    tick: () => tickFn?.(),
    running: () => tickFn !== null,
  };
}

let dataDir: string;
let clock: number;
const now = () => clock;
const minutes = (n: number) => n * 60_000;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'runner-test-'));
  clock = Date.parse('2026-05-04T08:00:00Z');
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dataDir, { recursive: true, force: true });
});

function makeRunner(extra: Partial<SyncRunnerOptions> = {}, settings: () => OrgSettings = () => settingsValue()) {
  const c = controllableCycle(now);
  const s = manualScheduler();
  const runner = new SyncRunner({ loadSettings: settings, secrets: new EnvSecretSource({}), dataDir, now, cycle: c.cycle, scheduler: s.scheduler, ...extra });
  return { runner, ...c, ...s };
}

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
