import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { XhrApi } from '@ewsjs/xhr';
import type { OutboundNetwork } from '../../net/outbound-network.ts';
import { ProxyError } from '../../net/proxy-tunnel.ts';
import ntlmClient from '@ewsjs/ntlm-client';
import { XMLValidator } from 'fast-xml-parser';
import type { IXHRApi, IXHROptions, IXHRProgress } from 'ews-javascript-api';
import { CalendarError } from '../calendar-connector.ts';
import { authMethodLabel, notOfferedSentence, type EwsAuthMethod } from './ews-auth-offer.ts';
import { calendarErrorForFault } from './ews-error-translation.ts';
import { readSoapFault, type SoapFaultInfo } from './ews-soap-fault.ts';

/**
 * The HTTP layer under ews-javascript-api: one instance per connector call, handed to the library as its XHR API.
 *
 * It sends each request through @ewsjs/xhr, then looks at the answer *before* the library does:
 *  - records the server's Date header (clock offset) and WWW-Authenticate (what login the server offers);
 *  - refuses bodies the library cannot survive or should not parse: HTTP 500 that is not a SOAP fault (the library
 *    crashes the process on those), malformed XML, any DOCTYPE (entity expansion), more than `maxResponseBytes`;
 *  - reads every SOAP fault itself, whatever the HTTP status (Exchange's 500, but also 200, and without `detail`),
 *    and keeps it in `fault`: the library cannot read a fault that comes with HTTP 200 or without detail;
 *  - turns HTTP-level failures (401, 403, 404, redirects, 429/503, timeouts, dropped connections, TLS) into a
 *    CalendarError kept in `failure`, and hands the library a neutral rejection it can digest. The connector then
 *    throws `fault`/`failure` instead of whatever the library made of it.
 * Only well-formed SOAP answers without a fault (HTTP 200) reach the library.
 */

export type { EwsAuthMethod };

export interface EwsTransportSettings {
  authMethod: EwsAuthMethod;
  /** NetBIOS domain for NTLM; empty with a UPN user name. */
  domain: string;
  /** For NTLM the bare user name (or a UPN); the library's Basic header is replaced by the NTLM handshake. */
  username: string;
  password: string;
  /** Extra PEM certificates trusted for this server, on top of the platform's roots. */
  caCertificates?: string;
  /** How connections are opened (direct or tunnelled through the proxy); default: plain direct agents. */
  network?: OutboundNetwork;
  timeoutMs: number;
  maxResponseBytes: number;
}

export interface EwsExchangeRecord {
  /** SOAP operation, e.g. 'GetItem'; 'unknown' when the body names none. */
  operation: string;
  status: number | null;
  /** Server's Date header in ms, null when absent or unreadable. */
  serverDateMs: number | null;
  receivedAtMs: number;
  wwwAuthenticate: string | null;
}

export interface EwsTransportHooks {
  /** `purpose`: 'verify' for a read that checks what a write stored (counted apart by the benchmark). */
  onRequest?(operation: string, purpose?: string): void;
  onResponse?(record: EwsExchangeRecord): void;
}

const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

/** Operation name from the SOAP body the library wrote (first element inside soap:Body). */
export function soapOperationOf(body: unknown): string {
  if (typeof body !== 'string') return 'unknown';
  const m = /<(?:[\w-]+:)?Body\b[^>]*>\s*<(?:[\w-]+:)?([A-Za-z]+)/.exec(body);
  return m ? m[1] : 'unknown';
}

function headerValue(headers: unknown, name: string): string | null {
  if (!headers || typeof headers !== 'object') return null;
  const h = headers as Record<string, unknown>;
  const value = h[name] ?? h[name.toLowerCase()];
  if (Array.isArray(value)) return value.join(', ');
  return typeof value === 'string' ? value : value == null ? null : String(value);
}

/** Retry-After as ms: delta-seconds or an HTTP date. */
export function retryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Root element of an XML text, or null when there is none before other content. */
function rootElement(xml: string): { prefix: string; local: string; namespace: string | null } | null {
  const m = /^\s*(?:<\?xml[^?]*\?>\s*)?(?:<!--[\s\S]*?-->\s*)*<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)([^>]*)>/.exec(xml);
  if (!m) return null;
  const prefix = m[1] ? m[1].slice(0, -1) : '';
  const nsAttr = new RegExp(`xmlns${prefix ? ':' + prefix : ''}\\s*=\\s*["']([^"']*)["']`).exec(m[3]);
  return { prefix, local: m[2], namespace: nsAttr ? nsAttr[1] : null };
}

/** `fault`: the answer is a SOAP fault (any HTTP status); `error` is it as a CalendarError without the caller's context. */
export type ResponseVerdict = { pass: true } | { pass: false; error: CalendarError; fault?: SoapFaultInfo };

/** A 401 as a CalendarError: a method the server does not offer is named as such, with what to set instead. */
export function loginRefused(status: number, wwwAuthenticate: string | null, authMethod?: EwsAuthMethod): CalendarError {
  const notOffered = authMethod ? notOfferedSentence(authMethod, wwwAuthenticate) : null;
  if (authMethod && notOffered) {
    return new CalendarError('auth', `Exchange does not offer ${authMethodLabel(authMethod)} logins (HTTP ${status}). ${notOffered}`, { serverCode: `HTTP${status}` });
  }
  return new CalendarError('auth', `Exchange refused the login (HTTP ${status})${wwwAuthenticate ? `; it offers: ${wwwAuthenticate}` : ''}. Check the user name, domain, password and authentication method.`, { serverCode: `HTTP${status}` });
}

/**
 * Decides whether an HTTP answer may be handed to ews-javascript-api. Pure: status, headers and body in, verdict out.
 * `authMethod` (the one used) lets a 401 say when the server does not offer it.
 */
export function inspectEwsResponse(status: number, headers: unknown, body: string, nowMs = Date.now(), authMethod?: EwsAuthMethod, checkXml = true): ResponseVerdict {
  const fail = (error: CalendarError): ResponseVerdict => ({ pass: false, error });
  if (status === 401) return fail(loginRefused(status, headerValue(headers, 'www-authenticate'), authMethod));
  if (status === 403) return fail(new CalendarError('auth', 'Exchange forbids EWS for this account (HTTP 403): EWS may be disabled for it or for the organization.', { serverCode: 'HTTP403' }));
  if (status === 429 || status === 503) {
    const wait = retryAfterMs(headerValue(headers, 'retry-after'), nowMs);
    return fail(new CalendarError('throttled', `Exchange is busy (HTTP ${status}); try again${wait !== undefined ? ` in ${Math.ceil(wait / 1000)} s` : ' later'}.`, { retryAfterMs: wait, serverCode: `HTTP${status}` }));
  }
  if (status >= 300 && status < 400) {
    const location = headerValue(headers, 'location');
    return fail(new CalendarError('config', `The EWS address redirects (HTTP ${status}${location ? ` to ${location}` : ''}); enter the address of Exchange.asmx itself, e.g. https://mail.example.com/EWS/Exchange.asmx.`, { serverCode: `HTTP${status}` }));
  }
  if (status === 404) return fail(new CalendarError('config', 'There is no EWS service at this address (HTTP 404); the address usually ends in /EWS/Exchange.asmx.', { serverCode: 'HTTP404' }));
  const otherStatus = (): ResponseVerdict => {
    const code = status >= 500 ? 'transient' : 'other';
    return fail(new CalendarError(code, `Exchange answered HTTP ${status}${status >= 500 ? '; try again later' : ''}.`, { serverCode: `HTTP${status}` }));
  };
  // Any other status: a SOAP fault in the body still says what went wrong; anything else is the status alone.
  const soapStatus = status === 200 || status === 500;
  if (!soapStatus && !/<(?:[\w.-]+:)?Fault[\s>/]/.test(body)) return otherStatus();
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) {
    return fail(new CalendarError('bad-response', `Exchange's answer (HTTP ${status}) declares a DOCTYPE; it is refused because no EWS answer has one and entity expansion is a known attack.`));
  }
  const root = rootElement(body);
  const isEnvelope = root !== null && root.local === 'Envelope' && root.namespace === SOAP_ENV_NS;
  if (!isEnvelope) {
    if (!soapStatus) return otherStatus();
    const what = body.trim().length === 0 ? 'an empty body' : root ? `a <${root.local}> document` : 'a body that is not XML';
    return fail(new CalendarError('bad-response', status === 500
      ? `Exchange answered HTTP 500 with ${what} instead of a SOAP fault: the server or a proxy in front of it failed.`
      : `Exchange answered with ${what} instead of a SOAP envelope.`, { serverCode: `HTTP${status}` }));
  }
  // A caller that reads the answer with its own strict reader (ews-xml.ts) skips this second pass over the text.
  const valid = checkXml ? XMLValidator.validate(body) : true;
  if (valid !== true) {
    return fail(new CalendarError('bad-response', `Exchange's answer (HTTP ${status}) is malformed XML: ${valid.err.msg} (line ${valid.err.line}).`, { serverCode: `HTTP${status}` }));
  }
  const fault = readSoapFault(body, status);
  if (fault) return { pass: false, error: calendarErrorForFault(fault, 'Exchange answered with a SOAP fault'), fault };
  if (status === 500) {
    return fail(new CalendarError('bad-response', 'Exchange answered HTTP 500 with a SOAP envelope that holds no fault.', { serverCode: 'HTTP500' }));
  }
  if (!soapStatus) return otherStatus();
  return { pass: true };
}

const TLS_PROBLEMS: Record<string, string> = {
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  CERT_NOT_YET_VALID: "the server's certificate is not valid yet (or this computer's clock is wrong)",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's certificate chain ends in a self-signed certificate this computer does not trust",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate is issued by a certificate authority this computer does not trust",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's certificate is issued by a certificate authority this computer does not trust",
  UNABLE_TO_GET_ISSUER_CERT: "the server's certificate is issued by a certificate authority this computer does not trust",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate is made out to a different host name",
  CERT_REVOKED: "the server's certificate has been revoked",
  CERT_SIGNATURE_FAILURE: "the server's certificate signature is invalid",
  ERR_SSL_WRONG_VERSION_NUMBER: 'the server does not speak TLS on this port (is the address http:// rather than https://?)',
  EPROTO: 'the TLS handshake failed (the server may not speak TLS on this port)',
};

/**
 * The low-level error reduced to its message and code. HTTP client errors carry the request configuration, whose
 * Authorization header holds the Basic credentials: that must never reach a log through `cause`.
 */
function sanitizedCause(message: string, code: string): Error {
  const error = new Error(message);
  if (code) (error as Error & { code?: string }).code = code;
  return error;
}

/** A failure before any HTTP status arrived, as a CalendarError. */
export function classifyNetworkError(raw: unknown, settings: Pick<EwsTransportSettings, 'timeoutMs' | 'maxResponseBytes'>, timedOut: boolean): CalendarError {
  const e = (raw ?? {}) as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  const message = typeof e.message === 'string' ? e.message : String(raw);
  const error = sanitizedCause(message, code);
  const proxy = raw instanceof ProxyError ? raw : e.cause instanceof ProxyError ? e.cause : null;
  if (proxy) return new CalendarError('config', proxy.message, { serverCode: proxy.code, cause: error, advice: { message: proxy.message, fix: proxy.fix } });
  if (timedOut || code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED') {
    return new CalendarError('transient', `Exchange did not answer within ${Math.round(settings.timeoutMs / 1000)} s.`, { serverCode: 'TIMEOUT', cause: error });
  }
  if (/maxContentLength/i.test(message)) {
    return new CalendarError('bad-response', `Exchange's answer is larger than the ${Math.round(settings.maxResponseBytes / 1_048_576)} MB limit and was dropped.`, { serverCode: 'OVERSIZE', cause: error });
  }
  const tlsProblem = TLS_PROBLEMS[code] ?? (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') ? `the TLS connection failed (${code})` : undefined);
  if (tlsProblem) {
    return new CalendarError('tls', `Secure connection refused: ${tlsProblem}.`, { serverCode: code, cause: error });
  }
  if (code === 'ENOTFOUND') return new CalendarError('config', 'The EWS host name cannot be found; check the address.', { serverCode: code, cause: error });
  if (code === 'ECONNREFUSED') return new CalendarError('transient', 'The EWS server refused the connection (down, or the wrong port).', { serverCode: code, cause: error });
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || /socket hang up|aborted|premature/i.test(message)) {
    return new CalendarError('transient', 'The connection to Exchange dropped before the answer was complete.', { serverCode: code || 'DROPPED', cause: error });
  }
  if (code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new CalendarError('transient', `The EWS server cannot be reached (${code}).`, { serverCode: code, cause: error });
  }
  return new CalendarError('transient', `The request to Exchange failed: ${message}`, { serverCode: code || undefined, cause: error });
}

interface AgentPair {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  destroy(): void;
}

/**
 * A pair of single-socket keep-alive agents: NTLM authenticates a *connection*, so the challenge and the
 * authenticated request must share one socket, and only requests for the same account may reuse it (see ConnectionPool).
 */
function agentsFor(settings: Pick<EwsTransportSettings, 'caCertificates' | 'network'>): AgentPair {
  const ca = settings.caCertificates ? [...tls.rootCertificates, settings.caCertificates] : undefined;
  if (settings.network) return settings.network.agents({ keepAlive: true, maxSockets: 1, ...(ca ? { ca } : {}) });
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 1, ...(ca ? { ca } : {}) });
  return {
    httpAgent,
    httpsAgent,
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

export interface ConnectionLease {
  agents: AgentPair;
  /** NTLM: the connection already completed a login (IIS keeps NTLM logins per connection). */
  authenticated: boolean;
}

/**
 * Idle connections kept for the next request: saves a TCP (and TLS) handshake per request, and with NTLM the
 * negotiate/challenge round trip too, since IIS keeps an NTLM login for the life of the connection. Idle sockets are
 * unref'd by Node, so a kept connection never holds a finished process open. If the server turns out not to keep
 * logins, reuse stops for that pool.
 */
export class ConnectionPool {
  private idle: Array<{ lease: ConnectionLease; since: number }> = [];
  private readonly settings: Pick<EwsTransportSettings, 'caCertificates' | 'authMethod' | 'network'>;
  private readonly maxIdle: number;
  private readonly maxIdleMs: number;
  private reuseLogins = true;
  private loginMisses = 0;

  constructor(settings: Pick<EwsTransportSettings, 'caCertificates' | 'authMethod' | 'network'>, maxIdle = 8, maxIdleMs = 50_000) {
    this.settings = settings;
    this.maxIdle = maxIdle;
    this.maxIdleMs = maxIdleMs;
  }

  acquire(): ConnectionLease {
    const now = Date.now();
    while (this.idle.length > 0) {
      const { lease, since } = this.idle.pop()!;
      if (now - since < this.maxIdleMs) return lease;
      lease.agents.destroy();
    }
    return this.fresh();
  }

  fresh(): ConnectionLease {
    return { agents: agentsFor(this.settings), authenticated: false };
  }

  release(lease: ConnectionLease, reusable: boolean): void {
    const keep = reusable && this.idle.length < this.maxIdle && (this.settings.authMethod !== 'ntlm' || this.reuseLogins);
    if (!keep) {
      lease.agents.destroy();
      return;
    }
    this.idle.push({ lease: { agents: lease.agents, authenticated: this.settings.authMethod === 'ntlm' }, since: Date.now() });
  }

  /** A kept NTLM connection was asked to log in again (closed by the server, or logins not kept at all). */
  sawLoginNotKept(): void {
    // One miss is usually a connection the server closed; several in a row mean it does not keep logins.
    if (++this.loginMisses >= 3) this.reuseLogins = false;
  }

  sawLoginKept(): void {
    this.loginMisses = 0;
  }

  /** Idle connections kept right now (for tests). */
  idleCount(): number {
    return this.idle.length;
  }

  close(): void {
    for (const { lease } of this.idle) lease.agents.destroy();
    this.idle = [];
  }
}

type NtlmProviderShape = Parameters<XhrApi['setAuthProvider']>[0];
type XhrRequestOptions = XhrApi['requestOptions'];

class NtlmHandshakeError extends Error {
  readonly calendarError: CalendarError;
  constructor(error: CalendarError) {
    super(error.message);
    this.calendarError = error;
  }
}

/**
 * NTLM for @ewsjs/xhr on our own agents. The package's NtlmProvider replaces the HTTPS agent with one of its own,
 * which would drop a custom CA; this provider performs the same negotiate/challenge exchange (messages from
 * @ewsjs/ntlm-client) on the request's own single-socket agent. The negotiate message goes on an empty POST, the
 * method EWS serves: a server may refuse GET (HTTP 405) before asking for any login.
 */
function ntlmProvider(settings: EwsTransportSettings, agents: AgentPair, signal: AbortSignal, onChallenge: (wwwAuthenticate: string | null) => void): NtlmProviderShape {
  const provider = {
    providerName: 'ntlm',
    client: null,
    async preCall(options: { url?: string; headers?: Record<string, unknown> }): Promise<unknown> {
      const url = new URL(String(options.url));
      const workstation = 'SEVERA-SYNC';
      const domain = settings.domain.toUpperCase();
      const type1 = ntlmClient.createType1Message(workstation, domain);
      const challenge = await new Promise<{ status: number; wwwAuthenticate: string | null }>((resolve, reject) => {
        const lib = url.protocol === 'https:' ? https : http;
        const req = lib.request(url, {
          method: 'POST',
          agent: url.protocol === 'https:' ? agents.httpsAgent : agents.httpAgent,
          headers: { Authorization: type1, Connection: 'keep-alive', 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': '0' },
          signal,
        }, (res) => {
          let seen = 0;
          res.on('data', (chunk: Buffer) => {
            seen += chunk.length;
            if (seen > 65_536) res.destroy(new Error('NTLM challenge answer too large'));
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, wwwAuthenticate: headerValue(res.headers, 'www-authenticate') }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      onChallenge(challenge.wwwAuthenticate);
      // A server that lets the request in without a login needs no handshake: the request itself shows what it does.
      if (challenge.status === 200 || challenge.status === 500) return options;
      // Not a login question at all (wrong path, redirect, server trouble): say what it is.
      if (challenge.status !== 401) {
        const verdict = inspectEwsResponse(challenge.status, { 'www-authenticate': challenge.wwwAuthenticate }, '');
        if (!verdict.pass) throw new NtlmHandshakeError(verdict.error);
        return options;
      }
      const ntlmChallenge = challenge.wwwAuthenticate?.split(/,\s*/).find((v) => /^NTLM\s+\S+/.test(v));
      if (!ntlmChallenge) {
        const notOffered = notOfferedSentence('ntlm', challenge.wwwAuthenticate);
        const offered = notOffered ? ` ${notOffered}` : challenge.wwwAuthenticate ? ` It offers: ${challenge.wwwAuthenticate}.` : '';
        throw new NtlmHandshakeError(new CalendarError('auth', `Exchange did not start an NTLM login (HTTP ${challenge.status}).${offered}`, { serverCode: `HTTP${challenge.status}` }));
      }
      const type2 = ntlmClient.decodeType2Message(ntlmChallenge);
      const type3 = ntlmClient.createType3Message(type2, settings.username, settings.password, workstation, domain);
      const headers = { ...(options.headers ?? {}) };
      for (const key of Object.keys(headers)) if (key.toLowerCase() === 'authorization' || key.toLowerCase() === 'connection') delete headers[key];
      headers.Authorization = type3;
      headers.Connection = 'keep-alive';
      return { ...options, headers };
    },
  };
  return provider as unknown as NtlmProviderShape;
}

/**
 * The NTLM login for a request sent outside the library (the streaming connection, ews-stream-request.ts): the
 * negotiate/challenge exchange on the lease's single socket, then the headers the real request goes with (Type 3).
 * Failures are CalendarErrors, as in xhr().
 */
export async function ntlmLoginHeaders(settings: EwsTransportSettings, lease: ConnectionLease, url: string, headers: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>> {
  try {
    const provider = ntlmProvider(settings, lease.agents, signal, () => undefined) as unknown as { preCall(o: { url: string; headers: Record<string, unknown> }): Promise<{ headers?: Record<string, unknown> }> };
    return (await provider.preCall({ url, headers })).headers ?? headers;
  } catch (error) {
    if (error instanceof NtlmHandshakeError) throw error.calendarError;
    throw classifyNetworkError(error, settings, signal.aborted);
  }
}

interface XhrLikeResponse {
  status?: number;
  responseText?: string;
  headers?: unknown;
  isAxiosError?: boolean;
}

function isHttpAnswer(outcome: XhrLikeResponse): boolean {
  return !!outcome && typeof outcome === 'object' && !outcome.isAxiosError && typeof outcome.status === 'number' && outcome.status > 0;
}

/** A rejection ews-javascript-api handles without parsing anything (status 0 takes its non-500 path). */
function neutralRejection(error: CalendarError): XMLHttpRequest {
  return {
    status: 0,
    statusText: error.message,
    message: error.message,
    responseText: '',
    headers: {},
    getAllResponseHeaders: () => '',
    getResponseHeader: () => null,
  } as unknown as XMLHttpRequest;
}

export class EwsTransport implements IXHRApi {
  readonly apiName = 'severa-sync-ews-transport';
  /** Why the last request failed below the SOAP level; null when it reached the library. */
  failure: CalendarError | null = null;
  /** The SOAP fault the last request was answered with (any HTTP status); null when none. */
  fault: SoapFaultInfo | null = null;
  /** Last thing the server said about authentication (WWW-Authenticate), for diagnostics. */
  lastWwwAuthenticate: string | null = null;
  lastStatus: number | null = null;
  /** Set around a request whose purpose the hooks should hear (e.g. 'verify'). */
  purpose: string | undefined;
  /**
   * false around a request whose answer is read by the strict reader of ews-xml.ts (which refuses malformed XML itself):
   * the general XML check is then not made a second time. Always true for what reaches ews-javascript-api.
   */
  checkXml = true;
  private readonly settings: EwsTransportSettings;
  private readonly hooks: EwsTransportHooks;
  private readonly pool: ConnectionPool;

  /** `pool`: connections to reuse across calls (one per connector); without it every request opens its own. */
  constructor(settings: EwsTransportSettings, hooks: EwsTransportHooks = {}, pool?: ConnectionPool) {
    this.settings = settings;
    this.hooks = hooks;
    this.pool = pool ?? new ConnectionPool(settings, 0);
  }

  async xhr(request: IXHROptions): Promise<XMLHttpRequest> {
    this.failure = null;
    this.fault = null;
    this.lastStatus = null;
    const operation = soapOperationOf(request.data);
    this.hooks.onRequest?.(operation, this.purpose);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.settings.timeoutMs);
    const headers: Record<string, unknown> = { ...(request.headers ?? {}) };
    if (this.settings.authMethod === 'ntlm') {
      // The library always adds a Basic header from its credentials; never send the password that way here.
      for (const key of Object.keys(headers)) if (key.toLowerCase() === 'authorization') delete headers[key];
    }
    let outcome: XhrLikeResponse;
    try {
      let lease = this.pool.acquire();
      outcome = await this.attempt(request, headers, lease, controller.signal);
      if (lease.authenticated && outcome.status === 401 && this.settings.authMethod === 'ntlm') {
        // The kept connection was closed or the server does not keep NTLM logins per connection: log in afresh.
        this.pool.release(lease, false);
        this.pool.sawLoginNotKept();
        lease = this.pool.fresh();
        outcome = await this.attempt(request, headers, lease, controller.signal);
      }
      // Only answers that went through the login (EWS answered, even with a fault) leave a connection worth keeping.
      const reusable = isHttpAnswer(outcome) && (outcome.status === 200 || outcome.status === 500) && !timedOut;
      if (reusable && lease.authenticated) this.pool.sawLoginKept();
      this.pool.release(lease, reusable);
    } finally {
      clearTimeout(timer);
    }
    const receivedAtMs = Date.now();

    if (outcome instanceof NtlmHandshakeError) return this.reject(outcome.calendarError, operation, null, receivedAtMs);
    if (!isHttpAnswer(outcome)) {
      return this.reject(classifyNetworkError(outcome, this.settings, timedOut), operation, null, receivedAtMs);
    }
    const status = outcome.status as number;
    this.lastStatus = status;
    const wwwAuthenticate = headerValue(outcome.headers, 'www-authenticate');
    if (wwwAuthenticate) this.lastWwwAuthenticate = wwwAuthenticate;
    const dateHeader = headerValue(outcome.headers, 'date');
    const parsedDate = dateHeader ? Date.parse(dateHeader) : NaN;
    this.hooks.onResponse?.({ operation, status, serverDateMs: Number.isNaN(parsedDate) ? null : parsedDate, receivedAtMs, wwwAuthenticate });

    const body = typeof outcome.responseText === 'string' ? outcome.responseText : '';
    const verdict = inspectEwsResponse(status, outcome.headers, body, receivedAtMs, this.settings.authMethod, this.checkXml);
    if (!verdict.pass) {
      this.failure = verdict.error;
      this.fault = verdict.fault ?? null;
      throw neutralRejection(verdict.error);
    }
    return outcome as unknown as XMLHttpRequest;
  }

  /** One HTTP exchange through @ewsjs/xhr on the lease's connection; NTLM logs in first unless the connection already is. */
  private async attempt(request: IXHROptions, headers: Record<string, unknown>, lease: ConnectionLease, signal: AbortSignal): Promise<XhrLikeResponse> {
    const options: XhrRequestOptions = {
      httpAgent: lease.agents.httpAgent,
      httpsAgent: lease.agents.httpsAgent,
      signal,
      maxContentLength: this.settings.maxResponseBytes,
      maxBodyLength: this.settings.maxResponseBytes,
      decompress: true,
      // Never axios's own proxy handling: the agents above already go the configured way (outbound-network.ts).
      proxy: false,
    };
    const inner = new XhrApi(options);
    if (this.settings.authMethod === 'ntlm' && !lease.authenticated) {
      inner.setAuthProvider(ntlmProvider(this.settings, lease.agents, signal, (offered) => {
        this.lastWwwAuthenticate = offered;
      }));
    }
    try {
      return (await inner.xhr({ ...request, headers })) as unknown as XhrLikeResponse;
    } catch (thrown) {
      return thrown as XhrLikeResponse;
    }
  }

  private reject(error: CalendarError, operation: string, status: number | null, receivedAtMs: number): never {
    this.failure = error;
    this.hooks.onResponse?.({ operation, status, serverDateMs: null, receivedAtMs, wwwAuthenticate: this.lastWwwAuthenticate });
    throw neutralRejection(error);
  }

  xhrStream(_request: IXHROptions, _progress: (data: IXHRProgress) => void): Promise<XMLHttpRequest> {
    // Streaming notifications go through ews-stream-request.ts (the library's streaming path never reports headers).
    return Promise.reject(new CalendarError('other', "Streaming through the library's connection is not used by this connector."));
  }

  disconnect(): void {
    // Every request owns its agents and closes them itself.
  }
}
