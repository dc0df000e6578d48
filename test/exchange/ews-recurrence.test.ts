import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEwsSimulator, type EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { EwsCalendarConnector } from '../../src-main/exchange/ews/ews-calendar-connector.ts';
import type { EventFields } from '../../src-main/sync/calendar-event.ts';
import { ewsTestSeed } from './fixtures/ews-test-seed.ts';

const AINO = 'aino.virtanen@contoso.example';
const MIKKO = 'mikko.lahtinen@contoso.example';

let sim: EwsSimulator;
let c: EwsCalendarConnector;

beforeAll(async () => {
  sim = await startEwsSimulator({ seed: ewsTestSeed() });
  c = new EwsCalendarConnector({
    ewsUrl: sim.url,
    serverType: 'Exchange2016',
    domain: 'CONTOSO',
    username: 'svc-severa-sync',
    password: 'demo-delegate-password',
    authMethod: 'ntlm',
    defaultTimeZone: 'Europe/Helsinki',
  });
});

afterAll(async () => {
  await sim?.close();
});

function series(overrides: Partial<EventFields>): EventFields {
  return {
    subject: 'Weekly sync',
    start: '2026-03-16T07:00:00.000Z',
    end: '2026-03-16T07:30:00.000Z',
    isAllDay: false,
    timeZone: 'Europe/Helsinki',
    location: 'Room Inari',
    body: '',
    isPrivate: false,
    recurrence: { frequency: 'Weekly', interval: 1, daysOfWeek: ['Monday'], startDate: '2026-03-16', count: 5 },
    exceptions: [],
    attendees: [],
    organizer: AINO,
    ...overrides,
  };
}

const occurrence = (start: string, end: string, subject: string) => ({
  subject,
  start,
  end,
  isAllDay: false,
  timeZone: 'Europe/Helsinki',
  location: 'Room Inari',
  body: '',
  isPrivate: false,
  exceptions: [],
  attendees: [],
  organizer: AINO,
});

describe('recurring series', () => {
  it('creates a series with a modified and a deleted occurrence and reads it back the same', async () => {
    // Monday 09:00 Helsinki: 07:00Z in winter time, 06:00Z after the change on 29 March.
    const input = series({
      exceptions: [
        { originalStart: '2026-03-23T07:00:00.000Z', fields: occurrence('2026-03-23T09:00:00.000Z', '2026-03-23T10:00:00.000Z', 'Weekly sync (long)') },
        { originalStart: '2026-03-30T06:00:00.000Z', fields: null },
      ],
    });
    const written = await c.createEvent(AINO, input, 'b0000000-0000-4000-8000-000000000001');
    const [read] = await c.getEvents(AINO, [written.id]);
    expect(read.fields).toEqual(input);
    expect(read.version).toBe(written.version);
    const stored = sim.mailbox(AINO).items().find((i) => i.id === written.id)!;
    expect(stored.deletedOccurrences).toEqual(['2026-03-30T06:00:00Z']);
    expect(stored.modifiedOccurrences.map((o) => [o.originalStart, o.start])).toEqual([['2026-03-23T07:00:00Z', '2026-03-23T09:00:00Z']]);
  });

  it('reads an exception made in Outlook, then writes changed exceptions back: move one, restore one, delete another', async () => {
    const written = await c.createEvent(MIKKO, series({ organizer: MIKKO }), 'b0000000-0000-4000-8000-000000000002');
    // The user cancels the 6 April occurrence in Outlook.
    const door = sim.mailbox(MIKKO);
    door.update(written.id, { deletedOccurrences: ['2026-04-06T06:00:00Z'] });
    const [afterOutlook] = await c.getEvents(MIKKO, [written.id]);
    expect(afterOutlook.fields.exceptions).toEqual([{ originalStart: '2026-04-06T06:00:00.000Z', fields: null }]);

    // The sync now wants: 23 March moved to 11:00 local, 6 April back, 13 April deleted.
    const wanted = series({
      organizer: MIKKO,
      exceptions: [
        { originalStart: '2026-03-23T07:00:00.000Z', fields: { ...occurrence('2026-03-23T09:00:00.000Z', '2026-03-23T09:30:00.000Z', 'Weekly sync'), organizer: MIKKO } },
        { originalStart: '2026-04-13T06:00:00.000Z', fields: null },
      ],
    });
    const updated = await c.updateEvent(MIKKO, written.id, afterOutlook.version, wanted);
    const [read] = await c.getEvents(MIKKO, [written.id]);
    expect(read.version).toBe(updated.version);
    expect(read.fields.exceptions).toEqual(wanted.exceptions);

    // And an exception that is no longer wanted goes back to the series' own time.
    const plain = series({ organizer: MIKKO, exceptions: [{ originalStart: '2026-04-13T06:00:00.000Z', fields: null }] });
    await c.updateEvent(MIKKO, written.id, read.version, plain);
    const [reverted] = await c.getEvents(MIKKO, [written.id]);
    expect(reverted.fields.exceptions).toEqual(plain.exceptions);
  });

  it('keeps wall-clock time across DST in two zones (Helsinki 29 March, New York 8 March)', async () => {
    // 08:30 New York: EST (-5) is 13:30Z until 8 March, EDT (-4) is 12:30Z after.
    const ny = series({
      subject: 'NY stand-up',
      timeZone: 'America/New_York',
      start: '2026-03-05T13:30:00.000Z',
      end: '2026-03-05T13:45:00.000Z',
      recurrence: { frequency: 'Weekly', interval: 1, daysOfWeek: ['Thursday'], startDate: '2026-03-05', count: 3 },
      exceptions: [
        {
          originalStart: '2026-03-12T12:30:00.000Z',
          fields: { ...occurrence('2026-03-12T14:00:00.000Z', '2026-03-12T14:15:00.000Z', 'NY stand-up (late)'), timeZone: 'America/New_York' },
        },
      ],
    });
    const written = await c.createEvent(AINO, ny, 'b0000000-0000-4000-8000-000000000003');
    const [read] = await c.getEvents(AINO, [written.id]);
    expect(read.fields).toEqual(ny);
    const stored = sim.mailbox(AINO).items().find((i) => i.id === written.id)!;
    expect(stored.timeZone).toBe('America/New_York');
    // The exception was found at index 2, i.e. the server agrees the second occurrence is at 12:30Z (after the change).
    expect(stored.modifiedOccurrences.map((o) => o.originalStart)).toEqual(['2026-03-12T12:30:00Z']);

    const helsinki = series({
      subject: 'Daily check',
      start: '2026-03-28T07:00:00.000Z',
      end: '2026-03-28T07:15:00.000Z',
      recurrence: { frequency: 'Daily', interval: 1, startDate: '2026-03-28', until: '2026-03-31' },
      exceptions: [{ originalStart: '2026-03-30T06:00:00.000Z', fields: null }],
    });
    const h = await c.createEvent(AINO, helsinki, 'b0000000-0000-4000-8000-000000000004');
    const [hRead] = await c.getEvents(AINO, [h.id]);
    expect(hRead.fields).toEqual(helsinki);
    expect(sim.mailbox(AINO).items().find((i) => i.id === h.id)!.deletedOccurrences).toEqual(['2026-03-30T06:00:00Z']);
  });

  it('the last weekday of the month (a day group) made in Outlook reads as that rule; groups round-trip both ways', async () => {
    const made = sim.mailbox(AINO).create({
      subject: 'Month-end close',
      start: '2026-04-30T12:00:00Z',
      end: '2026-04-30T13:00:00Z',
      timeZone: 'Europe/Helsinki',
      recurrence: { pattern: { type: 'RelativeMonthly', interval: 1, daysOfWeek: 'Weekday', dayOfWeekIndex: 'Last' }, range: { type: 'Numbered', startDate: '2026-04-30', count: 3 } },
    });
    const [read] = await c.getEvents(AINO, [made.id]);
    expect(read.fields).toMatchObject({ subject: 'Month-end close', start: '2026-04-30T12:00:00.000Z', exceptions: [] });
    expect(read.fields.recurrence).toEqual({ frequency: 'Monthly', interval: 1, weekOrdinal: 'Last', dayOfWeek: 'Weekday', startDate: '2026-04-30', count: 3 });

    // Written by the connector: the first weekend day of every second month, and the second day of each May; the server
    // stores the group names and an occurrence addressed by index lands where the neutral expansion says.
    const weekend = series({
      subject: 'Weekend on-call',
      start: '2026-03-01T08:00:00.000Z',
      end: '2026-03-01T09:00:00.000Z',
      recurrence: { frequency: 'Monthly', interval: 2, weekOrdinal: 'First', dayOfWeek: 'WeekendDay', startDate: '2026-03-01', count: 4 },
      // The third occurrence: the first weekend day of July 2026 is Saturday 4 July (10:00 local is 07:00Z in summer).
      exceptions: [{ originalStart: '2026-07-04T07:00:00.000Z', fields: null }],
    });
    const w = await c.createEvent(AINO, weekend, 'b0000000-0000-4000-8000-000000000011');
    const stored = sim.mailbox(AINO).items().find((i) => i.id === w.id)!;
    expect(stored.recurrence?.pattern).toEqual({ type: 'RelativeMonthly', interval: 2, daysOfWeek: 'WeekendDay', dayOfWeekIndex: 'First' });
    expect(stored.deletedOccurrences).toEqual(['2026-07-04T07:00:00Z']);
    expect((await c.getEvents(AINO, [w.id]))[0].fields).toEqual(weekend);

    const second = series({
      subject: 'Second of May',
      isAllDay: true,
      start: '2026-05-02',
      end: '2026-05-03',
      location: '',
      recurrence: { frequency: 'Yearly', interval: 1, month: 5, weekOrdinal: 'Second', dayOfWeek: 'Day', startDate: '2026-05-02', until: '2028-12-31' },
    });
    const y = await c.createEvent(AINO, second, 'b0000000-0000-4000-8000-000000000012');
    expect(sim.mailbox(AINO).items().find((i) => i.id === y.id)!.recurrence?.pattern).toEqual({ type: 'RelativeYearly', daysOfWeek: 'Day', dayOfWeekIndex: 'Second', month: 'May' });
    expect((await c.getEvents(AINO, [y.id]))[0].fields).toEqual(second);
  });

  it('"every 2 weeks" names its week start: written as FirstDayOfWeek, read back, and exceptions land on the right dates', async () => {
    // Sunday and Wednesday every second week from Wednesday 4 March, weeks starting on Monday: 4, 8, 18, 22 March...
    // (weeks starting on Sunday would give 4, 15, 18, 29).
    const biweekly = series({
      subject: 'Fortnightly',
      organizer: MIKKO,
      start: '2026-03-04T10:00:00.000Z',
      end: '2026-03-04T11:00:00.000Z',
      recurrence: { frequency: 'Weekly', interval: 2, daysOfWeek: ['Sunday', 'Wednesday'], startDate: '2026-03-04', count: 6, firstDayOfWeek: 'Monday' },
      exceptions: [{ originalStart: '2026-03-22T10:00:00.000Z', fields: null }],
    });
    const made = await c.createEvent(MIKKO, biweekly, 'b0000000-0000-4000-8000-000000000013');
    const stored = sim.mailbox(MIKKO).items().find((i) => i.id === made.id)!;
    expect(stored.recurrence?.pattern).toMatchObject({ type: 'Weekly', interval: 2, firstDayOfWeek: 'Monday' });
    expect(stored.deletedOccurrences).toEqual(['2026-03-22T10:00:00Z']);
    expect((await c.getEvents(MIKKO, [made.id]))[0].fields).toEqual(biweekly);
    // A week start that does not move any date is no part of the rule (both sides then agree on it).
    const tuesdays = series({ organizer: MIKKO, subject: 'Tuesdays', start: '2026-03-03T10:00:00.000Z', end: '2026-03-03T11:00:00.000Z', recurrence: { frequency: 'Weekly', interval: 2, daysOfWeek: ['Tuesday'], startDate: '2026-03-03', count: 3, firstDayOfWeek: 'Monday' } });
    const t = await c.createEvent(MIKKO, tuesdays, 'b0000000-0000-4000-8000-000000000014');
    const { firstDayOfWeek: _dropped, ...canonical } = tuesdays.recurrence!;
    expect((await c.getEvents(MIKKO, [t.id]))[0].fields.recurrence).toEqual(canonical);
  });

  it('Exchange 2007 has no week start: the connector names the rule it cannot write, and refuses to write it', async () => {
    const old = new EwsCalendarConnector({
      ewsUrl: sim.url, serverType: 'Exchange2007_SP1', domain: 'CONTOSO', username: 'svc-severa-sync', password: 'demo-delegate-password', authMethod: 'ntlm', defaultTimeZone: 'Europe/Helsinki',
    });
    const mondayWeeks = { frequency: 'Weekly', interval: 2, daysOfWeek: ['Sunday', 'Wednesday'], startDate: '2026-03-04', count: 6, firstDayOfWeek: 'Monday' } as const;
    expect(old.recurrenceProblem({ ...mondayWeeks, daysOfWeek: [...mondayWeeks.daysOfWeek] })).toMatch(/Exchange 2007.*Sunday/);
    expect(c.recurrenceProblem({ ...mondayWeeks, daysOfWeek: [...mondayWeeks.daysOfWeek] })).toBeNull();
    expect(old.recurrenceProblem({ frequency: 'Weekly', interval: 2, daysOfWeek: ['Wednesday'], startDate: '2026-03-04' })).toBeNull();
    expect(c.recurrenceProblem({ frequency: 'Daily', interval: 1, startDate: '2026-03-04', count: 1500 })).toMatch(/1 to 999/);
    await expect(old.createEvent(AINO, series({ recurrence: { ...mondayWeeks, daysOfWeek: [...mondayWeeks.daysOfWeek] } }), 'b0000000-0000-4000-8000-000000000015')).rejects.toThrow(/Exchange 2007/);
    old.close();
  });

  it('all-day yearly and relative monthly series round-trip; an exception on a day the series misses is refused', async () => {
    const birthday = series({
      subject: 'Company birthday',
      isAllDay: true,
      start: '2026-10-01',
      end: '2026-10-02',
      location: '',
      recurrence: { frequency: 'Yearly', interval: 1, month: 10, dayOfMonth: 1, startDate: '2026-10-01' },
      exceptions: [{ originalStart: '2027-10-01', fields: null }],
    });
    const b = await c.createEvent(AINO, birthday, 'b0000000-0000-4000-8000-000000000005');
    expect((await c.getEvents(AINO, [b.id]))[0].fields).toEqual(birthday);

    const review = series({
      subject: 'Monthly review',
      start: '2026-04-24T10:00:00.000Z',
      end: '2026-04-24T11:00:00.000Z',
      recurrence: { frequency: 'Monthly', interval: 1, weekOrdinal: 'Last', dayOfWeek: 'Friday', startDate: '2026-04-24', until: '2026-12-31' },
    });
    const r = await c.createEvent(AINO, review, 'b0000000-0000-4000-8000-000000000006');
    expect((await c.getEvents(AINO, [r.id]))[0].fields).toEqual(review);

    const wrongDay = series({ exceptions: [{ originalStart: '2026-03-17T07:00:00.000Z', fields: null }] });
    await expect(c.createEvent(AINO, wrongDay, 'b0000000-0000-4000-8000-000000000007')).rejects.toThrow(/no occurrence on 2026-03-17/);
  });
});
