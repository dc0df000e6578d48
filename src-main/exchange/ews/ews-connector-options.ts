import type { ExchangeServerType } from '../../common/settings-schema.ts';
import type { OutboundNetwork } from '../../net/outbound-network.ts';
import { CalendarError } from '../calendar-connector.ts';
import type { EwsAuthMethod } from './ews-transport.ts';
import type { EwsWatchOptions } from './ews-watch-options.ts';
import { isValidTimeZone } from './time-zone-conversion.ts';

/**
 * The EWS connector's settings and the checks of what it is given: its settings when it is made, the mailbox
 * addresses and item ids of each call.
 */

export interface EwsConnectorOptions {
  ewsUrl: string;
  serverType: ExchangeServerType;
  /** NetBIOS domain (CONTOSO); empty when `username` is a UPN or already DOMAIN\user. */
  domain: string;
  username: string;
  password: string;
  authMethod: EwsAuthMethod;
  /** PEM text of extra CA certificates to trust for this server. */
  caCertificates?: string;
  /** How connections are opened: direct, or tunnelled through the proxy (src-main/net/outbound-network.ts). */
  network?: OutboundNetwork;
  /** Whole-request deadline (default 100 s, as the EWS Managed API). */
  timeoutMs?: number;
  /** Larger answers are dropped as 'bad-response' (default 64 MB). */
  maxResponseBytes?: number;
  /** Zone assumed for items whose time zone the server does not name (default: this computer's zone). */
  defaultTimeZone?: string;
  /** Items per GetItem request (default 50). */
  batchSize?: number;
  /** MaxChangesReturned per SyncFolderItems page, 1..512 (default 512). */
  syncPageSize?: number;
  /**
   * Called once per EWS request, for request counting. `mailbox` is null for requests made without impersonation;
   * `purpose` is 'verify' for the GetItem that reads back what a batch of writes stored.
   */
  onRequest?: (info: { operation: string; mailbox: string | null; purpose?: string }) => void;
  /** Streaming notifications of watchChanges (connection timeout, grouping, limits, retries); see ews-change-watch.ts. */
  watch?: EwsWatchOptions;
}

export const EMAIL_RE = /^[^\s@<>()"',;:\\]+@[^\s@<>()"',;:\\]+\.[^\s@<>()"',;:\\]+$/;

/** Accounts as the library's Basic credentials want them and as NTLM wants them. */
export function accountNames(domain: string, username: string): { basicUser: string; ntlmDomain: string; ntlmUser: string } {
  const user = username.trim();
  if (user.includes('\\')) {
    const [d, u] = user.split('\\', 2);
    return { basicUser: user, ntlmDomain: d, ntlmUser: u };
  }
  if (user.includes('@') || !domain.trim()) return { basicUser: user, ntlmDomain: '', ntlmUser: user };
  return { basicUser: `${domain.trim()}\\${user}`, ntlmDomain: domain.trim(), ntlmUser: user };
}

export function validateOptions(options: EwsConnectorOptions): void {
  const fail = (message: string) => {
    throw new CalendarError('config', message);
  };
  if (!options || typeof options !== 'object') fail('The Exchange connector needs its settings.');
  let url: URL | null = null;
  try {
    url = new URL(options.ewsUrl);
  } catch {
    fail(`"${String(options.ewsUrl)}" is not a web address (expected e.g. https://mail.example.com/EWS/Exchange.asmx).`);
  }
  if (url && url.protocol !== 'https:' && url.protocol !== 'http:') fail(`The EWS address must start with https://, not ${url.protocol}//.`);
  if (url && (url.username || url.password)) fail('Do not put a user name or password in the EWS address.');
  if (typeof options.username !== 'string' || options.username.trim() === '') fail('Enter the delegate account user name.');
  if (typeof options.password !== 'string' || options.password === '') fail('The delegate account password is empty.');
  if (options.authMethod !== 'ntlm' && options.authMethod !== 'basic') fail(`Unknown authentication method "${String(options.authMethod)}" (ntlm or basic).`);
  if (options.defaultTimeZone !== undefined && !isValidTimeZone(options.defaultTimeZone)) fail(`"${options.defaultTimeZone}" is not a known time zone.`);
  if (options.caCertificates !== undefined && !/-----BEGIN CERTIFICATE-----/.test(options.caCertificates)) fail('The CA file does not hold a PEM certificate.');
  if (options.syncPageSize !== undefined && !(Number.isInteger(options.syncPageSize) && options.syncPageSize >= 1 && options.syncPageSize <= 512)) fail('The sync page size must be from 1 to 512.');
  if (options.batchSize !== undefined && !(Number.isInteger(options.batchSize) && options.batchSize >= 1 && options.batchSize <= 500)) fail('The batch size must be from 1 to 500.');
}

export function checkMailbox(mailbox: string): string {
  if (typeof mailbox !== 'string' || !EMAIL_RE.test(mailbox.trim())) {
    throw new CalendarError('no-mailbox', `"${String(mailbox)}" is not a mailbox address.`);
  }
  return mailbox.trim().toLowerCase();
}

export function checkId(id: string, what = 'item id'): string {
  if (typeof id !== 'string' || id.trim() === '' || id.length > 2048) throw new CalendarError('other', `"${String(id).slice(0, 80)}" is not an Exchange ${what}.`);
  return id;
}
