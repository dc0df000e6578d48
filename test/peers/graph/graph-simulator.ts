/**
 * Microsoft Graph simulator: HTTPS on 127.0.0.1 with a throwaway test CA, the identity platform's endpoints for one
 * tenant, and Graph v1.0 calendar and user endpoints for many mailboxes. See README.md for the seed format, the
 * behaviour and how to point msal-node and Microsoft's SDKs at it.
 */
import { createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { CalendarStore, MailRecord } from './calendar-store.ts';
import { Directory } from './graph-directory.ts';
import { GraphError, errorBody } from './graph-errors.ts';
import type { GraphResult } from './graph-errors.ts';
import { runBatch } from './graph-batch.ts';
import type { SubRequest, SubResponse } from './graph-batch.ts';
import { graphContractIfPresent } from './graph-contract.ts';
import type { GraphContract } from './graph-contract.ts';
import { authorize, matchRoute, readQuery, resolveTarget, runRoute } from './graph-routes.ts';
import type { GraphContext } from './graph-routes.ts';
import type { GraphSeed } from './graph-seed.ts';
import { GraphSeedError, loadGraphSeed, validateGraphSeed } from './graph-seed.ts';
import type { GraphState } from './graph-state.ts';
import { buildRuntime, exportGraphState, loadGraphState } from './graph-state.ts';
import type { Runtime } from './graph-state.ts';
import { FaultInjector, Throttle } from './graph-throttle.ts';
import type { GraphFaultConfig, ThrottleLimits } from './graph-throttle.ts';
import { IdentityEndpoints } from './identity-pages.ts';
import type { Caller, IdentitySettings } from './identity-platform.ts';
import { IdentityPlatform } from './identity-platform.ts';
import { createTestCa } from './test-ca.ts';
import { mailboxBackDoor } from './outlook-back-door.ts';
import type { GraphMailboxBackDoor } from './outlook-back-door.ts';
import { exportMailbox, importMailbox } from './neutral-mailbox.ts';
import type { NeutralMailbox } from './neutral-mailbox.ts';
import { expireSyncStates } from './delta-tokens.ts';
import { addUser, setMailboxState } from './mailbox-states.ts';
import type { GraphMailboxState, GraphSeedUser } from './graph-seed.ts';

export type { GraphSeed, GraphState, GraphFaultConfig, NeutralMailbox, GraphMailboxBackDoor, MailRecord, GraphMailboxState, GraphSeedUser };
export { loadGraphSeed, loadGraphState, GraphSeedError };

export interface GraphSimulatorOptions {
  /** Parsed seed (see README) or loadGraphSeed(path). Give either this or `state`. */
  seed?: GraphSeed;
  /** A snapshot from exportState(): the simulator carries on where that one stopped. */
  state?: GraphState;
  port?: number;
  /** Added to the HTTP Date header (tokens and data keep real time). */
  clockSkewMs?: number;
  faults?: GraphFaultConfig;
  /** Check every request and response against Microsoft's OpenAPI subset: default true when the file exists. */
  contract?: boolean;
  /** Also return properties newer than the OpenAPI subset (event.cancelledOccurrences). Default false. */
  newerProperties?: boolean;
  onRequest?: (entry: GraphRequestLogEntry) => void;
}

export interface GraphRequestLogEntry {
  status: number;
  method: string;
  path: string;
  /** Graph route name (events.update, calendarView.delta...) or identity endpoint (token, authorize...). */
  route: string | null;
  mailbox: string | null;
  app: string | null;
  note: string | null;
  inBatch: boolean;
}

export interface ContractViolationRecord {
  direction: 'request' | 'response';
  method: string;
  path: string;
  status: number | null;
  problem: string;
}

export interface GraphCounters {
  total: number;
  byRoute: Record<string, number>;
  byMailbox: Record<string, number>;
  byApp: Record<string, number>;
  byStatus: Record<string, number>;
  throttled: number;
  tokens: Record<string, number>;
  /** Mails Graph requests made Exchange send (attendees invited, updated or cancelled). */
  invitationsSent: number;
  meetingUpdatesSent: number;
  cancellationsSent: number;
}

export interface GraphSimulator {
  /** https://127.0.0.1:<port> */
  url: string;
  /** https://127.0.0.1:<port>/v1.0 (Graph's base URL). */
  graphUrl: string;
  tenantId: string;
  /** The test CA to trust (PEM). Nothing else is needed: the server certificate names 127.0.0.1 and localhost. */
  caCertificatePem: string;
  /** msal-node settings for this tenant: authority, knownAuthorities, and the metadata strings that skip discovery. */
  msalAuthority(tenant?: string): { authority: string; knownAuthorities: string[]; cloudDiscoveryMetadata: string; authorityMetadata: string };
  close(): Promise<void>;
  counters(): GraphCounters;
  resetCounters(): void;
  setFaults(f: GraphFaultConfig): void;
  faultsInjected(): Record<string, number>;
  setClockSkewMs(ms: number): void;
  setThrottleLimits(l: Partial<ThrottleLimits>): void;
  setTokenLifetimes(s: Partial<IdentitySettings>): void;
  /** Application access policy / RBAC scope of an app (null: every mailbox). Takes effect at once (Exchange: up to an hour). */
  setMailboxAccess(clientId: string, addresses: string[] | null): void;
  /** "The user in Outlook": create, update, delete events without going through Graph. */
  mailbox(address: string): GraphMailboxBackDoor;
  /** Every mail Exchange would have sent (invitations, updates, cancellations), from Graph requests and back doors. */
  mailSent(): MailRecord[];
  /** Contract problems seen so far (empty when the document is absent); tests assert it stays empty. */
  contractViolations(): ContractViolationRecord[];
  clearContractViolations(): void;
  exportState(): GraphState;
  exportMailbox(address: string): NeutralMailbox;
  /** Adds a mailbox's items (e.g. exported from the EWS simulator) under new ids; returns how many items were added. */
  importMailbox(address: string, data: NeutralMailbox): number;
  /** Signs a user in for a device code, as the /devicelogin page does. */
  approveDeviceCode(userCode: string, user: string): void;
  /** An access token for an app, made without the token endpoint (for tests of Graph alone). */
  mintAppToken(clientId: string, overrides?: Record<string, unknown>): string;
  /** Drops a mailbox's delta sync states: the next delta request with an old token gets 410 syncStateNotFound. */
  expireSyncStates(address: string): void;
  /** A user synced to Entra ID while it runs (a seed's user entry; `mailbox: false` for one without a mailbox yet). */
  addUser(user: GraphSeedUser): void;
  /** A user's Exchange Online mailbox: none, moving, active, moved-away (README, "Moving mailboxes"). */
  setMailboxState(address: string, state: GraphMailboxState): void;
  mailboxState(address: string): GraphMailboxState;
}

const MAX_BODY = 4 * 1024 * 1024;
const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startGraphSimulator(o: GraphSimulatorOptions): Promise<GraphSimulator> {
  if ((o.seed === undefined) === (o.state === undefined)) throw new GraphSeedError('Start the Graph simulator with either a seed or a state snapshot (exactly one of them).');
  const rt: Runtime = o.state !== undefined ? buildRuntime({ state: o.state }) : buildRuntime({ seed: validateGraphSeed(o.seed) });
  const { directory, store } = rt;
  const ca = createTestCa();
  const tls = ca.issueServerCertificate(['127.0.0.1', 'localhost', '::1']);
  let origin = 'https://127.0.0.1:0';
  const idp = new IdentityPlatform(directory, rt.identity, rt.signingKey, rt.kid, () => origin);
  const endpoints = new IdentityEndpoints(idp, directory, rt.signingKey);
  const faults = new FaultInjector(o.faults ?? {});
  const throttle = new Throttle(rt.limits);
  const contract: GraphContract | null = o.contract === false ? null : graphContractIfPresent();
  const violations: ContractViolationRecord[] = [];
  let skewMs = o.clockSkewMs ?? 0;
  const fresh = (): GraphCounters => ({ total: 0, byRoute: {}, byMailbox: {}, byApp: {}, byStatus: {}, throttled: 0, tokens: {}, invitationsSent: 0, meetingUpdatesSent: 0, cancellationsSent: 0 });
  let counters = fresh();
  let mailMark = store.mail.length;
  const bump = (rec: Record<string, number>, key: string): void => {
    rec[key] = (rec[key] ?? 0) + 1;
  };
  const log = (e: GraphRequestLogEntry): void => {
    bump(counters.byStatus, String(e.status));
    o.onRequest?.(e);
  };
  const deltaSettings = () => ({
    key: rt.deltaKey,
    cacheSize: rt.syncStateCacheSize,
    replayRate: faults.cfg.deltaReplayRate ?? 0,
    duplicateRate: faults.cfg.deltaDuplicateRate ?? 0,
    rng: faults.rng,
  });

  /** One Graph request (top level or inside $batch): route, check, authorize, throttle, run. */
  const execute = async (method: string, url: URL, headers: Record<string, string | string[] | undefined>, bodyText: string | null, caller: Caller, inBatch: boolean, parsedBody?: unknown): Promise<GraphResult & { route: string | null; mailbox: string | null; note: string | null }> => {
    const path = url.pathname.replace(/^\/v1\.0/i, '') || '/';
    let routeName: string | null = null;
    let mailbox: string | null = null;
    let note: string | null = null;
    const m = matchRoute(method, path);
    const op = m instanceof GraphError || !contract || !m.route.contractPath ? undefined : contract.find(method, m.route.contractPath);
    const record = (direction: ContractViolationRecord['direction'], status: number | null, problems: string[]): void => {
      for (const problem of problems) violations.push({ direction, method, path: url.pathname + url.search, status, problem });
    };
    let release: (() => void) | null = null;
    let result: GraphResult;
    try {
      if (m instanceof GraphError) throw m;
      routeName = m.route.name;
      let body: unknown = parsedBody;
      if (body === undefined && bodyText !== null && bodyText.trim() !== '') {
        try {
          body = JSON.parse(bodyText);
        } catch {
          throw new GraphError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
        }
      }
      if (op) {
        record('request', null, contract!.checkQuery(op, url.searchParams));
        if (method === 'POST' || method === 'PATCH') record('request', null, contract!.checkBody(op, body));
      }
      const query = readQuery(url, m.route);
      const ctx: GraphContext = {
        store,
        directory,
        caller,
        method,
        url,
        headers,
        body,
        nowMs: Date.now(),
        delta: deltaSettings(),
        defaultPageSize: rt.defaultPageSize,
        newerProperties: o.newerProperties ?? false,
        differ: { keepSeriesSubject: () => faults.chance(faults.cfg.keepSeriesSubjectRate), misplaceOccurrence: () => faults.chance(faults.cfg.misplaceOccurrenceRate) },
      };
      const target = resolveTarget(ctx, m);
      mailbox = target?.mail ?? null;
      authorize(ctx, m, target);
      counters.total++;
      bump(counters.byRoute, routeName);
      bump(counters.byApp, caller.appId);
      if (mailbox) bump(counters.byMailbox, mailbox);
      const decision = faults.decide(routeName, target ? [target.mail, ...target.aliases] : []);
      if (decision.delayMs > 0) await new Promise((r) => setTimeout(r, decision.delayMs));
      const retry = String(faults.cfg.retryAfterSeconds ?? 1);
      if (decision.kind === 'dropConnection' && !inBatch) throw Object.assign(new Error('drop'), { drop: true });
      if (decision.kind === 'http503' || decision.kind === 'dropConnection') throw new GraphError(503, 'ServiceUnavailable', 'The service is temporarily unavailable. Please retry later.', { 'Retry-After': retry });
      if (decision.kind === 'http504') throw new GraphError(504, 'UnknownError', 'The request timed out at the gateway.');
      if (decision.kind === 'throttle') throw new GraphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'Retry-After': retry });
      if (target && m.route.permission.startsWith('calendar')) {
        const t = throttle.acquire(caller.appId, target.id, Date.now());
        if (!t.ok) {
          counters.throttled++;
          throw new GraphError(429, 'ApplicationThrottled', t.message, { 'Retry-After': String(t.retryAfterSeconds) });
        }
        release = t.release;
        if (rt.latencyMs > 0) await new Promise((r) => setTimeout(r, rt.latencyMs));
      }
      const before = store.mail.length;
      result = runRoute(ctx, m, target, query);
      if (routeName === 'events.create' && result.status === 201 && target && faults.chance(faults.cfg.changeKeyDriftRate)) {
        const cal = store.calendarOf(target);
        const id = String((result.body as { id?: string }).id);
        setTimeout(() => {
          const hit = cal?.resolve(id);
          if (cal && hit && typeof hit !== 'string') cal.touch(hit.event, Date.now());
        }, faults.cfg.changeKeyDriftMs ?? 2000).unref();
      }
      for (const mail of store.mail.slice(before)) {
        if (mail.via !== 'graph') continue;
        if (mail.kind === 'invitation') counters.invitationsSent++;
        else if (mail.kind === 'update') counters.meetingUpdatesSent++;
        else counters.cancellationsSent++;
      }
    } catch (e) {
      if ((e as { drop?: boolean }).drop) throw e;
      if (!(e instanceof GraphError)) throw e;
      note = e.code;
      result = { status: e.status, body: errorBody(e.code, e.message, 'pending', (headers['client-request-id'] as string | undefined) ?? null, Date.now() + skewMs), headers: e.headers };
    } finally {
      release?.();
    }
    if (op) record('response', result.status, contract!.checkResponse(op, result.status, result.body, result.body !== undefined));
    return { ...result, route: routeName, mailbox, note };
  };

  const send = (res: ServerResponse, status: number, body: string, contentType: string | null, extra: Record<string, string>): void => {
    res.statusCode = status;
    res.setHeader('Date', new Date(Date.now() + skewMs).toUTCString());
    res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    if (contentType) res.setHeader('Content-Type', contentType);
    for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', origin);
    const bodyText = await readBody(req);
    const method = (req.method ?? 'GET').toUpperCase();
    if (bodyText === null) {
      send(res, 413, JSON.stringify(errorBody('RequestEntityTooLarge', 'The request is too large.', randomUUID(), null, Date.now() + skewMs)), 'application/json', {});
      return;
    }
    const ident = endpoints.handle({ method, url, headers: req.headers, body: bodyText }, Date.now());
    if (ident) {
      log({ status: ident.status, method, path: url.pathname, route: ident.endpoint, mailbox: null, app: null, note: ident.note ?? null, inBatch: false });
      send(res, ident.status, ident.body, null, { ...ident.headers, 'x-ms-request-id': randomUUID() });
      return;
    }
    const requestId = randomUUID();
    const clientRequestId = (req.headers['client-request-id'] as string | undefined) ?? requestId;
    const graphHeaders = { 'request-id': requestId, 'client-request-id': clientRequestId, 'x-ms-ags-diagnostic': JSON.stringify({ ServerInfo: { DataCenter: 'Simulator', Slice: 'E', Ring: '5', ScaleUnit: '000', RoleInstance: 'SIM' } }), 'OData-Version': '4.0', 'Cache-Control': 'no-cache' };
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}, route: string | null = null, mailbox: string | null = null, note: string | null = null, app: string | null = null): void => {
      const withId = status >= 400 && body && typeof body === 'object' && 'error' in body ? fixRequestId(body as Record<string, unknown>, requestId) : body;
      log({ status, method, path: url.pathname, route, mailbox, app, note, inBatch: false });
      send(res, status, withId === undefined ? '' : JSON.stringify(withId), withId === undefined ? null : JSON_TYPE, { ...graphHeaders, ...extra });
    };
    if (!/^\/v1\.0(\/|$)/i.test(url.pathname)) {
      answer(404, errorBody('BadRequest', `Invalid version: ${url.pathname.split('/')[1] ?? ''}`, requestId, clientRequestId, Date.now() + skewMs));
      return;
    }
    const auth = req.headers.authorization;
    const bearer = auth && /^bearer /i.test(auth) ? auth.slice(7).trim() : null;
    const caller = bearer ? idp.verifyAccessToken(bearer) : 'Access token is empty.';
    if (typeof caller === 'string') {
      answer(401, errorBody('InvalidAuthenticationToken', caller, requestId, clientRequestId, Date.now() + skewMs), { 'WWW-Authenticate': `Bearer realm="", authorization_uri="${origin}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"` }, null, null, 'InvalidAuthenticationToken');
      return;
    }
    try {
      if (/^\/v1\.0\/\$batch\/?$/i.test(url.pathname)) {
        if (method !== 'POST') throw new GraphError(405, 'Request_BadRequest', 'The $batch endpoint only accepts POST.');
        let parsed: unknown;
        try {
          parsed = JSON.parse(bodyText);
        } catch {
          throw new GraphError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
        }
        const result = await runBatch(parsed, async (sub: SubRequest): Promise<SubResponse> => {
          const subUrl = new URL(`/v1.0/${sub.url.replace(/^\/+/, '').replace(/^v1\.0\//i, '')}`, origin);
          const r = await execute(sub.method, subUrl, { ...sub.headers, 'client-request-id': clientRequestId }, null, caller, true, sub.body ?? undefined);
          o.onRequest?.({ status: r.status, method: sub.method, path: subUrl.pathname, route: r.route, mailbox: r.mailbox, app: caller.appId, note: r.note, inBatch: true });
          const headers: Record<string, string> = { ...(r.headers ?? {}) };
          if (r.body !== undefined) headers['Content-Type'] = JSON_TYPE;
          const body = r.status >= 400 && r.body ? fixRequestId(r.body as Record<string, unknown>, requestId) : r.body;
          return { id: sub.id, status: r.status, headers, ...(body !== undefined ? { body } : {}) };
        });
        bump(counters.byRoute, '$batch');
        answer(200, result.body, {}, '$batch', null, null, caller.appId);
        return;
      }
      const r = await execute(method, url, req.headers, bodyText, caller, false);
      answer(r.status, r.body, r.headers ?? {}, r.route, r.mailbox, r.note, caller.appId);
    } catch (e) {
      if ((e as { drop?: boolean }).drop) {
        log({ status: 0, method, path: url.pathname, route: null, mailbox: null, app: caller.appId, note: 'dropConnection', inBatch: false });
        req.socket.destroy();
        return;
      }
      if (!(e instanceof GraphError)) throw e;
      answer(e.status, errorBody(e.code, e.message, requestId, clientRequestId, Date.now() + skewMs), e.headers, null, null, e.code, caller.appId);
    }
  };

  const server = createServer({ cert: tls.certPem, key: tls.keyPem, keepAlive: true }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
      log({ status: 500, method: req.method ?? '', path: req.url ?? '', route: null, mailbox: null, app: null, note: `internal error: ${msg}`, inBatch: false });
      if (!res.headersSent) send(res, 500, JSON.stringify(errorBody('InternalServerError', `Graph simulator error: ${msg.split('\n')[0]}`, randomUUID(), null, Date.now())), 'application/json', {});
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  origin = `https://127.0.0.1:${port}`;
  const host = `127.0.0.1:${port}`;
  const userOf = (address: string) => {
    const u = directory.userByAnyAddress(address);
    if (!u) throw new Error(`No user ${address} in the Graph simulator`);
    return u;
  };

  return {
    url: origin,
    graphUrl: `${origin}/v1.0`,
    tenantId: directory.tenant.id,
    caCertificatePem: ca.certPem,
    msalAuthority: (tenant = directory.tenant.id) => ({
      authority: `${origin}/${tenant}`,
      knownAuthorities: [host],
      cloudDiscoveryMetadata: JSON.stringify(idp.instanceDiscovery()),
      authorityMetadata: JSON.stringify(idp.openIdConfiguration(tenant)),
    }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    counters: () => {
      const c = structuredClone(counters);
      c.tokens = { ...idp.issued };
      return c;
    },
    resetCounters: () => {
      counters = fresh();
      mailMark = store.mail.length;
      for (const k of Object.keys(idp.issued)) delete idp.issued[k];
    },
    setFaults: (f) => faults.set(f),
    faultsInjected: () => ({ ...faults.injected }),
    setClockSkewMs: (ms) => {
      skewMs = ms;
    },
    setThrottleLimits: (l) => {
      throttle.limits = { ...throttle.limits, ...l };
      throttle.reset();
    },
    setTokenLifetimes: (s) => {
      idp.settings = { ...idp.settings, ...s };
    },
    setMailboxAccess: (clientId, addresses) => directory.setMailboxScope(clientId, addresses),
    mailbox: (address) => mailboxBackDoor(store, userOf(address)),
    mailSent: () => store.mail.slice(mailMark).map((m) => ({ ...m })),
    contractViolations: () => violations.map((v) => ({ ...v })),
    clearContractViolations: () => {
      violations.length = 0;
    },
    exportState: () => exportGraphState(rt),
    exportMailbox: (address) => exportMailbox(store, userOf(address)),
    importMailbox: (address, data) => importMailbox(store, userOf(address), data, Date.now()),
    approveDeviceCode: (userCode, user) => {
      idp.approveDeviceCode(userCode, userOf(user));
    },
    mintAppToken: (clientId, overrides) => idp.mintAppToken(clientId, overrides),
    addUser: (user) => void addUser(rt, user),
    setMailboxState: (address, state) => setMailboxState(rt, userOf(address), state),
    mailboxState: (address) => userOf(address).mailboxState,
    expireSyncStates: (address) => {
      const cal = store.calendarOf(userOf(address));
      if (cal) expireSyncStates(cal);
    },
  };
}

function fixRequestId(body: Record<string, unknown>, requestId: string): Record<string, unknown> {
  const err = body.error as { innerError?: Record<string, unknown> } | undefined;
  if (err?.innerError && err.innerError['request-id'] === 'pending') err.innerError['request-id'] = requestId;
  return body;
}

/** For callers that only need the store (benchmarks, state tests). */
export type { CalendarStore, Directory };
