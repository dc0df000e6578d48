import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { addDays, localDate, localToMs } from '../../src-main/sync/zoned-time.ts';
import { listDeletions, restoreDeletion } from '../../src-main/sync/deletion-restore.ts';
import { DEMO_TYPES, startE2e, type E2eWorld } from './e2e-harness.ts';
import { EXCHANGES, type ExchangeKind, type OutlookRecurrence } from './outlook-back-door.ts';

/**
 * Recurring series end to end over HTTP (both simulators, the real connectors): patterns both sides can hold stay
 * series both ways (the last weekday of the month, Severa's "every weekday"); a pattern Severa cannot hold travels as
 * its occurrences inside the window, paired one by one. Every test counts the occurrences on both servers over the
 * window: none lost, none twice. On both Exchanges: the EWS simulator, and the Graph simulator holding the same seed.
 */

const HEL = 'Europe/Helsinki';
const AINO = 'aino.virtanen@contoso.example';
const MIKKO = 'mikko.lahtinen@contoso.example';
const G = { aino: '00000000-0000-4000-8000-0000000000a1', mikko: '00000000-0000-4000-8000-0000000000a2' };
const DAYS = 120;
const DAY_MS = 86_400_000;

const today = () => localDate(Date.now(), HEL);
const weekdayOf = (date: string) => new Date(`${date}T12:00:00Z`).getUTCDay();
const WEEKDAYS_OF_WEEK = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function seeds(ewsItems: unknown[], activities: unknown[]) {
  const ews = JSON.parse(readFileSync('test/peers/demo/ews-demo.json', 'utf8'));
  const severa = JSON.parse(readFileSync('test/peers/demo/severa-demo.json', 'utf8'));
  return { ewsSeed: { ...ews, items: ewsItems }, severaSeed: { ...severa, activities } };
}

let world: E2eWorld | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

async function start(exchange: ExchangeKind, ewsItems: unknown[], activities: unknown[]) {
  const w = (world = await startE2e({ exchange, ...seeds(ewsItems, activities), users: [AINO, MIKKO] }));
  w.options.windowDaysAhead = DAYS;
  w.options.activityTypesToExchange = [DEMO_TYPES.meeting];
  return w;
}

/** The sync window as the next cycle sees it, for counting: from the start date to a little before the window's end. */
function countWindow(): { from: number; to: number } {
  return { from: localToMs(HEL, today()), to: Date.now() + DAYS * DAY_MS };
}

/** Occurrences and single items of a subject in a mailbox over the range, as the mailbox's calendar view shows them. */
async function exchangeOccurrences(w: E2eWorld, mailbox: string, subject: string, range = countWindow()): Promise<Array<{ start: number; type: string; subject: string; location: string }>> {
  return w.outlook
    .view(mailbox, range.from, range.to)
    .filter((o) => o.subject.startsWith(subject))
    .map((o) => ({ start: o.start, type: o.originalStart === null ? 'Single' : o.isException ? 'Exception' : 'Occurrence', subject: o.subject, location: o.location }));
}

interface Row { guid?: string | null; name?: string; startDateTime?: string; recurrenceType?: string; location?: string | null; recurrenceParentActivityGuid?: string | null }

/** What Severa lists (singles, occurrences, exceptions) for a user over the range, by subject, over HTTP. */
async function severaOccurrences(w: E2eWorld, userGuid: string, subject: string, range = countWindow()): Promise<Row[]> {
  const rows = (await w.severa.listActivities({ userGuids: [userGuid], startDateTime: new Date(range.from).toISOString(), endDateTime: new Date(range.to).toISOString() })) as Row[];
  return rows
    .filter((a) => (a.name ?? '').startsWith(subject) && Date.parse(a.startDateTime!) >= range.from && Date.parse(a.startDateTime!) < range.to)
    .sort((a, b) => Date.parse(a.startDateTime!) - Date.parse(b.startDateTime!));
}

const startsOf = (list: Array<{ start: number } | Row>) => list.map((x) => ('start' in x ? x.start : Date.parse(x.startDateTime!)));

const severaWrites = (w: E2eWorld) =>
  Object.entries(w.severaSim.counters().byRoute).filter(([k]) => /^(POST|PATCH|DELETE) \/v1\/(activities|activityparticipants)/.test(k)).reduce((n, [, v]) => n + v, 0);
const exchangeWrites = (w: E2eWorld) => w.outlook.counters().writes;

async function expectQuiet(w: E2eWorld) {
  w.severaSim.resetCounters();
  w.outlook.resetCounters();
  const r = await w.cycle();
  expect(r.users.flatMap((u) => u.errors)).toEqual([]);
  expect(r.users.flatMap((u) => u.changes)).toEqual([]);
  expect(severaWrites(w) + exchangeWrites(w)).toBe(0);
  return r;
}

const WORKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'];

describe.each(EXCHANGES)('e2e over HTTP on %s: recurring series', (exchange) => {
  it('the last weekday of the month: an Exchange series becomes a Severa series and a Severa one an Exchange series, edits flow back', async () => {
    const w = await start(
      exchange,
      [
        {
          mailbox: AINO,
          subject: 'Month-end close',
          start: 'today+1T15:00',
          end: 'today+1T16:00',
          timeZone: HEL,
          recurrence: { pattern: { type: 'RelativeMonthly', interval: 1, daysOfWeek: 'Weekday', dayOfWeekIndex: 'Last' }, range: { type: 'Numbered', startDate: 'today+1', count: 8 } },
        },
      ],
      [
        {
          guid: '00000000-0000-4000-8000-0000000000e1',
          name: 'Invoicing day',
          activityTypeGuid: DEMO_TYPES.meeting,
          ownerGuid: G.mikko,
          start: 'today+1T08:00',
          end: 'today+1T09:00',
          recurrence: { frequency: 'Monthly', pattern: { monthly: { interval: 1, dayOrdinal: 'Last', dayOrdinalOption: 'WeekDay' } }, range: { maxOccurrences: 6 } },
        },
      ],
    );
    const r1 = await w.cycle();
    expect(r1.users.flatMap((u) => u.errors)).toEqual([]);
    expect(r1.users.flatMap((u) => u.notes).join(' ')).not.toMatch(/single occurrences/);

    // Exchange -> Severa: one Severa series with Severa's own "Last WeekDay".
    const masters = (w.severaSim.activities() as unknown as Array<Row & { recurrence: { pattern: { monthly: unknown } } | null }>).filter((a) => a.name === 'Month-end close');
    expect(masters).toHaveLength(1);
    expect(masters[0].recurrenceType).toBe('Series');
    expect(masters[0].recurrence?.pattern.monthly).toMatchObject({ dayOrdinal: 'Last', dayOrdinalOption: 'WeekDay' });
    const inExchange = await exchangeOccurrences(w, AINO, 'Month-end close');
    const inSevera = await severaOccurrences(w, G.aino, 'Month-end close');
    expect(inExchange.length).toBeGreaterThanOrEqual(3);
    expect(startsOf(inSevera)).toEqual(startsOf(inExchange));
    for (const o of inExchange) {
      // Each is the last weekday of its month: the next weekday is in another month.
      let next = localDate(o.start, HEL);
      do next = addDays(next, 1); while ([0, 6].includes(weekdayOf(next)));
      expect(next.slice(5, 7)).not.toBe(localDate(o.start, HEL).slice(5, 7));
    }

    // Severa -> Exchange: one Exchange series, RelativeMonthly on the last Weekday.
    const invoicing = w.outlook.items(MIKKO).filter((i) => i.subject === 'Invoicing day');
    expect(invoicing).toHaveLength(1);
    expect(invoicing[0].recurrence?.pattern).toEqual({ type: 'relativeMonthly', interval: 1, daysOfWeek: WORKDAYS, index: 'last' });
    expect(startsOf(await exchangeOccurrences(w, MIKKO, 'Invoicing day'))).toEqual(startsOf(await severaOccurrences(w, G.mikko, 'Invoicing day')));

    await expectQuiet(w);

    // And back: a rename in Severa reaches the Exchange series, which keeps its pattern.
    w.severaSim.updateActivity(masters[0].guid!, { name: 'Month-end close (finance)' });
    const r3 = await w.cycle();
    expect(r3.users.find((u) => u.email === AINO)).toMatchObject({ toExchange: { updated: 1, created: 0, deleted: 0 } });
    const [renamed] = w.outlook.items(AINO).filter((i) => i.subject.startsWith('Month-end close'));
    expect(renamed.subject).toBe('Month-end close (finance)');
    expect(renamed.recurrence?.pattern).toEqual({ type: 'relativeMonthly', interval: 1, daysOfWeek: WORKDAYS, index: 'last' });
    expect(startsOf(await exchangeOccurrences(w, AINO, 'Month-end close'))).toEqual(startsOf(inExchange));
    await expectQuiet(w);
  });

  it("Severa's every-weekday series becomes a weekly Monday-to-Friday Exchange series with the same occurrences", async () => {
    const w = await start(
      exchange,
      [],
      [
        {
          guid: '00000000-0000-4000-8000-0000000000e2',
          name: 'Stand-up',
          activityTypeGuid: DEMO_TYPES.meeting,
          ownerGuid: G.mikko,
          start: 'today+1T09:00',
          end: 'today+1T09:15',
          recurrence: { frequency: 'Daily', pattern: { daily: { everyWeekday: true } }, range: { maxOccurrences: 15 } },
        },
      ],
    );
    const r1 = await w.cycle();
    expect(r1.users.flatMap((u) => u.errors)).toEqual([]);
    const items = w.outlook.items(MIKKO).filter((i) => i.subject === 'Stand-up');
    expect(items).toHaveLength(1);
    expect(items[0].recurrence?.pattern).toMatchObject({ type: 'weekly', interval: 1, daysOfWeek: WORKDAYS });
    expect(items[0].recurrence?.range).toMatchObject({ type: 'numbered', numberOfOccurrences: 15 });
    const inExchange = await exchangeOccurrences(w, MIKKO, 'Stand-up');
    expect(inExchange).toHaveLength(15);
    expect(inExchange.every((o) => ![0, 6].includes(weekdayOf(localDate(o.start, HEL))))).toBe(true);
    expect(startsOf(inExchange)).toEqual(startsOf(await severaOccurrences(w, G.mikko, 'Stand-up')));
    await expectQuiet(w);

    // A change in Exchange keeps Severa's own "every weekday".
    w.outlook.update(MIKKO, items[0].id, { location: 'Teams' });
    await w.cycle();
    const master = (w.severaSim.activities() as unknown as Array<Row & { recurrence: { frequency: string; pattern: { daily?: { everyWeekday?: boolean } } } | null }>).find((a) => a.name === 'Stand-up' && a.recurrenceType === 'Series')!;
    expect(master.location).toBe('Teams');
    expect(master.recurrence).toMatchObject({ frequency: 'Daily', pattern: { daily: { everyWeekday: true } } });
    await expectQuiet(w);
  });

  it('a pattern Severa cannot hold travels as single occurrences inside the window: edits and deletions flow both ways, none lost, none twice', async () => {
    // Every second week on Sunday and Wednesday, weeks starting on Sunday, no end, begun ten days ago. Severa counts
    // weeks from Monday: as a Severa series every Sunday would move a week.
    const w = await start(
      exchange,
      [
        {
          mailbox: AINO,
          subject: 'Fortnightly ops',
          start: 'today-10T12:00',
          end: 'today-10T13:00',
          timeZone: HEL,
          location: 'Room Kallio',
          recurrence: { pattern: { type: 'Weekly', interval: 2, daysOfWeek: ['Sunday', 'Wednesday'], firstDayOfWeek: 'Sunday' }, range: { type: 'NoEnd', startDate: 'today-10' } },
        },
      ],
      [],
    );
    const [series] = w.outlook.items(AINO).filter((i) => i.subject === 'Fortnightly ops');
    const r1 = await w.cycle();
    const aino = r1.users.find((u) => u.email === AINO)!;
    expect(aino.errors).toEqual([]);
    expect(aino.notes.join(' ')).toMatch(/"Fortnightly ops" is synced to Severa as single occurrences inside the window: Severa counts "every 2 weeks" in weeks that start on Monday/);

    const check = async () => {
      const ex = await exchangeOccurrences(w, AINO, 'Fortnightly ops');
      const sv = await severaOccurrences(w, G.aino, 'Fortnightly ops');
      expect(sv.every((a) => a.recurrenceType === 'None')).toBe(true);
      // Same occurrences on both sides over the window: none lost, none twice.
      expect(startsOf(sv)).toEqual(startsOf(ex));
      expect(sv.map((a) => a.name)).toEqual(ex.map((o) => o.subject));
      // Nothing before the window (the series began ten days ago), nothing twice anywhere.
      const all = (w.severaSim.activities() as Row[]).filter((a) => (a.name ?? '').startsWith('Fortnightly ops'));
      expect(all.every((a) => Date.parse(a.startDateTime!) >= localToMs(HEL, today()))).toBe(true);
      expect(new Set(all.map((a) => a.startDateTime)).size).toBe(all.length);
      return { ex, sv };
    };
    const first = await check();
    expect(first.ex.length).toBeGreaterThanOrEqual(14);
    expect(aino.toSevera.created).toBe(first.sv.length);
    // Every Sunday and Wednesday of every second week (Sunday-started weeks), as Exchange has them.
    expect(first.ex.every((o) => [0, 3].includes(weekdayOf(localDate(o.start, HEL))))).toBe(true);

    await expectQuiet(w);

    // 1. One occurrence edited in Exchange (Outlook makes it an exception): that Severa activity only changes.
    const iso = (ms: number) => new Date(ms).toISOString();
    const [, second, third, fourth, fifth] = first.ex;
    w.outlook.updateOccurrence(AINO, series.id, iso(second.start), { subject: 'Fortnightly ops (retro)', start: iso(second.start + 3600_000), end: iso(second.start + 7200_000) });
    const r2 = await w.cycle();
    expect(r2.users.find((u) => u.email === AINO)).toMatchObject({ toSevera: { created: 0, updated: 1, deleted: 0 }, toExchange: { created: 0, updated: 0, deleted: 0 } });
    const afterEdit = await check();
    expect(afterEdit.sv.find((a) => a.name === 'Fortnightly ops (retro)')?.startDateTime).toBeDefined();
    expect(Date.parse(afterEdit.sv.find((a) => a.name === 'Fortnightly ops (retro)')!.startDateTime!)).toBe(second.start + 3600_000);

    // 2. One occurrence deleted in Exchange: its Severa activity goes, the rest stay.
    w.outlook.cancelOccurrence(AINO, series.id, iso(third.start));
    const r3 = await w.cycle();
    expect(r3.users.find((u) => u.email === AINO)).toMatchObject({ toSevera: { created: 0, updated: 0, deleted: 1 } });
    const afterDelete = await check();
    expect(afterDelete.sv).toHaveLength(first.sv.length - 1);

    // 3. One occurrence edited in Severa: it becomes an exception of the Exchange series (not a new item).
    const fourthInSevera = afterDelete.sv.find((a) => Date.parse(a.startDateTime!) === fourth.start)!;
    w.severaSim.updateActivity(fourthInSevera.guid!, { location: 'Room Vallila' });
    const r4 = await w.cycle();
    expect(r4.users.find((u) => u.email === AINO)).toMatchObject({ toExchange: { created: 0, updated: 1, deleted: 0 }, toSevera: { created: 0, updated: 0, deleted: 0 } });
    expect(w.outlook.items(AINO).filter((i) => i.subject.startsWith('Fortnightly ops'))).toHaveLength(1);
    const afterSeveraEdit = await check();
    expect(afterSeveraEdit.ex.find((o) => o.start === fourth.start)?.location).toBe('Room Vallila');
    expect(afterSeveraEdit.ex.filter((o) => o.location === 'Room Vallila')).toHaveLength(1);

    // 4. One occurrence deleted in Severa: deleted from the Exchange series, which stays.
    const fifthInSevera = afterSeveraEdit.sv.find((a) => Date.parse(a.startDateTime!) === fifth.start)!;
    w.severaSim.deleteActivity(fifthInSevera.guid!);
    // Deletions in Severa are found by re-listing a user (the rolling reconciliation); a slice of 2 covers both users.
    const r5 = await w.cycle();
    expect(r5.users.find((u) => u.email === AINO)).toMatchObject({ toExchange: { created: 0, updated: 0, deleted: 1 } });
    const afterSeveraDelete = await check();
    expect(afterSeveraDelete.ex.some((o) => o.start === fifth.start)).toBe(false);
    expect(afterSeveraDelete.ex).toHaveLength(first.ex.length - 2);
    expect(w.outlook.item(AINO, series.id)!.cancelledOccurrences).toHaveLength(2);
    await expectQuiet(w);

    // The deletion the sync made in Exchange is journaled: restoring it puts the occurrence back into the series, and
    // the next cycle brings it to Severa again.
    const journaled = listDeletions(w.store, { email: AINO }).find((d) => d.side === 'exchange');
    expect(journaled).toMatchObject({ subject: 'Fortnightly ops' });
    const restored = await restoreDeletion({ severa: w.severa, calendar: w.calendar, store: w.store, now: () => new Date() }, journaled!.id);
    expect(restored.message).toMatch(/back in its series/);
    expect(w.outlook.items(AINO).filter((i) => i.subject.startsWith('Fortnightly ops'))).toHaveLength(1);
    expect(w.outlook.item(AINO, series.id)!.cancelledOccurrences).toHaveLength(1);
    const r5b = await w.cycle();
    expect(r5b.users.find((u) => u.email === AINO)).toMatchObject({ toSevera: { created: 1, updated: 0, deleted: 0 }, toExchange: { created: 0, updated: 0, deleted: 0 } });
    const afterRestore = await check();
    expect(afterRestore.ex).toHaveLength(first.ex.length - 1);
    expect(afterRestore.ex.some((o) => o.start === fifth.start)).toBe(true);
    await expectQuiet(w);

    // 5. The whole series renamed in Exchange: every occurrence's activity follows, the changed one keeps its own name.
    w.outlook.update(AINO, series.id, { subject: 'Fortnightly ops v2' });
    const r6 = await w.cycle();
    const renamed = await check();
    expect(r6.users.find((u) => u.email === AINO)!.toSevera.updated).toBe(renamed.sv.filter((a) => a.name === 'Fortnightly ops v2').length);
    expect(renamed.sv.map((a) => a.name).filter((n) => n !== 'Fortnightly ops v2')).toEqual(['Fortnightly ops (retro)']);
    await expectQuiet(w);
  });

  it('a flattened series that changes shape: occurrences give way to a Severa series and back, never both', async () => {
    const w = await start(
      exchange,
      [
        {
          mailbox: AINO,
          subject: 'Ops sync',
          start: 'today+1T12:00',
          end: 'today+1T12:30',
          timeZone: HEL,
          recurrence: { pattern: { type: 'Weekly', interval: 2, daysOfWeek: ['Sunday', 'Wednesday'], firstDayOfWeek: 'Sunday' }, range: { type: 'Numbered', startDate: 'today+1', count: 10 } },
        },
      ],
      [],
    );
    const [series] = w.outlook.items(AINO).filter((i) => i.subject === 'Ops sync');
    await w.cycle();
    const severaRows = () => (w.severaSim.activities() as Row[]).filter((a) => a.name === 'Ops sync' && a.recurrenceType !== 'Occurrence');
    const flat = severaRows();
    expect(flat.length).toBeGreaterThanOrEqual(6);
    expect(flat.every((a) => a.recurrenceType === 'None')).toBe(true);

    // The user makes it weekly on the same days: Severa can hold that, so it becomes one Severa series.
    const weekly: OutlookRecurrence = { ...series.recurrence!, pattern: { type: 'weekly', interval: 1, daysOfWeek: ['sunday', 'wednesday'], firstDayOfWeek: 'sunday' } };
    w.outlook.update(AINO, series.id, { recurrence: weekly });
    const r2 = await w.cycle();
    expect(r2.users.flatMap((u) => u.errors)).toEqual([]);
    expect(r2.users.find((u) => u.email === AINO)).toMatchObject({ toSevera: { created: 1, deleted: flat.length }, heldDeletions: 0 });
    const whole = severaRows();
    expect(whole).toHaveLength(1);
    expect(whole[0].recurrenceType).toBe('Series');
    expect(startsOf(await severaOccurrences(w, G.aino, 'Ops sync'))).toEqual(startsOf(await exchangeOccurrences(w, AINO, 'Ops sync')));
    await expectQuiet(w);

    // And back to every second week: the Severa series gives way to single occurrences again.
    w.outlook.update(AINO, series.id, { recurrence: { ...series.recurrence! } });
    const r3 = await w.cycle();
    expect(r3.users.find((u) => u.email === AINO)).toMatchObject({ toSevera: { deleted: 1 }, heldDeletions: 0 });
    const again = severaRows();
    expect(again.every((a) => a.recurrenceType === 'None')).toBe(true);
    expect(startsOf(await severaOccurrences(w, G.aino, 'Ops sync'))).toEqual(startsOf(await exchangeOccurrences(w, AINO, 'Ops sync')));
    // The Exchange series itself was never touched by the sync.
    expect(w.outlook.items(AINO).filter((i) => i.subject === 'Ops sync')).toHaveLength(1);
    await expectQuiet(w);
  });

  it('a flattened series keeps arriving: an occurrence entering the window later is synced then', async () => {
    const w = await start(
      exchange,
      [
        {
          mailbox: AINO,
          subject: 'Long fortnightly',
          start: 'today+1T12:00',
          end: 'today+1T12:30',
          timeZone: HEL,
          recurrence: { pattern: { type: 'Weekly', interval: 2, daysOfWeek: ['Sunday', 'Wednesday'], firstDayOfWeek: 'Sunday' }, range: { type: 'NoEnd', startDate: 'today+1' } },
        },
      ],
      [],
    );
    w.options.windowDaysAhead = 30;
    await w.cycle();
    const within30 = await severaOccurrences(w, G.aino, 'Long fortnightly', { from: localToMs(HEL, today()), to: Date.now() + 120 * DAY_MS });
    expect(within30.length).toBeGreaterThanOrEqual(3);
    expect(within30.every((a) => Date.parse(a.startDateTime!) < Date.now() + 31 * DAY_MS)).toBe(true);
    // The window grows (as it does when time passes): the next cycle reads the series again and adds what entered.
    w.options.windowDaysAhead = DAYS;
    const r = await w.cycle();
    expect(r.users.find((u) => u.email === AINO)!.toSevera.created).toBeGreaterThan(0);
    expect(startsOf(await severaOccurrences(w, G.aino, 'Long fortnightly'))).toEqual(startsOf(await exchangeOccurrences(w, AINO, 'Long fortnightly')));
    await expectQuiet(w);
  });

  it("a series reaching past Severa's two-year horizon travels as occurrences: at once, or when the window gets there", async () => {
    // Weekly since long ago, no end: Severa would show none of it by now.
    const dayName = (date: string) => WEEKDAYS_OF_WEEK[weekdayOf(date)];
    const w = await start(
      exchange,
      [
        {
          mailbox: AINO,
          subject: 'Old weekly',
          start: 'today-800T09:00',
          end: 'today-800T09:30',
          timeZone: HEL,
          recurrence: { pattern: { type: 'Weekly', interval: 1, daysOfWeek: [dayName(addDays(today(), -800))] }, range: { type: 'NoEnd', startDate: 'today-800' } },
        },
        {
          mailbox: MIKKO,
          subject: 'Nearly old weekly',
          start: 'today-720T10:00',
          end: 'today-720T10:30',
          timeZone: HEL,
          recurrence: { pattern: { type: 'Weekly', interval: 1, daysOfWeek: [dayName(addDays(today(), -720))] }, range: { type: 'NoEnd', startDate: 'today-720' } },
        },
      ],
      [],
    );
    w.options.windowDaysAhead = 10;
    const r1 = await w.cycle();
    expect(r1.users.flatMap((u) => u.errors)).toEqual([]);
    expect(r1.users.find((u) => u.email === AINO)!.notes.join(' ')).toMatch(/"Old weekly" is synced to Severa as single occurrences inside the window: Severa shows a series' occurrences for about two years/);
    const tenDays = { from: localToMs(HEL, today()), to: Date.now() + 10 * DAY_MS };
    const old = await severaOccurrences(w, G.aino, 'Old weekly', tenDays);
    expect(old.length).toBeGreaterThanOrEqual(1);
    expect(old.every((a) => a.recurrenceType === 'None')).toBe(true);
    expect(startsOf(old)).toEqual(startsOf(await exchangeOccurrences(w, AINO, 'Old weekly', tenDays)));
    // Still inside the horizon for these ten days: one Severa series.
    const nearly = (w.severaSim.activities() as Row[]).filter((a) => a.name === 'Nearly old weekly' && a.recurrenceType !== 'Occurrence');
    expect(nearly.map((a) => a.recurrenceType)).toEqual(['Series']);
    expect(startsOf(await severaOccurrences(w, G.mikko, 'Nearly old weekly', tenDays))).toEqual(startsOf(await exchangeOccurrences(w, MIKKO, 'Nearly old weekly', tenDays)));
    await expectQuiet(w);

    // The window reaches past the horizon (as it does when days pass): the series is read again and swaps to occurrences.
    w.options.windowDaysAhead = 40;
    const r2 = await w.cycle();
    const mikko = r2.users.find((u) => u.email === MIKKO)!;
    expect(mikko.errors).toEqual([]);
    expect(mikko.heldDeletions).toBe(0);
    expect(mikko.toSevera.deleted).toBe(1);
    const fortyDays = { from: localToMs(HEL, today()), to: Date.now() + 40 * DAY_MS };
    const swapped = await severaOccurrences(w, G.mikko, 'Nearly old weekly', fortyDays);
    expect(swapped.every((a) => a.recurrenceType === 'None')).toBe(true);
    expect(startsOf(swapped)).toEqual(startsOf(await exchangeOccurrences(w, MIKKO, 'Nearly old weekly', fortyDays)));
    expect(swapped.length).toBeGreaterThanOrEqual(5);
    expect(startsOf(await severaOccurrences(w, G.aino, 'Old weekly', fortyDays))).toEqual(startsOf(await exchangeOccurrences(w, AINO, 'Old weekly', fortyDays)));
    await expectQuiet(w);
  });

  it('a Severa "every 2 weeks" counted from Mondays stays one series: Exchange 2016 and Exchange Online hold its week start', async () => {
    const tomorrow = WEEKDAYS_OF_WEEK[weekdayOf(addDays(today(), 1))].toLowerCase();
    const other = tomorrow === 'sunday' ? 'wednesday' : tomorrow;
    const w = await start(exchange, [], [biweekly(tomorrow)]);
    const r1 = await w.cycle();
    expect(r1.users.flatMap((u) => u.errors)).toEqual([]);
    expect(r1.users.flatMap((u) => u.notes).join(' ')).not.toMatch(/single occurrences/);
    const [series] = w.outlook.items(MIKKO).filter((i) => i.subject.startsWith('Biweekly planning'));
    expect(w.outlook.items(MIKKO).filter((i) => i.subject.startsWith('Biweekly planning'))).toHaveLength(1);
    expect({ ...series.recurrence?.pattern, daysOfWeek: [...(series.recurrence?.pattern.daysOfWeek ?? [])].sort() }).toEqual({ type: 'weekly', interval: 2, daysOfWeek: [other, 'sunday'].sort(), firstDayOfWeek: 'monday' });
    const inSevera = await severaOccurrences(w, G.mikko, 'Biweekly planning');
    expect(inSevera).toHaveLength(12);
    expect(startsOf(await exchangeOccurrences(w, MIKKO, 'Biweekly planning'))).toEqual(startsOf(inSevera));
    await expectQuiet(w);
  });
});

/** Mikko's Severa series every second week on Sunday and on tomorrow's weekday (Severa's weeks start on Monday). */
function biweekly(tomorrow: string) {
  return {
    guid: '00000000-0000-4000-8000-0000000000e3',
    name: 'Biweekly planning',
    activityTypeGuid: DEMO_TYPES.meeting,
    ownerGuid: G.mikko,
    start: 'today+1T14:00',
    end: 'today+1T15:00',
    recurrence: { frequency: 'Weekly', pattern: { weekly: { interval: 2, sunday: true, [tomorrow === 'sunday' ? 'wednesday' : tomorrow]: true } }, range: { maxOccurrences: 12 } },
  };
}

describe('e2e over HTTP on ews: what only on-premises Exchange has', () => {
  it('Exchange 2007 cannot hold a Severa "every 2 weeks" counted from Mondays: its occurrences arrive as single items, paired both ways', async () => {
    const tomorrow = WEEKDAYS_OF_WEEK[weekdayOf(addDays(today(), 1))].toLowerCase();
    const w = (world = await startE2e({
      ...seeds([], [biweekly(tomorrow)]),
      users: [AINO, MIKKO],
      serverType: 'Exchange2007_SP1',
    }));
    w.options.windowDaysAhead = DAYS;
    w.options.activityTypesToExchange = [DEMO_TYPES.meeting];
    const r1 = await w.cycle();
    const mikko = r1.users.find((u) => u.email === MIKKO)!;
    expect(mikko.errors).toEqual([]);
    expect(mikko.notes.join(' ')).toMatch(/"Biweekly planning" is synced as single occurrences inside the window: Exchange 2007 counts "every 2 weeks" in weeks that start on Sunday/);
    const singles = () => w.outlook.items(MIKKO).filter((i) => i.subject.startsWith('Biweekly planning'));
    expect(singles().every((i) => i.recurrence === null)).toBe(true);
    const inSevera = await severaOccurrences(w, G.mikko, 'Biweekly planning');
    expect(inSevera).toHaveLength(12);
    expect(startsOf(await exchangeOccurrences(w, MIKKO, 'Biweekly planning'))).toEqual(startsOf(inSevera));
    await expectQuiet(w);

    // One occurrence changed and one deleted in Outlook: Severa changes and deletes those occurrences of its series.
    const [first, second] = singles().sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    w.outlook.update(MIKKO, first.id, { location: 'Room Pasila' });
    w.outlook.delete(MIKKO, second.id);
    const r2 = await w.cycle();
    expect(r2.users.find((u) => u.email === MIKKO)).toMatchObject({ toSevera: { created: 0, updated: 1, deleted: 1 }, toExchange: { created: 0, updated: 0, deleted: 0 } });
    const after = await severaOccurrences(w, G.mikko, 'Biweekly planning');
    expect(after).toHaveLength(11);
    expect(after.filter((a) => a.recurrenceType === 'Exception').map((a) => a.location)).toEqual(['Room Pasila']);
    expect(startsOf(await exchangeOccurrences(w, MIKKO, 'Biweekly planning'))).toEqual(startsOf(after));
    await expectQuiet(w);
  });
});
