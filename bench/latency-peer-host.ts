import { benchEmail, benchEwsSeed, benchGraphSeed, benchSeveraSeed, fillSevera } from './bench-workload.ts';

/**
 * Child process of the latency benchmark (latency-bench.ts): the simulators (EWS with streaming, EWS 2007 without it,
 * or Graph; and Severa) with the benchmark organization, the edits "by users" on either side, and the clock that says
 * when each edit arrived on the other side. An edit renames one entry to a unique token; it has arrived when its twin
 * on the other side carries the token (looked at every 10 ms, so arrivals are known to within that).
 */

export type LatencyKind = 'ews-streaming' | 'ews-polling' | 'graph';
export type Direction = 'exchange-to-severa' | 'severa-to-exchange';

export type LatencyHostRequest =
  | { type: 'map' }
  | { type: 'edit'; direction: Direction; user: number; token: string }
  | { type: 'counters' }
  | { type: 'results' }
  | { type: 'close' };

export interface LatencyCounters {
  /** HTTP requests to Exchange (a $batch is one). */
  exchange: number;
  /** Graph: the requests inside those $batch calls (what Exchange Online's per-mailbox limits count). */
  exchangeInBatch: number;
  severa: number;
  severaByRoute: Record<string, number>;
  /** CPU of this process (the simulators) in ms since it started. */
  cpuMs: number;
}

export type LatencyHostReply =
  | { type: 'ready'; exchangeUrl: string; severaUrl: string; caPem: string | null }
  | { type: 'mapped'; users: number; missing: string[]; unmapped: number[] }
  | { type: 'done' }
  | { type: 'counters'; counters: LatencyCounters }
  | { type: 'results'; latencies: Record<Direction, number[]>; waiting: number }
  | { type: 'error'; message: string };

interface Exchange {
  url: string;
  caPem: string | null;
  total(): number;
  inBatch(): number;
  /** Id of the user's item with this subject. */
  find(user: number, subject: string): string | null;
  subjectOf(user: number, id: string): string | null;
  rename(user: number, id: string, subject: string): void;
  close(): Promise<void>;
}

async function startExchange(kind: LatencyKind, users: number, items: number): Promise<Exchange> {
  if (kind === 'graph') {
    const { startGraphSimulator } = await import('../test/peers/graph/graph-simulator.ts');
    let http = 0;
    let inBatch = 0;
    const sim = await startGraphSimulator({ seed: benchGraphSeed(users, items) as never, port: 0, contract: false, onRequest: (e) => void (e.inBatch ? inBatch++ : http++) });
    return {
      url: sim.url,
      caPem: sim.caCertificatePem,
      total: () => http,
      inBatch: () => inBatch,
      find: (u, subject) => sim.mailbox(benchEmail(u)).list().find((e) => e.subject === subject)?.id ?? null,
      subjectOf: (u, id) => sim.mailbox(benchEmail(u)).get(id)?.subject ?? null,
      rename: (u, id, subject) => void sim.mailbox(benchEmail(u)).update(id, { subject }),
      close: () => sim.close(),
    };
  }
  const { startEwsSimulator } = await import('../test/peers/ews/ews-simulator.ts');
  const seed = benchEwsSeed(users, items);
  // Exchange 2007 SP1 has no streaming notifications: the change watch polls every mailbox.
  if (kind === 'ews-polling') seed.server = { ...seed.server, version: 'Exchange2007_SP1' };
  const sim = await startEwsSimulator({ seed, port: 0 });
  return {
    url: sim.url,
    caPem: null,
    total: () => sim.counters().total,
    inBatch: () => 0,
    find: (u, subject) => sim.mailbox(benchEmail(u)).items().find((i) => i.subject === subject)?.id ?? null,
    subjectOf: (u, id) => sim.mailbox(benchEmail(u)).items().find((i) => i.id === id)?.subject ?? null,
    rename: (u, id, subject) => void sim.mailbox(benchEmail(u)).update(id, { subject }),
    close: () => sim.close(),
  };
}

async function main(): Promise<void> {
  const [kind, usersText, itemsText] = process.argv.slice(2);
  const users = Number(usersText);
  const items = Number(itemsText);
  if (!['ews-streaming', 'ews-polling', 'graph'].includes(kind) || !(users >= 1) || !(items >= 1)) throw new Error('usage: latency-peer-host.ts ews-streaming|ews-polling|graph <users> <items>');
  const send = (reply: LatencyHostReply) => process.send!(reply);
  const exchange = await startExchange(kind as LatencyKind, users, items);
  const { startSeveraSimulator } = await import('../test/peers/severa/severa-simulator.ts');
  const severa = await startSeveraSimulator({ seed: benchSeveraSeed(users), port: 0, rateLimitPerSecond: 0, validateResponses: false });
  const severaGuids = fillSevera(severa, users, items);
  const cpu0 = process.cpuUsage();

  // Per user: an entry made in Exchange and its twin in Severa, and one made in Severa and its twin in Exchange.
  const targets: Array<{ exchangeItem: string; severaTwin: string; severaItem: string; exchangeTwin: string } | null> = [];
  const pending = new Map<string, { direction: Direction; user: number; id: string; t0: number }>();
  const latencies: Record<Direction, number[]> = { 'exchange-to-severa': [], 'severa-to-exchange': [] };

  const check = setInterval(() => {
    const now = performance.now();
    for (const [token, p] of pending) {
      const arrived = p.direction === 'exchange-to-severa' ? severa.store.getView(p.id)?.rec.name === token : exchange.subjectOf(p.user, p.id) === token;
      if (arrived) {
        latencies[p.direction].push(now - p.t0);
        pending.delete(token);
      }
    }
  }, 10);
  check.unref();

  send({ type: 'ready', exchangeUrl: exchange.url, severaUrl: severa.baseUrl, caPem: exchange.caPem });

  process.on('message', async (req: LatencyHostRequest) => {
    try {
      switch (req.type) {
        case 'map': {
          const byName = new Map<string, string>();
          for (const a of severa.activities()) byName.set(`${String((a.ownerUser as { guid?: string } | null)?.guid)}|${String(a.name)}`, String(a.guid));
          const { benchUserGuid } = await import('./bench-workload.ts');
          const missing: string[] = [];
          const unmapped: number[] = [];
          for (let u = 0; u < users; u++) {
            const exchangeItem = exchange.find(u, `Exchange item ${u}-0`);
            const severaTwin = byName.get(`${benchUserGuid(u)}|Exchange item ${u}-0`) ?? null;
            const severaItem = severaGuids[u][0];
            const exchangeTwin = exchange.find(u, `Severa activity ${u}-0`);
            if (!exchangeItem || !severaTwin || !exchangeTwin) {
              missing.push(benchEmail(u));
              unmapped.push(u);
              targets.push(null);
            } else targets.push({ exchangeItem, severaTwin, severaItem, exchangeTwin });
          }
          send({ type: 'mapped', users: targets.filter((t) => t !== null).length, missing: missing.slice(0, 5), unmapped });
          break;
        }
        case 'edit': {
          const t = targets[req.user];
          if (!t) throw new Error(`user ${req.user} has no mapped entries`);
          if (req.direction === 'exchange-to-severa') {
            pending.set(req.token, { direction: req.direction, user: req.user, id: t.severaTwin, t0: performance.now() });
            exchange.rename(req.user, t.exchangeItem, req.token);
          } else {
            pending.set(req.token, { direction: req.direction, user: req.user, id: t.exchangeTwin, t0: performance.now() });
            severa.updateActivity(t.severaItem, { name: req.token });
          }
          send({ type: 'done' });
          break;
        }
        case 'counters': {
          const cpu = process.cpuUsage(cpu0);
          send({ type: 'counters', counters: { exchange: exchange.total(), exchangeInBatch: exchange.inBatch(), severa: severa.counters().total, severaByRoute: severa.counters().byRoute, cpuMs: (cpu.user + cpu.system) / 1000 } });
          break;
        }
        case 'results':
          send({ type: 'results', latencies, waiting: pending.size });
          break;
        case 'close':
          clearInterval(check);
          await Promise.all([exchange.close(), severa.close()]);
          send({ type: 'done' });
          process.exit(0);
      }
    } catch (error) {
      send({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  });
}

main().catch((error: unknown) => {
  process.send?.({ type: 'error', message: (error as Error).stack ?? String(error) } satisfies LatencyHostReply);
  process.exit(1);
});
