/**
 * GraphCalendarConnector.watchChanges against the Graph simulator over HTTPS: mailboxes are read from the engine's
 * stored delta positions, 20 to a $batch, each batch once per interval; an Outlook edit is reported once per position;
 * quiet reads renew the stored position so the server's small cache of positions never drops it; an expired position
 * is a resync; a throttled mailbox waits what it was told while the others go on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CalendarError, type ChangeWatch, type WatchPositions } from '../../src-main/exchange/calendar-connector.ts';
import type { EventFields } from '../../src-main/sync/calendar-event.ts';
import { GraphCalendarConnector } from '../../src-main/exchange/graph/graph-calendar-connector.ts';
import type { GraphRequestLogEntry } from '../peers/graph/graph-simulator.ts';
import { loadGraphSeed } from '../peers/graph/graph-simulator.ts';
import { DEMO_GRAPH_SEED, startGraphHarness, type GraphHarness } from './graph-harness.ts';

const AINO = 'aino.virtanen@contoso.example';
const MIKKO = 'mikko.lahtinen@contoso.example';
const EVERYONE = [AINO, MIKKO, 'sara.nieminen@contoso.example', 'jussi.korhonen@contoso.example', 'leena.makela@contoso.example'];
const INTERVAL = 150;

/** The engine's stored positions, in memory; `renew` is the compare-and-set the product's store does. */
class Positions implements WatchPositions {
  readonly map = new Map<string, string | null>();
  /** What the sync holds: item id -> version (its pairs), for `settled`. */
  readonly held = new Map<string, string>();
  renewals = 0;
  settled(_mailbox: string, items: ReadonlyArray<{ id: string; version: string }>): boolean {
    return items.every((i) => this.held.get(i.id) === i.version);
  }
  position(mailbox: string): string | null {
    return this.map.get(mailbox) ?? null;
  }
  renew(mailbox: string, current: string, next: string): boolean {
    if (this.map.get(mailbox) !== current) return false;
    this.map.set(mailbox, next);
    this.renewals++;
    return true;
  }
}

class Recorder {
  changed: string[] = [];
  resync: Array<{ mailbox: string; reason: string }> = [];
  readonly events = {
    changed: (mailbox: string) => void this.changed.push(mailbox),
    resync: (mailbox: string, reason: string) => void this.resync.push({ mailbox, reason }),
  };
  changedFor(mailbox: string): number {
    return this.changed.filter((m) => m === mailbox).length;
  }
}

async function until(what: string, check: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let h: GraphHarness;
let watch: ChangeWatch | null = null;
let log: Array<GraphRequestLogEntry & { at: number }> = [];

afterEach(async () => {
  await watch?.stop();
  watch = null;
  expect(h.sim.contractViolations()).toEqual([]);
  await h.close();
  log = [];
});

async function start(seed?: unknown): Promise<void> {
  h = await startGraphHarness({ ...(seed ? { seed } : {}), onRequest: (e) => void log.push({ ...e, at: Date.now() }) });
}

/** The engine's sync of a mailbox: reads from its stored position and stores the new one. */
async function engineSync(positions: Positions, mailbox: string): Promise<number> {
  const changes = await h.connector.syncChanges(mailbox, positions.position(mailbox));
  positions.map.set(mailbox, changes.syncState);
  return changes.changed.length + changes.deletedIds.length;
}

function deltaReads(mailbox?: string): Array<GraphRequestLogEntry & { at: number }> {
  return log.filter((e) => e.route === 'calendarView.delta' && (mailbox === undefined || e.mailbox === mailbox));
}

function inDays(days: number, hour: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString();
}

describe('Graph change watch', () => {
  it('reads every mailbox from the stored position in one $batch per interval, reports an Outlook edit once, then reads on from the new position', async () => {
    await start();
    const positions = new Positions();
    for (const m of EVERYONE) await engineSync(positions, m);
    const recorder = new Recorder();
    watch = h.connector.watchChanges(recorder.events, { pollIntervalMs: INTERVAL, positions });
    watch.setMailboxes(EVERYONE);
    expect(Object.values(watch.modes()).map((m) => m.mode)).toEqual(['live', 'live', 'live', 'live', 'live']);

    log = [];
    await until('five quiet rounds', () => deltaReads(AINO).length >= 5);
    // Every read went in a $batch, and the five mailboxes shared one: a quiet round of five mailboxes is one request.
    const reads = deltaReads();
    expect(reads.every((e) => e.inBatch)).toBe(true);
    const batches = log.filter((e) => e.route !== null && !e.inBatch && e.path.endsWith('/$batch'));
    expect(batches.length).toBeGreaterThanOrEqual(5);
    expect(reads.length).toBeLessThanOrEqual(batches.length * EVERYONE.length);
    for (const m of EVERYONE) expect(Math.abs(deltaReads(m).length - deltaReads(AINO).length)).toBeLessThanOrEqual(1);
    expect(recorder.changed).toEqual([]);

    h.sim.mailbox(AINO).create({ subject: 'Dentist', start: inDays(3, 8), end: inDays(3, 9), timeZone: 'Europe/Helsinki' });
    await until('the edit is reported', () => recorder.changedFor(AINO) === 1);
    // Reported once for that position, however many rounds pass before the engine reads it.
    const readsAfter = deltaReads(MIKKO).length;
    await until('five more rounds', () => deltaReads(MIKKO).length >= readsAfter + 5);
    expect(recorder.changed).toEqual([AINO]);

    expect(await engineSync(positions, AINO)).toBe(1);
    h.sim.mailbox(AINO).create({ subject: 'Physio', start: inDays(4, 8), end: inDays(4, 9), timeZone: 'Europe/Helsinki' });
    await until('the second edit is reported', () => recorder.changedFor(AINO) === 2);
    expect(recorder.changed).toEqual([AINO, AINO]);
    expect(recorder.resync).toEqual([]);
  });

  it('spreads 45 mailboxes over three batches of at most 20, each mailbox read once per interval', async () => {
    const seed = loadGraphSeed(DEMO_GRAPH_SEED) as { users: Array<Record<string, unknown>> };
    const extra = Array.from({ length: 40 }, (_, i) => `user${String(i).padStart(2, '0')}@contoso.example`);
    seed.users.push(...extra.map((upn, i) => ({ id: `00000000-0000-4000-8000-0000000e${String(i).padStart(4, '0')}`, userPrincipalName: upn, displayName: upn.split('@')[0] })));
    await start(seed);
    const positions = new Positions();
    const all = [...EVERYONE, ...extra];
    for (const m of all) await engineSync(positions, m);
    watch = h.connector.watchChanges(new Recorder().events, { pollIntervalMs: 300, positions });
    watch.setMailboxes(all);
    log = [];
    await until('four rounds', () => deltaReads('user39@contoso.example').length >= 4, 15_000);
    const outer = log.filter((e) => !e.inBatch && e.path.endsWith('/$batch'));
    // Sub-requests are logged before their $batch: count them per batch.
    const sizes: number[] = [];
    let current = 0;
    for (const e of log) {
      if (e.inBatch && e.route === 'calendarView.delta') current++;
      else if (!e.inBatch && e.path.endsWith('/$batch')) {
        sizes.push(current);
        current = 0;
      }
    }
    expect(outer.length).toBe(sizes.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(20);
    expect(sizes.slice(0, 6).sort((a, b) => a - b)).toEqual([5, 5, 20, 20, 20, 20]);
    const counts = all.map((m) => deltaReads(m).length);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it("renews the stored position while reads find nothing, so the server's small cache never drops it (without renewals it does)", async () => {
    const seed = loadGraphSeed(DEMO_GRAPH_SEED) as Record<string, unknown>;
    seed.graph = { syncStateCacheSize: 6 };
    await start(seed);

    // Without renewals: the watch's reads push the engine's position out of the server's cache.
    const plain = new Positions();
    await engineSync(plain, AINO);
    const noRenew: WatchPositions = { position: (m) => plain.position(m) };
    watch = h.connector.watchChanges(new Recorder().events, { pollIntervalMs: 100, positions: noRenew });
    watch.setMailboxes([AINO]);
    // The reads themselves end up refused once the position they read from was dropped.
    await until('the position dropped', () => deltaReads(AINO).some((e) => e.status === 410));
    await watch.stop();
    const expired = await h.connector.syncChanges(AINO, plain.position(AINO)).then(() => null, (e: unknown) => e);
    expect(expired).toBeInstanceOf(CalendarError);
    expect((expired as CalendarError).code).toBe('invalid-sync-state');

    // With renewals every two quiet reads: the stored position stays readable.
    log = [];
    const positions = new Positions();
    await engineSync(positions, AINO);
    const recorder = new Recorder();
    const renewing = new GraphCalendarConnector({ client: h.connection.client, window: { startDate: h.settings.enrollments[0].syncStartDate, daysAhead: h.settings.windowDaysAhead }, watch: { renewAfterQuietPolls: 2 } });
    watch = renewing.watchChanges(recorder.events, { pollIntervalMs: 100, positions });
    watch.setMailboxes([AINO]);
    await until('twenty reads', () => deltaReads(AINO).length >= 20);
    await watch.stop();
    expect(positions.renewals).toBeGreaterThanOrEqual(5);
    expect(await engineSync(positions, AINO)).toBe(0);
    expect(recorder.changed).toEqual([]);
  });

  it("the sync's own writes read back are no change: the stored position moves past them; an Outlook edit of the same item is one", async () => {
    await start();
    const positions = new Positions();
    await engineSync(positions, AINO);
    const recorder = new Recorder();
    watch = h.connector.watchChanges(recorder.events, { pollIntervalMs: INTERVAL, positions });
    watch.setMailboxes([AINO]);
    // The sync writes (as a live sync of a Severa change would) and holds what it wrote.
    const fields: EventFields = { subject: 'Written by the sync', start: inDays(3, 8), end: inDays(3, 9), isAllDay: false, timeZone: 'Europe/Helsinki', location: 'Room 1', body: '', isPrivate: false, recurrence: null, exceptions: [], attendees: [], organizer: null };
    const written = await h.connector.createEvent(AINO, fields, 'tag-own-write');
    positions.held.set(written.id, written.version);
    const before = positions.position(AINO);
    await until('the position moved past the write', () => positions.position(AINO) !== before);
    const reads = deltaReads(AINO).length;
    await until('three more reads', () => deltaReads(AINO).length >= reads + 3);
    expect(recorder.changed).toEqual([]);
    // The engine's own read from there finds nothing: the write was all there was.
    expect(await engineSync(positions, AINO)).toBe(0);

    h.sim.mailbox(AINO).update(written.id, { subject: 'Renamed in Outlook' });
    await until('the Outlook edit is reported', () => recorder.changedFor(AINO) === 1);
    // An item the sync does not hold at that version is a change too.
    expect(await engineSync(positions, AINO)).toBe(1);
  });

  it('an expired position is a resync of that mailbox; once the engine read it afresh the mailbox is live again', async () => {
    await start();
    const positions = new Positions();
    for (const m of [AINO, MIKKO]) await engineSync(positions, m);
    const recorder = new Recorder();
    watch = h.connector.watchChanges(recorder.events, { pollIntervalMs: INTERVAL, positions });
    watch.setMailboxes([AINO, MIKKO]);
    h.sim.expireSyncStates(AINO);
    await until('the resync', () => recorder.resync.length === 1);
    expect(recorder.resync[0].mailbox).toBe(AINO);
    expect(watch.modes()[AINO]).toMatchObject({ mode: 'off', reason: expect.stringContaining('afresh') });
    expect(watch.modes()[MIKKO].mode).toBe('live');

    // The engine meets the same answer and starts over from the beginning, as it does in a cycle.
    await expect(h.connector.syncChanges(AINO, positions.position(AINO))).rejects.toMatchObject({ code: 'invalid-sync-state' });
    positions.map.set(AINO, null);
    await engineSync(positions, AINO);
    await until('live again', () => watch!.modes()[AINO].mode === 'live');
    h.sim.mailbox(AINO).create({ subject: 'After the resync', start: inDays(5, 8), end: inDays(5, 9), timeZone: 'Europe/Helsinki' });
    await until('the edit is reported', () => recorder.changedFor(AINO) === 1);
    expect(recorder.resync).toHaveLength(1);
  });

  it('a throttled mailbox waits the Retry-After it was given while the others are read on', async () => {
    await start();
    const positions = new Positions();
    for (const m of [AINO, MIKKO]) await engineSync(positions, m);
    watch = h.connector.watchChanges(new Recorder().events, { pollIntervalMs: 100, positions });
    h.sim.setFaults({ forceNext: { kind: 'throttle', count: 1 }, onlyMailboxes: [AINO], onlyRoutes: ['calendarView.delta'], retryAfterSeconds: 1 });
    watch.setMailboxes([AINO, MIKKO]);
    await until('the 429', () => deltaReads(AINO).some((e) => e.status === 429));
    const throttledAt = deltaReads(AINO).find((e) => e.status === 429)!.at;
    await until('Aino read again', () => deltaReads(AINO).some((e) => e.at > throttledAt), 5000);
    const next = deltaReads(AINO).find((e) => e.at > throttledAt)!.at;
    expect(next - throttledAt).toBeGreaterThanOrEqual(950);
    // Mikko shared the batches meanwhile, every interval.
    expect(deltaReads(MIKKO).filter((e) => e.at > throttledAt && e.at < next).length).toBeGreaterThanOrEqual(4);
    await sleep(0);
  });
});
