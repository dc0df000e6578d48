import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecretName, SecretSource } from '../../src-main/common/secrets-contract.ts';
import type { EventFields } from '../../src-main/sync/calendar-event.ts';
import { orgSettings, type OrgSettings } from '../../src-main/common/settings-schema.ts';
import { GraphCalendarConnector } from '../../src-main/exchange/graph/graph-calendar-connector.ts';
import { forgetSignIns } from '../../src-main/exchange/graph/graph-sign-in.ts';
import { graphConnection, type GraphConnection } from '../../src-main/runner/connector-factory.ts';
import { loadGraphSeed, startGraphSimulator, type GraphRequestLogEntry, type GraphSimulator } from '../peers/graph/graph-simulator.ts';

/**
 * The Graph simulator (HTTPS, its own test CA) and the product's Graph connector built the way the product builds it:
 * from settings and secrets through the connector factory, the CA trusted through the settings' CA file.
 */

export const DEMO_GRAPH_SEED = 'test/peers/demo/graph-demo.json';
export const DEMO_TENANT = 'contoso.onmicrosoft.com';
export const DEMO_APP = '00000000-0000-4000-8000-0000000c0a01';
export const DEMO_APP_SECRET = 'demo-graph-client-secret-not-a-real-one';

export interface GraphHarness {
  sim: GraphSimulator;
  settings: OrgSettings;
  secrets: SecretSource & { values: Map<SecretName, string> };
  connection: GraphConnection;
  connector: GraphCalendarConnector;
  /** Graph requests the product sent (a $batch is one). */
  requests: () => number;
  close(): Promise<void>;
}

export function exchangeOnlineSettings(sim: GraphSimulator, caFile: string, over: Record<string, unknown> = {}): OrgSettings {
  const today = new Date().toISOString().slice(0, 10);
  return orgSettings.parse({
    exchange: { serverType: 'Office365', tenantId: DEMO_TENANT, clientId: DEMO_APP, credential: 'secret', authorityHost: sim.url, graphUrl: sim.url, caFile, ...over },
    severa: { clientId: 'demo-client-id' },
    enrollments: [{ email: 'aino.virtanen@contoso.example', syncStartDate: today, enabledAt: new Date().toISOString() }],
    windowDaysAhead: 60,
  });
}

export async function startGraphHarness(
  opts: { seed?: unknown; settings?: Record<string, unknown>; secrets?: Partial<Record<SecretName, string>>; now?: () => Date; onRequest?: (entry: GraphRequestLogEntry) => void } = {},
): Promise<GraphHarness> {
  // Every harness signs in afresh: msal's token cache is per process and keyed by app and credential.
  forgetSignIns();
  const sim = await startGraphSimulator({ seed: (opts.seed ?? loadGraphSeed(DEMO_GRAPH_SEED)) as never, port: 0, ...(opts.onRequest ? { onRequest: opts.onRequest } : {}) });
  const dir = mkdtempSync(join(tmpdir(), 'graph-harness-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, sim.caCertificatePem);
  const settings = exchangeOnlineSettings(sim, caFile, opts.settings);
  const values = new Map<SecretName, string>(Object.entries({ 'graph-client-secret': DEMO_APP_SECRET, ...opts.secrets }) as [SecretName, string][]);
  const secrets = { values, get: async (name: SecretName) => values.get(name) ?? null };
  let count = 0;
  const connection = await graphConnection(settings, secrets, () => void count++);
  const connector = new GraphCalendarConnector({
    client: connection.client,
    window: { startDate: settings.enrollments[0].syncStartDate, daysAhead: settings.windowDaysAhead },
    defaultTimeZone: 'Europe/Helsinki',
    ...(opts.now ? { now: opts.now } : {}),
  });
  return {
    sim,
    settings,
    secrets,
    connection,
    connector,
    requests: () => count,
    close: async () => {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `days` from now at `hour`:00 UTC, as an ISO instant. */
export function inDays(days: number, hour: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString();
}

/** A plain single entry `days` from now, 08:00-09:00 UTC, with `over` on top. */
export function singleEntry(subject: string, days: number, over: Partial<EventFields> = {}): EventFields {
  return { subject, start: inDays(days, 8), end: inDays(days, 9), isAllDay: false, timeZone: 'Europe/Helsinki', location: 'Room 1', body: 'Agenda', isPrivate: false, recurrence: null, exceptions: [], attendees: [], organizer: null, ...over };
}
