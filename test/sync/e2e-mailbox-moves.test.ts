import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CycleReport, UserReport } from '../../src-main/common/sync-report.ts';
import { EwsCalendarConnector } from '../../src-main/exchange/ews/ews-calendar-connector.ts';
import { ewsLocation, graphLocation } from '../../src-main/exchange/exchange-locations.ts';
import { GraphCalendarConnector } from '../../src-main/exchange/graph/graph-calendar-connector.ts';
import { forgetSignIns } from '../../src-main/exchange/graph/graph-sign-in.ts';
import { RoutedCalendarConnector, type ExchangeConnection } from '../../src-main/exchange/routed-calendar-connector.ts';
import { graphConnection } from '../../src-main/runner/connector-factory.ts';
import { SeveraClient } from '../../src-main/severa/severa-client.ts';
import { SyncStore } from '../../src-main/store/sync-store.ts';
import { syncOrganization, type SyncOptions } from '../../src-main/sync/sync-engine.ts';
import { DEMO_APP_SECRET, exchangeOnlineSettings } from '../exchange/graph-harness.ts';
import { loadEwsSeed, startEwsSimulator, type EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { loadGraphSeed, startGraphSimulator, type GraphSimulator } from '../peers/graph/graph-simulator.ts';
import { startMailboxMove } from '../peers/mailbox-move.ts';
import { loadSeveraSeed, startSeveraSimulator, type SeveraSimulator } from '../peers/severa/severa-simulator.ts';
import { DEMO_TYPES, DEMO_USERS } from './e2e-harness.ts';
import { ewsOutlook, graphOutlook } from './outlook-back-door.ts';

/**
 * A mailbox that moves keeps its sync, on the real simulators and connectors: the demo firm on on-premises Exchange
 * (EWS), two people's mailboxes moved to Exchange Online (Graph) mid-run while entries change on both sides, and one
 * moved from Exchange 2010 to Exchange 2016. Every kind of entry travels (single, all-day, private, a series with a moved
 * and a cancelled occurrence shared by enrolled people, a meeting, entries the sync made from either side): 0 duplicates,
 * 0 deletions, the edits around the move kept, one "moved" note, then a quiet cycle.
 */

const AINO = 'aino.virtanen@contoso.example';
const MIKKO = 'mikko.lahtinen@contoso.example';
const SARA = 'sara.nieminen@contoso.example';

interface MovesWorld {
  ews: EwsSimulator;
  other: EwsSimulator | GraphSimulator;
  severaSim: SeveraSimulator;
  store: SyncStore;
  cycle(): Promise<CycleReport>;
  close(): Promise<void>;
}

let world: MovesWorld | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

const ewsConnector = (sim: EwsSimulator, serverType: 'Exchange2010' | 'Exchange2016') =>
  new EwsCalendarConnector({ ewsUrl: sim.url, serverType, domain: 'CONTOSO', username: 'svc-severa-sync', password: 'demo-delegate-password', authMethod: 'ntlm', defaultTimeZone: 'Europe/Helsinki' });

async function startMovesWorld(target: 'graph' | 'ews2016', opts: { ainoGuid?: string } = {}): Promise<MovesWorld> {
  const ewsSeed = structuredClone(loadEwsSeed('test/peers/demo/ews-demo.json')) as { server: { version: string }; mailboxes: Array<{ primarySmtp: string; guid?: string }> };
  // A mailbox store GUID decides how its ItemIds look (base64: some have '/' or '+', which Graph's ids never have).
  if (opts.ainoGuid) ewsSeed.mailboxes.find((m) => m.primarySmtp === AINO)!.guid = opts.ainoGuid;
  // Exchange 2010 as it runs today (SP3 answers the SP2 schema the connector asks for).
  if (target === 'ews2016') ewsSeed.server.version = 'Exchange2010_SP2';
  const ews = await startEwsSimulator({ seed: ewsSeed as never, port: 0 });
  const severaSim = await startSeveraSimulator({ seed: loadSeveraSeed('test/peers/demo/severa-demo.json'), port: 0, rateLimitPerSecond: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'e2e-moves-'));
  let other: EwsSimulator | GraphSimulator;
  let second: () => Promise<ExchangeConnection>;
  if (target === 'graph') {
    // The tenant knows everyone (directory sync), but nobody has an Exchange Online mailbox yet.
    const seed = structuredClone(loadGraphSeed('test/peers/demo/graph-demo.json')) as { users: Array<Record<string, unknown>>; events: unknown[] };
    seed.events = [];
    for (const u of seed.users) u.mailboxState = 'none';
    const graph = await startGraphSimulator({ seed: seed as never, port: 0 });
    other = graph;
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, graph.caCertificatePem);
    forgetSignIns();
    const settings = exchangeOnlineSettings(graph, caFile);
    const connection = await graphConnection(settings, { get: async (n: string) => (n === 'graph-client-secret' ? DEMO_APP_SECRET : null) } as never);
    second = async () => ({ location: graphLocation('contoso.onmicrosoft.com'), connector: new GraphCalendarConnector({ client: connection.client, window: { startDate: today(), daysAhead: 60 }, defaultTimeZone: 'Europe/Helsinki' }) });
  } else {
    const seed = structuredClone(loadEwsSeed('test/peers/demo/ews-demo.json')) as { server: { version: string; computerName?: string }; mailboxes: unknown[]; items: unknown[] };
    seed.server.version = 'Exchange2016';
    seed.server.computerName = 'EXCH16';
    seed.mailboxes = [];
    seed.items = [];
    const ews16 = await startEwsSimulator({ seed: seed as never, port: 0 });
    other = ews16;
    second = async () => ({ location: ewsLocation(ews16.url), connector: ewsConnector(ews16, 'Exchange2016') });
  }
  const store = SyncStore.open(':memory:');
  const severa = new SeveraClient({ baseUrl: severaSim.baseUrl, clientId: 'demo-client-id', clientSecret: 'demo-client-secret', rateLimitPerSecond: 0 });
  const options: SyncOptions = {
    users: DEMO_USERS.map((email) => ({ email, syncStartDate: today() })),
    activityTypesToExchange: [DEMO_TYPES.meeting, DEMO_TYPES.customerVisit, DEMO_TYPES.personal, DEMO_TYPES.task],
    windowDaysAhead: 60,
    reconcileSliceSize: 5,
  };
  return {
    ews,
    other,
    severaSim,
    store,
    // A new connector per cycle, as the product makes one: what a process restart would see.
    cycle: async () => {
      const calendar = new RoutedCalendarConnector({
        connections: [{ location: ewsLocation(ews.url), connector: ewsConnector(ews, target === 'ews2016' ? 'Exchange2010' : 'Exchange2016') }, await second()],
      });
      return syncOrganization({ severa, calendar, store, now: () => new Date() }, options);
    },
    close: async () => {
      store.close();
      await Promise.all([ews.close(), other.close(), severaSim.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

const changesOf = (u: UserReport) => u.toExchange.created + u.toExchange.updated + u.toExchange.deleted + u.toSevera.created + u.toSevera.updated + u.toSevera.deleted;
const creationsOrDeletions = (u: UserReport) => u.toExchange.created + u.toExchange.deleted + u.toSevera.created + u.toSevera.deleted;
const subjects = (items: Array<{ subject: string }>) => items.map((i) => i.subject).sort();

describe('a mailbox that moves keeps its sync (real simulators and connectors)', () => {
  it('on-premises -> Exchange Online, mid-run, with edits on both sides around the move: nothing doubled or lost, said once, then quiet', async () => {
    world = await startMovesWorld('graph');
    const w = world;
    const onPrem = ewsOutlook(w.ews);
    const online = graphOutlook(w.other as GraphSimulator);
    expect((await w.cycle()).outcome).toBe('ok');
    await w.cycle();
    const before = { severa: w.severaSim.activities().length, aino: subjects(onPrem.items(AINO)), mikko: subjects(onPrem.items(MIKKO)), journal: w.store.listJournal().length };
    expect(before.aino.length).toBeGreaterThan(4);

    // The move starts; meanwhile Aino changes an entry in Severa.
    const moves = [AINO, MIKKO].map((address) => startMailboxMove({ from: { kind: 'ews', sim: w.ews }, to: { kind: 'graph', sim: w.other as GraphSimulator }, address }));
    // An entry the sync made in Aino's calendar from Severa (it carries the activity's guid as its tag).
    const fromSevera = onPrem.items(AINO).find((i) => i.syncTag && w.severaSim.activities().some((a) => a.guid === i.syncTag))!;
    expect(fromSevera).toBeTruthy();
    w.severaSim.updateActivity(fromSevera.syncTag!, { location: 'Changed in Severa during the move' });

    const during = await w.cycle();
    for (const email of [AINO, MIKKO]) {
      const u = during.users.find((x) => x.email === email)!;
      expect(u.outcome).toBe('failed');
      expect(u.errors[0].code).toBe('exchange-unavailable');
    }
    expect(during.users.filter((u) => ![AINO, MIKKO].includes(u.email)).every((u) => u.outcome === 'ok')).toBe(true);
    expect(w.store.listJournal()).toHaveLength(before.journal);

    for (const m of moves) m.finish();
    // Just after the move, Mikko edits an entry in the new place.
    const lunch = online.items(MIKKO).find((i) => i.subject === 'Lunch with Jussi')!;
    online.update(MIKKO, lunch.id, { location: 'Changed in Outlook after the move' });

    const after = await w.cycle();
    for (const email of [AINO, MIKKO]) {
      const u = after.users.find((x) => x.email === email)!;
      expect(u.outcome, JSON.stringify(u.errors)).toBe('ok');
      expect(u.notes.filter((n) => /^The mailbox moved from on-premises Exchange .* to Exchange Online \(contoso\.onmicrosoft\.com\): \d+ synced entries were found again there\.$/.test(n))).toHaveLength(1);
      expect(creationsOrDeletions(u)).toBe(0);
      expect(u.mailboxLocation?.label).toBe('Exchange Online (contoso.onmicrosoft.com)');
    }
    expect(w.severaSim.activities()).toHaveLength(before.severa);
    expect(w.store.listJournal()).toHaveLength(before.journal);
    expect(subjects(online.items(AINO))).toEqual(before.aino);
    expect(subjects(online.items(MIKKO))).toEqual(before.mikko);
    expect(w.severaSim.activities().find((a) => a.name === 'Lunch with Jussi')?.location).toBe('Changed in Outlook after the move');
    expect(online.items(AINO).find((i) => i.syncTag === fromSevera.syncTag)?.location).toBe('Changed in Severa during the move');
    expect(online.mailsSentBySync()).toBe(0);

    const quiet = await w.cycle();
    expect(quiet.users.map((u) => [u.email, changesOf(u), u.notes])).toEqual(DEMO_USERS.map((e) => [e, 0, []]));
  }, 120_000);

  it('an item the sync wrote just before the move is looked at again by its old EWS id in Exchange Online: not there, not an error (soak with moves)', async () => {
    // Aino's EWS ItemIds hold '/' (standard base64), as real ones often do: Graph answers 400 ErrorInvalidIdMalformed.
    world = await startMovesWorld('graph', { ainoGuid: 'ffffffff-ffff-4fff-bfff-ffffffffffff' });
    const w = world;
    const onPrem = ewsOutlook(w.ews);
    const online = graphOutlook(w.other as GraphSimulator);
    await w.cycle();
    await w.cycle();
    const severa = w.severaSim.activities().length;
    // The sync writes a Severa change to Aino's calendar: the item is to be looked at again next cycle, by its EWS id.
    const fromSevera = onPrem.items(AINO).find((i) => i.syncTag && w.severaSim.activities().some((a) => a.guid === i.syncTag))!;
    w.severaSim.updateActivity(fromSevera.syncTag!, { location: 'Changed in Severa before the move' });
    const wrote = (await w.cycle()).users.find((x) => x.email === AINO)!;
    expect(wrote.toExchange.updated).toBe(1);
    const aino = subjects(onPrem.items(AINO));
    expect(fromSevera.id).toMatch(/[/+]/);

    // The mailbox moves to Exchange Online before that next cycle: Graph calls the old EWS id malformed.
    startMailboxMove({ from: { kind: 'ews', sim: w.ews }, to: { kind: 'graph', sim: w.other as GraphSimulator }, address: AINO }).finish();
    for (let n = 0; n < 2; n++) {
      const u = (await w.cycle()).users.find((x) => x.email === AINO)!;
      expect(u.outcome, JSON.stringify(u.errors)).toBe('ok');
      expect(creationsOrDeletions(u)).toBe(0);
    }
    expect(w.severaSim.activities()).toHaveLength(severa);
    expect(subjects(online.items(AINO))).toEqual(aino);
    expect(online.items(AINO).find((i) => i.syncTag === fromSevera.syncTag)?.location).toBe('Changed in Severa before the move');
  }, 120_000);

  it('Exchange 2010 -> Exchange 2016 (two on-premises servers): the same, between EWS servers', async () => {
    world = await startMovesWorld('ews2016');
    const w = world;
    expect((await w.cycle()).outcome).toBe('ok');
    await w.cycle();
    const severa = w.severaSim.activities().length;
    const sara = subjects(ewsOutlook(w.ews).items(SARA));
    startMailboxMove({ from: { kind: 'ews', sim: w.ews }, to: { kind: 'ews', sim: w.other as EwsSimulator, impersonatedBy: ['svc-severa-sync'] }, address: SARA }).finish();
    const after = await w.cycle();
    const u = after.users.find((x) => x.email === 's.nieminen@contoso.example')!;
    expect(u.outcome, JSON.stringify(u.errors)).toBe('ok');
    expect(u.notes.join('\n')).toMatch(/The mailbox moved from on-premises Exchange \(127\.0\.0\.1:\d+\) to on-premises Exchange \(127\.0\.0\.1:\d+\): \d+ synced entries were found again there\./);
    expect(creationsOrDeletions(u)).toBe(0);
    expect(w.severaSim.activities()).toHaveLength(severa);
    expect(subjects(ewsOutlook(w.other as EwsSimulator).items(SARA))).toEqual(sara);
    const quiet = await w.cycle();
    expect(quiet.users.every((x) => changesOf(x) === 0 && x.notes.length === 0)).toBe(true);
  }, 120_000);
});
