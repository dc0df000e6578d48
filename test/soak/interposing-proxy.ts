import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An HTTP proxy between the sync process and one simulator, living in the test process. It sees every request in
 * order, so a test can act at an exact point of a cycle: kill the sync process before a write reaches the server, or
 * after the server carried it out but before the answer arrives (the case that breeds duplicates), lose an answer on
 * purpose, or let a "user" edit something while the cycle runs.
 *
 * On the EWS side each client connection gets its own upstream connection (an agent with one socket), because NTLM
 * authenticates a connection, not a request: pooling upstream sockets across clients would break the handshake.
 */

export type PeerSide = 'exchange' | 'severa';

export interface InterposedRequest {
  /** 1-based position among all requests seen by every proxy sharing the same hooks. */
  seq: number;
  side: PeerSide;
  method: string;
  path: string;
  /** EWS: the SOAP operation (CreateItem, ...); Severa: "METHOD /v1/route" with guids replaced by {guid}. */
  operation: string;
  /** Changes data on the server (EWS CreateItem/UpdateItem/DeleteItem; Severa POST/PATCH/DELETE outside the token routes). */
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
  /** The proxy's origin, http://127.0.0.1:<port>. */
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

export function classify(side: PeerSide, method: string, path: string, body: string): Pick<InterposedRequest, 'operation' | 'isWrite'> {
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

export async function startInterposingProxy(opts: { side: PeerSide; target: string; control: InterposerControl }): Promise<InterposingProxy> {
  const target = new URL(opts.target);
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
    const request = opts.control.record({ side: opts.side, method, path, body: text, ...classify(opts.side, method, path, text) });
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
      const out = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method,
          path,
          // Severa needs no connection identity: a fresh connection per request, so an idle upstream connection the
          // server closed (its keep-alive is short) never turns into a dropped request the client did not cause.
          agent: opts.side === 'exchange' ? agentFor(req.socket) : false,
          headers: forwardHeaders(req.headers, target.host, body.length),
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
    headers['content-length'] = String(upstream.body.length);
    if (upstream.headers.connection === 'close') headers.connection = 'close';
    res.writeHead(upstream.status, headers);
    res.end(upstream.body);
  };

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
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
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of clientSockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
