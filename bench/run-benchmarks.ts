import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { orgSettings } from '../src-main/common/settings-schema.ts';
import type { CycleReport } from '../src-main/common/sync-report.ts';
import { EwsCalendarConnector } from '../src-main/exchange/ews/ews-calendar-connector.ts';
import { formatTable } from '../src-main/cli/cli-output.ts';
import { ewsConnectorOptions } from '../src-main/runner/connector-factory.ts';
import { EnvSecretSource } from '../src-main/runner/env-secret-source.ts';
import type { ConnectorFactory } from '../src-main/runner/runner-types.ts';
import { SyncRunner } from '../src-main/runner/sync-runner.ts';
import { SeveraClient } from '../src-main/severa/severa-client.ts';
import { BENCH_CLIENT, BENCH_DELEGATE, BENCH_TYPE, benchEmail } from './bench-workload.ts';
import type { HostCounters, HostReply, HostRequest } from './bench-peer-host.ts';

/**
 * npm run bench [-- --preset small|large] [--users N --items M] [--severa-rate R] [--skip-peer-bench]
 *
 * N users x M items on both sides, synced by the real runner, engine, Severa client and EWS connector over HTTP against
 * the simulators (in a child process, so the memory figures are the sync's own). Prints: the initial sync, a cycle with
 * no change, cycles with K = 10 and K = 100 changes (requests per side), peak memory; then the simulators' own
 * per-request CPU benchmarks. Figures only: nothing here passes or fails.
 */

const PRESETS = { small: { users: 20, items: 50 }, large: { users: 1000, items: 500 } } as const;
const USAGE = 'usage: npm run bench -- [--preset small|large] [--users N --items M] [--severa-rate <requests/s, 0 = no limit>] [--skip-peer-bench]';

function options() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      preset: { type: 'string', default: 'small' },
      users: { type: 'string' },
      items: { type: 'string' },
      'severa-rate': { type: 'string', default: '0' },
      'skip-peer-bench': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const preset = PRESETS[values.preset as keyof typeof PRESETS];
  if (!preset) throw new Error(`Unknown preset "${values.preset}"; use small or large.\n${USAGE}`);
  const int = (text: string | undefined, fallback: number, name: string) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not "${text}".\n${USAGE}`);
    return n;
  };
  const users = int(values.users, preset.users, 'users');
  const items = int(values.items, preset.items, 'items');
  if (users < 1 || items < 1) throw new Error(`--users and --items must be at least 1.\n${USAGE}`);
  return { users, items, severaRate: int(values['severa-rate'], 0, 'severa-rate'), skipPeerBench: values['skip-peer-bench'], preset: values.users || values.items ? 'custom' : values.preset };
}

/** The peers in a child process, asked over IPC. */
class PeerHost {
  readonly #child: ChildProcess;
  #pending: ((reply: HostReply) => void) | null = null;
  readonly ready: Promise<Extract<HostReply, { type: 'ready' }>>;

  constructor(users: number, items: number) {
    this.#child = fork(new URL('./bench-peer-host.ts', import.meta.url), [String(users), String(items)], { execPath: process.execPath, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      this.#pending = (reply) => (reply.type === 'ready' ? resolve(reply) : reject(new Error(reply.type === 'error' ? reply.message : 'the simulators did not start')));
      this.#child.once('exit', (code) => reject(new Error(`the simulator process ended (exit ${code})`)));
    });
    this.#child.on('message', (reply: HostReply) => {
      const pending = this.#pending;
      this.#pending = null;
      pending?.(reply);
    });
  }

  ask(req: HostRequest): Promise<HostReply> {
    return new Promise((resolve, reject) => {
      this.#pending = (reply) => (reply.type === 'error' ? reject(new Error(reply.message)) : resolve(reply));
      this.#child.send(req);
    });
  }

  async counters(): Promise<HostCounters> {
    const reply = await this.ask({ type: 'counters' });
    if (reply.type !== 'counters') throw new Error('unexpected answer from the simulator process');
    return reply.counters;
  }
}

/**
 * Time passing between cycles without waiting for it: this process's clock (Date) and both servers' clocks move forward
 * together, by one sync interval per cycle. Back-to-back cycles would otherwise keep re-reading the initial sync, since
 * the sync re-reads the last two minutes of Severa changes each cycle.
 */
let clockAdvanceMs = 0;
function installMovableClock(): void {
  const RealDate = Date;
  class MovableDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + clockAdvanceMs);
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return RealDate.now() + clockAdvanceMs;
    }
  }
  globalThis.Date = MovableDate as DateConstructor;
}

/** Peak RSS and heap of this process while `work` runs (sampled every 25 ms, plus the OS's max RSS at the end). */
async function withMemory<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; peakHeapMb: number; peakRssMb: number }> {
  let peakHeap = 0;
  let peakRss = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  };
  const timer = setInterval(sample, 25);
  const t0 = performance.now();
  try {
    const result = await work();
    sample();
    return { result, ms: performance.now() - t0, peakHeapMb: peakHeap / 2 ** 20, peakRssMb: peakRss / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

interface Row {
  phase: string;
  seconds: string;
  ewsRequests: number;
  ewsPerUser: string;
  severaRequests: number;
  changes: number;
  errors: number;
  heapMb: string;
  rssMb: string;
}

const totalChanges = (r: CycleReport) =>
  r.users.reduce((n, u) => n + u.toExchange.created + u.toExchange.updated + u.toExchange.deleted + u.toSevera.created + u.toSevera.updated + u.toSevera.deleted, 0);
const allErrors = (r: CycleReport) => [...r.errors, ...r.users.flatMap((u) => u.errors)];

async function main(): Promise<void> {
  const opts = options();
  installMovableClock();
  console.log(`Benchmark: ${opts.users} users x ${opts.items} items on each side (preset ${opts.preset}); Severa client limit ${opts.severaRate === 0 ? 'off' : `${opts.severaRate} requests/s`}.`);
  const host = new PeerHost(opts.users, opts.items);
  const ready = await host.ready;
  console.log(`Simulators ready in ${(ready.seedMs / 1000).toFixed(1)} s (child process).`);
  const dataDir = mkdtempSync(join(tmpdir(), 'scs-bench-'));
  const settings = orgSettings.parse({
    exchange: { serverType: 'Exchange2016', ewsUrl: ready.ewsUrl, domain: 'BENCH', username: BENCH_DELEGATE.username, authMethod: 'basic' },
    severa: { apiUrl: ready.severaUrl, clientId: BENCH_CLIENT.clientId },
    activityTypesToExchange: [BENCH_TYPE],
    // Bulk edits are the benchmark's point; the guard is for deletions, which it does not make.
    enrollments: Array.from({ length: opts.users }, (_, u) => ({ email: benchEmail(u), syncStartDate: new Date().toISOString().slice(0, 10), enabledAt: new Date().toISOString() })),
  });
  const secrets = new EnvSecretSource({ SCS_EXCHANGE_PASSWORD: BENCH_DELEGATE.password, SCS_SEVERA_CLIENT_SECRET: BENCH_CLIENT.clientSecret });
  const connectors: ConnectorFactory = {
    async createCalendar(s, sec) {
      let requests = 0;
      const connector = new EwsCalendarConnector({ ...(await ewsConnectorOptions(s, sec)), onRequest: () => void requests++ });
      return Object.assign(connector, { requestCount: () => requests });
    },
    async createSevera(s, sec) {
      return new SeveraClient({ baseUrl: s.severa.apiUrl, clientId: s.severa.clientId, clientSecret: (await sec.get('severa-client-secret'))!, rateLimitPerSecond: opts.severaRate });
    },
  };
  const runner = new SyncRunner({ loadSettings: () => settings, secrets, dataDir, connectors });
  const rows: Row[] = [];
  const details: string[] = [];

  const cycle = async (phase: string) => {
    const intervalMs = settings.intervalMinutes * 60_000;
    await host.ask({ type: 'advance', ms: intervalMs });
    clockAdvanceMs += intervalMs;
    await host.ask({ type: 'reset' });
    const measured = await withMemory(() => runner.runNow());
    const counters = await host.counters();
    const report = measured.result;
    const syncFolderItems = counters.ews.byOperation.SyncFolderItems ?? 0;
    rows.push({
      phase,
      seconds: (measured.ms / 1000).toFixed(2),
      ewsRequests: counters.ews.total,
      ewsPerUser: (counters.ews.total / opts.users).toFixed(2),
      severaRequests: counters.severa.total,
      changes: totalChanges(report),
      errors: allErrors(report).length,
      heapMb: measured.peakHeapMb.toFixed(0),
      rssMb: measured.peakRssMb.toFixed(0),
    });
    const ops = Object.entries(counters.ews.byOperation).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    const routes = Object.entries(counters.severa.byRoute).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    details.push(`${phase}:\n  EWS by operation: ${ops || 'none'} (SyncFolderItems per user: ${(syncFolderItems / opts.users).toFixed(2)})\n  Severa by route: ${routes || 'none'}`);
    const firstError = allErrors(report)[0];
    if (firstError) details.push(`  first error: ${firstError.message}`);
    return report;
  };

  try {
    await cycle('initial sync');
    // The next cycle reads back the initial sync's own writes once (the echo it recognises and skips).
    await cycle('first incremental');
    await cycle('no change');
    for (const k of [10, 100]) {
      await host.ask({ type: 'edit', exchange: k / 2, severa: k / 2, round: k });
      await cycle(`K = ${k} changes`);
    }
  } finally {
    await host.ask({ type: 'close' }).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }

  console.log('');
  console.log(
    formatTable(
      ['cycle', 'seconds', 'EWS requests', 'EWS per user', 'Severa requests', 'changes', 'errors', 'peak heap MB', 'peak RSS MB'],
      rows.map((r) => [r.phase, r.seconds, String(r.ewsRequests), r.ewsPerUser, String(r.severaRequests), String(r.changes), String(r.errors), r.heapMb, r.rssMb]),
    ),
  );
  console.log('');
  console.log(details.join('\n'));
  const initial = rows[0];
  console.log('');
  console.log(`At Severa's 10 requests/s the initial sync's ${initial.severaRequests} Severa requests need at least ${(initial.severaRequests / 10).toFixed(0)} s.`);
  console.log(`Process max RSS (whole run, sync side only): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB.`);

  if (!opts.skipPeerBench) {
    console.log('\nSimulators\' own per-request CPU benchmarks:');
    for (const [name, path, fn] of [
      ['EWS simulator', '../test/peers/ews/bench-ews-simulator.ts', 'benchEwsSimulator'],
      ['Severa simulator', '../test/peers/severa/bench-severa-simulator.ts', 'benchSeveraSimulator'],
    ] as const) {
      try {
        const mod = (await import(path)) as Record<string, () => Promise<string[]>>;
        const lines = await mod[fn]();
        console.log(`${name}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
      } catch (error) {
        console.log(`${name}: benchmark not available (${(error as Error).message.split('\n')[0]})`);
      }
    }
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
