import { afterEach, describe, expect, it } from 'vitest';
import { addDays, localDate, localToMs } from '../../src-main/sync/zoned-time.ts';
import { startE2e, type E2eWorld } from './e2e-harness.ts';
import { FakeCalendar, fields } from './fakes/fake-calendar.ts';
import type { RecurrenceRule } from '../../src-main/sync/calendar-event.ts';
import { recurrenceProblemForVersion } from '../../src-main/exchange/ews/recurrence-expansion.ts';
import { AINO, MIKKO, TYPE, TYPES } from './fakes/demo-world.ts';

/**
 * Over real HTTP against the Severa simulator through the real SeveraClient (the Exchange side is the in-memory fake, so
 * these tests pin down the Severa half: series with changed and deleted occurrences both ways, no echo).
 */

const HEL = 'Europe/Helsinki';
const WEEKDAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const today = () => localDate(Date.now(), HEL);
const day = (n: number) => addDays(today(), n);
const at = (n: number, hh: number, mm = 0) => new Date(localToMs(HEL, day(n), hh, mm)).toISOString();
const weekdayOf = (date: string) => new Date(`${date}T12:00:00Z`).getUTCDay();

function seed(extra: unknown[] = []) {
  const wd = WEEKDAY_NAMES[weekdayOf(day(1))];
  return {
    timeZone: HEL,
    apiClients: [{ clientId: 'demo-client-id', clientSecret: 'demo-client-secret' }],
    users: [
      { guid: AINO.guid, firstName: 'Aino', lastName: 'Virtanen', email: AINO.email },
      { guid: MIKKO.guid, firstName: 'Mikko', lastName: 'Lahtinen', email: MIKKO.email },
    ],
    activityTypes: TYPES.map((t) => ({ guid: t.guid, name: t.name, category: t.category, isActive: t.isActive, isDefault: t.isDefault })),
    activities: [
      {
        guid: '00000000-0000-4000-8000-0000000000c9',
        name: 'Weekly sync',
        activityTypeGuid: TYPE.meeting,
        ownerGuid: AINO.guid,
        start: 'today+1T09:00',
        end: 'today+1T10:00',
        recurrence: { frequency: 'Weekly', pattern: { weekly: { interval: 1, [wd]: true } }, range: { maxOccurrences: 6 } },
        exceptions: [
          { originalStart: 'today+8T09:00', name: 'Weekly sync (moved)', start: 'today+8T13:00', end: 'today+8T14:00' },
          { originalStart: 'today+15T09:00', deleted: true },
        ],
      },
      ...extra,
    ],
  };
}

let world: E2eWorld | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

/** `exchange2007`: the calendar counts weeks from Sunday only, as Exchange 2007 SP1 does (it has no FirstDayOfWeek). */
async function start(extra: unknown[] = [], opts: { exchange2007?: boolean } = {}) {
  const calendar = new FakeCalendar({
    mailboxes: [{ primary: AINO.email }, { primary: MIKKO.email }],
    now: () => new Date(),
    ...(opts.exchange2007 ? { recurrenceProblem: (rule: RecurrenceRule) => recurrenceProblemForVersion(rule, false) } : {}),
  });
  world = await startE2e({ severaSeed: seed(extra), calendar, users: [AINO.email, MIKKO.email] });
  world.options.activityTypesToExchange = [TYPE.meeting];
  return { w: world, calendar };
}

const severaWrites = (w: E2eWorld) =>
  Object.entries(w.severaSim.counters().byRoute).filter(([k]) => /^(POST|PATCH|DELETE) \/v1\/(activities|activityparticipants)/.test(k)).reduce((n, [, v]) => n + v, 0);

describe('e2e over HTTP with the Severa simulator: series', () => {
  it('a Severa series with a moved and a deleted occurrence arrives in Exchange as one series with both exceptions', async () => {
    const { w, calendar } = await start();
    const r = await w.cycle();
    expect(r.outcome).toBe('ok');
    const [series] = calendar.bySubject(AINO.email, 'Weekly sync');
    expect(calendar.items(AINO.email)).toHaveLength(1);
    const wd = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][weekdayOf(day(1))];
    expect(series.fields.recurrence).toEqual({ frequency: 'Weekly', interval: 1, daysOfWeek: [wd], startDate: day(1), count: 6 });
    expect(series.fields.exceptions.map((x) => [x.originalStart, x.fields?.subject ?? null, x.fields?.start ?? null])).toEqual([
      [at(8, 9), 'Weekly sync (moved)', at(8, 13)],
      [at(15, 9), null, null],
    ]);
    calendar.resetCalls();
    w.severaSim.resetCounters();
    const r2 = await w.cycle();
    expect(r2.users.flatMap((u) => u.changes)).toEqual([]);
    expect(calendar.writeCalls() + severaWrites(w)).toBe(0);
  });

  it('an Exchange series with a deleted and a moved occurrence becomes a Severa series with the same exceptions', async () => {
    const { w, calendar } = await start();
    const dayName = (['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const)[weekdayOf(day(2))];
    const moved = { ...fields({ subject: 'Design review (moved)', start: at(16, 15), end: at(16, 16) }) };
    const { recurrence: _r, ...movedFields } = moved;
    calendar.userCreate(MIKKO.email, fields({
      subject: 'Design review', start: at(2, 10), end: at(2, 11),
      recurrence: { frequency: 'Weekly', interval: 1, daysOfWeek: [dayName], startDate: day(2), count: 5 },
      exceptions: [{ originalStart: at(9, 10), fields: null }, { originalStart: at(16, 10), fields: movedFields }],
    }));
    const r = await w.cycle();
    expect(r.users.find((u) => u.email === MIKKO.email)).toMatchObject({ outcome: 'ok', toSevera: { created: 1 } });
    const stored = w.severaSim.activities() as Array<{ name: string; recurrenceType: string; startDateTime: string; recurrence: { exceptions: string[] } | null; recurrenceParentActivityGuid: string | null; ownerUser: { guid: string } }>;
    const master = stored.find((a) => a.recurrenceType === 'Series' && a.name === 'Design review')!;
    expect(master.ownerUser.guid).toBe(MIKKO.guid);
    expect(master.recurrence!.exceptions.map((d) => Date.parse(d)).sort()).toEqual([Date.parse(at(9, 10)), Date.parse(at(16, 10))]);
    const exception = stored.find((a) => a.recurrenceType === 'Exception' && a.name === 'Design review (moved)')!;
    expect(Date.parse(exception.startDateTime)).toBe(Date.parse(at(16, 15)));
    // Quiet afterwards: the Severa series read back equals what Exchange has.
    calendar.resetCalls();
    w.severaSim.resetCounters();
    const r2 = await w.cycle();
    expect(r2.users.flatMap((u) => u.changes)).toEqual([]);
    expect(calendar.writeCalls() + severaWrites(w)).toBe(0);

    // A later change of one more occurrence in Exchange reaches Severa; a rename in Severa keeps Exchange's exceptions.
    const [item] = calendar.bySubject(MIKKO.email, 'Design review');
    calendar.userUpdate(MIKKO.email, item.id, { exceptions: [...item.fields.exceptions, { originalStart: at(23, 10), fields: { ...movedFields, subject: 'Design review (remote)', start: at(23, 10), end: at(23, 11), location: 'Teams' } }] });
    await w.cycle();
    const afterStored = w.severaSim.activities() as typeof stored & Array<{ location: string | null }>;
    expect(afterStored.find((a) => a.recurrenceType === 'Exception' && a.name === 'Design review (remote)')).toMatchObject({ location: 'Teams' });
    const masterGuid = (w.severaSim.activities() as Array<{ guid: string; name: string; recurrenceType: string }>).find((a) => a.recurrenceType === 'Series' && a.name === 'Design review')!.guid;
    w.severaSim.updateActivity(masterGuid, { name: 'Design review v2' });
    await w.cycle();
    const [renamed] = calendar.bySubject(MIKKO.email, 'Design review v2');
    expect(renamed.fields.exceptions).toHaveLength(3);
    expect(renamed.fields.exceptions.map((x) => x.fields?.subject ?? null)).toEqual([null, 'Design review (moved)', 'Design review (remote)']);
  });

  it('a series whose pattern the calendar cannot hold is synced as its occurrences inside the window, with a note', async () => {
    // Every second week on Sunday and on the weekday of tomorrow, in Severa's Monday-to-Sunday weeks: a calendar that
    // counts weeks from Sunday (Exchange 2007) would put some of them on other dates.
    const wd = WEEKDAY_NAMES[weekdayOf(day(1))];
    const other = wd === 'sunday' ? 'wednesday' : wd;
    const { w, calendar } = await start([
      {
        guid: '00000000-0000-4000-8000-0000000000d1',
        name: 'Fortnightly review',
        activityTypeGuid: TYPE.meeting,
        ownerGuid: MIKKO.guid,
        start: 'today+1T15:00',
        end: 'today+1T16:00',
        recurrence: { frequency: 'Weekly', pattern: { weekly: { interval: 2, sunday: true, [other]: true } }, range: { maxOccurrences: 12 } },
      },
    ], { exchange2007: true });
    w.options.windowDaysAhead = 70;
    const r = await w.cycle();
    const mikko = r.users.find((u) => u.email === MIKKO.email)!;
    expect(mikko.notes.join(' ')).toMatch(/Fortnightly review.*single occurrences.*Exchange 2007/);
    const copies = calendar.bySubject(MIKKO.email, 'Fortnightly review');
    expect(copies.every((c) => c.fields.recurrence === null)).toBe(true);
    // Exactly the occurrences Severa lists inside the window, no more, no fewer.
    const windowEnd = new Date(Date.now() + 70 * 86_400_000).toISOString();
    const listed = (await w.severa.listActivities({ userGuids: [MIKKO.guid], startDateTime: new Date(localToMs(HEL, today())).toISOString(), endDateTime: windowEnd }))
      .filter((a) => a.name === 'Fortnightly review')
      .map((a) => Date.parse(a.startDateTime!))
      .sort();
    expect(listed.length).toBeGreaterThanOrEqual(8);
    expect(copies.map((c) => Date.parse(c.fields.start)).sort()).toEqual(listed);
    calendar.resetCalls();
    w.severaSim.resetCounters();
    await w.cycle();
    expect(calendar.writeCalls() + severaWrites(w)).toBe(0);
    // Moving one copy in Exchange changes that occurrence only.
    calendar.userUpdate(MIKKO.email, copies[0].id, { location: 'Finance corner' });
    await w.cycle();
    const stored = w.severaSim.activities() as Array<{ name: string; recurrenceType: string; location: string | null }>;
    expect(stored.filter((a) => a.name === 'Fortnightly review' && a.recurrenceType === 'Exception').map((a) => a.location)).toEqual(['Finance corner']);
  });

  it('all-day and private entries keep their dates and privacy both ways', async () => {
    const { w, calendar } = await start([
      { guid: '00000000-0000-4000-8000-0000000000d2', name: 'Offsite day', activityTypeGuid: TYPE.meeting, ownerGuid: AINO.guid, start: 'today+3', end: 'today+5', isAllDay: true },
      { guid: '00000000-0000-4000-8000-0000000000d3', name: 'Physio', activityTypeGuid: TYPE.personal, ownerGuid: AINO.guid, start: 'today+2T07:30', end: 'today+2T08:15' },
    ]);
    w.options.activityTypesToExchange = [TYPE.meeting, TYPE.personal];
    calendar.userCreate(MIKKO.email, fields({ subject: 'Holiday', start: day(6), end: day(8), isAllDay: true }));
    calendar.userCreate(MIKKO.email, fields({ subject: 'Bank', start: at(4, 12), end: at(4, 13), isPrivate: true }));
    await w.cycle();
    const [offsite] = calendar.bySubject(AINO.email, 'Offsite day');
    expect(offsite.fields).toMatchObject({ isAllDay: true, start: day(3), end: day(5) });
    expect(calendar.bySubject(AINO.email, 'Physio')[0].fields.isPrivate).toBe(true);
    const stored = w.severaSim.activities() as Array<{ name: string; isAllDay: boolean; startDateTime: string; endDateTime: string; activityType: { guid: string } }>;
    const holiday = stored.find((a) => a.name === 'Holiday')!;
    expect(holiday.isAllDay).toBe(true);
    expect(localDate(Date.parse(holiday.startDateTime), HEL)).toBe(day(6));
    expect(stored.find((a) => a.name === 'Bank')!.activityType.guid).toBe(TYPE.personal);
    calendar.resetCalls();
    w.severaSim.resetCounters();
    await w.cycle();
    expect(calendar.writeCalls() + severaWrites(w)).toBe(0);
  });
});
