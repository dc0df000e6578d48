import { afterEach, describe, expect, it } from 'vitest';
import { addDays, localDate, localToMs } from '../../src-main/sync/zoned-time.ts';
import { occurrenceGuid } from '../peers/severa/series-occurrences.ts';
import { emptyCalendarsSeed, startE2e, type E2eWorld } from './e2e-harness.ts';
import { AINO, MIKKO, TYPE, TYPES } from './fakes/demo-world.ts';
import { EXCHANGES, type ExchangeKind } from './outlook-back-door.ts';

/**
 * A series changed on both sides between two cycles is merged occurrence by occurrence: over real HTTP against the
 * Severa simulator (which keeps changed and deleted occurrences as Severa does) and either Exchange simulator (EWS, or
 * Graph for Exchange Online), the user's Outlook edits made through their back doors.
 */

const HEL = 'Europe/Helsinki';
const SERIES = '00000000-0000-4000-8000-0000000000e1';
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const day = (n: number) => addDays(localDate(Date.now(), HEL), n);
const at = (n: number, hh: number) => new Date(localToMs(HEL, day(n), hh, 0)).toISOString();
/**
 * An edit made after this pause is the later one on either side, whichever side came first: Severa stamps whole
 * seconds, and the engine corrects both clocks by offsets read from Date headers, which carry whole seconds too.
 */
const later = () => new Promise((resolve) => setTimeout(resolve, 2_100));

let world: E2eWorld | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

/**
 * Aino's weekly series in Severa (or, `seriesIn: 'exchange'`, in her Outlook), six occurrences from tomorrow 09:00
 * (days 1, 8, 15, 22, 29, 36), synced once to the other side. `killAfter`: the first run dies right after that write
 * (the item exists, no pair records it).
 */
async function start(exchange: ExchangeKind, opts: { killAfter?: string; seriesIn?: 'severa' | 'exchange' } = {}) {
  const seriesIn = opts.seriesIn ?? 'severa';
  const weekday = WEEKDAYS[new Date(`${day(1)}T12:00:00Z`).getUTCDay()];
  world = await startE2e({
    exchange,
    ewsSeed: emptyCalendarsSeed(),
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
        recurrence: { frequency: 'Weekly', pattern: { weekly: { interval: 1, [weekday]: true } }, range: { maxOccurrences: 6 } },
      }],
    },
  });
  world.options.activityTypesToExchange = [TYPE.meeting];
  if (seriesIn === 'exchange') {
    world.outlook.create(AINO.email, {
      subject: 'Weekly sync', start: at(1, 9), end: at(1, 10), timeZone: HEL,
      recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: [weekday], firstDayOfWeek: 'monday' }, range: { type: 'numbered', startDate: day(1), numberOfOccurrences: 6 } },
    });
  }
  if (opts.killAfter) world.faults.arm({ method: opts.killAfter, when: 'after' });
  const first = await world.cycle().catch((err: unknown) => err);
  if (opts.killAfter) {
    expect(world.faults.fired).toEqual([`${opts.killAfter}:after`]);
    world.faults.revive();
  } else expect((first as { outcome: string }).outcome).toBe('ok');
  // The simulator hands out occurrence guids once listed (as the API lists them).
  world.severaSim.store.listActivities({ recurrenceType: 'Occurrence' }, null, 1000);
  const [copy] = world.outlook.items(AINO.email).filter((i) => i.subject === 'Weekly sync');
  return { w: world, copy };
}

/** The Severa series, whichever way it was made. */
function severaSeriesGuid(w: E2eWorld): string {
  return w.severaSim.store.allStored().find((r) => r.kind === 'Series' && r.name.startsWith('Weekly sync'))!.guid;
}

/** The user moves the occurrence of day `n` (09:00) to `hh` in Outlook. */
const moveInOutlook = (w: E2eWorld, seriesId: string, n: number, hh: number) => w.outlook.updateOccurrence(AINO.email, seriesId, at(n, 9), { start: at(n, hh), end: at(n, hh + 1) });

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

/** The occurrences of Aino's Exchange copy, as her calendar shows them: [start, subject]. */
function exchangeOccurrences(w: E2eWorld): Array<[string, string]> {
  return w.outlook
    .view(AINO.email, localToMs(HEL, day(0)), localToMs(HEL, day(60)))
    .filter((o) => o.subject.startsWith('Weekly sync'))
    .map((o): [string, string] => [new Date(o.start).toISOString(), o.subject]);
}

/** The next cycle writes nothing on either side. */
async function expectQuiet(w: E2eWorld): Promise<void> {
  w.outlook.resetCounters();
  const again = await w.cycle();
  expect(again.users[0].changes).toEqual([]);
  expect(w.outlook.counters().writes).toBe(0);
}

describe.each(EXCHANGES)('e2e on %s: a series changed on both sides', (exchange) => {
  it('in different occurrences: both changes stand on both sides, no conflict, then quiet', async () => {
    const { w, copy } = await start(exchange);
    // Severa: the fourth occurrence deleted. Outlook: the first one moved to 11:00.
    w.severaSim.deleteActivity(occurrenceGuid(SERIES, Date.parse(at(22, 9))));
    moveInOutlook(w, copy.id, 1, 11);
    const r = await w.cycle();
    const aino = r.users[0];
    expect(aino.outcome).toBe('ok');
    expect(aino.conflicts).toBe(0);
    expect(aino.toSevera.updated).toBe(1);
    expect(aino.toExchange.updated).toBe(1);
    const expected: Array<[string, string]> = [[at(1, 11), 'Weekly sync'], [at(8, 9), 'Weekly sync'], [at(15, 9), 'Weekly sync'], [at(29, 9), 'Weekly sync'], [at(36, 9), 'Weekly sync']];
    expect(severaOccurrences(w)).toEqual(expected);
    expect(exchangeOccurrences(w)).toEqual(expected);
    await expectQuiet(w);
  });

  for (const laterSide of ['exchange', 'severa'] as const) {
    it(`in the same occurrence too, ${laterSide} later: that occurrence is the later side's, the rest of both sides' changes stand`, async () => {
      const { w, copy } = await start(exchange);
      // Severa: the series renamed, the fifth occurrence moved to 12:00. Outlook: the fifth moved to 15:00, the last deleted.
      const inSevera = () => {
        w.severaSim.updateActivity(SERIES, { name: 'Weekly sync v2' });
        w.severaSim.updateActivity(occurrenceGuid(SERIES, Date.parse(at(29, 9))), { startDateTime: at(29, 12), endDateTime: at(29, 13) });
      };
      const inOutlook = () => {
        moveInOutlook(w, copy.id, 29, 15);
        w.outlook.cancelOccurrence(AINO.email, copy.id, at(36, 9));
      };
      if (laterSide === 'exchange') inSevera();
      else inOutlook();
      await later();
      if (laterSide === 'exchange') inOutlook();
      else inSevera();
      const r = await w.cycle();
      expect(r.users[0].errors).toEqual([]);
      expect(r.users[0].outcome).toBe('ok');
      expect(r.users[0].conflicts).toBe(1);
      const fifth = laterSide === 'exchange' ? at(29, 15) : at(29, 12);
      const severa = severaOccurrences(w);
      expect(severa.map(([start]) => start)).toEqual([at(1, 9), at(8, 9), at(15, 9), at(22, 9), fifth]);
      expect(exchangeOccurrences(w).map(([start]) => start)).toEqual(severa.map(([start]) => start));
      expect(w.outlook.items(AINO.email).filter((i) => i.subject === 'Weekly sync v2')).toHaveLength(1);
      expect((w.severaSim.activities() as Array<{ guid: string; name: string }>).find((a) => a.guid === SERIES)?.name).toBe('Weekly sync v2');
      await expectQuiet(w);
    });
  }
});

/**
 * A series copied whole from Exchange onto Severa (no per-occurrence merge: there is no pair yet) while Severa holds an
 * occurrence changed or deleted since: Severa cannot make it regular again, so it keeps the change, and Exchange gets it
 * too; the pair records both sides as they then are, so the next cycle writes nothing.
 */
/** Both sides hold `expected`, Severa took the copy and Exchange got the kept occurrence, and the next cycle writes nothing. */
async function expectKeptOnBothSidesThenQuiet(w: E2eWorld, aino: { changes: Array<{ side: string; reason?: string }> }, expected: Array<[string, string]>, reason: string): Promise<void> {
  expect(severaOccurrences(w)).toEqual(expected);
  expect(exchangeOccurrences(w)).toEqual(expected);
  expect(aino.changes.map((c) => `${c.side}: ${c.reason}`)).toEqual([`severa: ${reason}`, `exchange: ${reason}; an occurrence changed in Severa is kept`]);
  await expectQuiet(w);
}

describe.each(EXCHANGES)('e2e on %s: a series copied whole from Exchange keeps what Severa changed in its occurrences', (exchange) => {
  it('Exchange wins the conflict after a crashed copy to Exchange: the occurrence moved in Severa is moved in Exchange too', async () => {
    // EWS creates in batches (writeEvents); Graph one item at a time.
    const { w, copy } = await start(exchange, { killAfter: 'writeEvents' });
    expect(copy).toBeDefined();
    // Severa: the fourth occurrence moved to 12:00. Later, in Outlook: the second one moved to 11:00.
    w.severaSim.updateActivity(occurrenceGuid(SERIES, Date.parse(at(22, 9))), { startDateTime: at(22, 12), endDateTime: at(22, 13) });
    await later();
    moveInOutlook(w, copy.id, 8, 11);
    const r = await w.cycle();
    const aino = r.users[0];
    expect(aino.outcome).toBe('ok');
    const expected: Array<[string, string]> = [[at(1, 9), 'Weekly sync'], [at(8, 11), 'Weekly sync'], [at(15, 9), 'Weekly sync'], [at(22, 12), 'Weekly sync'], [at(29, 9), 'Weekly sync'], [at(36, 9), 'Weekly sync']];
    await expectKeptOnBothSidesThenQuiet(w, aino, expected, 'conflict: Exchange changed later');
  });

  it('an interrupted copy from Exchange is finished: the occurrence deleted in Severa meanwhile is deleted in Exchange too', async () => {
    const { w } = await start(exchange, { seriesIn: 'exchange', killAfter: 'createActivity' });
    const series = severaSeriesGuid(w);
    w.severaSim.deleteActivity(occurrenceGuid(series, Date.parse(at(15, 9))));
    const r = await w.cycle();
    const aino = r.users[0];
    expect(aino.outcome).toBe('ok');
    const expected: Array<[string, string]> = [[at(1, 9), 'Weekly sync'], [at(8, 9), 'Weekly sync'], [at(22, 9), 'Weekly sync'], [at(29, 9), 'Weekly sync'], [at(36, 9), 'Weekly sync']];
    await expectKeptOnBothSidesThenQuiet(w, aino, expected, 'finishing an interrupted copy from Exchange');
  });

  it('merged: an occurrence Severa holds as changed but Exchange as regular again stays changed on both sides', async () => {
    const { w, copy } = await start(exchange);
    // Severa moves the fourth occurrence; the sync copies that to Exchange.
    w.severaSim.updateActivity(occurrenceGuid(SERIES, Date.parse(at(22, 9))), { startDateTime: at(22, 12), endDateTime: at(22, 13) });
    expect((await w.cycle()).users[0].changes.map((c) => c.side)).toEqual(['exchange']);
    // Then both sides change: in Outlook the user moves that occurrence back to its time in the series (regular again)
    // and moves the second one; in Severa the fifth occurrence is deleted.
    expect(w.outlook.item(AINO.email, copy.id)!.exceptions).toHaveLength(1);
    moveInOutlook(w, copy.id, 22, 9);
    moveInOutlook(w, copy.id, 8, 11);
    w.severaSim.deleteActivity(occurrenceGuid(SERIES, Date.parse(at(29, 9))));
    const r = await w.cycle();
    expect(r.users[0].outcome).toBe('ok');
    const expected: Array<[string, string]> = [[at(1, 9), 'Weekly sync'], [at(8, 11), 'Weekly sync'], [at(15, 9), 'Weekly sync'], [at(22, 12), 'Weekly sync'], [at(36, 9), 'Weekly sync']];
    expect(severaOccurrences(w)).toEqual(expected);
    expect(exchangeOccurrences(w)).toEqual(expected);
    await expectQuiet(w);
  });
});
