import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SeveraClient, SeveraError, type SeveraClientOptions, type SeveraRequestInfo } from '../../src-main/severa/severa-client.ts';
import { loadSeveraSeed, startSeveraSimulator, type SeveraSimulator, type SeveraSimulatorOptions } from '../peers/severa/severa-simulator.ts';
import { contractCheckingFetch, type ContractCheckingFetch } from '../peers/severa/contract-checking-fetch.ts';
import { SEVERA_CONTRACT_AVAILABLE, contractTestTitle } from '../peers/severa/openapi-contract.ts';
import type { SeveraSeed } from '../peers/severa/severa-seed.ts';

const DEMO = fileURLToPath(new URL('../peers/demo/severa-demo.json', import.meta.url));
const SECRET = 'demo-client-secret';
const AINO = '00000000-0000-4000-8000-0000000000a1';
const MIKKO = '00000000-0000-4000-8000-0000000000a2';
const SARA = '00000000-0000-4000-8000-0000000000a3';
const MEETING = '00000000-0000-4000-8000-0000000000b1';
const VISIT = '00000000-0000-4000-8000-0000000000c1';

/** Every error any test saw, and every request report: none may carry the secret or a token. */
const seenErrors: unknown[] = [];
const seenInfos: SeveraRequestInfo[] = [];
const tokensIssued = new Set<string>();

async function expectSeveraError(p: Promise<unknown>, code: string): Promise<SeveraError> {
  try {
    await p;
  } catch (e) {
    seenErrors.push(e);
    expect(e).toBeInstanceOf(SeveraError);
    expect((e as SeveraError).code).toBe(code);
    return e as SeveraError;
  }
  throw new Error(`expected a SeveraError '${code}', but the call succeeded`);
}

interface Harness {
  sim: SeveraSimulator;
  checker: ContractCheckingFetch;
  client: SeveraClient;
}

const harnesses: Harness[] = [];
/** Told of every request the client makes, as it leaves (set by a test; cleared after each). */
let onFetch: (() => void) | null = null;

async function harness(simOptions: Partial<SeveraSimulatorOptions> = {}, clientOptions: Partial<SeveraClientOptions> = {}, seed: SeveraSeed = loadSeveraSeed(DEMO)): Promise<Harness> {
  const sim = await startSeveraSimulator({ seed, rateLimitPerSecond: 0, ...simOptions });
  const checker = contractCheckingFetch();
  // Remember the tokens the server hands out so the secret checks can look for them.
  const watchingFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    onFetch?.();
    const res = await checker.fetch(input, init);
    if (String(input).includes('token') && res.status === 200) {
      const body = (await res.clone().json()) as { access_token?: string; refresh_token?: string };
      if (body.access_token) tokensIssued.add(body.access_token);
      if (body.refresh_token) tokensIssued.add(body.refresh_token);
    }
    return res;
  }) as typeof fetch;
  const client = new SeveraClient({
    baseUrl: sim.baseUrl,
    clientId: 'demo-client-id',
    clientSecret: SECRET,
    fetch: watchingFetch,
    backoffBaseMs: 20,
    maxBackoffMs: 200,
    onRequest: (i) => seenInfos.push(i),
    ...clientOptions,
  });
  const h = { sim, checker, client };
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  onFetch = null;
  for (const h of harnesses.splice(0)) {
    expect(h.sim.contractViolations()).toEqual([]);
    // What the product's client sent, and what it got, held to the OpenAPI document on the wire.
    expect(h.checker.problems()).toEqual([]);
    await h.sim.close();
  }
});

afterAll(() => {
  const texts = [...seenErrors.map((e) => `${(e as Error).message} ${JSON.stringify(e)} ${(e as Error).stack}`), JSON.stringify(seenInfos)];
  expect(seenErrors.length).toBeGreaterThan(5);
  expect(tokensIssued.size).toBeGreaterThan(0);
  for (const text of texts) {
    expect(text).not.toContain(SECRET);
    for (const t of tokensIssued) expect(text).not.toContain(t);
  }
});

describe('SeveraClient against the simulator', () => {
  it.skipIf(!SEVERA_CONTRACT_AVAILABLE)(contractTestTitle("holds every request and answer to the OpenAPI document on the wire (checked after each test)"), async () => {
    const h = await harness();
    await h.client.listUsers();
    expect(h.checker.enabled).toBe(true);
    expect(h.checker.coveredOperations()).toEqual(new Set(['PublicBearerAuthentication_GetLoginToken', 'Users_GetUsers']));
  });

  it('logs in once, sends Client_Id and the Bearer token, and reads users and activity types', async () => {
    const { client, sim } = await harness();
    const users = await client.listUsers();
    expect(users.map((u) => u.email)).toContain('s.nieminen@contoso.example');
    const types = await client.listActivityTypes();
    expect(types.find((t) => t.isDefault)?.name).toBe('Meeting');
    expect(types.find((t) => t.name === 'Old type')?.isActive).toBe(false);
    expect(sim.counters().byRoute['POST /v1/token']).toBe(1);
    expect(client.requestCount()).toBe(3);
    const byEmail = await client.listUsers({ email: 'aino.virtanen@contoso.example' });
    expect(byEmail.map((u) => u.guid)).toEqual([AINO]);
  });

  it('follows NextPageToken through every page', async () => {
    const { client, sim } = await harness();
    const pages: number[] = [];
    const seen: string[] = [];
    for await (const page of client.iterateActivityPages({ rowCount: 4 })) {
      pages.push(page.length);
      seen.push(...page.map((a) => a.guid));
    }
    const whole = await client.listActivities({ rowCount: 100 });
    expect(seen).toEqual(whole.map((a) => a.guid));
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages.length).toBeGreaterThan(3);
    expect(pages.slice(0, -1).every((n) => n === 4)).toBe(true);
    expect(sim.counters().byRoute['GET /v1/activities']).toBe(pages.length + 1);
  });

  it('sends the filters the API documents', async () => {
    const { client } = await harness();
    const mine = await client.listActivities({ userGuids: [MIKKO], includeAsMember: true, activityCategories: ['CalendarEntry', 'SalesEvent'] });
    expect(mine.map((a) => a.name)).toContain('Customer visit: Fabrikam Oy');
    expect(mine.every((a) => a.activityType.category !== 'Task')).toBe(true);
    const series = await client.listActivities({ recurrenceType: 'Series' });
    expect(series.map((a) => a.recurrence?.frequency)).toEqual(['Weekly']);
    const now = new Date();
    const week = await client.listActivities({ startDateTime: now, endDateTime: new Date(now.getTime() + 7 * 86400_000), activityTypeGuids: [MEETING] });
    expect(week.every((a) => a.activityType.guid === MEETING)).toBe(true);
    expect(week.length).toBeGreaterThan(0);
    await expectSeveraError(client.listActivities({ rowCount: 500 }), 'bad-request');
    await expectSeveraError(client.listActivities({ changedSince: 'last week' }), 'bad-request');
  });

  it('creates, reads, patches (Replace, string values), manages participants and deletes', async () => {
    const { client, sim } = await harness();
    const created = await client.createActivity({
      name: 'Offer walkthrough',
      startDateTime: '2030-03-04T10:00:00+02:00',
      endDateTime: '2030-03-04T11:00:00+02:00',
      activityType: { guid: MEETING },
      ownerUser: { guid: AINO },
      location: 'Teams',
    });
    expect(created.recurrenceType).toBe('None');
    const before = Date.parse(created.lastUpdatedDateTime!);
    sim.advanceClock(3000);
    const patched = await client.patchActivity(created.guid, [
      { path: '/name', value: 'Offer walkthrough v2' },
      { path: '/isAllDay', value: false },
      { path: '/notes', value: 'bring the numbers' },
      { path: '/location', value: null },
    ]);
    expect(patched).toMatchObject({ name: 'Offer walkthrough v2', notes: 'bring the numbers', location: null, isAllDay: false });
    expect(Date.parse(patched.lastUpdatedDateTime!)).toBeGreaterThan(before);
    const changed = await client.listActivities({ changedSince: patched.lastUpdatedDateTime! });
    expect(changed.map((a) => a.guid)).toContain(created.guid);
    expect((await client.getActivity(created.guid)).name).toBe('Offer walkthrough v2');

    const added = await client.addParticipant(created.guid, SARA);
    expect(added.participantGuid).toBe(SARA);
    expect((await client.listParticipants(created.guid)).map((p) => p.participantGuid)).toEqual([SARA]);
    expect(await client.removeParticipant(created.guid, added.guid)).toBe(true);
    expect(await client.removeParticipant(created.guid, added.guid)).toBe(false);

    expect(await client.deleteActivity(created.guid)).toBe(true);
    expect(await client.deleteActivity(created.guid)).toBe(false);
    await expectSeveraError(client.getActivity(created.guid), 'not-found');
    await expectSeveraError(client.patchActivity(VISIT, [{ path: '/startDateTime', value: 'not a date' }]), 'bad-request');
    await expectSeveraError(client.getActivity('a/b'), 'bad-request');
  });

  it('refreshes an expired token, and logs in again when the refresh token is refused', async () => {
    const { client, sim } = await harness({ tokenLifetimeSeconds: 3600, refreshTokenLifetimeSeconds: 7200 });
    await client.listUsers();
    sim.advanceClock(3601_000); // the server says expired; the client's own clock does not know yet
    await client.listUsers();
    let c = sim.counters();
    expect(c.byRoute['POST /v1/refreshtoken']).toBe(1);
    expect(c.byRoute['POST /v1/token']).toBe(1);
    sim.advanceClock(8000_000); // now the refresh token is stale too
    await client.listUsers();
    c = sim.counters();
    expect(c.byRoute['POST /v1/refreshtoken']).toBe(2);
    expect(c.byRoute['POST /v1/token']).toBe(2);
  });

  it('renews a token before it expires by its own clock', async () => {
    const { client, sim } = await harness({ tokenLifetimeSeconds: 1 });
    await client.listUsers();
    await new Promise((r) => setTimeout(r, 600)); // lifetime 1 s: renewed after half of it
    await client.listUsers();
    expect(sim.counters().byRoute['POST /v1/refreshtoken']).toBe(1);
    expect(sim.counters().byRoute['GET /v1/users']).toBe(2); // no 401 round trip
  });

  it('reports a wrong secret as auth, without the secret', async () => {
    const { client } = await harness({}, { clientSecret: 'wrong-demo-secret' });
    const e = await expectSeveraError(client.listUsers(), 'auth');
    expect(e.message).toMatch(/client id and secret/);
    expect(e.message).not.toContain('wrong-demo-secret');
  });

  it('reports missing scopes from checkAuthorization, and forbidden on use', async () => {
    const seed = loadSeveraSeed(DEMO) as SeveraSeed & { apiClients: { clientId: string; clientSecret: string; scopes?: string[]; actAsUserGuid?: string }[] };
    seed.apiClients.push({ clientId: 'reader', clientSecret: 'demo-reader-secret', scopes: ['activities:read', 'users:read'] });
    seed.apiClients.push({ clientId: 'mikko', clientSecret: 'demo-mikko-secret', actAsUserGuid: MIKKO });
    const full = await harness({}, {}, seed);
    const report = await full.client.checkAuthorization();
    expect(report.scopes).toEqual(['activities:read', 'activities:write', 'activities:delete', 'users:read', 'settings:read']);
    expect(report.clockOffsetMs).not.toBeNull();
    const reader = new SeveraClient({ baseUrl: full.sim.baseUrl, clientId: 'reader', clientSecret: 'demo-reader-secret', fetch: full.checker.fetch });
    const partial = await expectSeveraError(reader.checkAuthorization(), 'forbidden');
    expect(partial.missingScopes).toEqual(['activities:write', 'activities:delete', 'settings:read']);
    expect(partial.message).toMatch(/activities:write, activities:delete, settings:read/);
    const e = await expectSeveraError(reader.listActivityTypes(), 'forbidden');
    expect(e.serverType).toBe('InsufficientApiScope');
    const mikko = new SeveraClient({ baseUrl: full.sim.baseUrl, clientId: 'mikko', clientSecret: 'demo-mikko-secret', fetch: full.checker.fetch });
    const owner = await expectSeveraError(mikko.deleteActivity(VISIT), 'forbidden');
    expect(owner.message).toMatch(/owner/);
  });

  it('measures the server clock offset from the Date header', async () => {
    const { client } = await harness({ clockSkewMs: 3 * 60_000 });
    expect(client.clockOffsetMs()).toBeNull();
    await client.listUsers();
    const offset = client.clockOffsetMs()!;
    expect(offset).toBeGreaterThan(3 * 60_000 - 2000);
    expect(offset).toBeLessThan(3 * 60_000 + 2000);
  });
});

describe('SeveraClient under load and faults', () => {
  it('backs off on 429 as Retry-After says and finishes every call', async () => {
    const { client, sim } = await harness({ rateLimitPerSecond: 3 }, { rateLimitPerSecond: 0 });
    const results = await Promise.all(Array.from({ length: 7 }, () => client.getActivity(VISIT)));
    expect(results.every((a) => a.guid === VISIT)).toBe(true);
    const c = sim.counters();
    expect(c.rateLimited).toBeGreaterThan(0);
    // Every 429 was followed by exactly one retry: arrivals = calls + 1 login + refusals.
    expect(c.byRoute['GET /v1/activities/{guid}'] + c.byRoute['POST /v1/token']).toBe(7 + 1 + c.rateLimited);
  });

  it('gives up with throttled, carrying Retry-After, when 429 does not stop', async () => {
    const { client } = await harness({ rateLimitPerSecond: 0.001 }, { rateLimitPerSecond: 0, maxRetries: 0 });
    const e = await expectSeveraError(Promise.all([client.listUsers(), client.listUsers()]), 'throttled');
    expect(e.retryAfterMs).toBeGreaterThanOrEqual(1000);
  });

  it('keeps to its own request rate: no one-second window holds more requests leaving the client', async () => {
    // When each request leaves (the fetch call, which comes only after the limiter let it go). The server's own
    // per-second count is not asserted: it runs in this process, so a busy machine that holds one request up on its way
    // in bunches it with the next ones, which says nothing of the client (the bench prints the server's busiest second).
    const leaving: number[] = [];
    onFetch = () => leaving.push(performance.now());
    const { client, sim } = await harness({}, { rateLimitPerSecond: 5 });
    await Promise.all(Array.from({ length: 14 }, () => client.getActivity(VISIT)));
    expect(sim.counters().total).toBe(15);
    expect(leaving).toHaveLength(15);
    // Any six in a row span at least a second: five at most in any one-second window.
    const tooClose = leaving.slice(5).map((t, i) => t - leaving[i]).filter((gap) => gap < 1000);
    expect(tooClose).toEqual([]);
  });

  it('retries server errors and dropped connections on reads', async () => {
    const { client, sim } = await harness({ faults: { seed: 3, serverErrorRate: 0.3, dropConnectionRate: 0.2 } }, { maxRetries: 12 });
    for (let i = 0; i < 5; i++) expect((await client.getActivity(VISIT)).guid).toBe(VISIT);
    const c = sim.counters();
    expect(c.faultsInjected).toBeGreaterThan(0);
    expect(c.total).toBe(c.faultsInjected + 6); // token + 5 reads got through
  });

  it('does not repeat a create after a 500 or a dropped connection, and says transient', async () => {
    const { client, sim } = await harness();
    const body = { name: 'Once only', startDateTime: '2030-03-05T10:00:00+02:00', activityType: { guid: MEETING }, ownerUser: { guid: AINO } };
    await client.listUsers(); // logged in
    sim.setFaults({ dropConnectionRate: 1 });
    await expectSeveraError(client.createActivity(body), 'transient');
    expect(sim.counters().byRoute['POST /v1/activities']).toBe(1);
    sim.setFaults({ dropConnectionRate: 0 });
    const made = await client.createActivity(body);
    expect(made.name).toBe('Once only');
  });

  it('gives up on persistent 5xx with transient after maxRetries', async () => {
    const { client, sim } = await harness({}, { maxRetries: 2 });
    await client.listUsers();
    sim.setFaults({ serverErrorRate: 1 });
    await expectSeveraError(client.listUsers(), 'transient');
    expect(sim.counters().byRoute['GET /v1/users']).toBe(1 + 3);
  });
});

// ---------- a hostile server ----------

type Reply = (req: IncomingMessage, res: ServerResponse) => void;

describe('SeveraClient against a hostile server', () => {
  let server: Server;
  let base: string;
  let reply: Reply = () => undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.endsWith('/v1/token') || req.url?.endsWith('/v1/refreshtoken')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ access_token: 'hostile-access-token-123', access_token_expires_in: 3600, refresh_token: 'hostile-refresh-token-456', scope: 'activities:read' }));
        return;
      }
      reply(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rest-api`;
    tokensIssued.add('hostile-access-token-123');
    tokensIssued.add('hostile-refresh-token-456');
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const json = (status: number, body: string) => (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(body);
  };

  for (const transport of ['node:http', 'fetch'] as const) {
    const make = (extra: Partial<SeveraClientOptions> = {}) =>
      new SeveraClient({ baseUrl: base, clientId: 'x', clientSecret: SECRET, maxRetries: 1, backoffBaseMs: 5, ...(transport === 'fetch' ? { fetch } : {}), ...extra });

    it(`turns malformed JSON into bad-response (${transport})`, async () => {
      reply = json(200, '[{"guid": "a", "name": ');
      const e = await expectSeveraError(make().listUsers(), 'bad-response');
      expect(e.message).toMatch(/not valid JSON/);
    });

    it(`turns a wrong shape into bad-response (${transport})`, async () => {
      reply = json(200, JSON.stringify([{ guid: 'a', name: 'no start', activityType: { guid: 't' }, ownerUser: { guid: 'u' } }]));
      const e = await expectSeveraError(make().listActivities(), 'bad-response');
      expect(e.message).toMatch(/startDateTime/);
      reply = json(200, JSON.stringify({ not: 'an array' }));
      await expectSeveraError(make().listActivityTypes(), 'bad-response');
      reply = json(200, JSON.stringify({ guid: 'a', name: 'x', startDateTime: '2030-01-01T10:00:00', activityType: { guid: 't' }, ownerUser: { guid: 'u' } }));
      await expectSeveraError(make().getActivity('a'), 'bad-response'); // a date-time without offset breaks the document
    });

    it(`refuses an oversize answer (${transport})`, async () => {
      reply = json(200, JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ guid: `u${i}`, firstName: 'A'.repeat(50), lastName: 'B' }))));
      const e = await expectSeveraError(make({ maxResponseBytes: 10_000 }).listUsers(), 'bad-response');
      expect(e.message).toMatch(/larger than/);
    });

    it(`stops a pager that never ends (${transport})`, async () => {
      reply = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', NextPageToken: 'same' });
        res.end('[]');
      };
      await expectSeveraError(make().listUsers(), 'bad-response');
    });

    it(`keeps the secret and tokens out of a server's error text (${transport})`, async () => {
      reply = json(400, JSON.stringify({ error: { httpStatusCode: 400, type: 'InvalidParameter', details: [{ message: `secret ${SECRET} and token hostile-access-token-123 are wrong` }] } }));
      const e = await expectSeveraError(make().getActivity('a'), 'bad-request');
      expect(e.message).toContain('[redacted]');
    });

    it(`treats an HTML 500 as transient after retrying (${transport})`, async () => {
      let calls = 0;
      reply = (_req, res) => {
        calls += 1;
        res.writeHead(500, { 'Content-Type': 'text/html' });
        res.end('<html><body>Internal Server Error</body></html>');
      };
      await expectSeveraError(make().getActivity('a'), 'transient');
      expect(calls).toBe(2);
    });

    it(`times out a server that never answers (${transport})`, async () => {
      reply = () => undefined; // holds the request open
      const e = await expectSeveraError(make({ timeoutMs: 200, maxRetries: 0 }).getActivity('a'), 'transient');
      expect(e.message).toMatch(/did not answer/);
    });
  }

  it('names configuration problems plainly', async () => {
    expect(() => new SeveraClient({ baseUrl: 'not a url', clientId: 'x', clientSecret: 'y' })).toThrow(SeveraError);
    expect(() => new SeveraClient({ baseUrl: 'ftp://example.test/', clientId: 'x', clientSecret: 'y' })).toThrow(/https/);
    expect(() => new SeveraClient({ baseUrl: base, clientId: ' ', clientSecret: 'y' })).toThrow(/client id/);
    const refused = new SeveraClient({ baseUrl: 'http://127.0.0.1:1/rest-api', clientId: 'x', clientSecret: SECRET, maxRetries: 1, backoffBaseMs: 5 });
    await expectSeveraError(refused.listUsers(), 'transient');
  });
});
