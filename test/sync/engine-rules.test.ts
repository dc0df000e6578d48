import { describe, expect, it } from 'vitest';
import { fields } from './fakes/fake-calendar.ts';
import { AINO, at, JUSSI, MIKKO, SARA, TYPE, World } from './fakes/demo-world.ts';

const meetingOf = (w: World, name: string) => w.severa.byName(name);

describe('engine: changes and conflicts', () => {
  it('a change in Severa reaches Exchange and a change in Exchange reaches Severa', async () => {
    const w = new World();
    const s = w.severa.userCreate({ name: 'Review', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    const x = w.calendar.userCreate(AINO.email, fields({ subject: 'Workshop', start: at(2, '09:00'), end: at(2, '12:00') }));
    await w.cycle();
    w.tick();
    w.severa.userUpdate(s.guid!, { name: 'Review (moved)', startDateTime: at(1, '13:00'), endDateTime: at(1, '14:00') });
    w.calendar.userUpdate(AINO.email, x.id, { location: 'Sali 2', body: 'Bring laptops' });
    const r = await w.cycle();
    const aino = r.users.find((u) => u.email === AINO.email)!;
    expect(aino.toExchange.updated).toBe(1);
    expect(aino.toSevera.updated).toBe(1);
    expect(aino.conflicts).toBe(0);
    const copy = w.calendar.bySubject(AINO.email, 'Review (moved)');
    expect(copy).toHaveLength(1);
    expect(Date.parse(copy[0].fields.start)).toBe(Date.parse(at(1, '13:00')));
    expect(meetingOf(w, 'Workshop')[0]).toMatchObject({ location: 'Sali 2', notes: 'Bring laptops' });
    w.resetCalls();
    await w.cycle();
    expect(w.writes()).toBe(0);
  });

  it('both changed: the later change wins, either way, and counts as a conflict', async () => {
    for (const laterSide of ['exchange', 'severa'] as const) {
      const w = new World();
      const s = w.severa.userCreate({ name: 'Board', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
      await w.cycle();
      const [x] = w.calendar.bySubject(AINO.email, 'Board');
      w.tick();
      if (laterSide === 'exchange') {
        w.severa.userUpdate(s.guid!, { name: 'Board (Severa)' });
        w.tick(5_000);
        w.calendar.userUpdate(AINO.email, x.id, { subject: 'Board (Exchange)' });
      } else {
        w.calendar.userUpdate(AINO.email, x.id, { subject: 'Board (Exchange)' });
        w.tick(5_000);
        w.severa.userUpdate(s.guid!, { name: 'Board (Severa)' });
      }
      const r = await w.cycle();
      const winner = laterSide === 'exchange' ? 'Board (Exchange)' : 'Board (Severa)';
      expect(r.users.find((u) => u.email === AINO.email)!.conflicts).toBe(1);
      expect(w.severa.all().map((a) => a.name)).toEqual([winner]);
      expect(w.calendar.items(AINO.email).map((e) => e.fields.subject)).toEqual([winner]);
      w.resetCalls();
      await w.cycle();
      expect(w.writes()).toBe(0);
    }
  });

  it('a collision is decided on one clock: a skewed server clock is corrected and reported', async () => {
    const w = new World();
    const s = w.severa.userCreate({ name: 'Sync', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    await w.cycle();
    const [x] = w.calendar.bySubject(AINO.email, 'Sync');
    // The Exchange server runs 5 minutes fast: its stamp looks later than Severa's, but the Severa edit came last.
    w.calendar.offsetMs = 5 * 60_000;
    w.tick();
    w.clock += 5 * 60_000;
    w.calendar.userUpdate(AINO.email, x.id, { subject: 'Sync (Exchange)' });
    w.clock -= 5 * 60_000;
    w.tick(10_000);
    w.severa.userUpdate(s.guid!, { name: 'Sync (Severa)' });
    const r = await w.cycle();
    expect(w.calendar.items(AINO.email).map((e) => e.fields.subject)).toEqual(['Sync (Severa)']);
    expect(r.clockOffsetMs.exchange).toBe(300_000);
    expect(r.errors).toContainEqual(expect.objectContaining({ code: 'clock-skew', message: expect.stringMatching(/300 s ahead/) }));
  });

  it('turning an Exchange entry private switches the activity to the Personal type, and back', async () => {
    const w = new World();
    const x = w.calendar.userCreate(MIKKO.email, fields({ subject: 'Doctor', start: at(2, '08:00'), end: at(2, '09:00') }));
    await w.cycle();
    expect(meetingOf(w, 'Doctor')[0].activityType?.guid).toBe(TYPE.meeting);
    w.calendar.userUpdate(MIKKO.email, x.id, { isPrivate: true });
    await w.cycle();
    expect(meetingOf(w, 'Doctor')[0].activityType?.guid).toBe(TYPE.personal);
    w.calendar.userUpdate(MIKKO.email, x.id, { isPrivate: false });
    await w.cycle();
    expect(meetingOf(w, 'Doctor')[0].activityType?.guid).toBe(TYPE.meeting);
  });
});

describe('engine: deletions both ways', () => {
  it('deleted in Exchange -> deleted in Severa; deleted in Severa -> deleted in Exchange (reconciliation)', async () => {
    const w = new World();
    const s = w.severa.userCreate({ name: 'From Severa', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    const x = w.calendar.userCreate(AINO.email, fields({ subject: 'From Exchange', start: at(2, '09:00'), end: at(2, '10:00') }));
    await w.cycle();
    w.calendar.userDelete(AINO.email, x.id);
    w.severa.userDelete(s.guid!);
    const r = await w.cycle();
    const aino = r.users.find((u) => u.email === AINO.email)!;
    expect(aino.toSevera.deleted).toBe(1);
    expect(aino.toExchange.deleted).toBe(1);
    expect(w.severa.all()).toEqual([]);
    expect(w.calendar.items(AINO.email)).toEqual([]);
    expect(w.store.countPairs()).toBe(0);
    expect(w.store.listJournal().map((j) => [j.side, j.subject])).toEqual(expect.arrayContaining([['severa', 'From Exchange'], ['exchange', 'From Severa']]));
  });

  it('the Severa deletion latency is bounded by the reconciliation slice and reported', async () => {
    const w = new World({ enrol: [AINO, MIKKO, SARA, JUSSI] });
    w.options.reconcileSliceSize = 1;
    const s = w.severa.userCreate({ name: 'Jussi thing', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: JUSSI.guid } });
    await w.cycle();
    expect(w.calendar.bySubject(JUSSI.email, 'Jussi thing')).toHaveLength(1);
    w.severa.userDelete(s.guid!);
    let cycles = 0;
    let latency = 0;
    while (w.calendar.bySubject(JUSSI.email, 'Jussi thing').length > 0 && cycles < 10) {
      const r = await w.cycle();
      latency = r.severaDeletionLatencyCycles;
      cycles++;
    }
    expect(latency).toBe(4);
    expect(cycles).toBeGreaterThanOrEqual(1);
    expect(cycles).toBeLessThanOrEqual(latency);
  });

  it('a participant deleting their copy leaves the activity; the owner deleting it deletes it', async () => {
    const w = new World();
    const s = w.severa.userCreate({ name: 'Customer visit', startDateTime: at(3, '10:00'), endDateTime: at(3, '12:00'), activityType: { guid: TYPE.customerVisit }, ownerUser: { guid: AINO.guid }, participants: [MIKKO.guid] } as never);
    await w.cycle();
    expect(w.calendar.bySubject(AINO.email, 'Customer visit')).toHaveLength(1);
    const [mikkoCopy] = w.calendar.bySubject(MIKKO.email, 'Customer visit');
    expect(mikkoCopy).toBeDefined();
    w.calendar.userDelete(MIKKO.email, mikkoCopy.id);
    const r = await w.cycle();
    expect(r.users.find((u) => u.email === MIKKO.email)!.changes).toContainEqual(expect.objectContaining({ side: 'severa', action: 'delete', reason: expect.stringMatching(/participant/) }));
    expect(w.severa.all().map((a) => a.guid)).toEqual([s.guid]);
    expect(w.severa.participantsOf(s.guid!)).toEqual([]);
    expect(w.calendar.bySubject(AINO.email, 'Customer visit')).toHaveLength(1);
    const [ainoCopy] = w.calendar.bySubject(AINO.email, 'Customer visit');
    w.calendar.userDelete(AINO.email, ainoCopy.id);
    await w.cycle();
    expect(w.severa.all()).toEqual([]);
  });

  it('removing a participant in Severa removes the copy from their calendar', async () => {
    const w = new World();
    const s = w.severa.userCreate({ name: 'Visit', startDateTime: at(3, '10:00'), endDateTime: at(3, '12:00'), activityType: { guid: TYPE.customerVisit }, ownerUser: { guid: AINO.guid }, participants: [MIKKO.guid] } as never);
    await w.cycle();
    expect(w.calendar.bySubject(MIKKO.email, 'Visit')).toHaveLength(1);
    const participants = await w.severa.listParticipants(s.guid!);
    await w.severa.removeParticipant(s.guid!, participants[0].guid!);
    await w.cycle();
    expect(w.calendar.bySubject(MIKKO.email, 'Visit')).toHaveLength(0);
    expect(w.calendar.bySubject(AINO.email, 'Visit')).toHaveLength(1);
  });

  it('deleted on one side while changed on the other: the change wins, nothing is lost', async () => {
    const w = new World();
    const s = w.severa.userCreate({ name: 'Keep me', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    await w.cycle();
    const [x] = w.calendar.bySubject(AINO.email, 'Keep me');
    w.severa.userDelete(s.guid!);
    w.calendar.userUpdate(AINO.email, x.id, { subject: 'Keep me (edited)' });
    await w.cycle();
    expect(w.severa.all().map((a) => a.name)).toEqual(['Keep me (edited)']);
    expect(w.calendar.items(AINO.email).map((e) => e.fields.subject)).toEqual(['Keep me (edited)']);
  });
});

describe('engine: meetings and users', () => {
  it('a meeting in two enrolled calendars becomes ONE activity, owned by the organizer, the attendee a participant', async () => {
    const w = new World();
    w.calendar.userMeeting(AINO.email, [MIKKO.email, 'customer@fabrikam.example'], fields({ subject: 'Kickoff with Fabrikam', start: at(4, '13:00'), end: at(4, '14:00') }));
    const r = await w.cycle();
    const acts = meetingOf(w, 'Kickoff with Fabrikam');
    expect(acts).toHaveLength(1);
    expect(acts[0].ownerUser?.guid).toBe(AINO.guid);
    expect(w.severa.participantsOf(acts[0].guid!)).toEqual([MIKKO.guid]);
    expect(r.users.reduce((n, u) => n + u.toSevera.created, 0)).toBe(1);
    // Each calendar keeps its own copy; nothing is copied back.
    expect(w.calendar.bySubject(AINO.email, 'Kickoff with Fabrikam')).toHaveLength(1);
    expect(w.calendar.bySubject(MIKKO.email, 'Kickoff with Fabrikam')).toHaveLength(1);
    w.resetCalls();
    await w.cycle();
    expect(w.writes()).toBe(0);
  });

  it('an attendee added later to the meeting becomes a participant of the activity', async () => {
    const w = new World({ enrol: [AINO] });
    const [organizerCopy] = w.calendar.userMeeting(AINO.email, [], fields({ subject: 'Planning poker', start: at(4, '10:00'), end: at(4, '11:00') }));
    await w.cycle();
    const [act] = meetingOf(w, 'Planning poker');
    expect(w.severa.participantsOf(act.guid!)).toEqual([]);
    w.calendar.userUpdate(AINO.email, organizerCopy.id, { attendees: [MIKKO.email, 'guest@fabrikam.example'], location: 'Sauna' });
    await w.cycle();
    expect(meetingOf(w, 'Planning poker')[0].location).toBe('Sauna');
    expect(w.severa.participantsOf(act.guid!)).toEqual([MIKKO.guid]);
  });

  it('the same meeting seen first from the attendee (organizer processed later) is still one activity', async () => {
    const w = new World({ enrol: [MIKKO, AINO] });
    w.calendar.userMeeting(AINO.email, [MIKKO.email], fields({ subject: 'Offsite', start: at(5, '09:00'), end: at(5, '17:00') }));
    await w.cycle();
    const acts = meetingOf(w, 'Offsite');
    expect(acts).toHaveLength(1);
    expect(acts[0].ownerUser?.guid).toBe(AINO.guid);
  });

  it('an organizer who is not enrolled: the first enrolled attendee owns it; a later enrolled copy joins it', async () => {
    const w = new World({ enrol: [MIKKO] });
    w.calendar.userMeeting(JUSSI.email, [MIKKO.email, AINO.email], fields({ subject: 'Jussi meeting', start: at(5, '09:00'), end: at(5, '10:00') }));
    await w.cycle();
    let acts = meetingOf(w, 'Jussi meeting');
    expect(acts).toHaveLength(1);
    expect(acts[0].ownerUser?.guid).toBe(MIKKO.guid);
    w.options.users.push({ email: AINO.email, syncStartDate: '2026-03-01' });
    await w.cycle();
    acts = meetingOf(w, 'Jussi meeting');
    expect(acts).toHaveLength(1);
    expect(w.severa.participantsOf(acts[0].guid!).sort()).toEqual([AINO.guid, JUSSI.guid].sort());
  });

  it('matches users by email, also through a secondary address', async () => {
    const w = new World({ enrol: [SARA] });
    w.severa.userCreate({ name: 'Sara planning', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: SARA.guid } });
    const r = await w.cycle();
    expect(r.users[0]).toMatchObject({ email: SARA.email, outcome: 'ok' });
    expect(w.calendar.bySubject(SARA.primary, 'Sara planning')).toHaveLength(1);
  });

  it('an activity with several enrolled participants goes into each one\'s calendar', async () => {
    const w = new World({ enrol: [AINO, MIKKO, SARA] });
    w.severa.userCreate({ name: 'Team day', startDateTime: at(6, '09:00'), endDateTime: at(6, '16:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid }, participants: [MIKKO.guid, SARA.guid] } as never);
    await w.cycle();
    for (const m of [AINO.email, MIKKO.email, SARA.primary]) expect(w.calendar.bySubject(m, 'Team day')).toHaveLength(1);
    expect(w.store.pairsBySeveraGuid(w.severa.byName('Team day')[0].guid!).map((p) => p.role).sort()).toEqual(['owner', 'participant', 'participant']);
  });

  it('a user Severa does not know and an address Exchange does not know are reported, the others synced', async () => {
    const w = new World({ enrol: [AINO, { email: 'nobody@contoso.example' }, { email: 'leena.makela@contoso.example' }] });
    w.severa.userCreate({ name: 'Solo', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    const r = await w.cycle();
    expect(r.outcome).toBe('partial');
    expect(r.users.find((u) => u.email === 'nobody@contoso.example')).toMatchObject({ outcome: 'failed', errors: [expect.objectContaining({ code: 'no-severa-user' })] });
    expect(r.users.find((u) => u.email === 'leena.makela@contoso.example')).toMatchObject({ outcome: 'failed', errors: [expect.objectContaining({ code: 'no-mailbox', fix: expect.any(String) })] });
    expect(r.users.find((u) => u.email === AINO.email)?.outcome).toBe('ok');
    expect(w.calendar.bySubject(AINO.email, 'Solo')).toHaveLength(1);
  });
});

describe('engine: window', () => {
  it('nothing that ends before the sync start date is touched; entries beyond the window wait, then come', async () => {
    const w = new World();
    w.options.users = [{ email: AINO.email, syncStartDate: '2026-03-02' }];
    w.options.windowDaysAhead = 10;
    const old = w.severa.userCreate({ name: 'Last week', startDateTime: at(-5, '09:00'), endDateTime: at(-5, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    w.calendar.userCreate(AINO.email, fields({ subject: 'Old Exchange entry', start: at(-3, '09:00'), end: at(-3, '10:00') }));
    w.calendar.userCreate(AINO.email, fields({ subject: 'Far future', start: at(20, '09:00'), end: at(20, '10:00') }));
    w.severa.userCreate({ name: 'Far Severa', startDateTime: at(20, '11:00'), endDateTime: at(20, '12:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    await w.cycle();
    expect(w.severa.all().map((a) => a.name).sort()).toEqual(['Far Severa', 'Last week']);
    expect(w.calendar.items(AINO.email).map((e) => e.fields.subject).sort()).toEqual(['Far future', 'Old Exchange entry']);
    // An edit to the old activity is still outside: untouched.
    w.severa.userUpdate(old.guid!, { notes: 'edited' });
    await w.cycle();
    expect(w.calendar.bySubject(AINO.email, 'Last week')).toHaveLength(0);
    // Eleven days later both far entries are inside the window.
    w.clock += 11 * 86_400_000;
    await w.cycle();
    await w.cycle();
    expect(w.severa.byName('Far future')).toHaveLength(1);
    expect(w.calendar.bySubject(AINO.email, 'Far Severa')).toHaveLength(1);
  });
});
