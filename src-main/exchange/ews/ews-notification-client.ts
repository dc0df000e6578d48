import { CalendarError } from '../calendar-connector.ts';
import { calendarErrorFor, calendarErrorForFault } from './ews-error-translation.ts';
import {
  getStreamingEventsRequest,
  readStreamingEnvelope,
  readSubscribeResponse,
  readSyncFolderItemsResponse,
  readUnsubscribeResponse,
  subscribeRequest,
  syncFolderItemsRequest,
  unsubscribeRequest,
  type StreamingMessage,
  type SyncPage,
} from './ews-notification-soap.ts';
import { openEwsStream, type EwsStream } from './ews-stream-request.ts';
import { ConnectionPool, EwsTransport, type EwsTransportHooks, type EwsTransportSettings } from './ews-transport.ts';

/**
 * The EWS requests of the change watch, one method per request, every failure a CalendarError naming what was being
 * done and for which mailbox. Ordinary requests go through the product's transport (NTLM on kept connections, CA,
 * timeouts, faults read whatever the HTTP status); GetStreamingEvents through ews-stream-request.ts.
 *
 * Affinity (Microsoft: "Maintain affinity between a group of subscriptions and the Mailbox server"): every Subscribe,
 * Unsubscribe and GetStreamingEvents of a group carries `X-AnchorMailbox: <the group's anchor mailbox>` and
 * `X-PreferServerAffinity: true`, and, once the anchor's Subscribe answer set it, the `X-BackEndOverrideCookie`.
 */

export interface Affinity {
  anchor: string;
  cookie: string | null;
}

export interface NotificationClientConfig {
  ewsUrl: string;
  transportSettings: EwsTransportSettings;
  /** The account as Basic sends it (DOMAIN\user); unused with NTLM. */
  basicUser: string;
  password: string;
  pool: ConnectionPool;
  /** Per request, for counting (the connector's onRequest). */
  onRequest?: (info: { operation: string; mailbox: string | null }) => void;
}

function affinityHeaders(affinity: Affinity): Record<string, string> {
  const headers: Record<string, string> = { 'X-AnchorMailbox': affinity.anchor, 'X-PreferServerAffinity': 'true' };
  if (affinity.cookie) headers.Cookie = `X-BackEndOverrideCookie=${affinity.cookie}`;
  return headers;
}

/** The X-BackEndOverrideCookie value a Set-Cookie header carries, if any. */
export function backEndCookieOf(setCookie: unknown): string | null {
  const values = Array.isArray(setCookie) ? setCookie.map(String) : typeof setCookie === 'string' ? [setCookie] : [];
  for (const v of values) {
    const m = /(?:^|[;,]\s*)X-BackEndOverrideCookie=([^;,\s]+)/i.exec(v);
    if (m) return m[1];
  }
  return null;
}

/** Exchange refuses streaming notifications altogether: the server (or the requested schema) has none. */
export function refusesStreaming(error: CalendarError): boolean {
  return ['ErrorInvalidServerVersion', 'ErrorInvalidRequest', 'ErrorSchemaValidation', 'ErrorIncorrectSchemaVersion', 'ErrorInvalidSchemaVersionForMailboxVersion'].includes(error.serverCode ?? '');
}

/** Why a subscription named in a GetStreamingEvents error is gone, as the resync reason says it. */
export function lostSubscriptionReason(code: string): string {
  switch (code) {
    case 'ErrorMissedNotificationEvents':
      return 'Exchange reported missed notifications (ErrorMissedNotificationEvents).';
    case 'ErrorExpiredSubscription':
      return 'The subscription expired (ErrorExpiredSubscription).';
    case 'ErrorSubscriptionNotFound':
      return 'Exchange no longer knew the subscription, e.g. after a restart (ErrorSubscriptionNotFound).';
    default:
      return `Exchange dropped the subscription (${code}).`;
  }
}

export class EwsNotificationClient {
  private readonly config: NotificationClientConfig;

  constructor(config: NotificationClientConfig) {
    this.config = config;
  }

  private hooks(mailbox: string | null): EwsTransportHooks {
    return { onRequest: (operation) => this.config.onRequest?.({ operation, mailbox }) };
  }

  private get basicAuthorization(): string | null {
    if (this.config.transportSettings.authMethod !== 'basic') return null;
    return `Basic ${Buffer.from(`${this.config.basicUser}:${this.config.password}`).toString('base64')}`;
  }

  /** One request through the transport; the answer's body and headers, or the transport's CalendarError. */
  private async send(body: string, headers: Record<string, string>, mailbox: string | null, context: string): Promise<{ text: string; headers: unknown }> {
    const transport = new EwsTransport(this.config.transportSettings, this.hooks(mailbox), this.config.pool);
    const all: Record<string, string> = { 'Content-Type': 'text/xml; charset=utf-8', Accept: 'text/xml', ...headers };
    const basic = this.basicAuthorization;
    if (basic) all.Authorization = basic;
    try {
      const answer = (await transport.xhr({ type: 'POST', url: this.config.ewsUrl, headers: all, data: body })) as unknown as { responseText?: string; headers?: unknown };
      return { text: typeof answer.responseText === 'string' ? answer.responseText : '', headers: answer.headers };
    } catch (error) {
      if (transport.fault) throw calendarErrorForFault(transport.fault, context);
      if (transport.failure) throw new CalendarError(transport.failure.code, `${context}: ${transport.failure.message}`, { serverCode: transport.failure.serverCode, retryAfterMs: transport.failure.retryAfterMs, advice: transport.failure.advice });
      throw error instanceof CalendarError ? error : new CalendarError('other', `${context}: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  /** A streaming subscription on the mailbox's calendar; `cookie` is the affinity cookie when the answer set one. */
  async subscribe(mailbox: string, version: string, affinity: Affinity): Promise<{ subscriptionId: string; cookie: string | null }> {
    const context = `Subscribing to calendar notifications (${mailbox})`;
    const answer = await this.send(subscribeRequest({ version, impersonate: mailbox }), affinityHeaders(affinity), mailbox, context);
    const result = readSubscribeResponse(answer.text, context);
    if ('code' in result) throw calendarErrorFor(result.code, result.text || undefined, context);
    const headers = answer.headers as Record<string, unknown> | undefined;
    return { subscriptionId: result.subscriptionId, cookie: backEndCookieOf(headers?.['set-cookie'] ?? headers?.['Set-Cookie']) };
  }

  async unsubscribe(mailbox: string, version: string, subscriptionId: string, affinity: Affinity): Promise<void> {
    const context = `Ending calendar notifications (${mailbox})`;
    const answer = await this.send(unsubscribeRequest({ version, impersonate: mailbox }, subscriptionId), affinityHeaders(affinity), mailbox, context);
    const error = readUnsubscribeResponse(answer.text, context);
    // Already gone is what was wanted.
    if (error && error.code !== 'ErrorSubscriptionNotFound' && error.code !== 'ErrorExpiredSubscription') throw calendarErrorFor(error.code, error.text || undefined, context);
  }

  /**
   * Opens GetStreamingEvents for the subscriptions, impersonating `impersonate` (the group's anchor, so the connection is
   * charged to a copy of that mailbox's budget). Resolves when Exchange answered 200; `onMessages` gets each envelope.
   */
  openStream(o: {
    impersonate: string;
    version: string;
    affinity: Affinity;
    subscriptionIds: readonly string[];
    timeoutMinutes: number;
    connectTimeoutMs: number;
    idleTimeoutMs: number;
    onMessages(messages: StreamingMessage[]): void;
  }): Promise<EwsStream> {
    const context = `Streaming calendar notifications (${o.subscriptionIds.length} mailboxes, anchor ${o.affinity.anchor})`;
    return openEwsStream(this.config.transportSettings, this.hooks(o.impersonate), {
      url: this.config.ewsUrl,
      body: getStreamingEventsRequest({ version: o.version, impersonate: o.impersonate }, o.subscriptionIds, o.timeoutMinutes),
      headers: affinityHeaders(o.affinity),
      basicAuthorization: this.basicAuthorization,
      connectTimeoutMs: o.connectTimeoutMs,
      idleTimeoutMs: o.idleTimeoutMs,
      maxEnvelopeBytes: this.config.transportSettings.maxResponseBytes,
      onEnvelope: (xml) => o.onMessages(readStreamingEnvelope(xml, context)),
    }).catch((error: unknown) => {
      const e = error instanceof CalendarError ? error : new CalendarError('other', String(error));
      throw new CalendarError(e.code, `${context}: ${e.message}`, { serverCode: e.serverCode, retryAfterMs: e.retryAfterMs, advice: e.advice });
    });
  }

  /** One page of IdOnly SyncFolderItems on the calendar: how many changes since `syncState`, and the next state. */
  async syncPage(mailbox: string, version: string, syncState: string | null, maxChanges: number): Promise<SyncPage> {
    const context = `Polling the calendar for changes (${mailbox})`;
    const answer = await this.send(syncFolderItemsRequest({ version, impersonate: mailbox }, syncState, maxChanges), { 'X-AnchorMailbox': mailbox }, mailbox, context);
    const page = readSyncFolderItemsResponse(answer.text, context);
    if ('code' in page) throw calendarErrorFor(page.code, page.text || undefined, context);
    return page;
  }
}
