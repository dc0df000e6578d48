import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { environmentNetwork } from './outbound-network.ts';
import type { OutboundNetwork } from './outbound-network.ts';
import { ProxyError } from './proxy-tunnel.ts';

/**
 * The product's outbound HTTP (Severa, Microsoft Graph and its sign-in): one HTTP exchange with a size cap on the answer
 * and a timeout, over node:http(s) (so extra CA certificates can be trusted per client) through the outbound network
 * (direct or through the proxy, outbound-network.ts), or over an injected `fetch`. Network failures come back as
 * `TransportFailure` with a kind the client maps to retry decisions and error codes.
 */

export interface TransportRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  maxResponseBytes: number;
  /** Called once the request is written on a connected socket (after any connection set-up): it has left. */
  onSent?: () => void;
}

export interface TransportResponse {
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: Buffer;
}

export type TransportFailureKind =
  | 'refused' // nothing was sent: the server is not listening
  | 'dns' // the host name does not resolve
  | 'dropped' // the connection broke after the request may have been sent
  | 'timeout'
  | 'tls'
  | 'too-large'
  | 'proxy'; // the proxy could not be reached, wants a login, or refused the target: `fix` says what to do

export class TransportFailure extends Error {
  readonly kind: TransportFailureKind;
  /** What to do about it, when the failure knows (proxy failures). */
  readonly fix: string | undefined;
  constructor(kind: TransportFailureKind, message: string, fix?: string) {
    super(message);
    this.kind = kind;
    this.fix = fix;
  }
}

export type Transport = (req: TransportRequest) => Promise<TransportResponse>;

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|HOSTNAME_MISMATCH/;

export function classifyNetworkError(e: unknown): TransportFailure {
  if (e instanceof TransportFailure) return e;
  if (e instanceof ProxyError) return new TransportFailure('proxy', e.message, e.fix);
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = String(err?.code ?? err?.cause?.code ?? '');
  const message = String(err?.message ?? e);
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError' || code === 'ETIMEDOUT') return new TransportFailure('timeout', 'timed out');
  if (code === 'ECONNREFUSED') return new TransportFailure('refused', 'connection refused');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new TransportFailure('dns', 'host name not found');
  if (TLS_CODES.test(code) || /certificate/i.test(message)) return new TransportFailure('tls', code || 'certificate problem');
  return new TransportFailure('dropped', code || 'connection closed');
}

/**
 * node:http(s) transport; `ca` adds trusted certificates (PEM) on top of the system's; `network` says how servers are
 * reached (default: the environment's HTTPS_PROXY / NO_PROXY, which is direct when they are not set).
 */
export function nodeTransport(ca?: string, network: OutboundNetwork = environmentNetwork()): Transport {
  const agents = network.agents(ca ? { ca: [...rootCertificates, ca] } : {});
  return (req) =>
    new Promise<TransportResponse>((resolve, reject) => {
      const isHttps = req.url.protocol === 'https:';
      const send = isHttps ? httpsRequest : httpRequest;
      let settled = false;
      const fail = (f: TransportFailure) => {
        if (!settled) {
          settled = true;
          reject(f);
        }
      };
      const r = send(
        req.url,
        {
          method: req.method,
          headers: { ...req.headers, ...(req.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(req.body)) } : {}) },
          // The trusted certificates come with the agent (its options are merged into every request's).
          agent: isHttps ? agents.httpsAgent : agents.httpAgent,
          timeout: req.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > req.maxResponseBytes) {
              // Settle first: destroying the socket raises a connection error that must not win.
              fail(new TransportFailure('too-large', `answer larger than ${req.maxResponseBytes} bytes`));
              res.destroy();
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            if (settled) return;
            settled = true;
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
            resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
          });
          res.on('error', (e) => fail(classifyNetworkError(e)));
          res.on('aborted', () => fail(new TransportFailure('dropped', 'answer cut off')));
        },
      );
      r.on('timeout', () => {
        r.destroy();
        fail(new TransportFailure('timeout', 'timed out'));
      });
      r.on('error', (e) => fail(classifyNetworkError(e)));
      if (req.onSent) r.once('finish', req.onSent);
      if (req.body !== undefined) r.write(req.body);
      r.end();
    });
}

/** Transport over a fetch implementation (tests inject one; Electron's net.fetch fits too). */
export function fetchTransport(fetchImpl: typeof fetch): Transport {
  return async (req) => {
    let res: Response;
    try {
      res = await fetchImpl(req.url, { method: req.method, headers: req.headers, body: req.body, signal: AbortSignal.timeout(req.timeoutMs) });
    } catch (e) {
      throw classifyNetworkError(e);
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      headers[k.toLowerCase()] = v;
    });
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      if (res.body) {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          size += value.byteLength;
          if (size > req.maxResponseBytes) {
            await reader.cancel().catch(() => undefined);
            throw new TransportFailure('too-large', `answer larger than ${req.maxResponseBytes} bytes`);
          }
          chunks.push(Buffer.from(value));
        }
      }
    } catch (e) {
      throw classifyNetworkError(e);
    }
    return { status: res.status, headers, body: Buffer.concat(chunks) };
  };
}
