/**
 * What one request costs the Severa simulator at the size the issue asks for (1,000 users x 1,000 activities), next to
 * a small organization, to show the cost follows what a request returns rather than what the organization holds.
 * Figures are CPU time (process.cpuUsage) spent in the simulator's request handler, per request, over real HTTP.
 * Run alone: node test/peers/severa/bench-severa-simulator.ts [users] [activitiesPerUser]
 */
import { startSeveraSimulator, type SeveraSimulator } from './severa-simulator.ts';
import type { SeveraSeed } from './severa-seed.ts';

const TYPE = '00000000-0000-4000-8000-0000000000b1';

function userGuid(i: number): string {
  return `00000000-0000-4000-9000-${String(i).padStart(12, '0')}`;
}

function benchSeed(users: number): SeveraSeed {
  return {
    timeZone: 'Europe/Helsinki',
    apiClients: [{ clientId: 'bench-client', clientSecret: 'bench-secret' }],
    activityTypes: [{ guid: TYPE, name: 'Meeting', category: 'CalendarEntry', isDefault: true }],
    users: Array.from({ length: users }, (_, i) => ({ guid: userGuid(i), firstName: `User${i}`, lastName: 'Bench', email: `user${i}@contoso.example` })),
    activities: [],
  };
}

/** Activities straight into the store (seeding a million over HTTP would measure the loader, not the server). */
function fill(sim: SeveraSimulator, users: number, perUser: number): void {
  const base = Date.now() - 30 * 86400_000;
  for (let u = 0; u < users; u++) {
    const owner = userGuid(u);
    for (let i = 0; i < perUser; i++) {
      const start = base + i * 8 * 3600_000 + (u % 8) * 900_000;
      sim.store.createActivity(
        { name: `Activity ${u}-${i}`, startMs: start, endMs: start + 3600_000, isAllDay: false, notes: null, location: null, isClosed: false, typeGuid: TYPE, ownerGuid: owner, recurrence: null },
        owner,
      );
    }
  }
}

interface Measured {
  label: string;
  requests: number;
  cpuMicrosPerRequest: number;
  rowsPerRequest: number;
}

async function measure(sim: SeveraSimulator, size: string): Promise<Measured[]> {
  const base = sim.baseUrl;
  const login = await fetch(`${base}/v1/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_id: 'bench-client', client_secret: 'bench-secret' }),
  });
  const { access_token } = (await login.json()) as { access_token: string };
  const headers = { Authorization: `Bearer ${access_token}`, Client_Id: 'bench-client', 'Content-Type': 'application/json' };
  const results: Measured[] = [];
  const run = async (label: string, route: string, n: number, call: (i: number) => Promise<number>) => {
    sim.resetCounters();
    let rows = 0;
    for (let i = 0; i < n; i++) rows += await call(i);
    const cpu = sim.counters().cpuMicrosByRoute[route] ?? 0;
    results.push({ label: `${size} ${label}`, requests: n, cpuMicrosPerRequest: cpu / n, rowsPerRequest: rows / n });
  };
  const expectOk = async (res: Response) => {
    if (!res.ok) throw new Error(`benchmark request failed: ${res.status} ${await res.text()}`);
    return res;
  };

  // Writes first, so changedSince has something recent to find.
  const created: string[] = [];
  const since = new Date(Date.now() - 1).toISOString();
  await run('post', 'POST /v1/activities', 100, async (i) => {
    const res = await expectOk(
      await fetch(`${base}/v1/activities`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          name: `Bench ${i}`,
          startDateTime: new Date(Date.now() + i * 3600_000).toISOString(),
          endDateTime: new Date(Date.now() + i * 3600_000 + 1800_000).toISOString(),
          activityType: { guid: TYPE },
          ownerUser: { guid: userGuid(i % 10) },
        }),
      }),
    );
    created.push(((await res.json()) as { guid: string }).guid);
    return 1;
  });
  await run('patch', 'PATCH /v1/activities/{guid}', 100, async (i) => {
    await expectOk(await fetch(`${base}/v1/activities/${created[i]}`, { method: 'PATCH', headers, body: JSON.stringify([{ op: 'Replace', path: '/name', value: `Bench ${i} changed` }]) }));
    return 1;
  });
  await run('get', 'GET /v1/activities/{guid}', 200, async (i) => {
    await expectOk(await fetch(`${base}/v1/activities/${created[i % created.length]}`, { headers }));
    return 1;
  });
  await run('list changedSince (org-wide, 100 changed)', 'GET /v1/activities', 50, async () => {
    const res = await expectOk(await fetch(`${base}/v1/activities?rowCount=100&changedSince=${encodeURIComponent(since)}`, { headers }));
    return ((await res.json()) as unknown[]).length;
  });
  const empty = new Date(Date.now() + 60_000).toISOString();
  await run('list changedSince (no change)', 'GET /v1/activities', 50, async () => {
    const res = await expectOk(await fetch(`${base}/v1/activities?rowCount=100&changedSince=${encodeURIComponent(empty)}`, { headers }));
    return ((await res.json()) as unknown[]).length;
  });
  const from = new Date(Date.now()).toISOString();
  const to = new Date(Date.now() + 7 * 86400_000).toISOString();
  await run('list one user, one week', 'GET /v1/activities', 50, async (i) => {
    const res = await expectOk(await fetch(`${base}/v1/activities?rowCount=100&userGuids=${userGuid(i % 10)}&startDateTime=${encodeURIComponent(from)}&endDateTime=${encodeURIComponent(to)}`, { headers }));
    return ((await res.json()) as unknown[]).length;
  });
  if (sim.contractViolations().length) throw new Error(`contract violations during the benchmark: ${sim.contractViolations().join('; ')}`);
  return results;
}

async function benchAt(users: number, perUser: number): Promise<{ measured: Measured[]; fillMs: number; heapMb: number }> {
  const sim = await startSeveraSimulator({ seed: benchSeed(users), rateLimitPerSecond: 0, validateResponses: false, measureCpu: true });
  try {
    const t = performance.now();
    fill(sim, users, perUser);
    const fillMs = performance.now() - t;
    const measured = await measure(sim, `${users}x${perUser}`);
    return { measured, fillMs, heapMb: process.memoryUsage().heapUsed / 1024 / 1024 };
  } finally {
    await sim.close();
  }
}

export async function benchSeveraSimulator(users = 1000, activitiesPerUser = 1000): Promise<string[]> {
  const lines = ['Severa simulator: CPU per request in the handler (process.cpuUsage), sequential requests over HTTP'];
  const small = await benchAt(10, 100);
  const large = await benchAt(users, activitiesPerUser);
  lines.push(`  data: ${users} users x ${activitiesPerUser} activities = ${(users * activitiesPerUser).toLocaleString('en')} activities, loaded in ${(large.fillMs / 1000).toFixed(1)} s, heap ${large.heapMb.toFixed(0)} MB`);
  for (let i = 0; i < large.measured.length; i++) {
    const l = large.measured[i];
    const s = small.measured[i];
    lines.push(
      `  ${l.label.padEnd(58)} ${l.cpuMicrosPerRequest.toFixed(0).padStart(6)} µs/request (${l.rowsPerRequest.toFixed(0)} rows)   at 10x100: ${s.cpuMicrosPerRequest.toFixed(0).padStart(6)} µs`,
    );
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [users, perUser] = process.argv.slice(2).map(Number);
  for (const line of await benchSeveraSimulator(users || undefined, perUser || undefined)) console.log(line);
}
