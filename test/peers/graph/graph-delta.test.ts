/**
 * calendarView/delta over HTTPS: rounds and pages (Prefer: odata.maxpagesize), the window fixed in the token, changes
 * and @removed, series instances, expired and forged tokens (410), seeded replays and duplicates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphSimulator } from './graph-simulator.ts';
import type { GraphSimulator } from './graph-simulator.ts';
import { appToken, graphCaller, testSeed } from './graph-test-client.ts';

let sim: GraphSimulator;
let call: ReturnType<typeof graphCaller>;
const WINDOW = 'startDateTime=2030-05-01T00:00:00Z&endDateTime=2030-06-01T00:00:00Z';

beforeAll(async () => {
  sim = await startGraphSimulator({ seed: { ...testSeed(), graph: { syncStateCacheSize: 50 } } });
  call = graphCaller(sim, await appToken(sim));
});
afterAll(async () => {
  expect(sim.contractViolations()).toEqual([]);
  await sim.close();
});

interface Round {
  items: Array<Record<string, any>>;
  deltaLink: string;
  pages: number;
}

/** Follows nextLinks to the deltaLink. */
async function round(start: string, pageSize = 2): Promise<Round> {
  const items: Array<Record<string, any>> = [];
  let url: string | undefined = start;
  let pages = 0;
  for (;;) {
    const r = await call('GET', url!, undefined, { Prefer: `odata.maxpagesize=${pageSize}` });
    expect(r.status).toBe(200);
    expect(r.headers.get('preference-applied')).toBe(`odata.maxpagesize=${pageSize}`);
    pages++;
    items.push(...r.body!.value);
    if (r.body!['@odata.deltaLink']) return { items, deltaLink: r.body!['@odata.deltaLink'], pages };
    url = r.body!['@odata.nextLink'];
    expect(url).toContain('$skiptoken=');
  }
}

describe('calendarView/delta', () => {
  it('an initial round pages through the window; then changes, moves out of the window and deletions come as changes and @removed', async () => {
    const anna = sim.mailbox('anna@fabrikam.example');
    const ids = [1, 2, 3, 4, 5].map((d) => anna.create({ subject: `Item ${d}`, start: `2030-05-0${d}T08:00:00Z`, end: `2030-05-0${d}T09:00:00Z` }).id);
    anna.create({ subject: 'Outside', start: '2030-07-01T08:00:00Z', end: '2030-07-01T09:00:00Z' });
    const first = await round(`/users/anna@fabrikam.example/calendarView/delta?${WINDOW}`);
    expect(first.pages).toBe(3);
    expect(first.items.map((e) => e.subject).sort()).toEqual(['Item 1', 'Item 2', 'Item 3', 'Item 4', 'Item 5']);
    expect(first.items[0]['@odata.type']).toBe('#microsoft.graph.event');
    expect(first.deltaLink).toContain('$deltatoken=');

    const quiet = await round(first.deltaLink);
    expect(quiet.items).toEqual([]);

    anna.update(ids[0], { subject: 'Item 1 (changed)' });
    anna.update(ids[1], { start: '2030-08-01T08:00:00Z', end: '2030-08-01T09:00:00Z' });
    anna.delete(ids[2]);
    const created = anna.create({ subject: 'Item 6', start: '2030-05-06T08:00:00Z', end: '2030-05-06T09:00:00Z' });
    const next = await round(quiet.deltaLink, 10);
    const removed = next.items.filter((e) => e['@removed']).map((e) => e.id).sort();
    const changed = next.items.filter((e) => !e['@removed']).map((e) => e.subject).sort();
    expect(changed).toEqual(['Item 1 (changed)', 'Item 6']);
    expect(removed).toEqual([ids[1], ids[2]].sort());
    expect(next.items.find((e) => e['@removed'])?.['@removed']).toEqual({ reason: 'deleted' });
    expect(created.id).toBeTruthy();

    // Changes outside the window are reported as removed too (event-delta docs), and must be ignored by the client.
    const outside = anna.list().find((e) => e.subject === 'Outside')!;
    anna.update(outside.id, { subject: 'Outside (changed)' });
    const noise = await round(next.deltaLink);
    expect(noise.items).toEqual([{ '@odata.type': '#microsoft.graph.event', id: outside.id, '@removed': { reason: 'deleted' } }]);
  });

  it('a series shows as its occurrences and exceptions; changing one occurrence sends that instance again', async () => {
    const ben = sim.mailbox('ben@fabrikam.example');
    const s = ben.create({
      subject: 'Weekly',
      start: '2030-05-06T07:00:00Z',
      end: '2030-05-06T07:30:00Z',
      timeZone: 'Europe/Helsinki',
      recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'] }, range: { type: 'noEnd', startDate: '2030-05-06' } },
    });
    const first = await round(`/users/ben@fabrikam.example/calendarView/delta?${WINDOW}`, 10);
    expect(first.items.map((e) => e.type)).toEqual(['occurrence', 'occurrence', 'occurrence', 'occurrence']);
    expect(first.items.every((e) => e.seriesMasterId === s.id)).toBe(true);
    ben.updateOccurrence(s.id, '2030-05-13T07:00:00Z', { subject: 'Weekly (special)' });
    const next = await round(first.deltaLink, 10);
    const special = next.items.find((e) => e.subject === 'Weekly (special)');
    expect(special?.type).toBe('exception');
    ben.cancelOccurrence(s.id, '2030-05-20T07:00:00Z');
    const third = await round(next.deltaLink, 10);
    expect(third.items.some((e) => e['@removed'] && e.id === first.items[2].id)).toBe(true);
  });

  it('a page asked again (a retried request) gives the same page; the window stays the first request\'s', async () => {
    const cleo = sim.mailbox('cleo@fabrikam.example');
    for (let d = 1; d <= 4; d++) cleo.create({ subject: `C${d}`, start: `2030-05-1${d}T08:00:00Z`, end: `2030-05-1${d}T09:00:00Z` });
    const p1 = await call('GET', `/users/cleo@fabrikam.example/calendarView/delta?${WINDOW}`, undefined, { Prefer: 'odata.maxpagesize=2' });
    const next = p1.body!['@odata.nextLink'];
    const a = await call('GET', next, undefined, { Prefer: 'odata.maxpagesize=2' });
    const b = await call('GET', next, undefined, { Prefer: 'odata.maxpagesize=2' });
    expect(b.body!.value.map((e: { id: string }) => e.id)).toEqual(a.body!.value.map((e: { id: string }) => e.id));
    expect(new URL(next).searchParams.has('startDateTime')).toBe(false);
    const filtered = await call('GET', `/users/cleo@fabrikam.example/calendarView/delta?${WINDOW}&$filter=${encodeURIComponent("subject eq 'C1'")}`);
    expect(filtered.status).toBe(400);
  });

  it('an expired sync state is 410 Gone (syncStateNotFound) with a Location to start over; a forged token is 410 resyncRequired', async () => {
    const r = await round(`/users/cleo@fabrikam.example/calendarView/delta?${WINDOW}`, 10);
    sim.expireSyncStates('cleo@fabrikam.example');
    const gone = await call('GET', r.deltaLink);
    expect(gone.status).toBe(410);
    expect(gone.body?.error.code).toBe('syncStateNotFound');
    const location = new URL(gone.headers.get('location')!);
    expect(location.searchParams.get('startDateTime')).toBe('2030-05-01T00:00:00.000Z');
    expect(location.searchParams.get('$deltatoken')).toBe('');
    const again = await round(location.toString(), 10);
    expect(again.items.length).toBe(r.items.length);
    const forged = new URL(r.deltaLink);
    forged.searchParams.set('$deltatoken', 'eyJtIjoieCJ9.AAAA');
    const bad = await call('GET', forged.toString().replace(/%24/g, '$'));
    expect([bad.status, bad.body?.error.code]).toEqual([410, 'resyncRequired']);
    // Another mailbox's token does not open this one.
    const other = await call('GET', r.deltaLink.replace('/users/cleo@fabrikam.example/', '/users/anna@fabrikam.example/'));
    expect(other.status).toBe(410);
  });

  it('the token cache is finite: an old deltaLink falls out after many newer rounds', async () => {
    const small = await startGraphSimulator({ seed: { ...testSeed(), graph: { syncStateCacheSize: 3 } } });
    const c = graphCaller(small, await appToken(small));
    const first = await c('GET', `/users/anna@fabrikam.example/calendarView/delta?${WINDOW}`);
    let link = first.body!['@odata.deltaLink'];
    const oldest = link;
    for (let i = 0; i < 3; i++) link = (await c('GET', link)).body!['@odata.deltaLink'];
    expect((await c('GET', link)).status).toBe(200);
    expect((await c('GET', oldest)).body?.error.code).toBe('syncStateNotFound');
    await small.close();
  });

  it('seeded faults: duplicates inside a page and replays of unchanged instances', async () => {
    const dup = await startGraphSimulator({ seed: testSeed(), faults: { seed: 3, deltaDuplicateRate: 1 } });
    const c = graphCaller(dup, await appToken(dup));
    dup.mailbox('anna@fabrikam.example').create({ subject: 'Once', start: '2030-05-02T08:00:00Z', end: '2030-05-02T09:00:00Z' });
    const r = await c('GET', `/users/anna@fabrikam.example/calendarView/delta?${WINDOW}`);
    expect(r.body!.value.map((e: { subject: string }) => e.subject)).toEqual(['Once', 'Once']);
    dup.setFaults({ seed: 3, deltaReplayRate: 1 });
    const replay = await c('GET', r.body!['@odata.deltaLink']);
    expect(replay.body!.value.map((e: { subject: string }) => e.subject)).toEqual(['Once']);
    await dup.close();
  });
});
