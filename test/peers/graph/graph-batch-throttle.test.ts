/**
 * $batch, throttling per app and mailbox, seeded faults, and the "server that differs" hooks, over HTTPS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphSimulator } from './graph-simulator.ts';
import type { GraphSimulator } from './graph-simulator.ts';
import { appToken, fetchTrusting, graphCaller, testSeed } from './graph-test-client.ts';

let sim: GraphSimulator;
let call: ReturnType<typeof graphCaller>;

beforeAll(async () => {
  sim = await startGraphSimulator({ seed: testSeed() });
  call = graphCaller(sim, await appToken(sim));
});
afterAll(async () => {
  expect(sim.contractViolations()).toEqual([]);
  await sim.close();
});

const ev = (subject: string, day = 10) => {
  const d = String(day).padStart(2, '0');
  return { subject, start: { dateTime: `2030-06-${d}T08:00:00`, timeZone: 'UTC' }, end: { dateTime: `2030-06-${d}T09:00:00`, timeZone: 'UTC' } };
};
const json = { 'Content-Type': 'application/json' };

describe('$batch', () => {
  it('answers each request with its own status, runs dependsOn in order, and fails dependants of a failed request with 424', async () => {
    const r = await call('POST', '/$batch', {
      requests: [
        { id: '1', method: 'POST', url: '/users/anna@fabrikam.example/events', body: ev('Batched'), headers: json },
        { id: '2', method: 'GET', url: "/users/anna@fabrikam.example/events?$filter=subject eq 'Batched'&$select=subject", dependsOn: ['1'] },
        { id: '3', method: 'GET', url: '/users/ghost@fabrikam.example/events' },
        { id: '4', method: 'PATCH', url: '/users/anna@fabrikam.example/events/AAMkAGhvc3Q=', body: { subject: 'x' }, headers: json },
        { id: '5', method: 'GET', url: '/users/anna@fabrikam.example', dependsOn: ['3'] },
        { id: '6', method: 'POST', url: '/users/anna@fabrikam.example/events', body: ev('No content type') },
      ],
    });
    expect(r.status).toBe(200);
    const by = Object.fromEntries(r.body!.responses.map((x: { id: string }) => [x.id, x]));
    expect(by['1'].status).toBe(201);
    expect(by['1'].body.subject).toBe('Batched');
    expect(by['2'].status).toBe(200);
    expect(by['2'].body.value).toHaveLength(1);
    expect([by['3'].status, by['3'].body.error.code]).toEqual([404, 'ErrorInvalidUser']);
    expect([by['4'].status, by['4'].body.error.code]).toEqual([400, 'ErrorInvalidIdMalformed']);
    expect(by['5'].status).toBe(424);
    expect(by['6'].status).toBe(400);
    expect(sim.counters().byRoute['$batch']).toBeGreaterThanOrEqual(1);
  });

  it('refuses more than 20 requests, duplicate ids and unknown dependencies as a whole', async () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/users/anna@fabrikam.example' }));
    expect((await call('POST', '/$batch', { requests: many })).status).toBe(400);
    expect((await call('POST', '/$batch', { requests: [many[0], many[0]] })).status).toBe(400);
    expect((await call('POST', '/$batch', { requests: [{ ...many[0], dependsOn: ['9'] }] })).status).toBe(400);
  });
});

describe('throttling', () => {
  it('over the request budget per app and mailbox: 429 ApplicationThrottled with Retry-After; other mailboxes are unaffected', async () => {
    sim.setThrottleLimits({ requestsPerWindow: 3, windowMs: 60_000, retryAfterSeconds: 2 });
    for (let i = 0; i < 3; i++) expect((await call('GET', '/users/ben@fabrikam.example/events')).status).toBe(200);
    const r = await call('GET', '/users/ben@fabrikam.example/events');
    expect(r.status).toBe(429);
    expect(r.body?.error.code).toBe('ApplicationThrottled');
    expect(r.headers.get('retry-after')).toBe('2');
    expect((await call('GET', '/users/cleo@fabrikam.example/events')).status).toBe(200);
    sim.setThrottleLimits({ requestsPerWindow: 10_000, windowMs: 600_000, retryAfterSeconds: 1 });
  });

  it('more than the concurrent requests allowed per mailbox: the extra ones get 429 "MailboxConcurrency", also inside a batch', async () => {
    const slow = await startGraphSimulator({ seed: { ...testSeed(), graph: { latencyMs: 300, maxConcurrentPerMailbox: 2 } } });
    const c = graphCaller(slow, await appToken(slow));
    const results = await Promise.all(Array.from({ length: 4 }, () => c('GET', '/users/anna@fabrikam.example/events')));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(results.find((r) => r.status === 429)?.body?.error.message).toBe('Application is over its MailboxConcurrency limit.');
    // A batch runs up to four requests at once: with a limit of two, some of them are throttled inside it.
    const b = await c('POST', '/$batch', { requests: Array.from({ length: 4 }, (_, i) => ({ id: String(i), method: 'GET', url: '/users/anna@fabrikam.example/events' })) });
    const inner = b.body!.responses.filter((x: { status: number }) => x.status === 429);
    expect(inner.length).toBe(2);
    expect(inner[0].headers['Retry-After']).toBe('1');
    expect(slow.counters().throttled).toBe(4);
    await slow.close();
  });
});

describe('faults', () => {
  it('forced 503 (with Retry-After), 504 and dropped connections; seeded rates repeat with the seed', async () => {
    sim.setFaults({ forceNext: { kind: 'http503', count: 1 }, retryAfterSeconds: 3 });
    const a = await call('GET', '/users/anna@fabrikam.example/events');
    expect([a.status, a.body?.error.code, a.headers.get('retry-after')]).toEqual([503, 'ServiceUnavailable', '3']);
    sim.setFaults({ forceNext: { kind: 'http504', count: 1 } });
    expect((await call('GET', '/users/anna@fabrikam.example/events')).status).toBe(504);
    sim.setFaults({ forceNext: { kind: 'dropConnection', count: 1 } });
    await expect(call('GET', '/users/anna@fabrikam.example/events')).rejects.toThrow();
    const run = async () => {
      sim.setFaults({ seed: 42, http503Rate: 0.3, onlyRoutes: ['events.list'] });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await call('GET', '/users/cleo@fabrikam.example/events')).status);
      return out;
    };
    const first = await run();
    expect(first).toContain(503);
    expect(await run()).toEqual(first);
    sim.setFaults({});
    expect(sim.faultsInjected().http503).toBeGreaterThan(1);
  });

  it('a server that differs: a series subject change is not kept, an occurrence lands a day off', async () => {
    const s = await call('POST', '/users/cleo@fabrikam.example/events', {
      ...ev('Series', 3),
      recurrence: { pattern: { type: 'daily', interval: 1 }, range: { type: 'numbered', startDate: '2030-06-03', numberOfOccurrences: 3 } },
    });
    sim.setFaults({ seed: 1, keepSeriesSubjectRate: 1, misplaceOccurrenceRate: 1 });
    const p = await call('PATCH', `/users/cleo@fabrikam.example/events/${s.body!.id}`, { subject: 'Series renamed' });
    expect(p.body?.subject).toBe('Series');
    const inst = await call('GET', `/users/cleo@fabrikam.example/events/${s.body!.id}/instances?startDateTime=2030-06-01T00:00:00Z&endDateTime=2030-06-10T00:00:00Z`);
    const moved = await call('PATCH', `/users/cleo@fabrikam.example/events/${inst.body!.value[0].id}`, { start: { dateTime: '2030-06-03T12:00:00', timeZone: 'UTC' }, end: { dateTime: '2030-06-03T13:00:00', timeZone: 'UTC' } });
    expect(moved.body?.start.dateTime).toBe('2030-06-04T12:00:00.0000000');
    sim.setFaults({});
  });

  it('a new event\'s change key drifts on its own shortly after the create (as Exchange Online does): If-Match with the POST\'s etag is then 412', async () => {
    sim.setFaults({ seed: 1, changeKeyDriftRate: 1, changeKeyDriftMs: 30 });
    const c = await call('POST', '/users/ben@fabrikam.example/events', ev('Drifting', 12));
    await new Promise((r) => setTimeout(r, 120));
    const p = await call('PATCH', `/users/ben@fabrikam.example/events/${c.body!.id}`, { subject: 'x' }, { 'If-Match': c.body!['@odata.etag'] });
    expect(p.status).toBe(412);
    sim.setFaults({});
  });

  it('TLS is real: a client that does not trust the test CA is refused; one that does gets Graph\'s 401 without a token', async () => {
    await expect(fetch(`${sim.graphUrl}/users`)).rejects.toThrow();
    expect((await fetchTrusting(sim.caCertificatePem)(`${sim.graphUrl}/users`)).status).toBe(401);
  });
});
