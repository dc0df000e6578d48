import { describe, expect, it } from 'vitest';
import { CalendarError } from '../../src-main/exchange/calendar-connector.ts';
import { fields } from './fakes/fake-calendar.ts';
import { AINO, at, MIKKO, SARA, TYPE, World } from './fakes/demo-world.ts';

/**
 * Copies of one Severa activity in several enrolled calendars: a meeting's copies linked by its UID, an activity created
 * from one copy while another user's sync fails, a participant removed while changing their copy. Each case came from
 * the chaos soak (test/soak/soak-findings.test.ts); these pin the engine's part down on the in-memory fakes.
 */

describe('engine: copies of one meeting in several calendars', () => {
  it("an attendee enabling sync after the activity changed gets their stale copy brought in line, and it stays one activity", async () => {
    const w = new World({ enrol: [AINO] });
    w.calendar.userMeeting(AINO.email, [MIKKO.email], fields({ subject: 'Budget review', start: at(5, '13:00'), end: at(5, '14:00'), location: 'Room Koli' }));
    await w.cycle();
    const [activity] = w.severa.byName('Budget review');
    w.tick();
    w.severa.userUpdate(activity.guid!, { location: 'Room Kota' });
    await w.cycle();
    expect(w.calendar.bySubject(AINO.email, 'Budget review')[0].fields.location).toBe('Room Kota');
    // Mikko's copy was never written by the sync (only organizer copies are updated, no one is mailed): still Koli.
    expect(w.calendar.bySubject(MIKKO.email, 'Budget review')[0].fields.location).toBe('Room Koli');
    w.options.users.push({ email: MIKKO.email, syncStartDate: '2026-03-01' });
    const r = await w.cycle();
    const mikko = r.users.find((u) => u.email === MIKKO.email)!;
    expect(mikko.outcome).toBe('ok');
    expect(mikko.toExchange.updated).toBe(1);
    expect(mikko.toSevera).toEqual({ created: 0, updated: 0, deleted: 0 });
    expect(w.calendar.bySubject(MIKKO.email, 'Budget review').map((e) => e.fields.location)).toEqual(['Room Kota']);
    expect(w.severa.byName('Budget review').map((a) => [a.guid, a.location])).toEqual([[activity.guid, 'Room Kota']]);
    expect(w.severa.participantsOf(activity.guid!)).toEqual([MIKKO.guid]);
    w.resetCalls();
    await w.cycle();
    expect(w.writes()).toBe(0);
  });

  it('a copy changed after the activity, found by its UID, brings its change to the activity', async () => {
    const w = new World({ enrol: [AINO] });
    const [, mikkoCopy] = w.calendar.userMeeting(AINO.email, [MIKKO.email], fields({ subject: 'Retro', start: at(6, '10:00'), end: at(6, '11:00') }));
    await w.cycle();
    w.tick();
    w.calendar.userUpdate(MIKKO.email, mikkoCopy.id, { body: 'Agenda: what went well' });
    w.options.users.push({ email: MIKKO.email, syncStartDate: '2026-03-01' });
    await w.cycle();
    expect(w.severa.byName('Retro').map((a) => a.notes)).toEqual(['Agenda: what went well']);
    await w.cycle();
    expect(w.calendar.bySubject(AINO.email, 'Retro').map((e) => e.fields.body)).toEqual(['Agenda: what went well']);
  });

  it("a meeting's activity created by a user whose sync then fails is the one the organizer's sync links to in the same cycle", async () => {
    const w = new World({ enrol: [AINO, MIKKO] });
    // One user re-listed each cycle, the other incremental (sees only what changed in Severa before the cycle began).
    w.options.reconcileSliceSize = 1;
    await w.cycle();
    // Wait for a cycle in which Aino (synced first) is re-listed and Mikko, the organizer, is incremental.
    while ((w.store.getOrgValue<number>('reconcile-next') ?? 0) % 2 !== 0) await w.cycle();
    w.calendar.userMeeting(MIKKO.email, [AINO.email], fields({ subject: 'Steering group', start: at(6, '11:00'), end: at(6, '12:00') }));
    w.faults.arm({ method: 'addParticipant', when: 'before', error: () => new Error('Severa answered 500') });
    const first = await w.cycle();
    w.faults.clear();
    expect(first.users.find((u) => u.email === AINO.email)!.outcome).toBe('failed');
    expect(w.severa.byName('Steering group')).toHaveLength(1);
    for (let i = 0; i < 3; i++) await w.cycle();
    const [activity] = w.severa.byName('Steering group');
    expect(w.severa.byName('Steering group')).toHaveLength(1);
    expect(activity.ownerUser?.guid).toBe(MIKKO.guid);
    expect(w.severa.participantsOf(activity.guid!)).toEqual([AINO.guid]);
    expect(w.calendar.bySubject(AINO.email, 'Steering group')).toHaveLength(1);
    expect(w.calendar.bySubject(MIKKO.email, 'Steering group')).toHaveLength(1);
    w.resetCalls();
    await w.cycle();
    expect(w.writes()).toBe(0);
  });
  it('a meeting changed in Outlook after its activity was deleted in Severa gets one activity back, not one per enrolled copy', async () => {
    const w = new World({ enrol: [AINO, MIKKO] });
    const [ainoCopy, mikkoCopy] = w.calendar.userMeeting(AINO.email, [MIKKO.email], fields({ subject: 'Sprint demo', start: at(5, '13:00'), end: at(5, '14:00'), location: 'Room Koli' }));
    await w.cycle();
    await w.cycle();
    const [activity] = w.severa.byName('Sprint demo');
    w.tick();
    // Aino moves it to another room: Exchange sends the update to Mikko's copy too. Meanwhile she deletes the activity.
    w.calendar.userUpdate(AINO.email, ainoCopy.id, { location: 'Helsinki office' });
    w.calendar.userUpdate(MIKKO.email, mikkoCopy.id, { location: 'Helsinki office' });
    w.severa.userDelete(activity.guid!);
    await w.cycle();
    await w.cycle();
    const again = w.severa.byName('Sprint demo');
    expect(again.map((a) => [a.location, a.ownerUser?.guid])).toEqual([['Helsinki office', AINO.guid]]);
    expect(again[0].guid).not.toBe(activity.guid);
    expect(w.severa.participantsOf(again[0].guid!)).toEqual([MIKKO.guid]);
    expect(w.calendar.bySubject(AINO.email, 'Sprint demo')).toHaveLength(1);
    expect(w.calendar.bySubject(MIKKO.email, 'Sprint demo')).toHaveLength(1);
    w.resetCalls();
    await w.cycle();
    expect(w.writes()).toBe(0);
  });

  it("an activity re-created after a deletion in Severa by a run that never heard Severa's answer is found again, not created twice", async () => {
    const w = new World({ enrol: [MIKKO] });
    const s = w.severa.userCreate({ name: 'Retro r1', startDateTime: at(4, '10:00'), endDateTime: at(4, '11:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: MIKKO.guid } });
    await w.cycle();
    const [copy] = w.calendar.bySubject(MIKKO.email, 'Retro r1');
    w.tick();
    w.calendar.userUpdate(MIKKO.email, copy.id, { subject: 'Retro r2' });
    w.severa.userDelete(s.guid!);
    w.faults.arm({ method: 'createActivity', when: 'after', error: () => new Error('socket hang up') });
    const failed = await w.cycle();
    w.faults.clear();
    expect(failed.users[0].outcome).toBe('failed');
    expect(w.severa.byName('Retro r2')).toHaveLength(1);
    await w.cycle();
    await w.cycle();
    expect(w.severa.byName('Retro r2')).toHaveLength(1);
    expect(w.calendar.bySubject(MIKKO.email, 'Retro r2')).toHaveLength(1);
    expect(w.store.intentsForUser(MIKKO.email)).toHaveLength(0);
    w.resetCalls();
    await w.cycle();
    expect(w.writes()).toBe(0);
  });

  it("an attendee synced before the organizer links to the activity the organizer's killed run created, by that run's intent", async () => {
    const w = new World({ enrol: [AINO, MIKKO] });
    await w.cycle();
    w.calendar.userMeeting(MIKKO.email, [AINO.email], fields({ subject: 'Steering group', start: at(6, '11:00'), end: at(6, '12:00') }));
    // Aino's sync fails this cycle before it reads her calendar, so Mikko's creates the activity; the run dies as it
    // adds Aino as participant. Next cycle Aino is synced first again, before Mikko's sync would find the activity.
    w.faults.arm({ method: 'syncChanges', when: 'before', mailbox: AINO.email, error: () => new Error('connect ECONNREFUSED') });
    w.faults.arm({ method: 'addParticipant', when: 'before' });
    await w.cycle().catch(() => undefined);
    expect(w.faults.fired).toEqual(['syncChanges:before', 'addParticipant:before']);
    expect(w.severa.byName('Steering group')).toHaveLength(1);
    w.faults.revive();
    await w.cycle();
    await w.cycle();
    const activities = w.severa.byName('Steering group');
    expect(activities).toHaveLength(1);
    expect(activities[0].ownerUser?.guid).toBe(MIKKO.guid);
    expect(w.severa.participantsOf(activities[0].guid!)).toEqual([AINO.guid]);
    expect(w.calendar.bySubject(AINO.email, 'Steering group')).toHaveLength(1);
    expect(w.calendar.bySubject(MIKKO.email, 'Steering group')).toHaveLength(1);
    expect(w.store.intentsForUser(MIKKO.email)).toHaveLength(0);
    w.resetCalls();
    await w.cycle();
    expect(w.writes()).toBe(0);
  });
  it("an attendee's copy delivered again by the organizer's update after they removed it keeps them in the one activity", async () => {
    const w = new World({ enrol: [AINO, MIKKO] });
    const [ainoCopy, mikkoCopy] = w.calendar.userMeeting(AINO.email, [MIKKO.email], fields({ subject: 'Demo r1', start: at(6, '15:00'), end: at(6, '16:00') }));
    await w.cycle();
    await w.cycle();
    const [activity] = w.severa.byName('Demo r1');
    expect(w.severa.participantsOf(activity.guid!)).toEqual([MIKKO.guid]);
    w.tick();
    // Mikko removes the meeting from his calendar; Aino renames it and Exchange delivers it to Mikko again (a new item,
    // the same UID), all before the next cycle.
    w.calendar.userDelete(MIKKO.email, mikkoCopy.id);
    const renamed = w.calendar.userUpdate(AINO.email, ainoCopy.id, { subject: 'Demo r2' });
    w.calendar.userCreate(MIKKO.email, renamed.fields, { uid: renamed.uid! });
    await w.cycle();
    await w.cycle();
    expect(w.severa.byName('Demo r2').map((a) => a.guid)).toEqual([activity.guid]);
    expect(w.severa.byName('Demo r1')).toEqual([]);
    expect(w.severa.participantsOf(activity.guid!)).toEqual([MIKKO.guid]);
    expect(w.calendar.bySubject(MIKKO.email, 'Demo r2')).toHaveLength(1);
    expect(w.calendar.bySubject(AINO.email, 'Demo r2')).toHaveLength(1);
    w.resetCalls();
    await w.cycle();
    expect(w.writes()).toBe(0);
  });
  it("an unchanged attendee copy of a meeting re-created from the organizer's changed copy is linked to it, not deleted and made again", async () => {
    const w = new World({ enrol: [AINO, MIKKO] });
    const [ainoCopy, mikkoCopy] = w.calendar.userMeeting(AINO.email, [MIKKO.email], fields({ subject: 'Board prep', start: at(5, '09:00'), end: at(5, '10:00'), location: 'Room Koli' }));
    await w.cycle();
    await w.cycle();
    const [activity] = w.severa.byName('Board prep');
    w.tick();
    // Aino changes her copy (no update reaches Mikko's yet) and deletes the activity in Severa.
    w.calendar.userUpdate(AINO.email, ainoCopy.id, { location: 'Helsinki office' });
    w.severa.userDelete(activity.guid!);
    w.resetCalls();
    await w.cycle();
    await w.cycle();
    expect(w.severa.byName('Board prep').map((a) => a.location)).toEqual(['Helsinki office']);
    // Mikko's own copy stays (the same item), brought in line with the activity: never deleted and created again.
    expect(w.calendar.bySubject(MIKKO.email, 'Board prep').map((e) => [e.id, e.fields.location])).toEqual([[mikkoCopy.id, 'Helsinki office']]);
    expect(w.calendar.calls.deleteEvent ?? 0).toBe(0);
    w.resetCalls();
    await w.cycle();
    expect(w.writes()).toBe(0);
  });
});

describe('engine: a participant removed in Severa', () => {
  it('after changing their copy: takes part again with the change, never a second activity', async () => {
    const w = new World();
    const s = w.severa.userCreate({ name: 'Workshop', startDateTime: at(4, '09:00'), endDateTime: at(4, '11:00'), activityType: { guid: TYPE.customerVisit }, ownerUser: { guid: AINO.guid }, participants: [MIKKO.guid] } as never);
    await w.cycle();
    const [copy] = w.calendar.bySubject(MIKKO.email, 'Workshop');
    w.tick();
    w.calendar.userUpdate(MIKKO.email, copy.id, { body: 'Bring the demo laptop.' });
    const [participation] = await w.severa.listParticipants(s.guid!);
    await w.severa.removeParticipant(s.guid!, participation.guid!);
    const r = await w.cycle();
    const mikko = r.users.find((u) => u.email === MIKKO.email)!;
    expect(mikko.toSevera).toEqual({ created: 0, updated: 1, deleted: 0 });
    expect(w.severa.all().map((a) => [a.guid, a.notes])).toEqual([[s.guid, 'Bring the demo laptop.']]);
    expect(w.severa.participantsOf(s.guid!)).toEqual([MIKKO.guid]);
    await w.cycle();
    expect(w.calendar.bySubject(MIKKO.email, 'Workshop')).toHaveLength(1);
    expect(w.calendar.bySubject(AINO.email, 'Workshop').map((e) => e.fields.body)).toEqual(['Bring the demo laptop.']);
    w.resetCalls();
    await w.cycle();
    expect(w.writes()).toBe(0);
  });

  it('after changing their copy while the activity changed too: the later change wins, the activity stays one', async () => {
    const w = new World();
    const s = w.severa.userCreate({ name: 'Kickoff', startDateTime: at(4, '13:00'), endDateTime: at(4, '14:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid }, participants: [MIKKO.guid] } as never);
    await w.cycle();
    const [copy] = w.calendar.bySubject(MIKKO.email, 'Kickoff');
    w.tick();
    w.calendar.userUpdate(MIKKO.email, copy.id, { location: 'Mikko says Room A' });
    w.tick(5_000);
    w.severa.userUpdate(s.guid!, { location: 'Aino says Room B' });
    const [participation] = await w.severa.listParticipants(s.guid!);
    await w.severa.removeParticipant(s.guid!, participation.guid!);
    await w.cycle();
    await w.cycle();
    expect(w.severa.all().map((a) => a.location)).toEqual(['Aino says Room B']);
    expect(w.calendar.bySubject(MIKKO.email, 'Kickoff').map((e) => e.fields.location)).toEqual(['Aino says Room B']);
  });

  it("an organizer whose syncs failed while the attendee's pair of her meeting turned into the sync's own copy (a UID of its own) finds the activity by the meeting's UID, never a second one (K15 of the real-time soak)", async () => {
    const w = new World({ enrol: [AINO, MIKKO] });
    await w.cycle();
    const unavailable = () => new CalendarError('transient', 'The mailbox store is unavailable.');
    // Aino invites Mikko; her sync fails, his makes the activity (hers: she organizes it, an enrolled user).
    w.calendar.userMeeting(AINO.email, [MIKKO.email], fields({ subject: 'Workshop', start: at(3, '09:00'), end: at(3, '10:00') }));
    w.faults.arm({ method: 'syncChanges', when: 'before', mailbox: AINO.email, error: unavailable });
    await w.cycle();
    const [activity] = w.severa.byName('Workshop');
    expect(activity.ownerUser?.guid).toBe(AINO.guid);
    // Mikko removes the meeting from his calendar while it is renamed in Severa: the later change gives him the sync's
    // own copy of the activity, and his pair holds that copy's UID now. Aino's sync fails again.
    w.tick();
    for (const e of w.calendar.bySubject(MIKKO.email, 'Workshop')) w.calendar.userDelete(MIKKO.email, e.id);
    w.tick();
    w.severa.userUpdate(activity.guid!, { name: 'Workshop r2' });
    w.faults.arm({ method: 'syncChanges', when: 'before', mailbox: AINO.email, error: unavailable });
    await w.cycle();
    expect(w.calendar.bySubject(MIKKO.email, 'Workshop r2')).toHaveLength(1);
    // Aino's sync gets through. Before: no pair held her meeting's UID any more, so it became a second activity.
    await w.cycle();
    await w.cycle();
    expect(w.severa.all().map((a) => a.guid)).toEqual([activity.guid]);
    expect(w.store.pairsForUser(AINO.email).map((p) => p.severaGuid)).toEqual([activity.guid]);
    expect(w.calendar.items(AINO.email)).toHaveLength(1);
    expect(w.calendar.items(MIKKO.email)).toHaveLength(1);
  });

  it("a meeting changed in Outlook after its activity was deleted in Severa, in a cycle that does not re-list Severa: the attendee whose run made the activity anew lost Severa's answer, and the organizer's write, meeting the old activity gone, goes to that one instead of making a third (the long soak's K20 of seed 2)", async () => {
    const w = new World({ enrol: [AINO, MIKKO] });
    w.calendar.userMeeting(MIKKO.email, [AINO.email], fields({ subject: 'Retro', start: at(3, '09:00'), end: at(3, '10:00') }));
    await w.cycle();
    const [first] = w.severa.byName('Retro');
    w.tick();
    w.severa.userDelete(first.guid!);
    w.tick();
    // Mikko moves the meeting to another room: both calendars hold the change.
    for (const m of [MIKKO.email, AINO.email]) for (const e of w.calendar.bySubject(m, 'Retro')) w.calendar.userUpdate(m, e.id, { location: 'Room Kota' });
    // Aino's sync (first in the cycle) makes the activity anew, and Severa's answer is lost: her run fails. Then
    // Mikko's sync writes his change to the old activity, which is gone.
    w.faults.arm({ method: 'createActivity', when: 'after', error: () => new Error('socket hang up') });
    const report = await w.cycle({ reconcile: false });
    expect(report.users.find((u) => u.email === AINO.email)?.outcome).toBe('failed');
    // Mikko's one write is reported once, though it went to another activity than the one first meant.
    expect(report.users.find((u) => u.email === MIKKO.email)?.toSevera).toEqual({ created: 0, updated: 1, deleted: 0 });
    expect(w.severa.byName('Retro').map((a) => a.location)).toEqual(['Room Kota']);
    await w.cycle();
    await w.cycle();
    const [activity] = w.severa.byName('Retro');
    expect(w.severa.byName('Retro')).toHaveLength(1);
    expect([AINO.email, MIKKO.email].map((m) => w.store.pairsForUser(m).map((p) => p.severaGuid))).toEqual([[activity.guid], [activity.guid]]);
    expect([AINO.email, MIKKO.email].map((m) => w.calendar.items(m).length)).toEqual([1, 1]);
  });

  it("an organizer who deleted his meeting's activity in Severa before any sync of his paired the meeting, and moved it in Outlook: his sync links the meeting to the activity an attendee's live cycle made anew, though another attendee's pair still names the deleted one (K23 of the real-time soak)", async () => {
    const w = new World({ enrol: [AINO, MIKKO, SARA] });
    const emails = [AINO.email, MIKKO.email, SARA.email];
    const mailboxes = [AINO.email, MIKKO.email, SARA.primary];
    const live = async (email: string) => w.cycle({ users: [{ email, syncStartDate: '2026-03-01' }], live: true, reconcile: false, enrolledElsewhere: emails.filter((e) => e !== email) });
    await w.cycle();
    // Mikko invites Aino and Sara in Outlook; live cycles of Sara and Aino make and pair the activity (his: he
    // organizes it); no sync of Mikko's runs yet.
    w.calendar.userMeeting(MIKKO.email, [AINO.email, SARA.primary], fields({ subject: 'Planning', start: at(4, '12:00'), end: at(4, '13:00') }));
    await live(SARA.email);
    await live(AINO.email);
    const [first] = w.severa.byName('Planning');
    expect(first.ownerUser?.guid).toBe(MIKKO.guid);
    // Mikko deletes the activity in Severa and moves the meeting in Outlook: every copy gets the move.
    w.tick();
    w.severa.userDelete(first.guid!);
    w.tick();
    for (const m of mailboxes) for (const e of w.calendar.bySubject(m, 'Planning')) w.calendar.userUpdate(m, e.id, { start: at(5, '12:00'), end: at(5, '13:00') });
    // Aino's live cycle: the change beats the deletion, the activity is made anew. Sara's pair still names the old one.
    await live(AINO.email);
    const [again] = w.severa.byName('Planning');
    expect(again.guid).not.toBe(first.guid);
    // Mikko renames the meeting in Outlook (so no activity looks the same), then his live cycle runs: before, the UID
    // led to the deleted activity (Sara's pair names it) and his meeting became a second activity.
    w.tick();
    for (const m of mailboxes) for (const e of w.calendar.bySubject(m, 'Planning')) w.calendar.userUpdate(m, e.id, { subject: 'Planning r2' });
    await live(MIKKO.email);
    const planning = () => w.severa.all().filter((a) => a.name?.startsWith('Planning'));
    expect(planning().map((a) => a.guid)).toEqual([again.guid]);
    await w.cycle();
    await w.cycle();
    expect(planning().map((a) => [a.guid, a.name])).toEqual([[again.guid, 'Planning r2']]);
    expect(emails.map((m) => w.store.pairsForUser(m).map((p) => p.severaGuid))).toEqual([[again.guid], [again.guid], [again.guid]]);
    expect(mailboxes.map((m) => w.calendar.items(m).length)).toEqual([1, 1, 1]);
  });

  it("an attendee whose copy changed after the meeting's activity was deleted, and who takes part in the activity the organizer's sync made anew, writes the change there and gets no second copy of it (the long soak's seed 1 on 4 December)", async () => {
    const w = new World({ enrol: [AINO, MIKKO] });
    w.calendar.userMeeting(MIKKO.email, [AINO.email], fields({ subject: 'Review', start: at(3, '09:00'), end: at(3, '10:00') }));
    await w.cycle();
    await w.cycle();
    const [first] = w.severa.byName('Review');
    w.tick();
    w.severa.userDelete(first.guid!);
    w.tick();
    // Mikko moves the meeting to another room: both calendars hold the change. Only his sync runs (a live cycle); it
    // makes the activity anew, with Aino taking part.
    for (const m of [MIKKO.email, AINO.email]) for (const e of w.calendar.bySubject(m, 'Review')) w.calendar.userUpdate(m, e.id, { location: 'Room Kota' });
    await w.cycle({ users: [{ email: MIKKO.email, syncStartDate: '2026-03-01' }], live: true, reconcile: false, enrolledElsewhere: [AINO.email] });
    const [again] = w.severa.byName('Review');
    expect(again.guid).not.toBe(first.guid);
    // Aino's scheduled cycle, which does not see the deletion (not re-listed): her change meets the old activity gone
    // and goes to the new one, which her listing also shows as new to her. Before: she got a second copy of it.
    const report = await w.cycle({ reconcile: false });
    expect(report.users.find((x) => x.email === AINO.email)?.changes.map((x) => [x.side, x.action])).toEqual([['severa', 'update']]);
    await w.cycle();
    await w.cycle();
    expect(w.severa.byName('Review').map((a) => a.guid)).toEqual([again.guid]);
    expect([AINO.email, MIKKO.email].map((m) => w.store.pairsForUser(m).map((p) => p.severaGuid))).toEqual([[again.guid], [again.guid]]);
    expect([AINO.email, MIKKO.email].map((m) => w.calendar.items(m).length)).toEqual([1, 1]);
  });
});
