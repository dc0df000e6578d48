/**
 * The simulator's own route table against Microsoft's OpenAPI description (where the file is present), the contract
 * checker itself, and the simulator running without the document (a user's clone has no ../shared).
 */
import { describe, expect, it } from 'vitest';
import { GRAPH_ROUTES, matchRoute } from './graph-routes.ts';
import { GRAPH_CONTRACT_AVAILABLE, GRAPH_CONTRACT_SKIP_REASON, GRAPH_OPENAPI_PATH, graphContractIfPresent } from './graph-contract.ts';
import { startGraphSimulator } from './graph-simulator.ts';
import { appToken, graphCaller, testSeed } from './graph-test-client.ts';

if (!GRAPH_CONTRACT_AVAILABLE) console.log(`graph-contract.test.ts: document checks ${GRAPH_CONTRACT_SKIP_REASON}`);

describe('the route table on its own', () => {
  it('every route names a method, a permission and its query options; patterns match what they should', () => {
    for (const r of GRAPH_ROUTES) {
      expect(['GET', 'POST', 'PATCH', 'DELETE']).toContain(r.method);
      expect(r.query.every((q) => !r.refused.includes(q))).toBe(true);
    }
    const m = matchRoute('GET', '/me/calendarView/delta');
    expect(m).toMatchObject({ route: { name: 'calendarView.delta' }, params: { 'user-id': 'me' } });
    expect(matchRoute('GET', '/users/a%40b.example/calendarView/microsoft.graph.delta()')).toMatchObject({ params: { 'user-id': 'a@b.example' } });
    expect(matchRoute('PUT', '/users/x/events/y')).toMatchObject({ status: 405 });
    expect(matchRoute('GET', '/users/x/mailFolders')).toMatchObject({ status: 400, code: 'BadRequest' });
  });

  it('the simulator serves and checks nothing against a document when told not to (as in a clone without ../shared)', async () => {
    const sim = await startGraphSimulator({ seed: testSeed(), contract: false });
    const call = graphCaller(sim, await appToken(sim));
    expect((await call('POST', '/users/anna@fabrikam.example/events', { subject: 'x', start: { dateTime: '2030-01-01T08:00:00', timeZone: 'UTC' }, end: { dateTime: '2030-01-01T09:00:00', timeZone: 'UTC' } })).status).toBe(201);
    expect((await call('GET', '/users/anna@fabrikam.example/events?$select=colour')).status).toBe(400);
    expect(sim.contractViolations()).toEqual([]);
    await sim.close();
  });
});

describe.skipIf(!GRAPH_CONTRACT_AVAILABLE)(`against Microsoft's OpenAPI subset at ${GRAPH_OPENAPI_PATH} (${GRAPH_CONTRACT_AVAILABLE ? 'present' : GRAPH_CONTRACT_SKIP_REASON})`, () => {
  it('agrees with the route table: each documented operation is served, each route maps to a documented operation with the same method', () => {
    const c = graphContractIfPresent()!;
    for (const op of c.operations) {
      const routes = GRAPH_ROUTES.filter((r) => r.contractPath === op.path && r.method === op.method);
      expect(routes.length, `${op.method} ${op.path} has no route`).toBeGreaterThan(0);
      const documented = op.params.filter((p) => p.in === 'query').map((p) => p.name);
      for (const r of routes) {
        // Every query option the document lists is either honoured or refused on purpose (named in the route).
        for (const q of documented) expect([...r.query, ...r.refused], `${r.method} ${r.pattern}: ${q}`).toContain(q);
        for (const q of r.query.filter((x) => !['$deltatoken', '$skiptoken'].includes(x))) expect(documented, `${r.method} ${r.pattern} honours ${q}, which the document does not list`).toContain(q);
        const required = op.params.filter((p) => p.in === 'query' && p.required).map((p) => p.name);
        for (const q of required) expect(r.query).toContain(q);
        expect(op.hasBody).toBe(r.method === 'POST' || r.method === 'PATCH');
        // Path parameters: the document's {user-id}/{event-id} are the route's.
        const docParams = op.params.filter((p) => p.in === 'path').map((p) => p.name).sort();
        const routeParams = [...r.pattern.matchAll(/\{([^}]+)\}/g)].map((x) => x[1]).sort();
        expect(routeParams).toEqual(docParams);
      }
    }
    for (const r of GRAPH_ROUTES.filter((x) => x.contractPath !== null)) expect(c.find(r.method, r.contractPath!), `${r.method} ${r.contractPath}`).toBeTruthy();
  });

  it('the checker accepts Graph-shaped answers and names what is wrong with others', () => {
    const c = graphContractIfPresent()!;
    const get = c.find('GET', '/users/{user-id}/events/{event-id}')!;
    expect(c.checkResponse(get, 200, { '@odata.etag': 'W/"x"', id: 'x', subject: 's', recurrence: null, start: { dateTime: '2030-01-01T00:00:00.0000000', timeZone: 'UTC' } }, true)).toEqual([]);
    expect(c.checkResponse(get, 200, { id: 'x', colour: 'red' }, true)[0]).toContain("'colour'");
    expect(c.checkResponse(get, 200, { id: 'x', sensitivity: 'secret' }, true)[0]).toContain('sensitivity');
    expect(c.checkResponse(get, 404, { error: { code: 'ErrorItemNotFound', message: 'm', innerError: { date: 'd', 'request-id': 'r' } } }, true)).toEqual([]);
    expect(c.checkResponse(get, 404, { message: 'not Graph' }, true).length).toBe(1);
    const del = c.find('DELETE', '/users/{user-id}/events/{event-id}')!;
    expect(c.checkResponse(del, 204, undefined, false)).toEqual([]);
    const delta = c.find('GET', '/users/{user-id}/calendarView/microsoft.graph.delta()')!;
    expect(c.checkQuery(delta, new URLSearchParams('startdatetime=2030-01-01&EndDateTime=2030-02-01'))).toEqual([]);
    expect(c.checkQuery(delta, new URLSearchParams('$deltatoken=abc'))).toEqual([]);
    expect(c.checkQuery(delta, new URLSearchParams('startDateTime=2030-01-01'))[0]).toContain('endDateTime');
    const post = c.find('POST', '/users/{user-id}/calendar/events')!;
    expect(c.checkBody(post, { subject: 's', singleValueExtendedProperties: [{ id: 'String 0x1', value: 'v' }] })).toEqual([]);
    expect(c.checkBody(post, { subject: 's', isAllDay: 'yes' })[0]).toContain('isAllDay');
  });

  it('a request the document does not allow is recorded as a request violation (and the simulator answers it as Graph would)', async () => {
    const sim = await startGraphSimulator({ seed: testSeed() });
    const call = graphCaller(sim, await appToken(sim));
    const r = await call('POST', '/users/anna@fabrikam.example/events', { subject: 'x', colour: 'red' });
    expect(r.status).toBe(400);
    const v = sim.contractViolations();
    expect(v.some((x) => x.direction === 'request' && x.problem.includes("'colour'"))).toBe(true);
    expect(v.some((x) => x.direction === 'response')).toBe(false);
    await sim.close();
  });
});
