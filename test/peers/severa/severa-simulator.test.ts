import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadSeveraSeed, startSeveraSimulator, type SeveraSimulator } from './severa-simulator.ts';
import { contractCheckingFetch, type ContractCheckingFetch } from './contract-checking-fetch.ts';
import { SEVERA_CONTRACT_AVAILABLE, contractTestTitle } from './openapi-contract.ts';
import type { SeveraSeed } from './severa-seed.ts';

const DEMO = fileURLToPath(new URL('../demo/severa-demo.json', import.meta.url));
const AINO = '00000000-0000-4000-8000-0000000000a1';
const MIKKO = '00000000-0000-4000-8000-0000000000a2';
const SARA = '00000000-0000-4000-8000-0000000000a3';
const MEETING = '00000000-0000-4000-8000-0000000000b1';
const OLD_TYPE = '00000000-0000-4000-8000-0000000000b7';
const VISIT = '00000000-0000-4000-8000-0000000000c1';
const WEEKLY = '00000000-0000-4000-8000-0000000000c2';
const TASK = '00000000-0000-4000-8000-0000000000c3';
const ALL_SCOPES = 'activities:read activities:write activities:delete users:read settings:read';

/** The operations the product's client uses: each must be exercised with a 2xx answer checked against the document. */
const PRODUCT_OPERATIONS = [
  'PublicBearerAuthentication_GetLoginToken',
  'PublicBearerAuthentication_GetAccessTokenTokenFromRefreshToken',
  'HeartBeat_GetAuthorization',
  'Activities_GetActivities',
  'Activities_PostActivity',
  'Activities_GetActivity',
  'Activities_PatchActivity',
  'Activities_DeleteActivity',
  'ActivityParticipants_GetActivityParticipants',
  'ActivityParticipants_PostActivityParticipant',
  'ActivityParticipants_DeleteActivityParticipant',
  'ActivityTypes_GetActivityTypes',
  'Users_GetUsers',
];

interface Api {
  token: string;
  refresh: string;
  get(path: string): Promise<Response>;
  send(method: string, path: string, body?: unknown): Promise<Response>;
}

async function login(sim: SeveraSimulator, checker: ContractCheckingFetch, scope = ALL_SCOPES, clientId = 'demo-client-id', secret = 'demo-client-secret'): Promise<Api> {
  const res = await checker.fetch(`${sim.baseUrl}/v1/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Client_Id: clientId },
    body: JSON.stringify({ client_id: clientId, client_secret: secret, scope }),
  });
  expect(res.status).toBe(200);
  const auth = (await res.json()) as { access_token: string; refresh_token: string };
  const headers = { Authorization: `Bearer ${auth.access_token}`, Client_Id: clientId, 'Content-Type': 'application/json' };
  return {
    token: auth.access_token,
    refresh: auth.refresh_token,
    get: (path) => checker.fetch(`${sim.baseUrl}${path}`, { headers }),
    send: (method, path, body) => checker.fetch(`${sim.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
  };
}

async function errorOf(res: Response): Promise<{ httpStatusCode: number; type: string; message: string }> {
  const body = (await res.json()) as { error: { httpStatusCode: number; type: string; details: { message: string }[] } };
  return { httpStatusCode: body.error.httpStatusCode, type: body.error.type, message: body.error.details.map((d) => d.message).join(' ') };
}

async function listAll(api: Api, query: string): Promise<Record<string, unknown>[]> {
  const all: Record<string, unknown>[] = [];
  let token: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const res = await api.get(`/v1/activities?${query}${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`);
    expect(res.status).toBe(200);
    all.push(...((await res.json()) as Record<string, unknown>[]));
    token = res.headers.get('NextPageToken');
    if (!token) return all;
  }
  throw new Error('paging did not end');
}

const names = (list: Record<string, unknown>[]) => list.map((a) => a.name as string);

describe('Severa simulator over HTTP, checked against the OpenAPI document', () => {
  let sim: SeveraSimulator;
  let checker: ContractCheckingFetch;
  let api: Api;

  beforeAll(async () => {
    sim = await startSeveraSimulator({ seed: loadSeveraSeed(DEMO), rateLimitPerSecond: 0 });
    checker = contractCheckingFetch();
    api = await login(sim, checker);
  });

  afterAll(async () => {
    expect(sim.contractViolations()).toEqual([]);
    expect(checker.problems()).toEqual([]);
    await sim.close();
  });

  it('logs in with client credentials and grants only the scopes the client has', async () => {
    const readOnly = await login(sim, checker, 'activities:read');
    const res = await readOnly.send('POST', '/v1/activities', { name: 'x', startDateTime: '2030-01-01T10:00:00+02:00', activityType: { guid: MEETING }, ownerUser: { guid: AINO } });
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ httpStatusCode: 403, type: 'InsufficientApiScope' });
    expect((await readOnly.get('/v1/users')).status).toBe(403);
    expect((await readOnly.get('/v1/activitytypes')).status).toBe(403);
    expect((await readOnly.get('/v1/activities?rowCount=1')).status).toBe(200);
    const renewed = await checker.fetch(`${sim.baseUrl}/v1/refreshtoken`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Client_Id: 'demo-client-id' },
      body: JSON.stringify(readOnly.refresh),
    });
    expect(renewed.status).toBe(200);
    expect(((await renewed.json()) as { scope: string }).scope).toBe('activities:read'); // a refresh keeps the grant
  });

  it('refuses a wrong secret, a missing Client_Id header and a missing or unknown token', async () => {
    const bad = await checker.fetch(`${sim.baseUrl}/v1/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: 'demo-client-id', client_secret: 'wrong-secret', scope: ALL_SCOPES }),
    });
    expect(bad.status).toBe(401);
    expect((await errorOf(bad)).type).toBe('AuthenticationRequired');
    const noClientId = await checker.fetch(`${sim.baseUrl}/v1/users`, { headers: { Authorization: `Bearer ${api.token}` } });
    expect(noClientId.status).toBe(401);
    expect((await errorOf(noClientId)).message).toMatch(/Client_Id/);
    const noToken = await checker.fetch(`${sim.baseUrl}/v1/users`, { headers: { Client_Id: 'demo-client-id' } });
    expect(noToken.status).toBe(401);
    const unknownToken = await checker.fetch(`${sim.baseUrl}/heartbeat/authorized`.replace('/heartbeat', '/heartbeat'), { headers: { Client_Id: 'demo-client-id', Authorization: 'Bearer nope' } });
    expect(unknownToken.status).toBe(401);
    expect((await api.get('/heartbeat/authorized')).status).toBe(204);
  });

  it('expires access tokens and renews them once per refresh token', async () => {
    const s = await startSeveraSimulator({ seed: loadSeveraSeed(DEMO), tokenLifetimeSeconds: 60, rateLimitPerSecond: 0 });
    try {
      const c = contractCheckingFetch();
      const a = await login(s, c);
      expect((await a.get('/v1/users')).status).toBe(200);
      s.advanceClock(61_000);
      const expired = await a.get('/v1/users');
      expect(expired.status).toBe(401);
      expect((await errorOf(expired)).message).toMatch(/expired/);
      const refresh = (body: string) =>
        c.fetch(`${s.baseUrl}/v1/refreshtoken`, { method: 'POST', headers: { 'Content-Type': 'application/json', Client_Id: 'demo-client-id' }, body: JSON.stringify(body) });
      const renewed = await refresh(a.refresh);
      expect(renewed.status).toBe(200);
      const auth = (await renewed.json()) as { access_token: string; scope: string };
      expect(auth.scope).toBe(ALL_SCOPES);
      const again = await c.fetch(`${s.baseUrl}/v1/users`, { headers: { Authorization: `Bearer ${auth.access_token}`, Client_Id: 'demo-client-id' } });
      expect(again.status).toBe(200);
      expect((await refresh(a.refresh)).status).toBe(401); // one use only
      expect(s.contractViolations()).toEqual([]);
      expect(c.problems()).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('lists single activities, occurrences and exceptions by default, series masters only when asked', async () => {
    const all = await listAll(api, 'rowCount=100');
    expect(all.some((a) => a.guid === WEEKLY)).toBe(false);
    const occurrences = all.filter((a) => a.recurrenceParentActivityGuid === WEEKLY);
    expect(occurrences.length).toBeGreaterThan(20);
    expect(occurrences.every((a) => a.recurrenceType === 'Occurrence' && String(a.startDateTime).includes('T09:00:00'))).toBe(true);
    const masters = await listAll(api, 'recurrenceType=Series');
    expect(masters.map((a) => a.guid)).toEqual([WEEKLY]);
    const master = masters[0] as { recurrence: { frequency: string; lastOccurrenceDateTime: string }; recurrenceRule: string };
    expect(master.recurrence.frequency).toBe('Weekly');
    expect(master.recurrenceRule).toMatch(/^FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;UNTIL=/);
    const singles = await listAll(api, 'recurrenceType=None');
    expect(singles.every((a) => a.recurrenceType === 'None')).toBe(true);
  });

  it('filters by owner, membership, category and type', async () => {
    const ownedByMikko = await listAll(api, `userGuids=${MIKKO}`);
    expect(ownedByMikko.every((a) => (a.ownerUser as { guid: string }).guid === MIKKO)).toBe(true);
    expect(names(ownedByMikko)).toContain('Sprint planning');
    expect(names(ownedByMikko)).not.toContain('Customer visit: Fabrikam Oy');
    const withMikko = await listAll(api, `userGuids=${MIKKO}&includeAsMember=true`);
    expect(names(withMikko)).toContain('Customer visit: Fabrikam Oy');
    expect(names(withMikko)).toContain('Weekly consulting team meeting');
    const twoUsers = await listAll(api, `userGuids=${MIKKO}&userGuids=${SARA}`);
    expect(new Set(twoUsers.map((a) => (a.ownerUser as { guid: string }).guid))).toEqual(new Set([MIKKO, SARA]));
    const tasks = await listAll(api, 'activityCategories=Task');
    expect(tasks.map((a) => a.guid)).toEqual([TASK]);
    const notTasks = await listAll(api, 'activityCategories=CalendarEntry&activityCategories=Personal');
    expect(notTasks.some((a) => a.guid === TASK)).toBe(false);
    expect(names(notTasks)).toContain('Dentist');
    const meetings = await listAll(api, `activityTypeGuids=${MEETING}`);
    expect(meetings.every((a) => (a.activityType as { guid: string }).guid === MEETING)).toBe(true);
  });

  it('applies the documented window semantics, strict and not', async () => {
    const visit = (await (await api.get(`/v1/activities/${VISIT}`)).json()) as { startDateTime: string; endDateTime: string };
    const start = Date.parse(visit.startDateTime);
    const end = Date.parse(visit.endDateTime);
    const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
    const has = async (query: string) => (await listAll(api, query)).some((a) => a.guid === VISIT);
    // Ends after the start bound, starts before-or-on the end bound; limits included.
    expect(await has(`startDateTime=${iso(end)}&endDateTime=${iso(end + 3600_000)}`)).toBe(true);
    expect(await has(`startDateTime=${iso(end + 1000)}`)).toBe(false);
    expect(await has(`endDateTime=${iso(start)}`)).toBe(true);
    expect(await has(`endDateTime=${iso(start - 1000)}`)).toBe(false);
    // Strict: wholly inside.
    expect(await has(`startDateTime=${iso(start + 1000)}&endDateTime=${iso(end + 1000)}&useStrictStartAndEndDateTime=true`)).toBe(false);
    expect(await has(`startDateTime=${iso(start)}&endDateTime=${iso(end)}&useStrictStartAndEndDateTime=true`)).toBe(true);
  });

  it('pages with rowCount and NextPageToken without losing or repeating a row', async () => {
    const whole = await listAll(api, 'rowCount=100');
    const paged = await listAll(api, 'rowCount=3');
    expect(paged.map((a) => a.guid)).toEqual(whole.map((a) => a.guid));
    expect(new Set(paged.map((a) => a.guid)).size).toBe(paged.length);
    const first = await api.get('/v1/activities');
    expect(((await first.json()) as unknown[]).length).toBe(20); // the documented default
    expect(first.headers.get('NextPageToken')).toBeTruthy();
    const tooMany = await api.get('/v1/activities?rowCount=101');
    expect(tooMany.status).toBe(400);
    const forged = await api.get('/v1/activities?pageToken=not-a-token');
    expect(forged.status).toBe(400);
    expect((await errorOf(forged)).message).toMatch(/pageToken/);
    const otherQuery = await api.get(`/v1/activities?rowCount=2&userGuids=${AINO}&pageToken=${encodeURIComponent(first.headers.get('NextPageToken')!)}`);
    expect(otherQuery.status).toBe(400);
  });

  it('creates (201), reads, patches with Replace and keeps lastUpdatedDateTime; changedSince is >=', async () => {
    const created = await api.send('POST', '/v1/activities', {
      name: 'Contract review',
      startDateTime: '2030-05-02T10:00:00+03:00',
      endDateTime: '2030-05-02T11:00:00+03:00',
      activityType: { guid: MEETING },
      ownerUser: { guid: AINO },
      notes: 'first draft',
      guid: 'ignored-read-only',
    });
    expect(created.status).toBe(201);
    const a = (await created.json()) as { guid: string; lastUpdatedDateTime: string; activityType: { name: string; category: string } };
    expect(a.guid).not.toBe('ignored-read-only');
    expect(a.activityType).toMatchObject({ name: 'Meeting', category: 'CalendarEntry' });
    sim.advanceClock(5000);
    const patched = await api.send('PATCH', `/v1/activities/${a.guid}`, [
      { op: 'Replace', path: '/name', value: 'Contract review (moved)' },
      { op: 'Replace', path: '/startDateTime', value: '2030-05-02T12:00:00+03:00' },
      { op: 'Replace', path: '/endDateTime', value: '2030-05-02T13:00:00+03:00' },
      { op: 'Replace', path: '/isAllDay', value: 'false' },
      { op: 'Replace', path: '/location', value: null },
    ]);
    expect(patched.status).toBe(200);
    const [p] = (await patched.json()) as { name: string; startDateTime: string; lastUpdatedDateTime: string }[];
    expect(p.name).toBe('Contract review (moved)');
    expect(Date.parse(p.startDateTime)).toBe(Date.parse('2030-05-02T09:00:00Z'));
    expect(Date.parse(p.lastUpdatedDateTime)).toBeGreaterThan(Date.parse(a.lastUpdatedDateTime));
    const since = (await listAll(api, `changedSince=${encodeURIComponent(p.lastUpdatedDateTime)}`)).map((x) => x.guid);
    expect(since).toContain(a.guid);
    const later = new Date(Date.parse(p.lastUpdatedDateTime) + 1000).toISOString();
    expect((await listAll(api, `changedSince=${encodeURIComponent(later)}`)).map((x) => x.guid)).not.toContain(a.guid);
    const got = (await (await api.get(`/v1/activities/${a.guid}`)).json()) as { name: string };
    expect(got.name).toBe('Contract review (moved)');
  });

  it('answers JSON Patch operations other than Replace, and bad values, with the API error', async () => {
    const add = await api.send('PATCH', `/v1/activities/${VISIT}`, [{ op: 'Add', path: '/name', value: 'x' }]);
    expect(add.status).toBe(400);
    expect(await errorOf(add)).toMatchObject({ type: 'InvalidOperation' });
    const readOnly = await api.send('PATCH', `/v1/activities/${VISIT}`, [{ op: 'Replace', path: '/guid', value: 'x' }]);
    expect(readOnly.status).toBe(400);
    const badDate = await api.send('PATCH', `/v1/activities/${VISIT}`, [{ op: 'Replace', path: '/startDateTime', value: 'tomorrow' }]);
    expect(badDate.status).toBe(400);
    const inactive = await api.send('PATCH', `/v1/activities/${VISIT}`, [{ op: 'Replace', path: '/activityType/guid', value: OLD_TYPE }]);
    expect(inactive.status).toBe(400);
    expect((await errorOf(inactive)).message).toMatch(/not active/);
    const backwards = await api.send('PATCH', `/v1/activities/${VISIT}`, [{ op: 'Replace', path: '/endDateTime', value: '2000-01-01T00:00:00Z' }]);
    expect(backwards.status).toBe(400);
  });

  const raw = (path: string, init: RequestInit) =>
    fetch(`${sim.baseUrl}${path}`, { ...init, headers: { Authorization: `Bearer ${api.token}`, Client_Id: 'demo-client-id', 'Content-Type': 'application/json', ...(init.headers ?? {}) } });

  it.skipIf(!SEVERA_CONTRACT_AVAILABLE)(contractTestTitle('rejects a request that breaks the contract with the API error shape (HTTP 400)'), async () => {
    const missingStart = await raw('/v1/activities', { method: 'POST', body: JSON.stringify({ name: 'No start', activityType: { guid: MEETING }, ownerUser: { guid: AINO } }) });
    expect(missingStart.status).toBe(400);
    const e = await errorOf(missingStart);
    expect(e).toMatchObject({ httpStatusCode: 400, type: 'InvalidRequest' });
    expect(e.message).toMatch(/startDateTime/);
    const wrongType = await raw('/v1/activities', { method: 'POST', body: JSON.stringify({ name: 5, startDateTime: 'soon', activityType: { guid: MEETING }, ownerUser: { guid: AINO } }) });
    expect(wrongType.status).toBe(400);
    expect((await errorOf(wrongType)).message).toMatch(/name must be string.*startDateTime must match format/);
    const lowercaseOp = await raw(`/v1/activities/${VISIT}`, { method: 'PATCH', body: JSON.stringify([{ op: 'replace', path: '/name', value: 'x' }]) });
    expect(lowercaseOp.status).toBe(400);
    const badQuery = await raw('/v1/activities?rowCount=ten&recurrenceType=Sometimes&changedSince=yesterday', { method: 'GET' });
    expect(badQuery.status).toBe(400);
    expect((await errorOf(badQuery)).message).toMatch(/rowCount.*changedSince.*recurrenceType|rowCount/);
  });

  it('rejects malformed bodies, unknown routes and methods with the API error shape', async () => {
    const malformed = await raw('/v1/activities', { method: 'POST', body: '{"name": ' });
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).message).toMatch(/not valid JSON/);
    const unknownGuid = await raw('/v1/activities/00000000-0000-0000-0000-000000000000', { method: 'GET' });
    expect(unknownGuid.status).toBe(404);
    expect((await raw('/v1/activities/%E0%A4%A', { method: 'GET' })).status).toBe(404); // a broken %-escape
    const notAnArray = await raw(`/v1/activities/${VISIT}`, { method: 'PATCH', body: JSON.stringify({ op: 'Replace', path: '/name', value: 'x' }) });
    expect(notAnArray.status).toBe(400);
    const wrongContentType = await raw('/v1/activities', { method: 'POST', body: 'name=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(wrongContentType.status).toBe(400);
    const nullBody = await raw('/v1/activities', { method: 'POST', body: 'null' });
    expect(nullBody.status).toBe(400);
    const participantWithoutActivity = await raw('/v1/activityparticipants', { method: 'POST', body: JSON.stringify({ participantGuid: AINO }) });
    expect(participantWithoutActivity.status).toBe(400);
    const unknownRoute = await raw('/v1/nothing-here', { method: 'GET' });
    expect(unknownRoute.status).toBe(404);
    expect((await errorOf(unknownRoute)).type).toBe('InvalidRequest');
    const wrongMethod = await raw('/v1/activitytypes', { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
  });

  it('turns a changed or deleted occurrence into an exception of the series', async () => {
    const occurrences = (await listAll(api, `userGuids=${AINO}&recurrenceType=Occurrence`)).filter((a) => a.recurrenceParentActivityGuid === WEEKLY);
    const [first, second] = occurrences;
    const changed = await api.send('PATCH', `/v1/activities/${first.guid}`, [{ op: 'Replace', path: '/location', value: 'Meeting room Pallas' }]);
    expect(changed.status).toBe(200);
    const [ex] = (await changed.json()) as { guid: string; recurrenceType: string; recurrenceParentActivityGuid: string; location: string }[];
    expect(ex).toMatchObject({ guid: first.guid, recurrenceType: 'Exception', recurrenceParentActivityGuid: WEEKLY, location: 'Meeting room Pallas' });
    expect((await api.send('DELETE', `/v1/activities/${second.guid}`)).status).toBe(204);
    const after = (await listAll(api, `userGuids=${AINO}`)).filter((a) => a.recurrenceParentActivityGuid === WEEKLY);
    expect(after.find((a) => a.guid === first.guid)?.recurrenceType).toBe('Exception');
    expect(after.some((a) => a.guid === second.guid)).toBe(false);
    expect((await api.get(`/v1/activities/${second.guid}`)).status).toBe(404);
    const [master] = await listAll(api, 'recurrenceType=Series');
    const exceptions = (master.recurrence as { exceptions: string[] }).exceptions.map(Date.parse);
    expect(exceptions).toEqual([Date.parse(String(first.startDateTime)), Date.parse(String(second.startDateTime))]);
    // Participants of the series came along to the exception.
    const people = (await (await api.get(`/v1/activities/${first.guid}/activityparticipants`)).json()) as { participantGuid: string }[];
    expect(people.map((p) => p.participantGuid).sort()).toEqual([MIKKO, SARA, '00000000-0000-4000-8000-0000000000a4'].sort());
  });

  it('creates a recurring activity and expands it in the organization zone', async () => {
    const res = await api.send('POST', '/v1/activities', {
      name: 'Monthly steering group',
      startDateTime: '2030-01-01T14:00:00+02:00',
      endDateTime: '2030-01-01T15:00:00+02:00',
      activityType: { guid: MEETING },
      ownerUser: { guid: SARA },
      recurrence: { frequency: 'Monthly', pattern: { monthly: { interval: 1, dayOrdinal: 'Last', dayOrdinalOption: 'Friday' } }, range: { maxOccurrences: 6 } },
    });
    expect(res.status).toBe(201);
    const master = (await res.json()) as { guid: string; startDateTime: string; recurrenceType: string };
    expect(master.recurrenceType).toBe('Series');
    expect(master.startDateTime).toBe('2030-01-25T14:00:00+02:00'); // moved to the first occurrence
    const occ = (await listAll(api, `userGuids=${SARA}&recurrenceType=Occurrence`)).filter((a) => a.recurrenceParentActivityGuid === master.guid);
    expect(occ.map((a) => a.startDateTime)).toEqual([
      '2030-01-25T14:00:00+02:00',
      '2030-02-22T14:00:00+02:00',
      '2030-03-29T14:00:00+02:00',
      '2030-04-26T14:00:00+03:00', // after the DST change (31 March), still 14:00 local
      '2030-05-31T14:00:00+03:00',
      '2030-06-28T14:00:00+03:00',
    ]);
    expect((await api.send('DELETE', `/v1/activities/${master.guid}`)).status).toBe(204);
    expect((await listAll(api, `userGuids=${SARA}`)).some((a) => a.recurrenceParentActivityGuid === master.guid)).toBe(false);
  });

  it('manages participants', async () => {
    const list = async () => (await (await api.get(`/v1/activities/${VISIT}/activityparticipants`)).json()) as { guid: string; participantGuid: string; email: string }[];
    expect((await list()).map((p) => p.participantGuid)).toEqual([MIKKO]);
    const added = await api.send('POST', '/v1/activityparticipants', { activityGuid: VISIT, participantGuid: SARA });
    expect(added.status).toBe(201);
    const p = (await added.json()) as { guid: string; email: string };
    expect(p.email).toBe('s.nieminen@contoso.example');
    expect((await api.send('POST', '/v1/activityparticipants', { activityGuid: VISIT, participantGuid: SARA })).status).toBe(400);
    expect((await api.send('POST', '/v1/activityparticipants', { activityGuid: VISIT, participantGuid: 'no-such-user' })).status).toBe(400);
    const withSara = await listAll(api, `userGuids=${SARA}&includeAsMember=true`);
    expect(withSara.some((a) => a.guid === VISIT)).toBe(true);
    expect((await api.send('DELETE', `/v1/activities/${VISIT}/activityparticipants/${p.guid}`)).status).toBe(204);
    expect((await api.send('DELETE', `/v1/activities/${VISIT}/activityparticipants/${p.guid}`)).status).toBe(404);
    expect((await list()).map((x) => x.participantGuid)).toEqual([MIKKO]);
  });

  it('lists activity types and users (with email filter)', async () => {
    const types = (await (await api.get('/v1/activitytypes?rowCount=100')).json()) as { name: string; isDefault: boolean; isActive: boolean; category: string }[];
    expect(types.filter((t) => t.isDefault).map((t) => t.name)).toEqual(['Meeting']);
    expect(types.find((t) => t.name === 'Old type')?.isActive).toBe(false);
    const active = (await (await api.get('/v1/activitytypes?active=true&category=CalendarEntry')).json()) as { name: string }[];
    expect(active.map((t) => t.name)).toEqual(['Meeting', 'Customer visit']);
    const users = (await (await api.get('/v1/users?rowCount=2')).json()) as unknown[];
    expect(users.length).toBe(2);
    const sara = (await (await api.get('/v1/users?email=S.Nieminen%40contoso.example')).json()) as { guid: string; timezone: { ianaName: string } }[];
    expect(sara.map((u) => u.guid)).toEqual([SARA]);
    expect(sara[0].timezone.ianaName).toBe('Europe/Helsinki');
  });

  it('lets only the owner delete when the API client acts as a user', async () => {
    const seed = loadSeveraSeed(DEMO) as SeveraSeed & { apiClients: unknown[] };
    seed.apiClients.push({ clientId: 'mikko-client', clientSecret: 'demo-mikko-secret', actAsUserGuid: MIKKO });
    const s = await startSeveraSimulator({ seed, rateLimitPerSecond: 0 });
    try {
      const c = contractCheckingFetch();
      const asMikko = await login(s, c, ALL_SCOPES, 'mikko-client', 'demo-mikko-secret');
      const denied = await asMikko.send('DELETE', `/v1/activities/${VISIT}`);
      expect(denied.status).toBe(403);
      expect(await errorOf(denied)).toMatchObject({ type: 'PermissionDenied' });
      expect((await asMikko.send('DELETE', `/v1/activities/${TASK}`)).status).toBe(204);
      expect(c.problems()).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('keeps lastUpdatedDateTime when the back door edits like a user in the UI', async () => {
    const before = sim.activities().find((a) => a.guid === VISIT)!;
    sim.advanceClock(2000);
    const after = sim.updateActivity(VISIT, { notes: 'Changed in the Severa UI' });
    expect(Date.parse(String(after.lastUpdatedDateTime))).toBeGreaterThan(Date.parse(String(before.lastUpdatedDateTime)));
    const since = await listAll(api, `changedSince=${encodeURIComponent(String(after.lastUpdatedDateTime))}`);
    expect(since.map((a) => a.guid)).toContain(VISIT);
    const made = sim.createActivity({ name: 'From the UI', startDateTime: '2030-02-01T08:00:00+02:00', ownerUser: { guid: MIKKO } });
    expect((made.activityType as { guid: string }).guid).toBe(MEETING); // the default type
    sim.deleteActivity(String(made.guid));
    expect((await api.get(`/v1/activities/${made.guid}`)).status).toBe(404);
  });

  // Last in this block: by now every test above has gone through the checking fetch.
  it.skipIf(!SEVERA_CONTRACT_AVAILABLE)(contractTestTitle('has exercised every operation the product uses, each answer checked against the document'), () => {
    const covered = checker.coveredOperations();
    expect(PRODUCT_OPERATIONS.filter((op) => !covered.has(op))).toEqual([]);
  });
});

describe('Severa simulator: rate limit, faults, clock', () => {
  let sim: SeveraSimulator;
  afterEach(async () => {
    expect(sim.contractViolations()).toEqual([]);
    await sim.close();
  });

  it('answers 429 with Retry-After and the error shape above the configured rate', async () => {
    sim = await startSeveraSimulator({ seed: loadSeveraSeed(DEMO), rateLimitPerSecond: 3 });
    const checker = contractCheckingFetch();
    const api = await login(sim, checker);
    const answers = await Promise.all(Array.from({ length: 10 }, () => api.get('/v1/activitytypes')));
    const limited = answers.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(6);
    expect(Number(limited[0].headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
    expect((await errorOf(limited[0])).httpStatusCode).toBe(429);
    expect(sim.counters().rateLimited).toBe(limited.length);
    expect(checker.problems()).toEqual([]);
  });

  it('injects seeded server errors and dropped connections, and counts requests per route', async () => {
    sim = await startSeveraSimulator({ seed: loadSeveraSeed(DEMO), rateLimitPerSecond: 0 });
    const api = await login(sim, contractCheckingFetch());
    sim.resetCounters();
    sim.setFaults({ serverErrorRate: 1, seed: 7 });
    const statuses = await Promise.all(Array.from({ length: 6 }, () => api.get('/v1/users').then((r) => r.status)));
    expect(statuses.every((s) => s === 500 || s === 503)).toBe(true);
    sim.setFaults({ serverErrorRate: 0, dropConnectionRate: 1 });
    await expect(api.get('/v1/users')).rejects.toThrow();
    sim.setFaults({ dropConnectionRate: 0 });
    expect((await api.get('/v1/users')).status).toBe(200);
    sim.setFaults({ slowRate: 1, slowMs: 20 });
    expect((await api.get('/v1/users')).status).toBe(200); // late, but whole
    const c = sim.counters();
    expect(c.byRoute['GET /v1/users']).toBe(9);
    expect(c.faultsInjected).toBe(8);
  });

  it('skews its Date header by the configured offset', async () => {
    sim = await startSeveraSimulator({ seed: loadSeveraSeed(DEMO), clockSkewMs: 5 * 60_000 });
    const res = await fetch(`${sim.baseUrl}/v1/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(400);
    const offset = Date.parse(res.headers.get('date')!) - Date.now();
    expect(offset).toBeGreaterThan(4 * 60_000);
    expect(offset).toBeLessThan(6 * 60_000);
  });
});

describe('Severa seed and command line', () => {
  it('resolves relative dates against today in the seed time zone', async () => {
    const sim = await startSeveraSimulator({ seed: loadSeveraSeed(DEMO), rateLimitPerSecond: 0 });
    try {
      const visit = sim.activities().find((a) => a.guid === VISIT)!;
      const expected = new Date(Date.now() + 2 * 86400_000).toLocaleDateString('sv-SE', { timeZone: 'Europe/Helsinki' });
      expect(String(visit.startDateTime).slice(0, 10)).toBe(expected);
      expect(String(visit.startDateTime).slice(10, 19)).toBe('T10:00:00');
    } finally {
      await sim.close();
    }
  });

  it('explains what is wrong with a bad seed', async () => {
    const bad = { apiClients: [{ clientId: 'x', clientSecret: 'y' }], users: [], activityTypes: [], activities: [{ guid: 'a', name: 'n', activityTypeGuid: 't', ownerGuid: 'u', start: 'someday' }] };
    await expect(startSeveraSimulator({ seed: bad })).rejects.toThrow(/activity type t is not in activityTypes[\s\S]*owner u is not in users/);
    await expect(startSeveraSimulator({ seed: { apiClients: [] } as unknown as SeveraSeed })).rejects.toThrow(/at least one API client/);
    expect(() => loadSeveraSeed('/nonexistent/seed.json')).toThrow(/Cannot read the Severa seed file/);
  });

  it('starts from the command line and prints where it listens', async () => {
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
    const child = spawn(process.execPath, [cli, '--port', '0', '--data', DEMO], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]);
        });
        child.on('exit', (code) => reject(new Error(`cli exited with ${code}`)));
      });
      expect(line).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
      const port = line.split(':').pop();
      const res = await fetch(`http://127.0.0.1:${port}/rest-api/v1/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_id: 'demo-client-id', client_secret: 'demo-client-secret' }),
      });
      expect(res.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
