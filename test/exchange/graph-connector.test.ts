import { afterEach, describe, expect, it } from 'vitest';
import { CalendarError } from '../../src-main/exchange/calendar-connector.ts';
import { inDays, singleEntry, startGraphHarness, type GraphHarness } from './graph-harness.ts';

/**
 * The product's Graph connector against the Graph simulator over HTTPS: change detection by calendarView/delta, series
 * read as master plus exceptions, silent writes, conflicts, and the errors an admin meets, each with its sentence.
 */

const AINO = 'aino.virtanen@contoso.example';
const MIKKO = 'mikko.lahtinen@contoso.example';
const DAY = 86_400_000;

let h: GraphHarness | undefined;
afterEach(async () => {
  if (!h) return;
  expect(h.sim.contractViolations()).toEqual([]);
  await h.close();
  h = undefined;
});

const single = singleEntry;

async function expectCalendarError(p: Promise<unknown>, code: string): Promise<CalendarError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CalendarError);
    expect((e as CalendarError).code).toBe(code);
    return e as CalendarError;
  }
  throw new Error(`expected CalendarError '${code}', but it succeeded`);
}

describe('GraphCalendarConnector: reading changes', () => {
  it('reads the calendar once, series as master with exceptions, then costs one request when nothing changed', async () => {
    h = await startGraphHarness();
    const first = await h.connector.syncChanges(AINO, null);
    const subjects = first.changed.map((e) => e.fields.subject).sort();
    expect(subjects).toEqual(['Board meeting preparation', 'Dentist', 'Fabrikam kickoff', 'Weekly team meeting']);
    const weekly = first.changed.find((e) => e.fields.subject === 'Weekly team meeting')!;
    expect(weekly.fields.recurrence).toMatchObject({ frequency: 'Weekly', interval: 1 });
    expect(weekly.fields.exceptions.some((x) => x.fields === null)).toBe(true);
    expect(weekly.fields.exceptions.some((x) => x.fields !== null)).toBe(true);
    expect(weekly.uid).toBeTruthy();
    const dentist = first.changed.find((e) => e.fields.subject === 'Dentist')!;
    expect(dentist.fields.isPrivate).toBe(true);
    expect(first.deletedIds).toEqual([]);

    const before = h.requests();
    const quiet = await h.connector.syncChanges(AINO, first.syncState);
    expect(quiet).toMatchObject({ changed: [], deletedIds: [] });
    expect(h.requests() - before).toBe(1);
  });

  it('reports an Outlook edit as changed, a deletion as deleted, a cancelled occurrence as the series changed, and a deleted series by its master id', async () => {
    h = await startGraphHarness();
    const outlook = h.sim.mailbox(AINO);
    let state = (await h.connector.syncChanges(AINO, null)).syncState;
    const board = outlook.list().find((e) => e.subject === 'Board meeting preparation')!;
    const dentist = outlook.list().find((e) => e.subject === 'Dentist')!;
    const weekly = outlook.list().find((e) => e.subject === 'Weekly team meeting')!;

    outlook.update(board.id, { location: 'Room 7' });
    outlook.delete(dentist.id);
    let changes = await h.connector.syncChanges(AINO, state);
    expect(changes.changed.map((e) => [e.id, e.fields.location])).toEqual([[board.id, 'Room 7']]);
    expect(changes.deletedIds).toEqual([dentist.id]);
    state = changes.syncState;

    const next = h.sim.mailbox(AINO).view(new Date().toISOString(), new Date(Date.now() + 30 * DAY).toISOString()).find((i) => i.master.id === weekly.id && i.type === 'occurrence')!;
    outlook.cancelOccurrence(weekly.id, new Date(next.originalStartMs!).toISOString());
    changes = await h.connector.syncChanges(AINO, state);
    expect(changes.changed.map((e) => e.id)).toEqual([weekly.id]);
    expect(changes.changed[0].fields.exceptions).toContainEqual({ originalStart: new Date(next.originalStartMs!).toISOString(), fields: null });
    expect(changes.deletedIds).toEqual([]);
    state = changes.syncState;

    outlook.delete(weekly.id);
    changes = await h.connector.syncChanges(AINO, state);
    expect(changes.deletedIds).toContain(weekly.id);
    expect(changes.changed).toEqual([]);
  });

  it('never reports as deleted an event moved out of the window: it is read and reported as changed', async () => {
    h = await startGraphHarness();
    const outlook = h.sim.mailbox(AINO);
    const state = (await h.connector.syncChanges(AINO, null)).syncState;
    const board = outlook.list().find((e) => e.subject === 'Board meeting preparation')!;
    outlook.update(board.id, { start: inDays(400, 8), end: inDays(400, 9) });
    const changes = await h.connector.syncChanges(AINO, state);
    expect(changes.deletedIds).toEqual([]);
    expect(changes.changed.map((e) => [e.id, e.fields.start])).toEqual([[board.id, inDays(400, 8)]]);
  });

  it('answers an expired delta position with invalid-sync-state, and starts over from null without losing anything', async () => {
    h = await startGraphHarness();
    const state = (await h.connector.syncChanges(AINO, null)).syncState;
    h.sim.expireSyncStates(AINO);
    await expectCalendarError(h.connector.syncChanges(AINO, state), 'invalid-sync-state');
    const again = await h.connector.syncChanges(AINO, null);
    expect(again.changed).toHaveLength(4);
    await expectCalendarError(h.connector.syncChanges(AINO, 'SyncState-from-EWS'), 'invalid-sync-state');
  });

  it('prefetches many mailboxes in one $batch: a quiet cycle of five mailboxes costs one request', async () => {
    h = await startGraphHarness();
    const mailboxes = [AINO, MIKKO, 'sara.nieminen@contoso.example', 'jussi.korhonen@contoso.example', 'leena.makela@contoso.example'];
    const states = new Map<string, string>();
    for (const m of mailboxes) states.set(m, (await h.connector.syncChanges(m, null)).syncState);
    h.sim.mailbox(MIKKO).update(h.sim.mailbox(MIKKO).list().find((e) => e.subject === 'Lunch with Jussi')!.id, { location: 'Somewhere else' });
    const before = h.requests();
    await h.connector.prefetchChanges(mailboxes.map((m) => ({ mailbox: m, syncState: states.get(m)! })));
    expect(h.requests() - before).toBe(1);
    const results = [];
    for (const m of mailboxes) results.push(await h.connector.syncChanges(m, states.get(m)!));
    expect(results.map((r) => r.changed.length)).toEqual([0, 1, 0, 0, 0]);
    // The changed mailbox's item was read (one more $batch); the four quiet ones cost nothing more.
    expect(h.requests() - before).toBe(2);
  });

  it('does not keep a prefetched page with many changes until its turn: that mailbox asks again, the quiet ones do not', async () => {
    h = await startGraphHarness();
    const mailboxes = [AINO, MIKKO];
    const states = new Map<string, string>();
    for (const m of mailboxes) states.set(m, (await h.connector.syncChanges(m, null)).syncState);
    // 25 new entries in Aino's calendar (more than a prefetched page is kept with); Mikko's stays quiet.
    for (let i = 0; i < 25; i++) h.sim.mailbox(AINO).create({ subject: `Planning ${i}`, start: inDays(2 + (i % 5), 8), end: inDays(2 + (i % 5), 9) });
    await h.connector.prefetchChanges(mailboxes.map((m) => ({ mailbox: m, syncState: states.get(m)! })));
    h.sim.resetCounters();
    const quiet = await h.connector.syncChanges(MIKKO, states.get(MIKKO)!);
    expect(quiet.changed).toHaveLength(0);
    expect(h.sim.counters().byRoute['calendarView.delta'] ?? 0).toBe(0);
    const busy = await h.connector.syncChanges(AINO, states.get(AINO)!);
    expect(busy.changed.filter((e) => e.fields.subject.startsWith('Planning '))).toHaveLength(25);
    expect(h.sim.counters().byRoute['calendarView.delta']).toBe(1);
  });

  it('finds a mailbox by an alias and answers with its primary address', async () => {
    h = await startGraphHarness();
    expect(await h.connector.resolveMailbox('aino@contoso.example')).toBe(AINO);
    expect(await h.connector.resolveMailbox('s.nieminen@contoso.example')).toBe('sara.nieminen@contoso.example');
    expect(await h.connector.resolveMailbox('nobody@contoso.example')).toBeNull();
  });
});

describe('GraphCalendarConnector: writing', () => {
  it('creates with the sync tag and no attendees (nobody is mailed), finds it by the tag, reads it back as written', async () => {
    h = await startGraphHarness();
    const fields = single('Customer visit: Fabrikam', 3, { attendees: ['mikko.lahtinen@contoso.example'], isPrivate: true });
    const written = await h.connector.createEvent(AINO, fields, 'severa-guid-1');
    const [found] = await h.connector.findByTag(AINO, 'severa-guid-1');
    expect(found.id).toBe(written.id);
    expect(found.version).toBe(written.version);
    expect(found.syncTag).toBe('severa-guid-1');
    expect(found.fields).toMatchObject({ subject: fields.subject, start: fields.start, end: fields.end, location: 'Room 1', body: 'Agenda', isPrivate: true, attendees: [] });
    expect(h.sim.mailSent()).toEqual([]);
    expect(h.sim.counters().invitationsSent).toBe(0);
    expect(await h.connector.findByTag(AINO, 'some-other-guid')).toEqual([]);
  });

  it('creates a weekly series with a moved and a cancelled occurrence and reads the same series back', async () => {
    h = await startGraphHarness();
    const monday = new Date(Date.now() + 7 * DAY);
    monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
    const date = (d: Date, plus: number) => new Date(d.getTime() + plus * DAY).toISOString().slice(0, 10);
    const start = `${date(monday, 0)}T07:00:00.000Z`;
    const fields = single('Ops sync', 0, {
      start,
      end: `${date(monday, 0)}T07:30:00.000Z`,
      recurrence: { frequency: 'Weekly', interval: 1, daysOfWeek: ['Monday'], startDate: date(monday, 0), count: 6 },
      exceptions: [
        { originalStart: `${date(monday, 7)}T07:00:00.000Z`, fields: null },
        { originalStart: `${date(monday, 14)}T07:00:00.000Z`, fields: { ...single('Ops sync (moved)', 0), start: `${date(monday, 15)}T09:00:00.000Z`, end: `${date(monday, 15)}T09:30:00.000Z` } },
      ],
    });
    const { exceptions: _x, ...occurrenceBase } = fields;
    void occurrenceBase;
    const written = await h.connector.createEvent(AINO, fields, 'severa-series-1');
    const [read] = await h.connector.getEvents(AINO, [written.id]);
    expect(read.version).toBe(written.version);
    expect(read.fields.recurrence).toEqual(fields.recurrence);
    expect(read.fields.exceptions.map((x) => [x.originalStart, x.fields?.subject ?? null, x.fields?.start ?? null])).toEqual([
      [`${date(monday, 7)}T07:00:00.000Z`, null, null],
      [`${date(monday, 14)}T07:00:00.000Z`, 'Ops sync (moved)', `${date(monday, 15)}T09:00:00.000Z`],
    ]);
  });

  it('updates with If-Match: a stale version is a conflict, the right one lands', async () => {
    h = await startGraphHarness();
    const written = await h.connector.createEvent(AINO, single('Planning', 2), 'severa-guid-2');
    const [current] = await h.connector.getEvents(AINO, [written.id]);
    await expectCalendarError(h.connector.updateEvent(AINO, written.id, 'not-the-version', single('Planning', 2)), 'conflict');
    h.sim.mailbox(AINO).update(written.id, { body: 'Changed in Outlook meanwhile' });
    await expectCalendarError(h.connector.updateEvent(AINO, written.id, current.version, single('Planning (new)', 2)), 'conflict');
    const [fresh] = await h.connector.getEvents(AINO, [written.id]);
    const updated = await h.connector.updateEvent(AINO, written.id, fresh.version, single('Planning (new)', 2));
    const [after] = await h.connector.getEvents(AINO, [written.id]);
    expect(after.fields.subject).toBe('Planning (new)');
    expect(after.version).toBe(updated.version);
  });

  it('never changes or deletes an organizer\'s meeting that has attendees (Graph would mail them): would-notify with a sentence', async () => {
    h = await startGraphHarness();
    const { changed } = await h.connector.syncChanges(AINO, null);
    const kickoff = changed.find((e) => e.fields.subject === 'Fabrikam kickoff')!;
    h.sim.resetCounters();
    const update = await expectCalendarError(h.connector.updateEvent(AINO, kickoff.id, kickoff.version, { ...kickoff.fields, subject: 'Renamed in Severa' }), 'would-notify');
    expect(update.advice?.message).toMatch(/has attendees: changing or deleting it through Exchange Online would mail them/);
    expect(update.advice?.fix).toMatch(/Outlook/);
    await expectCalendarError(h.connector.deleteEvent(AINO, kickoff.id), 'would-notify');
    expect(h.sim.mailSent().filter((m) => m.via === 'graph')).toEqual([]);
    expect(h.sim.mailbox(AINO).get(kickoff.id)?.subject).toBe('Fabrikam kickoff');
  });

  it('deletes an item the sync made; deleting it again is not an error', async () => {
    h = await startGraphHarness();
    const written = await h.connector.createEvent(AINO, single('Gone soon', 1), 'severa-guid-3');
    await h.connector.deleteEvent(AINO, written.id);
    expect(h.sim.mailbox(AINO).get(written.id)).toBeUndefined();
    await h.connector.deleteEvent(AINO, written.id);
    expect(await h.connector.getEvents(AINO, [written.id])).toEqual([]);
  });
});

describe('GraphCalendarConnector: what the admin is told', () => {
  it('a user without an Exchange Online mailbox: no-mailbox, MailboxNotEnabledForRESTAPI, with the hybrid fix', async () => {
    const seed = JSON.parse(JSON.stringify((await import('../peers/graph/graph-simulator.ts')).loadGraphSeed('test/peers/demo/graph-demo.json')));
    seed.users.find((u: { userPrincipalName: string }) => u.userPrincipalName === MIKKO).mailbox = false;
    seed.events = seed.events.filter((e: { mailbox?: string; attendees?: string[] }) => e.mailbox !== MIKKO && !(e.attendees ?? []).includes(MIKKO));
    h = await startGraphHarness({ seed });
    const e = await expectCalendarError(h.connector.syncChanges(MIKKO, null), 'no-mailbox');
    expect(e.serverCode).toBe('MailboxNotEnabledForRESTAPI');
    expect(e.advice?.message).toMatch(/has no mailbox in Exchange Online/);
    expect(e.advice?.fix).toMatch(/on-premises connection \(hybrid\)/);
  });

  it('a mailbox outside the app\'s scope: impersonation-denied naming the scope and the PowerShell to check it', async () => {
    h = await startGraphHarness();
    h.sim.setMailboxAccess('00000000-0000-4000-8000-0000000c0a01', [AINO]);
    await h.connector.syncChanges(AINO, null);
    const e = await expectCalendarError(h.connector.syncChanges(MIKKO, null), 'impersonation-denied');
    expect(e.advice?.message).toMatch(/outside the mailboxes the app is limited to/);
    expect(e.advice?.fix).toMatch(/Test-ApplicationAccessPolicy/);
  });

  it('a wrong client secret, an unknown app and an unknown tenant are told apart', async () => {
    h = await startGraphHarness({ secrets: { 'graph-client-secret': 'wrong-secret-value' } });
    const secret = await expectCalendarError(h.connector.syncChanges(AINO, null), 'auth');
    expect(secret.serverCode).toBe('AADSTS7000215');
    expect(secret.advice?.fix).toMatch(/Value \(not its Secret ID\)/);
    await h.close();

    h = await startGraphHarness({ settings: { clientId: '11111111-2222-4333-8444-555555555555' } });
    const app = await expectCalendarError(h.connector.syncChanges(AINO, null), 'config');
    expect(app.serverCode).toBe('AADSTS700016');
    await h.close();

    h = await startGraphHarness({ settings: { tenantId: 'fabrikam.onmicrosoft.com' } });
    const tenant = await expectCalendarError(h.connector.syncChanges(AINO, null), 'config');
    expect(tenant.serverCode).toBe('AADSTS90002');
    expect(tenant.advice?.message).toMatch(/no tenant "fabrikam.onmicrosoft.com"/);
  });

  it('waits out a 429 as Graph asks and finishes', async () => {
    h = await startGraphHarness();
    h.sim.setThrottleLimits({ requestsPerWindow: 3, windowMs: 1500, retryAfterSeconds: 1 });
    const result = await h.connector.syncChanges(AINO, null);
    expect(result.changed).toHaveLength(4);
    expect(h.sim.counters().throttled).toBeGreaterThan(0);
  });
});

describe('GraphCalendarConnector behind a proxy that fails', () => {
  it("says the proxy's own sentence and fix, not a generic connection failure", async () => {
    const { graphTransportError } = await import('../../src-main/exchange/graph/graph-errors.ts');
    const { TransportFailure } = await import('../../src-main/net/http-transport.ts');
    const e = graphTransportError(new TransportFailure('proxy', 'The proxy proxy.contoso.example:8080 wants a login.', 'Enter the proxy login in Admin > Network.'), 'Reading calendar changes', 'graph.microsoft.com');
    expect([e.code, e.advice?.message, e.advice?.fix]).toEqual(['config', 'The proxy proxy.contoso.example:8080 wants a login.', 'Enter the proxy login in Admin > Network.']);
  });
});
