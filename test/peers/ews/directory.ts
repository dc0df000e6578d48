/**
 * The simulated Active Directory: who can log in (delegate service accounts and mailbox users), which addresses
 * belong to which mailbox (primary SMTP and secondary aliases), and who may impersonate whom.
 */
import { createHash } from 'node:crypto';
import { MailboxCalendar, UidIndex } from './mailbox-calendar.ts';
import type { EwsMailboxState, ParsedEwsSeed } from './seed.ts';

export interface Mailbox {
  guid: string;
  primary: string;
  aliases: string[];
  displayName: string;
  upn: string;
  calendar: MailboxCalendar;
  /** Where the mailbox is in a move; anything but active refuses mailbox operations (mailbox-moves.ts). */
  state: EwsMailboxState;
}

export interface Principal {
  kind: 'delegate' | 'user';
  username: string;
  upn: string;
  displayName: string;
  password: string;
  /** The user's own mailbox (users only). */
  mailbox?: Mailbox;
  /** Mailbox guids this account may impersonate, or 'all'. */
  impersonation: 'all' | Set<string>;
}

export class DirectoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DirectoryError';
  }
}

/** A stable GUID for an address when the seed gives none, so ids stay the same from run to run. */
function derivedGuid(text: string): string {
  const h = createHash('sha256').update(text.toLowerCase()).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class Directory {
  readonly netbiosDomain: string;
  readonly dnsDomain: string;
  private readonly byAddress = new Map<string, Mailbox>();
  private readonly byGuid = new Map<string, Mailbox>();
  private readonly principals = new Map<string, Principal>();
  readonly mailboxes: Mailbox[] = [];
  readonly uids = new UidIndex();

  constructor(seed: ParsedEwsSeed) {
    this.netbiosDomain = seed.server?.netbiosDomain ?? 'CONTOSO';
    this.dnsDomain = seed.server?.dnsDomain ?? 'contoso.example';
    for (const m of seed.mailboxes) this.addMailbox(m);
    for (const d of seed.delegates ?? []) {
      const upn = (d.upn ?? `${d.username}@${this.dnsDomain}`).toLowerCase();
      let impersonation: Principal['impersonation'];
      if (d.impersonation === 'all') impersonation = 'all';
      else {
        impersonation = new Set<string>();
        for (const addr of d.impersonation) {
          const mb = this.mailboxByAddress(addr);
          if (!mb) throw new DirectoryError(`Delegate ${d.username} is granted impersonation of ${addr}, which is no mailbox address`);
          impersonation.add(mb.guid);
        }
      }
      this.addPrincipal({ kind: 'delegate', username: d.username, upn, displayName: d.displayName ?? d.username, password: d.password, impersonation });
    }
  }

  addMailbox(m: ParsedEwsSeed['mailboxes'][number]): Mailbox {
    const primary = m.primarySmtp.toLowerCase();
    const guid = (m.guid ?? derivedGuid(primary)).toLowerCase();
    if (this.byGuid.has(guid)) throw new DirectoryError(`Two mailboxes share the guid ${guid}`);
    const upn = (m.upn ?? `${m.username}@${this.dnsDomain}`).toLowerCase();
    const mb: Mailbox = {
      guid,
      primary,
      aliases: (m.aliases ?? []).map((a) => a.toLowerCase()),
      displayName: m.displayName,
      upn,
      calendar: new MailboxCalendar(guid, primary, this.uids),
      state: m.state ?? 'active',
    };
    for (const addr of [primary, ...mb.aliases]) {
      if (this.byAddress.has(addr)) throw new DirectoryError(`The address ${addr} belongs to two mailboxes`);
      this.byAddress.set(addr, mb);
    }
    this.byGuid.set(guid, mb);
    this.mailboxes.push(mb);
    this.addPrincipal({ kind: 'user', username: m.username, upn, displayName: m.displayName, password: m.password, mailbox: mb, impersonation: new Set() });
    return mb;
  }

  private addPrincipal(p: Principal): void {
    const key = p.username.toLowerCase();
    if (this.principals.has(key) || this.principals.has(p.upn)) throw new DirectoryError(`Two accounts share the login ${p.username}`);
    this.principals.set(key, p);
    this.principals.set(p.upn, p);
  }

  /** Primary or secondary address (case-insensitive, optional "smtp:" prefix). */
  mailboxByAddress(address: string): Mailbox | undefined {
    return this.byAddress.get(address.trim().replace(/^smtp:/i, '').toLowerCase());
  }

  mailboxByPrimary(address: string): Mailbox | undefined {
    const mb = this.mailboxByAddress(address);
    return mb && mb.primary === address.trim().toLowerCase() ? mb : undefined;
  }

  mailboxByUpn(upn: string): Mailbox | undefined {
    const p = this.principals.get(upn.trim().toLowerCase());
    return p?.kind === 'user' && p.upn === upn.trim().toLowerCase() ? p.mailbox : undefined;
  }

  mailboxByGuid(guid: string): Mailbox | undefined {
    return this.byGuid.get(guid);
  }

  /**
   * The account for a login name as IIS accepts it: `DOMAIN\user` (NetBIOS or DNS domain), a UPN, or a bare user
   * name. `domain` is the separately given domain (NTLM carries it apart from the user name).
   */
  findPrincipal(user: string, domain = ''): Principal | undefined {
    let name = user.trim();
    let dom = domain.trim();
    const slash = name.indexOf('\\');
    if (slash >= 0) {
      dom = name.slice(0, slash);
      name = name.slice(slash + 1);
    }
    if (name.includes('@')) {
      if (dom && !this.isOwnDomain(dom)) return undefined;
      const p = this.principals.get(name.toLowerCase());
      return p && p.upn === name.toLowerCase() ? p : undefined;
    }
    if (dom && !this.isOwnDomain(dom)) return undefined;
    const p = this.principals.get(name.toLowerCase());
    return p && p.username.toLowerCase() === name.toLowerCase() ? p : undefined;
  }

  private isOwnDomain(dom: string): boolean {
    const d = dom.toLowerCase();
    return d === this.netbiosDomain.toLowerCase() || d === this.dnsDomain.toLowerCase() || d === '.';
  }

  /** A delegate account by user name (for granting it impersonation of a mailbox added at run time). */
  delegate(username: string): Principal | undefined {
    const p = this.principals.get(username.trim().toLowerCase());
    return p?.kind === 'delegate' ? p : undefined;
  }

  canImpersonate(p: Principal, target: Mailbox): boolean {
    return p.impersonation === 'all' || p.impersonation.has(target.guid);
  }

  /** Display name for an address: the mailbox's, or the address itself for outside people. */
  nameFor(address: string): string {
    return this.mailboxByAddress(address)?.displayName ?? address;
  }

  /** Entries for ResolveNames: exact address match first, then display-name or alias prefix. */
  resolve(entry: string): Mailbox[] {
    const q = entry.trim().replace(/^smtp:/i, '').toLowerCase();
    if (!q) return [];
    const exact = this.byAddress.get(q);
    if (exact) return [exact];
    return this.mailboxes.filter(
      (m) =>
        m.displayName.toLowerCase().startsWith(q) ||
        m.displayName.toLowerCase().split(/\s+/).some((w) => w.startsWith(q)) ||
        m.primary.startsWith(q) ||
        m.upn.split('@')[0] === q,
    );
  }
}
