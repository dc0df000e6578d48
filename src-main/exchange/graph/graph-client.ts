import { randomUUID } from 'node:crypto';
import { CalendarError } from '../calendar-connector.ts';
import { TransportFailure, type Transport, type TransportResponse } from '../../net/http-transport.ts';
import { graphHttpError, graphTransportError } from './graph-errors.ts';
import { t } from '../../common/i18n/i18n.ts';

/**
 * Microsoft Graph v1.0 over HTTP for many mailboxes: the app's token on every request (a fresh one after a 401), at
 * most 4 requests at once per mailbox (Outlook's per-app, per-mailbox limit), 429/503/504 retried after Retry-After,
 * JSON batching ($batch, 20 requests a call, each answered on its own), the server clock read from the Date header,
 * and every failure turned into a CalendarError with the sentence and fix the admin needs.
 */

export interface TokenProvider {
  accessToken(fresh?: boolean): Promise<string>;
}

export interface GraphClientOptions {
  /** https://graph.microsoft.com (or a national cloud, or a test stand-in). */
  graphHost: string;
  tokens: TokenProvider;
  transport: Transport;
  timeoutMs?: number;
  maxResponseBytes?: number;
  /** Tries after the first for throttling and dropped connections (default 4). */
  maxRetries?: number;
  /** Longest single wait the client accepts; a longer Retry-After gives up with 'throttled' (default 60 s). */
  maxRetryWaitMs?: number;
  /** First back-off when the server names no wait (doubles each try; default 1 s). */
  backoffBaseMs?: number;
  /** Requests at once per mailbox (Outlook allows 4 per app). */
  perMailboxConcurrency?: number;
  /** Called once per HTTP request sent (a $batch is one). */
  onRequest?: (info: { operation: string; mailbox: string | null }) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface GraphRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path under /v1.0 (`/users/x/events`) or an absolute link Graph gave (nextLink, deltaLink). */
  url: string;
  mailbox: string | null;
  body?: unknown;
  headers?: Record<string, string>;
  /** For messages: 'Reading calendar changes'. */
  what: string;
  /** For request counting: 'calendarView/delta'. */
  operation: string;
  aboutItem?: boolean;
  /** Statuses returned to the caller instead of thrown (e.g. 404 for "is it still there?"). */
  accept?: readonly number[];
}

export interface GraphResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  body: T;
}

export const MAX_BATCH = 20;
const RETRY_STATUSES = new Set([429, 503, 504]);
const PREFER = 'outlook.timezone="UTC", outlook.body-content-type="text"';

/** A counting semaphore. */
class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(size: number) {
    this.#free = size;
  }
  async take(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  give(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

/** The wait a Retry-After header asks for (seconds or an HTTP date), in ms. */
export function retryAfterMs(headers: Record<string, string>): number | undefined {
  const value = headers['retry-after'];
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function parseJson(response: TransportResponse, what: string): unknown {
  if (response.body.length === 0) return undefined;
  const type = response.headers['content-type'] ?? '';
  const text = response.body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new CalendarError('bad-response', t(/html/i.test(type) ? 'report.graph.notJsonPage' : 'report.graph.notJsonOther', { what, status: response.status }), {
      advice: { message: t('report.graph.notGraph'), fix: t('report.graph.notGraphFix') },
    });
  }
}

export class GraphClient {
  readonly #o: Required<Omit<GraphClientOptions, 'onRequest'>> & Pick<GraphClientOptions, 'onRequest'>;
  readonly #base: string;
  readonly #slots = new Map<string, Slots>();
  #clockOffsetMs: number | null = null;

  constructor(options: GraphClientOptions) {
    this.#o = {
      timeoutMs: 60_000,
      maxResponseBytes: 64 * 1_048_576,
      maxRetries: 4,
      maxRetryWaitMs: 60_000,
      backoffBaseMs: 1_000,
      perMailboxConcurrency: 4,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options,
    };
    this.#base = `${options.graphHost.replace(/\/+$/, '')}/v1.0`;
  }

  /** Server clock minus local clock (ms), from the last Date header; null before any. */
  clockOffsetMs(): number | null {
    return this.#clockOffsetMs;
  }

  get host(): string {
    return new URL(this.#base).host;
  }

  /** A link Graph gave, made relative to /v1.0 (for $batch); null when it points elsewhere. */
  relativeUrl(link: string): string | null {
    if (link.startsWith('/')) return link;
    return link.startsWith(this.#base) ? link.slice(this.#base.length) : null;
  }

  #slotsFor(mailbox: string | null): Slots | null {
    if (!mailbox) return null;
    let slots = this.#slots.get(mailbox);
    if (!slots) {
      slots = new Slots(this.#o.perMailboxConcurrency);
      this.#slots.set(mailbox, slots);
    }
    return slots;
  }

  async #withSlots<T>(mailboxes: readonly string[], work: () => Promise<T>): Promise<T> {
    // Always in the same order, so two batches can never hold each other's slots.
    const held = [...new Set(mailboxes)].sort().map((m) => this.#slotsFor(m)!);
    for (const s of held) await s.take();
    try {
      return await work();
    } finally {
      for (const s of held) s.give();
    }
  }

  async #send(method: string, url: string, headers: Record<string, string>, body: string | undefined, fresh: boolean): Promise<TransportResponse> {
    const token = await this.#o.tokens.accessToken(fresh);
    const target = new URL(url.startsWith('http') ? url : `${this.#base}${url}`);
    const sentAt = Date.now();
    let response: TransportResponse;
    try {
      response = await this.#o.transport({
        method,
        url: target,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: 'application/json',
          Prefer: PREFER,
          'client-request-id': randomUUID(),
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...headers,
        },
        body,
        timeoutMs: this.#o.timeoutMs,
        maxResponseBytes: this.#o.maxResponseBytes,
      });
    } catch (error) {
      throw error instanceof TransportFailure ? error : new TransportFailure('dropped', String(error));
    }
    const date = Date.parse(response.headers.date ?? '');
    // The Date header is whole seconds, cut down: on average the server's clock was half a second further on.
    if (!Number.isNaN(date)) this.#clockOffsetMs = date + 500 - (sentAt + Date.now()) / 2;
    return response;
  }

  /** One request, retried on throttling and dropped connections; error statuses not in `accept` are thrown. */
  async request<T = unknown>(req: GraphRequest): Promise<GraphResponse<T>> {
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const context = { what: req.what, mailbox: req.mailbox, aboutItem: req.aboutItem };
    return this.#withSlots(req.mailbox ? [req.mailbox] : [], async () => {
      let freshToken = false;
      for (let attempt = 0; ; attempt++) {
        this.#o.onRequest?.({ operation: req.operation, mailbox: req.mailbox });
        let response: TransportResponse;
        try {
          response = await this.#send(req.method, req.url, req.headers ?? {}, body, freshToken);
        } catch (error) {
          if (error instanceof CalendarError) throw error;
          const failure = error as TransportFailure;
          const retryable = failure.kind === 'dropped' || failure.kind === 'timeout' || failure.kind === 'refused';
          if (retryable && attempt < this.#o.maxRetries) {
            await this.#o.sleep(this.#backoff(attempt));
            continue;
          }
          throw graphTransportError(failure, req.what, this.host);
        }
        const wait = retryAfterMs(response.headers);
        if (RETRY_STATUSES.has(response.status) && attempt < this.#o.maxRetries && (wait ?? 0) <= this.#o.maxRetryWaitMs) {
          await this.#o.sleep(wait ?? this.#backoff(attempt));
          continue;
        }
        if (response.status === 401 && !freshToken) {
          freshToken = true;
          continue;
        }
        const parsed = parseJson(response, req.what);
        if (response.status >= 400 && !req.accept?.includes(response.status)) {
          throw graphHttpError(response.status, parsed, { ...context, retryAfterMs: wait });
        }
        return { status: response.status, headers: response.headers, body: parsed as T };
      }
    });
  }

  #backoff(attempt: number): number {
    return Math.min(this.#o.maxRetryWaitMs, this.#o.backoffBaseMs * 2 ** attempt);
  }

  /**
   * Many requests in $batch calls of at most 20, answered in the order given. A sub-request that was throttled is sent
   * again (in a later batch) after the wait it was given, unless `retryThrottled` is false (a caller that backs off on
   * its own, such as the change watch); other error statuses are returned for the caller to judge.
   */
  async batch(requests: readonly GraphRequest[], opts: { retryThrottled?: boolean } = {}): Promise<GraphResponse[]> {
    const retryThrottled = opts.retryThrottled ?? true;
    const results: Array<GraphResponse | undefined> = new Array(requests.length);
    let pending = requests.map((_, i) => i);
    for (let round = 0; pending.length > 0; round++) {
      const retry: number[] = [];
      let wait = 0;
      for (const chunk of batchChunks(pending, (index) => requests[index].mailbox, this.#o.perMailboxConcurrency)) {
        const answers = await this.#batchCall(chunk.map((index) => requests[index]));
        chunk.forEach((index, k) => {
          const answer = answers[k];
          if (retryThrottled && RETRY_STATUSES.has(answer.status) && round < this.#o.maxRetries) {
            retry.push(index);
            wait = Math.max(wait, retryAfterMs(answer.headers) ?? this.#backoff(round));
          } else {
            results[index] = answer;
          }
        });
      }
      if (retry.length > 0) {
        if (wait > this.#o.maxRetryWaitMs) {
          const first = requests[retry[0]];
          throw new CalendarError('throttled', `${first.what}: Microsoft Graph asked to wait ${Math.round(wait / 1000)} s.`, { retryAfterMs: wait, serverCode: 'HTTP 429' });
        }
        await this.#o.sleep(wait);
      }
      pending = retry;
    }
    return results as GraphResponse[];
  }

  /**
   * Requests to one mailbox (writes) in $batch calls of 20, each call's requests in at most `perMailboxConcurrency`
   * `dependsOn` chains: Graph runs a batch's independent requests side by side, a chain one after the other, so the
   * mailbox never has more at once than it allows. Answered in the order given. Throttled answers (429/503/504) are sent
   * again after their wait, as `batch` does (a create sent again carries the same body, so the same transactionId); a
   * request that did not run because the one before it in its chain failed (424) is sent again at once. Other statuses
   * are returned for the caller to judge.
   */
  async batchInChains(requests: readonly GraphRequest[]): Promise<GraphResponse[]> {
    const results: Array<GraphResponse | undefined> = new Array(requests.length);
    let pending = requests.map((_, i) => i);
    let throttledRounds = 0;
    for (let round = 0; pending.length > 0; round++) {
      // Each round gives at least each chain's first request its answer or a throttled try: this bound is never met.
      if (round > requests.length + this.#o.maxRetries) throw new CalendarError('bad-response', `${requests[0].what}: Microsoft Graph's $batch answers never settle.`);
      const retry: number[] = [];
      let wait = -1;
      for (let start = 0; start < pending.length; start += MAX_BATCH) {
        const chunk = pending.slice(start, start + MAX_BATCH);
        const answers = await this.#batchCall(chunk.map((index) => requests[index]), this.#o.perMailboxConcurrency);
        chunk.forEach((index, k) => {
          const answer = answers[k];
          if (answer.status === 424) retry.push(index);
          else if (RETRY_STATUSES.has(answer.status) && throttledRounds < this.#o.maxRetries) {
            retry.push(index);
            wait = Math.max(wait, retryAfterMs(answer.headers) ?? this.#backoff(throttledRounds));
          } else results[index] = answer;
        });
      }
      if (wait >= 0) {
        if (wait > this.#o.maxRetryWaitMs) {
          const first = requests[retry[0]];
          throw new CalendarError('throttled', `${first.what}: Microsoft Graph asked to wait ${Math.round(wait / 1000)} s.`, { retryAfterMs: wait, serverCode: 'HTTP 429' });
        }
        throttledRounds++;
        await this.#o.sleep(wait);
      }
      pending = retry;
    }
    return results as GraphResponse[];
  }

  /** One $batch call; every answer comes back (error statuses included). `chains`: requests in that many dependsOn chains. */
  async #batchCall(chunk: readonly GraphRequest[], chains?: number): Promise<GraphResponse[]> {
    if (chunk.length === 1 && chunk[0].url.startsWith('http') && this.relativeUrl(chunk[0].url) === null) {
      return [await this.request({ ...chunk[0], accept: [...(chunk[0].accept ?? []), ...range(400, 600)] })];
    }
    const payload = {
      requests: chunk.map((r, i) => {
        const url = this.relativeUrl(r.url);
        if (url === null) throw new CalendarError('bad-response', `${r.what}: Microsoft Graph gave a link to another server (${new URL(r.url).host}).`);
        return {
          id: String(i + 1),
          method: r.method,
          url,
          headers: { Prefer: PREFER, ...(r.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...(r.headers ?? {}) },
          ...(r.body !== undefined ? { body: r.body } : {}),
          ...(chains && i >= chains ? { dependsOn: [String(i - chains + 1)] } : {}),
        };
      }),
    };
    const response = await this.request<{ responses?: Array<{ id?: unknown; status?: unknown; headers?: Record<string, string>; body?: unknown }> }>({
      method: 'POST',
      url: '/$batch',
      mailbox: null,
      body: payload,
      what: chunk[0].what,
      operation: '$batch',
    });
    const byId = new Map<string, GraphResponse>();
    for (const answer of response.body?.responses ?? []) {
      if (typeof answer?.id !== 'string' || typeof answer.status !== 'number') continue;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(answer.headers ?? {})) headers[k.toLowerCase()] = String(v);
      byId.set(answer.id, { status: answer.status, headers, body: answer.body });
    }
    return chunk.map((r, i) => {
      const answer = byId.get(String(i + 1));
      if (!answer) throw new CalendarError('bad-response', `${r.what}: Microsoft Graph's $batch answer lacks the answer to request ${i + 1}.`);
      return answer;
    });
  }

  /** Throws the CalendarError an error answer of a batch stands for. */
  static raise(answer: GraphResponse, req: GraphRequest): never {
    throw graphHttpError(answer.status, answer.body, { what: req.what, mailbox: req.mailbox, aboutItem: req.aboutItem, retryAfterMs: retryAfterMs(answer.headers) });
  }
}

/**
 * Splits requests into $batch calls of at most 20, with at most `perMailbox` requests for one mailbox in a call: Graph
 * runs a batch's requests side by side, and more than the mailbox allows at once would be throttled.
 */
export function batchChunks<T>(items: readonly T[], mailboxOf: (item: T) => string | null, perMailbox: number): T[][] {
  const chunks: Array<{ items: T[]; perMailbox: Map<string, number> }> = [];
  for (const item of items) {
    const mailbox = mailboxOf(item);
    let target = chunks.find((c) => c.items.length < MAX_BATCH && (mailbox === null || (c.perMailbox.get(mailbox) ?? 0) < perMailbox));
    if (!target) {
      target = { items: [], perMailbox: new Map() };
      chunks.push(target);
    }
    target.items.push(item);
    if (mailbox !== null) target.perMailbox.set(mailbox, (target.perMailbox.get(mailbox) ?? 0) + 1);
  }
  return chunks.map((c) => c.items);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
