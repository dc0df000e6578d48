/**
 * Moving a mailbox between the simulators with the move orchestrator (mailbox-move.ts), checked over HTTP as the sync
 * would see it: Exchange 2010 -> Exchange 2016, on-premises -> Exchange Online, Exchange Online -> on-premises, and a
 * round trip. Items survive under new ids with the same UIDs, tags, times and exceptions; the source and the target
 * answer the real errors during and after the move; nobody is mailed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EwsSimulator } from './ews/ews-simulator.ts';
import type { GraphSeed, GraphSimulator } from './graph/graph-simulator.ts';
import { graphCaller } from './graph/graph-test-client.ts';
import { moveMailbox, startMailboxMove } from './mailbox-move.ts';
import { AINO, AINO_ALIAS, APP_ID, MIKKO, TAG_ID, ews, ewsSeed, graphSeed, startAgedEws, startAgedGraph } from './mailbox-move-fixtures.ts';

const NOT_YET = 'REST API is not yet supported for this mailbox.';
const ON_PREMISES = 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.';
const FROM = '2030-03-01T00:00:00Z';
const TO = '2030-05-01T00:00:00Z';

const running: Array<EwsSimulator | GraphSimulator> = [];
/** Simulators whose items were last changed a week ago: an import that stamped its own time would show. */
const ewsSim = async (seed = ewsSeed()): Promise<EwsSimulator> => {
  const s = await startAgedEws(seed);
  running.push(s);
  return s;
};
const graphSim = async (seed: GraphSeed = graphSeed()): Promise<GraphSimulator> => {
  const s = await startAgedGraph(seed);
  running.push(s);
  return s;
};
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

const graphCall = (g: GraphSimulator) => graphCaller(g, g.mintAppToken(APP_ID));
const errorOf = (r: { status: number; body: Record<string, any> | null }) => [r.status, r.body?.error?.code, r.body?.error?.message];
/** Graph's calendar view as "UTC start subject", comparable with EWS's CalendarView. */
async function graphView(g: GraphSimulator, address: string): Promise<string[]> {
  const r = await graphCall(g)('GET', `/users/${address}/calendarView?startDateTime=${FROM}&endDateTime=${TO}&$top=100`);
  return r.body!.value.map((e: { start: { dateTime: string }; subject: string }) => `${new Date(`${e.start.dateTime.slice(0, 19)}Z`).toISOString().replace('.000', '')} ${e.subject}`);
}

describe('Exchange 2010 -> Exchange 2016', () => {
  it('phase by phase: the source answers ErrorMailboxMoveInProgress then ErrorMailboxStoreUnavailable then ErrorNonExistentMailbox; the target has no mailbox until the end, then the same items under new ids', async () => {
    const old = await ewsSim(ewsSeed('Exchange2010_SP2'));
    const seed2016 = ewsSeed('Exchange2016');
    const neu = await ewsSim({ ...seed2016, mailboxes: seed2016.mailboxes.filter((m) => m.primarySmtp !== AINO), items: seed2016.items!.filter((i) => i.mailbox !== AINO) });
    const before = await ews.items(old, AINO);
    const viewBefore = await ews.view(old, AINO, FROM, TO);
    const mikkoOld = old.mailbox(MIKKO).items();
    const mikkoNew = neu.mailbox(MIKKO).items();
    expect(before.items).toHaveLength(3);

    const move = startMailboxMove({ from: { kind: 'ews', sim: old }, to: { kind: 'ews', sim: neu, impersonatedBy: ['svc-limited'] }, address: AINO_ALIAS });
    expect((await ews.getFolder(old, AINO)).code).toBe('ErrorMailboxMoveInProgress');
    expect((await ews.getFolder(neu, AINO)).text).toBe('No mailbox with such guid.');
    expect((await ews.resolve(neu, AINO_ALIAS, MIKKO)).message.ResolutionSet.Resolution[0].Mailbox.EmailAddress).toBe(AINO);

    expect(move.copy()).toBe(3);
    expect([...move.idMap.keys()].sort()).toEqual(before.items.map((i) => i.ItemId['@Id']).sort());
    expect((await ews.getFolder(neu, AINO)).code).toBe('ErrorNonExistentMailbox');
    move.complete();
    expect((await ews.getFolder(old, AINO)).code).toBe('ErrorMailboxStoreUnavailable');
    move.finish();
    expect(move.phase).toBe('finished');

    const gone = await ews.getFolder(old, AINO);
    expect([gone.code, gone.text]).toEqual(['ErrorNonExistentMailbox', 'No mailbox with such guid.']);
    expect((await ews.resolve(old, AINO_ALIAS, MIKKO)).code).toBe('NoError');
    const after = await ews.items(neu, AINO_ALIAS);
    const fields = (i: any) => ({ subject: i.Subject, uid: i.UID, start: i.Start, end: i.End, sensitivity: i.Sensitivity, created: i.DateTimeCreated, modified: i.LastModifiedTime, organizer: i.Organizer, attendees: i.RequiredAttendees, modifiedOccurrences: (i.ModifiedOccurrences?.Occurrence ?? []).map(({ ItemId: _id, ...o }: any) => o), deletedOccurrences: i.DeletedOccurrences, tag: i.ExtendedProperty });
    const bySubject = (a: any, b: any) => String(a.Subject).localeCompare(String(b.Subject));
    expect(after.items.sort(bySubject).map(fields)).toEqual(before.items.sort(bySubject).map(fields));
    expect(after.items.map((i) => i.ItemId['@Id']).sort()).toEqual([...move.idMap.values()].sort());
    for (const i of after.items) expect(move.idMap.has(i.ItemId['@Id'])).toBe(false);
    expect((await ews.view(neu, AINO, FROM, TO)).entries).toEqual(viewBefore.entries);
    expect((await ews.findByTag(neu, AINO, 'activity-42')).items.map((i) => i.Subject)).toEqual(['Dentist']);
    expect((await ews.getFolder(neu, AINO, { user: 'CONTOSO\\svc-limited', password: 'demo-limited-password' })).code).toBe('NoError');
    // Nobody was invited, updated or cancelled on either server.
    expect(old.mailbox(MIKKO).items()).toEqual(mikkoOld);
    expect(neu.mailbox(MIKKO).items()).toEqual(mikkoNew);
  });
});

describe('on-premises -> Exchange Online', () => {
  it('during the in-progress period EWS answers ErrorMailboxMoveInProgress and Graph 404 not yet enabled; after it Graph serves the items with the same UIDs, tag, times and exceptions, EWS answers ErrorNonExistentMailbox; no mail', async () => {
    const onPrem = await ewsSim();
    const online = await graphSim();
    const call = graphCall(online);
    const source = onPrem.mailbox(AINO).items();
    const viewBefore = await ews.view(onPrem, AINO, FROM, TO);
    online.resetCounters();

    const seen: string[] = [];
    const started = Date.now();
    const move = await moveMailbox({
      from: { kind: 'ews', sim: onPrem },
      to: { kind: 'graph', sim: online },
      address: AINO,
      inProgressMs: 300,
      onPhase: async (phase) => {
        const [onPremAnswer, onlineAnswer] = await Promise.all([ews.items(onPrem, AINO), call('GET', `/users/${AINO}/events`)]);
        seen.push(`${phase}: ${onPremAnswer.code} / ${onlineAnswer.status} ${onlineAnswer.body?.error?.message ?? ''}`);
      },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(seen).toEqual([
      `started: ErrorMailboxMoveInProgress / 404 ${NOT_YET}`,
      `copied: ErrorMailboxMoveInProgress / 404 ${NOT_YET}`,
      `completing: ErrorMailboxStoreUnavailable / 404 ${NOT_YET}`,
      'finished: ErrorNonExistentMailbox / 200 ',
    ]);

    expect((await ews.getFolder(onPrem, AINO)).code).toBe('ErrorNonExistentMailbox');
    const events = (await call('GET', `/users/${AINO}/events?$top=50`)).body!.value;
    expect(events.map((e: { iCalUId: string }) => e.iCalUId).sort()).toEqual(source.map((i) => i.uid).sort());
    expect(events.map((e: { id: string }) => e.id).sort()).toEqual([...move.idMap.values()].sort());
    for (const e of events) {
      const was = source.find((i) => i.uid === e.iCalUId)!;
      expect([e.subject, Date.parse(e.lastModifiedDateTime), Date.parse(e.createdDateTime)]).toEqual([was.subject, Date.parse(was.lastModifiedTime), Date.parse(was.dateTimeCreated)]);
      expect(move.idMap.get(was.id)).toBe(e.id);
    }
    const tagged = await call('GET', `/users/${AINO}/events?$filter=${encodeURIComponent(`singleValueExtendedProperties/any(ep: ep/id eq '${TAG_ID}' and ep/value eq 'activity-42')`)}&$expand=${encodeURIComponent(`singleValueExtendedProperties($filter=id eq '${TAG_ID}')`)}`);
    expect(tagged.body!.value.map((e: any) => [e.subject, e.sensitivity, e.originalStartTimeZone, e.singleValueExtendedProperties[0].value])).toEqual([['Dentist', 'private', 'W. Europe Standard Time', 'activity-42']]);
    expect(await graphView(online, AINO)).toEqual(viewBefore.entries);
    const weekly = events.find((e: { subject: string }) => e.subject === 'Weekly');
    const instances = await call('GET', `/users/${AINO}/events/${weekly.id}/instances?startDateTime=${FROM}&endDateTime=${TO}`);
    expect(instances.body!.value.map((e: { type: string }) => e.type)).toEqual(['occurrence', 'occurrence', 'exception', 'occurrence', 'occurrence']);
    expect(online.mailSent()).toEqual([]);
    expect(online.counters()).toMatchObject({ invitationsSent: 0, meetingUpdatesSent: 0, cancellationsSent: 0 });
  });
});

describe('Exchange Online -> on-premises (offboarding)', () => {
  it('Graph answers 404 while moving, then "hosted on-premise"; the on-premises remote mailbox has no mailbox until the end, then the items under new ids', async () => {
    const seed = graphSeed();
    seed.users[0] = { ...seed.users[0], mailbox: true };
    seed.events = [
      { mailbox: AINO, subject: 'Online weekly', start: '2030-03-19T10:00', end: '2030-03-19T10:30', recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['tuesday'] }, range: { type: 'numbered', startDate: '2030-03-19', numberOfOccurrences: 5 } }, exceptions: [{ originalStart: 2, subject: 'Online weekly (moved)', shiftMinutes: 30 }], cancelledOccurrences: [4] },
      { mailbox: AINO, subject: 'Tagged online', start: '2030-04-15T12:00', end: '2030-04-15T13:00', sensitivity: 'private', extendedProperties: [{ id: TAG_ID, value: 'activity-7' }] },
      { mailbox: AINO, subject: 'Review with Mikko', start: '2030-04-16T09:00', end: '2030-04-16T10:00', attendees: [MIKKO] },
    ];
    const online = await graphSim(seed);
    const onPrem = await ewsSim();
    onPrem.setMailboxState(AINO, 'moved-away'); // moved to the cloud earlier: a remote mailbox on-premises
    const call = graphCall(online);
    const source = online.mailbox(AINO).list();
    const viewBefore = await graphView(online, AINO);
    online.resetCounters();
    const mikkoOnPrem = onPrem.mailbox(MIKKO).items();

    const move = startMailboxMove({ from: { kind: 'graph', sim: online }, to: { kind: 'ews', sim: onPrem }, address: AINO });
    expect(errorOf(await call('GET', `/users/${AINO}/events`))).toEqual([404, 'MailboxNotEnabledForRESTAPI', NOT_YET]);
    expect((await ews.getFolder(onPrem, AINO)).text).toBe('No mailbox with such guid.');
    move.finish();

    expect(errorOf(await call('GET', `/users/${AINO}/events`))).toEqual([404, 'MailboxNotEnabledForRESTAPI', ON_PREMISES]);
    const items = (await ews.items(onPrem, AINO)).items;
    expect(items.map((i) => i.UID).sort()).toEqual(source.map((e) => e.uid).sort());
    for (const i of items) {
      const was = source.find((e) => e.uid === i.UID)!;
      expect([i.Subject, Date.parse(i.LastModifiedTime)]).toEqual([was.subject, Math.floor(was.modifiedMs / 1000) * 1000]);
      expect(move.idMap.get(was.id)).toBe(i.ItemId['@Id']);
    }
    const weekly = items.find((i) => i.Subject === 'Online weekly');
    expect([weekly.ModifiedOccurrences.Occurrence.length, weekly.DeletedOccurrences.DeletedOccurrence.length]).toEqual([1, 1]);
    expect((await ews.findByTag(onPrem, AINO_ALIAS, 'activity-7')).items.map((i) => i.Subject)).toEqual(['Tagged online']);
    expect(items.find((i) => i.Subject === 'Tagged online').Sensitivity).toBe('Private');
    expect((await ews.view(onPrem, AINO, FROM, TO)).entries).toEqual(viewBefore);
    expect(online.mailSent()).toEqual([]);
    expect(onPrem.mailbox(MIKKO).items()).toEqual(mikkoOnPrem);
  });
});

describe('a round trip', () => {
  it('on-premises -> Exchange Online -> back to the same server: the mailbox is active there again, under ids it never had', async () => {
    const onPrem = await ewsSim();
    const online = await graphSim();
    const original = onPrem.mailbox(AINO).items();
    const there = await moveMailbox({ from: { kind: 'ews', sim: onPrem }, to: { kind: 'graph', sim: online }, address: AINO });
    const back = await moveMailbox({ from: { kind: 'graph', sim: online }, to: { kind: 'ews', sim: onPrem }, address: AINO });
    expect([onPrem.mailboxState(AINO), online.mailboxState(AINO)]).toEqual(['active', 'moved-away']);
    const now = (await ews.items(onPrem, AINO)).items;
    expect(now.map((i) => i.UID).sort()).toEqual(original.map((i) => i.uid).sort());
    for (const was of original) {
      const newId = back.idMap.get(there.idMap.get(was.id)!);
      expect(now.find((i) => i.UID === was.uid).ItemId['@Id']).toBe(newId);
      expect(newId).not.toBe(was.id);
    }
    expect(() => startMailboxMove({ from: { kind: 'graph', sim: online }, to: { kind: 'ews', sim: onPrem }, address: AINO })).toThrow(/not active on the source \(moved-away\)/);
  });
});
