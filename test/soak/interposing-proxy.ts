import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An HTTP proxy between the sync process and one simulator, living in the test process. It sees every request in
 * order, so a test can act at an exact point of a cycle: kill the sync process before a write reaches the server, or
 * after the server carried it out but before the answer arrives (the case that breeds duplicates), lose an answer on
 * purpose, or let a "user" edit something while the cycle runs.
 *
 * On the EWS side each client connection gets its own upstream connection (an agent with one socket), because NTLM
 * authenticates a connection, not a request: pooling upstream sockets across clients would break the handshake.
 *
 * In front of the Graph simulator (Exchange Online) the proxy speaks HTTPS itself, with a certificate of its own test CA
 * (the sync trusts it through the settings' CA file), and puts its own origin in place of the simulator's in every
 * answer (OpenID metadata, token endpoint, delta and next links), so the sync never goes around it.
 */

export type PeerSide = 'exchange' | 'severa';

export interface InterposedRequest {
  /** 1-based position among all requests seen by every proxy sharing the same hooks. */
  seq: number;
  side: PeerSide;
  method: string;
  path: string;
  /**
   * EWS: the SOAP operation (CreateItem, ...); Severa: "METHOD /v1/route" with guids replaced by {guid}; Graph: "METHOD
   * /v1.0/route" with ids replaced by {id}, "$batch(…)" listing its requests, "token" for a sign-in.
   */
  operation: string;
  /**
   * Changes data on the server (EWS CreateItem/UpdateItem/DeleteItem; Severa POST/PATCH/DELETE outside the token routes;
   * Graph POST/PATCH/DELETE of events, or a $batch holding one).
   */
  isWrite: boolean;
  body: string;
  /** The server's HTTP status, once it answered (absent while held or when the connection dropped). */
  status?: number;
}

/**
 * forward: pass it on; hold: never pass it on and never answer (the test kills the client meanwhile); an answer: give
 * it instead of the server's (e.g. a 429 the server never sent).
 */
export type RequestVerdict = 'forward' | 'hold' | CannedAnswer;

export interface CannedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}
/** deliver: pass the answer back; hold: keep it back for good; drop: close the connection without an answer. */
export type ResponseVerdict = 'deliver' | 'hold' | 'drop';

export interface InterposerHooks {
  onRequest?(request: InterposedRequest): RequestVerdict | Promise<RequestVerdict>;
  onResponse?(request: InterposedRequest, status: number): ResponseVerdict | Promise<ResponseVerdict>;
}

/** Shared by the proxies of one world: one sequence of requests across both peers, and hooks a test can swap. */
export class InterposerControl {
  hooks: InterposerHooks = {};
  seq = 0;
  readonly seen: InterposedRequest[] = [];
  /** Keep only the last requests (the soak makes many thousands). */
  keepLast = 2_000;

  record(request: Omit<InterposedRequest, 'seq'>): InterposedRequest {
    const full = { ...request, seq: ++this.seq };
    this.seen.push(full);
    if (this.seen.length > this.keepLast) this.seen.splice(0, this.seen.length - this.keepLast);
    return full;
  }
}

export interface InterposingProxy {
  /** The proxy's origin, http://127.0.0.1:<port> (https: with `tls`). */
  origin: string;
  close(): Promise<void>;
}

const EWS_WRITES = new Set(['CreateItem', 'UpdateItem', 'DeleteItem']);
const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** The EWS operation: the first element inside the SOAP Body. */
export function ewsOperationOf(body: string): string {
  const m = /<(?:[\w-]+:)?Body\b[^>]*>\s*<(?:[\w-]+:)?([A-Za-z]+)\b/.exec(body);
  return m ? m[1] : body.trim() === '' ? '(empty)' : '(not SOAP)';
}

/** A Graph request's route with its ids taken out: "GET /v1.0/users/{id}/calendarView/delta". */
function graphRoute(method: string, url: string): { operation: string; isWrite: boolean } {
  const path = `/${url.replace(/^\/+/, '')}`.split('?')[0];
  if (/\/oauth2\/v2\.0\/token$/i.test(path)) return { operation: 'token', isWrite: false };
  const route = path.replace(/\/users\/[^/]+/i, '/users/{id}').replace(/\/(events|instances)\/[^/]+/gi, '/$1/{id}');
  return { operation: `${method} ${route.startsWith('/v1.0') ? route : `/v1.0${route}`}`, isWrite: /\/events\b/i.test(route) && (method === 'POST' || method === 'PATCH' || method === 'DELETE') };
}

export function classifyGraph(method: string, path: string, body: string): Pick<InterposedRequest, 'operation' | 'isWrite'> {
  if (!/^\/v1\.0\/\$batch\/?(\?|$)/i.test(path)) return graphRoute(method, path);
  let subs: Array<{ method?: string; url?: string }> = [];
  try {
    subs = (JSON.parse(body) as { requests?: typeof subs }).requests ?? [];
  } catch {
    subs = [];
  }
  const inner = subs.map((r) => graphRoute(String(r.method ?? 'GET').toUpperCase(), String(r.url ?? '')));
  return { operation: `$batch(${inner.map((r) => r.operation).join(', ')})`, isWrite: inner.some((r) => r.isWrite) };
}

export function classify(side: PeerSide, method: string, path: string, body: string, protocol: 'ews' | 'graph' = 'ews'): Pick<InterposedRequest, 'operation' | 'isWrite'> {
  if (side === 'exchange' && protocol === 'graph') return classifyGraph(method, path, body);
  if (side === 'exchange') {
    const operation = ewsOperationOf(body);
    return { operation, isWrite: method === 'POST' && EWS_WRITES.has(operation) };
  }
  const route = path.split('?')[0].replace(/^\/rest-api/, '').replace(GUID, '{guid}');
  const isTokenRoute = route === '/v1/token' || route === '/v1/refreshtoken';
  return { operation: `${method} ${route}`, isWrite: !isTokenRoute && (method === 'POST' || method === 'PATCH' || method === 'DELETE') };
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
    stream.on('aborted', () => reject(new Error('aborted')));
  });
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

function forwardHeaders(headers: IncomingHttpHeaders, host: string, length: number): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  out.host = host;
  out['content-length'] = String(length);
  return out;
}

export interface InterposingProxyOptions {
  side: PeerSide;
  /** The simulator's origin (http: or https:). */
  target: string;
  control: InterposerControl;
  /** What the Exchange side speaks (default 'ews'). */
  protocol?: 'ews' | 'graph';
  /** Serve HTTPS with this certificate (the Graph side). */
  tls?: { certPem: string; keyPem: string };
  /** The CA to trust for an https: target. */
  targetCa?: string;
}

export async function startInterposingProxy(opts: InterposingProxyOptions): Promise<InterposingProxy> {
  const target = new URL(opts.target);
  const protocol = opts.protocol ?? 'ews';
  const upstreamTls = target.protocol === 'https:';
  let origin = '';
  const agents = new WeakMap<Socket, Agent>();
  const clientSockets = new Set<Socket>();

  const agentFor = (socket: Socket): Agent => {
    let agent = agents.get(socket);
    if (!agent) {
      agent = new Agent({ keepAlive: true, maxSockets: 1 });
      agents.set(socket, agent);
      const created = agent;
      socket.once('close', () => created.destroy());
    }
    return agent;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readAll(req);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const text = body.toString('utf8');
    const request = opts.control.record({ side: opts.side, method, path, body: text, ...classify(opts.side, method, path, text, protocol) });
    const verdict0 = (await opts.control.hooks.onRequest?.(request)) ?? 'forward';
    if (verdict0 === 'hold' || req.socket.destroyed) return;
    if (verdict0 !== 'forward') {
      const body = verdict0.body ?? '';
      request.status = verdict0.status;
      res.writeHead(verdict0.status, { ...verdict0.headers, 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
      return;
    }

    const upstream = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer } | null>((resolve) => {
      const send = upstreamTls ? httpsRequest : httpRequest;
      const out = send(
        {
          host: target.hostname,
          port: target.port,
          method,
          path,
          // Severa and Graph need no connection identity: a fresh connection per request, so an idle upstream connection
          // the server closed (its keep-alive is short) never turns into a dropped request the client did not cause.
          agent: opts.side === 'exchange' && protocol === 'ews' ? agentFor(req.socket) : false,
          headers: forwardHeaders(req.headers, target.host, body.length),
          ...(upstreamTls ? { ca: opts.targetCa } : {}),
        },
        (answer) => {
          readAll(answer).then(
            (b) => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: b }),
            () => resolve(null),
          );
        },
      );
      // The simulator dropped the connection (an injected fault): the client sees the same.
      out.on('error', () => resolve(null));
      out.end(body);
    });
    if (!upstream) {
      req.socket.destroy();
      return;
    }
    request.status = upstream.status;
    const verdict = (await opts.control.hooks.onResponse?.(request, upstream.status)) ?? 'deliver';
    if (verdict === 'hold') return;
    if (verdict === 'drop' || req.socket.destroyed) {
      req.socket.destroy();
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(upstream.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    let answer = upstream.body;
    if (upstreamTls) {
      // The simulator names itself in links and metadata: the sync must keep coming through here.
      const own = target.origin;
      answer = Buffer.from(answer.toString('utf8').split(own).join(origin), 'utf8');
      for (const k of ['location', 'www-authenticate']) if (typeof headers[k] === 'string') headers[k] = (headers[k] as string).split(own).join(origin);
    }
    headers['content-length'] = String(answer.length);
    if (upstream.headers.connection === 'close') headers.connection = 'close';
    res.writeHead(upstream.status, headers);
    res.end(answer);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => req.socket.destroy());
  };
  const server = opts.tls ? createHttpsServer({ keepAlive: true, cert: opts.tls.certPem, key: opts.tls.keyPem }, onRequest) : createServer({ keepAlive: true }, onRequest);
  server.on('connection', (socket: Socket) => {
    clientSockets.add(socket);
    socket.once('close', () => clientSockets.delete(socket));
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of clientSockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
