import { afterEach, describe, expect, it } from 'vitest';
import type { OccurrenceException, Weekday } from '../../src-main/sync/calendar-event.ts';
import { addDays, localDate, localToMs } from '../../src-main/sync/zoned-time.ts';
import { occurrenceGuid } from '../peers/severa/activity-store.ts';
import { startE2e, type E2eWorld } from './e2e-harness.ts';
import { FakeCalendar, fields } from './fakes/fake-calendar.ts';
import { AINO, MIKKO, TYPE, TYPES } from './fakes/demo-world.ts';

/**
 * A series changed on both sides between two cycles is merged occurrence by occurrence: over real HTTP against the
 * Severa simulator (which keeps changed and deleted occurrences as Severa does), with the in-memory calendar.
 */

const HEL = 'Europe/Helsinki';
const SERIES = '00000000-0000-4000-8000-0000000000e1';
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const day = (n: number) => addDays(localDate(Date.now(), HEL), n);
const at = (n: number, hh: number) => new Date(localToMs(HEL, day(n), hh, 0)).toISOString();

let world: E2eWorld | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

/**
 * Aino's weekly series in Severa, six occurrences from tomorrow 09:00 (days 1, 8, 15, 22, 29, 36), synced once to her
 * calendar. `exchangeAheadMs`: the calendar's clock against Severa's, so either side's edit can be the later one.
 */
async function start(exchangeAheadMs: number, opts: { killAfter?: string; seriesIn?: 'severa' | 'exchange' } = {}) {
  const seriesIn = opts.seriesIn ?? 'severa';
  const calendar = new FakeCalendar({ mailboxes: [{ primary: AINO.email }, { primary: MIKKO.email }], now: () => new Date(Date.now() + exchangeAheadMs) });
  // The calendar's clock is off on purpose; it reports no offset, so the engine cannot correct it.
  calendar.offsetMs = 0;
  world = await startE2e({
    calendar,
    users: [AINO.email],
    severaSeed: {
      timeZone: HEL,
      apiClients: [{ clientId: 'demo-client-id', clientSecret: 'demo-client-secret' }],
      users: [
        { guid: AINO.guid, firstName: 'Aino', lastName: 'Virtanen', email: AINO.email },
        { guid: MIKKO.guid, firstName: 'Mikko', lastName: 'Lahtinen', email: MIKKO.email },
      ],
      activityTypes: TYPES.map((t) => ({ guid: t.guid, name: t.name, category: t.category, isActive: t.isActive, isDefault: t.isDefault })),
      activities: seriesIn === 'exchange' ? [] : [{
        guid: SERIES,
        name: 'Weekly sync',
        activityTypeGuid: TYPE.meeting,
        ownerGuid: AINO.guid,
        start: 'today+1T09:00',
        end: 'today+1T10:00',
        recurrence: { frequency: 'Weekly', pattern: { weekly: { interval: 1, [WEEKDAYS[new Date(`${day(1)}T12:00:00Z`).getUTCDay()]]: true } }, range: { maxOccurrences: 6 } },
      }],
    },
  });
  world.options.activityTypesToExchange = [TYPE.meeting];
  if (seriesIn === 'exchange') {
    calendar.userCreate(AINO.email, fields({
      subject: 'Weekly sync', start: at(1, 9), end: at(1, 10),
      recurrence: { frequency: 'Weekly', interval: 1, daysOfWeek: [WEEKDAYS[new Date(`${day(1)}T12:00:00Z`).getUTCDay()].replace(/^./, (c) => c.toUpperCase()) as Weekday], startDate: day(1), count: 6 },
    }));
  }
  // `killAfter`: the first run dies right after that write (the item exists, no pair records it).
  if (opts.killAfter) world.faults.arm({ method: opts.killAfter, when: 'after' });
  const first = await world.cycle().catch((err: unknown) => err);
  if (opts.killAfter) {
    expect(world.faults.fired).toEqual([`${opts.killAfter}:after`]);
    world.faults.revive();
  } else expect((first as { outcome: string }).outcome).toBe('ok');
  // The simulator hands out occurrence guids once listed (as the API lists them).
  world.severaSim.store.listActivities({ recurrenceType: 'Occurrence' }, null, 1000);
  const [copy] = calendar.bySubject(AINO.email, 'Weekly sync');
  return { w: world, calendar, copy };
}

/** The Severa series, whichever way it was made. */
function severaSeriesGuid(w: E2eWorld): string {
  return w.severaSim.store.allStored().find((r) => r.kind === 'Series' && r.name.startsWith('Weekly sync'))!.guid;
}

const movedTo = (n: number, hh: number, subject = 'Weekly sync'): OccurrenceException => {
  const { recurrence: _r, exceptions: _x, ...f } = fields({ subject, start: at(n, hh), end: at(n, hh + 1) });
  return { originalStart: at(n, 9), fields: { ...f, exceptions: [] } as OccurrenceException['fields'] };
};

/** Each occurrence of the series as Severa lists it: [start, name], by start. */
function severaOccurrences(w: E2eWorld): Array<[string, string]> {
  const store = w.severaSim.store;
  const regular = store.listActivities({ recurrenceType: 'Occurrence' }, null, 1000).items
    .filter((v) => v.rec.guid === severaSeriesGuid(w) && v.occurrenceStartMs !== null)
    .map((v): [string, string] => [new Date(v.occurrenceStartMs!).toISOString(), v.rec.name]);
  const changed = store.allStored()
    .filter((r) => r.kind === 'Exception' && r.seriesGuid === severaSeriesGuid(w))
    .map((r): [string, string] => [new Date(r.startMs).toISOString(), r.name]);
  return [...regular, ...changed].sort(([a], [b]) => (a < b ? -1 : 1));
}

/** The occurrences of the Exchange copy: [start, subject], deleted ones left out. */
function exchangeOccurrences(calendar: FakeCalendar): Array<[string, string]> {
  const [series] = calendar.bySubject(AINO.email, 'Weekly sync v2').concat(calendar.bySubject(AINO.email, 'Weekly sync'));
  const byOriginal = new Map(series.fields.exceptions.map((x) => [Date.parse(x.originalStart), x]));
  const out: Array<[string, string]> = [];
  for (const n of [1, 8, 15, 22, 29, 36]) {
    const x = byOriginal.get(Date.parse(at(n, 9)));
    if (x?.fields === null) continue;
    out.push(x?.fields ? [new Date(Date.parse(x.fields.start)).toISOString(), x.fields.subject] : [at(n, 9), series.fields.subject]);
  }
  return out.sort(([a], [b]) => (a < b ? -1 : 1));
}

describe('e2e: a series changed on both sides', () => {
  it('in different occurrences: both changes stand on both sides, no conflict, then quiet', async () => {
    const { w, calendar, copy } = await start(60_000);
    // Severa: the fourth occurrence deleted. Outlook: the first one moved to 11:00.
    w.severaSim.deleteActivity(occurrenceGuid(SERIES, Date.parse(at(22, 9))));
    calendar.userUpdate(AINO.email, copy.id, { exceptions: [movedTo(1, 11)] });
    const r = await w.cycle();
    const aino = r.users[0];
    expect(aino.outcome).toBe('ok');
    expect(aino.conflicts).toBe(0);
    expect(aino.toSevera.updated).toBe(1);
    expect(aino.toExchange.updated).toBe(1);
    const expected: Array<[string, string]> = [[at(1, 11), 'Weekly sync'], [at(8, 9), 'Weekly sync'], [at(15, 9), 'Weekly sync'], [at(29, 9), 'Weekly sync'], [at(36, 9), 'Weekly sync']];
    expect(severaOccurrences(w)).toEqual(expected);
    expect(exchangeOccurrences(calendar)).toEqual(expected);
    calendar.resetCalls();
    const again = await w.cycle();
    expect(again.users[0].changes).toEqual([]);
    expect(calendar.writeCalls()).toBe(0);
  });

  for (const later of ['exchange', 'severa'] as const) {
    it(`in the same occurrence too, ${later} later: that occurrence is the later side's, the rest of both sides' changes stand`, async () => {
      const { w, calendar, copy } = await start(later === 'exchange' ? 5 * 60_000 : -5 * 60_000);
      // Severa: the series renamed, the fifth occurrence moved to 12:00. Outlook: the fifth moved to 15:00, the last deleted.
      w.severaSim.updateActivity(SERIES, { name: 'Weekly sync v2' });
      w.severaSim.updateActivity(occurrenceGuid(SERIES, Date.parse(at(29, 9))), { startDateTime: at(29, 12), endDateTime: at(29, 13) });
      calendar.userUpdate(AINO.email, copy.id, { exceptions: [movedTo(29, 15), { originalStart: at(36, 9), fields: null }] });
      const r = await w.cycle();
      expect(r.users[0].outcome).toBe('ok');
      expect(r.users[0].conflicts).toBe(1);
      const fifth = later === 'exchange' ? at(29, 15) : at(29, 12);
      const severa = severaOccurrences(w);
      expect(severa.map(([start]) => start)).toEqual([at(1, 9), at(8, 9), at(15, 9), at(22, 9), fifth]);
      expect(exchangeOccurrences(calendar).map(([start]) => start)).toEqual(severa.map(([start]) => start));
      expect(calendar.bySubject(AINO.email, 'Weekly sync v2')).toHaveLength(1);
      expect((w.severaSim.activities() as Array<{ guid: string; name: string }>).find((a) => a.guid === SERIES)?.name).toBe('Weekly sync v2');
      calendar.resetCalls();
      const again = await w.cycle();
      expect(again.users[0].changes).toEqual([]);
      expect(calendar.writeCalls()).toBe(0);
    });
  }
});

/**
 * A series copied whole from Exchange onto Severa (no per-occurrence merge: there is no pair yet) while Severa holds an
 * occurrence changed or deleted since: Severa cannot make it regular again, so it keeps the change, and Exchange gets it
 * too; the pair records both sides as they then are, so the next cycle writes nothing.
 */
/** Both sides hold `expected`, Severa took the copy and Exchange got the kept occurrence, and the next cycle writes nothing. */
async function expectKeptOnBothSidesThenQuiet(w: Awaited<ReturnType<typeof start>>['w'], calendar: Awaited<ReturnType<typeof start>>['calendar'], aino: { changes: Array<{ side: string; reason?: string }> }, expected: Array<[string, string]>, reason: string): Promise<void> {
  expect(severaOccurrences(w)).toEqual(expected);
  expect(exchangeOccurrences(calendar)).toEqual(expected);
  expect(aino.changes.map((c) => `${c.side}: ${c.reason}`)).toEqual([`severa: ${reason}`, `exchange: ${reason}; an occurrence changed in Severa is kept`]);
  calendar.resetCalls();
  const again = await w.cycle();
  expect(again.users[0].changes).toEqual([]);
  expect(calendar.writeCalls()).toBe(0);
}

describe('e2e: a series copied whole from Exchange keeps what Severa changed in its occurrences', () => {
  it('Exchange wins the conflict after a crashed copy to Exchange: the occurrence moved in Severa is moved in Exchange too', async () => {
    const { w, calendar, copy } = await start(5 * 60_000, { killAfter: 'createEvent' });
    expect(copy).toBeDefined();
    // Severa: the fourth occurrence moved to 12:00. Later, in Outlook: the second one moved to 11:00.
    w.severaSim.updateActivity(occurrenceGuid(SERIES, Date.parse(at(22, 9))), { startDateTime: at(22, 12), endDateTime: at(22, 13) });
    calendar.userUpdate(AINO.email, copy.id, { exceptions: [movedTo(8, 11)] });
    const r = await w.cycle();
    const aino = r.users[0];
    expect(aino.outcome).toBe('ok');
    const expected: Array<[string, string]> = [[at(1, 9), 'Weekly sync'], [at(8, 11), 'Weekly sync'], [at(15, 9), 'Weekly sync'], [at(22, 12), 'Weekly sync'], [at(29, 9), 'Weekly sync'], [at(36, 9), 'Weekly sync']];
    await expectKeptOnBothSidesThenQuiet(w, calendar, aino, expected, 'conflict: Exchange changed later');
  });

  it('an interrupted copy from Exchange is finished: the occurrence deleted in Severa meanwhile is deleted in Exchange too', async () => {
    const { w, calendar } = await start(0, { seriesIn: 'exchange', killAfter: 'createActivity' });
    const series = severaSeriesGuid(w);
    w.severaSim.deleteActivity(occurrenceGuid(series, Date.parse(at(15, 9))));
    const r = await w.cycle();
    const aino = r.users[0];
    expect(aino.outcome).toBe('ok');
    const expected: Array<[string, string]> = [[at(1, 9), 'Weekly sync'], [at(8, 9), 'Weekly sync'], [at(22, 9), 'Weekly sync'], [at(29, 9), 'Weekly sync'], [at(36, 9), 'Weekly sync']];
    await expectKeptOnBothSidesThenQuiet(w, calendar, aino, expected, 'finishing an interrupted copy from Exchange');
  });

  it('merged: an occurrence Severa holds as changed but Exchange as regular again stays changed on both sides', async () => {
    const { w, calendar, copy } = await start(60_000);
    // Severa moves the fourth occurrence; the sync copies that to Exchange.
    w.severaSim.updateActivity(occurrenceGuid(SERIES, Date.parse(at(22, 9))), { startDateTime: at(22, 12), endDateTime: at(22, 13) });
    expect((await w.cycle()).users[0].changes.map((c) => c.side)).toEqual(['exchange']);
    // Then both sides change: in Outlook the series loses that change (regular again) and the second occurrence moves;
    // in Severa the fifth occurrence is deleted.
    const [now] = calendar.bySubject(AINO.email, 'Weekly sync');
    expect(now.fields.exceptions).toHaveLength(1);
    calendar.userUpdate(AINO.email, copy.id, { exceptions: [movedTo(8, 11)] });
    w.severaSim.deleteActivity(occurrenceGuid(SERIES, Date.parse(at(29, 9))));
    const r = await w.cycle();
    expect(r.users[0].outcome).toBe('ok');
    const expected: Array<[string, string]> = [[at(1, 9), 'Weekly sync'], [at(8, 11), 'Weekly sync'], [at(15, 9), 'Weekly sync'], [at(22, 12), 'Weekly sync'], [at(36, 9), 'Weekly sync']];
    expect(severaOccurrences(w)).toEqual(expected);
    expect(exchangeOccurrences(calendar)).toEqual(expected);
    calendar.resetCalls();
    const again = await w.cycle();
    expect(again.users[0].changes).toEqual([]);
    expect(calendar.writeCalls()).toBe(0);
  });
});
