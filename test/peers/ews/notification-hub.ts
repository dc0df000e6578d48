/**
 * Streaming notifications as Exchange 2010 SP1 and later serve them: subscriptions held on a mailbox server
 * (backend), the affinity that routes a client's requests to that backend (X-AnchorMailbox, X-PreferServerAffinity,
 * the X-BackEndOverrideCookie), hanging GetStreamingEvents connections counted against the account's
 * HangingConnectionLimit, keep-alives, the connection timeout, and the ways it goes wrong (missed events, expired
 * subscriptions, subscriptions lost in a restart, dropped connections). Changes come from the mailbox calendars,
 * so an edit through EWS or through the back door ("the user in Outlook") both notify. See README.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Directory, Mailbox, Principal } from './directory.ts';
import { prng } from './fault-injection.ts';
import type { FolderKind } from './item-ids.ts';
import { encodeFolderId } from './item-ids.ts';
import type { CalendarFolderChange } from './mailbox-calendar.ts';
import { attrEscape, errorMessage, ewsDateTime, xmlEscape } from './soap-envelope.ts';

export const EVENT_TYPES = ['CopiedEvent', 'CreatedEvent', 'DeletedEvent', 'ModifiedEvent', 'MovedEvent', 'NewMailEvent', 'FreeBusyChangedEvent'] as const;
/** Subscription ids per GetStreamingEvents request, as Exchange allows. */
export const MAX_IDS_PER_CONNECTION = 200;
/** Events per Notification, as Exchange sends them ("the first 50 events from the queue"). */
const EVENTS_PER_NOTIFICATION = 50;
/** A subscription's queue beyond this overflows: the client is told it missed events. */
const MAX_QUEUED_EVENTS = 1000;

export type StreamingFaultKind = 'missedEvents' | 'expiredSubscription' | 'subscriptionNotFound' | 'dropConnection';

/** Seeded streaming faults, drawn once per notification batch about to be sent (see README, Faults). */
export interface StreamingFaultConfig {
  seed?: number;
  /** The batch is lost: ErrorMissedNotificationEvents for that subscription instead (the subscription stays). */
  missedEventsRate?: number;
  /** The subscription expires: ErrorExpiredSubscription instead, and it is gone. */
  expiredSubscriptionRate?: number;
  /** The server restarts: every subscription is forgotten (ErrorSubscriptionNotFound later), every connection drops. */
  subscriptionNotFoundRate?: number;
  /** The connection's socket is destroyed instead of the batch being written. */
  dropConnectionRate?: number;
  /** The next `count` batches get `kind`, before any random fault. */
  forceNext?: { kind: StreamingFaultKind; count: number };
}

/** Run settings: not part of the seed or of a state snapshot. */
export interface StreamingRunSettings {
  /** How long one minute of ConnectionTimeout lasts (default 60000; tests shorten it). */
  minuteMs: number;
  /** Interval of the `ConnectionStatus OK` keep-alive (default 30000). */
  keepAliveMs: number;
}

export interface StreamingServerSettings {
  /** Open GetStreamingEvents connections per account (Exchange's HangingConnectionLimit). */
  hangingConnectionLimit: number;
  /** Mailbox servers behind the front end; subscriptions live on one of them (affinity). */
  mailboxServers: number;
  /** Non-expired subscriptions per account (EWSMaxSubscriptions). */
  maxSubscriptions: number;
}

interface NotificationEvent {
  xml: string;
}

interface Subscription {
  id: string;
  mailbox: Mailbox;
  owner: string;
  backend: number;
  folders: Set<FolderKind> | 'all';
  eventTypes: Set<string>;
  queue: NotificationEvent[];
  connection: StreamConnection | null;
  /** Events were lost (fault or overflow): the next delivery is ErrorMissedNotificationEvents. */
  missed: boolean;
  createdAtMs: number;
}

export type ConnectionEnd = 'timeout' | 'client' | 'dropped' | 'emptied' | 'expired' | 'shutdown';

interface StreamConnection {
  id: number;
  account: string;
  anchorMailbox: string | null;
  impersonating: string | null;
  backend: number;
  cookieSent: boolean;
  timeoutMinutes: number;
  subscriptions: Set<Subscription>;
  allIds: string[];
  mailboxes: string[];
  openedAtMs: number;
  endedAtMs: number | null;
  endedBy: ConnectionEnd | null;
  wrap: (message: string) => string;
  sink: StreamSink;
  timers: NodeJS.Timeout[];
  flushScheduled: boolean;
}

/** Where a connection writes: the HTTP response, kept open. */
export interface StreamSink {
  write(xml: string): void;
  end(): void;
  /** The socket is destroyed without a word (a dropped connection). */
  destroy(): void;
}

export interface ConnectionInfo {
  id: number;
  account: string;
  anchorMailbox: string | null;
  impersonating: string | null;
  backend: string;
  /** The request carried a valid X-BackEndOverrideCookie (with X-PreferServerAffinity: true). */
  cookieSent: boolean;
  timeoutMinutes: number;
  subscriptionIds: string[];
  mailboxes: string[];
  openedAt: string;
  endedAt: string | null;
  endedBy: ConnectionEnd | null;
}

export interface SubscriptionInfo {
  id: string;
  mailbox: string;
  owner: string;
  backend: string;
  connectionId: number | null;
}

/** How a request was routed: to which mailbox server, and the affinity cookie to hand back if one was asked for. */
export interface Routing {
  backend: number;
  cookieSent: boolean;
  setCookie: string | null;
}

export function validateStreamingFaults(f: StreamingFaultConfig): void {
  for (const key of ['missedEventsRate', 'expiredSubscriptionRate', 'subscriptionNotFoundRate', 'dropConnectionRate'] as const) {
    const v = f[key];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1))) throw new RangeError(`Fault streaming.${key} must be a number from 0 to 1, got ${String(v)}`);
  }
  if (f.forceNext) {
    if (!['missedEvents', 'expiredSubscription', 'subscriptionNotFound', 'dropConnection'].includes(f.forceNext.kind)) throw new RangeError(`Unknown streaming fault kind '${String(f.forceNext.kind)}'`);
    if (!Number.isInteger(f.forceNext.count) || f.forceNext.count < 0) throw new RangeError('streaming.forceNext.count must be a non-negative integer');
  }
}

function headerText(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return (Array.isArray(v) ? v[0] : v ?? '').trim();
}

export class NotificationHub {
  private readonly directory: Directory;
  private readonly server: StreamingServerSettings;
  private readonly dnsDomain: string;
  private run: StreamingRunSettings;
  private readonly subs = new Map<string, Subscription>();
  /** Ids of subscriptions that expired: GetStreamingEvents names them ErrorExpiredSubscription, not "not found". */
  private readonly expiredIds = new Set<string>();
  private readonly connections: StreamConnection[] = [];
  private readonly peakByAccount = new Map<string, number>();
  private nextConnectionId = 1;
  private faults: StreamingFaultConfig = {};
  private rng: () => number = prng(1);
  private forcedLeft = 0;
  readonly injected: Record<StreamingFaultKind, number> = { missedEvents: 0, expiredSubscription: 0, subscriptionNotFound: 0, dropConnection: 0 };

  constructor(directory: Directory, server: StreamingServerSettings, run: StreamingRunSettings) {
    this.directory = directory;
    this.server = server;
    this.run = { ...run };
    this.dnsDomain = directory.dnsDomain;
    for (const mb of directory.mailboxes) this.watchMailbox(mb);
  }

  configure(run: Partial<StreamingRunSettings>): void {
    for (const [k, v] of Object.entries(run)) {
      if (v !== undefined && (typeof v !== 'number' || !(v > 0))) throw new RangeError(`streaming.${k} must be a positive number of ms`);
    }
    this.run = { ...this.run, ...Object.fromEntries(Object.entries(run).filter(([, v]) => v !== undefined)) };
  }

  setFaults(f: StreamingFaultConfig | undefined): void {
    validateStreamingFaults(f ?? {});
    this.faults = { ...(f ?? {}) };
    this.rng = prng(f?.seed ?? 1);
    this.forcedLeft = f?.forceNext?.count ?? 0;
  }

  // ---- routing (affinity) ----

  backendName(i: number): string {
    return `MBX${String(i + 1).padStart(2, '0')}.${this.dnsDomain}`;
  }

  private backendOf(mb: Mailbox): number {
    return this.directory.mailboxes.indexOf(mb) % this.server.mailboxServers;
  }

  private cookieFor(backend: number): string {
    const tag = createHash('sha256').update(`${this.backendName(backend)}#affinity`).digest().readUInt32BE(0);
    return `${this.backendName(backend).toLowerCase()}~${tag}`;
  }

  /** The X-BackEndOverrideCookie a request carries, as a header (exchangelib) or as a cookie (the EWS Managed API). */
  private cookieOf(headers: IncomingHttpHeaders): string | null {
    const direct = headerText(headers, 'x-backendoverridecookie');
    if (direct) return direct;
    const cookies = headerText(headers, 'cookie');
    const m = /(?:^|;\s*)X-BackEndOverrideCookie=([^;]+)/i.exec(cookies);
    return m ? m[1].trim() : null;
  }

  /**
   * The front end's routing: a valid X-BackEndOverrideCookie together with X-PreferServerAffinity: true goes to that
   * mailbox server; otherwise X-AnchorMailbox, else the mailbox acted on. With X-PreferServerAffinity: true and no
   * valid cookie the answer carries a new cookie for the server it went to.
   */
  route(headers: IncomingHttpHeaders, acting: Mailbox | undefined): Routing {
    const prefer = /^true$/i.test(headerText(headers, 'x-preferserveraffinity'));
    const cookie = this.cookieOf(headers);
    if (prefer && cookie) {
      for (let i = 0; i < this.server.mailboxServers; i++) if (this.cookieFor(i) === cookie) return { backend: i, cookieSent: true, setCookie: null };
    }
    const anchor = this.directory.mailboxByAddress(headerText(headers, 'x-anchormailbox'));
    const target = anchor ?? acting;
    const backend = target ? this.backendOf(target) : 0;
    return { backend, cookieSent: false, setCookie: prefer ? `X-BackEndOverrideCookie=${this.cookieFor(backend)}; path=/; HttpOnly` : null };
  }

  // ---- subscriptions ----

  /** Creates a streaming subscription on the routed mailbox server; throws the EWS code when refused. */
  subscribe(principal: Principal, mailbox: Mailbox, folders: Set<FolderKind> | 'all', eventTypes: Set<string>, routing: Routing): { id: string } | { error: string } {
    const owner = principal.username.toLowerCase();
    let owned = 0;
    for (const s of this.subs.values()) if (s.owner === owner) owned++;
    if (owned >= this.server.maxSubscriptions) return { error: 'ErrorExceededSubscriptionCount' };
    // Like Exchange's ids: opaque base64 naming the server that holds it.
    const id = Buffer.concat([Buffer.from([0x26, 0x00]), Buffer.from(this.backendName(routing.backend), 'latin1'), randomBytes(16)]).toString('base64');
    this.subs.set(id, { id, mailbox, owner, backend: routing.backend, folders, eventTypes, queue: [], connection: null, missed: false, createdAtMs: Date.now() });
    return { id };
  }

  /** Removes a subscription; an error code when it cannot be found from here or belongs to another account. */
  unsubscribe(principal: Principal, id: string, routing: Routing): string | null {
    const s = this.subs.get(id);
    if (!s || s.backend !== routing.backend) return this.expiredIds.delete(id) ? null : 'ErrorSubscriptionNotFound';
    if (s.owner !== principal.username.toLowerCase()) return 'ErrorSubscriptionAccessDenied';
    this.subs.delete(id);
    this.detach(s);
    return null;
  }

  private detach(s: Subscription): void {
    const c = s.connection;
    s.connection = null;
    if (!c || c.endedBy) return;
    c.subscriptions.delete(s);
    if (c.subscriptions.size === 0) this.finish(c, 'emptied', this.message({ status: 'Closed' }));
  }

  /** Notifies subscribers of this mailbox's changes (every mailbox of the directory; one added at run time too). */
  watchMailbox(mb: Mailbox): void {
    mb.calendar.onChange = (change) => this.calendarChanged(mb, change);
  }

  private calendarChanged(mb: Mailbox, change: CalendarFolderChange): void {
    const ts = `<t:TimeStamp>${ewsDateTime(change.atMs)}</t:TimeStamp>`;
    const folderId = (kind: FolderKind): string => `Id="${attrEscape(encodeFolderId(mb.guid, kind))}" ChangeKey="AQAAAA=="`;
    const itemId = `<t:ItemId Id="${attrEscape(change.itemId)}" ChangeKey="${attrEscape(change.changeKey)}"/>`;
    const events: Array<{ type: string; folders: FolderKind[]; xml: string }> = [];
    const type = change.kind === 'Created' ? 'CreatedEvent' : change.kind === 'Modified' ? 'ModifiedEvent' : change.kind === 'Moved' ? 'MovedEvent' : 'DeletedEvent';
    let body = `${ts}${itemId}<t:ParentFolderId ${folderId(change.folder)}/>`;
    if (change.kind === 'Moved') body += `<t:OldItemId Id="${attrEscape(change.oldItemId ?? '')}"/><t:OldParentFolderId ${folderId(change.oldFolder ?? 'calendar')}/>`;
    events.push({ type, folders: change.kind === 'Moved' ? ['calendar', 'deleteditems'] : [change.folder], xml: `<t:${type}>${body}</t:${type}>` });
    if (change.kind !== 'Modified') {
      // The folder's item count changed: Exchange also reports the folder itself as modified.
      events.push({ type: 'ModifiedEvent', folders: ['calendar'], xml: `<t:ModifiedEvent>${ts}<t:FolderId ${folderId('calendar')}/><t:ParentFolderId ${folderId('msgfolderroot')}/></t:ModifiedEvent>` });
    }
    for (const s of this.subs.values()) {
      if (s.mailbox !== mb) continue;
      for (const e of events) {
        if (!s.eventTypes.has(e.type)) continue;
        if (s.folders !== 'all' && !e.folders.some((f) => (s.folders as Set<FolderKind>).has(f))) continue;
        if (s.queue.length >= MAX_QUEUED_EVENTS) {
          s.missed = true;
          s.queue = [];
          continue;
        }
        s.queue.push({ xml: e.xml });
      }
      if (s.connection) this.scheduleFlush(s.connection);
    }
  }

  // ---- connections ----

  private message(o: { status: 'OK' | 'Closed'; notifications?: string; code?: string; text?: string; errorIds?: string[] }): string {
    const tail =
      (o.errorIds && o.errorIds.length ? `<m:ErrorSubscriptionIds>${o.errorIds.map((id) => `<m:SubscriptionId>${xmlEscape(id)}</m:SubscriptionId>`).join('')}</m:ErrorSubscriptionIds>` : '') +
      `<m:ConnectionStatus>${o.status}</m:ConnectionStatus>`;
    if (o.code) return errorMessage('GetStreamingEvents', o.code, o.text, tail);
    return (
      `<m:GetStreamingEventsResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>` +
      (o.notifications ? `<m:Notifications>${o.notifications}</m:Notifications>` : '') +
      `${tail}</m:GetStreamingEventsResponseMessage>`
    );
  }

  /**
   * A GetStreamingEvents request. Refused outright (one answer, ConnectionStatus Closed) when the account is at its
   * HangingConnectionLimit or any id is unknown on this mailbox server, expired, or another account's; otherwise
   * `open` is called and the answer stays open: queued events first, keep-alives, the Closed message at the timeout.
   * `wrap` turns response messages into a complete envelope.
   */
  openStream(
    o: { principal: Principal; ids: string[]; timeoutMinutes: number; routing: Routing; anchorMailbox: string | null; impersonating: Mailbox | undefined },
    wrap: (message: string) => string,
    open: () => StreamSink,
  ): { refused: string; code: string } | { connectionId: number } {
    const account = o.principal.username.toLowerCase();
    const openNow = this.connections.filter((c) => !c.endedBy && c.account === account).length;
    if (openNow >= this.server.hangingConnectionLimit) {
      const code = 'ErrorExceededConnectionCount';
      return { code, refused: wrap(this.message({ status: 'Closed', code, text: 'You have exceeded the available concurrent connections for your account.  Try again once your other requests have completed.' })) };
    }
    const notFound: string[] = [];
    const expired: string[] = [];
    const denied: string[] = [];
    const found: Subscription[] = [];
    for (const id of o.ids) {
      const s = this.subs.get(id);
      if (this.expiredIds.has(id)) expired.push(id);
      else if (!s || s.backend !== o.routing.backend) notFound.push(id);
      else if (s.owner !== account) denied.push(id);
      else found.push(s);
    }
    // As Exchange does: one bad id and the whole request is refused (no notifications for the good ones).
    const bad: Array<[string, string[], string]> = [
      ['ErrorSubscriptionNotFound', notFound, 'The subscription could not be found. It might have expired, or the server might have been restarted.'],
      ['ErrorExpiredSubscription', expired, 'The subscription has expired.'],
      ['ErrorSubscriptionAccessDenied', denied, 'A subscription can only be used by the account that created it.'],
    ];
    const refusals = bad.filter(([, ids]) => ids.length > 0);
    if (refusals.length > 0) {
      const messages = refusals.map(([code, ids, text]) => this.message({ status: 'Closed', code, text, errorIds: ids }));
      return { code: refusals[0][0], refused: wrap(messages.join('')) };
    }
    const sink = open();
    const c: StreamConnection = {
      id: this.nextConnectionId++,
      account,
      anchorMailbox: o.anchorMailbox,
      impersonating: o.impersonating?.primary ?? null,
      backend: o.routing.backend,
      cookieSent: o.routing.cookieSent,
      timeoutMinutes: o.timeoutMinutes,
      subscriptions: new Set(),
      allIds: [...o.ids],
      mailboxes: [...new Set(found.map((s) => s.mailbox.primary))].sort(),
      openedAtMs: Date.now(),
      endedAtMs: null,
      endedBy: null,
      wrap,
      sink,
      timers: [],
      flushScheduled: false,
    };
    this.connections.push(c);
    this.peakByAccount.set(account, Math.max(this.peakByAccount.get(account) ?? 0, openNow + 1));
    for (const s of found) {
      // A subscription serves one connection at a time: a new request takes it over.
      if (s.connection && s.connection !== c) this.detach(s);
      s.connection = c;
      c.subscriptions.add(s);
    }
    c.timers.push(setInterval(() => this.write(c, this.message({ status: 'OK' })), this.run.keepAliveMs));
    c.timers.push(setTimeout(() => this.finish(c, 'timeout', this.message({ status: 'Closed' })), o.timeoutMinutes * this.run.minuteMs));
    for (const t of c.timers) t.unref?.();
    this.scheduleFlush(c);
    return { connectionId: c.id };
  }

  /** The client closed the request (or its socket went away). */
  clientGone(connectionId: number): void {
    const c = this.connections.find((x) => x.id === connectionId);
    if (c && !c.endedBy) this.end(c, 'client');
  }

  private write(c: StreamConnection, message: string): void {
    if (c.endedBy) return;
    c.sink.write(c.wrap(message));
  }

  private finish(c: StreamConnection, why: ConnectionEnd, lastMessage: string): void {
    if (c.endedBy) return;
    this.write(c, lastMessage);
    this.end(c, why);
    c.sink.end();
  }

  private end(c: StreamConnection, why: ConnectionEnd): void {
    c.endedBy = why;
    c.endedAtMs = Date.now();
    for (const t of c.timers) clearTimeout(t);
    c.timers = [];
    for (const s of c.subscriptions) if (s.connection === c) s.connection = null;
    c.subscriptions.clear();
  }

  private drop(c: StreamConnection): void {
    if (c.endedBy) return;
    this.end(c, 'dropped');
    c.sink.destroy();
  }

  private scheduleFlush(c: StreamConnection): void {
    if (c.flushScheduled || c.endedBy) return;
    c.flushScheduled = true;
    setImmediate(() => {
      c.flushScheduled = false;
      this.flush(c);
    });
  }

  private decideFault(): StreamingFaultKind | null {
    const f = this.faults;
    if (this.forcedLeft > 0 && f.forceNext) {
      this.forcedLeft--;
      this.injected[f.forceNext.kind]++;
      return f.forceNext.kind;
    }
    const table: Array<[number | undefined, StreamingFaultKind]> = [
      [f.dropConnectionRate, 'dropConnection'],
      [f.subscriptionNotFoundRate, 'subscriptionNotFound'],
      [f.expiredSubscriptionRate, 'expiredSubscription'],
      [f.missedEventsRate, 'missedEvents'],
    ];
    let kind: StreamingFaultKind | null = null;
    for (const [rate, k] of table) {
      const draw = this.rng();
      if (kind === null && draw < (rate ?? 0)) {
        kind = k;
        this.injected[k]++;
      }
    }
    return kind;
  }

  /** Sends what the connection's subscriptions hold: errors first, then up to 50 events per subscription. */
  private flush(c: StreamConnection): void {
    if (c.endedBy) return;
    const notifications: string[] = [];
    for (const s of [...c.subscriptions]) {
      if (s.queue.length > 0 && !s.missed) {
        const fault = this.decideFault();
        if (fault === 'dropConnection') return this.drop(c);
        if (fault === 'subscriptionNotFound') return this.restart();
        if (fault === 'expiredSubscription') {
          this.expireOne(s);
          continue;
        }
        if (fault === 'missedEvents') s.missed = true;
      }
      if (s.missed) {
        s.missed = false;
        s.queue = [];
        this.write(c, this.message({ status: 'OK', code: 'ErrorMissedNotificationEvents', text: 'Events were lost for this subscription.', errorIds: [s.id] }));
        continue;
      }
      if (s.queue.length === 0) continue;
      const batch = s.queue.splice(0, EVENTS_PER_NOTIFICATION);
      notifications.push(`<m:Notification><t:SubscriptionId>${xmlEscape(s.id)}</t:SubscriptionId>${batch.map((e) => e.xml).join('')}</m:Notification>`);
      if (s.queue.length > 0) this.scheduleFlush(c);
    }
    if (notifications.length > 0) this.write(c, this.message({ status: 'OK', notifications: notifications.join('') }));
  }

  private expireOne(s: Subscription): void {
    this.subs.delete(s.id);
    this.expiredIds.add(s.id);
    const c = s.connection;
    if (!c || c.endedBy) return;
    c.subscriptions.delete(s);
    s.connection = null;
    const closing = c.subscriptions.size === 0;
    this.write(c, this.message({ status: closing ? 'Closed' : 'OK', code: 'ErrorExpiredSubscription', text: 'The subscription has expired.', errorIds: [s.id] }));
    if (closing) {
      this.end(c, 'expired');
      c.sink.end();
    }
  }

  // ---- test controls ----

  private subsOf(address: string): Subscription[] {
    const mb = this.directory.mailboxByAddress(address);
    if (!mb) throw new Error(`No mailbox has the address ${address}`);
    return [...this.subs.values()].filter((s) => s.mailbox === mb);
  }

  /** The mailbox's queued and coming events are lost: ErrorMissedNotificationEvents on its connection (now or when it connects). */
  missEvents(address: string): void {
    for (const s of this.subsOf(address)) {
      s.missed = true;
      s.queue = [];
      if (s.connection) this.scheduleFlush(s.connection);
    }
  }

  /** The mailbox's subscriptions expire: ErrorExpiredSubscription on their connection, and when asked for again. */
  expire(address: string): void {
    for (const s of this.subsOf(address)) this.expireOne(s);
  }

  /** The EWS application restarts: every subscription is forgotten and every streaming connection drops. */
  restart(): void {
    this.subs.clear();
    this.expiredIds.clear();
    for (const c of this.connections) this.drop(c);
  }

  /** Destroys the sockets of the connections holding this mailbox's subscriptions (all connections without one). */
  dropConnections(address?: string): void {
    const wanted = address ? new Set(this.subsOf(address).map((s) => s.connection)) : null;
    for (const c of this.connections) if (!wanted || wanted.has(c)) this.drop(c);
  }

  shutdown(): void {
    for (const c of this.connections) if (!c.endedBy) this.end(c, 'shutdown');
  }

  // ---- what tests look at ----

  private info(c: StreamConnection): ConnectionInfo {
    return {
      id: c.id,
      account: c.account,
      anchorMailbox: c.anchorMailbox,
      impersonating: c.impersonating,
      backend: this.backendName(c.backend),
      cookieSent: c.cookieSent,
      timeoutMinutes: c.timeoutMinutes,
      subscriptionIds: [...c.allIds],
      mailboxes: [...c.mailboxes],
      openedAt: new Date(c.openedAtMs).toISOString(),
      endedAt: c.endedAtMs === null ? null : new Date(c.endedAtMs).toISOString(),
      endedBy: c.endedBy,
    };
  }

  openConnections(): ConnectionInfo[] {
    return this.connections.filter((c) => !c.endedBy).map((c) => this.info(c));
  }

  history(): ConnectionInfo[] {
    return this.connections.map((c) => this.info(c));
  }

  /** The most GetStreamingEvents connections the account had open at once. */
  peakConnections(account: string): number {
    return this.peakByAccount.get(account.toLowerCase().replace(/^.*\\/, '')) ?? 0;
  }

  subscriptions(): SubscriptionInfo[] {
    return [...this.subs.values()].map((s) => ({ id: s.id, mailbox: s.mailbox.primary, owner: s.owner, backend: this.backendName(s.backend), connectionId: s.connection?.id ?? null }));
  }
}
