import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { StoreError, type ErrorType, type JsonRecord } from './activity-records.ts';
import { SeveraStore } from './activity-store.ts';
import { applyModelPatch, inputFromActivityModel } from './activity-input.ts';
import { addActivityRoutes } from './activity-routes.ts';
import { addDirectoryRoutes } from './directory-routes.ts';
import { errorBody, HttpError, safeDecode, type Handler, type Reply, type Route } from './http-routing.ts';
import { ContractViolation, severaContractIfPresent } from './openapi-contract.ts';
import { severaOperation, typedQuery, type SeveraOperation } from './severa-operations.ts';
import { loadSeveraSeed, parseSeveraSeed, type SeveraSeed } from './severa-seed.ts';
import { loadSeedInto } from './severa-seed-loader.ts';
import { SeveraStateError, exportSeveraState, loadSeveraState, restoreSeveraStore, validateSeveraState, type ApiClientState, type SeveraState } from './severa-state.ts';
import { createTokenAuth } from './token-auth.ts';

/**
 * A Severa REST API simulator on 127.0.0.1 under /rest-api: the operations and shapes of the public OpenAPI document
 * that the product uses, with OAuth2 client-credentials tokens that expire, scopes enforced per operation, a 10 request/s
 * limit answered with 429 + Retry-After, seeded fault injection, and, where the vendor's document is present (../shared,
 * never committed), every request and response checked against it (ajv). Behaviour and seed format: README.md.
 */

export { loadSeveraSeed, loadSeveraState, SeveraStateError };
export type { SeveraSeed, SeveraState };

export interface SeveraFaults {
  /** Seed of the fault generator, so a failing run can be repeated. */
  seed?: number;
  /** Share of requests answered 500 (API error JSON) or 503 (a proxy's plain-text page), before any processing. */
  serverErrorRate?: number;
  /** Share of requests whose connection is closed without an answer, before any processing. */
  dropConnectionRate?: number;
  /** Share of requests answered only after `slowMs`. */
  slowRate?: number;
  slowMs?: number;
  /**
   * "A server that differs" (seeded, per write; for the sync's verified writes): the write is answered, with the
   * activity as stored, but something other than what was sent was kept. `keepNameRate`: a PATCH's new name is not
   * kept; `dropLocationRate`: a new activity's location is dropped. Counted in faultsInjected.
   */
  keepNameRate?: number;
  dropLocationRate?: number;
}

export interface SeveraSimulatorOptions {
  /** Seed data (see README). Give either this or `state`. */
  seed?: SeveraSeed;
  /** A snapshot from exportState() (or loadSeveraState(path)): the simulator carries on exactly where that one stopped. */
  state?: SeveraState;
  port?: number;
  /** Requests per second per API client before 429 (token bucket of this size, refilled continuously). 0 = no limit. */
  rateLimitPerSecond?: number;
  tokenLifetimeSeconds?: number;
  refreshTokenLifetimeSeconds?: number;
  /** Server clock minus real clock: the Date header and every timestamp the server stamps (default: the state's, else 0). */
  clockSkewMs?: number;
  faults?: SeveraFaults;
  /**
   * Check every request and response against the OpenAPI document; a bad request gets 400, a mismatching response
   * becomes a 500 and is recorded (default: true where the document is present; without it there is nothing to check).
   */
  validateResponses?: boolean;
  /** Largest request body accepted, bytes. */
  maxRequestBytes?: number;
  /** Record the CPU time spent handling each request, per route (benchmarks). */
  measureCpu?: boolean;
}

export interface SeveraCounters {
  total: number;
  byRoute: Record<string, number>;
  rateLimited: number;
  /** Most requests that arrived within any one-second window (sliding), for rate-limit checks without timing asserts. */
  peakPerSecond: number;
  faultsInjected: number;
  /** With measureCpu: CPU microseconds (user + system) spent in the handler, per route. */
  cpuMicrosByRoute: Record<string, number>;
}

export interface SeveraSimulator {
  /** http://127.0.0.1:<port>/rest-api */
  baseUrl: string;
  port: number;
  close(): Promise<void>;
  counters(): SeveraCounters;
  resetCounters(): void;
  setFaults(faults: SeveraFaults): void;
  setClockSkewMs(ms: number): void;
  /** Moves the server clock forward (token expiry, lastUpdatedDateTime) without waiting. */
  advanceClock(ms: number): void;
  /** Responses that broke the document (simulator bugs); tests assert this stays empty. */
  contractViolations(): string[];
  // Back doors acting as a user in the Severa UI: they keep lastUpdatedDateTime like a real edit.
  /** Every stored activity (single activities, series masters and exceptions) as ActivityModel. */
  activities(): JsonRecord[];
  createActivity(model: JsonRecord): JsonRecord;
  updateActivity(guid: string, patch: JsonRecord): JsonRecord;
  deleteActivity(guid: string): void;
  addParticipant(activityGuid: string, userGuid: string): JsonRecord;
  /** The data behind the API, for benchmarks and white-box tests. */
  store: SeveraStore;
  /** Everything the simulator holds, as JSON data for `startSeveraSimulator({ state })` (see README, "State snapshots"). */
  exportState(): SeveraState;
}

/** mulberry32: small, seeded, good enough to decide which request fails. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startSeveraSimulator(o: SeveraSimulatorOptions): Promise<SeveraSimulator> {
  if ((o.seed === undefined) === (o.state === undefined)) throw new Error('Start the Severa simulator with either a seed or a state snapshot (exactly one of them).');
  const state = o.state !== undefined ? validateSeveraState(o.state) : null;
  const seed = state ? null : parseSeveraSeed(o.seed);
  const contract = o.validateResponses === false ? null : severaContractIfPresent();
  let clockOffsetMs = o.clockSkewMs ?? state?.clockOffsetMs ?? 0;
  const serverNow = () => Date.now() + clockOffsetMs;
  const store = new SeveraStore(state?.timeZone ?? seed!.timeZone, serverNow);
  if (state) restoreSeveraStore(store, state);
  else loadSeedInto(store, seed!, serverNow());
  const apiClients: ApiClientState[] = state?.apiClients ?? seed!.apiClients;

  const tokenLifetimeMs = (o.tokenLifetimeSeconds ?? 3600) * 1000;
  const refreshLifetimeMs = (o.refreshTokenLifetimeSeconds ?? 14 * 86400) * 1000;
  const rate = o.rateLimitPerSecond ?? 10;
  const maxRequestBytes = o.maxRequestBytes ?? 1024 * 1024;
  let faults: SeveraFaults = { ...(o.faults ?? {}) };
  let random = seededRandom(faults.seed ?? 1);

  const auth = createTokenAuth(apiClients, serverNow, tokenLifetimeMs, refreshLifetimeMs);
  const buckets = new Map<string, { tokens: number; at: number }>();
  const violations: string[] = [];

  let counters: SeveraCounters = { total: 0, byRoute: {}, rateLimited: 0, peakPerSecond: 0, faultsInjected: 0, cpuMicrosByRoute: {} };
  let arrivals: number[] = [];
  let arrivalsHead = 0;

  // ---------- routes (handlers per resource: token-auth.ts, activity-routes.ts, directory-routes.ts) ----------

  const routes: Route[] = [];
  const route = (operationId: string, handler: Handler, anonymous = false) => {
    const { method, path } = severaOperation(operationId);
    const names: string[] = [];
    const pattern = new RegExp(`^${path.replace(/\{(\w+)\}/g, (_m, n: string) => (names.push(n), '([^/]+)'))}$`);
    routes.push({ method, pattern, names, operationId, handler, anonymous });
  };

  auth.addRoutes(route);

  /** Does a server that differs keep this write otherwise? Draws from the fault generator only where the rate is set. */
  const differs = (rate: number | undefined): boolean => {
    if (!rate || !(random() < rate)) return false;
    counters.faultsInjected += 1;
    return true;
  };

  addActivityRoutes(route, { store, faults: () => faults, differs });

  addDirectoryRoutes(route, store);

  // ---------- request pipeline ----------

  const routeOfRequest = new WeakMap<IncomingMessage, string>();
  function recordArrival(req: IncomingMessage, routeKey: string): void {
    routeOfRequest.set(req, routeKey);
    counters.total += 1;
    counters.byRoute[routeKey] = (counters.byRoute[routeKey] ?? 0) + 1;
    const t = performance.now();
    arrivals.push(t);
    while (arrivals[arrivalsHead] <= t - 1000) arrivalsHead += 1;
    counters.peakPerSecond = Math.max(counters.peakPerSecond, arrivals.length - arrivalsHead);
    if (arrivalsHead > 4096) {
      arrivals = arrivals.slice(arrivalsHead);
      arrivalsHead = 0;
    }
  }

  /** Token bucket per API client; returns seconds to wait, or 0 when the request may go on. */
  function rateLimitWait(key: string): number {
    if (!(rate > 0)) return 0;
    const t = performance.now();
    const b = buckets.get(key) ?? { tokens: rate, at: t };
    b.tokens = Math.min(rate, b.tokens + ((t - b.at) / 1000) * rate);
    b.at = t;
    buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate));
  }

  function send(res: ServerResponse, op: SeveraOperation | null, reply: Reply): void {
    const hasBody = reply.body !== undefined && reply.status !== 204;
    const headers: Record<string, string> = { ...(reply.headers ?? {}) };
    const documented = op && contract ? contract.byId(op.operationId) : null;
    if (contract && documented) {
      try {
        contract.checkResponse(documented, reply.status, reply.body, hasBody, headers);
      } catch (e) {
        if (!(e instanceof ContractViolation)) throw e;
        violations.push(e.message);
        process.emitWarning(`Severa simulator sent a response that breaks the OpenAPI document: ${e.message}`);
        reply = { status: 500, body: errorBody(500, 'InternalSystemError', `Simulator bug: ${e.message}`) };
        return send(res, null, reply);
      }
    }
    res.setHeader('Date', new Date(serverNow()).toUTCString());
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (hasBody) {
      const text = JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    } else {
      res.writeHead(reply.status, { 'Content-Length': 0 });
      res.end();
    }
  }

  function sendError(res: ServerResponse, op: SeveraOperation | null, status: number, type: ErrorType, message: string, headers: Record<string, string> = {}): void {
    // The document declares 404 without content: a documented route answers it with an empty body.
    if (status === 404 && op) return send(res, op, { status, headers });
    send(res, op, { status, body: errorBody(status, type, message), headers });
  }

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxRequestBytes) throw new HttpError(400, 'InvalidRequest', `The request body is larger than ${maxRequestBytes} bytes.`);
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.startsWith('/rest-api/') ? url.pathname.slice('/rest-api'.length) : null;
    let matched: Route | undefined;
    let params: Record<string, string> = {};
    let pathKnown = false;
    if (path !== null) {
      for (const r of routes) {
        const m = r.pattern.exec(path);
        if (!m) continue;
        pathKnown = true;
        if (r.method !== method) continue;
        matched = r;
        params = Object.fromEntries(r.names.map((n, i) => [n, safeDecode(m[i + 1])]));
        break;
      }
    }
    const op = matched ? severaOperation(matched.operationId) : null;
    recordArrival(req, op ? `${method} ${op.path}` : `${method} (unknown)`);

    // Faults strike before anything is processed, so a retried request never applies twice.
    const r = random();
    if (r < (faults.dropConnectionRate ?? 0)) {
      counters.faultsInjected += 1;
      req.socket.destroy();
      return;
    }
    if (r < (faults.dropConnectionRate ?? 0) + (faults.serverErrorRate ?? 0)) {
      counters.faultsInjected += 1;
      if (random() < 0.5) {
        res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '1' });
        res.end('Service Unavailable: the upstream server is busy.');
      } else {
        send(res, null, { status: 500, body: errorBody(500, 'InternalSystemError', 'An unexpected error occurred. (injected fault)') });
      }
      return;
    }
    if (random() < (faults.slowRate ?? 0)) {
      counters.faultsInjected += 1;
      await new Promise((resolve) => setTimeout(resolve, faults.slowMs ?? 2000));
    }

    const rateKey = typeof req.headers['client_id'] === 'string' ? req.headers['client_id'] : '(no Client_Id)';
    const wait = rateLimitWait(rateKey);
    if (wait > 0) {
      counters.rateLimited += 1;
      req.resume();
      return sendError(res, op, 429, 'InvalidRequest', 'API rate limit exceeded; slow down and retry after the time in Retry-After.', { 'Retry-After': String(wait) });
    }

    if (!matched || !op) {
      req.resume();
      if (pathKnown) return sendError(res, null, 405, 'InvalidRequest', `${method} is not supported on ${url.pathname}.`);
      return sendError(res, null, 404, 'InvalidRequest', `No API route ${method} ${url.pathname}.`);
    }

    try {
      const grant = matched.anonymous ? null : auth.authenticate(req, op);

      const documented = contract?.byId(op.operationId) ?? null;
      const query = typedQuery(op, url.searchParams);
      const queryProblem = documented && contract!.checkQuery(documented, query);
      if (queryProblem) throw new HttpError(400, 'InvalidParameter', queryProblem);

      let body: unknown = undefined;
      const raw = await readBody(req);
      if (op.jsonBody) {
        const type = String(req.headers['content-type'] ?? '');
        if (raw.length === 0) body = null;
        else {
          if (!/^application\/(.+\+)?json\b/i.test(type)) throw new HttpError(400, 'InvalidRequest', 'The request body must be JSON (Content-Type: application/json).');
          try {
            body = JSON.parse(raw.toString('utf8'));
          } catch {
            throw new HttpError(400, 'InvalidRequest', 'The request body is not valid JSON.');
          }
        }
        const bodyProblem = documented && contract!.checkBody(documented, body);
        if (bodyProblem) throw new HttpError(400, 'InvalidRequest', bodyProblem);
      }

      const reply = await matched.handler({ req, op, params, query, body, grant });
      send(res, op, reply);
    } catch (e) {
      if (e instanceof StoreError) return sendError(res, op, e.status, e.type, e.message);
      const message = e instanceof Error ? e.message : String(e);
      violations.push(`Unhandled error in ${op.operationId}: ${message}`);
      process.emitWarning(`Severa simulator failed on ${method} ${url.pathname}: ${e instanceof Error ? e.stack : message}`);
      sendError(res, op, 500, 'InternalSystemError', 'An unexpected error occurred.');
    }
  }

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const cpuBefore = o.measureCpu ? process.cpuUsage() : null;
    const done = handle(req, res);
    if (cpuBefore) {
      void done.finally(() => {
        const used = process.cpuUsage(cpuBefore);
        const key = routeOfRequest.get(req) ?? '(unknown)';
        counters.cpuMicrosByRoute[key] = (counters.cpuMicrosByRoute[key] ?? 0) + used.user + used.system;
      });
    }
    done.catch((e: unknown) => {
      violations.push(`Simulator crashed on a request: ${(e as Error).message}`);
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(errorBody(500, 'InternalSystemError', 'An unexpected error occurred.')));
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const typeForBackDoor = () => store.typeList.find((t) => t.isDefault)?.guid;

  return {
    baseUrl: `http://127.0.0.1:${port}/rest-api`,
    port,
    store,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
    counters: () => ({ ...counters, byRoute: { ...counters.byRoute }, cpuMicrosByRoute: { ...counters.cpuMicrosByRoute } }),
    resetCounters: () => {
      counters = { total: 0, byRoute: {}, rateLimited: 0, peakPerSecond: 0, faultsInjected: 0, cpuMicrosByRoute: {} };
      arrivals = [];
      arrivalsHead = 0;
    },
    setFaults: (f) => {
      faults = { ...faults, ...f };
      if (f.seed !== undefined) random = seededRandom(f.seed);
    },
    setClockSkewMs: (ms) => {
      clockOffsetMs = ms;
    },
    advanceClock: (ms) => {
      clockOffsetMs += ms;
    },
    contractViolations: () => [...violations],
    exportState: () => exportSeveraState(store, apiClients, clockOffsetMs),
    activities: () => store.allStored().map((rec) => store.renderActivity({ rec, occurrenceStartMs: null })),
    createActivity: (model) => {
      const input = inputFromActivityModel(model, { typeGuid: typeForBackDoor() });
      const rec = store.createActivity(input, input.ownerGuid);
      return store.renderActivity({ rec, occurrenceStartMs: null });
    },
    updateActivity: (guid, patch) => {
      const view = store.getView(guid);
      if (!view) throw new Error(`Activity ${guid} was not found.`);
      const rec = store.updateActivity(guid, (cur) => applyModelPatch(cur, patch), view.rec.ownerGuid);
      return store.renderActivity({ rec, occurrenceStartMs: null });
    },
    deleteActivity: (guid) => store.deleteActivity(guid, null),
    addParticipant: (activityGuid, userGuid) => {
      const { rec, participant } = store.addParticipant(activityGuid, userGuid, 'Accepted', null);
      return store.renderParticipant(rec.guid, participant);
    },
  };
}
