import { readFile } from 'node:fs/promises';
import { currentLanguage, t } from '../common/i18n/i18n.ts';
import type { SecretSource } from '../common/secrets-contract.ts';
import { verifyOwnMailboxLogin as verifyWithEws } from '../exchange/ews/ews-diagnostics.ts';
import type { EwsConnectorOptions } from '../exchange/ews/ews-connector-options.ts';
import type { ExchangeOnlineSettings, ExchangeSettings, OrgSettings } from '../common/settings-schema.ts';
import { proveMailboxOwnership } from '../exchange/graph/graph-mailbox-proof.ts';
import { networkForSettings } from '../net/settings-network.ts';
import { defaultConnectorFactory, exchangeConnections, graphConnection } from '../runner/connector-factory.ts';
import type { ConnectorFactory } from '../runner/runner-types.ts';
import type { SeveraPort } from '../sync/severa-port.ts';
import type { ActivityTypeInfo, OwnMailboxCheck, PeerLookups } from './window-requests.ts';

type OnPremisesConnection = Exclude<ExchangeSettings, { serverType: 'Office365' }>;


/** The page the person's browser shows after the Microsoft sign-in (text escaped: it is a page of its own). */
const successPage = () => {
  const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="${currentLanguage()}"><meta charset="utf-8"><title>Severa Calendar Sync</title><p>${escape(t('app.lookups.signedIn'))}</p></html>`;
};

/** The organization's on-premises connection (the first one that is), for a login with the person's own password. */
function onPremisesConnection(settings: OrgSettings): OnPremisesConnection | undefined {
  return exchangeConnections(settings).find((c): c is OnPremisesConnection => c.serverType !== 'Office365');
}

function exchangeOnlineConnection(settings: OrgSettings): ExchangeOnlineSettings | undefined {
  return exchangeConnections(settings).find((c): c is ExchangeOnlineSettings => c.serverType === 'Office365');
}

/**
 * The window's lookups on Severa and Exchange, made through the same connectors the sync uses (so the same settings,
 * secrets, TLS rules and error translation apply).
 */
export interface PeerLookupDeps {
  secrets: SecretSource;
  connectors?: ConnectorFactory;
  /** Logs in to Exchange as the user, without impersonation; default: the EWS connector's diagnostics. */
  verifyOwnMailboxLogin?: (settings: OrgSettings, email: string, password: string, loginName?: string) => Promise<OwnMailboxCheck>;
  /** How long the Microsoft sign-in may take in the browser; default 5 minutes. */
  signInTimeoutMs?: number;
}

/** The EWS connection settings without credentials, for a login that is not the delegate's. */
export async function ewsSettingsOf(settings: OrgSettings, secrets: SecretSource): Promise<Omit<EwsConnectorOptions, 'username' | 'password'>> {
  // In a hybrid organization the password is checked by the on-premises server, wherever the mailbox lives now.
  const ex = onPremisesConnection(settings);
  if (!ex) throw new Error(t('app.lookups.noOnPremises'));
  let caCertificates: string | undefined;
  if (ex.caFile) {
    try {
      caCertificates = await readFile(ex.caFile, 'utf8');
    } catch (error) {
      throw new Error(t('app.lookups.caUnreadable', { path: ex.caFile, why: error instanceof Error ? error.message : String(error) }));
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
    return { ok: false, message: error instanceof Error ? error.message : String(error), fix: t('app.lookups.correctSettings') };
  }
  return verifyWithEws(ews, email, password, loginName);
}

/**
 * Exchange Online: the person signs in with Microsoft in their own browser (authorization code + PKCE, loopback
 * redirect), through the same network path and CA file as the sync's own Graph connection; the app's directory lookup
 * then says whether the signed-in account's mailbox has `email`. Nothing of the sign-in is kept (graph-mailbox-proof.ts).
 */
export async function proveMicrosoftSignIn(
  settings: OrgSettings,
  email: string,
  openBrowser: (url: string) => Promise<void>,
  secrets: SecretSource,
  timeoutMs?: number,
): Promise<OwnMailboxCheck> {
  const online = exchangeOnlineConnection(settings);
  if (!online) return { ok: false, message: t('app.lookups.noOnline'), fix: t('app.lookups.correctSettings') };
  let connection;
  try {
    connection = await graphConnection(settings, secrets, undefined, online);
  } catch (error) {
    const advice = (error as { advice?: { message?: string; fix?: string } } | null)?.advice;
    return { ok: false, message: advice?.message ?? (error instanceof Error ? error.message : String(error)), fix: advice?.fix ?? t('app.lookups.correctSettings') };
  }
  const proof = await proveMailboxOwnership({
    tenant: online.tenantId,
    clientId: online.clientId,
    authorityHost: online.authorityHost,
    transport: connection.transport,
    directory: connection.client,
    email,
    mode: 'browser',
    openBrowser,
    successPage: successPage(),
    ...(timeoutMs ? { timeoutMs } : {}),
  }).catch((error: unknown) => {
    const advice = (error as { advice?: { message?: string; fix?: string } } | null)?.advice;
    return { ok: false as const, message: advice?.message ?? (error instanceof Error ? error.message : String(error)), fix: advice?.fix };
  });
  return proof.ok ? { ok: true, primaryAddress: proof.mailbox } : { ok: false, message: proof.message, ...(proof.fix ? { fix: proof.fix } : {}) };
}

export function createPeerLookups(deps: PeerLookupDeps): PeerLookups {
  const verify = deps.verifyOwnMailboxLogin ?? ((settings: OrgSettings, email: string, password: string, loginName?: string) => verifyOwnMailboxLoginWithEws(settings, email, password, loginName, deps.secrets));
  const connectors = deps.connectors ?? defaultConnectorFactory;
  const severa = async (settings: OrgSettings) => (await connectors.createSevera(settings, deps.secrets)) as SeveraPort;
  return {
    async listActivityTypes(settings): Promise<ActivityTypeInfo[]> {
      const types = await (await severa(settings)).listActivityTypes();
      return types
        .filter((type) => type.guid)
        .map((type) => ({ guid: type.guid!, name: type.name ?? t('app.lookups.noName'), category: type.category ?? 'CalendarEntry', isActive: type.isActive ?? true, isDefault: type.isDefault ?? false }));
    },
    async findSeveraUser(settings, email) {
      const users = await (await severa(settings)).listUsers();
      const match = users.find((u) => (u.email ?? '').trim().toLowerCase() === email);
      if (!match) return { known: false, detail: t('app.lookups.noSeveraUser') };
      if (match.isActive === false) return { known: false, detail: t('app.lookups.inactiveSeveraUser') };
      const name = [match.firstName, match.lastName].filter(Boolean).join(' ');
      return { known: true, detail: name ? t('app.lookups.severaKnowsName', { name }) : t('app.lookups.severaKnows') };
    },
    async resolveMailbox(settings, email) {
      const calendar = await connectors.createCalendar(settings, deps.secrets);
      return calendar.resolveMailbox(email);
    },
    verifyOwnMailboxLogin: (settings, email, password, loginName) => verify(settings, email, password, loginName),
    proveMicrosoftSignIn: (settings, email, openBrowser) => proveMicrosoftSignIn(settings, email, openBrowser, deps.secrets, deps.signInTimeoutMs),
  };
}
