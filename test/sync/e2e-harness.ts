import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecretName } from '../../src-main/common/secrets-contract.ts';
import type { ExchangeServerType } from '../../src-main/common/settings-schema.ts';
import type { CalendarConnector } from '../../src-main/exchange/calendar-connector.ts';
import { EwsCalendarConnector } from '../../src-main/exchange/ews/ews-calendar-connector.ts';
import { GraphCalendarConnector } from '../../src-main/exchange/graph/graph-calendar-connector.ts';
import { forgetSignIns } from '../../src-main/exchange/graph/graph-sign-in.ts';
import { graphConnection } from '../../src-main/runner/connector-factory.ts';
import { SeveraClient } from '../../src-main/severa/severa-client.ts';
import { SyncStore } from '../../src-main/store/sync-store.ts';
import { syncOrganization, type SyncOptions } from '../../src-main/sync/sync-engine.ts';
import { DEMO_APP_SECRET, DEMO_GRAPH_SEED, exchangeOnlineSettings } from '../exchange/graph-harness.ts';
import { loadEwsSeed, startEwsSimulator, type EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { EwsService } from '../peers/ews/ews-service.ts';
import { validateEwsSeed } from '../peers/ews/seed.ts';
import { loadGraphSeed, startGraphSimulator, type GraphSimulator } from '../peers/graph/graph-simulator.ts';
import { neutralFromEwsItems } from '../peers/graph/neutral-mailbox.ts';
import { loadSeveraSeed, startSeveraSimulator, type SeveraSimulator } from '../peers/severa/severa-simulator.ts';
import { FaultPlan } from './fakes/fault-plan.ts';
import { ewsOutlook, graphOutlook, type ExchangeKind, type OutlookBackDoor } from './outlook-back-door.ts';

/** The port with the fault plan around every call: it can kill "the process" just before or after a side effect. */
function withFaults<T extends object>(target: T, plan: FaultPlan): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      // Synchronous questions that make no request pass through as they are.
      // (Own properties are state, not operations, even when they hold a function.)
      if (typeof value !== 'function' || Object.hasOwn(obj, prop)) return value;
      // Bound to the target: a class with private fields (the Graph connector) cannot be called through the proxy.
      if (prop === 'clockOffsetMs' || prop === 'recurrenceProblem' || prop === 'clockOffsetUnknownReason') return value.bind(obj);
      return async (...args: unknown[]) => {
        plan.at(String(prop), 'before');
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
        plan.at(String(prop), 'after');
        return result;
      };
    },
  });
}

/**
 * Both simulators over real HTTP(S), the real SeveraClient and calendar connector, and the engine between them: what
 * the end-to-end tests drive. `exchange` picks on-premises Exchange (the EWS simulator, EwsCalendarConnector) or
 * Exchange Online (the Graph simulator over HTTPS with its test CA, GraphCalendarConnector built from settings and
 * secrets as the product builds it). Seeds default to the demo firm; an EWS seed given for Graph is moved into the Graph
 * simulator item by item (the simulators' neutral mailbox format), so one seed serves both.
 */

export const DEMO_USERS = [
  'aino.virtanen@contoso.example',
  'mikko.lahtinen@contoso.example',
  's.nieminen@contoso.example',
  'jussi.korhonen@contoso.example',
  'leena.makela@contoso.example',
];

/** The demo firm's mailboxes with empty calendars (on either Exchange). */
export function emptyCalendarsSeed(): unknown {
  return { ...(loadEwsSeed('test/peers/demo/ews-demo.json') as object), items: [] };
}

export const DEMO_TYPES = {
  meeting: '00000000-0000-4000-8000-0000000000b1',
  customerVisit: '00000000-0000-4000-8000-0000000000b2',
  personal: '00000000-0000-4000-8000-0000000000b3',
  task: '00000000-0000-4000-8000-0000000000b6',
};

export interface E2eWorld {
  exchange: ExchangeKind;
  /** The EWS simulator (exchange 'ews'), for what only it has. */
  ews: EwsSimulator | null;
  /** The Graph simulator (exchange 'graph'), for what only it has. */
  graph: GraphSimulator | null;
  /** "The user in Outlook", the same on both. */
  outlook: OutlookBackDoor;
  severaSim: SeveraSimulator;
  severa: SeveraClient;
  /** The connector the last cycle used (Graph: a new one per cycle, as the product makes one per cycle). */
  readonly calendar: CalendarConnector;
  store: SyncStore;
  options: SyncOptions;
  requests: { severa: number; exchange: number };
  /** Faults armed here fire around the real connectors' calls. */
  faults: FaultPlan;
  cycle(over?: Partial<SyncOptions>): ReturnType<typeof syncOrganization>;
  close(): Promise<void>;
}

export interface E2eOptions {
  /** Default 'ews'. */
  exchange?: ExchangeKind;
  /** EWS simulator seed (default the demo firm); for Graph its items are moved into the Graph simulator's demo tenant. */
  ewsSeed?: unknown;
  severaSeed?: unknown;
  users?: string[];
  /** EWS only: the server version the connector is set up for. */
  serverType?: ExchangeServerType;
}

interface ExchangeSide {
  ews: EwsSimulator | null;
  graph: GraphSimulator | null;
  outlook: OutlookBackDoor;
  /** The connector for the next cycle. */
  connector(): CalendarConnector;
  close(): Promise<void>;
}

async function startEwsSide(opts: E2eOptions, requests: { exchange: number }): Promise<ExchangeSide> {
  const ews = await startEwsSimulator({ seed: (opts.ewsSeed ?? loadEwsSeed('test/peers/demo/ews-demo.json')) as never, port: 0 });
  const calendar = new EwsCalendarConnector({
    ewsUrl: ews.url, serverType: opts.serverType ?? 'Exchange2016', domain: 'CONTOSO', username: 'svc-severa-sync', password: 'demo-delegate-password', authMethod: 'ntlm',
    defaultTimeZone: 'Europe/Helsinki', onRequest: () => void requests.exchange++,
  });
  return { ews, graph: null, outlook: ewsOutlook(ews), connector: () => calendar, close: () => ews.close() };
}

/** The Graph simulator's demo tenant holding the EWS seed's items (the same people in both demos). */
async function graphSimulatorFor(ewsSeed: unknown): Promise<GraphSimulator> {
  const demo = loadGraphSeed(DEMO_GRAPH_SEED);
  if (ewsSeed === undefined) return startGraphSimulator({ seed: demo, port: 0 });
  const sim = await startGraphSimulator({ seed: { ...demo, events: [] }, port: 0 });
  const parsed = validateEwsSeed(ewsSeed);
  const ews = new EwsService(parsed);
  for (const m of parsed.mailboxes) {
    const items = ews.backDoor(m.primarySmtp).items();
    if (items.length) sim.importMailbox(m.primarySmtp, neutralFromEwsItems({ address: m.primarySmtp, displayName: m.displayName ?? '' }, items as never));
  }
  return sim;
}

async function startGraphSide(opts: E2eOptions, requests: { exchange: number }, window: () => { startDate: string; daysAhead: number }): Promise<ExchangeSide> {
  // Each world signs in afresh: msal's token cache is per process and keyed by app and credential.
  forgetSignIns();
  const graph = await graphSimulatorFor(opts.ewsSeed);
  const dir = mkdtempSync(join(tmpdir(), 'e2e-graph-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, graph.caCertificatePem);
  const settings = exchangeOnlineSettings(graph, caFile);
  const secrets = { get: async (name: SecretName) => (name === 'graph-client-secret' ? DEMO_APP_SECRET : null) };
  const { client } = await graphConnection(settings, secrets, () => void requests.exchange++);
  // The window is read when the connector asks, so a test that widens the engine's window widens the connector's.
  const liveWindow = { get startDate() { return window().startDate; }, get daysAhead() { return window().daysAhead; } };
  return {
    ews: null,
    graph,
    outlook: graphOutlook(graph),
    connector: () => new GraphCalendarConnector({ client, window: liveWindow, defaultTimeZone: 'Europe/Helsinki' }),
    close: async () => {
      await graph.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startE2e(opts: E2eOptions = {}): Promise<E2eWorld> {
  const exchange = opts.exchange ?? 'ews';
  const requests = { severa: 0, exchange: 0 };
  const today = new Date().toISOString().slice(0, 10);
  const options: SyncOptions = {
    users: (opts.users ?? DEMO_USERS).map((email) => ({ email, syncStartDate: today })),
    activityTypesToExchange: [DEMO_TYPES.meeting, DEMO_TYPES.customerVisit, DEMO_TYPES.personal, DEMO_TYPES.task],
    windowDaysAhead: 60,
    reconcileSliceSize: 2,
  };
  let current: SyncOptions = options;
  const window = () => ({ startDate: current.users.map((u) => u.syncStartDate).sort()[0] ?? today, daysAhead: current.windowDaysAhead ?? 60 });
  const side = exchange === 'ews' ? await startEwsSide(opts, requests) : await startGraphSide(opts, requests, window);
  const severaSim = await startSeveraSimulator({ seed: (opts.severaSeed ?? loadSeveraSeed('test/peers/demo/severa-demo.json')) as never, port: 0, rateLimitPerSecond: 0 });
  const severa = new SeveraClient({ baseUrl: severaSim.baseUrl, clientId: 'demo-client-id', clientSecret: 'demo-client-secret', rateLimitPerSecond: 0, onRequest: () => void requests.severa++ });
  const store = SyncStore.open(':memory:');
  const faults = new FaultPlan();
  let calendar = side.connector();
  return {
    exchange,
    ews: side.ews,
    graph: side.graph,
    outlook: side.outlook,
    severaSim,
    severa,
    get calendar() {
      return calendar;
    },
    store,
    options,
    requests,
    faults,
    cycle: (over = {}) => {
      current = { ...options, ...over };
      calendar = side.connector();
      return syncOrganization({ severa: withFaults(severa, faults), calendar: withFaults(calendar, faults), store, now: () => new Date(), requestCounts: () => ({ ...requests }) }, current);
    },
    close: async () => {
      store.close();
      await side.close();
      await severaSim.close();
    },
  };
}
