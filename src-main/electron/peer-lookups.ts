import { readFile } from 'node:fs/promises';
import type { SecretSource } from '../common/secrets-contract.ts';
import { verifyOwnMailboxLogin as verifyWithEws } from '../exchange/ews/ews-diagnostics.ts';
import type { EwsConnectorOptions } from '../exchange/ews/ews-calendar-connector.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
import { networkForSettings } from '../net/settings-network.ts';
import { defaultConnectorFactory } from '../runner/connector-factory.ts';
import type { ConnectorFactory } from '../runner/runner-types.ts';
import type { SeveraPort } from '../sync/severa-port.ts';
import type { ActivityTypeInfo, OwnMailboxCheck, PeerLookups } from './window-requests.ts';

/**
 * The window's lookups on Severa and Exchange, made through the same connectors the sync uses (so the same settings,
 * secrets, TLS rules and error translation apply).
 */
export interface PeerLookupDeps {
  secrets: SecretSource;
  connectors?: ConnectorFactory;
  /** Logs in to Exchange as the user, without impersonation; default: the EWS connector's diagnostics. */
  verifyOwnMailboxLogin?: (settings: OrgSettings, email: string, password: string, loginName?: string) => Promise<OwnMailboxCheck>;
}

/** The EWS connection settings without credentials, for a login that is not the delegate's. */
export async function ewsSettingsOf(settings: OrgSettings, secrets: SecretSource): Promise<Omit<EwsConnectorOptions, 'username' | 'password'>> {
  const ex = settings.exchange;
  if (ex.serverType === 'Office365') throw new Error('Exchange Online has no EWS login with a password; it needs the Microsoft Graph connector.');
  let caCertificates: string | undefined;
  if (ex.caFile) {
    try {
      caCertificates = await readFile(ex.caFile, 'utf8');
    } catch (error) {
      throw new Error(`The CA certificate file ${ex.caFile} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { ewsUrl: ex.ewsUrl, serverType: ex.serverType, domain: ex.domain, authMethod: ex.authMethod, network: networkForSettings(settings, secrets), ...(caCertificates ? { caCertificates } : {}) };
}

/** Logs in to EWS as the user with their own password, no impersonation (the password is used for that login only). */
export async function verifyOwnMailboxLoginWithEws(settings: OrgSettings, email: string, password: string, loginName: string | undefined, secrets: SecretSource): Promise<OwnMailboxCheck> {
  let ews: Omit<EwsConnectorOptions, 'username' | 'password'>;
  try {
    ews = await ewsSettingsOf(settings, secrets);
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error), fix: 'Correct the Exchange settings in the Admin section.' };
  }
  return verifyWithEws(ews, email, password, loginName);
}

export function createPeerLookups(deps: PeerLookupDeps): PeerLookups {
  const verify = deps.verifyOwnMailboxLogin ?? ((settings: OrgSettings, email: string, password: string, loginName?: string) => verifyOwnMailboxLoginWithEws(settings, email, password, loginName, deps.secrets));
  const connectors = deps.connectors ?? defaultConnectorFactory;
  const severa = async (settings: OrgSettings) => (await connectors.createSevera(settings, deps.secrets)) as SeveraPort;
  return {
    async listActivityTypes(settings): Promise<ActivityTypeInfo[]> {
      const types = await (await severa(settings)).listActivityTypes();
      return types
        .filter((t) => t.guid)
        .map((t) => ({ guid: t.guid!, name: t.name ?? '(no name)', category: t.category ?? 'CalendarEntry', isActive: t.isActive ?? true, isDefault: t.isDefault ?? false }));
    },
    async findSeveraUser(settings, email) {
      const users = await (await severa(settings)).listUsers();
      const match = users.find((u) => (u.email ?? '').trim().toLowerCase() === email);
      if (!match) return { known: false, detail: 'Severa has no user with this email.' };
      if (match.isActive === false) return { known: false, detail: 'The Severa user with this email is inactive.' };
      const name = [match.firstName, match.lastName].filter(Boolean).join(' ');
      return { known: true, detail: `Severa knows this address${name ? ` (${name})` : ''}.` };
    },
    async resolveMailbox(settings, email) {
      const calendar = await connectors.createCalendar(settings, deps.secrets);
      return calendar.resolveMailbox(email);
    },
    verifyOwnMailboxLogin: (settings, email, password, loginName) => verify(settings, email, password, loginName),
  };
}
