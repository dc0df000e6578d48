/**
 * The tenant's directory as the simulator sees it: the tenant (found by GUID or any verified domain), users (found by
 * object id, userPrincipalName or any SMTP address) and app registrations with their credentials, permissions and the
 * Exchange mailbox scope an application access policy gives them.
 */
import type { KeyObject } from 'node:crypto';
import { parseSeedDateTime } from '../common/zoned-time.ts';
import type { GraphMailboxState, GraphSeed, GraphSeedApp, GraphSeedUser } from './graph-seed.ts';
import { describeCertificate } from './test-ca.ts';

export interface DirectoryUser {
  id: string;
  userPrincipalName: string;
  mail: string;
  aliases: string[];
  displayName: string;
  givenName: string | null;
  surname: string | null;
  jobTitle: string | null;
  password: string | null;
  /** Exchange Online mailbox: none, moving (in or out), active, moved-away (to on-premises). */
  mailboxState: GraphMailboxState;
  accountEnabled: boolean;
}

export interface AppSecret {
  value: string;
  expiresMs: number | null;
}

export interface AppCertificate {
  pem: string;
  thumbprintSha1: string;
  thumbprintSha256: string;
  publicKey: KeyObject;
  notAfterMs: number;
}

export interface AppRegistration {
  clientId: string;
  displayName: string;
  secrets: AppSecret[];
  certificates: AppCertificate[];
  applicationPermissions: string[];
  adminConsent: boolean;
  delegatedPermissions: string[];
  redirectUris: string[];
  publicClient: boolean;
  /** null: every mailbox (no application access policy); else lower-case addresses it may reach. */
  mailboxScope: Set<string> | null;
}

export interface Tenant {
  id: string;
  domains: string[];
  displayName: string;
}

export function proxyAddressesOf(u: DirectoryUser): string[] {
  return [`SMTP:${u.mail}`, ...u.aliases.map((a) => `smtp:${a}`)];
}

export class Directory {
  readonly tenant: Tenant;
  readonly users: DirectoryUser[] = [];
  readonly apps: AppRegistration[] = [];
  private readonly byKey = new Map<string, DirectoryUser>();

  constructor(seed: GraphSeed, nowMs = Date.now()) {
    this.tenant = { id: seed.tenant.id.toLowerCase(), domains: seed.tenant.domains.map((d) => d.toLowerCase()), displayName: seed.tenant.displayName };
    for (const u of seed.users) this.addUser(u);
    for (const a of seed.apps) this.addApp(a, seed.timeZone, nowMs);
  }

  addUser(u: GraphSeedUser): DirectoryUser {
    const user: DirectoryUser = {
      id: u.id.toLowerCase(),
      userPrincipalName: u.userPrincipalName,
      mail: (u.mail ?? u.userPrincipalName).toLowerCase(),
      aliases: (u.aliases ?? []).map((a) => a.toLowerCase()),
      displayName: u.displayName,
      givenName: u.givenName ?? null,
      surname: u.surname ?? null,
      jobTitle: u.jobTitle ?? null,
      password: u.password ?? null,
      mailboxState: u.mailboxState ?? (u.mailbox === false ? 'none' : 'active'),
      accountEnabled: u.accountEnabled ?? true,
    };
    this.users.push(user);
    for (const k of [user.id, user.userPrincipalName, user.mail, ...user.aliases]) this.byKey.set(k.toLowerCase(), user);
    return user;
  }

  private addApp(a: GraphSeedApp, zone: string, nowMs: number): void {
    this.apps.push({
      clientId: a.clientId.toLowerCase(),
      displayName: a.displayName,
      secrets: (a.secrets ?? []).map((s) => ({ value: s.value, expiresMs: s.expires ? parseSeedDateTime(s.expires, zone, nowMs) : null })),
      certificates: (a.certificates ?? []).map((c) => ({ pem: c.pem, ...describeCertificate(c.pem) })),
      applicationPermissions: a.applicationPermissions ?? [],
      adminConsent: a.adminConsent ?? true,
      delegatedPermissions: a.delegatedPermissions ?? [],
      redirectUris: a.redirectUris ?? [],
      publicClient: a.publicClient ?? false,
      mailboxScope: !a.mailboxAccess || a.mailboxAccess === 'all' ? null : this.scopeOf(a.mailboxAccess),
    });
  }

  private scopeOf(addresses: string[]): Set<string> {
    const out = new Set<string>();
    for (const a of addresses) {
      const u = this.byKey.get(a.toLowerCase());
      if (u) for (const k of [u.mail, ...u.aliases, u.userPrincipalName.toLowerCase()]) out.add(k);
    }
    return out;
  }

  /** Tenant by GUID or verified domain (case-insensitive); null for anything else. */
  findTenant(name: string): Tenant | null {
    const n = name.toLowerCase();
    return n === this.tenant.id || this.tenant.domains.includes(n) ? this.tenant : null;
  }

  findApp(clientId: string): AppRegistration | null {
    return this.apps.find((a) => a.clientId === clientId.toLowerCase()) ?? null;
  }

  /** /users/{id | userPrincipalName}: Graph resolves the object id or the UPN here (not other SMTP addresses). */
  userByIdOrUpn(key: string): DirectoryUser | null {
    const k = key.toLowerCase();
    return this.users.find((u) => u.id === k || u.userPrincipalName.toLowerCase() === k) ?? null;
  }

  /** Any of the user's addresses, UPN or id (for back doors and attendee resolution). */
  userByAnyAddress(key: string): DirectoryUser | null {
    return this.byKey.get(key.toLowerCase()) ?? null;
  }

  userById(id: string): DirectoryUser | null {
    return this.users.find((u) => u.id === id.toLowerCase()) ?? null;
  }

  /** Is this user inside the app's application access policy / RBAC scope? */
  appMayReach(app: AppRegistration, user: DirectoryUser): boolean {
    return app.mailboxScope === null || app.mailboxScope.has(user.mail);
  }

  /** Replace an app's mailbox scope at run time (null = all mailboxes). */
  setMailboxScope(clientId: string, addresses: string[] | null): void {
    const app = this.findApp(clientId);
    if (!app) throw new Error(`No app ${clientId}`);
    app.mailboxScope = addresses === null ? null : this.scopeOf(addresses);
  }
}
