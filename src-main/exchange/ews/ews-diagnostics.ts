import http from 'node:http';
import { t } from '../../common/i18n/i18n.ts';
import https from 'node:https';
import tls from 'node:tls';
import { CalendarError } from '../calendar-connector.ts';
import type { OutboundNetwork } from '../../net/outbound-network.ts';
import { isLoopbackHost } from '../../common/settings-schema.ts';
import { notOfferedSentence } from './ews-auth-offer.ts';
import { EwsCalendarConnector } from './ews-calendar-connector.ts';
import type { EwsConnectorOptions } from './ews-connector-options.ts';
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

/** The fix for a delegate that may not impersonate a mailbox, in the current language (the commands stay as they are). */
export const grantImpersonationFix = () => t('checks.ews.grantImpersonationFix');

const multipleDomainsFix = () => t('checks.ews.multipleDomainsFix');

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
      resolve({ reachable: false, error: new CalendarError('config', t('checks.ews.notWebAddress', { url })) });
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
  return minutes > 0 ? t('checks.ews.offsetMinutes', { minutes, seconds }) : t('checks.ews.offsetSeconds', { seconds });
}

function tlsFix(error: CalendarError): string {
  switch (error.serverCode) {
    case 'CERT_HAS_EXPIRED':
      return t('checks.ews.certificateExpiredFix');
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return t('checks.ews.certificateNameFix');
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'EPROTO':
      return t('checks.ews.wrongProtocolFix');
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
    add({ id: 'ews-url', title: t('checks.titles.ewsUrl'), ok: false, message: t('checks.ews.notHttps', { url: settings.ewsUrl }), fix: t('checks.ews.notHttpsFix') });
    return results;
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !options.allowInsecureHttp) {
    add({ id: 'ews-url', title: t('checks.titles.ewsUrl'), ok: false, message: t('checks.ews.plainHttp'), fix: t('checks.ews.plainHttpFix') });
    return results;
  }
  const probe = await probeEwsUrl(settings.ewsUrl, settings.caCertificates, options.timeoutMs, settings.network);
  if (!probe.reachable) {
    const error = probe.error as CalendarError;
    if (error.code === 'tls') {
      add({ id: 'ews-url', title: t('checks.titles.ewsUrl'), ok: true, message: t('checks.ews.answers', { host: url.host }) });
      add({ id: 'tls', title: t('checks.titles.tls'), ok: false, message: error.message, fix: tlsFix(error) });
    } else {
      add({
        id: 'ews-url',
        title: t('checks.titles.ewsUrl'),
        ok: false,
        message: t('checks.ews.unreachable', { host: url.host, why: error.message }),
        fix: error.advice?.fix ?? (error.serverCode === 'ENOTFOUND' ? t('checks.ews.unknownHostFix') : t('checks.ews.unreachableFix')),
      });
    }
    return results;
  }
  if (probe.status === 404) {
    add({ id: 'ews-url', title: t('checks.titles.ewsUrl'), ok: false, message: t('checks.ews.noEws', { host: url.host, path: url.pathname }), fix: t('checks.ews.noEwsFix') });
    return results;
  }
  // The address is proved by the login question EWS asks (HTTP 401), else only by EWS answering once logged in: then
  // its result waits for the login (the certificate's with it, to keep the order).
  const addressAndCertificate = (loggedIn: boolean): void => {
    if (probe.status === 401) {
      add({ id: 'ews-url', title: t('checks.titles.ewsUrl'), ok: true, message: t('checks.ews.asksLogin', { host: url.host, path: url.pathname }) });
    } else if (loggedIn) {
      add({ id: 'ews-url', title: t('checks.titles.ewsUrl'), ok: true, message: t('checks.ews.answeredLoggedIn', { host: url.host, path: url.pathname, status: String(probe.status) }) });
    } else {
      add({
        id: 'ews-url',
        title: t('checks.titles.ewsUrl'),
        ok: false,
        message: t('checks.ews.notProved', { host: url.host, path: url.pathname, status: String(probe.status) }),
        fix: t('checks.ews.notProvedFix'),
      });
    }
    if (url.protocol === 'https:') {
      const cert = probe.certificate;
      add({ id: 'tls', title: t('checks.titles.tls'), ok: true, message: cert ? t('checks.ews.certificateValid', { subject: cert.subject, issuer: cert.issuer, validTo: cert.validTo }) : t('checks.ews.certificateValidShort') });
    } else {
      add({ id: 'tls', title: t('checks.titles.tls'), ok: true, message: t('checks.ews.plainHttpNoCertificate') });
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
    const how = loginProof === 'resolved' ? t('checks.ews.resolved') : t('checks.ews.answeredLookup');
    add({ id: 'delegate-login', title: t('checks.titles.delegateLogin'), ok: true, message: t('checks.ews.loggedIn', { account, auth: authName, how }) });
  } else {
    add({ id: 'delegate-login', title: t('checks.titles.delegateLogin'), ok: false, ...loginProblem(loginError as CalendarError, account, authName, settings.authMethod, offered) });
    return results;
  }

  // 3. Each mailbox: the address resolves, then impersonation works.
  for (const email of options.emails) {
    const address = String(email ?? '').trim().toLowerCase();
    let primary: string | null = null;
    try {
      primary = await connector.resolveMailbox(address);
    } catch (error) {
      add({ id: `mailbox:${address}`, title: t('checks.titles.mailbox', { address }), ok: false, message: t('checks.ews.lookupFailed', { address, why: (error as Error).message }), fix: t('checks.ews.tryLater') });
      continue;
    }
    if (!primary) {
      add({ id: `mailbox:${address}`, title: t('checks.titles.mailbox', { address }), ok: false, message: t('checks.ews.noMailbox', { address }), fix: multipleDomainsFix() });
      continue;
    }
    add({
      id: `mailbox:${address}`,
      title: t('checks.titles.mailbox', { address }),
      ok: true,
      message: primary === address ? t('checks.ews.isMailbox', { address }) : t('checks.ews.isSecondary', { address, primary }),
    });
    try {
      await connector.probeMailboxAccess(primary);
      add({ id: `impersonation:${address}`, title: t('checks.titles.access', { mailbox: primary }), ok: true, message: t('checks.ews.canOpen', { account, mailbox: primary }) });
    } catch (error) {
      const e = error instanceof CalendarError ? error : new CalendarError('other', String(error));
      if (e.code === 'impersonation-denied') {
        add({ id: `impersonation:${address}`, title: t('checks.titles.access', { mailbox: primary }), ok: false, message: t('checks.ews.cannotImpersonate', { account, mailbox: primary }), fix: grantImpersonationFix() });
      } else if (e.code === 'no-mailbox') {
        add({ id: `impersonation:${address}`, title: t('checks.titles.access', { mailbox: primary }), ok: false, message: t('checks.ews.saysNoMailbox', { mailbox: primary }), fix: multipleDomainsFix() });
      } else {
        add({ id: `impersonation:${address}`, title: t('checks.titles.access', { mailbox: primary }), ok: false, message: e.message, fix: t('checks.ews.persistsFix') });
      }
    }
  }

  // 4. Clock offset, from the last answer's Date header (or the probe's), else an estimate from the sync's own writes.
  const offset = connector.clockOffsetMs() ?? (probe.serverDateMs != null && probe.receivedAtMs ? probe.serverDateMs + 500 - probe.receivedAtMs : null);
  const source = connector.clockOffsetSource();
  if (offset === null) {
    add({
      id: 'clock',
      title: t('checks.titles.clock'),
      ok: false,
      message: t('checks.ews.noDateHeader'),
      fix: t('checks.ews.noDateHeaderFix'),
    });
  } else if (Math.abs(offset) > CLOCK_SKEW_LIMIT_MS) {
    add({
      id: 'clock',
      title: t('checks.titles.clock'),
      ok: false,
      message: offset > 0 ? t('checks.ews.clockAhead', { amount: describeOffset(offset) }) : t('checks.ews.clockBehind', { amount: describeOffset(offset) }),
      fix: t('checks.ews.clockFix'),
    });
  } else {
    const within = Math.max(1, Math.round(Math.abs(offset) / 1000));
    const message =
      source?.kind === 'write'
        ? t('checks.ews.clockAgreesEstimated', { seconds: within, uncertainty: Math.max(1, Math.round(source.estimate.uncertaintyMs / 1000)) })
        : t('checks.ews.clockAgrees', { seconds: within });
    add({ id: 'clock', title: t('checks.titles.clock'), ok: true, message });
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
        message: t('checks.ews.methodNotOffered', { auth: authName, account }),
        fix: `${notOffered} ${method === 'ntlm' ? t('checks.ews.enableNtlm') : t('checks.ews.enableBasic')}`,
      };
    }
    return {
      message: offered ? t('checks.ews.refusedOffers', { account, auth: authName, offered }) : t('checks.ews.refused', { account, auth: authName }),
      fix: t('checks.ews.refusedFix'),
    };
  }
  const fix =
    error.code === 'config'
      ? t('checks.ews.configFix')
      : error.code === 'impersonation-denied' || error.code === 'no-mailbox'
        ? t('checks.ews.mayUseEwsFix')
        : t('checks.ews.retryFix');
  return { message: t('checks.ews.notProvedLogin', { account, auth: authName, why: error.message }), fix };
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
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) return { ok: false, message: t('checks.own.notEmail', { email: String(email) }), fix: t('checks.own.notEmailFix') };
  if (typeof password !== 'string' || password.length === 0) return { ok: false, message: t('checks.own.enterPassword') };
  const login = loginName?.trim() || address;
  try {
    const connector = new EwsCalendarConnector({ ...settings, domain: login.includes('@') ? '' : settings.domain, username: login, password });
    const primary = await connector.verifyOwnLogin(address);
    return { ok: true, ...(primary ? { primaryAddress: primary } : {}) };
  } catch (error) {
    const e = error instanceof CalendarError ? error : new CalendarError('other', String(error));
    const notOffered = e.code === 'auth' ? /The server offers [^.;]+ only[^.]*\./.exec(e.message)?.[0] : undefined;
    if (notOffered) return { ok: false, message: t('checks.own.methodNotOffered'), fix: t('checks.own.askAdmin', { detail: notOffered }) };
    if (e.code === 'auth') return { ok: false, message: t('checks.own.refused'), fix: t('checks.own.refusedFix') };
    if (e.code === 'no-mailbox' || e.code === 'impersonation-denied' || e.code === 'not-found') {
      return { ok: false, message: t('checks.own.notYours', { address }), fix: t('checks.own.notYoursFix') };
    }
    return { ok: false, message: t('checks.own.couldNotCheck', { why: e.message }), fix: t('checks.ews.tryLater') };
  }
}
