import { describe, expect, it } from 'vitest';
import type { UserReport } from '../../src-main/common/sync-report.ts';
import { CalendarError } from '../../src-main/exchange/calendar-connector.ts';
import { formatStatus } from '../../src-main/cli/cli-output.ts';
import { RoutedCalendarConnector } from '../../src-main/exchange/routed-calendar-connector.ts';
import { FakeCalendar, fields } from './fakes/fake-calendar.ts';
import { AINO, at, MIKKO, TYPE, World } from './fakes/demo-world.ts';

/**
 * Hybrid organizations and moved mailboxes, on the in-memory fakes: two Exchange servers behind the routing connector
 * (the product's own), each user synced where their mailbox lives, and a mailbox that moves keeps its sync: its pairs
 * are found again under the new ids, nothing is created twice or deleted, edits on either side around the move stand.
 */

const ONPREM = 'ews:mail.contoso.example/ews/exchange.asmx';
const ONLINE = 'graph:contoso.onmicrosoft.com';

function hybridWorld(overrides: Record<string, string> = {}) {
  const w = new World({ enrol: [AINO, MIKKO] });
  const online = new FakeCalendar({ mailboxes: [], now: () => new Date(w.clock), idPrefix: 'G' });
  // Mikko's mailbox is already in Exchange Online; Aino's is still on-premises.
  w.calendar.moveMailboxTo(online, MIKKO.email);
  w.connector = new RoutedCalendarConnector({ connections: [{ location: ONPREM, connector: w.calendar }, { location: ONLINE, connector: online }], overrides });
  return { w, onprem: w.calendar, online };
}

const changesOf = (u: UserReport) => u.toSevera.created + u.toSevera.updated + u.toSevera.deleted + u.toExchange.created + u.toExchange.updated + u.toExchange.deleted;

describe('engine: hybrid organizations and moved mailboxes', () => {
  it('syncs each user where their mailbox lives and remembers where, and since when', async () => {
    const { w, onprem, online } = hybridWorld();
    onprem.userCreate(AINO.email, fields({ subject: 'On-premises entry', start: at(2, '09:00'), end: at(2, '10:00') }));
    online.userCreate(MIKKO.email, fields({ subject: 'Online entry', start: at(3, '09:00'), end: at(3, '10:00') }));
    const r = await w.cycle();
    expect(r.users.map((u) => [u.email, u.outcome])).toEqual([[AINO.email, 'ok'], [MIKKO.email, 'ok']]);
    expect(w.severa.byName('On-premises entry')).toHaveLength(1);
    expect(w.severa.byName('Online entry')).toHaveLength(1);
    expect(w.store.getUser(AINO.email)?.exchangeLocation).toBe(ONPREM);
    expect(w.store.getUser(MIKKO.email)?.exchangeLocation).toBe(ONLINE);
    expect(r.users.map((u) => u.mailboxLocation?.label)).toEqual(['on-premises Exchange (mail.contoso.example)', 'Exchange Online (contoso.onmicrosoft.com)']);
    expect(formatStatus({ state: 'idle', consecutiveFailures: 0, scheduled: false, lastReport: r })).toMatch(/mikko\.lahtinen@contoso\.example .*Exchange Online \(contoso\.onmicrosoft\.com\) since \d{4}-\d{2}-\d{2}/);
    const since = w.store.getUser(MIKKO.email)?.exchangeLocationSince;
    expect(since).toBeTruthy();
    await w.cycle();
    expect(w.store.getUser(MIKKO.email)?.exchangeLocationSince).toBe(since);
  });

  it('a mailbox moved on-premises -> Online keeps its sync: pairs found again, no duplicate, no deletion, edits on both sides around the move kept, said once', async () => {
    const { w, onprem, online } = hybridWorld();
    const outlookItem = onprem.userCreate(AINO.email, fields({ subject: 'Made in Outlook', start: at(2, '09:00'), end: at(2, '10:00') }));
    const [meeting] = onprem.userMeeting(AINO.email, [MIKKO.email], fields({ subject: 'Made as a meeting', start: at(3, '09:00'), end: at(3, '10:00') }));
    const fromSevera = w.severa.userCreate({ name: 'Made in Severa', startDateTime: at(4, '09:00'), endDateTime: at(4, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    await w.cycle();
    await w.cycle();
    const activities = w.severa.all().length;
    const journal = w.store.listJournal().length;

    // The move, with an edit in Severa just before it and one in the new place just after.
    w.tick();
    w.severa.userUpdate(fromSevera.guid!, { location: 'Room from Severa' });
    const ids = onprem.moveMailboxTo(online, AINO.email);
    w.tick();
    online.userUpdate(AINO.email, ids.get(outlookItem.id)!, { location: 'Room from Outlook' });

    const r = await w.cycle();
    const aino = r.users.find((u) => u.email === AINO.email)!;
    expect(aino.outcome).toBe('ok');
    expect(aino.notes.filter((n) => /moved from on-premises Exchange \(mail\.contoso\.example\) to Exchange Online \(contoso\.onmicrosoft\.com\): 3 synced entries were found again there\.$/.test(n))).toHaveLength(1);
    expect(aino.toSevera.created + aino.toExchange.created + aino.toSevera.deleted + aino.toExchange.deleted).toBe(0);
    expect(w.severa.all()).toHaveLength(activities);
    expect(w.store.listJournal()).toHaveLength(journal);
    expect(online.items(AINO.email)).toHaveLength(3);
    expect(w.severa.byName('Made in Outlook')[0].location).toBe('Room from Outlook');
    expect(online.bySubject(AINO.email, 'Made in Severa')[0].fields.location).toBe('Room from Severa');
    expect(w.store.getUser(AINO.email)?.exchangeLocation).toBe(ONLINE);
    expect(w.store.pairsForUser(AINO.email).map((p) => p.exchangeId).sort()).toEqual([...ids.values()].sort());
    expect(ids.has(meeting.id)).toBe(true);

    w.resetCalls();
    const quiet = await w.cycle();
    expect(quiet.users.every((u) => changesOf(u) === 0 && u.notes.length === 0)).toBe(true);
    expect(w.writes()).toBe(0);
  });

  it('an activity a killed run created again just before the move is found again under the item\'s new id: not created a third time, no second copy (soak with moves)', async () => {
    const { w, onprem, online } = hybridWorld();
    const item = onprem.userCreate(AINO.email, fields({ subject: 'Planning r1', start: at(2, '09:00'), end: at(2, '10:00') }));
    await w.cycle();
    const [activity] = w.severa.byName('Planning r1');
    // Renamed in Outlook, deleted in Severa: the change wins, the activity is created again, and the run dies right then.
    w.tick();
    onprem.userUpdate(AINO.email, item.id, { subject: 'Planning r2' });
    w.severa.userDelete(activity.guid!);
    w.faults.arm({ method: 'createActivity', when: 'after' });
    await w.cycle();
    w.faults.revive();
    expect(w.severa.byName('Planning r2')).toHaveLength(1);

    // The mailbox moves before the next run, which reads the killed run's intent (it names the item's old id).
    onprem.moveMailboxTo(online, AINO.email);
    const r = await w.cycle();
    const aino = r.users.find((u) => u.email === AINO.email)!;
    expect(aino.outcome, JSON.stringify(aino.errors)).toBe('ok');
    expect(aino.toSevera.created + aino.toExchange.created).toBe(0);
    expect(w.severa.all().map((a) => a.name)).toEqual(['Planning r2']);
    expect(online.items(AINO.email).map((e) => e.fields.subject)).toEqual(['Planning r2']);
    expect(w.store.intentsForUser(AINO.email)).toHaveLength(0);
    const quiet = await w.cycle();
    expect(quiet.users.map(changesOf)).toEqual([0, 0]);
  });

  it('a move that did not keep the UIDs: items the sync made are found by their tag, items from Outlook by what they held', async () => {
    const { w, onprem, online } = hybridWorld();
    onprem.userCreate(AINO.email, fields({ subject: 'Made in Outlook', start: at(2, '09:00'), end: at(2, '10:00') }));
    w.severa.userCreate({ name: 'Made in Severa', startDateTime: at(4, '09:00'), endDateTime: at(4, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    await w.cycle();
    const activities = w.severa.all().map((a) => a.guid).sort();
    onprem.moveMailboxTo(online, AINO.email, { dropUids: true });
    const r = await w.cycle();
    const aino = r.users.find((u) => u.email === AINO.email)!;
    expect(aino.notes.join('\n')).toMatch(/2 synced entries were found again there\.$/m);
    expect(changesOf(aino)).toBe(0);
    expect(w.severa.all().map((a) => a.guid).sort()).toEqual(activities);
    expect(online.items(AINO.email)).toHaveLength(2);
  });

  it('while a move is in progress the user waits, nobody else is held up, nothing is deleted or journaled', async () => {
    const { w, onprem } = hybridWorld();
    onprem.userCreate(AINO.email, fields({ subject: 'Before the move', start: at(2, '09:00'), end: at(2, '10:00') }));
    await w.cycle();
    onprem.failMailbox(AINO.email, () => new CalendarError('transient', 'ErrorMailboxMoveInProgress', { serverCode: 'ErrorMailboxMoveInProgress' }));
    const r = await w.cycle();
    expect(r.users.find((u) => u.email === AINO.email)?.outcome).toBe('failed');
    expect(r.users.find((u) => u.email === MIKKO.email)?.outcome).toBe('ok');
    expect(w.severa.byName('Before the move')).toHaveLength(1);
    expect(w.store.listJournal()).toEqual([]);
    expect(w.store.getUser(AINO.email)?.exchangeLocation).toBe(ONPREM);
  });

  it('the organization re-pointed at another Exchange is the same operation for all users at once, not a reset: start dates and pairs kept', async () => {
    const w = new World({ enrol: [AINO, MIKKO] });
    w.calendar.userCreate(AINO.email, fields({ subject: 'Aino, Outlook', start: at(2, '09:00'), end: at(2, '10:00') }));
    w.severa.userCreate({ name: 'Mikko, Severa', startDateTime: at(3, '09:00'), endDateTime: at(3, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: MIKKO.guid } });
    w.connector = new RoutedCalendarConnector({ connections: [{ location: ONPREM, connector: w.calendar }] });
    await w.cycle();
    const pairs = [AINO.email, MIKKO.email].map((e) => w.store.pairsForUser(e).length);
    const online = new FakeCalendar({ mailboxes: [], now: () => new Date(w.clock), idPrefix: 'G' });
    for (const m of [AINO.email, MIKKO.email]) w.calendar.moveMailboxTo(online, m);
    w.connector = new RoutedCalendarConnector({ connections: [{ location: ONLINE, connector: online }] });
    const r = await w.cycle();
    for (const u of r.users) {
      expect(u.outcome).toBe('ok');
      expect(u.notes.some((n) => /moved from on-premises Exchange .* to Exchange Online/.test(n))).toBe(true);
      expect(changesOf(u)).toBe(0);
    }
    expect([AINO.email, MIKKO.email].map((e) => w.store.pairsForUser(e).length)).toEqual(pairs);
    expect(w.options.users.map((u) => u.syncStartDate)).toEqual(['2026-03-01', '2026-03-01']);
    expect(w.severa.all().map((a) => a.name).sort()).toEqual(['Aino, Outlook', 'Mikko, Severa']);
  });

  it('the same server reached at a new address is not a move: no note, no full read, the position kept', async () => {
    const w = new World({ enrol: [AINO] });
    w.calendar.userCreate(AINO.email, fields({ subject: 'Entry', start: at(2, '09:00'), end: at(2, '10:00') }));
    w.connector = new RoutedCalendarConnector({ connections: [{ location: ONPREM, connector: w.calendar }] });
    await w.cycle();
    w.connector = new RoutedCalendarConnector({ connections: [{ location: 'ews:mail2.contoso.example/ews/exchange.asmx', connector: w.calendar }] });
    w.resetCalls();
    const r = await w.cycle();
    expect(r.users[0].notes).toEqual([]);
    expect(changesOf(r.users[0])).toBe(0);
    expect(w.calendar.calls.getEvents).toBe(1);
    expect(w.store.getUser(AINO.email)?.exchangeLocation).toBe('ews:mail2.contoso.example/ews/exchange.asmx');
  });

  it("the admin's choice of connection wins over finding it", async () => {
    const { w, onprem, online } = hybridWorld({ [MIKKO.email]: ONPREM });
    // Mikko's mailbox is in Exchange Online, but the admin says on-premises: the sync obeys and reports the failure.
    online.userCreate(MIKKO.email, fields({ subject: 'Online entry', start: at(3, '09:00'), end: at(3, '10:00') }));
    void onprem;
    const r = await w.cycle();
    const mikko = r.users.find((u) => u.email === MIKKO.email)!;
    expect(mikko.outcome).toBe('failed');
    expect(mikko.errors[0].code).toBe('no-mailbox');
    expect(w.severa.byName('Online entry')).toEqual([]);
  });
});
