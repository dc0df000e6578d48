import { z } from 'zod';
import { SeveraError } from './severa-errors.ts';
import { RequestRateLimiter, realClock, type Clock } from './request-rate-limiter.ts';
import { fetchTransport, nodeTransport, TransportFailure, type Transport, type TransportResponse } from '../net/http-transport.ts';
import {
  activityModel,
  activityParticipantModel,
  activityTypeModel,
  exceptionModel,
  publicAuthenticationOutputModel,
  userOutputModel,
  type ActivityCategory,
  type ActivityCreateModel,
  type ActivityModel,
  type ActivityParticipantModel,
  type ActivityTypeModel,
  type PatchOperation,
  type PublicAuthenticationOutputModel,
  type RecurrenceType,
  type UserOutputModel,
} from './severa-models.ts';

export { SeveraError };
export type { SeveraErrorCode } from './severa-errors.ts';

/**
 * The product's Severa REST API client: OAuth2 client-credentials login with refresh (and a fresh login when the refresh
 * token is refused), the `Client_Id` header, paging by `NextPageToken`, a client-wide limit of 10 requests/s, back-off on
 * 429 (honouring Retry-After) and on 5xx or broken connections (exponential with jitter), timeouts, the server's clock
 * offset from its `Date` header, and every answer checked against the API's shapes.
 */

export const SCOPES_NEEDED = ['activities:read', 'activities:write', 'activities:delete', 'users:read', 'settings:read'] as const;

export interface SeveraRequestInfo {
  method: string;
  /** API path without the query string, e.g. /v1/activities. */
  path: string;
  /** HTTP status, or null when no answer came. */
  status: number | null;
  attempt: number;
  durationMs: number;
  /** What went wrong when no answer came (no secrets). */
  failure?: string;
}

export interface SeveraClientOptions {
  /** e.g. https://api.severa.visma.com/rest-api */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes to ask for; default: those the sync needs. */
  scope?: string;
  /** Use this fetch instead of node:http(s) (tests; Electron's net.fetch). */
  fetch?: typeof fetch;
  /** Use this transport (e.g. nodeTransport through the configured proxy) instead of building one from caCertificates. */
  transport?: Transport;
  /** Requests per second for all calls of this client (default 10); 0 switches the limit off. */
  rateLimitPerSecond?: number;
  /** Retries after 429, 5xx or a broken connection (default 5). */
  maxRetries?: number;
  /** Per request (default 30 s). */
  timeoutMs?: number;
  onRequest?: (info: SeveraRequestInfo) => void;
  /** Extra CA certificates (PEM) to trust, e.g. a company proxy's. Never a switch to stop checking. */
  caCertificates?: string;
  /** Largest answer accepted (default 20 MB). */
  maxResponseBytes?: number;
  /** First back-off step (default 500 ms); doubles per retry, with jitter, up to maxBackoffMs. */
  backoffBaseMs?: number;
  maxBackoffMs?: number;
  /** For tests: time source for the rate limit and back-off. */
  clock?: Clock;
}

export interface ActivityFilter {
  userGuids?: string[];
  /** With userGuids: also activities the users take part in. */
  includeAsMember?: boolean;
  /** Activities that end at or after this instant. */
  startDateTime?: Date | string;
  /** Activities that start at or before this instant. */
  endDateTime?: Date | string;
  /** Activities added or changed at or after this instant. */
  changedSince?: Date | string;
  activityCategories?: ActivityCategory[];
  activityTypeGuids?: string[];
  /** Default (absent): single activities, occurrences and exceptions; 'Series' lists the series masters. */
  recurrenceType?: RecurrenceType;
  /** Rows per page, 1..100 (default 100). */
  rowCount?: number;
}

export interface AuthorizationReport {
  /** The scopes the token was granted. */
  scopes: string[];
  /** Server clock minus local clock, ms. */
  clockOffsetMs: number | null;
}

interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: URLSearchParams;
  body?: unknown;
  /** Token routes: no Bearer header, no refresh on 401. */
  anonymous?: boolean;
  /** Safe to send again after a broken connection or a 500 (the first try may have been applied). */
  idempotent: boolean;
}

interface Token {
  access: string;
  refresh: string | null;
  /** Local monotonic time after which the access token is treated as expired. */
  expiresAt: number;
  scopes: string[];
}

const MAX_PAGES = 100_000;
/** Refresh this long before the server says the token expires. */
const EXPIRY_MARGIN_MS = 60_000;

function isoInstant(v: Date | string, field: string): string {
  const ms = v instanceof Date ? v.getTime() : Date.parse(v);
  if (Number.isNaN(ms)) throw new SeveraError('bad-request', `${field} is not a valid date-time.`);
  return new Date(ms).toISOString();
}

export class SeveraClient {
  private readonly base: URL;
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly scope: string;
  private readonly transport: Transport;
  private readonly limiter: RequestRateLimiter;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly backoffBaseMs: number;
  private readonly maxBackoffMs: number;
  private readonly onRequest: ((info: SeveraRequestInfo) => void) | undefined;
  private readonly clock: Clock;
  private token: Token | null = null;
  private tokenInFlight: Promise<Token> | null = null;
  private offsetMs: number | null = null;
  private requests = 0;

  constructor(options: SeveraClientOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new SeveraError('config', `"${options.baseUrl}" is not a web address; expected e.g. https://api.severa.visma.com/rest-api.`);
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new SeveraError('config', `The Severa address must start with https://, not ${base.protocol}//.`);
    if (!options.clientId?.trim()) throw new SeveraError('config', 'The Severa API client id is empty.');
    if (!options.clientSecret) throw new SeveraError('config', 'The Severa API client secret is empty.');
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.base = base;
    this.clientId = options.clientId.trim();
    this.clientSecret = options.clientSecret;
    this.scope = options.scope ?? SCOPES_NEEDED.join(' ');
    if (options.fetch && options.caCertificates) throw new SeveraError('config', 'Extra CA certificates work only with the built-in HTTP transport, not with a custom fetch.');
    this.transport = options.transport ?? (options.fetch ? fetchTransport(options.fetch) : nodeTransport(options.caCertificates));
    this.clock = options.clock ?? realClock;
    this.limiter = new RequestRateLimiter(options.rateLimitPerSecond ?? 10, this.clock);
    this.maxRetries = options.maxRetries ?? 5;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 20 * 1024 * 1024;
    this.backoffBaseMs = options.backoffBaseMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.onRequest = options.onRequest;
  }

  /** HTTP requests sent so far, retries and token calls included. */
  requestCount(): number {
    return this.requests;
  }

  /** Server clock minus local clock in ms, from the last answer's Date header; null before any answer. */
  clockOffsetMs(): number | null {
    return this.offsetMs;
  }

  // ---------- secrets never leave ----------

  /** Removes the secret and tokens from text that came from elsewhere (a server message) before it goes into an error. */
  private redact(text: string): string {
    let out = text.slice(0, 500);
    for (const secret of [this.clientSecret, this.token?.access, this.token?.refresh]) {
      if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
    }
    return out;
  }

  // ---------- tokens ----------

  private async login(): Promise<Token> {
    const res = await this.send({
      method: 'POST',
      path: 'v1/token',
      body: { client_id: this.clientId, client_secret: this.clientSecret, scope: this.scope },
      anonymous: true,
      idempotent: true,
    });
    if (res.status === 401 || res.status === 400 || res.status === 403) {
      throw new SeveraError('auth', 'Severa did not accept the API client id and secret; check them in Severa under Settings > REST API.', { status: res.status, serverType: this.errorType(res) });
    }
    return this.tokenFrom(res);
  }

  private async refresh(refreshToken: string): Promise<Token | null> {
    const res = await this.send({ method: 'POST', path: 'v1/refreshtoken', body: refreshToken, anonymous: true, idempotent: true });
    if (res.status === 401 || res.status === 400 || res.status === 403) return null; // log in again instead
    return this.tokenFrom(res);
  }

  private tokenFrom(res: TransportResponse): Token {
    this.throwForStatus(res, 'logging in');
    const auth: PublicAuthenticationOutputModel = this.parse(res, publicAuthenticationOutputModel, 'the login answer');
    const lifetime = auth.access_token_expires_in * 1000;
    return {
      access: auth.access_token,
      refresh: auth.refresh_token ?? null,
      expiresAt: this.clock.now() + Math.max(lifetime - EXPIRY_MARGIN_MS, lifetime / 2),
      // A server that does not say which scopes it granted is taken to have granted what was asked.
      scopes: (auth.scope ?? this.scope).split(/\s+/).filter(Boolean),
    };
  }

  /** A valid access token; concurrent callers share one login or refresh. */
  private async accessToken(): Promise<Token> {
    if (this.token && this.clock.now() < this.token.expiresAt) return this.token;
    if (!this.tokenInFlight) {
      const previous = this.token;
      this.tokenInFlight = (async () => {
        let next: Token | null = null;
        if (previous?.refresh) next = await this.refresh(previous.refresh);
        next ??= await this.login();
        this.token = next;
        return next;
      })().finally(() => {
        this.tokenInFlight = null;
      });
    }
    return this.tokenInFlight;
  }

  // ---------- requests ----------

  private backoffMs(attempt: number): number {
    const ceiling = Math.min(this.maxBackoffMs, this.backoffBaseMs * 2 ** (attempt - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private retryAfterMs(res: TransportResponse): number | undefined {
    const header = res.headers['retry-after'];
    if (!header) return undefined;
    if (/^\d+(\.\d+)?$/.test(header.trim())) return Math.round(Number(header) * 1000);
    const at = Date.parse(header);
    return Number.isNaN(at) ? undefined : Math.max(0, at - (Date.now() + (this.offsetMs ?? 0)));
  }

  private noteClock(res: TransportResponse, sentAt: number, receivedAt: number): void {
    const date = res.headers['date'];
    const server = date ? Date.parse(date) : NaN;
    // The Date header has one-second resolution: aim at the middle of that second.
    if (!Number.isNaN(server)) this.offsetMs = Math.round(server + 500 - (sentAt + receivedAt) / 2);
  }

  /**
   * Sends one request through the rate limit, with retries. Returns the final answer of any status except those
   * retried away; network failures that outlast the retries throw SeveraError.
   */
  private async send(spec: RequestSpec, bearer?: string): Promise<TransportResponse> {
    const url = new URL(spec.path, this.base);
    if (spec.query) url.search = spec.query.toString();
    const headers: Record<string, string> = { Accept: 'application/json', Client_Id: this.clientId };
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const logPath = `/${spec.path}`;
    for (let attempt = 1; ; attempt++) {
      const slot = await this.limiter.acquire();
      this.requests += 1;
      const sentAt = Date.now();
      const started = this.clock.now();
      let res: TransportResponse;
      try {
        res = await this.transport({ method: spec.method, url, headers, body, timeoutMs: this.timeoutMs, maxResponseBytes: this.maxResponseBytes, onSent: () => slot.sent() });
      } catch (e) {
        const failure = e instanceof TransportFailure ? e : new TransportFailure('dropped', 'connection failed');
        this.onRequest?.({ method: spec.method, path: logPath, status: null, attempt, durationMs: this.clock.now() - started, failure: failure.kind });
        const retryable = failure.kind === 'refused' || ((failure.kind === 'dropped' || failure.kind === 'timeout') && spec.idempotent);
        if (retryable && attempt <= this.maxRetries) {
          await this.clock.sleep(this.backoffMs(attempt));
          continue;
        }
        throw this.networkError(failure);
      }
      const receivedAt = Date.now();
      this.noteClock(res, sentAt, receivedAt);
      this.onRequest?.({ method: spec.method, path: logPath, status: res.status, attempt, durationMs: this.clock.now() - started });
      if (res.status === 429) {
        const wait = this.retryAfterMs(res) ?? this.backoffMs(attempt);
        if (attempt <= this.maxRetries) {
          this.limiter.pause(wait);
          continue;
        }
        throw new SeveraError('throttled', 'Severa is limiting the request rate and did not recover after several retries; the sync will try again later.', { status: 429, retryAfterMs: wait });
      }
      // 502/503/504 come from gateways before the API acted; a 500 may have been applied, so only idempotent calls repeat it.
      const gatewayBusy = res.status === 502 || res.status === 503 || res.status === 504;
      if ((gatewayBusy || (res.status >= 500 && spec.idempotent)) && attempt <= this.maxRetries) {
        await this.clock.sleep(this.retryAfterMs(res) ?? this.backoffMs(attempt));
        continue;
      }
      return res;
    }
  }

  private networkError(f: TransportFailure): SeveraError {
    const host = this.base.host;
    switch (f.kind) {
      case 'dns':
        return new SeveraError('config', `The Severa server ${host} cannot be found; check the API address in the settings.`);
      case 'tls':
        return new SeveraError('tls', `The certificate of ${host} is not trusted (${f.message}); if a company proxy inspects traffic, add its CA certificate in the settings.`);
      case 'too-large':
        return new SeveraError('bad-response', `Severa sent an answer larger than ${Math.round(this.maxResponseBytes / 1024 / 1024)} MB; it was not read.`);
      case 'timeout':
        return new SeveraError('transient', `Severa (${host}) did not answer within ${Math.round(this.timeoutMs / 1000)} seconds.`);
      case 'refused':
        return new SeveraError('transient', `Severa (${host}) refused the connection; the service may be down.`);
      case 'proxy':
        return new SeveraError('config', `Severa (${host}) cannot be reached through the proxy: ${f.message}${f.fix ? ` ${f.fix}` : ''}`);
      default:
        return new SeveraError('transient', `The connection to Severa (${host}) broke before an answer came.`);
    }
  }

  private errorType(res: TransportResponse): string | undefined {
    return this.errorDetails(res).type;
  }

  private errorDetails(res: TransportResponse): { type?: string; message?: string } {
    try {
      const parsed = exceptionModel.safeParse(JSON.parse(res.body.toString('utf8')));
      if (!parsed.success || !parsed.data.error) return {};
      const message = parsed.data.error.details?.map((d) => d.message).filter(Boolean).join(' ');
      return { type: parsed.data.error.type, message: message ? this.redact(message) : undefined };
    } catch {
      return {};
    }
  }

  /** Turns a non-2xx answer into the SeveraError a caller sees. */
  private throwForStatus(res: TransportResponse, doing: string): void {
    if (res.status >= 200 && res.status < 300) return;
    const { type, message } = this.errorDetails(res);
    const said = message ? ` Severa said: ${message}` : '';
    const opts = { status: res.status, serverType: type };
    if (res.status === 401) throw new SeveraError('auth', `Severa refused the login while ${doing}; check the API client id and secret.${said}`, opts);
    if (res.status === 403) {
      if (type === 'InsufficientApiScope') throw new SeveraError('forbidden', `The Severa API client lacks a permission (scope) needed for ${doing}; add it in Severa under Settings > REST API.${said}`, opts);
      throw new SeveraError('forbidden', `Severa does not allow ${doing}.${said}`, opts);
    }
    if (res.status === 404) throw new SeveraError('not-found', `Severa has no such item (${doing}).`, opts);
    if (res.status === 429) throw new SeveraError('throttled', 'Severa is limiting the request rate.', { ...opts, retryAfterMs: this.retryAfterMs(res) });
    if (res.status >= 500) throw new SeveraError('transient', `Severa had a server error (HTTP ${res.status}) while ${doing}; the sync will try again.`, opts);
    if (res.status >= 400) throw new SeveraError('bad-request', `Severa refused ${doing} (HTTP ${res.status}).${said}`, opts);
    throw new SeveraError('bad-response', `Severa answered ${doing} with an unexpected HTTP status ${res.status}.`, opts);
  }

  private parse<T extends z.ZodType>(res: TransportResponse, schema: T, what: string): z.output<T> {
    let json: unknown;
    try {
      json = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new SeveraError('bad-response', `Severa sent ${what} that is not valid JSON.`, { status: res.status });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const where = first ? `${first.path.join('.') || 'the top level'}: ${first.message}` : 'unknown';
      throw new SeveraError('bad-response', `Severa sent ${what} in a shape the sync does not understand (${this.redact(where)}).`, { status: res.status });
    }
    return parsed.data;
  }

  /** An authorized API call: token, one refresh-and-retry on 401, error mapping. */
  private async call(spec: RequestSpec, doing: string): Promise<TransportResponse> {
    for (let authAttempt = 1; ; authAttempt++) {
      const token = await this.accessToken();
      const res = await this.send(spec, token.access);
      if (res.status === 401 && authAttempt === 1) {
        // Expired or revoked early: drop it so the next round refreshes (or logs in again).
        if (this.token === token) this.token = { ...token, expiresAt: 0 };
        continue;
      }
      this.throwForStatus(res, doing);
      return res;
    }
  }

  private async *pages<T extends z.ZodType>(path: string, query: URLSearchParams, item: T, what: string): AsyncGenerator<z.output<T>[]> {
    let pageToken: string | null = null;
    const seen = new Set<string>();
    for (let page = 0; page < MAX_PAGES; page++) {
      const q = new URLSearchParams(query);
      if (pageToken) q.set('pageToken', pageToken);
      const res = await this.call({ method: 'GET', path, query: q, idempotent: true }, `reading ${what}`);
      yield this.parse(res, z.array(item), `a page of ${what}`);
      const next = res.headers['nextpagetoken'];
      if (!next) return;
      if (seen.has(next)) throw new SeveraError('bad-response', `Severa returned the same page of ${what} twice; listing stopped.`);
      seen.add(next);
      pageToken = next;
    }
    throw new SeveraError('bad-response', `Severa kept returning pages of ${what} past ${MAX_PAGES}; listing stopped.`);
  }

  private async collect<T>(pages: AsyncGenerator<T[]>): Promise<T[]> {
    const all: T[] = [];
    for await (const page of pages) all.push(...page);
    return all;
  }

  // ---------- activities ----------

  private activityQuery(f: ActivityFilter): URLSearchParams {
    const q = new URLSearchParams();
    const rowCount = f.rowCount ?? 100;
    if (!Number.isInteger(rowCount) || rowCount < 1 || rowCount > 100) throw new SeveraError('bad-request', 'rowCount must be a whole number from 1 to 100.');
    q.set('rowCount', String(rowCount));
    for (const g of f.userGuids ?? []) q.append('userGuids', g);
    if (f.includeAsMember) q.set('includeAsMember', 'true');
    if (f.startDateTime !== undefined) q.set('startDateTime', isoInstant(f.startDateTime, 'startDateTime'));
    if (f.endDateTime !== undefined) q.set('endDateTime', isoInstant(f.endDateTime, 'endDateTime'));
    if (f.changedSince !== undefined) q.set('changedSince', isoInstant(f.changedSince, 'changedSince'));
    for (const c of f.activityCategories ?? []) q.append('activityCategories', c);
    for (const t of f.activityTypeGuids ?? []) q.append('activityTypeGuids', t);
    if (f.recurrenceType) q.set('recurrenceType', f.recurrenceType);
    return q;
  }

  /** Pages of activities as they arrive (NextPageToken followed). */
  async *iterateActivityPages(filter: ActivityFilter = {}): AsyncGenerator<ActivityModel[]> {
    yield* this.pages('v1/activities', this.activityQuery(filter), activityModel, 'activities');
  }

  /** Every activity matching the filter, all pages. */
  async listActivities(filter: ActivityFilter = {}): Promise<ActivityModel[]> {
    return this.collect(this.iterateActivityPages(filter));
  }

  private static guidPath(prefix: string, guid: string): string {
    if (!guid || /[/?#]/.test(guid)) throw new SeveraError('bad-request', `"${guid}" is not a Severa guid.`);
    return `${prefix}${encodeURIComponent(guid)}`;
  }

  async getActivity(guid: string): Promise<ActivityModel> {
    const res = await this.call({ method: 'GET', path: SeveraClient.guidPath('v1/activities/', guid), idempotent: true }, 'reading an activity');
    return this.parse(res, activityModel, 'an activity');
  }

  /** Not retried after a broken connection (it might have been created): the caller reconciles instead. */
  async createActivity(model: ActivityCreateModel): Promise<ActivityModel> {
    const res = await this.call({ method: 'POST', path: 'v1/activities', body: model, idempotent: false }, 'creating an activity');
    return this.parse(res, activityModel, 'the created activity');
  }

  /**
   * Replaces fields (JSON Patch `Replace` operations as the API declares them: values are strings). Paths are
   * ActivityModel paths, e.g. /name, /startDateTime, /isAllDay, /activityType/guid, /recurrence/pattern/weekly/monday.
   */
  async patchActivity(guid: string, ops: { path: string; value: string | number | boolean | null }[]): Promise<ActivityModel> {
    if (ops.length === 0) throw new SeveraError('bad-request', 'Nothing to change: the patch has no operations.');
    const body: PatchOperation[] = ops.map((o) => ({ op: 'Replace', path: o.path, value: o.value === null ? null : String(o.value) }));
    const res = await this.call({ method: 'PATCH', path: SeveraClient.guidPath('v1/activities/', guid), body, idempotent: true }, 'changing an activity');
    const updated = this.parse(res, z.array(activityModel), 'the changed activity');
    const mine = updated.find((a) => a.guid === guid) ?? updated[0];
    if (!mine) throw new SeveraError('bad-response', 'Severa confirmed the change but returned no activity.');
    return mine;
  }

  /** Returns false when the activity was already gone. Only the owner may delete (403 'forbidden' otherwise). */
  async deleteActivity(guid: string): Promise<boolean> {
    try {
      await this.call({ method: 'DELETE', path: SeveraClient.guidPath('v1/activities/', guid), idempotent: true }, 'deleting an activity');
      return true;
    } catch (e) {
      if (e instanceof SeveraError && e.code === 'not-found') return false;
      throw e;
    }
  }

  // ---------- participants ----------

  async listParticipants(activityGuid: string): Promise<ActivityParticipantModel[]> {
    const res = await this.call(
      { method: 'GET', path: `${SeveraClient.guidPath('v1/activities/', activityGuid)}/activityparticipants`, idempotent: true },
      'reading the participants of an activity',
    );
    return this.parse(res, z.array(activityParticipantModel), 'participants');
  }

  /** Adds a user (by user guid) to an activity. */
  async addParticipant(activityGuid: string, userGuid: string): Promise<ActivityParticipantModel> {
    const res = await this.call(
      { method: 'POST', path: 'v1/activityparticipants', body: { activityGuid, participantGuid: userGuid }, idempotent: false },
      'adding a participant',
    );
    return this.parse(res, activityParticipantModel, 'the added participant');
  }

  /** `participantGuid` is the participant record's guid (ActivityParticipantModel.guid). False when already gone. */
  async removeParticipant(activityGuid: string, participantGuid: string): Promise<boolean> {
    try {
      await this.call(
        { method: 'DELETE', path: `${SeveraClient.guidPath('v1/activities/', activityGuid)}/${SeveraClient.guidPath('activityparticipants/', participantGuid)}`, idempotent: true },
        'removing a participant',
      );
      return true;
    } catch (e) {
      if (e instanceof SeveraError && e.code === 'not-found') return false;
      throw e;
    }
  }

  // ---------- settings and users ----------

  listActivityTypes(): Promise<ActivityTypeModel[]> {
    return this.collect(this.pages('v1/activitytypes', new URLSearchParams({ rowCount: '100' }), activityTypeModel, 'activity types'));
  }

  listUsers(filter: { email?: string; isActive?: boolean } = {}): Promise<UserOutputModel[]> {
    const q = new URLSearchParams({ rowCount: '100' });
    if (filter.email) q.set('email', filter.email);
    if (filter.isActive !== undefined) q.set('isActive', String(filter.isActive));
    return this.collect(this.pages('v1/users', q, userOutputModel, 'users'));
  }

  /**
   * Logs in afresh and calls the authorized heartbeat: proves the id, secret and address work. Throws SeveraError
   * ('forbidden', with `missingScopes`) when a scope the sync needs was not granted, and for anything else that stops
   * the sync ('auth', 'config', 'tls', 'transient', ...).
   */
  async checkAuthorization(): Promise<AuthorizationReport> {
    this.token = null;
    const token = await this.accessToken();
    const res = await this.send({ method: 'GET', path: 'heartbeat/authorized', idempotent: true }, token.access);
    this.throwForStatus(res, 'checking the login');
    const missing = SCOPES_NEEDED.filter((s) => !token.scopes.includes(s));
    if (missing.length) {
      throw new SeveraError(
        'forbidden',
        `The Severa API client ${this.clientId} lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')} that the sync needs; add ${missing.length > 1 ? 'them' : 'it'} to the client in Severa's REST API settings.`,
        { missingScopes: missing },
      );
    }
    return { scopes: token.scopes, clockOffsetMs: this.offsetMs };
  }
}
