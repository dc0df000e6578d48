import { readFileSync } from 'node:fs';
import type { SecretSource } from '../common/secrets-contract.ts';
import type { OnPremisesExchangeSettings, OrgSettings } from '../common/settings-schema.ts';
import { CalendarError } from '../exchange/calendar-connector.ts';
import { EwsCalendarConnector } from '../exchange/ews/ews-calendar-connector.ts';
import type { EwsConnectorOptions } from '../exchange/ews/ews-calendar-connector.ts';
import { SeveraClient } from '../severa/severa-client.ts';
import type { CountedCalendar, ConnectorFactory, CountedSevera } from './runner-types.ts';

/**
 * Builds the real peers from settings + secrets. Secrets come only from the SecretSource (keychain or environment),
 * never from the settings; a missing one is a plain error naming where to put it.
 */

export const OFFICE365_NOT_SUPPORTED =
  'Exchange Online (Office 365) no longer accepts a delegate user name and password, so this sync cannot log in there; the Microsoft Graph app-only connector that replaces it is not built yet.';

async function requireSecret(secrets: SecretSource, name: 'exchange-delegate-password' | 'severa-client-secret', what: string, envVar: string): Promise<string> {
  const value = await secrets.get(name);
  if (!value) throw new CalendarError('config', `No ${what} is stored. Enter it in the settings window (OS keychain), or set ${envVar} for the command line.`);
  return value;
}

function readCaFile(path: string | undefined): string | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CalendarError('config', `The CA file ${path} cannot be read: ${(error as Error).message}.`);
  }
}

/** The EWS connector's options for these settings (also what the EWS diagnostics take). */
export async function ewsConnectorOptions(settings: OrgSettings, secrets: SecretSource): Promise<EwsConnectorOptions> {
  if (settings.exchange.serverType === 'Office365') throw new CalendarError('config', OFFICE365_NOT_SUPPORTED);
  const exchange = settings.exchange as OnPremisesExchangeSettings;
  const password = await requireSecret(secrets, 'exchange-delegate-password', 'delegate account password', 'SCS_EXCHANGE_PASSWORD');
  return {
    ewsUrl: exchange.ewsUrl,
    serverType: exchange.serverType,
    domain: exchange.domain,
    username: exchange.username,
    password,
    authMethod: exchange.authMethod,
    caCertificates: readCaFile(exchange.caFile),
  };
}

export const defaultConnectorFactory: ConnectorFactory = {
  async createCalendar(settings, secrets): Promise<CountedCalendar> {
    const options = await ewsConnectorOptions(settings, secrets);
    let requests = 0;
    const connector = new EwsCalendarConnector({ ...options, onRequest: () => void requests++ });
    return Object.assign(connector, { requestCount: () => requests });
  },
  async createSevera(settings, secrets, purpose = 'sync'): Promise<CountedSevera> {
    const clientSecret = await requireSecret(secrets, 'severa-client-secret', 'Severa API client secret', 'SCS_SEVERA_CLIENT_SECRET');
    const quick = purpose === 'check' ? { maxRetries: 1, timeoutMs: 15_000 } : {};
    const client = new SeveraClient({ baseUrl: settings.severa.apiUrl, clientId: settings.severa.clientId, clientSecret, ...quick });
    return client;
  },
};
