import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SYNC_STORE_FILE } from '../../src-main/runner/engine-cycle.ts';
import { SyncStore } from '../../src-main/store/sync-store.ts';
import { ewsDateTime } from '../peers/ews/soap-envelope.ts';
import { occurrenceGuid } from '../peers/severa/series-occurrences.ts';
import { checkAgreement } from './agreement-check.ts';
import { localMs, weekdayOf } from './firm-time.ts';
import { problemsOf, settle } from './soak-harness.ts';
import { firmOf, startSyncWorld, TIME_ZONE, TYPES } from './sync-world.ts';

/**
 * Disagreements the chaos soak found, each cut down to a deterministic scenario of a few seconds (no random faults or
 * kills; at most one failure injected at a chosen request), so the cause is plain and a fix can be checked quickly.
 * See docs/safety.md for the list.
 */

describe('soak findings', () => {
  it('an attendee who enables sync after the meeting changed in Severa gets their copy brought in line (not recorded as it is)', { timeout: 120_000 }, async () => {
    const [aino, mikko] = firmOf(2);
    const world = await startSyncWorld({ people: [aino, mikko], enrolled: [aino] });
    try {
      // Aino invites Mikko in Outlook; only Aino syncs yet, so the meeting becomes one activity with Mikko as participant.
      const start = localMs(world.today, 5, 13);
      world.ews.mailbox(aino.mailbox).create({
        subject: 'K1 budget review',
        start: new Date(start).toISOString(),
        end: new Date(start + 3_600_000).toISOString(),
        timeZone: TIME_ZONE,
        location: 'Room Koli',
        requiredAttendees: [mikko.mailbox],
      });
      expect((await settle(world, 3)).quiet).toBe(true);
      // Aino moves it to another room in Severa. The sync updates her organizer copy without mailing anyone (SendToNone),
      // so Mikko's copy keeps the old room: that is what Exchange does.
      const activity = world.severa.activities().find((a) => String(a.name).startsWith('K1 '))!;
      world.severa.updateActivity(String(activity.guid), { location: 'Room Kota' });
      expect((await settle(world, 3)).quiet).toBe(true);
      expect(world.ews.mailbox(aino.mailbox).items().find((i) => i.subject.startsWith('K1 '))?.location).toBe('Room Kota');
      // Now Mikko enables his sync: his copy is linked to the activity by the meeting's UID.
      world.enroll([aino, mikko]);
      const after = await settle(world, 3);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(world.ews.mailbox(mikko.mailbox).items().filter((i) => i.subject.startsWith('K1 ')).map((i) => i.location)).toEqual(['Room Kota']);
      expect(checkAgreement(world, new Map()).details.mismatches).toEqual([]);
    } finally {
      await world.close();
    }
  });

  it('a series changed on both sides in different occurrences keeps both changes (not the later side whole)', { timeout: 120_000 }, async () => {
    const [aino, mikko] = firmOf(2);
    const world = await startSyncWorld({ people: [aino, mikko] });
    try {
      // Mikko's weekly series in Severa, four occurrences, Aino taking part.
      const first = localMs(world.today, 3, 10);
      const week = 7 * 86_400_000;
      const series = world.severa.createActivity({
        name: 'K1 weekly sync',
        startDateTime: new Date(first).toISOString(),
        endDateTime: new Date(first + 3_600_000).toISOString(),
        activityType: { guid: TYPES.meeting },
        ownerUser: { guid: mikko.severaGuid },
        recurrence: { frequency: 'Weekly', pattern: { weekly: { interval: 1, [weekdayOf(first).toLowerCase()]: true } }, range: { maxOccurrences: 4 } },
      });
      world.severa.addParticipant(String(series.guid), aino.severaGuid);
      expect((await settle(world, 3)).quiet).toBe(true);
      // Between two cycles: Mikko deletes the third occurrence in Severa, Aino moves the second one in Outlook.
      world.severa.store.listActivities({ recurrenceType: 'Occurrence' }, null, 1000);
      world.severa.deleteActivity(occurrenceGuid(String(series.guid), first + 2 * week));
      const mailbox = world.ews.mailbox(aino.mailbox);
      const copy = mailbox.items().find((i) => i.subject.startsWith('K1 '))!;
      expect(copy.recurrence).not.toBeNull();
      const second = first + week;
      mailbox.update(copy.id, { modifiedOccurrences: [{ originalStart: ewsDateTime(second), start: ewsDateTime(second + 3_600_000), end: ewsDateTime(second + 7_200_000), lastModifiedTime: ewsDateTime(Date.now()) }] });
      const after = await settle(world, 4);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      // Both changes stand everywhere: three occurrences, the second an hour later.
      expect(checkAgreement(world, new Map()).details.mismatches).toEqual([]);
    } finally {
      await world.close();
    }
  });

  it("a meeting in two enrolled calendars stays one activity when the first user's sync fails right after creating it", { timeout: 120_000 }, async () => {
    // Five users, so the rolling reconciliation leaves one of them in plain incremental mode each cycle: that user only
    // sees what changed in Severa before the cycle began.
    const world = await startSyncWorld({ people: firmOf(5) });
    try {
      expect((await settle(world, 4)).quiet).toBe(true);
      const aino = world.people[0];
      const byEmail = [...world.people].sort((a, b) => a.severaEmail.localeCompare(b.severaEmail));
      const nextIncremental = () => {
        const store = SyncStore.open(join(world.dataDir, SYNC_STORE_FILE));
        try {
          return byEmail[((store.getOrgValue<number>('reconcile-next') ?? 0) + 4) % 5];
        } finally {
          store.close();
        }
      };
      while (nextIncremental() === aino) await world.runCycle();
      const organizer = nextIncremental();
      // The organizer invites Aino, who is synced first: her copy becomes the activity (owner: the organizer), then
      // Severa fails her sync on the very next write (adding her as participant). The others go on in the same cycle.
      const start = localMs(world.today, 6, 11);
      world.ews.mailbox(organizer.mailbox).create({
        subject: 'K1 steering group',
        start: new Date(start).toISOString(),
        end: new Date(start + 3_600_000).toISOString(),
        timeZone: TIME_ZONE,
        requiredAttendees: [aino.mailbox],
      });
      let failed = false;
      world.chaos.onRequest = (r) => {
        if (!failed && r.side === 'severa' && r.operation === 'POST /v1/activityparticipants') {
          failed = true;
          return { status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { httpStatusCode: 500, type: 'InternalSystemError', details: [{ message: 'Internal error.' }], stack: null } }) };
        }
        return 'forward';
      };
      const first = await world.runCycle();
      world.chaos.onRequest = undefined;
      expect(failed).toBe(true);
      expect(first.report!.users.find((u) => u.email === aino.severaEmail)!.outcome).toBe('failed');
      const after = await settle(world, 4);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(world.severa.activities().filter((a) => String(a.name).startsWith('K1 ')).length).toBe(1);
      expect(world.ews.mailbox(aino.mailbox).items().filter((i) => i.subject.startsWith('K1 ')).length).toBe(1);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
    } finally {
      await world.close();
    }
  });
  it('a participant removed in Severa after changing their own copy in Outlook: no second activity, no second copy', { timeout: 120_000 }, async () => {
    const [aino, mikko] = firmOf(2);
    const world = await startSyncWorld({ people: [aino, mikko] });
    try {
      const start = localMs(world.today, 4, 9);
      const activity = world.severa.createActivity({ name: 'K1 customer workshop', startDateTime: new Date(start).toISOString(), endDateTime: new Date(start + 7_200_000).toISOString(), activityType: { guid: TYPES.customerVisit }, ownerUser: { guid: aino.severaGuid } });
      world.severa.addParticipant(String(activity.guid), mikko.severaGuid);
      expect((await settle(world, 3)).quiet).toBe(true);
      // Mikko adds a note to his copy in Outlook; meanwhile Aino takes him off the activity in Severa.
      const mailbox = world.ews.mailbox(mikko.mailbox);
      const copy = mailbox.items().find((i) => i.subject.startsWith('K1 '))!;
      mailbox.update(copy.id, { body: 'Bring the demo laptop.', bodyType: 'Text' });
      const record = world.severa.store.participantsOf(String(activity.guid)).participants.find((p) => p.userGuid === mikko.severaGuid)!;
      world.severa.store.removeParticipant(String(activity.guid), record.guid, null);
      const after = await settle(world, 4);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(world.severa.activities().filter((a) => String(a.name).startsWith('K1 ')).length).toBe(1);
      expect(mailbox.items().filter((i) => i.subject.startsWith('K1 ')).length).toBeLessThanOrEqual(1);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
    } finally {
      await world.close();
    }
  });
  it('one failed re-create of a copy deleted in Outlook does not leave the entry stuck on an error for good', { timeout: 120_000 }, async () => {
    const world = await startSyncWorld({ people: firmOf(1) });
    try {
      const [aino] = world.people;
      const guids: string[] = [];
      for (let i = 1; i <= 3; i++) {
        const start = localMs(world.today, 3 + i, 10);
        const a = world.severa.createActivity({ name: `K${i} kickoff`, startDateTime: new Date(start).toISOString(), endDateTime: new Date(start + 3_600_000).toISOString(), activityType: { guid: TYPES.meeting }, ownerUser: { guid: aino.severaGuid } });
        guids.push(String(a.guid));
      }
      expect((await settle(world, 3)).quiet).toBe(true);
      // Aino deletes K1's copy in Outlook and changes K1 in Severa: the change wins, the copy is to be created again. That
      // one create fails with an item-level error (the server refuses it once).
      const mailbox = world.ews.mailbox(aino.mailbox);
      for (const item of mailbox.items().filter((i) => i.subject.startsWith('K1 '))) mailbox.delete(item.id);
      world.severa.updateActivity(guids[0], { location: 'Teams' });
      let refused = false;
      world.chaos.onRequest = (r) => {
        if (!refused && r.operation === 'CreateItem') {
          refused = true;
          return { status: 200, headers: { 'content-type': 'text/xml; charset=utf-8' }, body: ewsItemError('CreateItem', 'ErrorInvalidPropertySet') };
        }
        return 'forward';
      };
      const after = await settle(world, 5);
      expect(refused).toBe(true);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(mailbox.items().filter((i) => i.subject.startsWith('K1 ')).map((i) => i.location)).toEqual(['Teams']);
    } finally {
      await world.close();
    }
  });
  it('a meeting changed in Outlook after its activity was deleted in Severa comes back as one activity, not one per enrolled copy', { timeout: 120_000 }, async () => {
    const [aino, mikko] = firmOf(2);
    const world = await startSyncWorld({ people: [aino, mikko] });
    try {
      const start = localMs(world.today, 5, 13);
      const item = world.ews.mailbox(aino.mailbox).create({ subject: 'K1 sync r1', start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), timeZone: TIME_ZONE, location: 'Room Koli', requiredAttendees: [mikko.mailbox] });
      expect((await settle(world, 3)).quiet).toBe(true);
      // Aino moves it in Outlook (the update reaches Mikko's copy too) and deletes the activity in Severa: the change
      // beats the deletion, in both enrolled calendars at once.
      world.ews.mailbox(aino.mailbox).update(item.id, { location: 'Helsinki office' });
      world.severa.deleteActivity(String(world.severa.activities().find((a) => String(a.name).startsWith('K1 '))!.guid));
      const after = await settle(world, 5);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(world.severa.activities().filter((a) => String(a.name).startsWith('K1 ')).map((a) => a.location)).toEqual(['Helsinki office']);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
    } finally {
      await world.close();
    }
  });

  it("an activity re-created after a deletion in Severa, Severa's answer lost on the way, is found again and not created twice", { timeout: 120_000 }, async () => {
    const [, mikko] = firmOf(2);
    const world = await startSyncWorld({ people: [mikko] });
    try {
      const start = localMs(world.today, 5, 10);
      const activity = world.severa.createActivity({ name: 'K1 retro r1', startDateTime: new Date(start).toISOString(), endDateTime: new Date(start + 3_600_000).toISOString(), activityType: { guid: TYPES.meeting }, ownerUser: { guid: mikko.severaGuid } });
      expect((await settle(world, 3)).quiet).toBe(true);
      const mailbox = world.ews.mailbox(mikko.mailbox);
      mailbox.update(mailbox.items().find((i) => i.subject.startsWith('K1 '))!.id, { subject: 'K1 demo r2' });
      world.severa.deleteActivity(String(activity.guid));
      let dropped = false;
      world.chaos.onResponse = (r, status) => {
        if (!dropped && r.side === 'severa' && r.operation === 'POST /v1/activities' && status < 300) {
          dropped = true;
          return 'drop';
        }
        return 'deliver';
      };
      const after = await settle(world, 5);
      expect(dropped).toBe(true);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(world.severa.activities().filter((a) => String(a.name).startsWith('K1 ')).map((a) => a.name)).toEqual(['K1 demo r2']);
      expect(mailbox.items().filter((i) => i.subject.startsWith('K1 ')).length).toBe(1);
    } finally {
      await world.close();
    }
  });

  it("an entry whose activity a killed run created, then shared in Severa with a colleague synced first, stays one pair for its owner (K11 of the real-time soak)", { timeout: 120_000 }, async () => {
    const people = firmOf(3);
    const [aino, , sara] = people;
    const world = await startSyncWorld({ people: [aino, sara] });
    try {
      expect((await settle(world, 3)).quiet).toBe(true);
      // Sara's private entry in Outlook. The run that copies it to Severa dies once the activity is created there.
      const start = localMs(world.today, 4, 13);
      const entry = world.outlook.create(sara.mailbox, { subject: 'K11 dentist r1', start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), timeZone: TIME_ZONE, isPrivate: true });
      const killed = await world.runCycle({ kill: { count: 'write', n: 1, mode: 'after-server' } });
      expect(killed.killedAt?.operation).toBe('POST /v1/activities');
      // Aino is added to the activity in Severa, and her sync (a live cycle of hers) runs before Sara's next one: she
      // gets her copy, and her pair holds the activity.
      const activity = world.severa.activities().find((a) => String(a.name).startsWith('K11 '))!;
      world.severa.addParticipant(String(activity.guid), aino.severaGuid);
      // Meanwhile Sara renames her entry in Outlook: the two sides no longer hold the same entry.
      world.outlook.update(sara.mailbox, entry.id, { subject: 'K11 dentist r2' });
      const ainos = await world.runCycle({ args: ['sync', '--once', '--json', '--config', world.configPath, '--data-dir', world.dataDir, '--user', aino.severaEmail] });
      expect(problemsOf(ainos)).toEqual([]);
      expect(world.outlook.items(aino.mailbox).filter((i) => i.subject.startsWith('K11 '))).toHaveLength(1);
      // Before the fix: Sara's next run did not take the activity back as the one it had created (a pair held it, if
      // not hers): "new in Exchange" and "new in Severa", a second activity and a second entry in her calendar.
      const after = await settle(world, 4);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(world.severa.activities().filter((a) => String(a.name).startsWith('K11 ')).map((a) => a.name)).toEqual(['K11 dentist r2']);
      expect(world.outlook.items(sara.mailbox).filter((i) => i.subject.startsWith('K11 '))).toHaveLength(1);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
    } finally {
      await world.close();
    }
  });

  it("a meeting whose organizer's run died after creating its activity: an attendee synced first links to that activity", { timeout: 120_000 }, async () => {
    const people = firmOf(5);
    const [aino, mikko, sara] = people;
    const world = await startSyncWorld({ people });
    try {
      expect((await settle(world, 4)).quiet).toBe(true);
      // Mikko sends the invitation while the cycle runs, after Aino's sync read her calendar: his sync creates the
      // activity and the process dies as it adds the participants. Next cycle Aino is synced before Mikko again.
      const start = localMs(world.today, 6, 10);
      let sent = false;
      world.chaos.onRequest = (r) => {
        if (!sent && r.side === 'exchange' && r.body.includes(mikko.mailbox)) {
          sent = true;
          world.ews.mailbox(mikko.mailbox).create({ subject: 'K1 sync r1', start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), timeZone: TIME_ZONE, requiredAttendees: [sara.mailbox, aino.mailbox] });
        }
        return 'forward';
      };
      const killed = await world.runCycle({ kill: { count: 'write', n: 2, mode: 'before-server' } });
      world.chaos.onRequest = undefined;
      expect(killed.killedAt?.operation).toBe('POST /v1/activityparticipants');
      const after = await settle(world, 5);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(world.severa.activities().filter((a) => String(a.name).startsWith('K1 ')).length).toBe(1);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
    } finally {
      await world.close();
    }
  });
  it("an attendee who removed a meeting from their calendar and gets it again with the organizer's change takes part again, never in a second activity", { timeout: 120_000 }, async () => {
    const people = firmOf(5);
    const [, , sara, , leena] = people;
    const world = await startSyncWorld({ people });
    try {
      const start = localMs(world.today, 6, 15);
      const item = world.ews.mailbox(leena.mailbox).create({ subject: 'K1 demo r1', start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), timeZone: TIME_ZONE, requiredAttendees: [sara.mailbox] });
      expect((await settle(world, 4)).quiet).toBe(true);
      // Sara removes it from her calendar; Leena renames it, and Exchange delivers it to Sara again (a new item).
      const saraBox = world.ews.mailbox(sara.mailbox);
      for (const i of saraBox.items().filter((i) => i.subject.startsWith('K1 '))) saraBox.delete(i.id);
      world.ews.mailbox(leena.mailbox).update(item.id, { subject: 'K1 budget r2' });
      const after = await settle(world, 6);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(world.severa.activities().filter((a) => String(a.name).startsWith('K1 ')).map((a) => a.name)).toEqual(['K1 budget r2']);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
    } finally {
      await world.close();
    }
  });

  it('a participant removed from a Severa series leaves its copy even when an occurrence changed earlier still names them', { timeout: 120_000 }, async () => {
    const people = firmOf(5);
    const [, mikko, sara, jussi] = people;
    const world = await startSyncWorld({ people });
    try {
      const first = localMs(world.today, 2, 14);
      const week = 7 * 86_400_000;
      const series = world.severa.createActivity({
        name: 'K1 interview r1', startDateTime: new Date(first).toISOString(), endDateTime: new Date(first + 3_600_000).toISOString(),
        activityType: { guid: TYPES.customerVisit }, ownerUser: { guid: mikko.severaGuid },
        recurrence: { frequency: 'Weekly', pattern: { weekly: { interval: 1, [weekdayOf(first).toLowerCase()]: true } }, range: { maxOccurrences: 4 } },
      });
      world.severa.addParticipant(String(series.guid), sara.severaGuid);
      world.severa.addParticipant(String(series.guid), jussi.severaGuid);
      expect((await settle(world, 4)).quiet).toBe(true);
      // Mikko moves the third occurrence (Severa makes it an exception with the series' participants), later he takes
      // Jussi off the series. The sync that lists Jussi's activities in full still meets the series through that exception.
      world.severa.store.listActivities({ recurrenceType: 'Occurrence' }, null, 1000);
      world.severa.updateActivity(occurrenceGuid(String(series.guid), first + 2 * week), { name: 'K1 budget (moved)', startDateTime: new Date(first + 2 * week + 3_600_000).toISOString(), endDateTime: new Date(first + 2 * week + 7_200_000).toISOString() });
      expect((await settle(world, 4)).quiet).toBe(true);
      const record = world.severa.store.participantsOf(String(series.guid)).participants.find((p) => p.userGuid === jussi.severaGuid)!;
      world.severa.store.removeParticipant(String(series.guid), record.guid, null);
      const after = await settle(world, 6);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(world.ews.mailbox(jussi.mailbox).items().filter((i) => i.subject.startsWith('K1'))).toEqual([]);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
    } finally {
      await world.close();
    }
  });
});

/** An EWS answer in which the server refused the one item of a request, as Exchange words it (HTTP 200). */
function ewsItemError(operation: string, responseCode: string): string {
  const m = 'http://schemas.microsoft.com/exchange/services/2006/messages';
  const t = 'http://schemas.microsoft.com/exchange/services/2006/types';
  return (
    '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>' +
    `<h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6" Version="V2017_07_11" xmlns:h="${t}"/></s:Header>` +
    `<s:Body><m:${operation}Response xmlns:m="${m}" xmlns:t="${t}"><m:ResponseMessages><m:${operation}ResponseMessage ResponseClass="Error">` +
    `<m:MessageText>The request failed on the server.</m:MessageText><m:ResponseCode>${responseCode}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:Items/>` +
    `</m:${operation}ResponseMessage></m:ResponseMessages></m:${operation}Response></s:Body></s:Envelope>`
  );
}
