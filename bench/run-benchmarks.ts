import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { orgSettings } from '../src-main/common/settings-schema.ts';
import { cycleDetails, cycleTable, goalTable, type CycleResult, type RunResult } from './bench-figures.ts';
import type { EditRound, ExchangeKind, HostCounters, HostReply, HostRequest } from './bench-peer-host.ts';
import type { CycleFigures, SyncHostReply, SyncHostRequest } from './bench-sync-host.ts';
import { BENCH_CLIENT, BENCH_DELEGATE, BENCH_GRAPH, BENCH_TYPE, benchEmail } from './bench-workload.ts';

/**
 * npm run bench [-- --preset small|medium|large|huge] [--users N --entries M] [--exchange ews|graph|both]
 *               [--severa-rate R] [--latency-ms N] [--heap-snapshot DIR] [--skip-peer-bench]
 *
 * N users x M entries on each side, synced by the real runner, engine, store, Severa client and Exchange connector (EWS
 * or Graph) over HTTP against the simulators. Three processes: this one only orchestrates and prints; the simulators
 * run in bench-peer-host.ts and the sync in bench-sync-host.ts, so the sync's CPU and memory are its own. Cycles: the
 * initial sync, the first incremental cycle (which reads the initial sync's writes back), a cycle with no change, and
 * cycles with K = 10 and K = 100 changes (half made in Exchange, half in Severa). Prints a row per cycle, the requests
 * by operation, and the goals (issue 13; issue 12 item 3) as measured figures beside their targets. Figures only:
 * nothing here passes or fails.
 */

const PRESETS = {
  small: { users: 20, entries: 50 },
  medium: { users: 1000, entries: 50 },
  large: { users: 1000, entries: 500 },
  huge: { users: 1000, entries: 1000 },
} as const;
const USAGE =
  'usage: npm run bench -- [--preset small|medium|large|huge] [--users N --entries M] [--exchange ews|graph|both] [--severa-rate <requests/s, 0 = no limit>] [--latency-ms N] [--heap-snapshot DIR] [--skip-peer-bench]';

function options() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      preset: { type: 'string', default: 'small' },
      users: { type: 'string' },
      entries: { type: 'string' },
      items: { type: 'string' },
      exchange: { type: 'string', default: 'both' },
      'severa-rate': { type: 'string', default: '0' },
      'latency-ms': { type: 'string', default: '5' },
      'heap-snapshot': { type: 'string' },
      'skip-peer-bench': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const preset = PRESETS[values.preset as keyof typeof PRESETS];
  if (!preset) throw new Error(`Unknown preset "${values.preset}"; use small, medium, large or huge.\n${USAGE}`);
  const int = (text: string | undefined, fallback: number, name: string) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not "${text}".\n${USAGE}`);
    return n;
  };
  const users = int(values.users, preset.users, 'users');
  const entries = int(values.entries ?? values.items, preset.entries, 'entries');
  if (users < 1 || entries < 1) throw new Error(`--users and --entries must be at least 1.\n${USAGE}`);
  const exchange = values.exchange === 'both' ? (['ews', 'graph'] as const) : values.exchange === 'ews' || values.exchange === 'graph' ? [values.exchange] : null;
  if (!exchange) throw new Error(`--exchange must be ews, graph or both.\n${USAGE}`);
  return {
    users,
    entries,
    exchange: exchange as readonly ExchangeKind[],
    severaRate: int(values['severa-rate'], 0, 'severa-rate'),
    latencyMs: int(values['latency-ms'], 5, 'latency-ms'),
    heapSnapshotDir: values['heap-snapshot'],
    skipPeerBench: values['skip-peer-bench'],
    preset: values.users || values.entries || values.items ? 'custom' : values.preset,
  };
}

/** A child process spoken to one request at a time over IPC. */
class Child<Req, Reply extends { type: string }> {
  readonly #child: ChildProcess;
  #pending: ((reply: Reply) => void) | null = null;
  readonly first: Promise<Reply>;

  constructor(script: string, args: string[], execArgv: string[] = []) {
    this.#child = fork(new URL(script, import.meta.url), args, { execPath: process.execPath, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.first = new Promise((resolve, reject) => {
      this.#pending = (reply) => (reply.type === 'error' ? reject(new Error((reply as unknown as { message: string }).message)) : resolve(reply));
      this.#child.once('exit', (code) => reject(new Error(`${script} ended (exit ${code})`)));
    });
    this.#child.on('message', (reply: Reply) => {
      const pending = this.#pending;
      this.#pending = null;
      pending?.(reply);
    });
  }

  ask(req: Req): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.#pending = (reply) => (reply.type === 'error' ? reject(new Error((reply as unknown as { message: string }).message)) : resolve(reply));
      this.#child.send(req as object);
    });
  }

  kill(): void {
    this.#child.kill();
  }
}

function settingsFor(kind: ExchangeKind, users: number, exchangeUrl: string, severaUrl: string, caFile: string | null): unknown {
  const today = new Date().toISOString().slice(0, 10);
  const exchange =
    kind === 'ews'
      ? { serverType: 'Exchange2016', ewsUrl: exchangeUrl, domain: 'BENCH', username: BENCH_DELEGATE.username, authMethod: 'basic' }
      : { serverType: 'Office365', tenantId: BENCH_GRAPH.tenantId, clientId: BENCH_GRAPH.clientId, credential: 'secret', authorityHost: exchangeUrl, graphUrl: exchangeUrl, caFile };
  return orgSettings.parse({
    exchange,
    severa: { apiUrl: severaUrl, clientId: BENCH_CLIENT.clientId },
    activityTypesToExchange: [BENCH_TYPE],
    // Bulk edits are the benchmark's point; the guard is for deletions, which it does not make.
    enrollments: Array.from({ length: users }, (_, u) => ({ email: benchEmail(u), syncStartDate: today, enabledAt: new Date().toISOString() })),
  });
}

async function benchRun(kind: ExchangeKind, opts: ReturnType<typeof options>): Promise<RunResult> {
  const t0 = performance.now();
  const peers = new Child<HostRequest, HostReply>('./bench-peer-host.ts', [kind, String(opts.users), String(opts.entries), String(opts.latencyMs)], ['--max-old-space-size=16384']);
  const ready = (await peers.first) as Extract<HostReply, { type: 'ready' }>;
  console.log(`${kind === 'ews' ? 'EWS' : 'Graph'} and Severa simulators ready in ${(ready.seedMs / 1000).toFixed(1)} s (their own process).`);
  const dir = mkdtempSync(join(tmpdir(), 'scs-bench-'));
  let caFile: string | null = null;
  if (ready.caPem) {
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, ready.caPem);
  }
  const sync = new Child<SyncHostRequest, SyncHostReply>('./bench-sync-host.ts', [], ['--expose-gc']);
  const cycles: CycleResult[] = [];
  try {
    await sync.first;
    const settings = settingsFor(kind, opts.users, ready.exchangeUrl, ready.severaUrl, caFile);
    const secrets = { SCS_EXCHANGE_PASSWORD: BENCH_DELEGATE.password, SCS_SEVERA_CLIENT_SECRET: BENCH_CLIENT.clientSecret, SCS_GRAPH_CLIENT_SECRET: BENCH_GRAPH.clientSecret };
    const init = (await sync.ask({ type: 'init', settings, secrets, severaRate: opts.severaRate })) as Extract<SyncHostReply, { type: 'ready' }>;
    const intervalMs = 15 * 60_000;
    const cycle = async (phase: string, edits?: EditRound) => {
      await peers.ask({ type: 'advance', ms: intervalMs });
      await peers.ask({ type: 'reset' });
      // Snapshots of the initial sync only (the largest report and working set); they slow that cycle down.
      const snapshots = opts.heapSnapshotDir && phase === 'initial sync' ? { dir: opts.heapSnapshotDir, label: `sync-${kind}-${opts.users}x${opts.entries}-initial` } : undefined;
      const reply = await sync.ask({ type: 'cycle', advanceMs: intervalMs, ...(snapshots ? { snapshots } : {}) });
      if (reply.type !== 'figures') throw new Error('unexpected answer from the sync process');
      const counters = (await peers.ask({ type: 'counters' })) as { type: 'counters'; counters: HostCounters };
      const result: CycleResult = { phase, sync: reply.figures as CycleFigures, peers: counters.counters, ...(edits ? { edits } : {}) };
      cycles.push(result);
      console.error(`  ${kind}: ${phase} done in ${(result.sync.wallMs / 1000).toFixed(1)} s`);
    };
    await cycle('initial sync');
    await cycle('first incremental');
    await cycle('no change');
    for (const k of [10, 100]) {
      const edited = (await peers.ask({ type: 'edit', exchange: k / 2, severa: k / 2, round: k })) as Extract<HostReply, { type: 'edited' }>;
      await cycle(`K = ${k} changes`, edited.round);
    }
    if (opts.heapSnapshotDir) {
      const path = join(opts.heapSnapshotDir, `sync-${kind}-${opts.users}x${opts.entries}-last.heapsnapshot`);
      await sync.ask({ type: 'snapshot', path });
      console.log(`Heap snapshots of the sync process (initial sync at 95 % of the users and after it, after the last cycle) in ${opts.heapSnapshotDir}: npm run bench:heap -- <file> (this run's initial-sync figures include writing them)`);
    }
    await sync.ask({ type: 'close' }).catch(() => undefined);
    return { kind, users: opts.users, perUser: opts.entries, severaRate: opts.severaRate, baseHeapMb: init.heapAfterGcMb, cycles, seconds: (performance.now() - t0) / 1000 };
  } finally {
    sync.kill();
    await peers.ask({ type: 'close' }).catch(() => undefined);
    peers.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--latency')) {
    // Near real time, measured (latency-bench.ts): its own options.
    const { runLatencyBench } = await import('./latency-bench.ts');
    return runLatencyBench(process.argv.slice(2).filter((a) => a !== '--latency'));
  }
  const opts = options();
  console.log(
    `Benchmark: ${opts.users} users x ${opts.entries} entries on each side (${2 * opts.users * opts.entries} entries; preset ${opts.preset}); ` +
      `Severa client limit ${opts.severaRate === 0 ? 'off' : `${opts.severaRate} requests/s`}; Exchange: ${opts.exchange.join(' and ')}; each server answers ${opts.latencyMs} ms later (network and server time; --latency-ms).`,
  );
  const runs: RunResult[] = [];
  for (const kind of opts.exchange) runs.push(await benchRun(kind, opts));
  for (const r of runs) {
    const side = r.kind === 'ews' ? 'Exchange on-premises (EWS)' : 'Exchange Online (Graph)';
    console.log(`\n== ${side}: ${r.users} x ${r.perUser}, ${r.seconds.toFixed(0)} s in all ==\n`);
    console.log(cycleTable(r));
    console.log('');
    console.log(cycleDetails(r).join('\n'));
    console.log('');
    console.log(goalTable(r));
  }
  console.log('\nAn entry is one calendar item or one activity: N x M on each side. CPU and heap are the sync process\'s own;');
  console.log('the simulators run in another process (their CPU is printed apart). Heap after GC: at the cycle\'s end, with the');
  console.log('runner holding the report (in brackets: the largest heap left by a major GC during the cycle).');

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
