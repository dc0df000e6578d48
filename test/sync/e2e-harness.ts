import type { ExchangeServerType } from '../../src-main/common/settings-schema.ts';
import type { CalendarConnector } from '../../src-main/exchange/calendar-connector.ts';
import { EwsCalendarConnector } from '../../src-main/exchange/ews/ews-calendar-connector.ts';
import { SeveraClient } from '../../src-main/severa/severa-client.ts';
import { SyncStore } from '../../src-main/store/sync-store.ts';
import { syncOrganization, type SyncOptions } from '../../src-main/sync/sync-engine.ts';
import { loadEwsSeed, startEwsSimulator, type EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { loadSeveraSeed, startSeveraSimulator, type SeveraSimulator } from '../peers/severa/severa-simulator.ts';
import { FaultPlan } from './fakes/fault-plan.ts';

/** The port with the fault plan around every call: it can kill "the process" just before or after a side effect. */
function withFaults<T extends object>(target: T, plan: FaultPlan): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      // Synchronous questions that make no request pass through as they are.
      // (Own properties are state, not operations, even when they hold a function.)
      if (typeof value !== 'function' || prop === 'clockOffsetMs' || prop === 'recurrenceProblem' || Object.hasOwn(obj, prop)) return value;
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
 * Both simulators over real HTTP, the real SeveraClient and EwsCalendarConnector, and the engine between them:
 * what the end-to-end tests drive. Seeds default to the demo firm.
 */

export const DEMO_USERS = [
  'aino.virtanen@contoso.example',
  'mikko.lahtinen@contoso.example',
  's.nieminen@contoso.example',
  'jussi.korhonen@contoso.example',
  'leena.makela@contoso.example',
];

export const DEMO_TYPES = {
  meeting: '00000000-0000-4000-8000-0000000000b1',
  customerVisit: '00000000-0000-4000-8000-0000000000b2',
  personal: '00000000-0000-4000-8000-0000000000b3',
  task: '00000000-0000-4000-8000-0000000000b6',
};

export interface E2eWorld {
  ews: EwsSimulator | null;
  severaSim: SeveraSimulator;
  severa: SeveraClient;
  calendar: CalendarConnector;
  store: SyncStore;
  options: SyncOptions;
  requests: { severa: number; exchange: number };
  /** Faults armed here fire around the real connectors' calls. */
  faults: FaultPlan;
  cycle(over?: Partial<SyncOptions>): ReturnType<typeof syncOrganization>;
  close(): Promise<void>;
}

/** `calendar`: a connector to use instead of the EWS simulator + EwsCalendarConnector (e.g. the in-memory fake). */
export async function startE2e(opts: { ewsSeed?: unknown; severaSeed?: unknown; users?: string[]; calendar?: CalendarConnector; serverType?: ExchangeServerType } = {}): Promise<E2eWorld> {
  const ews = opts.calendar ? null : await startEwsSimulator({ seed: (opts.ewsSeed ?? loadEwsSeed('test/peers/demo/ews-demo.json')) as never, port: 0 });
  const severaSim = await startSeveraSimulator({ seed: (opts.severaSeed ?? loadSeveraSeed('test/peers/demo/severa-demo.json')) as never, port: 0, rateLimitPerSecond: 0 });
  const requests = { severa: 0, exchange: 0 };
  const severa = new SeveraClient({ baseUrl: severaSim.baseUrl, clientId: 'demo-client-id', clientSecret: 'demo-client-secret', rateLimitPerSecond: 0, onRequest: () => void requests.severa++ });
  const calendar = opts.calendar ?? new EwsCalendarConnector({
    ewsUrl: ews!.url, serverType: opts.serverType ?? 'Exchange2016', domain: 'CONTOSO', username: 'svc-severa-sync', password: 'demo-delegate-password', authMethod: 'ntlm',
    defaultTimeZone: 'Europe/Helsinki', onRequest: () => void requests.exchange++,
  });
  const store = SyncStore.open(':memory:');
  const today = new Date().toISOString().slice(0, 10);
  const options: SyncOptions = {
    users: (opts.users ?? DEMO_USERS).map((email) => ({ email, syncStartDate: today })),
    activityTypesToExchange: [DEMO_TYPES.meeting, DEMO_TYPES.customerVisit, DEMO_TYPES.personal, DEMO_TYPES.task],
    windowDaysAhead: 60,
    reconcileSliceSize: 2,
  };
  const faults = new FaultPlan();
  return {
    ews, severaSim, severa, calendar, store, options, requests, faults,
    cycle: (over = {}) =>
      syncOrganization(
        { severa: withFaults(severa, faults), calendar: withFaults(calendar, faults), store, now: () => new Date(), requestCounts: opts.calendar ? undefined : () => ({ ...requests }) },
        { ...options, ...over },
      ),
    close: async () => {
      store.close();
      await ews?.close();
      await severaSim.close();
    },
  };
}
