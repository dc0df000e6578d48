import { afterEach, describe, expect, it } from 'vitest';
import { startSeveraSimulator, type SeveraSimulator } from './severa-simulator.ts';
import { contractCheckingFetch } from './contract-checking-fetch.ts';
import type { SeveraSeed } from './severa-seed.ts';

const U1 = '00000000-0000-4000-8000-0000000000a1';
const U2 = '00000000-0000-4000-8000-0000000000a2';
const T = '00000000-0000-4000-8000-0000000000b1';
const SERIES = '00000000-0000-4000-8000-0000000000d1';

function seed(extra: Partial<SeveraSeed> = {}): SeveraSeed {
  return {
    timeZone: 'Europe/Helsinki',
    apiClients: [{ clientId: 'c', clientSecret: 'demo-secret' }],
    activityTypes: [{ guid: T, name: 'Meeting', category: 'CalendarEntry', isDefault: true }],
    users: [
      { guid: U1, firstName: 'Aino', lastName: 'Virtanen', email: 'aino@contoso.example' },
      { guid: U2, firstName: 'Mikko', lastName: 'Lahtinen', email: 'mikko@contoso.example' },
    ],
    activities: [
      {
        guid: SERIES,
        name: 'Daily stand-up',
        activityTypeGuid: T,
        ownerGuid: U1,
        participants: [U2],
        start: '2030-01-07T09:00',
        end: '2030-01-07T09:15',
        recurrence: { frequency: 'Daily', pattern: { daily: { everyWeekday: true } }, range: { maxOccurrences: 10 } },
        exceptions: [
          { originalStart: '2030-01-08T09:00', deleted: true },
          { originalStart: '2030-01-09T09:00', start: '2030-01-09T10:00', end: '2030-01-09T10:30', location: 'Room 2' },
        ],
      },
    ],
    ...extra,
  };
}

let sim: SeveraSimulator;
afterEach(async () => {
  expect(sim.contractViolations()).toEqual([]);
  await sim.close();
});

async function connect(s: SeveraSimulator) {
  const checker = contractCheckingFetch();
  const res = await checker.fetch(`${s.baseUrl}/v1/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ client_id: 'c', client_secret: 'demo-secret' }) });
  const { access_token } = (await res.json()) as { access_token: string };
  const headers = { Authorization: `Bearer ${access_token}`, Client_Id: 'c', 'Content-Type': 'application/json' };
  const get = async (path: string) => {
    const r = await checker.fetch(`${s.baseUrl}${path}`, { headers });
    return { status: r.status, body: (r.status === 200 ? await r.json() : null) as Record<string, unknown>[] & Record<string, unknown>, next: r.headers.get('NextPageToken') };
  };
  const send = async (method: string, path: string, body?: unknown) => {
    const r = await checker.fetch(`${s.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };
  return { get, send, checker };
}

describe('series from the seed and through the API', () => {
  it('applies seeded exceptions: a deleted occurrence is gone, a moved one is an Exception', async () => {
    sim = await startSeveraSimulator({ seed: seed(), rateLimitPerSecond: 0 });
    const api = await connect(sim);
    const { body } = await api.get(`/v1/activities?rowCount=100&userGuids=${U1}`);
    const starts = body.map((a) => `${String(a.startDateTime).slice(5, 16)} ${a.recurrenceType}`);
    expect(starts).toEqual([
      '01-07T09:00 Occurrence',
      '01-10T09:00 Occurrence',
      '01-11T09:00 Occurrence',
      '01-14T09:00 Occurrence',
      '01-15T09:00 Occurrence',
      '01-16T09:00 Occurrence',
      '01-17T09:00 Occurrence',
      '01-18T09:00 Occurrence',
      '01-09T10:00 Exception',
    ]);
    const ex = body.find((a) => a.recurrenceType === 'Exception')!;
    expect(ex).toMatchObject({ location: 'Room 2', recurrenceParentActivityGuid: SERIES });
    const { body: masters } = await api.get('/v1/activities?recurrenceType=Series');
    expect((masters[0].recurrence as { exceptions: string[] }).exceptions).toEqual(['2030-01-08T09:00:00+02:00', '2030-01-09T09:00:00+02:00']);
    expect(masters[0].recurrenceRule).toBe('FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=10');
    // The participant sees the series' occurrences too.
    const { body: mikko } = await api.get(`/v1/activities?rowCount=100&userGuids=${U2}&includeAsMember=true`);
    expect(mikko.length).toBe(9);
    expect(api.checker.problems()).toEqual([]);
  });

  it('keeps deleted and changed occurrences on their days when the series moves to another time of day', async () => {
    sim = await startSeveraSimulator({ seed: seed(), rateLimitPerSecond: 0 });
    const api = await connect(sim);
    const moved = await api.send('PATCH', `/v1/activities/${SERIES}`, [
      { op: 'Replace', path: '/startDateTime', value: '2030-01-07T11:00:00+02:00' },
      { op: 'Replace', path: '/endDateTime', value: '2030-01-07T11:15:00+02:00' },
    ]);
    expect(moved.status).toBe(200);
    const { body } = await api.get(`/v1/activities?rowCount=100&userGuids=${U1}`);
    // 8 January stays deleted; 9 January has only its changed occurrence (as it was changed: 10:00 in Room 2).
    expect(body.map((a) => `${String(a.startDateTime).slice(5, 16)} ${a.recurrenceType}`)).toEqual([
      '01-07T11:00 Occurrence',
      '01-10T11:00 Occurrence',
      '01-11T11:00 Occurrence',
      '01-14T11:00 Occurrence',
      '01-15T11:00 Occurrence',
      '01-16T11:00 Occurrence',
      '01-17T11:00 Occurrence',
      '01-18T11:00 Occurrence',
      '01-09T10:00 Exception',
    ]);
    const { body: masters } = await api.get('/v1/activities?recurrenceType=Series');
    expect((masters[0].recurrence as { exceptions: string[] }).exceptions).toEqual(['2030-01-08T11:00:00+02:00', '2030-01-09T11:00:00+02:00']);
    // The snapshot still holds together (each exception where its series says): a simulator starts from it.
    const again = await startSeveraSimulator({ state: sim.exportState(), rateLimitPerSecond: 0 });
    await again.close();
    expect(api.checker.problems()).toEqual([]);
  });

  it('changes a series pattern field by field with Replace, and ends it with /recurrence null', async () => {
    sim = await startSeveraSimulator({ seed: seed(), rateLimitPerSecond: 0 });
    const api = await connect(sim);
    const changed = await api.send('PATCH', `/v1/activities/${SERIES}`, [
      { op: 'Replace', path: '/recurrence/frequency', value: 'Weekly' },
      { op: 'Replace', path: '/recurrence/pattern/weekly/interval', value: '1' },
      { op: 'Replace', path: '/recurrence/pattern/weekly/wednesday', value: 'true' },
      { op: 'Replace', path: '/recurrence/range/maxOccurrences', value: '3' },
    ]);
    expect(changed.status).toBe(200);
    expect(changed.body[0].recurrence.frequency).toBe('Weekly');
    const { body } = await api.get(`/v1/activities?rowCount=100&userGuids=${U1}&recurrenceType=Occurrence`);
    // The series now starts on its first Wednesday; the stored exceptions of the old pattern stay as they were.
    expect(body.map((a) => String(a.startDateTime).slice(0, 10))).toEqual(['2030-01-16', '2030-01-23']);
    const bad = await api.send('PATCH', `/v1/activities/${SERIES}`, [{ op: 'Replace', path: '/recurrence/pattern/weekly/interval', value: 'often' }]);
    expect(bad.status).toBe(400);
    const badEnum = await api.send('PATCH', `/v1/activities/${SERIES}`, [{ op: 'Replace', path: '/recurrence/frequency', value: 'Hourly' }]);
    expect(badEnum.status).toBe(400);
    const ended = await api.send('PATCH', `/v1/activities/${SERIES}`, [{ op: 'Replace', path: '/recurrence', value: null }]);
    expect(ended.status).toBe(200);
    expect(ended.body[0]).toMatchObject({ recurrenceType: 'None', recurrence: null });
    const { body: after } = await api.get(`/v1/activities?rowCount=100&userGuids=${U1}`);
    expect(after.map((a) => a.recurrenceType)).toEqual(['None']);
    expect(api.checker.problems()).toEqual([]);
  });

  it('lets a participant leave one occurrence: it becomes an exception without them', async () => {
    sim = await startSeveraSimulator({ seed: seed(), rateLimitPerSecond: 0 });
    const api = await connect(sim);
    const { body } = await api.get(`/v1/activities?rowCount=100&userGuids=${U1}&recurrenceType=Occurrence`);
    const occ = body[2];
    const { body: people } = await api.get(`/v1/activities/${occ.guid}/activityparticipants`);
    expect(people.map((p) => p.participantGuid)).toEqual([U2]);
    const removed = await api.send('DELETE', `/v1/activities/${occ.guid}/activityparticipants/${people[0].guid}`);
    expect(removed.status).toBe(204);
    const { body: one } = await api.get(`/v1/activities/${occ.guid}`);
    expect(one.recurrenceType).toBe('Exception');
    expect((await api.get(`/v1/activities/${occ.guid}/activityparticipants`)).body).toEqual([]);
    const { body: mikko } = await api.get(`/v1/activities?rowCount=100&userGuids=${U2}&includeAsMember=true`);
    expect(mikko.some((a) => a.guid === occ.guid)).toBe(false);
    expect(mikko.length).toBe(8);
  });
});

describe('paging under change', () => {
  it('pages a changedSince listing while activities change, returning every current row at least once', async () => {
    sim = await startSeveraSimulator({ seed: seed({ activities: [] }), rateLimitPerSecond: 0 });
    const api = await connect(sim);
    const since = new Date(Date.now() - 1000).toISOString();
    const guids: string[] = [];
    for (let i = 0; i < 25; i++) {
      guids.push(String(sim.createActivity({ name: `A${i}`, startDateTime: `2030-02-${String(i + 1).padStart(2, '0')}T10:00:00+02:00`, ownerUser: { guid: i % 2 ? U1 : U2 } }).guid));
    }
    const seen: string[] = [];
    let token: string | null = null;
    let page = 0;
    do {
      const q: string = `/v1/activities?rowCount=10&changedSince=${encodeURIComponent(since)}${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`;
      const res = await api.get(q);
      expect(res.status).toBe(200);
      seen.push(...res.body.map((a) => String(a.guid)));
      token = res.next;
      if (page === 0) {
        // Between pages: one already returned row changes, one not yet returned row is deleted.
        sim.updateActivity(guids[0], { name: 'A0 changed' });
        sim.deleteActivity(guids[20]);
      }
      page += 1;
    } while (token && page < 10);
    expect(token).toBeNull();
    const expected = guids.filter((g) => g !== guids[20]);
    expect(new Set(seen)).toEqual(new Set(expected));
    expect(seen.filter((g) => g === guids[0])).toHaveLength(2); // returned again after its change
  });

  it('pages a single user\'s list by insertion order even when others write in between', async () => {
    sim = await startSeveraSimulator({ seed: seed({ activities: [] }), rateLimitPerSecond: 0 });
    const api = await connect(sim);
    for (let i = 0; i < 12; i++) sim.createActivity({ name: `U1-${i}`, startDateTime: '2030-03-01T10:00:00+02:00', ownerUser: { guid: U1 } });
    const first = await api.get(`/v1/activities?rowCount=5&userGuids=${U1}`);
    for (let i = 0; i < 5; i++) sim.createActivity({ name: `U2-${i}`, startDateTime: '2030-03-01T10:00:00+02:00', ownerUser: { guid: U2 } });
    const second = await api.get(`/v1/activities?rowCount=5&userGuids=${U1}&pageToken=${encodeURIComponent(first.next!)}`);
    const third = await api.get(`/v1/activities?rowCount=5&userGuids=${U1}&pageToken=${encodeURIComponent(second.next!)}`);
    expect([...first.body, ...second.body, ...third.body].map((a) => a.name)).toEqual(Array.from({ length: 12 }, (_, i) => `U1-${i}`));
    expect(third.next).toBeNull();
  });
});
