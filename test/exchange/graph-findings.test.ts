import { afterEach, describe, expect, it } from 'vitest';
import type { EventFields } from '../../src-main/sync/calendar-event.ts';
import { localDate, localToMs } from '../../src-main/sync/zoned-time.ts';
import { startGraphHarness, type GraphHarness } from './graph-harness.ts';

/**
 * What running the engine's end-to-end suites and the chaos soak on Exchange Online (the Graph simulator) found in the
 * Graph connector, each cut down to the connector alone (see docs/safety.md, "Exchange Online").
 */

const AINO = 'aino.virtanen@contoso.example';
const HEL = 'Europe/Helsinki';
const DAY = 86_400_000;

let h: GraphHarness;
afterEach(async () => {
  expect(h.sim.contractViolations()).toEqual([]);
  await h.close();
});

/** Aino's weekly Monday series of six, 07:00-07:30 UTC, from the Monday after next week's start. */
function weeklySeries(): { fields: EventFields; occurrence: (n: number) => string } {
  const monday = new Date(Date.now() + 7 * DAY);
  monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
  const date = (plus: number) => new Date(monday.getTime() + plus * DAY).toISOString().slice(0, 10);
  const fields: EventFields = {
    subject: 'Ops sync',
    start: `${date(0)}T07:00:00.000Z`,
    end: `${date(0)}T07:30:00.000Z`,
    isAllDay: false,
    timeZone: 'Europe/Helsinki',
    location: 'Room 1',
    body: 'Agenda',
    isPrivate: false,
    recurrence: { frequency: 'Weekly', interval: 1, daysOfWeek: ['Monday'], startDate: date(0), count: 6 },
    exceptions: [],
    attendees: [],
    organizer: null,
  };
  return { fields, occurrence: (n) => `${date(7 * n)}T07:00:00.000Z` };
}

describe('Graph connector findings', () => {
  it('an occurrence the sync changed keeps following its series in what the sync did not change: a rename in Outlook reaches it', async () => {
    h = await startGraphHarness();
    const { fields, occurrence } = weeklySeries();
    const written = await h.connector.createEvent(AINO, fields, 'severa-series-1');
    // Severa moves the third occurrence to another room; the sync writes that one change to the occurrence.
    const { exceptions: _x, recurrence: _r, ...base } = fields;
    const moved = { ...base, exceptions: [], start: occurrence(2), end: new Date(Date.parse(occurrence(2)) + 1_800_000).toISOString(), location: 'Room 9' };
    const [read] = await h.connector.getEvents(AINO, [written.id]);
    await h.connector.updateEvent(AINO, written.id, read.version, { ...fields, exceptions: [{ originalStart: occurrence(2), fields: moved }] });
    // Then the user renames the whole series in Outlook: every occurrence follows, the changed one keeps its room.
    h.sim.mailbox(AINO).update(written.id, { subject: 'Ops sync (renamed)' });
    const view = h.sim.mailbox(AINO).view(occurrence(0), occurrence(6)).filter((i) => i.master.id === written.id);
    expect(view.map((i) => [i.content.subject, i.content.location])).toEqual([
      ['Ops sync (renamed)', 'Room 1'],
      ['Ops sync (renamed)', 'Room 1'],
      ['Ops sync (renamed)', 'Room 9'],
      ['Ops sync (renamed)', 'Room 1'],
      ['Ops sync (renamed)', 'Room 1'],
      ['Ops sync (renamed)', 'Room 1'],
    ]);
    const [after] = await h.connector.getEvents(AINO, [written.id]);
    expect(after.fields.exceptions.map((x) => [x.originalStart, x.fields?.subject, x.fields?.location])).toEqual([[occurrence(2), 'Ops sync (renamed)', 'Room 9']]);
  });

  it('an all-day entry keeps its dates: Graph presents it in UTC (as asked), the dates are read in the entry\'s own zone', async () => {
    h = await startGraphHarness();
    const state = (await h.connector.syncChanges(AINO, null)).syncState;
    const date = (days: number) => localDate(Date.now() + days * DAY, HEL);
    const midnight = (days: number) => new Date(localToMs(HEL, date(days))).toISOString();
    // Made in Outlook in Helsinki, three days: local midnights, 22:00 or 21:00 UTC the day before.
    const made = h.sim.mailbox(AINO).create({ subject: 'Holiday', start: midnight(6), end: midnight(9), isAllDay: true, timeZone: HEL });
    const changes = await h.connector.syncChanges(AINO, state);
    expect(changes.changed.find((e) => e.id === made.id)?.fields).toMatchObject({ isAllDay: true, start: date(6), end: date(9) });
    // Written by the sync in Helsinki's zone, read back with the same dates.
    const fields: EventFields = { ...weeklySeries().fields, subject: 'Offsite', start: date(12), end: date(14), isAllDay: true, recurrence: null };
    const written = await h.connector.createEvent(AINO, fields, 'severa-offsite');
    const [read] = await h.connector.getEvents(AINO, [written.id]);
    expect(read.fields).toMatchObject({ isAllDay: true, start: date(12), end: date(14) });
  });

  it('a series moved within its days keeps its changed and deleted occurrences: named by their old starts, written to the same days again', async () => {
    h = await startGraphHarness();
    const { fields, occurrence } = weeklySeries();
    const { exceptions: _x, recurrence: _r, ...base } = fields;
    const hour = 3_600_000;
    const at = (n: number, shift = 0) => new Date(Date.parse(occurrence(n)) + shift).toISOString();
    const exceptions = [
      { originalStart: occurrence(2), fields: { ...base, exceptions: [], start: at(2), end: at(2, hour / 2), location: 'Room 9' } },
      { originalStart: occurrence(3), fields: null },
    ];
    const written = await h.connector.createEvent(AINO, { ...fields, exceptions }, 'severa-series-2');
    // Severa moves the series an hour later and still names its changed and deleted occurrences by their old starts.
    const [read] = await h.connector.getEvents(AINO, [written.id]);
    const moved = { ...fields, start: at(0, hour), end: at(0, 1.5 * hour), exceptions: [{ ...exceptions[0], fields: { ...exceptions[0].fields!, start: at(2, hour), end: at(2, 1.5 * hour) } }, exceptions[1]] };
    await h.connector.updateEvent(AINO, written.id, read.version, moved);
    // Exchange dropped the exceptions when the series' time changed; they are on the same days again.
    const view = h.sim.mailbox(AINO).view(occurrence(0), occurrence(6)).filter((i) => i.master.id === written.id);
    expect(view.map((i) => [new Date(i.content.startMs).toISOString(), i.content.location])).toEqual([
      [at(0, hour), 'Room 1'],
      [at(1, hour), 'Room 1'],
      [at(2, hour), 'Room 9'],
      [at(4, hour), 'Room 1'],
      [at(5, hour), 'Room 1'],
    ]);
  });
});
