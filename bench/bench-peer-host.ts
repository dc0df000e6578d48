import { startEwsSimulator } from '../test/peers/ews/ews-simulator.ts';
import { startSeveraSimulator } from '../test/peers/severa/severa-simulator.ts';
import { benchEmail, benchEwsSeed, benchSeveraSeed, fillSevera } from './bench-workload.ts';

/**
 * Child process of the benchmark: both simulators with the benchmark organization, driven over IPC (counters, edits
 * "by users"), so the memory and CPU the benchmark reports are the sync's own.
 */

export type HostRequest = { type: 'counters' } | { type: 'reset' } | { type: 'advance'; ms: number } | { type: 'edit'; exchange: number; severa: number; round: number } | { type: 'close' };
export interface HostCounters {
  ews: { total: number; byOperation: Record<string, number> };
  severa: { total: number; byRoute: Record<string, number> };
}
export type HostReply =
  | { type: 'ready'; ewsUrl: string; severaUrl: string; seedMs: number }
  | { type: 'counters'; counters: HostCounters }
  | { type: 'done' }
  | { type: 'error'; message: string };

async function main(): Promise<void> {
  const [users, perUser] = process.argv.slice(2).map(Number);
  if (!Number.isInteger(users) || !Number.isInteger(perUser) || users < 1 || perUser < 1) throw new Error('usage: bench-peer-host.ts <users> <itemsPerUser>');
  const send = (reply: HostReply) => process.send!(reply);
  const t0 = performance.now();
  const ews = await startEwsSimulator({ seed: benchEwsSeed(users, perUser), port: 0 });
  // The product's own client keeps to Severa's 10 requests/s unless the benchmark says otherwise; the simulator does not
  // add a second limit on top.
  const severa = await startSeveraSimulator({ seed: benchSeveraSeed(users), port: 0, rateLimitPerSecond: 0, validateResponses: false });
  const severaGuids = fillSevera(severa, users, perUser);
  send({ type: 'ready', ewsUrl: ews.url, severaUrl: severa.baseUrl, seedMs: performance.now() - t0 });

  let advancedMs = 0;
  process.on('message', async (req: HostRequest) => {
    try {
      switch (req.type) {
        case 'counters': {
          const e = ews.counters();
          const s = severa.counters();
          send({ type: 'counters', counters: { ews: { total: e.total, byOperation: e.byOperation }, severa: { total: s.total, byRoute: s.byRoute } } });
          break;
        }
        case 'advance':
          // Time passes for both servers alike (the benchmark's own clock moves with them), so the cycles run
          // interval-apart as they would in production without the benchmark waiting.
          advancedMs += req.ms;
          severa.advanceClock(req.ms);
          ews.setClockSkewMs(advancedMs);
          send({ type: 'done' });
          break;
        case 'reset':
          ews.resetCounters();
          severa.resetCounters();
          send({ type: 'done' });
          break;
        case 'edit': {
          // Spread the edits over users and items, as many people each changing one thing would.
          for (let j = 0; j < req.exchange; j++) {
            const box = ews.mailbox(benchEmail(j % users));
            const items = box.items();
            const item = items[Math.floor(j / users) % items.length];
            box.update(item.id, { subject: `${item.subject} (edit ${req.round})` });
          }
          for (let j = 0; j < req.severa; j++) {
            const mine = severaGuids[j % users];
            const guid = mine[(Math.floor(j / users) + 1) % mine.length];
            severa.updateActivity(guid, { name: `Severa activity edited ${req.round}-${j}` });
          }
          send({ type: 'done' });
          break;
        }
        case 'close':
          await Promise.all([ews.close(), severa.close()]);
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
