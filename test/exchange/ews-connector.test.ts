import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEwsSimulator, type EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { CalendarError } from '../../src-main/exchange/calendar-connector.ts';
import { EwsCalendarConnector } from '../../src-main/exchange/ews/ews-calendar-connector.ts';
import type { EwsConnectorOptions } from '../../src-main/exchange/ews/ews-connector-options.ts';
import type { EventFields } from '../../src-main/sync/calendar-event.ts';
import { ewsTestSeed } from './fixtures/ews-test-seed.ts';
import { startRecordingProxy, type RecordingProxy } from './fixtures/recording-proxy.ts';

const AINO = 'aino.virtanen@contoso.example';
const MIKKO = 'mikko.lahtinen@contoso.example';
const SARA = 'sara.nieminen@contoso.example';

let sim: EwsSimulator;
let proxy: RecordingProxy;
let requests: Array<{ operation: string; mailbox: string | null }> = [];

function connector(overrides: Partial<EwsConnectorOptions> = {}): EwsCalendarConnector {
  return new EwsCalendarConnector({
    ewsUrl: proxy.url,
    serverType: 'Exchange2016',
    domain: 'CONTOSO',
    username: 'svc-severa-sync',
    password: 'demo-delegate-password',
    authMethod: 'ntlm',
    defaultTimeZone: 'Europe/Helsinki',
    timeoutMs: 10_000,
    onRequest: (info) => requests.push(info),
    ...overrides,
  });
}

function fields(overrides: Partial<EventFields> = {}): EventFields {
  return {
    subject: 'Budget review',
    start: '2026-05-12T09:00:00.000Z',
    end: '2026-05-12T10:15:00.000Z',
    isAllDay: false,
    timeZone: 'Europe/Helsinki',
    location: 'Room Päijänne',
    body: 'Bring the Q2 figures.\nSecond line: ä & <b>',
    isPrivate: false,
    recurrence: null,
    exceptions: [],
    attendees: [MIKKO],
    organizer: AINO,
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<CalendarError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CalendarError);
    return error as CalendarError;
  }
  throw new Error('expected a CalendarError, the call succeeded');
}

beforeAll(async () => {
  sim = await startEwsSimulator({ seed: ewsTestSeed() });
  proxy = await startRecordingProxy(sim.url);
});

afterAll(async () => {
  await proxy?.close();
  await sim?.close();
});

describe('reading a calendar over NTLM with impersonation', () => {
  it('first syncChanges returns every item with its fields, series with exceptions, in 3 requests', async () => {
    sim.resetCounters();
    const c = connector();
    const changes = await c.syncChanges(MIKKO, null);
    expect(sim.counters().byOperation).toEqual({ SyncFolderItems: 1, GetItem: 2 });
    expect(changes.deletedIds).toEqual([]);
    const bySubject = new Map(changes.changed.map((e) => [e.fields.subject, e]));
    expect([...bySubject.keys()].sort()).toEqual(['Dentist', 'Steering group', 'Team weekly']);

    const meeting = bySubject.get('Steering group')!;
    expect(meeting.fields).toMatchObject({
      start: '2026-04-14T07:00:00.000Z',
      end: '2026-04-14T08:30:00.000Z',
      isAllDay: false,
      timeZone: 'Europe/Helsinki',
      location: 'Room Saimaa',
      body: 'Agenda:\n1. Budget & plan',
      isPrivate: false,
      organizer: MIKKO,
      recurrence: null,
    });
    // Required and optional attendees both count; an alias comes back as the primary address.
    expect(meeting.fields.attendees).toEqual([AINO, SARA]);
    expect(meeting.uid).toMatch(/^040000008200E00074C5B7101A82E008/);
    expect(meeting.version).not.toBe('');
    expect(Date.parse(meeting.lastModified)).toBeGreaterThan(0);

    expect(bySubject.get('Dentist')!.fields.isPrivate).toBe(true);

    const series = bySubject.get('Team weekly')!;
    expect(series.fields.recurrence).toEqual({ frequency: 'Weekly', interval: 1, daysOfWeek: ['Monday'], startDate: '2026-03-23', count: 6 });
    expect(series.fields.exceptions).toEqual([
      {
        originalStart: '2026-03-30T06:00:00.000Z',
        fields: expect.objectContaining({ subject: 'Team weekly (moved)', start: '2026-03-30T07:00:00.000Z', end: '2026-03-30T07:30:00.000Z' }),
      },
      { originalStart: '2026-04-06T06:00:00.000Z', fields: null },
    ]);
  });

  it('an unchanged calendar costs one request; edits and deletions made in Outlook show up next time', async () => {
    const c = connector();
    const first = await c.syncChanges(AINO, null);
    requests = [];
    const quiet = await c.syncChanges(AINO, first.syncState);
    expect(quiet.changed).toEqual([]);
    expect(quiet.deletedIds).toEqual([]);
    expect(requests).toEqual([{ operation: 'SyncFolderItems', mailbox: AINO }]);

    const door = sim.mailbox(AINO);
    const made = door.create({ subject: 'Made in Outlook', start: '2026-06-01T08:00:00Z', end: '2026-06-01T09:00:00Z', timeZone: 'Europe/Helsinki' });
    const afterCreate = await c.syncChanges(AINO, quiet.syncState);
    expect(afterCreate.changed.map((e) => [e.id, e.fields.subject])).toEqual([[made.id, 'Made in Outlook']]);

    door.update(made.id, { subject: 'Renamed in Outlook' });
    const afterUpdate = await c.syncChanges(AINO, afterCreate.syncState);
    expect(afterUpdate.changed.map((e) => e.fields.subject)).toEqual(['Renamed in Outlook']);

    door.delete(made.id);
    const afterDelete = await c.syncChanges(AINO, afterUpdate.syncState);
    expect(afterDelete.changed).toEqual([]);
    expect(afterDelete.deletedIds).toEqual([made.id]);
  });

  it('pages through SyncFolderItems and batches GetItem', async () => {
    sim.resetCounters();
    const paged = await connector({ syncPageSize: 2, batchSize: 2 }).syncChanges(MIKKO, null);
    expect(paged.changed.map((e) => e.fields.subject).sort()).toEqual(['Dentist', 'Steering group', 'Team weekly']);
    // 3 items: two pages of changes, two GetItem batches of masters, one of the series' modified occurrence.
    expect(sim.counters().byOperation).toEqual({ SyncFolderItems: 2, GetItem: 3 });
  });

  it('a sync state Exchange does not accept is reported as invalid-sync-state', async () => {
    const error = await rejection(connector().syncChanges(AINO, 'bm90IGEgcmVhbCBzeW5jIHN0YXRl'));
    expect(error.code).toBe('invalid-sync-state');
    expect(error.serverCode).toBe('ErrorInvalidSyncStateData');
  });
});

describe('writing', () => {
  it('create then read back every field; the item carries the sync tag and findByTag finds it', async () => {
    const c = connector();
    const input = fields();
    const written = await c.createEvent(AINO, input, 'a1b2c3d4-0000-4000-8000-000000000001');
    expect(written.id).not.toBe('');
    expect(Date.parse(written.lastModified)).toBeGreaterThan(0);
    const [read] = await c.getEvents(AINO, [written.id]);
    expect(read.version).toBe(written.version);
    expect(read.syncTag).toBe('a1b2c3d4-0000-4000-8000-000000000001');
    expect(read.fields).toEqual({ ...input, organizer: AINO });

    const found = await c.findByTag(AINO, 'a1b2c3d4-0000-4000-8000-000000000001');
    expect(found.map((e) => e.id)).toEqual([written.id]);
    expect(await c.findByTag(AINO, 'a1b2c3d4-0000-4000-8000-00000000ffff')).toEqual([]);
  });

  it('all-day and private items round-trip as local dates across the DST change', async () => {
    const c = connector();
    const input = fields({ subject: 'Offsite', isAllDay: true, start: '2026-03-28', end: '2026-03-31', isPrivate: true, attendees: [], location: '', body: '' });
    const written = await c.createEvent(SARA, input, 'a1b2c3d4-0000-4000-8000-000000000002');
    const [read] = await c.getEvents(SARA, [written.id]);
    expect(read.fields).toEqual({ ...input, organizer: SARA });
    // On the server: local midnights in Helsinki, +02:00 before the change and +03:00 after.
    const stored = sim.mailbox(SARA).items().find((i) => i.id === written.id)!;
    expect([stored.start, stored.end, stored.isAllDay, stored.sensitivity]).toEqual(['2026-03-27T22:00:00Z', '2026-03-30T21:00:00Z', true, 'Private']);
    // Exchange knows Windows zones only: FLE Standard Time, which the server maps back to its own IANA name.
    expect(stored.timeZone).toMatch(/^Europe\/(Helsinki|Kiev|Kyiv)$/);
  });

  it('update writes the changes; a stale version is a conflict; unchanged attendees keep their kind', async () => {
    const c = connector();
    const input = fields({ subject: 'Plan', attendees: [MIKKO, SARA] });
    const written = await c.createEvent(AINO, input, 'a1b2c3d4-0000-4000-8000-000000000003');
    const changed = fields({ subject: 'Plan v2', start: '2026-05-12T11:00:00.000Z', end: '2026-05-12T12:00:00.000Z', location: 'Teams', body: 'New agenda', isPrivate: true, attendees: [SARA, 'jussi.korhonen@contoso.example'] });
    const updated = await c.updateEvent(AINO, written.id, written.version, changed);
    expect(updated.id).toBe(written.id);
    expect(updated.version).not.toBe(written.version);
    const [read] = await c.getEvents(AINO, [written.id]);
    expect(read.fields).toEqual({ ...changed, organizer: AINO, attendees: [SARA, 'jussi.korhonen@contoso.example'].sort() });

    const stale = await rejection(c.updateEvent(AINO, written.id, written.version, fields({ subject: 'Plan v3' })));
    expect(stale.code).toBe('conflict');

    // Someone edits it in Outlook after our read: our version is stale too.
    sim.mailbox(AINO).update(written.id, { location: 'Moved by Aino' });
    const afterOutlook = await rejection(c.updateEvent(AINO, written.id, updated.version, fields({ subject: 'Plan v4' })));
    expect(afterOutlook.code).toBe('conflict');
  });

  it('delete moves the item to Deleted Items; deleting it again is not an error', async () => {
    const c = connector();
    const written = await c.createEvent(MIKKO, fields({ subject: 'To be deleted', attendees: [] }), 'a1b2c3d4-0000-4000-8000-000000000004');
    await c.deleteEvent(MIKKO, written.id);
    expect(await c.getEvents(MIKKO, [written.id])).toEqual([]);
    expect(sim.mailbox(MIKKO).deletedItems().map((i) => i.subject)).toContain('To be deleted');
    await expect(c.deleteEvent(MIKKO, written.id)).resolves.toBeUndefined();
  });

  it('every create, update and delete request says SendToNone; deletes go to Deleted Items; impersonation and X-AnchorMailbox name the mailbox', async () => {
    proxy.clear();
    const c = connector();
    const written = await c.createEvent(MIKKO, fields({ subject: 'Invite nobody', attendees: [AINO, SARA] }), 'a1b2c3d4-0000-4000-8000-000000000005');
    const updated = await c.updateEvent(MIKKO, written.id, written.version, fields({ subject: 'Still invite nobody', attendees: [AINO] }));
    expect(updated.id).toBe(written.id);
    await c.deleteEvent(MIKKO, written.id);
    const sent = proxy.sentText();
    const creates = sent.match(/<m:CreateItem\b[^>]*>/g) ?? [];
    const updates = sent.match(/<m:UpdateItem\b[^>]*>/g) ?? [];
    const deletes = sent.match(/<m:DeleteItem\b[^>]*>/g) ?? [];
    expect(creates.length).toBe(1);
    expect(updates.length).toBe(1);
    expect(deletes.length).toBe(1);
    for (const tag of creates) expect(tag).toContain('SendMeetingInvitations="SendToNone"');
    for (const tag of updates) expect(tag).toContain('SendMeetingInvitationsOrCancellations="SendToNone"');
    for (const tag of deletes) {
      expect(tag).toContain('SendMeetingCancellations="SendToNone"');
      expect(tag).toContain('DeleteType="MoveToDeletedItems"');
    }
    expect(sent).toMatch(/<t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>mikko\.lahtinen@contoso\.example<\/t:SmtpAddress>/);
    expect(sent).toMatch(/X-AnchorMailbox: mikko\.lahtinen@contoso\.example/i);
    // NTLM only: the password never travels as a Basic header.
    expect(sent).not.toMatch(/Authorization: Basic/i);
  });

  it('refuses bad input with a clear error before sending anything', async () => {
    const c = connector();
    requests = [];
    expect((await rejection(c.createEvent(AINO, fields({ start: 'tomorrow' }), 'tag'))).message).toMatch(/not a date-time/);
    expect((await rejection(c.createEvent(AINO, fields({ end: '2026-05-12T08:00:00.000Z' }), 'tag'))).message).toMatch(/before it starts/);
    expect((await rejection(c.createEvent(AINO, fields({ timeZone: 'Mars/Olympus' }), 'tag'))).message).toMatch(/time zone/);
    expect((await rejection(c.createEvent(AINO, fields({ attendees: ['not an address'] }), 'tag'))).message).toMatch(/attendee/);
    expect((await rejection(c.createEvent(AINO, fields({ isAllDay: true }), 'tag'))).message).toMatch(/all-day/);
    expect((await rejection(c.createEvent('nobody', fields(), 'tag'))).code).toBe('no-mailbox');
    expect((await rejection(c.updateEvent(AINO, 'x', '', fields()))).code).toBe('conflict');
    expect(requests).toEqual([]);
  });
});

describe('connection reuse', () => {
  it('NTLM logs in once per connection and keeps it for the next calls; a closed connection just logs in again', async () => {
    const c = connector();
    proxy.clear();
    const before = proxy.connectionCount();
    for (let i = 0; i < 5; i++) await c.syncChanges(AINO, null);
    const negotiations = (text: string) => (text.match(/Authorization: NTLM TlRMTVNTUAAB/g) ?? []).length;
    expect(negotiations(proxy.sentText())).toBe(1);
    expect(proxy.connectionCount() - before).toBe(1);

    // The server closes its idle connections: the next call opens a new one and logs in there.
    proxy.dropConnections();
    await new Promise((r) => setTimeout(r, 20));
    proxy.clear();
    await expect(c.syncChanges(AINO, null)).resolves.toHaveProperty('syncState');
    expect(negotiations(proxy.sentText())).toBe(1);
    c.close();
  });

  it('parallel calls each get a connection of their own', async () => {
    const c = connector();
    const before = proxy.connectionCount();
    const results = await Promise.all([AINO, MIKKO, SARA].map((m) => c.syncChanges(m, null)));
    expect(results.every((r) => typeof r.syncState === 'string')).toBe(true);
    expect(proxy.connectionCount() - before).toBe(3);
    c.close();
  });
});

describe('mailboxes and permissions', () => {
  it('resolves a primary address, an alias, and nothing for an unknown address', async () => {
    const c = connector();
    expect(await c.resolveMailbox('s.nieminen@contoso.example')).toBe(SARA);
    expect(await c.resolveMailbox('AINO@contoso.example')).toBe(AINO);
    expect(await c.resolveMailbox(MIKKO)).toBe(MIKKO);
    expect(await c.resolveMailbox('nobody@contoso.example')).toBeNull();
    expect(await c.resolveMailbox('not-an-address')).toBeNull();
  });

  it('impersonation denied and unknown mailbox are told apart', async () => {
    const limited = connector({ username: 'svc-limited', password: 'demo-limited-password' });
    await expect(limited.syncChanges(AINO, null)).resolves.toHaveProperty('syncState');
    const denied = await rejection(limited.syncChanges(MIKKO, null));
    expect(denied.code).toBe('impersonation-denied');
    expect(denied.serverCode).toBe('ErrorImpersonateUserDenied');
    expect(denied.message).toContain(MIKKO);
    const unknown = await rejection(connector().syncChanges('nobody@contoso.example', null));
    expect(unknown.code).toBe('no-mailbox');
  });
});
