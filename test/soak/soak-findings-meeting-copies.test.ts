import { describe, expect, it } from 'vitest';
import { EXCHANGES } from '../sync/outlook-back-door.ts';
import { checkAgreement } from './agreement-check.ts';
import { dateText, localDay, localMs, weekdayOf } from './firm-time.ts';
import { problemsOf, settle } from './soak-harness.ts';
import { firmOf, startSyncWorld, TIME_ZONE, type CycleRun, type Person, type SyncWorld } from './sync-world.ts';

/**
 * Soak findings about an attendee's copy of a meeting: the copy the sync made and the one Exchange delivers itself.
 * K21 of the long EWS soak (seed 2; K40, K4 and K90 before it): an attendee removed the meeting from her calendar before
 * her sync first paired it, so the activity, which still names her, came to her as the sync's own copy; the organizer's
 * next change delivered the meeting to her again, and that was taken for a new entry: a second activity, and copies of
 * it in every calendar. K20 of the real-time soak: an attendee synced alone made the activity hers, not the enrolled
 * organizer's, so her leaving the meeting deleted it for everyone.
 * K19 of the long EWS soak (seed 1): the organizer's own syncs failed while an attendee's sync made the activity of
 * her meeting, and the one pair left of it was another attendee's copy made by the sync (a UID of its own); the
 * org-wide changes left the activity out as settled, so the organizer's meeting became a second activity.
 */

const WEEK = 7 * 86_400_000;

describe.each(EXCHANGES)('soak findings: meeting copies on %s', (exchange) => {
  it('the sync\'s copy of a meeting gives way to the meeting when the organizer\'s change delivers it again: one activity, one entry (K21)', { timeout: 120_000 }, async () => {
    const people = firmOf(5);
    const [aino, , , , leena] = people;
    const world = await startSyncWorld({ exchange, people: [aino, leena], enrolled: [aino] });
    try {
      // Aino's weekly meeting series in Outlook with Leena, who does not sync yet: one activity, Leena taking part.
      const first = localMs(world.today, 9, 14);
      const series = world.outlook.create(aino.mailbox, {
        subject: 'K21 audit r1',
        start: new Date(first).toISOString(),
        end: new Date(first + 3_600_000).toISOString(),
        timeZone: TIME_ZONE,
        attendees: [leena.mailbox],
        recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: [weekdayOf(first).toLowerCase() as 'monday'], firstDayOfWeek: 'monday' }, range: { type: 'numbered', startDate: dateText(localDay(world.today, 9)), numberOfOccurrences: 4 } },
      });
      expect((await settle(world, 3)).quiet).toBe(true);
      // Leena removes the meeting from her calendar, then enables her sync: the activity still names her, so she gets
      // the sync's own copy of it.
      const k21 = () => world.outlook.items(leena.mailbox).filter((i) => i.subject.startsWith('K21 '));
      for (const item of k21()) world.outlook.delete(leena.mailbox, item.id);
      world.enroll([aino, leena]);
      const enrolled = await settle(world, 3);
      expect(enrolled.quiet, enrolled.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(k21().map((i) => i.organizer)).toEqual([leena.mailbox]);
      // Aino moves the series to another room in Outlook: Exchange delivers the meeting to Leena again.
      world.outlook.update(aino.mailbox, series.id, { location: 'Room Koli' });
      expect(k21().map((i) => i.organizer).sort()).toEqual([aino.mailbox, leena.mailbox]);
      const after = await settle(world, 4);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      // Before the fix: "severa: new in Exchange" for Leena's delivered copy, a second activity, copies of it for both.
      expect(reasonsOf(after.runs).filter((r) => r.startsWith('severa: new'))).toEqual([]);
      expect(reasonsOf(after.runs)).toContain('exchange: the meeting itself was delivered again; the copy made by the sync gives way');
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
      expect(world.severa.activities().filter((a) => String(a.name).startsWith('K21 ') && a.recurrence)).toHaveLength(1);
      expect(k21().map((i) => i.organizer)).toEqual([aino.mailbox]);
    } finally {
      await world.close();
    }
  });

  it('a meeting delivered again beside the sync\'s copy that the attendee changed makes no second activity: it is left alone, and said so', { timeout: 120_000 }, async () => {
    const people = firmOf(5);
    const [aino, , , , leena] = people;
    const world = await startSyncWorld({ exchange, people: [aino, leena], enrolled: [aino] });
    try {
      const start = localMs(world.today, 8, 10);
      const meeting = world.outlook.create(aino.mailbox, { subject: 'K21b review r1', start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), timeZone: TIME_ZONE, attendees: [leena.mailbox] });
      expect((await settle(world, 3)).quiet).toBe(true);
      const k21b = () => world.outlook.items(leena.mailbox).filter((i) => i.subject.startsWith('K21b '));
      for (const item of k21b()) world.outlook.delete(leena.mailbox, item.id);
      world.enroll([aino, leena]);
      expect((await settle(world, 3)).quiet).toBe(true);
      // Leena adds a note to the sync's copy, and the organizer's change delivers the meeting to her again.
      const [ownCopy] = k21b();
      world.outlook.update(leena.mailbox, ownCopy.id, { body: 'Bring the figures.' });
      world.outlook.update(aino.mailbox, meeting.id, { location: 'Room Koli' });
      expect(k21b()).toHaveLength(2);
      const after = await settle(world, 4);
      expect(reasonsOf(after.runs).filter((r) => r.startsWith('severa: new'))).toEqual([]);
      expect(world.severa.activities().filter((a) => String(a.name).startsWith('K21b '))).toHaveLength(1);
      expect(after.runs.flatMap((r) => r.report?.users.flatMap((u) => u.notes) ?? []).some((n) => n.startsWith('The meeting "K21b review r1" is in this calendar a second time'))).toBe(true);
    } finally {
      await world.close();
    }
  });

  it('an attendee whose sync runs alone (a live cycle) and makes the activity of a meeting organized by an enrolled colleague, then leaves it: the meeting stays for the others (K20 of the real-time soak)', { timeout: 120_000 }, async () => {
    const people = firmOf(3);
    const [aino, mikko, sara] = people;
    const world = await startSyncWorld({ exchange, people });
    try {
      expect((await settle(world, 2)).quiet).toBe(true);
      // Aino invites Sara and Mikko in Outlook. Sara's calendar changed, so her sync runs alone and finds the meeting
      // first: its activity is Aino's all the same, the organizer's, since she is enrolled.
      const start = localMs(world.today, 4, 13);
      world.outlook.create(aino.mailbox, { subject: 'K20 plan r1', start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), timeZone: TIME_ZONE, attendees: [sara.mailbox, mikko.mailbox] });
      const syncOf = (p: Person) => world.runCycle({ args: ['sync', '--once', '--json', '--config', world.configPath, '--data-dir', world.dataDir, '--user', p.severaEmail] });
      expect(problemsOf(await syncOf(sara))).toEqual([]);
      const k20 = () => world.severa.activities().filter((a) => String(a.name).startsWith('K20 '));
      expect(k20().map((a) => (a.ownerUser as { guid?: string } | null)?.guid)).toEqual([aino.severaGuid]);
      // Sara leaves the meeting in Outlook; her sync runs alone again: she leaves the activity, which stays.
      for (const item of world.outlook.items(sara.mailbox).filter((i) => i.subject.startsWith('K20 '))) world.outlook.delete(sara.mailbox, item.id);
      const left = await syncOf(sara);
      // Before the fix Sara owned the activity, so her leaving deleted it ("deleted in Exchange"), and the next cycle
      // deleted the meeting from Aino's calendar, the organizer's, and Mikko's copy with it.
      expect(reasonsOf([left])).toEqual(['severa: deleted in Exchange (removed as participant)']);
      const after = await settle(world, 3);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
      expect(k20()).toHaveLength(1);
      expect(people.map((p) => world.outlook.items(p.mailbox).filter((i) => i.subject.startsWith('K20 ')).length)).toEqual([1, 1, 0]);
    } finally {
      await world.close();
    }
  });

  it("a meeting changed in Outlook after its activity was deleted in Severa: the organizer's run that re-created the activity failed, and the attendee's sync, first, links to it instead of re-creating it again (the long soak's K20, seed 2)", { timeout: 120_000 }, async () => {
    const people = firmOf(4);
    const [, mikko, , jussi] = people;
    const world = await startSyncWorld({ exchange, people: [mikko, jussi] });
    try {
      const start = localMs(world.today, 5, 11, 30);
      const meeting = world.outlook.create(mikko.mailbox, { subject: 'K20 retro r1', start: new Date(start).toISOString(), end: new Date(start + 1_800_000).toISOString(), timeZone: TIME_ZONE, attendees: [jussi.mailbox] });
      expect((await settle(world, 3)).quiet).toBe(true);
      // Mikko deletes the activity in Severa, then changes the meeting in Outlook: the change brings the activity back.
      world.severa.deleteActivity(String(world.severa.activities().find((a) => String(a.name).startsWith('K20 '))!.guid));
      await new Promise((r) => setTimeout(r, 1100));
      world.outlook.update(mikko.mailbox, meeting.id, { location: 'Room Kota' });
      // His run re-creates it and dies there; Jussi's sync comes next, before Mikko's own.
      const syncOf = (p: Person, kill?: { count: 'write'; n: number; mode: 'after-server' }) => world.runCycle({ args: ['sync', '--once', '--json', '--config', world.configPath, '--data-dir', world.dataDir, '--user', p.severaEmail], ...(kill ? { kill } : {}) });
      const killed = await syncOf(mikko, { count: 'write', n: 1, mode: 'after-server' });
      expect(killed.killedAt?.operation).toBe('POST /v1/activities');
      const jussis = await syncOf(jussi);
      // Before the fix Jussi's sync re-created the activity a second time ("changed in Exchange after deletion in
      // Severa"), and each of them then got a copy of the other's: two activities, two entries in each calendar.
      expect(reasonsOf([jussis]).filter((r) => r.startsWith('severa: '))).toEqual([]);
      const after = await settle(world, 4);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
      expect(world.severa.activities().filter((a) => String(a.name).startsWith('K20 ')).map((a) => a.location)).toEqual(['Room Kota']);
      expect([mikko, jussi].map((p) => world.outlook.items(p.mailbox).filter((i) => i.subject.startsWith('K20 ')).length)).toEqual([1, 1]);
    } finally {
      await world.close();
    }
  });

  it("an attendee who removed a meeting gets the sync's copy of the activity the organizer's killed run created; the organizer's change delivers the meeting again before his next sync: it takes the copy's place, found by his run's pending intent, never a second activity (the long soak's K7, seed 3)", { timeout: 120_000 }, async () => {
    const people = firmOf(2);
    const [aino, mikko] = people;
    const world = await startSyncWorld({ exchange, people });
    try {
      // Mikko's meeting with Aino in Outlook; Aino removes it from her calendar before any sync.
      const start = localMs(world.today, 5, 9);
      const meeting = world.outlook.create(mikko.mailbox, { subject: 'K7 audit r1', start: new Date(start).toISOString(), end: new Date(start + 1_800_000).toISOString(), timeZone: TIME_ZONE, attendees: [aino.mailbox] });
      const k7 = (p: Person) => world.outlook.items(p.mailbox).filter((i) => i.subject.startsWith('K7 '));
      for (const item of k7(aino)) world.outlook.delete(aino.mailbox, item.id);
      const syncOf = (p: Person, kill?: { count: 'write'; n: number; mode: 'after-server' }) => world.runCycle({ args: ['sync', '--once', '--json', '--config', world.configPath, '--data-dir', world.dataDir, '--user', p.severaEmail], ...(kill ? { kill } : {}) });
      // Mikko's run creates the activity, adds Aino to it and dies there: his pair is never recorded, his intent pending.
      const killed = await syncOf(mikko, { count: 'write', n: 2, mode: 'after-server' });
      expect(killed.killedAt?.operation).toBe('POST /v1/activityparticipants');
      // Aino takes part in the activity, so she gets the sync's own copy of it.
      expect(reasonsOf([await syncOf(aino)])).toEqual(['exchange: new in Severa']);
      // Mikko moves the meeting in Outlook: Exchange delivers it to Aino again, and her sync comes before his.
      world.outlook.update(mikko.mailbox, meeting.id, { location: 'Room Kota' });
      expect(k7(aino)).toHaveLength(2);
      const ainos = await syncOf(aino);
      // Before the fix her sync did not know the activity by the meeting's UID (no pair of Mikko's holds it) and his
      // pending intent was not followed to an activity she holds: "severa: new in Exchange", a second activity.
      expect(reasonsOf([ainos]).filter((r) => r.startsWith('severa: new'))).toEqual([]);
      expect(reasonsOf([ainos])).toContain('exchange: the meeting itself was delivered again; the copy made by the sync gives way');
      const after = await settle(world, 4);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
      expect(world.severa.activities().filter((a) => String(a.name).startsWith('K7 ')).map((a) => a.location)).toEqual(['Room Kota']);
      expect([aino, mikko].map((p) => k7(p).map((i) => i.organizer))).toEqual([[mikko.mailbox], [mikko.mailbox]]);
    } finally {
      await world.close();
    }
  });

  it("an organizer whose own sync has not yet seen her meeting's activity, made by an attendee's sync and held only by another attendee's copy made by the sync, links her meeting to it instead of making a second activity (the long soak's K19, seed 1)", { timeout: 120_000 }, async () => {
    // Five enrolled: each `sync --user` run starts the rolling reconciliation's turn over, so the full cycle after
    // them re-lists the first four by address in full and reads Sara, the fifth, from the org-wide changes alone.
    const people = firmOf(5);
    const [aino, mikko, sara] = people;
    const world = await startSyncWorld({ exchange, people });
    try {
      const { k19, activities } = await meetingHeldOnlyByTheSyncsCopy(world, { organizer: sara, attendee: aino, leaving: mikko });
      // The activity's one pair is Aino's copy, with a UID of its own. Sara's sync (a full cycle, read from the changes)
      // meets her meeting for the first time. Before the fix the changes left the activity out ("every pair of it holds
      // this version"), so nothing knew it: her meeting became a second activity, and Aino got a copy of it too.
      const cycle = await world.runCycle();
      expect(problemsOf(cycle)).toEqual([]);
      expect(reasonsOf([cycle]).filter((r) => r.startsWith('severa: new'))).toEqual([]);
      const after = await settle(world, 4);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
      expect(activities()).toHaveLength(1);
      expect([aino, mikko, sara].map((p) => k19(p).length)).toEqual([1, 0, 1]);
    } finally {
      await world.close();
    }
  });

  it("the organizer's change delivers her meeting again to an attendee who holds the sync's copy of its activity, while no pair holds the meeting's UID: the copy gives way, no second activity (K19 of seed 1, further on)", { timeout: 120_000 }, async () => {
    const people = firmOf(3);
    const [aino, mikko, sara] = people;
    const world = await startSyncWorld({ exchange, people });
    try {
      const { k19, activities, syncOf } = await meetingHeldOnlyByTheSyncsCopy(world, { organizer: sara, attendee: aino, leaving: mikko });
      // Sara adds a note to her meeting before any sync of hers pairs it (in the soak her runs failed): Exchange delivers
      // it to Aino again, beside the sync's copy. Before the fix Aino's sync, finding no pair with the meeting's UID,
      // took it for new: a second activity ("severa: new in Exchange"), copied to Sara's calendar too.
      const [meeting] = k19(sara);
      world.outlook.update(sara.mailbox, meeting.id, { body: 'Agenda attached.' });
      expect(k19(aino)).toHaveLength(2);
      const ainos = await syncOf(aino);
      expect(problemsOf(ainos)).toEqual([]);
      expect(reasonsOf([ainos]).filter((r) => r.startsWith('severa: new'))).toEqual([]);
      expect(reasonsOf([ainos])).toContain('exchange: the meeting itself was delivered again; the copy made by the sync gives way');
      const after = await settle(world, 4);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
      expect(activities().map((a) => String(a.notes ?? '').trim())).toEqual(['Agenda attached.']);
      // (Mikko, still on the meeting's attendee list, gets it delivered again too: his own business in Outlook.)
      expect([aino, sara].map((p) => k19(p).map((i) => i.organizer))).toEqual([[sara.mailbox], [sara.mailbox]]);
    } finally {
      await world.close();
    }
  });
});

/** Each change the runs made, as "side: reason". */
function reasonsOf(runs: CycleRun[]): string[] {
  return runs.flatMap((r) => r.report?.users.flatMap((u) => u.changes.map((c) => `${c.side}: ${c.reason}`)) ?? []);
}

/**
 * K19's start: the organizer's meeting, whose activity (hers, as an enrolled organizer's) a leaving attendee's sync made,
 * and whose only pair left is another attendee's copy made by the sync (she had removed the meeting before her first
 * sync): no pair holds the meeting's UID. The organizer's own sync has not run since she made the meeting.
 */
async function meetingHeldOnlyByTheSyncsCopy(world: SyncWorld, who: { organizer: Person; attendee: Person; leaving: Person }) {
  const { organizer, attendee, leaving } = who;
  expect((await settle(world, 3)).quiet).toBe(true);
  // The organizer invites both in Outlook; the attendee removes the meeting from her calendar before any sync.
  const start = localMs(world.today, 6, 9);
  world.outlook.create(organizer.mailbox, { subject: 'K19 kickoff r1', start: new Date(start).toISOString(), end: new Date(start + 5_400_000).toISOString(), timeZone: TIME_ZONE, attendees: [attendee.mailbox, leaving.mailbox] });
  const k19 = (p: Person) => world.outlook.items(p.mailbox).filter((i) => i.subject.startsWith('K19 '));
  for (const item of k19(attendee)) world.outlook.delete(attendee.mailbox, item.id);
  const syncOf = (p: Person) => world.runCycle({ args: ['sync', '--once', '--json', '--config', world.configPath, '--data-dir', world.dataDir, '--user', p.severaEmail] });
  // The other attendee's sync, first, makes the activity from his copy: the organizer's, with both attendees.
  expect(reasonsOf([await syncOf(leaving)])).toEqual(['severa: new in Exchange']);
  const activities = () => world.severa.activities().filter((a) => String(a.name).startsWith('K19 '));
  expect(activities().map((a) => (a.ownerUser as { guid?: string } | null)?.guid)).toEqual([organizer.severaGuid]);
  // He leaves it in Outlook, and so in Severa; then the attendee's sync gives her the sync's own copy (she removed the
  // meeting, but the activity still names her).
  for (const item of k19(leaving)) world.outlook.delete(leaving.mailbox, item.id);
  expect(reasonsOf([await syncOf(leaving)])).toEqual(['severa: deleted in Exchange (removed as participant)']);
  expect(reasonsOf([await syncOf(attendee)])).toEqual(['exchange: new in Severa']);
  return { k19, activities, syncOf };
}
