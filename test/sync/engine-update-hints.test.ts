import { describe, expect, it } from 'vitest';
import type { EventWrite } from '../../src-main/exchange/calendar-connector.ts';
import { RoutedCalendarConnector } from '../../src-main/exchange/routed-calendar-connector.ts';
import { fields, FakeCalendar } from './fakes/fake-calendar.ts';
import { AINO, at, MIKKO, TYPE, World } from './fakes/demo-world.ts';

/**
 * What the engine tells the connector it already knows, so Graph can skip reads: the ids it pairs (syncChanges), and
 * that an item it updates was a plain single at the version the update carries (UpdateHint), which it knows only from
 * the pair's flag (or this cycle's read) and never says of a meeting with attendees.
 */

const hints = (w: World) => w.calendar.updateHints.map((h) => h.hint?.plainSingleAtVersion === true);

describe('engine: what it tells the connector it knows', () => {
  it('an item the sync created is a plain single: each Severa edit updates it with the hint; the pair keeps the flag', async () => {
    const w = new World({ enrol: [AINO] });
    const activity = w.severa.userCreate({ name: 'Planning', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    await w.cycle();
    const [item] = w.calendar.bySubject(AINO.email, 'Planning');
    expect(w.store.pairsForUser(AINO.email).find((p) => p.exchangeId === item.id)?.exchangePlainSingle).toBe(true);
    // The next cycle's change feed is told the ids the store pairs.
    w.calendar.syncChangesOptions = [];
    await w.cycle();
    expect(w.calendar.syncChangesOptions.at(-1)?.pairedIds?.has(item.id)).toBe(true);

    for (const location of ['Room 2', 'Room 3']) {
      w.tick();
      w.severa.userUpdate(activity.guid!, { location });
      await w.cycle();
      expect(w.calendar.bySubject(AINO.email, 'Planning')[0].fields.location).toBe(location);
    }
    expect(w.calendar.updateHints.map((h) => h.id)).toEqual([item.id, item.id]);
    expect(hints(w)).toEqual([true, true]);
    expect(w.store.pairsForUser(AINO.email).find((p) => p.exchangeId === item.id)?.exchangePlainSingle).toBe(true);
  });

  it('a meeting with attendees is never given the hint, and a pair whose flag is not known (stored before) is not either', async () => {
    const w = new World({ enrol: [AINO] });
    w.calendar.userMeeting(AINO.email, [MIKKO.email], fields({ subject: 'Steering group', start: at(4, '10:00'), end: at(4, '11:00'), location: 'Room 1' }));
    w.severa.userCreate({ name: 'Planning', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    await w.cycle();
    // The next cycle reads back the sync's own write (the change feed lists it); then both sides are quiet.
    await w.cycle();
    const pairs = w.store.pairsForUser(AINO.email);
    const meeting = pairs.find((p) => p.subject === 'Steering group')!;
    const planning = pairs.find((p) => p.subject === 'Planning')!;
    expect([meeting.exchangePlainSingle, planning.exchangePlainSingle]).toEqual([false, true]);
    // As a store from before schema 5 holds it: not known.
    w.store.commitUserWork({ email: AINO.email, upsertPairs: [{ ...planning, exchangePlainSingle: null }] });

    w.tick();
    w.severa.userUpdate(meeting.severaGuid, { location: 'Room 9' });
    w.severa.userUpdate(planning.severaGuid, { location: 'Room 5' });
    await w.cycle();
    const byId = new Map(w.calendar.updateHints.map((h) => [h.id, h.hint?.plainSingleAtVersion === true]));
    expect(byId).toEqual(new Map([[meeting.exchangeId, false], [planning.exchangeId, false]]));
    expect(w.calendar.items(AINO.email).find((e) => e.id === meeting.exchangeId)!.fields.location).toBe('Room 9');

    // Once read (it changed in Outlook), the item is known again: the next Severa edit carries the hint, the meeting's never.
    w.tick();
    w.calendar.userUpdate(AINO.email, planning.exchangeId, { body: 'Agenda' });
    await w.cycle();
    w.calendar.updateHints = [];
    w.tick();
    w.severa.userUpdate(meeting.severaGuid, { location: 'Room 10' });
    w.severa.userUpdate(planning.severaGuid, { location: 'Room 6' });
    await w.cycle();
    const after = new Map(w.calendar.updateHints.map((h) => [h.id, h.hint?.plainSingleAtVersion === true]));
    expect(after).toEqual(new Map([[meeting.exchangeId, false], [planning.exchangeId, true]]));
  });

  it("the routing connector (the product's) passes both on, and offers writeEvents where every connection has it", async () => {
    const w = new World({ enrol: [AINO] });
    w.connector = new RoutedCalendarConnector({ connections: [{ location: 'ews:https://mail.contoso.example/ews/exchange.asmx', connector: w.calendar }] });
    expect(w.connector!.writeEvents).toBeUndefined();
    const activity = w.severa.userCreate({ name: 'Planning', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    await w.cycle();
    await w.cycle();
    const [item] = w.calendar.bySubject(AINO.email, 'Planning');
    expect(w.calendar.syncChangesOptions.at(-1)?.pairedIds?.has(item.id)).toBe(true);
    w.tick();
    w.severa.userUpdate(activity.guid!, { location: 'Room 2' });
    await w.cycle();
    expect(hints(w)).toEqual([true]);

    const batched: EventWrite[][] = [];
    const online = Object.assign(new FakeCalendar({ mailboxes: [{ primary: AINO.email }], now: () => new Date() }), {
      writeEvents: async (_mailbox: string, writes: readonly EventWrite[]) => {
        batched.push([...writes]);
        return [];
      },
    });
    const routed = new RoutedCalendarConnector({ connections: [{ location: 'graph:contoso', connector: online }] });
    await routed.writeEvents!(AINO.email, [{ kind: 'create', fields: fields({ subject: 'X', start: at(1, '09:00'), end: at(1, '10:00') }), syncTag: 'g' }]);
    expect(batched).toHaveLength(1);
  });
});
