import { afterEach, describe, expect, it } from 'vitest';
import { emptyCalendarsSeed, startE2e, type E2eWorld } from './e2e-harness.ts';
import { EXCHANGES } from './outlook-back-door.ts';

/**
 * Meetings with attendees made in Outlook, on both Exchanges: on-premises the sync may change an organizer's meeting
 * without mailing anyone (SendToNone); Exchange Online has no such thing, so the sync leaves the meeting as Outlook has
 * it. Stories the Graph chaos soak found, cut down (docs/safety.md, "Exchange Online").
 */

const MIKKO = 'mikko.lahtinen@contoso.example';
const JUSSI = 'jussi.korhonen@contoso.example';
const LEENA = 'leena.makela@contoso.example';
const HOUR = 3_600_000;

let world: E2eWorld | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

const enrol = (w: E2eWorld, emails: string[]) => emails.map((email) => ({ email, syncStartDate: w.options.users[0].syncStartDate }));

describe.each(EXCHANGES)('e2e on %s: meetings made in Outlook', (exchange) => {
  it("an organizer who enables sync after the meeting's activity changed in Severa keeps one copy of it", async () => {
    // Jussi invites Leena and Mikko in Outlook; only Mikko syncs yet, so his copy makes the activity (owned by Jussi).
    const w = (world = await startE2e({ exchange, ewsSeed: emptyCalendarsSeed(), users: [MIKKO] }));
    const start = Math.ceil((Date.now() + 5 * 24 * HOUR) / HOUR) * HOUR;
    w.outlook.create(JUSSI, { subject: 'Planning', start: new Date(start).toISOString(), end: new Date(start + HOUR / 2).toISOString(), attendees: [LEENA, MIKKO] });
    await w.cycle();
    const [activity] = (w.severaSim.activities() as Array<{ guid: string; name: string }>).filter((a) => a.name === 'Planning');
    // The activity moves an hour in Severa (later than Jussi made the meeting: the servers keep whole seconds, so a move
    // in the same second would be a tie for "the later change wins"); then Jussi enables his sync: his meeting is the
    // activity's, by its UID.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    w.severaSim.updateActivity(activity.guid, { startDateTime: new Date(start + HOUR).toISOString(), endDateTime: new Date(start + 1.5 * HOUR).toISOString() });
    const first = await w.cycle({ users: enrol(w, [MIKKO, JUSSI]) });
    expect(first.users.flatMap((u) => u.errors)).toEqual([]);
    const jussi = () => w.outlook.items(JUSSI).filter((i) => i.subject === 'Planning');
    if (exchange === 'ews') expect(jussi().map((i) => Date.parse(i.start))).toEqual([start + HOUR]);
    else {
      // Exchange Online: the meeting stays as Outlook has it (moving it would mail Leena and Mikko), said once.
      expect(jussi().map((i) => Date.parse(i.start))).toEqual([start]);
      expect(first.users.find((u) => u.email === JUSSI)!.notes.join(' ')).toMatch(/"Planning" was changed in Severa only/);
    }
    // Later cycles change nothing: in particular no second copy of the activity beside Jussi's meeting.
    for (let n = 0; n < 3; n++) {
      const again = await w.cycle({ users: enrol(w, [MIKKO, JUSSI]) });
      expect(again.users.flatMap((u) => u.changes)).toEqual([]);
    }
    expect(jussi()).toHaveLength(1);
    expect(jussi()[0].attendees).toEqual([LEENA, MIKKO]);
    expect(w.outlook.mailsSentBySync()).toBe(exchange === 'graph' ? 0 : null);
  });
});
