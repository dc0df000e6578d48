import { readFileSync } from 'node:fs';
import { SECRET_ENV_VARS, SECRET_FIELDS, type SecretName, type SecretSource } from '../common/secrets-contract.ts';
import type { ExchangeOnlineSettings, ExchangeSettings, OnPremisesExchangeSettings, OrgSettings } from '../common/settings-schema.ts';
import { CalendarError } from '../exchange/calendar-connector.ts';
import { EwsCalendarConnector } from '../exchange/ews/ews-calendar-connector.ts';
import type { EwsConnectorOptions } from '../exchange/ews/ews-connector-options.ts';
import { connectionLocation } from '../exchange/exchange-locations.ts';
import { GraphCalendarConnector, type SyncWindow } from '../exchange/graph/graph-calendar-connector.ts';
import { RoutedCalendarConnector, type ExchangeConnection } from '../exchange/routed-calendar-connector.ts';
import { GraphClient } from '../exchange/graph/graph-client.ts';
import { AppSignIn, type AppCredential } from '../exchange/graph/graph-sign-in.ts';
import { nodeTransport, type Transport } from '../net/http-transport.ts';
import { networkForSettings } from '../net/settings-network.ts';
import { SeveraClient } from '../severa/severa-client.ts';
import type { CountedCalendar, ConnectorFactory, CountedSevera } from './runner-types.ts';
import { t, type TextKey } from '../common/i18n/i18n.ts';

/**
 * Builds the real peers from settings + secrets. Secrets come only from the SecretSource (keychain or environment),
 * never from the settings; a missing one is a plain error naming the field to fill. Every connection goes the way the
 * network settings say (direct or through the proxy: src-main/net/settings-network.ts).
 */

// Every sentence this module says, in one place, in the process's language (engine.connectors).
/** The secrets a connector cannot do without, and how their absence is said. */
type ConnectorSecret = Exclude<SecretName, 'proxy-password'>;
const MISSING: Record<ConnectorSecret, TextKey> = {
  'exchange-delegate-password': 'engine.connectors.missing.delegatePassword',
  'graph-client-secret': 'engine.connectors.missing.clientSecret',
  'graph-certificate-key': 'engine.connectors.missing.certificateKey',
  'severa-client-secret': 'engine.connectors.missing.severaSecret',
};
const TEXT = {
  secretMissingFix: (name: SecretName) => t('engine.connectors.secretMissingFix', { field: SECRET_FIELDS[name], variable: SECRET_ENV_VARS[name] }),
  caUnreadable: (path: string, why: string) => t('engine.connectors.caUnreadable', { path, why }),
  caUnreadableFix: (field: string) => t('engine.connectors.caUnreadableFix', { field }),
};

async function requireSecret(secrets: SecretSource, name: ConnectorSecret): Promise<string> {
  const value = await secrets.get(name);
  if (!value) {
    const message = t(MISSING[name]);
    const fix = TEXT.secretMissingFix(name);
    throw new CalendarError('config', `${message} ${fix}`, { advice: { message, fix } });
  }
  return value;
}

/** `field`: where the path is set in the window, for the fix. */
export function readCaFile(path: string | undefined, field = 'Admin > Microsoft Exchange > CA certificate file'): string | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const message = TEXT.caUnreadable(path, (error as Error).message);
    throw new CalendarError('config', message, { advice: { message, fix: TEXT.caUnreadableFix(field) } });
  }
}

/** The EWS connector's options for an on-premises connection of these settings (also what the EWS diagnostics take). */
export async function ewsConnectorOptions(settings: OrgSettings, secrets: SecretSource, connection: ExchangeSettings = settings.exchange): Promise<EwsConnectorOptions> {
  if (connection.serverType === 'Office365') throw new CalendarError('config', t('engine.connectors.onlineNoEws'));
  const exchange = connection as OnPremisesExchangeSettings;
  const password = await requireSecret(secrets, 'exchange-delegate-password');
  return {
    ewsUrl: exchange.ewsUrl,
    serverType: exchange.serverType,
    domain: exchange.domain,
    username: exchange.username,
    password,
    authMethod: exchange.authMethod,
    caCertificates: readCaFile(exchange.caFile),
    network: networkForSettings(settings, secrets),
  };
}

/** The app's credential for Exchange Online: the certificate file with its key from the keychain, or the client secret. */
async function appCredential(online: ExchangeOnlineSettings, secrets: SecretSource): Promise<AppCredential> {
  if (online.credential === 'secret') return { kind: 'secret', secret: await requireSecret(secrets, 'graph-client-secret') };
  if (!online.certificateFile) {
    const message = t('engine.connectors.noCertificateFile');
    const fix = t('engine.connectors.noCertificateFileFix');
    throw new CalendarError('config', `${message} ${fix}`, { advice: { message, fix } });
  }
  let certificatePem: string;
  try {
    certificatePem = readFileSync(online.certificateFile, 'utf8');
  } catch (error) {
    const message = t('engine.connectors.certificateUnreadable', { path: online.certificateFile, why: (error as Error).message });
    throw new CalendarError('config', message, { advice: { message, fix: t('engine.connectors.certificateUnreadableFix') } });
  }
  return { kind: 'certificate', certificatePem, privateKeyPem: await requireSecret(secrets, 'graph-certificate-key') };
}

/** The Graph connector's parts for these settings (also what the Exchange Online checks take). */
export interface GraphConnection {
  signIn: AppSignIn;
  client: GraphClient;
  online: ExchangeOnlineSettings;
  credential: AppCredential;
  transport: Transport;
}

export async function graphConnection(settings: OrgSettings, secrets: SecretSource, onRequest?: () => void, connection: ExchangeSettings = settings.exchange): Promise<GraphConnection> {
  if (connection.serverType !== 'Office365') throw new CalendarError('config', 'These settings are for an on-premises Exchange server, not Exchange Online.');
  const online = connection;
  const transport = nodeTransport(readCaFile(online.caFile), networkForSettings(settings, secrets));
  const credential = await appCredential(online, secrets);
  const signIn = new AppSignIn({ tenant: online.tenantId, clientId: online.clientId, credential, authorityHost: online.authorityHost, graphHost: online.graphUrl, transport });
  const client = new GraphClient({ graphHost: online.graphUrl, tokens: signIn, transport, onRequest });
  return { signIn, client, online, credential, transport };
}

/** The window the Graph connector reads: from the earliest enrolled user's sync start date to the engine's horizon. */
function syncWindowOf(settings: OrgSettings): SyncWindow {
  const earliest = settings.enrollments.map((e) => e.syncStartDate).sort()[0] ?? new Date().toISOString().slice(0, 10);
  return { startDate: earliest, daysAhead: settings.windowDaysAhead };
}

/** The organization's Exchange connections, the main one first. */
export function exchangeConnections(settings: OrgSettings): ExchangeSettings[] {
  return settings.secondExchange ? [settings.exchange, settings.secondExchange] : [settings.exchange];
}

async function connectorFor(settings: OrgSettings, secrets: SecretSource, connection: ExchangeSettings, count: () => void): Promise<ExchangeConnection> {
  if (connection.serverType === 'Office365') {
    const { client } = await graphConnection(settings, secrets, count, connection);
    return { location: connectionLocation(connection), connector: new GraphCalendarConnector({ client, window: syncWindowOf(settings) }) };
  }
  const options = await ewsConnectorOptions(settings, secrets, connection);
  return { location: connectionLocation(connection), connector: new EwsCalendarConnector({ ...options, onRequest: count }) };
}

export const defaultConnectorFactory: ConnectorFactory = {
  async createCalendar(settings, secrets): Promise<CountedCalendar> {
    let requests = 0;
    const count = () => void requests++;
    const connections: ExchangeConnection[] = [];
    for (const connection of exchangeConnections(settings)) connections.push(await connectorFor(settings, secrets, connection, count));
    const key = (which: 'first' | 'second') => connections[which === 'first' ? 0 : 1]?.location;
    const overrides = Object.fromEntries(Object.entries(settings.mailboxLocations).flatMap(([email, which]) => (key(which) ? [[email, key(which)!]] : [])));
    return Object.assign(new RoutedCalendarConnector({ connections, overrides }), { requestCount: () => requests });
  },
  async createSevera(settings, secrets, purpose = 'sync'): Promise<CountedSevera> {
    const clientSecret = await requireSecret(secrets, 'severa-client-secret');
    const quick = purpose === 'check' ? { maxRetries: 1, timeoutMs: 15_000 } : {};
    const transport = nodeTransport(readCaFile(settings.severa.caFile, 'Admin > Visma Severa > CA certificate file'), networkForSettings(settings, secrets));
    const client = new SeveraClient({ baseUrl: settings.severa.apiUrl, clientId: settings.severa.clientId, clientSecret, transport, ...quick });
    return client;
  },
};
