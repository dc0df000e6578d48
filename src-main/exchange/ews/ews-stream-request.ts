import http from 'node:http';
import https from 'node:https';
import { CalendarError } from '../calendar-connector.ts';
import { classifyNetworkError, ConnectionPool, inspectEwsResponse, ntlmLoginHeaders, type EwsTransportHooks, type EwsTransportSettings } from './ews-transport.ts';

/**
 * A long-lived EWS request whose answer is read as it arrives: GetStreamingEvents. Exchange answers HTTP 200 with a
 * chunked body that stays open for up to 30 minutes and carries one SOAP envelope per notification batch or
 * keep-alive. ews-javascript-api's streaming path (xhrStream of @ewsjs/xhr) never reports the answer's status or
 * headers and feeds an error page to the parser as if it were notifications, so this goes on its own:
 *  - its own single-socket connection (a hanging request must not hold a pooled one), NTLM logged in on that socket
 *    exactly as the transport does (negotiate on an empty POST), the same CA;
 *  - an answer other than 200 is read whole and judged by the transport's rules (login refused, fault, 503...);
 *  - a 200 body is split into envelopes (DOCTYPE refused, each envelope at most `maxEnvelopeBytes`);
 *  - silence longer than `idleTimeoutMs` (no keep-alive) or a socket that closes mid-answer ends it as a failure.
 */

export interface EwsStreamRequest {
  url: string;
  body: string;
  /** Extra headers (X-AnchorMailbox, X-PreferServerAffinity, Cookie). */
  headers: Record<string, string>;
  /** For Basic: the Authorization header; null with NTLM (the login happens on the connection). */
  basicAuthorization: string | null;
  /** No answer headers within this: given up. */
  connectTimeoutMs: number;
  /** Nothing at all (not even a keep-alive) for this long: the connection is taken for dead. */
  idleTimeoutMs: number;
  maxEnvelopeBytes: number;
  /** Each complete envelope as it arrives. A throw ends the stream with that error. */
  onEnvelope(xml: string): void;
}

/** How a stream ended: the server finished the answer, this side closed it, or it failed (dropped, silent, malformed). */
export type EwsStreamEnd = { kind: 'ended' } | { kind: 'closed' } | { kind: 'failed'; error: CalendarError };

export interface EwsStream {
  headers: http.IncomingHttpHeaders;
  /** Settles once, never rejects. */
  done: Promise<EwsStreamEnd>;
  close(): void;
}

/** Splits a stream of text into SOAP envelopes (anything between them, such as XML declarations, is dropped). */
export class EnvelopeSplitter {
  private buffer = '';
  private readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  push(text: string): string[] {
    this.buffer += text;
    const out: string[] = [];
    for (;;) {
      if (/<!DOCTYPE|<!ENTITY/i.test(this.buffer)) throw new CalendarError('bad-response', 'Exchange sent a DOCTYPE on the streaming connection; it is refused (no EWS answer has one).');
      const start = /<([A-Za-z_][\w.-]*:)?Envelope[\s>/]/.exec(this.buffer);
      if (!start) {
        // Keep a possible partial start tag; drop what can no longer begin one.
        const lt = this.buffer.lastIndexOf('<');
        this.buffer = lt >= 0 ? this.buffer.slice(lt) : '';
        break;
      }
      const prefix = start[1] ?? '';
      const closeTag = new RegExp(`</${prefix.replace(/[.]/g, '\\.')}Envelope\\s*>`);
      const rest = this.buffer.slice(start.index);
      const end = closeTag.exec(rest);
      if (!end) {
        this.buffer = rest;
        break;
      }
      out.push(rest.slice(0, end.index + end[0].length));
      this.buffer = rest.slice(end.index + end[0].length);
    }
    if (Buffer.byteLength(this.buffer) > this.maxBytes) {
      throw new CalendarError('bad-response', `An envelope on the streaming connection is larger than ${Math.round(this.maxBytes / 1_048_576)} MB; the connection was dropped.`, { serverCode: 'OVERSIZE' });
    }
    return out;
  }

  /** Part of an envelope is still waiting for its end. */
  pending(): boolean {
    return /<([A-Za-z_][\w.-]*:)?Envelope[\s>/]/.test(this.buffer);
  }
}

async function readAll(res: http.IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new CalendarError('bad-response', `Exchange's answer is larger than the ${Math.round(max / 1_048_576)} MB limit and was dropped.`, { serverCode: 'OVERSIZE' });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Sends the request and resolves once Exchange answered 200; anything else rejects with a CalendarError. */
export async function openEwsStream(settings: EwsTransportSettings, hooks: EwsTransportHooks, o: EwsStreamRequest): Promise<EwsStream> {
  const lease = new ConnectionPool(settings, 0).fresh();
  const controller = new AbortController();
  let timedOut = false;
  const connectTimer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, o.connectTimeoutMs);
  hooks.onRequest?.('GetStreamingEvents');
  const url = new URL(o.url);
  let res: http.IncomingMessage;
  try {
    let headers: Record<string, unknown> = { 'Content-Type': 'text/xml; charset=utf-8', Accept: 'text/xml', Connection: 'keep-alive', ...o.headers };
    if (settings.authMethod === 'ntlm') headers = await ntlmLoginHeaders(settings, lease, o.url, headers, controller.signal);
    else if (o.basicAuthorization) headers.Authorization = o.basicAuthorization;
    res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.request(
        url,
        {
          method: 'POST',
          agent: url.protocol === 'https:' ? lease.agents.httpsAgent : lease.agents.httpAgent,
          headers: { ...(headers as Record<string, string>), 'Content-Length': String(Buffer.byteLength(o.body)) },
          signal: controller.signal,
        },
        resolve,
      );
      req.on('error', reject);
      req.end(o.body);
    });
    clearTimeout(connectTimer);
    const status = res.statusCode ?? 0;
    const date = Date.parse(String(res.headers.date ?? ''));
    hooks.onResponse?.({ operation: 'GetStreamingEvents', status, serverDateMs: Number.isNaN(date) ? null : date, receivedAtMs: Date.now(), wwwAuthenticate: (res.headers['www-authenticate'] as string | undefined) ?? null });
    if (status !== 200) {
      const text = await readAll(res, settings.maxResponseBytes);
      const verdict = inspectEwsResponse(status, res.headers, text, Date.now(), settings.authMethod);
      throw verdict.pass ? new CalendarError('bad-response', `Exchange answered GetStreamingEvents with HTTP ${status}.`, { serverCode: `HTTP${status}` }) : verdict.error;
    }
  } catch (error) {
    clearTimeout(connectTimer);
    lease.agents.destroy();
    if (error instanceof CalendarError) throw error;
    throw classifyNetworkError(error, settings, timedOut);
  }

  let settle!: (end: EwsStreamEnd) => void;
  const done = new Promise<EwsStreamEnd>((resolve) => (settle = resolve));
  let finished = false;
  let idleTimer: NodeJS.Timeout | null = null;
  const finish = (end: EwsStreamEnd): void => {
    if (finished) return;
    finished = true;
    if (idleTimer) clearTimeout(idleTimer);
    res.destroy();
    lease.agents.destroy();
    settle(end);
  };
  const armIdle = (): void => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      finish({ kind: 'failed', error: new CalendarError('transient', `Exchange sent nothing on the streaming connection for ${Math.round(o.idleTimeoutMs / 1000)} s (no keep-alive); it is taken for dropped.`, { serverCode: 'STREAM_SILENT' }) });
    }, o.idleTimeoutMs);
    idleTimer.unref?.();
  };
  const splitter = new EnvelopeSplitter(o.maxEnvelopeBytes);
  res.setEncoding('utf8');
  armIdle();
  res.on('data', (text: string) => {
    if (finished) return;
    armIdle();
    try {
      for (const envelope of splitter.push(text)) o.onEnvelope(envelope);
    } catch (error) {
      finish({ kind: 'failed', error: error instanceof CalendarError ? error : new CalendarError('bad-response', `The streaming connection carried something unreadable: ${(error as Error).message}`) });
    }
  });
  res.on('end', () => {
    finish(splitter.pending() ? { kind: 'failed', error: new CalendarError('transient', 'The streaming connection ended in the middle of a notification.', { serverCode: 'DROPPED' }) } : { kind: 'ended' });
  });
  res.on('error', (error) => finish({ kind: 'failed', error: classifyNetworkError(error, settings, false) }));
  res.on('close', () => {
    if (!res.complete) finish({ kind: 'failed', error: new CalendarError('transient', 'The streaming connection to Exchange dropped.', { serverCode: 'DROPPED' }) });
  });
  return { headers: res.headers, done, close: () => finish({ kind: 'closed' }) };
}
