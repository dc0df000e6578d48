import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { orgSettings, realTimeOf, type OrgSettings } from '../src-main/common/settings-schema.ts';
import type { CycleReport } from '../src-main/common/sync-report.ts';
import { defaultConnectorFactory } from '../src-main/runner/connector-factory.ts';
import { EnvSecretSource } from '../src-main/runner/env-secret-source.ts';
import type { ConnectorFactory } from '../src-main/runner/runner-types.ts';
import { SyncRunner } from '../src-main/runner/sync-runner.ts';
import { SeveraClient } from '../src-main/severa/severa-client.ts';
import { BENCH_CLIENT, BENCH_DELEGATE, BENCH_GRAPH, BENCH_TYPE, benchEmail } from './bench-workload.ts';
import type { Direction, LatencyCounters, LatencyHostReply, LatencyHostRequest, LatencyKind } from './latency-peer-host.ts';

/**
 * npm run bench -- --latency [--users 1000] [--items 5] [--kinds ews-streaming,ews-polling,graph]
 *                            [--idle-seconds 60] [--edit-seconds 60] [--edits-per-second 1]
 *
 * Near real time, measured: N users on the simulators (their own process), synced once, then real time on with the
 * product's settings (Severa client at its 10 requests/s). First a quiet minute: requests per minute on each side and
 * the sync process's CPU with nothing to do. Then users edit at random on both sides (a Poisson stream per side, a random
 * user each time): the time from each edit to its arrival on the other side, p50 / p95 / max per direction. This
 * process is the sync process (runner, engine, store, connectors); nothing else runs in it while it measures.
 */

const KINDS: readonly LatencyKind[] = ['ews-streaming', 'ews-polling', 'graph'];
const USAGE = 'usage: npm run bench -- --latency [--users N] [--items M] [--kinds ews-streaming,ews-polling,graph] [--idle-seconds S] [--edit-seconds S] [--edits-per-second R]';

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string', default: '1000' },
      items: { type: 'string', default: '5' },
      kinds: { type: 'string', default: KINDS.join(',') },
      'idle-seconds': { type: 'string', default: '60' },
      'edit-seconds': { type: 'string', default: '60' },
      'edits-per-second': { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number of at least ${min}, not "${text}".\n${USAGE}`);
    return n;
  };
  const kinds = values.kinds.split(',').map((k) => k.trim()) as LatencyKind[];
  for (const k of kinds) if (!KINDS.includes(k)) throw new Error(`Unknown kind "${k}"; use ${KINDS.join(', ')}.\n${USAGE}`);
  return {
    users: Math.round(num('users', values.users, 1)),
    items: Math.round(num('items', values.items, 1)),
    kinds,
    idleSeconds: num('idle-seconds', values['idle-seconds'], 1),
    editSeconds: num('edit-seconds', values['edit-seconds'], 1),
    editsPerSecond: num('edits-per-second', values['edits-per-second'], 0.01),
  };
}

class Host {
  readonly #child: ChildProcess;
  #pending: ((reply: LatencyHostReply) => void) | null = null;
  /** One question at a time: the answers come back in order. */
  #chain: Promise<unknown> = Promise.resolve();
  readonly ready: Promise<Extract<LatencyHostReply, { type: 'ready' }>>;

  constructor(kind: LatencyKind, users: number, items: number) {
    this.#child = fork(new URL('./latency-peer-host.ts', import.meta.url), [kind, String(users), String(items)], { execPath: process.execPath, execArgv: ['--max-old-space-size=8192'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      this.#pending = (reply) => (reply.type === 'ready' ? resolve(reply) : reject(new Error(reply.type === 'error' ? reply.message : 'the simulators did not start')));
      this.#child.once('exit', (code) => reject(new Error(`the simulator process ended (exit ${code})`)));
    });
    this.#child.on('message', (reply: LatencyHostReply) => {
      const pending = this.#pending;
      this.#pending = null;
      pending?.(reply);
    });
  }

  ask<T extends LatencyHostReply['type']>(req: LatencyHostRequest): Promise<Extract<LatencyHostReply, { type: T }>> {
    const answer = this.#chain.then(
      () =>
        new Promise<Extract<LatencyHostReply, { type: T }>>((resolve, reject) => {
          this.#pending = (reply) => (reply.type === 'error' ? reject(new Error(reply.message)) : resolve(reply as Extract<LatencyHostReply, { type: T }>));
          this.#child.send(req);
        }),
    );
    this.#chain = answer.catch(() => undefined);
    return answer;
  }

  async counters(): Promise<LatencyCounters> {
    return (await this.ask<'counters'>({ type: 'counters' })).counters;
  }

  kill(): void {
    this.#child.kill();
  }
}

function settingsFor(kind: LatencyKind, users: number, exchangeUrl: string, severaUrl: string, caFile: string | null): OrgSettings {
  const today = new Date().toISOString().slice(0, 10);
  const exchange =
    kind === 'graph'
      ? { serverType: 'Office365', tenantId: BENCH_GRAPH.tenantId, clientId: BENCH_GRAPH.clientId, credential: 'secret', authorityHost: exchangeUrl, graphUrl: exchangeUrl, caFile }
      : { serverType: kind === 'ews-polling' ? 'Exchange2007_SP1' : 'Exchange2016', ewsUrl: exchangeUrl, domain: 'BENCH', username: BENCH_DELEGATE.username, authMethod: 'basic' };
  return orgSettings.parse({
    exchange,
    severa: { apiUrl: severaUrl, clientId: BENCH_CLIENT.clientId },
    activityTypesToExchange: [BENCH_TYPE],
    enrollments: Array.from({ length: users }, (_, u) => ({ email: benchEmail(u), syncStartDate: today, enabledAt: new Date().toISOString() })),
    realTime: { enabled: true },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

interface KindResult {
  kind: LatencyKind;
  users: number;
  initialSeconds: number;
  initialOutcome: CycleReport['outcome'];
  watchedSeconds: number;
  modes: Record<string, number>;
  idle: { seconds: number; exchangePerMinute: number; exchangeInBatchPerMinute: number; severaPerMinute: number; cpuPercent: number; liveCycles: number; simulatorsCpuPercent: number };
  edits: Record<Direction, { sent: number; latencies: number[] }>;
  waiting: number;
  editPhase: { seconds: number; liveCycles: number; exchangeRequests: number; severaRequests: number; severaByRoute: Record<string, number>; cpuPercent: number };
  /** Live cycles of the edit phase: how long each took, how many users it had, and those that changed nothing. */
  cycles: { durations: number[]; users: number[]; idle: number };
}

async function runKind(kind: LatencyKind, o: ReturnType<typeof options>): Promise<KindResult> {
  const host = new Host(kind, o.users, o.items);
  const dir = mkdtempSync(join(tmpdir(), 'scs-latency-'));
  let runner: SyncRunner | null = null;
  try {
    const ready = await host.ready;
    let caFile: string | null = null;
    if (ready.caPem) {
      caFile = join(dir, 'ca.pem');
      writeFileSync(caFile, ready.caPem);
    }
    const settings = settingsFor(kind, o.users, ready.exchangeUrl, ready.severaUrl, caFile);
    const secrets = new EnvSecretSource({ SCS_EXCHANGE_PASSWORD: BENCH_DELEGATE.password, SCS_SEVERA_CLIENT_SECRET: BENCH_CLIENT.clientSecret, SCS_GRAPH_CLIENT_SECRET: BENCH_GRAPH.clientSecret });
    // The first sync of everyone without Severa's 10 requests/s (it would take an hour); real time with it.
    let severaRate = 0;
    const connectors: ConnectorFactory = {
      createCalendar: (s, sec) => defaultConnectorFactory.createCalendar(s, sec),
      createSevera: async (s, sec) => new SeveraClient({ baseUrl: s.severa.apiUrl, clientId: s.severa.clientId, clientSecret: (await sec.get('severa-client-secret'))!, rateLimitPerSecond: severaRate }),
    };
    runner = new SyncRunner({ loadSettings: () => settings, secrets, dataDir: join(dir, 'data'), connectors });
    const t0 = performance.now();
    const initial = await runner.runNow();
    const initialSeconds = (performance.now() - t0) / 1000;
    const failed = initial.users.filter((u) => u.outcome === 'failed');
    const problems = [...initial.errors, ...initial.users.flatMap((u) => u.errors.map((e) => ({ ...e, message: `${u.email}: ${e.message}` })))];
    console.error(`  ${kind}: first sync of ${o.users} users in ${initialSeconds.toFixed(0)} s (${initial.outcome}${problems.length ? `; ${problems.length} problems, e.g. ${problems.slice(0, 2).map((p) => p.message).join(' / ')}` : ''})`);
    const mapped = await host.ask<'mapped'>({ type: 'map' });
    if (mapped.users < o.users) console.error(`  ${kind}: ${o.users - mapped.users} users without mapped entries (${mapped.missing.join(', ')})`);
    severaRate = 10;

    const t1 = performance.now();
    runner.startSchedule();
    const watched = () => {
      const live = runner!.status().live;
      const users = Object.values(live?.users ?? {});
      // Users whose first sync failed are not watched (nothing to watch from).
      return live?.on === true && users.length === o.users && users.filter((u) => u.mode === 'off').length <= failed.length && live.severa.mode === 'live';
    };
    while (!watched()) {
      if (performance.now() - t1 > 600_000) throw new Error(`${kind}: not every user was watched after 10 minutes`);
      await sleep(200);
    }
    const watchedSeconds = (performance.now() - t1) / 1000;
    const modes: Record<string, number> = {};
    for (const u of Object.values(runner.status().live!.users)) modes[u.mode] = (modes[u.mode] ?? 0) + 1;
    console.error(`  ${kind}: every user watched after ${watchedSeconds.toFixed(1)} s (${JSON.stringify(modes)})`);
    // Let the start settle: the first reads after a first sync find its own writes (as the scheduled sync's first
    // incremental cycle does); quiet means no live cycle for 10 s.
    const settleStart = performance.now();
    for (let cycles = -1, stableSince = performance.now(); ; await sleep(500)) {
      const live = runner.status().live!;
      if (live.cycles !== cycles || live.pending > 0) {
        cycles = live.cycles;
        stableSince = performance.now();
      } else if (performance.now() - stableSince >= 10_000) break;
      if (performance.now() - settleStart > 300_000) throw new Error(`${kind}: real time did not get quiet after the first sync`);
    }
    const settleCycles = runner.status().live!.cycles;
    console.error(`  ${kind}: quiet after ${((performance.now() - settleStart) / 1000).toFixed(0)} s (${settleCycles} live cycles read the first sync's own writes back)`);

    // Quiet: nobody edits.
    const idleCycles0 = runner.status().live!.cycles;
    const c0 = await host.counters();
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    await sleep(o.idleSeconds * 1000);
    const idleWallMs = performance.now() - w0;
    const cpu1 = process.cpuUsage(cpu0);
    const c1 = await host.counters();
    const perMinute = (n: number) => (n / idleWallMs) * 60_000;
    const idle = {
      seconds: idleWallMs / 1000,
      exchangePerMinute: perMinute(c1.exchange - c0.exchange),
      exchangeInBatchPerMinute: perMinute(c1.exchangeInBatch - c0.exchangeInBatch),
      severaPerMinute: perMinute(c1.severa - c0.severa),
      cpuPercent: ((cpu1.user + cpu1.system) / 1000 / idleWallMs) * 100,
      liveCycles: runner.status().live!.cycles - idleCycles0,
      simulatorsCpuPercent: ((c1.cpuMs - c0.cpuMs) / idleWallMs) * 100,
    };
    console.error(`  ${kind}: idle ${idle.exchangePerMinute.toFixed(0)} Exchange and ${idle.severaPerMinute.toFixed(1)} Severa requests/min, sync CPU ${idle.cpuPercent.toFixed(1)} %, ${idle.liveCycles} live cycles`);

    // Edits at random on both sides: a Poisson stream per side, a random user each time (never one with an edit of
    // the same direction still on its way).
    const sent: Record<Direction, number> = { 'exchange-to-severa': 0, 'severa-to-exchange': 0 };
    const busy = new Set<string>();
    // Users the first sync did not pair are left out.
    for (const u of mapped.unmapped) for (const d of ['exchange-to-severa', 'severa-to-exchange']) busy.add(`${d}|${u}`);
    const editCycles0 = runner.status().live!.cycles;
    const liveReports: CycleReport[] = [];
    const stopReports = runner.onReport((r) => {
      if (r.trigger === 'live') liveReports.push(r);
    });
    const e0 = await host.counters();
    const ecpu0 = process.cpuUsage();
    const ew0 = performance.now();
    const end = ew0 + o.editSeconds * 1000;
    let seq = 0;
    const stream = async (direction: Direction) => {
      for (;;) {
        await sleep(-Math.log(1 - Math.random()) * (1000 / o.editsPerSecond));
        if (performance.now() >= end) return;
        let user = Math.floor(Math.random() * o.users);
        for (let tries = 0; busy.has(`${direction}|${user}`) && tries < 1000; tries++) user = Math.floor(Math.random() * o.users);
        if (busy.has(`${direction}|${user}`)) continue;
        busy.add(`${direction}|${user}`);
        seq++;
        await host.ask({ type: 'edit', direction, user, token: `Latency ${direction === 'exchange-to-severa' ? 'E' : 'S'}${seq} u${user}` });
        sent[direction]++;
      }
    };
    await Promise.all([stream('exchange-to-severa'), stream('severa-to-exchange')]);
    let results = await host.ask<'results'>({ type: 'results' });
    for (const deadline = performance.now() + 60_000; results.waiting > 0 && performance.now() < deadline; ) {
      await sleep(500);
      results = await host.ask<'results'>({ type: 'results' });
    }
    const editWallMs = performance.now() - ew0;
    const ecpu = process.cpuUsage(ecpu0);
    const e1 = await host.counters();
    const editCycles = runner.status().live!.cycles - editCycles0;
    stopReports();
    const changed = (r: CycleReport) => r.users.reduce((n, u) => n + u.toSevera.created + u.toSevera.updated + u.toSevera.deleted + u.toExchange.created + u.toExchange.updated + u.toExchange.deleted, 0);
    runner.stopSchedule();
    await sleep(500);
    return {
      kind,
      users: o.users,
      initialSeconds,
      initialOutcome: initial.outcome,
      watchedSeconds,
      modes,
      idle,
      edits: {
        'exchange-to-severa': { sent: sent['exchange-to-severa'], latencies: results.latencies['exchange-to-severa'] },
        'severa-to-exchange': { sent: sent['severa-to-exchange'], latencies: results.latencies['severa-to-exchange'] },
      },
      waiting: results.waiting,
      editPhase: {
        seconds: editWallMs / 1000,
        liveCycles: editCycles,
        exchangeRequests: e1.exchange - e0.exchange,
        severaRequests: e1.severa - e0.severa,
        severaByRoute: Object.fromEntries(Object.entries(e1.severaByRoute).map(([k, v]) => [k, v - (e0.severaByRoute[k] ?? 0)]).filter(([, v]) => (v as number) > 0)),
        cpuPercent: ((ecpu.user + ecpu.system) / 1000 / editWallMs) * 100,
      },
      cycles: {
        durations: liveReports.map((r) => Date.parse(r.finishedAt) - Date.parse(r.startedAt)),
        users: liveReports.map((r) => r.users.length),
        idle: liveReports.filter((r) => changed(r) === 0).length,
      },
    };
  } finally {
    runner?.stopSchedule();
    await host.ask({ type: 'close' }).catch(() => undefined);
    host.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

const KIND_NAMES: Record<LatencyKind, string> = { 'ews-streaming': 'EWS streaming', 'ews-polling': 'EWS polling (2007)', graph: 'Graph' };
const DIRECTION_NAMES: Record<Direction, string> = { 'exchange-to-severa': 'Exchange -> Severa', 'severa-to-exchange': 'Severa -> Exchange' };
const s = (ms: number) => (Number.isNaN(ms) ? '-' : (ms / 1000).toFixed(2));

export async function runLatencyBench(argv: string[]): Promise<void> {
  const o = options(argv);
  const rt = realTimeOf({ realTime: { enabled: true } });
  console.log(
    `Latency benchmark: ${o.users} users x ${o.items} entries a side; ${o.editsPerSecond} edit/s on each side for ${o.editSeconds} s; ` +
      `real time with the default settings (Exchange Online read every ${rt.exchangeOnlinePollSeconds} s, EWS without streaming every ${rt.ewsPollSeconds} s, Severa every ${rt.severaPollSeconds} s).`,
  );
  const results: KindResult[] = [];
  for (const kind of o.kinds) results.push(await runKind(kind, o));

  console.log('\nLatency, from an edit to its arrival on the other side (seconds):\n');
  console.log('| Exchange | direction | edits | arrived | p50 | p95 | max |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    for (const d of ['exchange-to-severa', 'severa-to-exchange'] as const) {
      const sorted = [...r.edits[d].latencies].sort((a, b) => a - b);
      console.log(`| ${KIND_NAMES[r.kind]} | ${DIRECTION_NAMES[d]} | ${r.edits[d].sent} | ${sorted.length} | ${s(quantile(sorted, 0.5))} | ${s(quantile(sorted, 0.95))} | ${s(sorted[sorted.length - 1] ?? NaN)} |`);
    }
  }
  console.log('\nIdle cost with real time on (nobody edits):\n');
  console.log('| Exchange | Exchange requests/min | of which mailbox reads in $batch | Severa requests/min | sync CPU | simulators CPU | live cycles |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${KIND_NAMES[r.kind]} | ${r.idle.exchangePerMinute.toFixed(0)} | ${r.kind === 'graph' ? r.idle.exchangeInBatchPerMinute.toFixed(0) : '-'} | ${r.idle.severaPerMinute.toFixed(1)} | ${r.idle.cpuPercent.toFixed(1)} % | ${r.idle.simulatorsCpuPercent.toFixed(1)} % | ${r.idle.liveCycles} |`);
  }
  console.log('\nDuring the edits, and getting there:\n');
  console.log('| Exchange | first sync | watched after | watch modes | edit phase | live cycles | Exchange requests | Severa requests | sync CPU | not arrived |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${KIND_NAMES[r.kind]} | ${r.initialSeconds.toFixed(0)} s (${r.initialOutcome}) | ${r.watchedSeconds.toFixed(1)} s | ${Object.entries(r.modes).map(([m, n]) => `${m} ${n}`).join(', ')} | ${r.editPhase.seconds.toFixed(0)} s | ${r.editPhase.liveCycles} | ${r.editPhase.exchangeRequests} | ${r.editPhase.severaRequests} | ${r.editPhase.cpuPercent.toFixed(1)} % | ${r.waiting} |`,
    );
  }
  console.log('\nLive cycles during the edits (a cycle syncs the users whose calendars changed since the last one):\n');
  console.log('| Exchange | live cycles | users per cycle (mean / max) | cycle time p50 | p95 | max | cycles that changed nothing |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    const d = [...r.cycles.durations].sort((a, b) => a - b);
    const n = r.cycles.users.length;
    const mean = n ? r.cycles.users.reduce((a, b) => a + b, 0) / n : 0;
    console.log(`| ${KIND_NAMES[r.kind]} | ${n} | ${mean.toFixed(1)} / ${Math.max(0, ...r.cycles.users)} | ${s(quantile(d, 0.5))} | ${s(quantile(d, 0.95))} | ${s(d[d.length - 1] ?? NaN)} | ${r.cycles.idle} |`);
  }
  for (const r of results) console.log(`\n${KIND_NAMES[r.kind]}: Severa requests during the edits by route: ${Object.entries(r.editPhase.severaByRoute).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log('\nThe sync process is this one (runner, engine, store, connectors); the simulators run in a child process. CPU is');
  console.log("per cent of one core. Arrival is seen by the simulators' process every 10 ms. No full cycle runs while measuring.");
}
