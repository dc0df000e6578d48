import { afterEach, describe, expect, it } from 'vitest';
import type { UserProblem } from '../../src-main/common/sync-report.ts';
import { addDays, localDate, localToMs } from '../../src-main/sync/zoned-time.ts';
import { occurrenceGuid } from '../peers/severa/series-occurrences.ts';
import { emptyCalendarsSeed, startE2e, type E2eWorld } from './e2e-harness.ts';
import { AINO, MIKKO, TYPE, TYPES } from './fakes/demo-world.ts';
import type { ExchangeKind } from './outlook-back-door.ts';

/**
 * Verified writes over real HTTP against "a server that differs" (issue 12, item 3): each simulator, seeded, answers a
 * write as done but keeps something else (a series' subject, an occurrence's new times, an occurrence addressed by its
 * index lands on another date, a new item's place; Severa: a new name). After each write the sync knows what the server
 * holds (the write's answer, or one batched read back): the user's status names every difference with its fix, the
 * pair records what is really there, the next cycle writes nothing by itself and says the difference again; it never
 * reports agreement.
 */

const HEL = 'Europe/Helsinki';
const WEEKDAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const today = () => localDate(Date.now(), HEL);
const day = (n: number) => addDays(today(), n);
const at = (n: number, hh: number, mm = 0) => new Date(localToMs(HEL, day(n), hh, mm)).toISOString();
const weekdayOf = (date: string) => new Date(`${date}T12:00:00Z`).getUTCDay();
const SERIES = '00000000-0000-4000-8000-0000000000f1';

function seed() {
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
        guid: SERIES,
        name: 'Weekly sync',
        activityTypeGuid: TYPE.meeting,
        ownerGuid: AINO.guid,
        start: 'today+1T09:00',
        end: 'today+1T10:00',
        recurrence: { frequency: 'Weekly', pattern: { weekly: { interval: 1, [wd]: true } }, range: { maxOccurrences: 6 } },
      },
    ],
  };
}

let world: E2eWorld | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

async function start(exchange: ExchangeKind): Promise<E2eWorld> {
  const w = (world = await startE2e({ exchange, ewsSeed: emptyCalendarsSeed(), severaSeed: seed(), users: [AINO.email, MIKKO.email] }));
  w.options.activityTypesToExchange = [TYPE.meeting];
  const first = await w.cycle();
  expect(first.users.map((u) => u.outcome)).toEqual(['ok', 'ok']);
  return w;
}

const severaWrites = (w: E2eWorld) =>
  Object.entries(w.severaSim.counters().byRoute).filter(([k]) => /^(POST|PATCH|DELETE) \/v1\/(activities|activityparticipants)/.test(k)).reduce((n, [, v]) => n + v, 0);

const differences = (problems: UserProblem[]) => problems.filter((p) => p.code === 'write-differs');

/** The cycle's and the stored status's problems of `email` that say a write was kept differently. */
function said(w: E2eWorld, report: Awaited<ReturnType<E2eWorld['cycle']>>, email: string): UserProblem[] {
  const mine = differences(report.users.find((u) => u.email === email)!.errors);
  expect(differences(w.store.lastStatus(email)!.report.errors)).toEqual(mine);
  return mine;
}

/** After a write kept differently: the next cycles write nothing by themselves and keep saying it; never 'ok'. */
async function expectSaidAgainWithoutRewrite(w: E2eWorld, email: string, words: string): Promise<void> {
  for (let i = 0; i < 2; i++) {
    w.outlook.resetCounters();
    w.severaSim.resetCounters();
    const again = await w.cycle();
    expect(again.users.flatMap((u) => u.changes)).toEqual([]);
    expect(w.outlook.counters().writes + severaWrites(w)).toBe(0);
    const user = again.users.find((u) => u.email === email)!;
    expect(user.outcome).toBe('partial');
    const standing = said(w, again, email);
    expect(standing).toHaveLength(1);
    expect(standing[0].message).toMatch(/^Still different since \d{4}-\d{2}-\d{2}: /);
    expect(standing[0].message).toContain(words);
    expect(standing[0].fix).toBeTruthy();
  }
}

describe('e2e over HTTP on ews: a server that differs', () => {
  it("Exchange keeps a series' old subject: the status names it, the pair records it, nothing is written again", async () => {
    const w = await start('ews');
    w.ews!.setFaults({ seed: 1, keepSeriesSubjectRate: 1 });
    w.severaSim.updateActivity(SERIES, { name: 'Weekly sync v2' });
    const r = await w.cycle();
    w.ews!.setFaults({});
    expect(r.users[0].toExchange.updated).toBe(1);
    const [p] = said(w, r, AINO.email);
    expect(p.message).toContain(`Exchange did not store what the sync wrote to "Weekly sync v2" in the calendar of ${AINO.email}`);
    expect(p.message).toContain(`the series' subject: it holds "Weekly sync", not "Weekly sync v2"`);
    expect(p.fix).toMatch(/will not write it again by itself/);
    expect(r.users[0].outcome).toBe('partial');
    expect(w.outlook.items(AINO.email).map((i) => i.subject)).toEqual(['Weekly sync']);
    await expectSaidAgainWithoutRewrite(w, AINO.email, `the series' subject: it holds "Weekly sync", not "Weekly sync v2"`);
    // Written again (the subject changed once more in Severa, the server behaves): agreement, and the problem is gone.
    w.severaSim.updateActivity(SERIES, { name: 'Weekly sync v3' });
    const fixed = await w.cycle();
    expect(fixed.users[0].outcome).toBe('ok');
    expect(differences(fixed.users[0].errors)).toEqual([]);
  });

  it("Exchange resets an occurrence's new times and an occurrence addressed by its index lands on another date: each one named", async () => {
    const w = await start('ews');
    w.ews!.setFaults({ seed: 1, resetExceptionTimesRate: 1, misplaceOccurrenceRate: 1 });
    // The second occurrence moved to 13:00, the third deleted, in Severa.
    w.severaSim.updateActivity(occurrenceGuid(SERIES, Date.parse(at(8, 9))), { startDateTime: at(8, 13), endDateTime: at(8, 14) });
    w.severaSim.deleteActivity(occurrenceGuid(SERIES, Date.parse(at(15, 9))));
    const r = await w.cycle();
    w.ews!.setFaults({});
    const [p] = said(w, r, AINO.email);
    const key = (n: number) => new Date(Date.parse(at(n, 9))).toISOString();
    expect(p.message).toContain(`the change of the occurrence of ${key(8)}: it holds the series' own times and fields (it was moved to ${at(8, 13)})`);
    expect(p.message).toContain(`the deletion of the occurrence of ${key(15)}: Exchange still shows it`);
    expect(p.message).toContain(`the occurrence of ${key(22)}: it is deleted there, though it was not meant to be`);
    await expectSaidAgainWithoutRewrite(w, AINO.email, `the deletion of the occurrence of ${key(15)}`);
  });

  it("Exchange drops a new item's place: named, recorded as it is", async () => {
    const w = await start('ews');
    w.ews!.setFaults({ seed: 1, dropLocationRate: 1 });
    w.severaSim.createActivity({ name: 'Steering group', startDateTime: at(3, 12), endDateTime: at(3, 13), location: 'Room 7', activityType: { guid: TYPE.meeting }, ownerUser: { guid: MIKKO.guid } });
    const r = await w.cycle();
    w.ews!.setFaults({});
    expect(r.users[1].toExchange.created).toBe(1);
    const [p] = said(w, r, MIKKO.email);
    expect(p.message).toContain(`Exchange did not store what the sync wrote to "Steering group" in the calendar of ${MIKKO.email}: the location: it holds no location, not "Room 7".`);
    expect(differences(r.users[0].errors)).toEqual([]);
    await expectSaidAgainWithoutRewrite(w, MIKKO.email, 'the location: it holds no location');
  });

  it('Severa keeps an old name the sync patched: named from the PATCH answer, never read again', async () => {
    const w = await start('ews');
    const made = w.outlook.create(MIKKO.email, { subject: 'Budget', start: at(4, 10), end: at(4, 11) });
    await w.cycle();
    w.severaSim.setFaults({ seed: 1, keepNameRate: 1 });
    w.outlook.update(MIKKO.email, made.id, { subject: 'Budget review' });
    w.severaSim.resetCounters();
    const r = await w.cycle();
    w.severaSim.setFaults({});
    expect(r.users[1].toSevera.updated).toBe(1);
    // The answer was the truth: no GET of the activity before or after the PATCH.
    expect(Object.keys(w.severaSim.counters().byRoute).filter((k) => k.startsWith('GET /v1/activities/'))).toEqual([]);
    const [p] = said(w, r, MIKKO.email);
    expect(p.message).toContain('Severa did not store what the sync wrote to "Budget review": the subject: it holds "Budget", not "Budget review".');
    await expectSaidAgainWithoutRewrite(w, MIKKO.email, 'the subject: it holds "Budget"');
  });
});

describe('e2e over HTTPS on graph: a server that differs', () => {
  it("Exchange Online keeps a series' old subject and lands a moved occurrence a day off: both named from the write answers", async () => {
    const w = await start('graph');
    w.graph!.setFaults({ seed: 1, keepSeriesSubjectRate: 1 });
    w.severaSim.updateActivity(SERIES, { name: 'Weekly sync v2' });
    const r = await w.cycle();
    const [p] = said(w, r, AINO.email);
    expect(p.message).toContain(`the series' subject: it holds "Weekly sync", not "Weekly sync v2"`);
    w.graph!.setFaults({ seed: 1, misplaceOccurrenceRate: 1 });
    w.severaSim.updateActivity(occurrenceGuid(SERIES, Date.parse(at(8, 9))), { startDateTime: at(8, 13), endDateTime: at(8, 14) });
    const moved = await w.cycle();
    w.graph!.setFaults({});
    const key = new Date(Date.parse(at(8, 9))).toISOString();
    const named = said(w, moved, AINO.email).map((x) => x.message).join(' | ');
    expect(named).toContain(`the occurrence of ${key}: its start is "${at(9, 13)}", not "${at(8, 13)}"`);
  });
});
