import type { SecretSource } from '../common/secrets-contract.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
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
  /** Logs in to Exchange as the user, without impersonation (the EWS connector's diagnostics). */
  verifyOwnMailboxLogin?: (settings: OrgSettings, email: string, password: string) => Promise<OwnMailboxCheck>;
}

export function createPeerLookups(deps: PeerLookupDeps): PeerLookups {
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
    async verifyOwnMailboxLogin(settings, email, password) {
      if (!deps.verifyOwnMailboxLogin) return { ok: false, message: 'Checking a mailbox login is not available in this build.', fix: 'Ask the admin to update the app.' };
      return deps.verifyOwnMailboxLogin(settings, email, password);
    },
  };
}
