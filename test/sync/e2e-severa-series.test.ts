import { afterEach, describe, expect, it } from 'vitest';
import { addDays, localDate, localToMs } from '../../src-main/sync/zoned-time.ts';
import { emptyCalendarsSeed, startE2e, type E2eWorld } from './e2e-harness.ts';
import { AINO, MIKKO, TYPE, TYPES } from './fakes/demo-world.ts';
import { EXCHANGES, type ExchangeKind } from './outlook-back-door.ts';

/**
 * Over real HTTP against the Severa simulator through the real SeveraClient and either Exchange simulator (EWS, or
 * Graph for Exchange Online), with empty calendars to start from: series with changed and deleted occurrences both
 * ways, all-day and private entries, no echo.
 */

const HEL = 'Europe/Helsinki';
const WEEKDAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const today = () => localDate(Date.now(), HEL);
const day = (n: number) => addDays(today(), n);
const at = (n: number, hh: number, mm = 0) => new Date(localToMs(HEL, day(n), hh, mm)).toISOString();
const midnight = (n: number) => new Date(localToMs(HEL, day(n))).toISOString();
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

/** `exchange2007`: the EWS simulator as Exchange 2007 SP1, which counts weeks from Sunday only (it has no FirstDayOfWeek). */
async function start(exchange: ExchangeKind, extra: unknown[] = [], opts: { exchange2007?: boolean } = {}) {
  world = await startE2e({ exchange, ewsSeed: emptyCalendarsSeed(), severaSeed: seed(extra), users: [AINO.email, MIKKO.email], ...(opts.exchange2007 ? { serverType: 'Exchange2007_SP1' as const } : {}) });
  world.options.activityTypesToExchange = [TYPE.meeting];
  return world;
}

const severaWrites = (w: E2eWorld) =>
  Object.entries(w.severaSim.counters().byRoute).filter(([k]) => /^(POST|PATCH|DELETE) \/v1\/(activities|activityparticipants)/.test(k)).reduce((n, [, v]) => n + v, 0);

/** The next cycle changes nothing and writes nothing on either side. */
async function expectQuiet(w: E2eWorld): Promise<void> {
  w.outlook.resetCounters();
  w.severaSim.resetCounters();
  const r = await w.cycle();
  expect(r.users.flatMap((u) => u.changes)).toEqual([]);
  expect(w.outlook.counters().writes + severaWrites(w)).toBe(0);
}

const named = (w: E2eWorld, mailbox: string, subject: string) => w.outlook.items(mailbox).filter((i) => i.subject === subject);

describe.each(EXCHANGES)('e2e over HTTP on %s with the Severa simulator: series', (exchange) => {
  it('a Severa series with a moved and a deleted occurrence arrives in Exchange as one series with both exceptions', async () => {
    const w = await start(exchange);
    const r = await w.cycle();
    expect(r.outcome).toBe('ok');
    const [series] = named(w, AINO.email, 'Weekly sync');
    expect(w.outlook.items(AINO.email)).toHaveLength(1);
    expect(series.recurrence).toMatchObject({ pattern: { type: 'weekly', interval: 1, daysOfWeek: [WEEKDAY_NAMES[weekdayOf(day(1))]] }, range: { type: 'numbered', startDate: day(1), numberOfOccurrences: 6 } });
    expect(series.exceptions.map((x) => [x.originalStart, x.subject ?? null, x.start ?? null])).toEqual([[at(8, 9), 'Weekly sync (moved)', at(8, 13)]]);
    expect(series.cancelledOccurrences).toEqual([at(15, 9)]);
    await expectQuiet(w);
  });

  it('an Exchange series with a deleted and a moved occurrence becomes a Severa series with the same exceptions', async () => {
    const w = await start(exchange);
    const created = w.outlook.create(MIKKO.email, {
      subject: 'Design review', start: at(2, 10), end: at(2, 11), timeZone: HEL,
      recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: [WEEKDAY_NAMES[weekdayOf(day(2))]], firstDayOfWeek: 'monday' }, range: { type: 'numbered', startDate: day(2), numberOfOccurrences: 5 } },
    });
    w.outlook.cancelOccurrence(MIKKO.email, created.id, at(9, 10));
    w.outlook.updateOccurrence(MIKKO.email, created.id, at(16, 10), { subject: 'Design review (moved)', start: at(16, 15), end: at(16, 16) });
    const r = await w.cycle();
    expect(r.users.find((u) => u.email === MIKKO.email)).toMatchObject({ outcome: 'ok', toSevera: { created: 1 } });
    const stored = w.severaSim.activities() as Array<{ name: string; recurrenceType: string; startDateTime: string; recurrence: { exceptions: string[] } | null; recurrenceParentActivityGuid: string | null; ownerUser: { guid: string } }>;
    const master = stored.find((a) => a.recurrenceType === 'Series' && a.name === 'Design review')!;
    expect(master.ownerUser.guid).toBe(MIKKO.guid);
    expect(master.recurrence!.exceptions.map((d) => Date.parse(d)).sort()).toEqual([Date.parse(at(9, 10)), Date.parse(at(16, 10))]);
    const exception = stored.find((a) => a.recurrenceType === 'Exception' && a.name === 'Design review (moved)')!;
    expect(Date.parse(exception.startDateTime)).toBe(Date.parse(at(16, 15)));
    // Quiet afterwards: the Severa series read back equals what Exchange has.
    await expectQuiet(w);

    // A later change of one more occurrence in Exchange reaches Severa; a rename in Severa keeps Exchange's exceptions.
    w.outlook.updateOccurrence(MIKKO.email, created.id, at(23, 10), { subject: 'Design review (remote)', location: 'Teams' });
    await w.cycle();
    const afterStored = w.severaSim.activities() as typeof stored & Array<{ location: string | null }>;
    expect(afterStored.find((a) => a.recurrenceType === 'Exception' && a.name === 'Design review (remote)')).toMatchObject({ location: 'Teams' });
    const masterGuid = (w.severaSim.activities() as Array<{ guid: string; name: string; recurrenceType: string }>).find((a) => a.recurrenceType === 'Series' && a.name === 'Design review')!.guid;
    w.severaSim.updateActivity(masterGuid, { name: 'Design review v2' });
    await w.cycle();
    const [renamed] = named(w, MIKKO.email, 'Design review v2');
    expect(renamed.cancelledOccurrences).toEqual([at(9, 10)]);
    expect(renamed.exceptions.map((x) => [x.originalStart, x.subject])).toEqual([[at(16, 10), 'Design review (moved)'], [at(23, 10), 'Design review (remote)']]);
    // What Mikko sees: the renamed series, its two changed occurrences as they were changed.
    const seen = w.outlook.view(MIKKO.email, localToMs(HEL, day(0)), localToMs(HEL, day(40))).map((o) => [new Date(o.start).toISOString(), o.subject, o.location]);
    expect(seen).toEqual([[at(2, 10), 'Design review v2', ''], [at(16, 15), 'Design review (moved)', ''], [at(23, 10), 'Design review (remote)', 'Teams'], [at(30, 10), 'Design review v2', '']]);
    await expectQuiet(w);
  });

  it('all-day and private entries keep their dates and privacy both ways', async () => {
    const w = await start(exchange, [
      { guid: '00000000-0000-4000-8000-0000000000d2', name: 'Offsite day', activityTypeGuid: TYPE.meeting, ownerGuid: AINO.guid, start: 'today+3', end: 'today+5', isAllDay: true },
      { guid: '00000000-0000-4000-8000-0000000000d3', name: 'Physio', activityTypeGuid: TYPE.personal, ownerGuid: AINO.guid, start: 'today+2T07:30', end: 'today+2T08:15' },
    ]);
    w.options.activityTypesToExchange = [TYPE.meeting, TYPE.personal];
    w.outlook.create(MIKKO.email, { subject: 'Holiday', start: midnight(6), end: midnight(8), isAllDay: true, timeZone: HEL });
    w.outlook.create(MIKKO.email, { subject: 'Bank', start: at(4, 12), end: at(4, 13), isPrivate: true, timeZone: HEL });
    await w.cycle();
    const [offsite] = named(w, AINO.email, 'Offsite day');
    expect(offsite).toMatchObject({ isAllDay: true, start: midnight(3), end: midnight(5) });
    expect(named(w, AINO.email, 'Physio')[0].isPrivate).toBe(true);
    const stored = w.severaSim.activities() as Array<{ name: string; isAllDay: boolean; startDateTime: string; endDateTime: string; activityType: { guid: string } }>;
    const holiday = stored.find((a) => a.name === 'Holiday')!;
    expect(holiday.isAllDay).toBe(true);
    expect(localDate(Date.parse(holiday.startDateTime), HEL)).toBe(day(6));
    expect(stored.find((a) => a.name === 'Bank')!.activityType.guid).toBe(TYPE.personal);
    await expectQuiet(w);
  });
});

describe('e2e over HTTP on ews with the Severa simulator: what only on-premises Exchange has', () => {
  it('Exchange 2007 cannot hold a series\' pattern: it is synced as its occurrences inside the window, with a note', async () => {
    // Every second week on Sunday and on the weekday of tomorrow, in Severa's Monday-to-Sunday weeks: Exchange 2007
    // counts weeks from Sunday, so some of them would land on other dates.
    const wd = WEEKDAY_NAMES[weekdayOf(day(1))];
    const other = wd === 'sunday' ? 'wednesday' : wd;
    const w = await start('ews', [
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
    const copies = named(w, MIKKO.email, 'Fortnightly review');
    expect(copies.every((c) => c.recurrence === null)).toBe(true);
    // Exactly the occurrences Severa lists inside the window, no more, no fewer.
    const windowEnd = new Date(Date.now() + 70 * 86_400_000).toISOString();
    const listed = (await w.severa.listActivities({ userGuids: [MIKKO.guid], startDateTime: new Date(localToMs(HEL, today())).toISOString(), endDateTime: windowEnd }))
      .filter((a) => a.name === 'Fortnightly review')
      .map((a) => Date.parse(a.startDateTime!))
      .sort();
    expect(listed.length).toBeGreaterThanOrEqual(8);
    expect(copies.map((c) => Date.parse(c.start)).sort()).toEqual(listed);
    await expectQuiet(w);
    // Moving one copy in Exchange changes that occurrence only.
    w.outlook.update(MIKKO.email, copies[0].id, { location: 'Finance corner' });
    await w.cycle();
    const stored = w.severaSim.activities() as Array<{ name: string; recurrenceType: string; location: string | null }>;
    expect(stored.filter((a) => a.name === 'Fortnightly review' && a.recurrenceType === 'Exception').map((a) => a.location)).toEqual(['Finance corner']);
  });
});
