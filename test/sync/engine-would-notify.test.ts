import { describe, expect, it } from 'vitest';
import { fields } from './fakes/fake-calendar.ts';
import { AINO, at, MIKKO, World } from './fakes/demo-world.ts';

/**
 * Exchange Online cannot change or delete an organizer's meeting that has attendees without mailing them, so the
 * connector refuses ('would-notify'). The engine then keeps Outlook's meeting as it is, says why, and never loops:
 * a change in Severa stays there (said once), a deletion in Severa waits for the user to delete it in Outlook.
 */

function world(): World {
  const w = new World({ enrol: [AINO] });
  w.calendar.refuseNotifyingWrites = true;
  return w;
}

describe('engine: a meeting Exchange Online would announce to its attendees', () => {
  it('a change made in Severa stays in Severa, said once; the next cycles are quiet; a later Outlook change comes to Severa', async () => {
    const w = world();
    const [meeting] = w.calendar.userMeeting(AINO.email, [MIKKO.email], fields({ subject: 'Steering group', start: at(4, '10:00'), end: at(4, '11:00'), location: 'Room 1' }));
    await w.cycle();
    const [activity] = w.severa.byName('Steering group');
    w.tick();
    w.severa.userUpdate(activity.guid!, { location: 'Room 9' });
    const r = await w.cycle();
    const aino = r.users.find((u) => u.email === AINO.email)!;
    expect(aino.outcome).toBe('ok');
    expect(aino.errors).toEqual([]);
    expect(aino.toExchange).toEqual({ created: 0, updated: 0, deleted: 0 });
    expect(aino.notes.join('\n')).toMatch(/"Steering group" was changed in Severa only: .*has attendees.*Change or delete the meeting in Outlook/);
    expect(w.calendar.items(AINO.email).find((e) => e.id === meeting.id)!.fields.location).toBe('Room 1');
    expect(w.severa.byName('Steering group')[0].location).toBe('Room 9');

    w.resetCalls();
    const quiet = await w.cycle();
    expect(w.writes()).toBe(0);
    expect(quiet.users[0].notes).toEqual([]);

    w.tick();
    w.calendar.userUpdate(AINO.email, meeting.id, { location: 'Room 3' });
    await w.cycle();
    expect(w.severa.byName('Steering group')[0].location).toBe('Room 3');
  });

  it('a deletion in Severa leaves the meeting in Outlook and says so each cycle, until the user deletes it there; nothing is re-created', async () => {
    const w = world();
    const [meeting] = w.calendar.userMeeting(AINO.email, [MIKKO.email], fields({ subject: 'Quarterly review', start: at(5, '10:00'), end: at(5, '11:00') }));
    await w.cycle();
    const [activity] = w.severa.byName('Quarterly review');
    w.tick();
    w.severa.userDelete(activity.guid!);
    for (let i = 0; i < 2; i++) {
      const r = await w.cycle();
      expect(r.users[0].notes.join('\n')).toMatch(/"Quarterly review" was deleted in Severa but stays in Outlook/);
      expect(r.users[0].errors).toEqual([]);
      expect(w.calendar.items(AINO.email).map((e) => e.id)).toContain(meeting.id);
      expect(w.severa.byName('Quarterly review')).toEqual([]);
      w.tick();
    }
    w.calendar.userDelete(AINO.email, meeting.id);
    const done = await w.cycle();
    expect(done.users[0].notes).toEqual([]);
    expect(w.severa.byName('Quarterly review')).toEqual([]);
  });

  it('an entry without attendees is changed and deleted as usual', async () => {
    const w = world();
    w.calendar.userCreate(AINO.email, fields({ subject: 'Focus time', start: at(3, '08:00'), end: at(3, '09:00'), organizer: AINO.email }));
    await w.cycle();
    const [activity] = w.severa.byName('Focus time');
    w.tick();
    w.severa.userUpdate(activity.guid!, { name: 'Focus time (moved)' });
    await w.cycle();
    expect(w.calendar.items(AINO.email).map((e) => e.fields.subject)).toEqual(['Focus time (moved)']);
  });
});
