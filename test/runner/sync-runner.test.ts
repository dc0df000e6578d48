import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { auditOf, orgSettings } from '../../src-main/common/settings-schema.ts';
import type { OrgSettings } from '../../src-main/common/settings-schema.ts';
import type { CycleReport } from '../../src-main/common/sync-report.ts';
import { EnvSecretSource } from '../../src-main/runner/env-secret-source.ts';
import { SyncRunner } from '../../src-main/runner/sync-runner.ts';
import type { CycleFunction, SyncRunnerOptions } from '../../src-main/runner/sync-runner-options.ts';
import type { CycleRequest, LastAudit, RunnerStatus } from '../../src-main/runner/runner-types.ts';
import type { AuditReport } from '../../src-main/sync/agreement-audit.ts';

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
