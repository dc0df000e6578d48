import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import type { AddressInfo } from 'node:net';
import { benchEmail, benchEwsSeed, benchGraphSeed, benchSeveraSeed, fillSevera } from './bench-workload.ts';

/**
 * Child process of the benchmark: the simulators with the benchmark organization (EWS or Graph, and Severa), driven over
 * IPC (counters, edits "by users"), so the memory and CPU the benchmark reports for the sync are the sync's own. It also
 * watches every request arrive and finish (a listener on each simulator's server), which gives what no simulator counts:
 * how long Exchange and Severa each had requests in flight, how long both at once (the overlap), and the peak of
 * concurrent requests on each.
 */

export type ExchangeKind = 'ews' | 'graph';
export type HostRequest =
  | { type: 'counters' }
  | { type: 'reset' }
  | { type: 'advance'; ms: number }
  | { type: 'edit'; exchange: number; severa: number; round: number }
  | { type: 'close' };

export interface Activity {
  /** ms with at least one request in flight. */
  busyMs: number;
  peakConcurrent: number;
}

export interface HostCounters {
  exchange: { total: number; byOperation: Record<string, number>; throttled?: number };
  severa: { total: number; byRoute: Record<string, number>; peakPerSecond: number; rateLimited: number };
  activity: { exchange: Activity; severa: Activity; bothMs: number; windowMs: number };
  /** CPU of this process (both simulators and this loop) since the last reset. */
  simulatorsCpuMs: number;
}

/** What an edit round changed: per user, entries edited on each side (for the protocol minimum). */
export interface EditRound {
  exchangeByUser: number[];
  severaByUser: number[];
}

export type HostReply =
  | { type: 'ready'; exchangeUrl: string; severaUrl: string; caPem: string | null; seedMs: number }
  | { type: 'counters'; counters: HostCounters }
  | { type: 'edited'; round: EditRound }
  | { type: 'done' }
  | { type: 'error'; message: string };

// ---- request activity, from each server's 'request' event --------------------------------------------------------

type Side = 'exchange' | 'severa';
const created: Array<http.Server | https.Server> = [];
for (const mod of [http, https] as const) {
  const original = mod.createServer as (...args: unknown[]) => http.Server;
  (mod as { createServer: unknown }).createServer = (...args: unknown[]) => {
    const server = original(...args);
    created.push(server);
    return server;
  };
}
// The simulators import createServer by name: make those bindings see the wrapper.
syncBuiltinESMExports();

class ActivityMeter {
  private readonly inFlight: Record<Side, number> = { exchange: 0, severa: 0 };
  private readonly busy: Record<Side, number> = { exchange: 0, severa: 0 };
  private readonly peak: Record<Side, number> = { exchange: 0, severa: 0 };
  private both = 0;
  private since = performance.now();
  private windowStart = performance.now();

  private advance(): void {
    const now = performance.now();
    const dt = now - this.since;
    if (this.inFlight.exchange > 0) this.busy.exchange += dt;
    if (this.inFlight.severa > 0) this.busy.severa += dt;
    if (this.inFlight.exchange > 0 && this.inFlight.severa > 0) this.both += dt;
    this.since = now;
  }

  /** Counts the server's requests; `latencyMs` > 0 hands each to the simulator that much later (network and server time). */
  watch(server: http.Server | https.Server, side: Side, latencyMs: number): void {
    if (latencyMs > 0) {
      const handlers = server.listeners('request') as Array<(req: http.IncomingMessage, res: http.ServerResponse) => void>;
      server.removeAllListeners('request');
      server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
        req.pause();
        setTimeout(() => {
          req.resume();
          for (const h of handlers) h.call(server, req, res);
        }, latencyMs);
      });
    }
    server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      this.advance();
      this.inFlight[side]++;
      this.peak[side] = Math.max(this.peak[side], this.inFlight[side]);
      res.once('close', () => {
        this.advance();
        this.inFlight[side]--;
      });
    });
  }

  reset(): void {
    this.advance();
    this.busy.exchange = this.busy.severa = this.both = 0;
    this.peak.exchange = this.inFlight.exchange;
    this.peak.severa = this.inFlight.severa;
    this.windowStart = performance.now();
  }

  read(): HostCounters['activity'] {
    this.advance();
    return {
      exchange: { busyMs: this.busy.exchange, peakConcurrent: this.peak.exchange },
      severa: { busyMs: this.busy.severa, peakConcurrent: this.peak.severa },
      bothMs: this.both,
      windowMs: performance.now() - this.windowStart,
    };
  }
}

function portOf(server: http.Server | https.Server): number {
  const address = server.address();
  return address && typeof address === 'object' ? (address as AddressInfo).port : -1;
}

interface ExchangePeer {
  url: string;
  caPem: string | null;
  port: number;
  counters(): HostCounters['exchange'];
  reset(): void;
  advance(totalMs: number): void;
  /** Changes the subject of one entry of the user as "the user in Outlook" would. */
  editOne(user: number, nth: number, round: number): void;
  close(): Promise<void>;
}

async function startExchange(kind: ExchangeKind, users: number, perUser: number): Promise<ExchangePeer> {
  if (kind === 'graph') {
    const { startGraphSimulator } = await import('../test/peers/graph/graph-simulator.ts');
    // HTTP requests to Graph (a $batch is one; what it carries is listed apart) — the simulator's own counters count
    // each request inside a $batch too. Sign-in requests to the identity platform are not Graph's.
    let total = 0;
    let byOperation: Record<string, number> = {};
    const bump = (k: string) => (byOperation[k] = (byOperation[k] ?? 0) + 1);
    // No OpenAPI checks here: they would measure the checker, not the sync.
    const sim = await startGraphSimulator({
      seed: benchGraphSeed(users, perUser) as never,
      port: 0,
      contract: false,
      onRequest: (e) => {
        if (!e.path.startsWith('/v1.0/')) return;
        if (e.inBatch) return void bump(`${e.route ?? e.path} (in $batch)`);
        total++;
        bump(e.route ?? e.path);
      },
    });
    return {
      url: sim.url,
      caPem: sim.caCertificatePem,
      port: Number(new URL(sim.url).port),
      counters: () => ({ total, byOperation: { ...byOperation }, throttled: sim.counters().throttled }),
      reset: () => {
        sim.resetCounters();
        total = 0;
        byOperation = {};
      },
      advance: (totalMs) => sim.setClockSkewMs(totalMs),
      editOne: (user, nth, round) => {
        const box = sim.mailbox(benchEmail(user));
        // A stable order (the list follows the last change): the same nth is the same event after an edit.
        const events = [...box.list()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        const e = events[nth % events.length];
        box.update(e.id, { subject: `${e.subject} (edit ${round})` });
      },
      close: () => sim.close(),
    };
  }
  const { startEwsSimulator } = await import('../test/peers/ews/ews-simulator.ts');
  const sim = await startEwsSimulator({ seed: benchEwsSeed(users, perUser), port: 0 });
  return {
    url: sim.url,
    caPem: null,
    port: Number(new URL(sim.url).port),
    counters: () => {
      const c = sim.counters();
      return { total: c.total, byOperation: c.byOperation };
    },
    reset: () => sim.resetCounters(),
    advance: (totalMs) => sim.setClockSkewMs(totalMs),
    editOne: (user, nth, round) => {
      const box = sim.mailbox(benchEmail(user));
      const items = box.items();
      const item = items[nth % items.length];
      box.update(item.id, { subject: `${item.subject} (edit ${round})` });
    },
    close: () => sim.close(),
  };
}

async function main(): Promise<void> {
  const [kind, usersText, perUserText, latencyText] = process.argv.slice(2);
  const users = Number(usersText);
  const perUser = Number(perUserText);
  const latencyMs = Number(latencyText ?? 0);
  if ((kind !== 'ews' && kind !== 'graph') || !Number.isInteger(users) || !Number.isInteger(perUser) || users < 1 || perUser < 1) {
    throw new Error('usage: bench-peer-host.ts ews|graph <users> <entriesPerUser> [latencyMs]');
  }
  const send = (reply: HostReply) => process.send!(reply);
  const t0 = performance.now();
  const exchange = await startExchange(kind, users, perUser);
  const { startSeveraSimulator } = await import('../test/peers/severa/severa-simulator.ts');
  // The product's own client keeps to Severa's 10 requests/s unless the benchmark says otherwise; the simulator does
  // not add a second limit on top (its peakPerSecond shows what arrived).
  const severa = await startSeveraSimulator({ seed: benchSeveraSeed(users), port: 0, rateLimitPerSecond: 0, validateResponses: false });
  const severaGuids = fillSevera(severa, users, perUser);
  const meter = new ActivityMeter();
  for (const server of created) {
    const port = portOf(server);
    if (port === exchange.port) meter.watch(server, 'exchange', latencyMs);
    else if (port === severa.port) meter.watch(server, 'severa', latencyMs);
  }
  send({ type: 'ready', exchangeUrl: exchange.url, severaUrl: severa.baseUrl, caPem: exchange.caPem, seedMs: performance.now() - t0 });

  let advancedMs = 0;
  let cpu0 = process.cpuUsage();
  process.on('message', async (req: HostRequest) => {
    try {
      switch (req.type) {
        case 'counters': {
          const s = severa.counters();
          const cpu = process.cpuUsage(cpu0);
          send({
            type: 'counters',
            counters: {
              exchange: exchange.counters(),
              severa: { total: s.total, byRoute: s.byRoute, peakPerSecond: s.peakPerSecond, rateLimited: s.rateLimited },
              activity: meter.read(),
              simulatorsCpuMs: (cpu.user + cpu.system) / 1000,
            },
          });
          break;
        }
        case 'advance':
          // Time passes for both servers alike (the sync process's clock moves with them), so the cycles run
          // interval-apart as they would in production without the benchmark waiting.
          advancedMs += req.ms;
          severa.advanceClock(req.ms);
          exchange.advance(advancedMs);
          send({ type: 'done' });
          break;
        case 'reset':
          exchange.reset();
          severa.resetCounters();
          meter.reset();
          cpu0 = process.cpuUsage();
          send({ type: 'done' });
          break;
        case 'edit': {
          // Spread the edits over users and items, as many people each changing one thing would.
          const round: EditRound = { exchangeByUser: new Array(users).fill(0), severaByUser: new Array(users).fill(0) };
          for (let j = 0; j < req.exchange; j++) {
            exchange.editOne(j % users, Math.floor(j / users), req.round);
            round.exchangeByUser[j % users]++;
          }
          for (let j = 0; j < req.severa; j++) {
            const mine = severaGuids[j % users];
            const guid = mine[(Math.floor(j / users) + 1) % mine.length];
            severa.updateActivity(guid, { name: `Severa activity edited ${req.round}-${j}` });
            round.severaByUser[j % users]++;
          }
          send({ type: 'edited', round });
          break;
        }
        case 'close':
          await Promise.all([exchange.close(), severa.close()]);
          send({ type: 'done' });
          process.exit(0);
      }
    } catch (error) {
      send({ type: 'error', message: (error as Error).message });
    }
  });
}

main().catch((error: unknown) => {
  process.send?.({ type: 'error', message: (error as Error).message } satisfies HostReply);
  process.exit(1);
});
