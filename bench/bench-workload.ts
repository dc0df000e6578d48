import type { EwsSeed } from '../test/peers/ews/ews-simulator.ts';
import type { SeveraSeed, SeveraSimulator } from '../test/peers/severa/severa-simulator.ts';

/**
 * The benchmark's organization: N users, each with M calendar items in Exchange and M activities in Severa, all inside
 * the sync window and of a type that goes to Exchange, so the first cycle pairs 2 x N x M items.
 */

export const BENCH_DOMAIN = 'bench.example';
export const BENCH_TYPE = '00000000-0000-4000-8000-0000000000b1';
export const BENCH_CLIENT = { clientId: 'bench-client', clientSecret: 'bench-client-secret' };
export const BENCH_DELEGATE = { username: 'svc-bench-sync', password: 'bench-delegate-password' };
const ZONE = 'Europe/Helsinki';
const HOUR = 3_600_000;

export const benchEmail = (i: number) => `user${i}@${BENCH_DOMAIN}`;
export const benchUserGuid = (i: number) => `00000000-0000-4000-9000-${String(i).padStart(12, '0')}`;

/** Item i of a user: one hour, on working hours over the next ~300 days, so every item is in the window. */
function slot(base: number, i: number, perUser: number, offsetMinutes: number): { start: number; end: number } {
  const day = Math.floor((i * 300) / Math.max(perUser, 1));
  const hour = 8 + (i % 8);
  const start = base + day * 24 * HOUR + hour * HOUR + offsetMinutes * 60_000;
  return { start, end: start + HOUR };
}

function tomorrowUtcMidnight(now: number): number {
  return Math.ceil(now / (24 * HOUR)) * 24 * HOUR;
}

export function benchEwsSeed(users: number, perUser: number, now = Date.now()): EwsSeed {
  const base = tomorrowUtcMidnight(now);
  const items: NonNullable<EwsSeed['items']> = [];
  for (let u = 0; u < users; u++) {
    for (let i = 0; i < perUser; i++) {
      const { start, end } = slot(base, i, perUser, 30);
      items.push({ mailbox: benchEmail(u), subject: `Exchange item ${u}-${i}`, start: new Date(start).toISOString(), end: new Date(end).toISOString(), location: `Room ${i % 20}` });
    }
  }
  return {
    timeZone: ZONE,
    server: { netbiosDomain: 'BENCH', dnsDomain: BENCH_DOMAIN, version: 'Exchange2016', authMethods: ['Basic'] },
    delegates: [{ username: BENCH_DELEGATE.username, password: BENCH_DELEGATE.password, impersonation: 'all' }],
    mailboxes: Array.from({ length: users }, (_, u) => ({ username: `user${u}`, password: `bench-user-${u}`, primarySmtp: benchEmail(u), displayName: `User ${u}` })),
    items,
  };
}

export function benchSeveraSeed(users: number): SeveraSeed {
  return {
    timeZone: ZONE,
    apiClients: [BENCH_CLIENT],
    activityTypes: [{ guid: BENCH_TYPE, name: 'Meeting', category: 'CalendarEntry', isDefault: true }],
    users: Array.from({ length: users }, (_, u) => ({ guid: benchUserGuid(u), firstName: `User${u}`, lastName: 'Bench', email: benchEmail(u) })),
    activities: [],
  };
}

/** Activities straight into the simulator's store: seeding hundreds of thousands over HTTP would measure the loader. */
export function fillSevera(sim: SeveraSimulator, users: number, perUser: number, now = Date.now()): string[][] {
  const base = tomorrowUtcMidnight(now);
  const guids: string[][] = [];
  for (let u = 0; u < users; u++) {
    const owner = benchUserGuid(u);
    const mine: string[] = [];
    for (let i = 0; i < perUser; i++) {
      const { start, end } = slot(base, i, perUser, 0);
      const rec = sim.store.createActivity(
        { name: `Severa activity ${u}-${i}`, startMs: start, endMs: end, isAllDay: false, notes: null, location: null, isClosed: false, typeGuid: BENCH_TYPE, ownerGuid: owner, recurrence: null },
        owner,
      );
      mine.push(rec.guid);
    }
    guids.push(mine);
  }
  return guids;
}

// ---- Exchange Online (the Graph simulator) ----------------------------------------------------------------------------

export const BENCH_GRAPH = {
  tenantId: '00000000-0000-4000-8000-0000000b0000',
  domain: BENCH_DOMAIN,
  clientId: '00000000-0000-4000-8000-0000000b0c01',
  clientSecret: 'bench-graph-client-secret',
};

const benchGraphUserId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/** The same organization in Exchange Online: one app with application permissions, N mailboxes of M events. */
export function benchGraphSeed(users: number, perUser: number, now = Date.now()): unknown {
  const base = tomorrowUtcMidnight(now);
  const events: unknown[] = [];
  for (let u = 0; u < users; u++) {
    for (let i = 0; i < perUser; i++) {
      const { start, end } = slot(base, i, perUser, 30);
      events.push({ mailbox: benchEmail(u), subject: `Exchange item ${u}-${i}`, start: new Date(start).toISOString(), end: new Date(end).toISOString(), location: `Room ${i % 20}` });
    }
  }
  return {
    timeZone: ZONE,
    tenant: { id: BENCH_GRAPH.tenantId, domains: [BENCH_DOMAIN], displayName: 'Bench' },
    apps: [
      {
        clientId: BENCH_GRAPH.clientId,
        displayName: 'Severa Calendar Sync (bench)',
        secrets: [{ value: BENCH_GRAPH.clientSecret }],
        applicationPermissions: ['Calendars.ReadWrite', 'User.Read.All'],
        adminConsent: true,
      },
    ],
    users: Array.from({ length: users }, (_, u) => ({ id: benchGraphUserId(u), userPrincipalName: benchEmail(u), displayName: `User ${u}` })),
    events,
  };
}
