import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { CalendarError } from '../calendar-connector.ts';
import type { OutboundNetwork } from '../../net/outbound-network.ts';
import { isLoopbackHost } from '../../common/settings-schema.ts';
import { notOfferedSentence } from './ews-auth-offer.ts';
import { EwsCalendarConnector, type EwsConnectorOptions } from './ews-calendar-connector.ts';
import { NO_DATE_HEADER_SENTENCE } from './ews-clock.ts';
import { classifyNetworkError } from './ews-transport.ts';

/**
 * Activation checks for the admin, each one plain sentence of what is right or wrong and, when wrong, what to do.
 * They run in order of dependence: a check that cannot mean anything after an earlier failure is skipped rather than
 * reported as a second failure.
 *
 * A check passes only on positive proof: the address when it asks for a login as EWS does (or EWS answered after the
 * login), the login when Exchange answered a request only a logged-in account gets an answer to, a mailbox when the
 * directory resolved it, impersonation when its calendar opened, the clock when Exchange's time was read. A check
 * that could not prove its point fails and says what it could not prove.
 */

export interface EwsCheckResult {
  id: string;
  title: string;
  ok: boolean;
  message: string;
  fix?: string;
}

export const CLOCK_SKEW_LIMIT_MS = 60_000;

export const GRANT_IMPERSONATION_FIX =
  'In the Exchange Management Shell run: New-ManagementRoleAssignment -Name "SeveraSync" -Role ApplicationImpersonation -User svc-severa-sync ' +
  '(with your delegate account). To allow only some mailboxes, create a scope first, e.g. New-ManagementScope -Name "SeveraSyncUsers" ' +
  '-RecipientRestrictionFilter {MemberOfGroup -eq "CN=Severa Sync Users,OU=Groups,DC=contoso,DC=example"}, and add ' +
  '-CustomRecipientWriteScope "SeveraSyncUsers" to the role assignment.';

const MULTIPLE_DOMAINS_FIX =
  'Use an address the mailbox has: if the firm has several email domains, add this one to the mailbox as a secondary address ' +
  "(Set-Mailbox <user> -EmailAddresses @{add='smtp:<address>'}) or change the user's email in Severa to the mailbox's address.";

export interface UrlProbeResult {
  reachable: boolean;
  status?: number;
  wwwAuthenticate?: string | null;
  serverDateMs?: number | null;
  receivedAtMs?: number;
  error?: CalendarError;
  /** Subject CN and expiry of the server certificate, for the message. */
  certificate?: { subject: string; issuer: string; validTo: string };
}

/**
 * One unauthenticated request to the EWS URL: reachability, TLS and the auth schemes the server offers. An empty POST,
 * the method EWS serves: a server may refuse GET (HTTP 405) before asking for a login, and so hide what it offers.
 */
export function probeEwsUrl(url: string, caCertificates: string | undefined, timeoutMs = 15_000, network?: OutboundNetwork): Promise<UrlProbeResult> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ reachable: false, error: new CalendarError('config', `"${url}" is not a web address.`) });
      return;
    }
    const isHttps = target.protocol === 'https:';
    const lib = isHttps ? https : http;
    let timedOut = false;
    const req = lib.request(
      target,
      {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': '0' },
        timeout: timeoutMs,
        ...(isHttps && caCertificates ? { ca: [...tls.rootCertificates, caCertificates] } : {}),
        // Through the configured proxy when there is one (a one-off agent: this probe's connection is not kept).
        agent: network ? (isHttps ? network.agents({ keepAlive: false }).httpsAgent : network.agents({ keepAlive: false }).httpAgent) : false,
      },
      (res) => {
        const socket = res.socket as tls.TLSSocket;
        const peer = isHttps && typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : null;
        res.resume();
        const date = res.headers.date ? Date.parse(res.headers.date) : NaN;
        const auth = res.headers['www-authenticate'];
        resolve({
          reachable: true,
          status: res.statusCode,
          wwwAuthenticate: Array.isArray(auth) ? auth.join(', ') : (auth ?? null),
          serverDateMs: Number.isNaN(date) ? null : date,
          receivedAtMs: Date.now(),
          ...(peer && peer.subject ? { certificate: { subject: String(peer.subject.CN ?? ''), issuer: String(peer.issuer?.CN ?? ''), validTo: peer.valid_to } } : {}),
        });
      },
    );
    req.on('timeout', () => {
      timedOut = true;
      req.destroy(new Error('timeout'));
    });
    req.on('error', (error) => resolve({ reachable: false, error: classifyNetworkError(error, { timeoutMs, maxResponseBytes: 0 }, timedOut) }));
    req.end();
  });
}

function describeOffset(ms: number): string {
  // Rounded to whole seconds first: 119.6 s is "2 min 0 s", never "1 min 60 s".
  const total = Math.round(Math.abs(ms) / 1000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  const amount = minutes > 0 ? `${minutes} min ${seconds} s` : `${seconds} s`;
  return `${amount} ${ms > 0 ? 'ahead of' : 'behind'}`;
}

function tlsFix(error: CalendarError): string {
  switch (error.serverCode) {
    case 'CERT_HAS_EXPIRED':
      return 'Renew the Exchange server certificate (Exchange admin center > Servers > Certificates).';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 'Use the host name the certificate is issued to in the EWS address, or add this name to the certificate.';
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'EPROTO':
      return 'Check the address: the port may serve plain HTTP, or be a different service.';
    default:
      return "If the certificate comes from your own certificate authority, save that CA's certificate as a PEM file and choose it as the CA file in the settings. Certificate checking is never switched off.";
  }
}

export interface EwsDiagnosticsOptions {
  connector: EwsConnectorOptions;
  /** Addresses of the users to enroll (as Severa knows them). */
  emails: string[];
  /** Allow http:// to a host other than this computer (settings: allowInsecureHttp). */
  allowInsecureHttp?: boolean;
  timeoutMs?: number;
  /** Called with each result as soon as it is known, in the order of the returned list (for a live display). */
  onResult?: (result: EwsCheckResult) => void;
}

export async function runEwsDiagnostics(options: EwsDiagnosticsOptions): Promise<EwsCheckResult[]> {
  const results: EwsCheckResult[] = [];
  const add = (r: EwsCheckResult) => {
    results.push(r);
    options.onResult?.(r);
    return r;
  };
  const { connector: settings } = options;
  const authName = settings.authMethod === 'basic' ? 'Basic' : 'NTLM';
  const account = settings.username.includes('\\') || settings.username.includes('@') || !settings.domain ? settings.username : `${settings.domain}\\${settings.username}`;

  // 1. Address well-formed and reachable.
  let url: URL | null = null;
  try {
    url = new URL(settings.ewsUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') url = null;
  } catch {
    url = null;
  }
  if (!url) {
    add({ id: 'ews-url', title: 'EWS address', ok: false, message: `"${settings.ewsUrl}" is not an https:// web address.`, fix: 'Enter the EWS address, usually https://<mail server>/EWS/Exchange.asmx.' });
    return results;
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !options.allowInsecureHttp) {
    add({ id: 'ews-url', title: 'EWS address', ok: false, message: 'The EWS address uses http://, which would send the delegate password unencrypted.', fix: 'Use the https:// address of the server.' });
    return results;
  }
  const probe = await probeEwsUrl(settings.ewsUrl, settings.caCertificates, options.timeoutMs, settings.network);
  if (!probe.reachable) {
    const error = probe.error as CalendarError;
    if (error.code === 'tls') {
      add({ id: 'ews-url', title: 'EWS address', ok: true, message: `${url.host} answers.` });
      add({ id: 'tls', title: 'Server certificate', ok: false, message: error.message, fix: tlsFix(error) });
    } else {
      add({
        id: 'ews-url',
        title: 'EWS address',
        ok: false,
        message: `${url.host} cannot be reached: ${error.message}`,
        fix: error.advice?.fix ?? (error.serverCode === 'ENOTFOUND' ? 'Check the host name in the address, and that this computer can resolve it (VPN, DNS).' : 'Check the address and port, and that a firewall or proxy lets this computer reach the server.'),
      });
    }
    return results;
  }
  if (probe.status === 404) {
    add({ id: 'ews-url', title: 'EWS address', ok: false, message: `${url.host} answers, but there is no EWS service at ${url.pathname} (HTTP 404).`, fix: 'The address usually ends in /EWS/Exchange.asmx.' });
    return results;
  }
  // The address is proved by the login question EWS asks (HTTP 401), else only by EWS answering once logged in: then
  // its result waits for the login (the certificate's with it, to keep the order).
  const addressAndCertificate = (loggedIn: boolean): void => {
    if (probe.status === 401) {
      add({ id: 'ews-url', title: 'EWS address', ok: true, message: `${url.host} answers at ${url.pathname} and asks for a login, as an EWS endpoint should.` });
    } else if (loggedIn) {
      add({ id: 'ews-url', title: 'EWS address', ok: true, message: `${url.host} answers at ${url.pathname} (HTTP ${probe.status} without a login) and EWS answered once logged in.` });
    } else {
      add({
        id: 'ews-url',
        title: 'EWS address',
        ok: false,
        message: `${url.host} answers at ${url.pathname} with HTTP ${probe.status}, not with the login question (HTTP 401) of an EWS endpoint, so it could not be proved to be EWS.`,
        fix: 'Check the address (it usually ends in /EWS/Exchange.asmx), and that no proxy or sign-in page answers in front of Exchange.',
      });
    }
    if (url.protocol === 'https:') {
      const cert = probe.certificate;
      add({ id: 'tls', title: 'Server certificate', ok: true, message: cert ? `The certificate for ${cert.subject} (issued by ${cert.issuer}) is valid until ${cert.validTo}.` : 'The server certificate is valid.' });
    } else {
      add({ id: 'tls', title: 'Server certificate', ok: true, message: 'The address uses plain http:// (no certificate); acceptable only for a server on this computer or a network you fully trust.' });
    }
  };
  if (probe.status === 401) addressAndCertificate(false);

  // 2. Delegate login (no impersonation): proved only by an EWS answer that needs it.
  const connector = new EwsCalendarConnector({ ...settings, timeoutMs: options.timeoutMs ?? settings.timeoutMs ?? 20_000 });
  const offered = probe.wwwAuthenticate ?? '';
  let loginProof: 'resolved' | 'answered' | null = null;
  let loginError: CalendarError | null = null;
  try {
    loginProof = await connector.verifyLogin();
  } catch (error) {
    loginError = error instanceof CalendarError ? error : new CalendarError('other', String(error));
  }
  if (probe.status !== 401) addressAndCertificate(loginProof !== null);
  if (loginProof) {
    const how = loginProof === 'resolved' ? 'Exchange resolved its name' : 'Exchange answered its name lookup';
    add({ id: 'delegate-login', title: 'Delegate login', ok: true, message: `${account} logged in with ${authName} (${how}, which needs a login).` });
  } else {
    add({ id: 'delegate-login', title: 'Delegate login', ok: false, ...loginProblem(loginError as CalendarError, account, authName, settings.authMethod, offered) });
    return results;
  }

  // 3. Each mailbox: the address resolves, then impersonation works.
  for (const email of options.emails) {
    const address = String(email ?? '').trim().toLowerCase();
    let primary: string | null = null;
    try {
      primary = await connector.resolveMailbox(address);
    } catch (error) {
      add({ id: `mailbox:${address}`, title: `Mailbox of ${address}`, ok: false, message: `Looking up ${address} failed: ${(error as Error).message}`, fix: 'Try again later.' });
      continue;
    }
    if (!primary) {
      add({ id: `mailbox:${address}`, title: `Mailbox of ${address}`, ok: false, message: `Exchange has no mailbox with the address ${address}.`, fix: MULTIPLE_DOMAINS_FIX });
      continue;
    }
    add({
      id: `mailbox:${address}`,
      title: `Mailbox of ${address}`,
      ok: true,
      message: primary === address ? `${address} is a mailbox.` : `${address} is a secondary address of the mailbox ${primary}.`,
    });
    try {
      await connector.probeMailboxAccess(primary);
      add({ id: `impersonation:${address}`, title: `Access to ${primary}`, ok: true, message: `${account} can open the calendar of ${primary} (impersonation).` });
    } catch (error) {
      const e = error instanceof CalendarError ? error : new CalendarError('other', String(error));
      if (e.code === 'impersonation-denied') {
        add({ id: `impersonation:${address}`, title: `Access to ${primary}`, ok: false, message: `${account} is not allowed to impersonate ${primary}.`, fix: GRANT_IMPERSONATION_FIX });
      } else if (e.code === 'no-mailbox') {
        add({ id: `impersonation:${address}`, title: `Access to ${primary}`, ok: false, message: `Exchange says ${primary} has no mailbox.`, fix: MULTIPLE_DOMAINS_FIX });
      } else {
        add({ id: `impersonation:${address}`, title: `Access to ${primary}`, ok: false, message: e.message, fix: 'Try again later; if it persists, check the mailbox in the Exchange admin center.' });
      }
    }
  }

  // 4. Clock offset, from the last answer's Date header (or the probe's), else an estimate from the sync's own writes.
  const offset = connector.clockOffsetMs() ?? (probe.serverDateMs != null && probe.receivedAtMs ? probe.serverDateMs + 500 - probe.receivedAtMs : null);
  const source = connector.clockOffsetSource();
  if (offset === null) {
    add({
      id: 'clock',
      title: 'Server clock',
      ok: false,
      message: NO_DATE_HEADER_SENTENCE,
      fix: 'Let the server (or the proxy in front of it) send the HTTP Date header, and keep both clocks synchronised with a time server. Meanwhile the sync estimates the offset from its own writes, when it makes any.',
    });
  } else if (Math.abs(offset) > CLOCK_SKEW_LIMIT_MS) {
    add({
      id: 'clock',
      title: 'Server clock',
      ok: false,
      message: `Exchange's clock is ${describeOffset(offset)} this computer's.`,
      fix: 'Synchronise both clocks with a time server (w32tm /resync on Windows): the later change wins a conflict, so a skewed clock decides conflicts wrongly.',
    });
  } else {
    const within = Math.max(1, Math.round(Math.abs(offset) / 1000));
    const estimated = source?.kind === 'write' ? ` (estimated from the sync's own writes, ± ${Math.max(1, Math.round(source.estimate.uncertaintyMs / 1000))} s: Exchange sends no Date header)` : '';
    add({ id: 'clock', title: 'Server clock', ok: true, message: `Exchange's clock agrees with this computer's (within ${within} s)${estimated}.` });
  }
  return results;
}

/** Why the delegate login could not be proved, and what to do. */
function loginProblem(error: CalendarError, account: string, authName: string, method: EwsConnectorOptions['authMethod'], offered: string): { message: string; fix: string } {
  if (error.code === 'auth') {
    // A method the server does not offer: from the probe's 401, or as the transport read it on the login's own 401.
    const notOffered = notOfferedSentence(method, offered) ?? /The server offers [^.;]+ only[^.]*\./.exec(error.message)?.[0] ?? null;
    if (notOffered) {
      return {
        message: `Exchange does not offer ${authName} logins at this address, so ${account} could not log in.`,
        fix: `${notOffered} Or enable ${method === 'ntlm' ? 'Windows authentication (NTLM)' : 'Basic authentication'} on the EWS virtual directory.`,
      };
    }
    return {
      message: `Exchange refused ${account} with ${authName}${offered ? `; the server offers: ${offered}` : ''}.`,
      fix: 'Check the user name, the NetBIOS domain and the password of the delegate account (and that the account is not locked).',
    };
  }
  const fix =
    error.code === 'config'
      ? 'Correct the Exchange settings (address, server type) as the message says.'
      : error.code === 'impersonation-denied' || error.code === 'no-mailbox'
        ? 'Check that the delegate account may use EWS (it needs no mailbox of its own).'
        : 'Try again; if it persists, check the EWS address and the server.';
  return { message: `The login of ${account} with ${authName} could not be proved: ${error.message}`, fix };
}

export type OwnMailboxLoginResult = { ok: true; primaryAddress?: string } | { ok: false; message: string; fix?: string };

/**
 * Logs in to Exchange as the user (their address as login name, their own password, no impersonation) and opens
 * their calendar: proves they own the mailbox. Nothing is kept; the password is only used for these requests.
 */
export async function verifyOwnMailboxLogin(
  settings: Omit<EwsConnectorOptions, 'username' | 'password'>,
  email: string,
  password: string,
  loginName?: string,
): Promise<OwnMailboxLoginResult> {
  const address = typeof email === 'string' ? email.trim().toLowerCase() : '';
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) return { ok: false, message: `"${String(email)}" is not an email address.`, fix: 'Enter the address you use for email.' };
  if (typeof password !== 'string' || password.length === 0) return { ok: false, message: 'Enter your mailbox password.' };
  const login = loginName?.trim() || address;
  try {
    const connector = new EwsCalendarConnector({ ...settings, domain: login.includes('@') ? '' : settings.domain, username: login, password });
    const primary = await connector.verifyOwnLogin(address);
    return { ok: true, ...(primary ? { primaryAddress: primary } : {}) };
  } catch (error) {
    const e = error instanceof CalendarError ? error : new CalendarError('other', String(error));
    const notOffered = e.code === 'auth' ? /The server offers [^.;]+ only[^.]*\./.exec(e.message)?.[0] : undefined;
    if (notOffered) return { ok: false, message: 'Exchange does not offer the login method the sync is set to use, so your password could not be checked.', fix: `Ask the admin: ${notOffered}` };
    if (e.code === 'auth') return { ok: false, message: 'Exchange did not accept this address and password.', fix: 'Use the password you sign in to Outlook with. If your sign-in name differs from your email address, ask the admin.' };
    if (e.code === 'no-mailbox' || e.code === 'impersonation-denied' || e.code === 'not-found') {
      return { ok: false, message: `You signed in, but ${address} is not your mailbox.`, fix: 'Enter the email address of your own mailbox.' };
    }
    return { ok: false, message: `Exchange could not check the login: ${e.message}`, fix: 'Try again later.' };
  }
}
