import { afterEach, describe, expect, it } from 'vitest';
import { CalendarError, type EventWrite } from '../../src-main/exchange/calendar-connector.ts';
import { GraphCalendarConnector } from '../../src-main/exchange/graph/graph-calendar-connector.ts';
import { GraphClient } from '../../src-main/exchange/graph/graph-client.ts';
import type { Transport } from '../../src-main/net/http-transport.ts';
import { singleEntry, startGraphHarness, type GraphHarness } from './graph-harness.ts';

/**
 * What the Graph connector's requests cost, counted at the simulator: a changed single the sync pairs is taken from
 * delta (no read by id), an update the engine knows is a plain single at its version is the PATCH alone, and
 * writeEvents sends creates and such updates 20 to a $batch, each item with its own outcome.
 */

const AINO = 'aino.virtanen@contoso.example';

let h: GraphHarness | undefined;
afterEach(async () => {
  if (!h) return;
  expect(h.sim.contractViolations()).toEqual([]);
  await h.close();
  h = undefined;
});

const single = singleEntry;

/** Requests the product sent, and the simulator's count of a route (inside $batch too), since `from`. */
function costs(from: { requests: number }) {
  const c = h!.sim.counters().byRoute;
  return { requests: h!.requests() - from.requests, gets: c['events.get'] ?? 0, updates: c['events.update'] ?? 0, creates: c['events.create'] ?? 0 };
}

function mark() {
  h!.sim.resetCounters();
  return { requests: h!.requests() };
}

describe('GraphCalendarConnector: changes the sync pairs come from delta', () => {
  it('a changed single the sync pairs costs no read beyond the delta request, and reads as a read by id would (but the tag)', async () => {
    h = await startGraphHarness();
    const first = await h.connector.syncChanges(AINO, null);
    const board = first.changed.find((e) => e.fields.subject === 'Board meeting preparation')!;
    const tagged = await h.connector.createEvent(AINO, single('Sync copy', 3), 'severa-guid-9');
    h.sim.mailbox(AINO).update(board.id, { location: 'Room 7' });
    h.sim.mailbox(AINO).update(tagged.id, { body: 'Changed in Outlook' });

    const at = mark();
    const changes = await h.connector.syncChanges(AINO, first.syncState, { pairedIds: new Set([board.id, tagged.id]) });
    expect(costs(at)).toMatchObject({ requests: 1, gets: 0 });
    const byId = new Map(changes.changed.map((e) => [e.id, e]));
    expect(byId.get(board.id)?.fields.location).toBe('Room 7');
    expect(byId.get(tagged.id)?.fields.body).toBe('Changed in Outlook');
    // The same item as a read by id gives it, but for the tag (only an unpaired item needs it).
    const read = await h.connector.getEvents(AINO, [board.id, tagged.id]);
    for (const e of read) {
      const { syncTag: _tag, ...rest } = e;
      expect(byId.get(e.id)).toEqual(rest);
    }
  });

  it('an unpaired changed single is still read by id, with its sync tag', async () => {
    h = await startGraphHarness();
    const first = await h.connector.syncChanges(AINO, null);
    const board = first.changed.find((e) => e.fields.subject === 'Board meeting preparation')!;
    const tagged = await h.connector.createEvent(AINO, single('Sync copy', 3), 'severa-guid-9');
    h.sim.mailbox(AINO).update(tagged.id, { body: 'Changed in Outlook' });
    h.sim.mailbox(AINO).update(board.id, { location: 'Room 7' });

    const at = mark();
    const changes = await h.connector.syncChanges(AINO, first.syncState, { pairedIds: new Set([board.id]) });
    expect(costs(at)).toMatchObject({ requests: 2, gets: 1 });
    expect(changes.changed.find((e) => e.id === tagged.id)).toMatchObject({ syncTag: 'severa-guid-9', fields: { body: 'Changed in Outlook' } });
    expect(changes.changed.find((e) => e.id === board.id)?.fields.location).toBe('Room 7');
  });

  it('a paired id listed twice in a delta page is taken once, from delta; one deleted in Outlook is deleted', async () => {
    h = await startGraphHarness();
    const first = await h.connector.syncChanges(AINO, null);
    const board = first.changed.find((e) => e.fields.subject === 'Board meeting preparation')!;
    const dentist = first.changed.find((e) => e.fields.subject === 'Dentist')!;
    h.sim.setFaults({ seed: 3, deltaDuplicateRate: 1 });
    h.sim.mailbox(AINO).update(board.id, { location: 'Room 7' });
    h.sim.mailbox(AINO).delete(dentist.id);
    const at = mark();
    const changes = await h.connector.syncChanges(AINO, first.syncState, { pairedIds: new Set([board.id, dentist.id]) });
    // Only the removed id is looked up (a removal may be a move out of the window); the changed one is not read.
    expect(costs(at).gets).toBe(1);
    expect(changes.changed.map((e) => [e.id, e.fields.location])).toEqual([[board.id, 'Room 7']]);
    expect(changes.deletedIds).toEqual([dentist.id]);
  });
});

describe('GraphCalendarConnector: a server whose delta items lack properties', () => {
  it('a paired changed single whose delta item lacks its subject is read by id, never taken as having none', async () => {
    h = await startGraphHarness();
    const first = await h.connector.syncChanges(AINO, null);
    const board = first.changed.find((e) => e.fields.subject === 'Board meeting preparation')!;
    // The same Graph, seen through a transport that drops `subject` from delta items (a server that differs).
    const transport: Transport = async (req) => {
      const res = await h!.connection.transport(req);
      if (!/\/calendarView\/delta/i.test(req.url.pathname) || res.status !== 200) return res;
      const page = JSON.parse(res.body.toString('utf8')) as { value?: Array<Record<string, unknown>> };
      for (const item of page.value ?? []) delete item.subject;
      return { ...res, body: Buffer.from(JSON.stringify(page)) };
    };
    const client = new GraphClient({ graphHost: h.connection.online.graphUrl, tokens: h.connection.signIn, transport });
    const differing = new GraphCalendarConnector({ client, window: { startDate: h.settings.enrollments[0].syncStartDate, daysAhead: h.settings.windowDaysAhead }, defaultTimeZone: 'Europe/Helsinki' });
    h.sim.mailbox(AINO).update(board.id, { location: 'Room 7' });
    h.sim.resetCounters();
    const changes = await differing.syncChanges(AINO, first.syncState, { pairedIds: new Set([board.id]) });
    expect(h.sim.counters().byRoute['events.get']).toBe(1);
    expect(changes.changed.map((e) => [e.fields.subject, e.fields.location])).toEqual([['Board meeting preparation', 'Room 7']]);
  });
});

describe('GraphCalendarConnector: updates the engine knows are plain singles', () => {
  it('cost exactly the PATCH; a stale version is still a conflict and writes nothing', async () => {
    h = await startGraphHarness();
    const written = await h.connector.createEvent(AINO, single('Planning', 2), 'severa-guid-2');
    h.sim.mailbox(AINO).update(written.id, { body: 'Changed in Outlook meanwhile' });
    const now = h.sim.mailbox(AINO).get(written.id)!;
    // Another run's connector: it has read nothing of the item.
    const other = new GraphCalendarConnector({ client: h.connection.client, window: { startDate: h.settings.enrollments[0].syncStartDate, daysAhead: h.settings.windowDaysAhead }, defaultTimeZone: 'Europe/Helsinki' });
    await other.resolveMailbox(AINO);

    let at = mark();
    const stale = await other.updateEvent(AINO, written.id, written.version, single('Planning (stale)', 2), { plainSingleAtVersion: true }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(CalendarError);
    expect((stale as CalendarError).code).toBe('conflict');
    expect(costs(at)).toMatchObject({ requests: 1, gets: 0 });
    expect(h.sim.mailbox(AINO).get(written.id)).toMatchObject({ subject: 'Planning', body: now.body });

    const [current] = await h.connector.getEvents(AINO, [written.id]);
    at = mark();
    const updated = await other.updateEvent(AINO, written.id, current.version, single('Planning (new)', 2), { plainSingleAtVersion: true });
    expect(costs(at)).toMatchObject({ requests: 1, updates: 1, gets: 0 });
    expect(h.sim.mailbox(AINO).get(written.id)?.subject).toBe('Planning (new)');
    expect(updated.stored?.fields.subject).toBe('Planning (new)');

    // Without the hint the item is read first, as before.
    const third = new GraphCalendarConnector({ client: h.connection.client, window: { startDate: h.settings.enrollments[0].syncStartDate, daysAhead: h.settings.windowDaysAhead }, defaultTimeZone: 'Europe/Helsinki' });
    await third.resolveMailbox(AINO);
    at = mark();
    await third.updateEvent(AINO, written.id, updated.version, single('Planning (again)', 2));
    expect(costs(at)).toMatchObject({ requests: 2, updates: 1, gets: 1 });
  });
});

describe('GraphCalendarConnector: writeEvents in $batch', () => {
  it('25 creates cost 2 $batch requests and give 25 results with ids, each stored with its tag', async () => {
    h = await startGraphHarness();
    await h.connector.resolveMailbox(AINO);
    const writes: EventWrite[] = Array.from({ length: 25 }, (_, i) => ({ kind: 'create', fields: single(`Batch ${i}`, 1 + (i % 5)), syncTag: `severa-batch-${i}` }));
    const at = mark();
    const outcomes = await h.connector.writeEvents(AINO, writes);
    expect(costs(at)).toMatchObject({ requests: 2, creates: 25 });
    expect(h.sim.counters().throttled).toBe(0);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const results = outcomes.map((o) => (o.ok ? o.result : null)!);
    expect(new Set(results.map((r) => r.id)).size).toBe(25);
    expect(results.map((r) => r.stored?.fields.subject)).toEqual(writes.map((w) => w.fields.subject));
    const read = await h.connector.getEvents(AINO, results.map((r) => r.id));
    expect(read.map((e) => [e.fields.subject, e.syncTag, e.version])).toEqual(results.map((r, i) => [`Batch ${i}`, `severa-batch-${i}`, r.version]));
    expect(h.sim.mailSent()).toEqual([]);
  });

  it('plain-single updates go 20 to a $batch; a stale one is its own conflict, the others land; a create answered 503 once is sent again and made once', async () => {
    h = await startGraphHarness();
    const created = await h.connector.writeEvents(AINO, Array.from({ length: 6 }, (_, i) => ({ kind: 'create', fields: single(`Item ${i}`, 2), syncTag: `severa-item-${i}` }) as EventWrite));
    const items = created.map((o) => (o.ok ? o.result : null)!);
    h.sim.mailbox(AINO).update(items[2].id, { body: 'Changed in Outlook meanwhile' });
    const other = new GraphCalendarConnector({ client: h.connection.client, window: { startDate: h.settings.enrollments[0].syncStartDate, daysAhead: h.settings.windowDaysAhead }, defaultTimeZone: 'Europe/Helsinki' });
    await other.resolveMailbox(AINO);
    h.sim.setFaults({ forceNext: { kind: 'http503', count: 1 }, onlyRoutes: ['events.create'], retryAfterSeconds: 0 });
    const writes: EventWrite[] = [
      ...items.map((r, i): EventWrite => ({ kind: 'update', id: r.id, version: r.version, fields: single(`Item ${i} (new)`, 2), plainSingleAtVersion: true })),
      { kind: 'create', fields: single('Made once', 3), syncTag: 'severa-once' },
    ];
    const at = mark();
    const outcomes = await other.writeEvents(AINO, writes);
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['ok', 'ok', 'conflict', 'ok', 'ok', 'ok', 'ok']);
    expect(costs(at).gets).toBe(0);
    // One $batch in four dependsOn chains; the stale update's chain went on with 424 (the create behind it), which is
    // sent again (answered 503 once, then made): three requests, no read.
    expect(costs(at).requests).toBe(3);
    expect(h.sim.faultsInjected().http503).toBe(1);
    const calendar = h.sim.mailbox(AINO);
    expect(calendar.get(items[2].id)).toMatchObject({ subject: 'Item 2', body: 'Changed in Outlook meanwhile' });
    for (const i of [0, 1, 3, 4, 5]) expect(calendar.get(items[i].id)?.subject).toBe(`Item ${i} (new)`);
    expect(calendar.list().filter((e) => e.subject === 'Made once')).toHaveLength(1);
    const made = outcomes[6].ok ? outcomes[6].result : null;
    expect(made?.id).toBe(calendar.list().find((e) => e.subject === 'Made once')?.id);
  });

  it('an update without the hint, or of a meeting with attendees, takes the one-by-one path (read first; would-notify)', async () => {
    h = await startGraphHarness();
    const { changed } = await h.connector.syncChanges(AINO, null);
    const kickoff = changed.find((e) => e.fields.subject === 'Fabrikam kickoff')!;
    const made = await h.connector.createEvent(AINO, single('Plain', 2), 'severa-plain');
    const outcomes = await h.connector.writeEvents(AINO, [
      { kind: 'update', id: kickoff.id, version: kickoff.version, fields: { ...kickoff.fields, subject: 'Renamed in Severa' }, plainSingleAtVersion: true },
      { kind: 'update', id: made.id, version: made.version, fields: single('Plain (new)', 2) },
    ]);
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['would-notify', 'ok']);
    expect(h.sim.mailbox(AINO).get(kickoff.id)?.subject).toBe('Fabrikam kickoff');
    expect(h.sim.mailSent().filter((m) => m.via === 'graph')).toEqual([]);
  });
});
