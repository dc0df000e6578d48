import { CalendarError, type ChangeWatch, type ChangeWatchEvents, type WatchMode } from '../calendar-connector.ts';
import { lostSubscriptionReason, refusesStreaming } from './ews-notification-client.ts';
import type { StreamingMessage } from './ews-notification-soap.ts';
import type { EwsStream, EwsStreamEnd } from './ews-stream-request.ts';
import { backoffMs, watchSettings, type EwsWatchSetup, type WatchSettings } from './ews-watch-options.ts';
import { MailboxPoller, type PollCause } from './ews-watch-polling.ts';
import { t } from '../../common/i18n/i18n.ts';

export type { EwsWatchOptions } from './ews-watch-options.ts';

/**
 * Near real time for on-premises Exchange (EwsCalendarConnector.watchChanges): streaming notifications where the
 * server has them, short-interval polling where it has not. It never carries changes: `changed(mailbox)` says
 * "something changed, sync it", `resync(mailbox, reason)` says "notifications may have been lost, sync it now".
 *
 * Streaming, as Microsoft describes it for many mailboxes:
 *  - mailboxes are grouped, up to `subscriptionsPerConnection` (200) per group, in address order; a group's anchor is
 *    its alphabetically first mailbox. Every Subscribe of the group (impersonating the member) carries
 *    `X-AnchorMailbox: <anchor>` and `X-PreferServerAffinity: true`; the anchor subscribes first and its answer's
 *    `X-BackEndOverrideCookie` goes with every later request of the group, so all its subscriptions and its
 *    connection meet on one mailbox server;
 *  - one GetStreamingEvents connection per group, impersonating the anchor; at most `maxConnections` groups (one under
 *    the server's hanging-connection limit: 10 on 2016/2019/SE, 3 on 2010/2013, so a renewal always fits). Mailboxes
 *    beyond that are polled;
 *  - a connection is renewed before its `ConnectionTimeout` (the new one opens before the old one closes, so nothing
 *    falls between); a server that closes first (`ConnectionStatus Closed`) is simply reconnected;
 *  - ErrorMissedNotificationEvents, ErrorExpiredSubscription, ErrorSubscriptionNotFound (and any other error naming a
 *    subscription): that mailbox is subscribed anew, reconnected, then `resync`. A dropped or silent connection: the
 *    group reconnects (backing off), its subscriptions renewed where Exchange no longer knows them, then `resync`;
 *  - ErrorExceededConnectionCount: the limit is lowered to the connections that are open, the group's mailboxes go to
 *    groups with room or to polling, and the full limit is tried again after `streamingRetryMs`.
 * Polling (every mailbox on Exchange 2007; a mailbox whose Subscribe Exchange refuses with ErrorInvalidRequest /
 * ErrorInvalidServerVersion, tried again later): IdOnly SyncFolderItems with the watch's own sync state every
 * `pollIntervalMs`; a poll with no change is one request (ews-watch-polling.ts).
 * Mailboxes that cannot be watched (impersonation refused, no mailbox) are 'off' and tried again after `offRetryMs`.
 */

interface Member {
  mailbox: string;
  mode: WatchMode;
  since: string;
  reason?: string;
  group: Group | null;
  subscriptionId: string | null;
  poll: MailboxPoller | null;
  /** Why the next time this mailbox is watched again, the caller must sync it now. */
  pendingResync: string | null;
  retryTimer: NodeJS.Timeout | null;
  failures: number;
  /** RequestServerVersion for polls when Exchange refused the configured one (Exchange2007_SP1), else null. */
  pollVersion: string | null;
}

interface Connection {
  stream: EwsStream | null;
  ids: Set<string>;
  closing: boolean;
  serverClosed: boolean;
  generalError: CalendarError | null;
  /** Some of its subscriptions were lost: the task renewing them reconnects the group, not the end of this one. */
  handedOver: boolean;
  ended: EwsStreamEnd | null;
}

interface Group {
  anchor: string;
  cookie: string | null;
  members: Set<Member>;
  conn: Connection | null;
  renewTimer: NodeJS.Timeout | null;
  reconnectTimer: NodeJS.Timeout | null;
  failures: number;
}

const EMAIL_RE = /^[^\s@<>()"',;:\\]+@[^\s@<>()"',;:\\]+\.[^\s@<>()"',;:\\]+$/;

function unref(t: NodeJS.Timeout): NodeJS.Timeout {
  t.unref?.();
  return t;
}

export class EwsChangeWatch implements ChangeWatch {
  private readonly setup: EwsWatchSetup;
  private readonly events: ChangeWatchEvents;
  private readonly s: WatchSettings;
  /** The connection limit now (lowered when Exchange refuses one, back to the configured one on retry). */
  private maxConnections: number;
  private readonly members = new Map<string, Member>();
  private groups: Group[] = [];
  private wanted = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The server type has no streaming notifications (Exchange 2007): every mailbox is polled; null otherwise. */
  private refusal: { reason: string } | null = null;
  private streamingRetryTimer: NodeJS.Timeout | null = null;

  constructor(setup: EwsWatchSetup, events: ChangeWatchEvents) {
    this.setup = setup;
    this.events = events;
    this.s = watchSettings(setup);
    this.maxConnections = this.s.maxConnections;
    if (!setup.streamingSupported) {
      this.refusal = { reason: t('engine.watch.noStreaming', { seconds: this.pollSeconds() }) };
    }
  }

  // ---- ChangeWatch ----

  setMailboxes(mailboxes: readonly string[]): void {
    if (this.stopped) return;
    this.wanted = new Set(mailboxes.filter((m) => typeof m === 'string' && EMAIL_RE.test(m.trim())).map((m) => m.trim().toLowerCase()));
    this.enqueue(() => this.reconcile());
  }

  modes(): Record<string, { mode: WatchMode; since: string; reason?: string }> {
    const out: Record<string, { mode: WatchMode; since: string; reason?: string }> = {};
    for (const m of this.members.values()) out[m.mailbox] = m.reason === undefined ? { mode: m.mode, since: m.since } : { mode: m.mode, since: m.since, reason: m.reason };
    return out;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.streamingRetryTimer) clearTimeout(this.streamingRetryTimer);
    const unsubscribes: Array<Promise<unknown>> = [];
    for (const g of this.groups) {
      this.clearGroupTimers(g);
      if (g.conn) this.closeConnection(g.conn);
      g.conn = null;
    }
    for (const m of this.members.values()) {
      this.clearMemberTimers(m);
      if (m.subscriptionId && m.group) unsubscribes.push(this.unsubscribe(m, m.group, m.subscriptionId));
      m.subscriptionId = null;
      this.setMode(m, 'off', t('engine.watch.stopped'));
    }
    await Promise.allSettled(unsubscribes);
    // Work already under way notices the stop at its next step (and ends what it opened); wait for it a little.
    await Promise.race([this.chain, new Promise((resolve) => unref(setTimeout(resolve, 5000)))]);
  }

  // ---- plumbing ----

  private pollSeconds(): number {
    return Math.round(this.setup.pollIntervalMs / 1000);
  }

  /** Structural work runs one task at a time; a failing task never stops the ones after it. */
  private enqueue(task: () => Promise<void>): void {
    this.chain = this.chain.then(() => (this.stopped ? undefined : task())).catch(() => undefined);
  }

  private setMode(m: Member, mode: WatchMode, reason?: string): void {
    if (m.mode !== mode) m.since = new Date().toISOString();
    m.mode = mode;
    m.reason = reason;
  }

  private emitChanged(mailbox: string): void {
    try {
      this.events.changed(mailbox);
    } catch {
      // the caller's handler is its own business
    }
  }

  /** The mailbox is watched again (live or caught-up polling): tell the caller to sync if something may be missing. */
  private watchedAgain(m: Member): void {
    const reason = m.pendingResync;
    if (!reason) return;
    m.pendingResync = null;
    try {
      this.events.resync(m.mailbox, reason);
    } catch {
      // as above
    }
  }

  private clearMemberTimers(m: Member): void {
    if (m.retryTimer) clearTimeout(m.retryTimer);
    m.retryTimer = null;
    m.poll?.stop();
  }

  private clearGroupTimers(g: Group): void {
    if (g.renewTimer) clearTimeout(g.renewTimer);
    if (g.reconnectTimer) clearTimeout(g.reconnectTimer);
    g.renewTimer = g.reconnectTimer = null;
  }

  private closeConnection(c: Connection): void {
    c.closing = true;
    c.stream?.close();
  }


  private unsubscribe(m: Member, g: Group, id: string): Promise<void> {
    return this.setup.client.unsubscribe(m.mailbox, this.setup.version, id, { anchor: g.anchor, cookie: g.cookie }).catch(() => undefined);
  }

  // ---- membership ----

  private async reconcile(): Promise<void> {
    for (const m of [...this.members.values()]) if (!this.wanted.has(m.mailbox)) this.remove(m);
    const added: Member[] = [];
    for (const mailbox of [...this.wanted].sort()) {
      if (this.members.has(mailbox)) continue;
      const m: Member = { mailbox, mode: 'off', since: new Date().toISOString(), reason: t('engine.watch.starting'), group: null, subscriptionId: null, poll: null, pendingResync: null, retryTimer: null, failures: 0, pollVersion: null };
      this.members.set(mailbox, m);
      added.push(m);
    }
    await this.place(added);
  }

  private remove(m: Member): void {
    this.clearMemberTimers(m);
    m.poll = null;
    this.members.delete(m.mailbox);
    const g = m.group;
    if (!g) return;
    this.leaveGroup(m);
    if (m.subscriptionId) void this.unsubscribe(m, g, m.subscriptionId);
  }

  private leaveGroup(m: Member): void {
    const g = m.group;
    m.group = null;
    if (!g) return;
    g.members.delete(m);
    if (g.members.size === 0) {
      this.clearGroupTimers(g);
      if (g.conn) this.closeConnection(g.conn);
      g.conn = null;
      this.groups = this.groups.filter((x) => x !== g);
    }
  }

  /** Puts mailboxes into groups with room (new groups within the connection limit), the rest into polling. */
  private async place(ms: Member[]): Promise<void> {
    if (ms.length === 0 || this.stopped) return;
    if (this.refusal) {
      for (const m of ms) this.startPolling(m, this.refusal.reason, 'refused');
      return;
    }
    const pending = [...ms].sort((a, b) => a.mailbox.localeCompare(b.mailbox));
    const touched = new Map<Group, Member[]>();
    // A polled mailbox keeps being polled until its subscription is live.
    const join = (g: Group, m: Member): void => {
      m.group = g;
      g.members.add(m);
      touched.set(g, [...(touched.get(g) ?? []), m]);
    };
    for (const g of this.groups) while (g.members.size < this.s.perConnection && pending.length > 0) join(g, pending.shift()!);
    while (pending.length > 0 && this.groups.length < this.maxConnections) {
      const g: Group = { anchor: pending[0].mailbox, cookie: null, members: new Set(), conn: null, renewTimer: null, reconnectTimer: null, failures: 0 };
      this.groups.push(g);
      for (const m of pending.splice(0, this.s.perConnection)) join(g, m);
    }
    for (const m of pending) {
      this.startPolling(m, t('engine.watch.capacity', { connections: this.maxConnections, perConnection: this.s.perConnection, seconds: this.pollSeconds() }), 'capacity');
    }
    if (pending.length > 0) this.scheduleStreamingRetry();
    for (const [g, joined] of touched) {
      await this.subscribeMembers(g, joined);
      if (this.stopped) return;
      if (this.groups.includes(g)) await this.connect(g);
    }
  }

  // ---- subscriptions ----

  private async subscribeMembers(g: Group, ms: Member[]): Promise<void> {
    // Without a cookie yet, the anchor (else the first) subscribes alone: its answer carries the group's cookie.
    const queue = [...ms].sort((a, b) => (a.mailbox === g.anchor ? -1 : b.mailbox === g.anchor ? 1 : 0));
    if (!g.cookie && queue.length > 0) await this.subscribeOne(g, queue.shift()!);
    const workers = Array.from({ length: this.s.subscribeConcurrency }, async () => {
      while (queue.length > 0 && !this.stopped) await this.subscribeOne(g, queue.shift()!);
    });
    await Promise.all(workers);
  }

  private async subscribeOne(g: Group, m: Member): Promise<void> {
    if (this.stopped || m.group !== g) return;
    try {
      const r = await this.setup.client.subscribe(m.mailbox, this.setup.version, { anchor: g.anchor, cookie: g.cookie });
      if (this.stopped || m.group !== g || !this.members.has(m.mailbox)) {
        void this.unsubscribe(m, g, r.subscriptionId);
        return;
      }
      if (r.cookie && !g.cookie) g.cookie = r.cookie;
      m.subscriptionId = r.subscriptionId;
      m.failures = 0;
    } catch (error) {
      this.subscribeFailed(m, error instanceof CalendarError ? error : new CalendarError('other', String(error)));
    }
  }

  private subscribeFailed(m: Member, error: CalendarError): void {
    this.leaveGroup(m);
    m.subscriptionId = null;
    m.failures++;
    if (refusesStreaming(error)) {
      this.refuseStreaming(m, error);
      return;
    }
    if (['impersonation-denied', 'no-mailbox', 'auth', 'config'].includes(error.code)) {
      if (m.mode !== 'off') m.pendingResync ??= `The mailbox was not watched for a while: ${error.message}`;
      this.stopPolling(m);
      this.setMode(m, 'off', error.message);
      this.retryLater(m, this.s.offRetryMs);
      return;
    }
    // Passing trouble: poll meanwhile, try streaming again with back-off.
    this.startPolling(m, t('engine.watch.subscribeFailed', { why: error.message, seconds: this.pollSeconds() }), 'error');
    this.retryLater(m, backoffMs(this.s, m.failures));
  }

  private retryLater(m: Member, delayMs: number): void {
    if (m.retryTimer) clearTimeout(m.retryTimer);
    m.retryTimer = unref(
      setTimeout(() => {
        m.retryTimer = null;
        this.enqueue(async () => {
          if (this.members.get(m.mailbox) === m && !m.group) await this.place([m]);
        });
      }, delayMs),
    );
  }

  /**
   * Exchange refuses streaming for this mailbox (a server without it, or a mailbox still on an older one): it is polled,
   * in the Exchange 2007 schema when the version was refused, and streaming is tried again after `streamingRetryMs`.
   */
  private refuseStreaming(m: Member, error: CalendarError): void {
    m.pollVersion = error.serverCode === 'ErrorInvalidServerVersion' ? 'Exchange2007_SP1' : null;
    this.startPolling(m, t('engine.watch.refused', { code: error.serverCode ?? error.code, seconds: this.pollSeconds() }), 'refused');
    this.retryLater(m, this.s.streamingRetryMs);
  }

  private scheduleStreamingRetry(): void {
    if (this.streamingRetryTimer || !this.setup.streamingSupported) return;
    this.streamingRetryTimer = unref(
      setTimeout(() => {
        this.streamingRetryTimer = null;
        this.enqueue(async () => {
          this.maxConnections = this.s.maxConnections;
          const again = [...this.members.values()].filter((m) => m.poll?.cause === 'capacity' && !m.group);
          await this.place(again);
        });
      }, this.s.streamingRetryMs),
    );
  }

  // ---- connections ----

  private async connect(g: Group): Promise<void> {
    if (this.stopped || !this.groups.includes(g)) return;
    if (g.reconnectTimer) clearTimeout(g.reconnectTimer);
    g.reconnectTimer = null;
    const subscribed = [...g.members].filter((m) => m.subscriptionId);
    if (subscribed.length === 0) {
      if (g.conn) this.closeConnection(g.conn);
      g.conn = null;
      return;
    }
    const impersonate = subscribed.find((m) => m.mailbox === g.anchor)?.mailbox ?? subscribed[0].mailbox;
    const conn: Connection = { stream: null, ids: new Set(subscribed.map((m) => m.subscriptionId!)), closing: false, serverClosed: false, generalError: null, handedOver: false, ended: null };
    let stream: EwsStream;
    try {
      stream = await this.setup.client.openStream({
        impersonate,
        version: this.setup.version,
        affinity: { anchor: g.anchor, cookie: g.cookie },
        subscriptionIds: [...conn.ids],
        timeoutMinutes: this.s.timeoutMinutes,
        connectTimeoutMs: this.s.connectTimeoutMs,
        idleTimeoutMs: this.s.idleTimeoutMs,
        onMessages: (messages) => this.onMessages(g, conn, messages),
      });
    } catch (error) {
      this.connectionFailed(g, error instanceof CalendarError ? error : new CalendarError('other', String(error)), impersonate);
      return;
    }
    conn.stream = stream;
    void stream.done.then((end) => {
      conn.ended = end;
      this.streamEnded(g, conn, end);
    });
    // What came with the answer's headers is read first: Exchange refuses a request (unknown or expired ids, no more
    // connections) with HTTP 200 and one message, which must not replace a working connection.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.stopped || !this.groups.includes(g)) {
      this.closeConnection(conn);
      return;
    }
    // Refused ids: the task subscribing them again connects anew; the current connection serves the rest until then.
    if (conn.handedOver) return;
    if (conn.generalError || conn.serverClosed || conn.ended) {
      this.closeConnection(conn);
      const why = conn.ended?.kind === 'failed' ? conn.ended.error : new CalendarError('transient', 'Exchange closed the streaming connection as soon as it opened it.');
      this.connectionFailed(g, conn.generalError ?? why, impersonate);
      return;
    }
    // Make before break: the new connection holds the subscriptions now; the old one is let go.
    const old = g.conn;
    g.conn = conn;
    if (old) this.closeConnection(old);
    g.failures = 0;
    if (g.renewTimer) clearTimeout(g.renewTimer);
    g.renewTimer = unref(setTimeout(() => this.enqueue(() => this.connect(g)), this.s.renewAfterMs));
    for (const m of subscribed) {
      if (!m.subscriptionId || !conn.ids.has(m.subscriptionId)) continue;
      this.stopPolling(m);
      this.setMode(m, 'live');
      this.watchedAgain(m);
    }
  }

  private onMessages(g: Group, conn: Connection, messages: StreamingMessage[]): void {
    const lost: Array<{ m: Member; reason: string; oldId: string }> = [];
    for (const msg of messages) {
      if (msg.connectionStatus === 'Closed') conn.serverClosed = true;
      if (msg.ok) {
        const changed = new Set<string>();
        for (const n of msg.notifications) {
          const m = this.memberBySubscription(g, n.subscriptionId);
          if (m && n.events.some((e) => e !== 'StatusEvent')) changed.add(m.mailbox);
        }
        for (const mailbox of changed) this.emitChanged(mailbox);
        continue;
      }
      if (msg.errorSubscriptionIds.length === 0) {
        conn.generalError = new CalendarError(msg.code === 'ErrorExceededConnectionCount' ? 'throttled' : 'transient', `Exchange ended the streaming connection: ${msg.text || msg.code} (${msg.code})`, { serverCode: msg.code });
        continue;
      }
      for (const id of msg.errorSubscriptionIds) {
        const m = this.memberBySubscription(g, id);
        if (!m) continue;
        lost.push({ m, reason: lostSubscriptionReason(msg.code), oldId: id });
        m.subscriptionId = null;
      }
    }
    if (lost.length > 0) {
      conn.handedOver = true;
      for (const { m, reason } of lost) {
        m.pendingResync = reason;
        this.setMode(m, 'off', t('engine.watch.subscribingAgain', { why: reason }));
      }
      this.enqueue(async () => {
        const again = lost.map((l) => l.m).filter((m) => m.group === g && this.groups.includes(g) && !m.subscriptionId);
        // Microsoft's advice for missed events is a new subscription; the old one is let go.
        for (const l of lost) if (l.reason.includes('ErrorMissedNotificationEvents')) void this.unsubscribe(l.m, g, l.oldId);
        if (again.length === 0) return;
        await this.subscribeMembers(g, again);
        await this.connect(g);
      });
    }
  }

  private memberBySubscription(g: Group, id: string): Member | undefined {
    for (const m of g.members) if (m.subscriptionId === id) return m;
    return undefined;
  }

  private streamEnded(g: Group, conn: Connection, end: EwsStreamEnd): void {
    if (conn.closing || g.conn !== conn || this.stopped) return;
    g.conn = null;
    if (conn.handedOver && !conn.generalError) return;
    if (g.renewTimer) clearTimeout(g.renewTimer);
    g.renewTimer = null;
    if (conn.generalError) {
      this.connectionFailed(g, conn.generalError);
      return;
    }
    if (end.kind === 'ended' && conn.serverClosed) {
      // Closed at the server's timeout (or emptied): everything sent was read; events wait in the subscriptions.
      this.enqueue(() => this.connect(g));
      return;
    }
    const why = end.kind === 'failed' ? end.error.message : 'the server ended the answer without ConnectionStatus Closed';
    this.connectionLost(g, `The streaming connection dropped (${why}).`);
  }

  private connectionLost(g: Group, reason: string): void {
    if (g.conn) this.closeConnection(g.conn);
    g.conn = null;
    if (g.renewTimer) clearTimeout(g.renewTimer);
    g.renewTimer = null;
    for (const m of g.members) {
      if (!m.subscriptionId) continue;
      m.pendingResync ??= reason;
      this.setMode(m, 'off', t('engine.watch.reconnecting', { why: reason }));
    }
    g.failures++;
    if (g.reconnectTimer) clearTimeout(g.reconnectTimer);
    // The first reconnect is at once; repeated failures back off.
    const delay = g.failures <= 1 ? 0 : backoffMs(this.s, g.failures - 1);
    g.reconnectTimer = unref(setTimeout(() => this.enqueue(() => this.connect(g)), delay));
  }

  private connectionFailed(g: Group, error: CalendarError, impersonated?: string): void {
    if (this.stopped || !this.groups.includes(g)) return;
    if (refusesStreaming(error)) {
      // GetStreamingEvents itself refused: the whole group is polled.
      for (const m of [...g.members]) {
        const id = m.subscriptionId;
        this.subscribeFailed(m, error);
        if (id) void this.unsubscribe(m, g, id);
      }
      return;
    }
    if (error.serverCode === 'ErrorExceededConnectionCount') {
      this.connectionLimitReached(g, error);
      return;
    }
    const culprit = impersonated ? [...g.members].find((m) => m.mailbox === impersonated) : undefined;
    if (culprit && (error.code === 'impersonation-denied' || error.code === 'no-mailbox')) {
      // The connection impersonates one member: that one is set aside, the others connect through the next one.
      const subscriptionId = culprit.subscriptionId;
      this.subscribeFailed(culprit, error);
      if (subscriptionId) void this.unsubscribe(culprit, g, subscriptionId);
      if (this.groups.includes(g)) this.enqueue(() => this.connect(g));
      return;
    }
    this.connectionLost(g, `The streaming connection could not be opened (${error.message}).`);
  }

  /** Exchange allows fewer connections than planned: this group is taken apart, its mailboxes placed again. */
  private connectionLimitReached(g: Group, error: CalendarError): void {
    const open = this.groups.filter((x) => x !== g && x.conn).length;
    this.maxConnections = Math.max(0, open);
    this.clearGroupTimers(g);
    if (g.conn) this.closeConnection(g.conn);
    g.conn = null;
    this.groups = this.groups.filter((x) => x !== g);
    const orphans = [...g.members];
    for (const m of orphans) {
      if (m.subscriptionId) void this.unsubscribe(m, g, m.subscriptionId);
      m.subscriptionId = null;
      m.group = null;
      if (m.mode === 'live') m.pendingResync ??= `Exchange refused another streaming connection (${error.serverCode}).`;
    }
    this.enqueue(() => this.place(orphans));
    this.scheduleStreamingRetry();
  }

  // ---- polling ----

  private startPolling(m: Member, reason: string, cause: PollCause): void {
    if (m.mode === 'live') m.pendingResync ??= `Streaming stopped for this mailbox; it is polled now (${reason})`;
    this.setMode(m, 'polling', reason);
    if (m.poll) {
      m.poll.cause = cause;
      m.poll.reason = reason;
      return;
    }
    if (this.stopped) return;
    const poller: MailboxPoller = new MailboxPoller(
      {
        mailbox: m.mailbox,
        client: this.setup.client,
        version: () => m.pollVersion ?? this.setup.version,
        intervalMs: this.setup.pollIntervalMs,
        onOutcome: (outcome) => {
          if (m.poll !== poller || this.stopped) return;
          if (outcome.kind === 'failed') {
            this.setMode(m, 'polling', t('engine.watch.pollingFailed', { why: outcome.error.message }));
            return;
          }
          if (outcome.kind === 'state-refused') {
            m.pendingResync ??= 'Exchange refused the sync state of the watch; changes may have been missed.';
            return;
          }
          this.setMode(m, 'polling', poller.reason);
          if (outcome.kind === 'baseline') this.watchedAgain(m);
          else if (outcome.kind === 'changed') this.emitChanged(m.mailbox);
        },
      },
      cause,
      reason,
    );
    m.poll = poller;
  }

  private stopPolling(m: Member): void {
    if (!m.poll) return;
    m.poll.stop();
    m.poll = null;
    m.pendingResync ??= 'Polling ended for this mailbox; notifications start now.';
  }
}
