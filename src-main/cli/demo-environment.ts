import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { t } from '../common/i18n/i18n.ts';
import type { SecretName, SecretSource } from '../common/secrets-contract.ts';
import type { Enrollment } from '../common/settings-schema.ts';
import { writeJsonAtomically } from '../runner/runner-state-file.ts';
import type { ConnectorFactory } from '../runner/runner-types.ts';
import { loadEwsSeed, startEwsSimulator } from '../../test/peers/ews/ews-simulator.ts';
import type { EwsSimulator } from '../../test/peers/ews/ews-simulator.ts';
import { loadSeveraSeed, startSeveraSimulator } from '../../test/peers/severa/severa-simulator.ts';
import type { SeveraSimulator } from '../../test/peers/severa/severa-simulator.ts';
import { loadGraphSeed, startGraphSimulator } from '../../test/peers/graph/graph-simulator.ts';
import type { GraphSimulator } from '../../test/peers/graph/graph-simulator.ts';
import { loadDemoPeerState, saveDemoPeerState, type DemoExchange, type SavedDemoPeers } from './demo-peer-state.ts';

/**
 * `--demo`: both simulators in this process (Exchange: EWS, or Graph with `--exchange-online`), loaded with the demo
 * firm (five people, both sides populated), and a
 * settings file + secrets for them in the demo data dir. The simulators' state snapshots are saved into the data dir
 * when the demo ends and loaded next time, beside the sync store, so a second run continues exactly where the first
 * stopped (see demo-peer-state.ts).
 */

const DEMO_SEEDS = fileURLToPath(new URL('../../test/peers/demo/', import.meta.url));

/** The demo firm's activity types that go to Exchange: all active ones but the project task (never synced anyway). */
const DEMO_TYPES_TO_EXCHANGE = [
  '00000000-0000-4000-8000-0000000000b1', // Meeting
  '00000000-0000-4000-8000-0000000000b2', // Customer visit
  '00000000-0000-4000-8000-0000000000b3', // Personal
  '00000000-0000-4000-8000-0000000000b4', // Sales call
  '00000000-0000-4000-8000-0000000000b5', // Vacation
];

/** The five people, with the email each has in Severa (Sara's is her mailbox's secondary address). */
const DEMO_USERS = [
  'aino.virtanen@contoso.example',
  'mikko.lahtinen@contoso.example',
  's.nieminen@contoso.example',
  'jussi.korhonen@contoso.example',
  'leena.makela@contoso.example',
];

/** Obviously fake demo credentials, the same as in the simulators' demo seeds. */
const DEMO_SECRETS: Partial<Record<SecretName, string>> = {
  'exchange-delegate-password': 'demo-delegate-password',
  'severa-client-secret': 'demo-client-secret',
  'graph-client-secret': 'demo-graph-client-secret-not-a-real-one',
};

/** The demo firm's Entra app (in graph-demo.json). */
const DEMO_ONLINE_APP = { tenantId: 'contoso.onmicrosoft.com', clientId: '00000000-0000-4000-8000-0000000c0a01' };

export interface DemoEnvironment {
  configPath: string;
  secrets: SecretSource;
  connectors?: ConnectorFactory;
  /** Whether this run continues a saved demo (false: fresh from the demo seeds). */
  resumed: boolean;
  /** The Exchange side: the EWS simulator (on-premises) or the Graph simulator (Exchange Online). */
  exchange: EwsSimulator | GraphSimulator;
  severa: SeveraSimulator;
  /** Saves the simulators' state into the data dir and stops them. */
  stop(): Promise<void>;
}

/** Reads the demo secrets file the demo wrote; never used outside --demo. */
class DemoSecretSource implements SecretSource {
  readonly #path: string;
  constructor(path: string) {
    this.#path = path;
  }
  async get(name: SecretName): Promise<string | null> {
    try {
      const values = JSON.parse(readFileSync(this.#path, 'utf8')) as Record<string, unknown>;
      const value = values[name];
      return typeof value === 'string' && value !== '' ? value : null;
    } catch {
      return null;
    }
  }
}

function todayIn(timeZone: string, now: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Enrollments kept from the previous demo run (their sync start date is part of the state), else all five from today-30. */
function demoEnrollments(configPath: string, now: Date): Enrollment[] {
  if (existsSync(configPath)) {
    try {
      const previous = JSON.parse(readFileSync(configPath, 'utf8')) as { enrollments?: Enrollment[] };
      if (Array.isArray(previous.enrollments) && previous.enrollments.length > 0) return previous.enrollments;
    } catch {
      // A damaged demo config is rewritten from scratch.
    }
  }
  // Thirty days back, so the demo's recurring meeting that began two weeks ago is in the window.
  const start = addDays(todayIn('Europe/Helsinki', now), -30);
  return DEMO_USERS.map((email) => ({ email, syncStartDate: start, enabledAt: now.toISOString(), paused: false }));
}

async function startExchange(kind: DemoExchange, saved: SavedDemoPeers | null): Promise<EwsSimulator | GraphSimulator> {
  if (kind === 'online') {
    return startGraphSimulator(saved?.kind === 'online' ? { state: saved.graph, port: 0 } : { seed: loadGraphSeed(join(DEMO_SEEDS, 'graph-demo.json')), port: 0 });
  }
  return startEwsSimulator(saved?.kind === 'on-premises' ? { state: saved.ews, port: 0 } : { seed: loadEwsSeed(join(DEMO_SEEDS, 'ews-demo.json')), port: 0 });
}

/** The settings' Exchange part for the simulator: EWS with the delegate, or Graph with the demo app (trusting the simulator's CA). */
function exchangeSettings(exchange: EwsSimulator | GraphSimulator, dataDir: string): Record<string, unknown> {
  if ('graphUrl' in exchange) {
    // The simulator makes a new test CA at every start: the settings' CA file is written again each time.
    const caFile = join(dataDir, 'graph-simulator-ca.pem');
    writeFileSync(caFile, exchange.caCertificatePem);
    return { serverType: 'Office365', ...DEMO_ONLINE_APP, credential: 'secret', authorityHost: exchange.url, graphUrl: exchange.url, caFile };
  }
  return { serverType: 'Exchange2016', ewsUrl: exchange.url, domain: 'CONTOSO', username: 'svc-severa-sync', authMethod: 'ntlm' };
}

export async function startDemoEnvironment(opts: { dataDir: string; exchange?: DemoExchange; log: (line: string) => void; now?: () => Date }): Promise<DemoEnvironment> {
  const now = opts.now ?? (() => new Date());
  const kind = opts.exchange ?? 'on-premises';
  mkdirSync(opts.dataDir, { recursive: true });
  // A later run starts the simulators from their saved state, never from the seeds again: the seeds' relative dates
  // would move, and new item ids and sync states would not match the sync store's pairs and positions.
  const saved = loadDemoPeerState(opts.dataDir, kind);
  const exchange = await startExchange(kind, saved);
  let severa: SeveraSimulator;
  try {
    severa = await startSeveraSimulator(saved ? { state: saved.severa, port: 0 } : { seed: loadSeveraSeed(join(DEMO_SEEDS, 'severa-demo.json')), port: 0 });
  } catch (error) {
    await exchange.close();
    throw error;
  }
  const exchangeName = t(kind === 'online' ? 'cli.demo.onlineSimulator' : 'cli.demo.exchangeSimulator', { url: exchange.url });
  opts.log(t(saved ? 'cli.demo.continuing' : 'cli.demo.fresh', { dataDir: opts.dataDir, exchange: exchangeName, severa: severa.baseUrl }));

  const configPath = join(opts.dataDir, 'config.json');
  writeJsonAtomically(configPath, {
    schemaVersion: 1,
    exchange: exchangeSettings(exchange, opts.dataDir),
    severa: { apiUrl: severa.baseUrl, clientId: 'demo-client-id' },
    activityTypesToExchange: DEMO_TYPES_TO_EXCHANGE,
    intervalMinutes: 15,
    windowDaysAhead: 365,
    enrollments: demoEnrollments(configPath, now()),
  });
  const secretsPath = join(opts.dataDir, 'demo-secrets.json');
  writeJsonAtomically(secretsPath, DEMO_SECRETS);

  let stopped = false;
  return {
    configPath,
    secrets: new DemoSecretSource(secretsPath),
    resumed: saved !== null,
    exchange,
    severa,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        saveDemoPeerState(opts.dataDir, { exchange, kind, severa });
      } finally {
        await Promise.all([exchange.close(), severa.close()]);
      }
    },
  };
}
