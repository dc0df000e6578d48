import { orgSettings } from '../../src-main/common/settings-schema.ts';
import type { OrgSettings } from '../../src-main/common/settings-schema.ts';
import type { CycleReport } from '../../src-main/common/sync-report.ts';
import { EnvSecretSource } from '../../src-main/runner/env-secret-source.ts';
import { SyncRunner } from '../../src-main/runner/sync-runner.ts';
import type { CycleFunction, SyncRunnerOptions } from '../../src-main/runner/sync-runner-options.ts';
import type { CycleRequest } from '../../src-main/runner/runner-types.ts';

/**
 * Shared fakes for the SyncRunner tests (sync-runner-cycles, sync-runner-schedule, sync-runner-audit): settings with
 * three enrollments (one paused), a cycle the test finishes by hand and a scheduler the test ticks by hand.
 *
 * The clock and the data dir stay in each test file, because the tests move the clock by assigning to it.
 */

export const settingsValue = (overrides: Record<string, unknown> = {}): OrgSettings =>
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

export const minutes = (n: number) => n * 60_000;

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

/**
 * The test file's `makeRunner`: a runner over the file's data dir and clock (read when a runner is made), with a
 * controllable cycle and a manual scheduler. It returns the runner together with their handles
 * (requests, finish, setOutcome, pendingCount, tick, running).
 */
export function runnerMaker(env: { dataDir: () => string; now: () => number }) {
  return function makeRunner(extra: Partial<SyncRunnerOptions> = {}, settings: () => OrgSettings = () => settingsValue()) {
    const c = controllableCycle(env.now);
    const s = manualScheduler();
    const runner = new SyncRunner({ loadSettings: settings, secrets: new EnvSecretSource({}), dataDir: env.dataDir(), now: env.now, cycle: c.cycle, scheduler: s.scheduler, ...extra });
    return { runner, ...c, ...s };
  };
}
