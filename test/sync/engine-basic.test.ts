import { describe, expect, it } from 'vitest';
import { fields } from './fakes/fake-calendar.ts';
import { AINO, at, MIKKO, SARA, TYPE, World } from './fakes/demo-world.ts';

describe('engine: first sync both ways, then no echo', () => {
  it('copies each side to the other by the rules and a second cycle writes nothing', async () => {
    const w = new World();
    w.severa.userCreate({ name: 'Planning', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid }, notes: 'Agenda\r\nitems  ' });
    w.severa.userCreate({ name: 'Build feature', startDateTime: at(1, '10:00'), endDateTime: at(1, '12:00'), activityType: { guid: TYPE.task }, ownerUser: { guid: AINO.guid } });
    w.severa.userCreate({ name: 'Sales pitch', startDateTime: at(2, '10:00'), endDateTime: at(2, '11:00'), activityType: { guid: TYPE.salesCall }, ownerUser: { guid: AINO.guid } });
    w.calendar.userCreate(AINO.email, fields({ subject: 'Dentist', start: at(3, '15:00'), end: at(3, '16:00'), isPrivate: true }));
    w.calendar.userCreate(MIKKO.email, fields({ subject: 'Lunch with client', start: at(2, '11:00'), end: at(2, '12:00'), location: 'Kamppi' }));

    const r1 = await w.cycle();
    expect(r1.outcome).toBe('ok');
    const aino = r1.users.find((u) => u.email === AINO.email)!;
    expect(aino.toExchange.created).toBe(1);
    expect(aino.toSevera.created).toBe(1);
    expect(w.calendar.bySubject(AINO.email, 'Planning')).toHaveLength(1);
    expect(w.calendar.bySubject(AINO.email, 'Build feature')).toHaveLength(0);
    expect(w.calendar.bySubject(AINO.email, 'Sales pitch')).toHaveLength(0);
    const dentist = w.severa.byName('Dentist');
    expect(dentist).toHaveLength(1);
    expect(dentist[0].activityType?.guid).toBe(TYPE.personal);
    const lunch = w.severa.byName('Lunch with client');
    expect(lunch[0]).toMatchObject({ location: 'Kamppi', activityType: { guid: TYPE.meeting }, ownerUser: { guid: MIKKO.guid } });

    w.resetCalls();
    const r2 = await w.cycle();
    expect(r2.outcome).toBe('ok');
    expect(w.writes()).toBe(0);
    expect(r2.users.every((u) => u.changes.length === 0)).toBe(true);
    // Second cycle: one syncChanges per user.
    expect(w.calendar.calls).toEqual({ syncChanges: 2 });

    w.resetCalls();
    const r3 = await w.cycle();
    expect(w.writes()).toBe(0);
    expect(r3.users.every((u) => u.changes.length === 0)).toBe(true);
    expect(w.calendar.calls).toEqual({ syncChanges: 2 });
  });
});
