/**
 * EWS simulator: an Exchange Web Services endpoint on 127.0.0.1 that behaves like an on-premises Exchange server
 * behind IIS, for tests, the demo and benchmarks. See README.md for the seed format and what is simulated.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Mailbox, Principal } from './directory.ts';
import type { MailboxBackDoor } from './ews-service.ts';
import { EwsService } from './ews-service.ts';
import { OPERATIONS } from './ews-operations.ts';
import type { RequestContext } from './operation-context.ts';
import type { EwsFaultConfig } from './fault-injection.ts';
import { FaultInjector } from './fault-injection.ts';
import type { AuthMethod } from './http-auth.ts';
import { HttpAuthenticator } from './http-auth.ts';
import type { EwsSeed } from './seed.ts';
import { SeedError, loadEwsSeed, validateEwsSeed } from './seed.ts';
import type { EwsState } from './ews-state.ts';
import { exportEwsState, loadEwsState, restoreEwsService } from './ews-state.ts';
import type { ApiVersion } from './soap-envelope.ts';
import {
  EwsError,
  MESSAGES_NS,
  SOAP_NS,
  TYPES_NS,
  envelope,
  errorMessage,
  isApiVersion,
  operationResponse,
  serverVersionInfo,
  soapFault,
  versionAtLeast,
  xmlEscape,
} from './soap-envelope.ts';
import { readTimeZoneDefinition } from './time-zone-xml.ts';
import { NotificationHub } from './notification-hub.ts';
import type { ConnectionInfo, StreamingRunSettings, SubscriptionInfo } from './notification-hub.ts';
import { NOTIFICATION_OPERATIONS, readGetStreamingEvents } from './notification-operations.ts';
import type { XmlElement } from './xml-parser.ts';
import type { NeutralMailbox } from '../common/neutral-mailbox.ts';
import type { AddMailboxOptions } from './mailbox-moves.ts';
import { addMailbox, exportMailboxCalendar, importMailboxCalendar, moveStateRefusal, setMailboxState } from './mailbox-moves.ts';
import type { EwsMailboxState, EwsSeedMailbox } from './seed.ts';
import { XmlParseError, child, childText, parseXml } from './xml-parser.ts';

export type { EwsSeed, EwsSeedMailbox, EwsMailboxState } from './seed.ts';
export type { AddMailboxOptions } from './mailbox-moves.ts';
export type { EwsState } from './ews-state.ts';
export { EwsStateError } from './ews-state.ts';
export type { EwsFaultConfig, EwsFaultKind } from './fault-injection.ts';
export type { ConnectionInfo, StreamingFaultConfig, StreamingFaultKind, StreamingRunSettings, SubscriptionInfo } from './notification-hub.ts';
export type { SimCalendarItem, SimExtendedProperty, SimRecurrence, SimOccurrenceOverride } from './calendar-model.ts';
export { loadEwsSeed, loadEwsState };

export interface EwsSimulatorOptions {
  /** Parsed seed (see README), or use loadEwsSeed(path). Give either this or `state`. */
  seed?: EwsSeed;
  /** A snapshot from exportState() (or loadEwsState(path)): the simulator carries on exactly where that one stopped. */
  state?: EwsState;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** The server's clock runs this far ahead: the HTTP Date header and the times it stamps (LastModifiedTime, ...). */
  clockSkewMs?: number;
  /** Seeded fault injection, changeable at run time. */
  faults?: EwsFaultConfig;
  /** Called for every request with its outcome (for debugging a client). */
  onRequest?: (entry: EwsRequestLogEntry) => void;
  /** Streaming run settings: a shorter ConnectionTimeout minute and keep-alive interval for tests. */
  streaming?: Partial<StreamingRunSettings>;
}

/** Streaming notifications: what tests look at, and the faults they cause on purpose (notification-hub.ts). */
export interface EwsStreamingControls {
  /** GetStreamingEvents connections open now (account, anchor, backend, subscriptions, cookie sent). */
  connections(): ConnectionInfo[];
  /** Every connection so far, with how it ended ('timeout' = the server closed it at ConnectionTimeout). */
  history(): ConnectionInfo[];
  subscriptions(): SubscriptionInfo[];
  /** The most connections the account (user name, e.g. 'svc-severa-sync') had open at once. */
  peakConnections(account: string): number;
  /** The mailbox's events are lost: its connection gets ErrorMissedNotificationEvents. */
  missEvents(mailbox: string): void;
  /** The mailbox's subscriptions expire: ErrorExpiredSubscription on its connection and when asked for again. */
  expire(mailbox: string): void;
  /** The EWS application restarts: every subscription forgotten (ErrorSubscriptionNotFound), every connection dropped. */
  restart(): void;
  /** The sockets of the connections holding this mailbox (all without one) are destroyed without a word. */
  dropConnections(mailbox?: string): void;
  configure(settings: Partial<StreamingRunSettings>): void;
  /** Streaming faults injected so far, by kind. */
  faultsInjected(): Record<string, number>;
}

export interface EwsRequestLogEntry {
  status: number;
  operation: string | null;
  mailbox: string | null;
  user: string | null;
  /** The ResponseCode of a SOAP fault, the injected fault kind, or why a login failed. */
  note: string | null;
  /** CPU (user + system, µs) spent parsing, processing and writing this request's SOAP, when it got that far. */
  cpuMicros?: number;
}

export interface EwsCounters {
  total: number;
  byOperation: Record<string, number>;
  byMailbox: Record<string, number>;
}

export interface EwsSimulator {
  /** http://127.0.0.1:<port>/EWS/Exchange.asmx */
  url: string;
  close(): Promise<void>;
  counters(): EwsCounters;
  resetCounters(): void;
  setFaults(f: EwsFaultConfig): void;
  setClockSkewMs(ms: number): void;
  /** false: answers carry no HTTP Date header (as the seed's `server.sendDateHeader: false`). */
  setSendDateHeader(send: boolean): void;
  /** Test back doors acting as "the user in Outlook" (they bump ChangeKey and LastModifiedTime like a real edit). */
  mailbox(smtp: string): MailboxBackDoor;
  /** How many faults of each kind were injected so far. */
  faultsInjected(): Record<string, number>;
  /** Everything the simulator holds, as JSON data for `startEwsSimulator({ state })` (see README, "State snapshots"). */
  exportState(): EwsState;
  streaming: EwsStreamingControls;
  /** The highest RequestServerVersion it accepts (the seed's server.version, default Exchange2016). */
  serverVersion: ApiVersion;
  /** A mailbox's calendar as neutral JSON, ids included (README, "Moving mailboxes"). */
  exportMailbox(address: string): NeutralMailbox;
  /** Adds neutral items to a mailbox under new ItemIds (UIDs, times, tags kept; nobody invited); returns how many. */
  importMailbox(address: string, data: NeutralMailbox): number;
  /** A mailbox created (or mail-enabled) while it runs: the target of a move between two Exchange servers. */
  addMailbox(mailbox: EwsSeedMailbox, options?: AddMailboxOptions): void;
  /** Where a mailbox is in a move: active, moving, completing, moved-away (what its requests are answered). */
  setMailboxState(address: string, state: EwsMailboxState): void;
  mailboxState(address: string): EwsMailboxState;
}

const EWS_PATH = '/ews/exchange.asmx';
const DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024;

const IIS_401 =
  '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\r\n' +
  '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>401 - Unauthorized: Access is denied due to invalid credentials.</title></head>' +
  '<body><div id="header"><h1>Server Error</h1></div><div id="content"><fieldset><h2>401 - Unauthorized: Access is denied due to invalid credentials.</h2>' +
  '<h3>You do not have permission to view this directory or page using the credentials that you supplied.</h3></fieldset></div></body></html>';
const IIS_503 =
  '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n' +
  '<HTML><HEAD><TITLE>Service Unavailable</TITLE><META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n' +
  '<BODY><h2>Service Unavailable</h2>\r\n<hr><p>HTTP Error 503. The service is unavailable.</p>\r\n</BODY></HTML>\r\n';
const IIS_500 =
  '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\r\n' +
  '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>500 - Internal server error.</title></head>' +
  '<body><div id="header"><h1>Server Error</h1></div><div id="content"><fieldset><h2>500 - Internal server error.</h2>' +
  '<h3>There is a problem with the resource you are looking for, and it cannot be displayed.</h3></fieldset></div></body></html>';
const IIS_405 =
  '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\r\n' +
  '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>405 - HTTP verb used to access this page is not allowed.</title></head>' +
  '<body><div id="header"><h1>Server Error</h1></div><div id="content"><fieldset><h2>405 - HTTP verb used to access this page is not allowed.</h2>' +
  '<h3>The page you are looking for cannot be displayed because an invalid method (HTTP verb) was used to attempt access.</h3></fieldset></div></body></html>';
const IIS_404 = '<!DOCTYPE html><html><head><title>404 - File or directory not found.</title></head><body><h2>404 - File or directory not found.</h2></body></html>';
const IIS_413 = '<!DOCTYPE html><html><head><title>413 - Request Entity Too Large</title></head><body><h2>HTTP Error 413. The request entity is too large.</h2></body></html>';

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > max) {
      reject(new BodyTooLarge());
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => (tooBig ? reject(new BodyTooLarge()) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

export async function startEwsSimulator(o: EwsSimulatorOptions): Promise<EwsSimulator> {
  if ((o.seed === undefined) === (o.state === undefined)) throw new SeedError('Start the EWS simulator with either a seed or a state snapshot (exactly one of them).');
  const service = o.state !== undefined ? restoreEwsService(o.state) : new EwsService(validateEwsSeed(o.seed));
  return startEwsServer(service, o);
}

/**
 * Serves an already built store. For the benchmark, which fills a million items straight into the store rather
 * than through a seed file; everything else uses startEwsSimulator.
 */
export async function startEwsServer(service: EwsService, o: Omit<EwsSimulatorOptions, 'seed' | 'state'>): Promise<EwsSimulator> {
  const serverVersion = service.serverVersion;
  const dir = service.directory;
  const methods: AuthMethod[] = (service.server.authMethods as AuthMethod[] | undefined) ?? ['Negotiate', 'NTLM'];
  const computer = service.server.computerName ?? 'EXCH01';
  const auth = new HttpAuthenticator(dir, methods, { netbiosDomain: dir.netbiosDomain, dnsDomain: dir.dnsDomain, netbiosComputer: computer });
  const faults = new FaultInjector(o.faults ?? {});
  const maxBytes = service.server.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  let skewMs = o.clockSkewMs ?? 0;
  service.clockSkewMs = skewMs;
  let sendDateHeader = service.server.sendDateHeader !== false;
  const refuseGet = service.server.refuseGet === true;
  let counters: EwsCounters = { total: 0, byOperation: {}, byMailbox: {} };
  const notifications = new NotificationHub(
    dir,
    {
      hangingConnectionLimit: service.server.hangingConnectionLimit ?? (serverVersion === 'Exchange2016' ? 10 : 3),
      mailboxServers: service.server.mailboxServers ?? 1,
      maxSubscriptions: service.server.maxSubscriptions ?? 5000,
    },
    { minuteMs: 60_000, keepAliveMs: 30_000, ...Object.fromEntries(Object.entries(o.streaming ?? {}).filter(([, v]) => v !== undefined)) },
  );
  notifications.setFaults(o.faults?.streaming);

  // CPU of the synchronous part of a request (everything after the body arrived), for the benchmark.
  let cpuStart: NodeJS.CpuUsage | null = null;
  const log = (status: number, operation: string | null, mailbox: Mailbox | undefined, principal: Principal | null, note: string | null): void => {
    if (!o.onRequest) return;
    const entry: EwsRequestLogEntry = { status, operation, mailbox: mailbox?.primary ?? null, user: principal?.username ?? null, note };
    if (cpuStart) {
      const d = process.cpuUsage(cpuStart);
      entry.cpuMicros = d.user + d.system;
    }
    o.onRequest(entry);
  };

  const writeHead = (res: ServerResponse, status: number, contentType: string, extra: Record<string, string | string[]>): void => {
    res.statusCode = status;
    // Node adds a Date header by itself unless told not to.
    res.sendDate = false;
    if (sendDateHeader) res.setHeader('Date', new Date(Date.now() + skewMs).toUTCString());
    res.setHeader('Server', 'Microsoft-IIS/10.0');
    res.setHeader('X-Powered-By', 'ASP.NET');
    res.setHeader('request-id', randomUUID());
    res.setHeader('X-FEServer', computer);
    res.setHeader('Content-Type', contentType);
    for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
  };
  const send = (res: ServerResponse, status: number, body: string, contentType = 'text/xml; charset=utf-8', extra: Record<string, string | string[]> = {}): void => {
    writeHead(res, status, contentType, extra);
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0].toLowerCase();
    if (path !== EWS_PATH) {
      req.resume();
      send(res, 404, IIS_404, 'text/html');
      return;
    }
    if (refuseGet && req.method !== 'POST') {
      // The handler is mapped to POST only: IIS refuses other verbs before any authentication.
      req.resume();
      log(405, null, undefined, null, `method ${req.method ?? ''} not allowed`);
      send(res, 405, IIS_405, 'text/html', { Allow: 'POST' });
      return;
    }
    let bodyText: string;
    cpuStart = null;
    try {
      bodyText = await readBody(req, maxBytes);
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        log(413, null, undefined, null, 'request body too large');
        // IIS closes the connection after refusing an oversize body.
        send(res, 413, IIS_413, 'text/html', { Connection: 'close' });
        return;
      }
      throw e;
    }
    cpuStart = o.onRequest ? process.cpuUsage() : null;
    const authResult = auth.authenticate(req);
    if (!authResult.ok) {
      log(401, null, undefined, null, authResult.reason);
      send(res, 401, IIS_401, 'text/html', { 'WWW-Authenticate': authResult.challenge });
      return;
    }
    const principal = authResult.principal;
    if (req.method !== 'POST') {
      send(res, 200, '<html><body>You have created a service.</body></html>', 'text/html');
      return;
    }

    let version: ApiVersion = 'Exchange2007_SP1';
    const fault = (status: number, e: EwsError, op: string | null, mb?: Mailbox): void => {
      const delivery = faults.faultDelivery(status);
      log(delivery.status, op, mb, principal, e.code);
      send(res, delivery.status, soapFault(e.code, e.message, e.messageXml, serverVersionInfo(serverVersion, version), delivery.shape));
    };

    let doc: XmlElement;
    try {
      doc = parseXml(bodyText);
    } catch (e) {
      if (e instanceof XmlParseError) {
        fault(
          500,
          new EwsError('ErrorSchemaValidation', `The request failed schema validation: ${e.message}`, {
            messageXml: `<t:LineNumber>${e.line}</t:LineNumber><t:LinePosition>${e.column}</t:LinePosition><t:Violation>${xmlEscape(e.message)}</t:Violation>`,
          }),
          null,
        );
        return;
      }
      throw e;
    }
    if (doc.ns !== SOAP_NS || doc.name !== 'Envelope') {
      fault(500, new EwsError('ErrorInvalidRequest', 'The request is not a SOAP 1.1 envelope.'), null);
      return;
    }
    const header = child(doc, SOAP_NS, 'Header');
    const body = child(doc, SOAP_NS, 'Body');
    const request = body?.children.find((c) => c.ns === MESSAGES_NS);
    if (!body || !request) {
      fault(500, new EwsError('ErrorInvalidRequest', 'The SOAP body holds no EWS request.'), null);
      return;
    }
    const operation = request.name;

    // RequestServerVersion: an unknown value, or one above this server's, is refused.
    const rsv = child(header, TYPES_NS, 'RequestServerVersion');
    if (rsv) {
      const v = rsv.attrs.Version ?? '';
      if (!isApiVersion(v) || !versionAtLeast(serverVersion, v)) {
        fault(500, new EwsError('ErrorInvalidServerVersion'), operation);
        return;
      }
      version = v;
    }

    // Impersonation.
    let mailbox: Mailbox | undefined = principal.mailbox;
    const imp = child(header, TYPES_NS, 'ExchangeImpersonation');
    if (imp) {
      const sid = child(imp, TYPES_NS, 'ConnectingSID');
      const smtp = childText(sid, TYPES_NS, 'SmtpAddress');
      const primary = childText(sid, TYPES_NS, 'PrimarySmtpAddress');
      const upn = childText(sid, TYPES_NS, 'PrincipalName');
      let target: Mailbox | undefined;
      if (smtp !== undefined) target = dir.mailboxByAddress(smtp);
      else if (primary !== undefined) target = dir.mailboxByPrimary(primary);
      else if (upn !== undefined) target = dir.mailboxByUpn(upn);
      else {
        fault(500, new EwsError('ErrorImpersonationFailed', 'Impersonation by SID is not supported by the simulator; use SmtpAddress, PrimarySmtpAddress or PrincipalName.'), operation);
        return;
      }
      if (!target) {
        fault(500, new EwsError('ErrorNonExistentMailbox', `The SMTP address has no mailbox associated with it.`), operation);
        return;
      }
      if (!dir.canImpersonate(principal, target)) {
        fault(500, new EwsError('ErrorImpersonateUserDenied'), operation, target);
        return;
      }
      mailbox = target;
    }

    let timeZoneContext: string | undefined;
    const tzc = child(child(header, TYPES_NS, 'TimeZoneContext'), TYPES_NS, 'TimeZoneDefinition');
    if (tzc) {
      try {
        timeZoneContext = readTimeZoneDefinition(tzc);
      } catch (e) {
        if (e instanceof EwsError) {
          fault(500, new EwsError(e.code, e.message), operation);
          return;
        }
        throw e;
      }
    }

    counters.total++;
    counters.byOperation[operation] = (counters.byOperation[operation] ?? 0) + 1;
    if (mailbox) counters.byMailbox[mailbox.primary] = (counters.byMailbox[mailbox.primary] ?? 0) + 1;

    const decision = faults.decide(operation, mailbox ? [mailbox.primary, ...mailbox.aliases] : []);
    if (decision.delayMs > 0) {
      cpuStart = null;
      await new Promise((r) => setTimeout(r, decision.delayMs));
    }
    switch (decision.kind) {
      case 'dropConnection':
        log(0, operation, mailbox, principal, 'dropConnection');
        req.socket.destroy();
        return;
      case 'http503':
        log(503, operation, mailbox, principal, 'http503');
        send(res, 503, IIS_503, 'text/html; charset=us-ascii', { 'Retry-After': '5' });
        return;
      case 'nonSoap500':
        log(500, operation, mailbox, principal, 'nonSoap500');
        const custom = faults.nonSoap500Body;
        send(res, 500, custom ?? IIS_500, custom === undefined ? 'text/html' : contentTypeOf(custom));
        return;
      case 'serverBusy':
        fault(500, new EwsError('ErrorServerBusy', undefined, { messageXml: `<t:Value Name="BackOffMilliseconds">${faults.backOffMs}</t:Value>` }), operation, mailbox);
        return;
      case 'mailboxMove': {
        log(200, operation, mailbox, principal, 'mailboxMove');
        const n = Math.max(1, countRequestItems(request));
        const messages = Array.from({ length: n }, () => errorMessage(operation, 'ErrorMailboxMoveInProgress'));
        send(res, 200, envelope(serverVersionInfo(serverVersion, version), operationResponse(operation, messages)));
        return;
      }
      default:
        break;
    }

    // A mailbox being moved, or gone to another server, answers every mailbox operation with the move's error.
    const refusal = moveStateRefusal(mailbox, operation);
    if (refusal) {
      log(200, operation, mailbox, principal, refusal.code);
      const messages = Array.from({ length: Math.max(1, countRequestItems(request)) }, () => errorMessage(operation, refusal.code, refusal.message));
      send(res, 200, envelope(serverVersionInfo(serverVersion, version), operationResponse(operation, messages)));
      return;
    }

    const responseHeaders: Record<string, string> = {};
    const ctx: RequestContext = {
      service,
      version,
      principal,
      mailbox,
      timeZoneContext,
      nowMs: service.nowMs(),
      requestHeaders: req.headers,
      responseHeaders,
      notifications,
      differs: (kind) => faults.differs(kind),
    };
    if (operation === 'GetStreamingEvents') {
      // A hanging request: the answer stays open (chunked), one envelope per notification batch or keep-alive.
      let plan;
      try {
        plan = readGetStreamingEvents(request, ctx);
      } catch (e) {
        if (e instanceof EwsError) {
          fault(500, e, operation, mailbox);
          return;
        }
        throw e;
      }
      const wrap = (message: string): string => envelope(serverVersionInfo(serverVersion, version), operationResponse('GetStreamingEvents', [message]));
      const anchor = req.headers['x-anchormailbox'];
      const outcome = notifications.openStream(
        { principal, ids: plan.ids, timeoutMinutes: plan.timeoutMinutes, routing: plan.routing, anchorMailbox: (Array.isArray(anchor) ? anchor[0] : anchor)?.trim().toLowerCase() || null, impersonating: imp ? mailbox : undefined },
        wrap,
        () => {
          writeHead(res, 200, 'text/xml; charset=utf-8', responseHeaders);
          res.flushHeaders();
          return { write: (xml) => void res.write(xml), end: () => res.end(), destroy: () => req.socket.destroy() };
        },
      );
      if ('refused' in outcome) {
        log(200, operation, mailbox, principal, outcome.code);
        send(res, 200, outcome.refused, undefined, responseHeaders);
        return;
      }
      log(200, operation, mailbox, principal, null);
      res.on('close', () => notifications.clientGone(outcome.connectionId));
      return;
    }
    const handler = OPERATIONS[operation] ?? NOTIFICATION_OPERATIONS[operation];
    if (!handler) {
      fault(500, new EwsError('ErrorInvalidRequest', `The operation ${operation} is not supported by the EWS simulator.`), operation, mailbox);
      return;
    }
    let responseBody: string;
    try {
      responseBody = handler(request, ctx);
    } catch (e) {
      if (e instanceof EwsError) {
        // A request-level problem: schema violations are faults; anything else an item-level code for every item.
        if (e.fault || e.code === 'ErrorSchemaValidation') {
          fault(500, e, operation, mailbox);
          return;
        }
        const n = Math.max(1, countRequestItems(request));
        log(200, operation, mailbox, principal, e.code);
        const messages = Array.from({ length: n }, () => errorMessage(operation, e.code, e.message));
        send(res, 200, envelope(serverVersionInfo(serverVersion, version), operationResponse(operation, messages)), undefined, responseHeaders);
        return;
      }
      throw e;
    }
    const xml = envelope(serverVersionInfo(serverVersion, version), responseBody);
    log(200, operation, mailbox, principal, null);
    send(res, 200, xml, undefined, responseHeaders);
  };

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      // A simulator bug must show as a SOAP-less 500 with the reason, never take the test process down.
      const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
      log(500, null, undefined, null, `internal error: ${msg}`);
      if (!res.headersSent) send(res, 500, soapFault('ErrorInternalServerError', `EWS simulator error: ${msg.split('\n')[0]}`));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/EWS/Exchange.asmx`,
    close: () =>
      new Promise<void>((resolve) => {
        notifications.shutdown();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    counters: () => structuredClone(counters),
    resetCounters: () => {
      counters = { total: 0, byOperation: {}, byMailbox: {} };
    },
    setFaults: (f) => {
      faults.set(f);
      notifications.setFaults(f.streaming);
    },
    setClockSkewMs: (ms) => {
      skewMs = ms;
      service.clockSkewMs = ms;
    },
    setSendDateHeader: (on) => {
      sendDateHeader = on;
    },
    mailbox: (smtp) => service.backDoor(smtp),
    // Writes a "server that differs" kept differently are listed too, once there are any.
    faultsInjected: () => ({ ...faults.injected, ...Object.fromEntries(Object.entries(faults.differed).filter(([, n]) => n > 0)) }),
    exportState: () => exportEwsState(service),
    serverVersion,
    exportMailbox: (address) => exportMailboxCalendar(service, address),
    importMailbox: (address, data) => importMailboxCalendar(service, address, data),
    addMailbox: (mailbox, options) => void addMailbox(service, notifications, mailbox, options),
    setMailboxState: (address, state) => setMailboxState(service, address, state),
    mailboxState: (address) => {
      const mb = dir.mailboxByAddress(address);
      if (!mb) throw new Error(`No mailbox has the address ${address}`);
      return mb.state;
    },
    streaming: {
      connections: () => notifications.openConnections(),
      history: () => notifications.history(),
      subscriptions: () => notifications.subscriptions(),
      peakConnections: (account) => notifications.peakConnections(account),
      missEvents: (m) => notifications.missEvents(m),
      expire: (m) => notifications.expire(m),
      restart: () => notifications.restart(),
      dropConnections: (m) => notifications.dropConnections(m),
      configure: (s) => notifications.configure(s),
      faultsInjected: () => ({ ...notifications.injected }),
    },
  };
}

/** What a custom fault body looks like to a client: an HTML page, some XML, or plain text. */
function contentTypeOf(body: string): string {
  const b = body.trimStart();
  if (/^<(!doctype html|html)/i.test(b)) return 'text/html';
  if (b.startsWith('<')) return 'text/xml; charset=utf-8';
  return 'text/plain';
}

/** How many response messages the request expects (one per id/item/folder), for request-wide errors. */
function countRequestItems(request: XmlElement): number {
  const containers = ['ItemIds', 'Items', 'ItemChanges', 'ParentFolderIds', 'FolderIds', 'SourceIds'];
  for (const c of request.children) {
    if (c.ns === MESSAGES_NS && containers.includes(c.name)) return c.children.filter((x) => x.ns === TYPES_NS).length;
  }
  return 1;
}

