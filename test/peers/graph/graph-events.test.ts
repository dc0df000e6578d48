/**
 * Graph v1.0 over HTTPS, request by request: users, the permission model, event CRUD with etags, transactionId,
 * time zones, all-day rules, extended properties, $select/$filter/$expand, series with exceptions and cancelled
 * occurrences, meetings and the mails they cause, errors and headers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGraphSimulator } from './graph-simulator.ts';
import type { GraphSimulator } from './graph-simulator.ts';
import { GRAPH_CONTRACT_AVAILABLE } from './graph-contract.ts';
import { APP_ID, READ_ONLY_APP_ID, RESTRICTED_APP_ID, appToken, graphCaller, testSeed } from './graph-test-client.ts';

let sim: GraphSimulator;
let call: ReturnType<typeof graphCaller>;
const PROP = 'String {8b5e2f1c-0d3a-4c1e-9f3b-5a6d7e8f9a0b} Name SeveraGuid';

beforeAll(async () => {
  sim = await startGraphSimulator({ seed: testSeed() });
  call = graphCaller(sim, await appToken(sim));
});
beforeEach(() => sim.clearContractViolations());
afterAll(async () => {
  await sim.close();
});

const single = (over: Record<string, unknown> = {}) => ({
  subject: 'Planning',
  start: { dateTime: '2030-01-08T09:00:00', timeZone: 'FLE Standard Time' },
  end: { dateTime: '2030-01-08T10:00:00', timeZone: 'FLE Standard Time' },
  ...over,
});

describe('users', () => {
  it('GET /users/{upn | id} gives the default properties; proxyAddresses on $select', async () => {
    const a = await call('GET', '/users/anna@fabrikam.example');
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ id: 'aaaaaaaa-0000-4000-8000-000000000001', mail: 'anna@fabrikam.example', userPrincipalName: 'anna@fabrikam.example', displayName: 'Anna Berg' });
    expect(a.body).not.toHaveProperty('proxyAddresses');
    const b = await call('GET', '/users/aaaaaaaa-0000-4000-8000-000000000003?$select=id,mail,proxyAddresses');
    expect(b.body).toMatchObject({ mail: 'cleo.diaz@fabrikam.example', proxyAddresses: ['SMTP:cleo.diaz@fabrikam.example'] });
  });

  it('an alias is not a key of /users/{id} (404 Request_ResourceNotFound) but $filter on proxyAddresses finds its owner', async () => {
    const miss = await call('GET', '/users/a.berg@fabrikam.example');
    expect(miss.status).toBe(404);
    expect(miss.body?.error.code).toBe('Request_ResourceNotFound');
    const hit = await call('GET', `/users?$filter=${encodeURIComponent("proxyAddresses/any(x:x eq 'smtp:a.berg@fabrikam.example')")}&$select=id,mail`);
    expect(hit.body?.value).toEqual([{ id: 'aaaaaaaa-0000-4000-8000-000000000001', mail: 'anna@fabrikam.example' }]);
    const none = await call('GET', `/users?$filter=${encodeURIComponent("mail eq 'nobody@fabrikam.example'")}`);
    expect(none.body?.value).toEqual([]);
  });

  it('calendar calls for an unknown user, a user without a mailbox, and outside the access policy', async () => {
    const unknown = await call('GET', '/users/ghost@fabrikam.example/events');
    expect([unknown.status, unknown.body?.error.code]).toEqual([404, 'ErrorInvalidUser']);
    const onprem = await call('GET', '/users/onprem@fabrikam.example/calendarView?startDateTime=2030-01-01&endDateTime=2030-01-02');
    expect([onprem.status, onprem.body?.error.code]).toEqual([404, 'MailboxNotEnabledForRESTAPI']);
    const scoped = graphCaller(sim, await appToken(sim, RESTRICTED_APP_ID));
    expect((await scoped('GET', '/users/anna@fabrikam.example/events')).status).toBe(200);
    const outside = await scoped('GET', '/users/ben@fabrikam.example/events');
    expect(outside.status).toBe(403);
    expect(outside.body?.error).toMatchObject({ code: 'ErrorAccessDenied', message: 'Access to OData is disabled.' });
    sim.setMailboxAccess(RESTRICTED_APP_ID, null);
    expect((await scoped('GET', '/users/ben@fabrikam.example/events')).status).toBe(200);
    sim.setMailboxAccess(RESTRICTED_APP_ID, ['anna@fabrikam.example']);
  });

  it('roles decide: Calendars.Read cannot write; no User.Read.All cannot read users', async () => {
    const reader = graphCaller(sim, await appToken(sim, READ_ONLY_APP_ID));
    expect((await reader('GET', '/users/ben@fabrikam.example/events')).status).toBe(200);
    const w = await reader('POST', '/users/ben@fabrikam.example/events', single());
    expect([w.status, w.body?.error.code]).toEqual([403, 'ErrorAccessDenied']);
    const u = await reader('GET', '/users/ben@fabrikam.example');
    expect([u.status, u.body?.error.code]).toEqual([403, 'Authorization_RequestDenied']);
  });

  it('no token, a bad one, an expired one: 401 InvalidAuthenticationToken with WWW-Authenticate', async () => {
    for (const token of ['', 'garbage', sim.mintAppToken(APP_ID, { exp: Math.floor(Date.now() / 1000) - 10 })]) {
      const r = await graphCaller(sim, token)('GET', '/users/anna@fabrikam.example/events');
      expect(r.status).toBe(401);
      expect(r.body?.error.code).toBe('InvalidAuthenticationToken');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer /);
    }
  });
});

describe('events', () => {
  it('create, read, update with If-Match, stale If-Match is 412, delete', async () => {
    const c = await call('POST', '/users/ben@fabrikam.example/events', single({ body: { contentType: 'text', content: 'Agenda' }, sensitivity: 'private', showAs: 'tentative' }));
    expect(c.status).toBe(201);
    const ev = c.body!;
    expect(ev['@odata.etag']).toBe(`W/"${ev.changeKey}"`);
    expect(ev).toMatchObject({ type: 'singleInstance', isOrganizer: true, sensitivity: 'private', showAs: 'tentative', originalStartTimeZone: 'FLE Standard Time', start: { dateTime: '2030-01-08T07:00:00.0000000', timeZone: 'UTC' } });
    expect(ev.iCalUId).toMatch(/^040000008200E00074C5B7101A82E008/);
    const got = await call('GET', `/users/ben@fabrikam.example/events/${ev.id}?$select=subject,body`);
    expect(Object.keys(got.body!).sort()).toEqual(['@odata.context', '@odata.etag', 'body', 'id', 'subject']);
    const upd = await call('PATCH', `/users/ben@fabrikam.example/events/${ev.id}`, { subject: 'Planning (moved)' }, { 'If-Match': ev['@odata.etag'] });
    expect(upd.status).toBe(200);
    expect(upd.body?.changeKey).not.toBe(ev.changeKey);
    const stale = await call('PATCH', `/users/ben@fabrikam.example/events/${ev.id}`, { subject: 'Lost update' }, { 'If-Match': ev['@odata.etag'] });
    expect(stale.status).toBe(412);
    expect(stale.body?.error.code).toBe('ErrorIrresolvableConflict');
    expect((await call('DELETE', `/users/ben@fabrikam.example/events/${ev.id}`, undefined, { 'If-Match': ev['@odata.etag'] })).status).toBe(412);
    expect((await call('DELETE', `/users/ben@fabrikam.example/events/${ev.id}`, undefined, { 'If-Match': upd.body!['@odata.etag'] })).status).toBe(204);
    const gone = await call('GET', `/users/ben@fabrikam.example/events/${ev.id}`);
    expect([gone.status, gone.body?.error.code]).toEqual([404, 'ErrorItemNotFound']);
    expect((await call('GET', '/users/ben@fabrikam.example/events/not-an-id!')).body?.error.code).toBe('ErrorInvalidIdMalformed');
    expect(sim.contractViolations()).toEqual([]);
  });

  it('transactionId makes a retried POST return the first event instead of a second one', async () => {
    const body = single({ subject: 'Idempotent', transactionId: '7E163156-7762-4BEB-A1C6-729EA81755A7' });
    const a = await call('POST', '/users/cleo@fabrikam.example/events', body);
    const b = await call('POST', '/users/cleo@fabrikam.example/events', body);
    expect(b.body?.id).toBe(a.body?.id);
    expect(sim.mailbox('cleo@fabrikam.example').list().filter((e) => e.subject === 'Idempotent')).toHaveLength(1);
    expect(a.body?.transactionId).toBe('7E163156-7762-4BEB-A1C6-729EA81755A7');
  });

  it('Prefer: outlook.timezone renders start/end in that zone (Windows or IANA names); unknown zones are refused', async () => {
    const c = await call('POST', '/users/anna@fabrikam.example/events', single({ subject: 'Zones' }));
    const id = c.body!.id;
    const inZone = await call('GET', `/users/anna@fabrikam.example/events/${id}`, undefined, { Prefer: 'outlook.timezone="Pacific Standard Time"' });
    expect(inZone.body?.start).toEqual({ dateTime: '2030-01-07T23:00:00.0000000', timeZone: 'Pacific Standard Time' });
    const iana = await call('GET', `/users/anna@fabrikam.example/events/${id}`, undefined, { Prefer: 'outlook.timezone="Europe/Helsinki"' });
    expect(iana.body?.end.dateTime).toBe('2030-01-08T10:00:00.0000000');
    const bad = await call('POST', '/users/anna@fabrikam.example/events', single({ start: { dateTime: '2030-01-08T09:00:00', timeZone: 'Greenwich Mean Time' } }));
    expect([bad.status, bad.body?.error.code]).toEqual([400, 'TimeZoneNotSupportedException']);
  });

  it('all-day events must start and end at midnight in one zone; bodies convert on Prefer: outlook.body-content-type', async () => {
    const wrong = await call('POST', '/users/anna@fabrikam.example/events', single({ isAllDay: true }));
    expect(wrong.status).toBe(400);
    const ok = await call('POST', '/users/anna@fabrikam.example/events', {
      subject: 'Offsite',
      isAllDay: true,
      start: { dateTime: '2030-01-09T00:00:00', timeZone: 'Europe/Helsinki' },
      end: { dateTime: '2030-01-10T00:00:00', timeZone: 'Europe/Helsinki' },
      body: { contentType: 'html', content: '<p>Bring <b>laptops</b></p>' },
    });
    expect(ok.status).toBe(201);
    const text = await call('GET', `/users/anna@fabrikam.example/events/${ok.body!.id}?$select=body,isAllDay`, undefined, { Prefer: 'outlook.body-content-type="text"' });
    expect(text.body?.body).toEqual({ contentType: 'text', content: 'Bring laptops' });
  });

  it('unknown properties and bad enum values are 400s worded as Graph words them', async () => {
    const r = await call('POST', '/users/anna@fabrikam.example/events', single({ colour: 'red' }));
    expect(r.body?.error.code).toBe('RequestBodyRead');
    expect(r.body?.error.message).toContain("The property 'colour' does not exist on type 'microsoft.graph.event'");
    expect((await call('POST', '/users/anna@fabrikam.example/events', single({ sensitivity: 'secret' }))).status).toBe(400);
    expect((await call('GET', '/users/anna@fabrikam.example/events?$select=colour')).body?.error.code).toBe('RequestBroker--ParseUri');
    // With Microsoft's OpenAPI document present, the bad request is also recorded as the client's contract violation.
    if (GRAPH_CONTRACT_AVAILABLE) expect(sim.contractViolations().filter((v) => v.direction === 'request').length).toBeGreaterThan(0);
  });

  it('single-value extended properties: written in POST/PATCH, read with $expand, found with $filter any()', async () => {
    const c = await call('POST', '/users/ben@fabrikam.example/events', single({ subject: 'Tagged', singleValueExtendedProperties: [{ id: PROP, value: 'guid-123' }] }));
    const id = c.body!.id;
    const expand = `$expand=${encodeURIComponent(`singleValueExtendedProperties($filter=id eq '${PROP.replace('8b5e2f1c', '8B5E2F1C')}')`)}`;
    const got = await call('GET', `/users/ben@fabrikam.example/events/${id}?${expand}`);
    expect(got.body?.singleValueExtendedProperties).toEqual([{ id: PROP, value: 'guid-123' }]);
    const plain = await call('GET', `/users/ben@fabrikam.example/events/${id}`);
    expect(plain.body).not.toHaveProperty('singleValueExtendedProperties');
    const find = (idText: string, value: string) => call('GET', `/users/ben@fabrikam.example/events?$filter=${encodeURIComponent(`singleValueExtendedProperties/any(ep: ep/id eq '${idText}' and ep/value eq '${value}')`)}`);
    expect((await find(PROP, 'GUID-123')).body?.value.map((e: { id: string }) => e.id)).toEqual([id]);
    expect((await find(PROP.replace('SeveraGuid', 'severaguid'), 'guid-123')).body?.value).toEqual([]);
    await call('PATCH', `/users/ben@fabrikam.example/events/${id}`, { singleValueExtendedProperties: [{ id: PROP, value: 'guid-456' }] });
    expect((await find(PROP, 'guid-456')).body?.value).toHaveLength(1);
    expect(sim.contractViolations()).toEqual([]);
  });

  it('a series: instances, an occurrence PATCHed becomes an exception, one DELETEd is cancelled', async () => {
    const c = await call('POST', '/users/cleo@fabrikam.example/events', {
      subject: 'Standup',
      start: { dateTime: '2030-01-07T09:00:00', timeZone: 'Europe/Helsinki' },
      end: { dateTime: '2030-01-07T09:15:00', timeZone: 'Europe/Helsinki' },
      recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'wednesday'] }, range: { type: 'numbered', startDate: '2030-01-07', numberOfOccurrences: 6 } },
    });
    expect(c.body?.type).toBe('seriesMaster');
    const master = c.body!.id;
    const window = 'startDateTime=2030-01-01T00:00:00Z&endDateTime=2030-02-01T00:00:00Z';
    const inst = await call('GET', `/users/cleo@fabrikam.example/events/${master}/instances?${window}`);
    expect(inst.body?.value).toHaveLength(6);
    expect(inst.body?.value[0]).toMatchObject({ type: 'occurrence', seriesMasterId: master, originalStart: '2030-01-07T07:00:00Z' });
    expect(new Set(inst.body?.value.map((o: { iCalUId: string }) => o.iCalUId)).size).toBe(6);
    const second = inst.body!.value[1];
    const x = await call('PATCH', `/users/cleo@fabrikam.example/events/${second.id}`, { subject: 'Standup (demo day)', start: { dateTime: '2030-01-09T10:00:00', timeZone: 'Europe/Helsinki' }, end: { dateTime: '2030-01-09T10:30:00', timeZone: 'Europe/Helsinki' } });
    expect(x.body).toMatchObject({ id: second.id, type: 'exception', subject: 'Standup (demo day)', start: { dateTime: '2030-01-09T08:00:00.0000000' } });
    expect((await call('DELETE', `/users/cleo@fabrikam.example/events/${inst.body!.value[2].id}`)).status).toBe(204);
    const view = await call('GET', `/users/cleo@fabrikam.example/calendarView?${window}&$top=50&$filter=${encodeURIComponent("startswith(subject,'Standup')")}`);
    expect(view.body?.value.map((e: { type: string }) => e.type)).toEqual(['occurrence', 'exception', 'occurrence', 'occurrence', 'occurrence']);
    expect((await call('GET', `/users/cleo@fabrikam.example/events/${inst.body!.value[2].id}`)).status).toBe(404);
    const m = await call('GET', `/users/cleo@fabrikam.example/events/${master}`);
    expect(m.body?.recurrence).toMatchObject({ pattern: { type: 'weekly', daysOfWeek: ['monday', 'wednesday'] }, range: { type: 'numbered', numberOfOccurrences: 6 } });
    expect(sim.contractViolations()).toEqual([]);
  });

  it('newerProperties: a series master also shows cancelledOccurrences (newer than the OpenAPI subset), within the contract', async () => {
    const newer = await startGraphSimulator({ seed: testSeed(), newerProperties: true });
    const c = graphCaller(newer, await appToken(newer));
    const s = newer.mailbox('anna@fabrikam.example').create({ subject: 'Daily', start: '2030-01-07T08:00:00Z', end: '2030-01-07T08:15:00Z', recurrence: { pattern: { type: 'daily', interval: 1 }, range: { type: 'numbered', startDate: '2030-01-07', numberOfOccurrences: 3 } } });
    newer.mailbox('anna@fabrikam.example').cancelOccurrence(s.id, '2030-01-08T08:00:00Z');
    const m = await c('GET', `/users/anna@fabrikam.example/events/${s.id}`);
    expect(m.body?.cancelledOccurrences).toEqual([`OID.${s.id}.2030-01-08`]);
    expect(newer.contractViolations()).toEqual([]);
    await newer.close();
  });

  it('calendarView pages with $top and a nextLink carrying $skip; Graph headers on every answer', async () => {
    for (let i = 0; i < 5; i++) sim.mailbox('ben@fabrikam.example').create({ subject: `Slot ${i}`, start: `2030-03-0${i + 1}T08:00:00Z`, end: `2030-03-0${i + 1}T09:00:00Z` });
    sim.setClockSkewMs(120_000);
    const first = await call('GET', '/users/ben@fabrikam.example/calendarView?startDateTime=2030-03-01T00:00:00Z&endDateTime=2030-04-01T00:00:00Z&$top=2');
    expect(Math.abs(Date.parse(first.headers.get('date')!) - Date.now() - 120_000)).toBeLessThan(5_000);
    sim.setClockSkewMs(0);
    expect(first.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const seen: string[] = first.body!.value.map((e: { subject: string }) => e.subject);
    let next: string | undefined = first.body!['@odata.nextLink'];
    while (next) {
      const p = await call('GET', next);
      seen.push(...p.body!.value.map((e: { subject: string }) => e.subject));
      next = p.body!['@odata.nextLink'];
    }
    expect(seen).toEqual(['Slot 0', 'Slot 1', 'Slot 2', 'Slot 3', 'Slot 4']);
    const missing = await call('GET', '/users/ben@fabrikam.example/calendarView');
    expect(missing.body?.error).toMatchObject({ code: 'ErrorInvalidParameter', innerError: { 'request-id': missing.headers.get('request-id') } });
    expect(missing.body?.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  });

  it('meetings: attendees written through Graph are invited (copies with the same iCalUId, isOrganizer false) and counted', async () => {
    sim.resetCounters();
    const c = await call('POST', '/users/anna@fabrikam.example/events', single({ subject: 'Review', attendees: [{ emailAddress: { address: 'ben@fabrikam.example' }, type: 'required' }, { emailAddress: { address: 'outsider@contoso.example' }, type: 'optional' }] }));
    expect(sim.counters().invitationsSent).toBe(2);
    const copy = sim.mailbox('ben@fabrikam.example').list().find((e) => e.subject === 'Review')!;
    expect(copy).toMatchObject({ uid: c.body!.iCalUId, isOrganizer: false, organizerAddress: 'anna@fabrikam.example', response: 'notResponded' });
    await call('PATCH', `/users/anna@fabrikam.example/events/${c.body!.id}`, { location: { displayName: 'Room 2' } });
    expect(sim.counters().meetingUpdatesSent).toBe(2);
    expect(sim.mailbox('ben@fabrikam.example').get(copy.id)?.location).toBe('Room 2');
    await call('DELETE', `/users/anna@fabrikam.example/events/${c.body!.id}`);
    expect(sim.counters().cancellationsSent).toBe(2);
    expect(sim.mailbox('ben@fabrikam.example').get(copy.id)).toMatchObject({ isCancelled: true, subject: 'Canceled: Review' });
    // A meeting "made in Outlook" reaches the attendees too, but sends nothing on Graph's account.
    sim.resetCounters();
    sim.mailbox('cleo@fabrikam.example').create({ subject: 'Outlook meeting', start: '2030-01-10T10:00:00Z', end: '2030-01-10T11:00:00Z', attendees: ['anna@fabrikam.example'] });
    expect(sim.counters().invitationsSent).toBe(0);
    expect(sim.mailSent().map((m) => [m.kind, m.to, m.via])).toEqual([['invitation', 'anna@fabrikam.example', 'outlook']]);
    const annas = await call('GET', `/users/anna@fabrikam.example/events?$filter=${encodeURIComponent("subject eq 'Outlook meeting'")}`);
    expect(annas.body?.value[0]).toMatchObject({ isOrganizer: false, organizer: { emailAddress: { address: 'cleo.diaz@fabrikam.example' } } });
  });
});
