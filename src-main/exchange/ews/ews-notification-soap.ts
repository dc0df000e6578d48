import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CalendarError } from '../calendar-connector.ts';
import { calendarErrorForFault } from './ews-error-translation.ts';
import { readSoapFault } from './ews-soap-fault.ts';

/**
 * The SOAP of the change watch, written here rather than through ews-javascript-api (whose streaming connection does
 * not work over this product's transport): Subscribe with a StreamingSubscriptionRequest on the calendar,
 * GetStreamingEvents, Unsubscribe, and an IdOnly SyncFolderItems for polling; and readers for their answers.
 * Shapes as in Microsoft's EWS reference (Subscribe, GetStreamingEvents, Unsubscribe, SyncFolderItems operations).
 */

const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const T_NS = 'http://schemas.microsoft.com/exchange/services/2006/types';
const M_NS = 'http://schemas.microsoft.com/exchange/services/2006/messages';

/** The calendar item events a watch subscribes to (NewMail and FreeBusyChanged say nothing a sync needs). */
export const WATCHED_EVENT_TYPES = ['CreatedEvent', 'DeletedEvent', 'ModifiedEvent', 'MovedEvent', 'CopiedEvent'] as const;

export interface SoapHeaderContext {
  /** RequestServerVersion, e.g. 'Exchange2016'. */
  version: string;
  /** Mailbox to impersonate, or null. */
  impersonate: string | null;
}

function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

function envelope(ctx: SoapHeaderContext, body: string): string {
  // Exchange 2007 SP1 knows the primary address only (as ews-javascript-api sends it for that version).
  const idElement = ctx.version === 'Exchange2007_SP1' ? 'PrimarySmtpAddress' : 'SmtpAddress';
  const impersonation = ctx.impersonate
    ? `<t:ExchangeImpersonation><t:ConnectingSID><t:${idElement}>${escapeXml(ctx.impersonate)}</t:${idElement}></t:ConnectingSID></t:ExchangeImpersonation>`
    : '';
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<soap:Envelope xmlns:soap="${SOAP_NS}" xmlns:t="${T_NS}" xmlns:m="${M_NS}">` +
    `<soap:Header><t:RequestServerVersion Version="${escapeXml(ctx.version)}"/>${impersonation}</soap:Header>` +
    `<soap:Body>${body}</soap:Body></soap:Envelope>`
  );
}

export function subscribeRequest(ctx: SoapHeaderContext): string {
  const types = WATCHED_EVENT_TYPES.map((t) => `<t:EventType>${t}</t:EventType>`).join('');
  return envelope(
    ctx,
    `<m:Subscribe><m:StreamingSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="calendar"/></t:FolderIds>` +
      `<t:EventTypes>${types}</t:EventTypes></m:StreamingSubscriptionRequest></m:Subscribe>`,
  );
}

export function getStreamingEventsRequest(ctx: SoapHeaderContext, subscriptionIds: readonly string[], timeoutMinutes: number): string {
  const ids = subscriptionIds.map((id) => `<t:SubscriptionId>${escapeXml(id)}</t:SubscriptionId>`).join('');
  return envelope(ctx, `<m:GetStreamingEvents><m:SubscriptionIds>${ids}</m:SubscriptionIds><m:ConnectionTimeout>${timeoutMinutes}</m:ConnectionTimeout></m:GetStreamingEvents>`);
}

export function unsubscribeRequest(ctx: SoapHeaderContext, subscriptionId: string): string {
  return envelope(ctx, `<m:Unsubscribe><m:SubscriptionId>${escapeXml(subscriptionId)}</m:SubscriptionId></m:Unsubscribe>`);
}

export function syncFolderItemsRequest(ctx: SoapHeaderContext, syncState: string | null, maxChanges: number): string {
  return envelope(
    ctx,
    `<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>` +
      `<m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId>` +
      (syncState ? `<m:SyncState>${escapeXml(syncState)}</m:SyncState>` : '') +
      `<m:MaxChangesReturned>${maxChanges}</m:MaxChangesReturned></m:SyncFolderItems>`,
  );
}

// ---- reading answers ----

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
});

type Node = Record<string, unknown>;

function asArray(value: unknown): unknown[] {
  return value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
}

function text(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object' && '#text' in value) return text((value as Node)['#text']);
  return '';
}

export interface ResponseMessage {
  ok: boolean;
  /** NoError, or the EWS ResponseCode. */
  code: string;
  text: string;
  node: Node;
}

/**
 * The `<operation>ResponseMessage`s of one envelope. A SOAP fault (any HTTP status) or something that is no EWS answer
 * throws a CalendarError, as the transport would.
 */
export function responseMessages(xml: string, operation: string, context: string): ResponseMessage[] {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new CalendarError('bad-response', `${context}: Exchange's answer declares a DOCTYPE; refused.`);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new CalendarError('bad-response', `${context}: Exchange's answer is malformed XML: ${valid.err.msg} (line ${valid.err.line}).`);
  const fault = readSoapFault(xml, 200);
  if (fault) throw calendarErrorForFault(fault, context);
  const doc = parser.parse(xml) as Node;
  const body = (doc.Envelope as Node | undefined)?.Body as Node | undefined;
  const response = body?.[`${operation}Response`] as Node | undefined;
  if (!response) throw new CalendarError('bad-response', `${context}: Exchange's answer holds no ${operation}Response.`);
  const messages = asArray((response.ResponseMessages as Node | undefined)?.[`${operation}ResponseMessage`]);
  return messages.map((m) => {
    const node = (m && typeof m === 'object' ? m : {}) as Node;
    const code = text(node.ResponseCode) || 'NoError';
    const cls = text(node['@ResponseClass']);
    return { ok: cls !== 'Error' && code === 'NoError', code, text: text(node.MessageText), node };
  });
}

export function readSubscribeResponse(xml: string, context: string): { subscriptionId: string } | { code: string; text: string } {
  const m = responseMessages(xml, 'Subscribe', context)[0];
  if (!m) throw new CalendarError('bad-response', `${context}: Exchange's Subscribe answer holds no response message.`);
  if (!m.ok) return { code: m.code, text: m.text };
  const id = text(m.node.SubscriptionId);
  if (!id) throw new CalendarError('bad-response', `${context}: Exchange's Subscribe answer holds no SubscriptionId.`);
  return { subscriptionId: id };
}

export function readUnsubscribeResponse(xml: string, context: string): { code: string; text: string } | null {
  const m = responseMessages(xml, 'Unsubscribe', context)[0];
  return !m || m.ok ? null : { code: m.code, text: m.text };
}

export interface StreamingNotification {
  subscriptionId: string;
  /** Event element names, e.g. ['CreatedEvent', 'ModifiedEvent']; StatusEvent included when sent. */
  events: string[];
}

export interface StreamingMessage {
  ok: boolean;
  code: string;
  text: string;
  connectionStatus: 'OK' | 'Closed' | null;
  errorSubscriptionIds: string[];
  notifications: StreamingNotification[];
}

/** One envelope of a GetStreamingEvents answer. */
export function readStreamingEnvelope(xml: string, context: string): StreamingMessage[] {
  return responseMessages(xml, 'GetStreamingEvents', context).map((m) => {
    const status = text(m.node.ConnectionStatus);
    const notifications = asArray((m.node.Notifications as Node | undefined)?.Notification).map((n) => {
      const node = (n && typeof n === 'object' ? n : {}) as Node;
      const events: string[] = [];
      for (const [key, value] of Object.entries(node)) if (/Event$/.test(key)) for (let i = 0; i < asArray(value).length; i++) events.push(key);
      return { subscriptionId: text(node.SubscriptionId), events };
    });
    return {
      ok: m.ok,
      code: m.code,
      text: m.text,
      connectionStatus: status === 'OK' || status === 'Closed' ? status : null,
      errorSubscriptionIds: asArray((m.node.ErrorSubscriptionIds as Node | undefined)?.SubscriptionId).map(text).filter((id) => id.length > 0),
      notifications,
    };
  });
}

export interface SyncPage {
  syncState: string;
  includesLastItemInRange: boolean;
  changes: number;
}

export function readSyncFolderItemsResponse(xml: string, context: string): SyncPage | { code: string; text: string } {
  const m = responseMessages(xml, 'SyncFolderItems', context)[0];
  if (!m) throw new CalendarError('bad-response', `${context}: Exchange's SyncFolderItems answer holds no response message.`);
  if (!m.ok) return { code: m.code, text: m.text };
  const syncState = text(m.node.SyncState);
  if (!syncState) throw new CalendarError('bad-response', `${context}: Exchange answered SyncFolderItems without a sync state.`);
  const changes = (m.node.Changes && typeof m.node.Changes === 'object' ? m.node.Changes : {}) as Node;
  let count = 0;
  for (const [key, value] of Object.entries(changes)) if (!key.startsWith('@')) count += asArray(value).length;
  return { syncState, includesLastItemInRange: text(m.node.IncludesLastItemInRange) !== 'false', changes: count };
}
