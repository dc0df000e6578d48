/**
 * Test helpers that talk to the simulator with hand-written SOAP over plain HTTP: for the edge cases a real client
 * would never send (broken XML, XXE, other prefixes) and for checking raw responses. Responses are read with
 * fast-xml-parser, not the simulator's own parser, so a parser bug cannot hide itself.
 */
import { XMLParser } from 'fast-xml-parser';

export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  t: 'http://schemas.microsoft.com/exchange/services/2006/types',
  m: 'http://schemas.microsoft.com/exchange/services/2006/messages',
};

export interface SoapOptions {
  user?: string;
  password?: string;
  version?: string | null;
  impersonate?: string;
  /** Extra SOAP header XML (with t: prefix bound). */
  header?: string;
}

export interface SoapResult {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed body, namespace prefixes removed. */
  json: Record<string, unknown>;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true, parseTagValue: false, isArray: (name) => ['CalendarItem', 'GetItemResponseMessage', 'Create', 'Update', 'Delete', 'Attendee', 'Occurrence', 'DeletedOccurrence', 'Resolution', 'ExtendedProperty'].includes(name) });

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export function envelope(body: string, o: SoapOptions = {}): string {
  const version = o.version === null ? '' : `<t:RequestServerVersion Version="${o.version ?? 'Exchange2016'}"/>`;
  const imp = o.impersonate ? `<t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>${o.impersonate}</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>` : '';
  return (
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${NS.soap}" xmlns:t="${NS.t}" xmlns:m="${NS.m}">` +
    `<soap:Header>${version}${imp}${o.header ?? ''}</soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`
  );
}

export async function post(url: string, xml: string, o: SoapOptions = {}): Promise<SoapResult> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'text/xml; charset=utf-8',
      Authorization: basicAuth(o.user ?? 'CONTOSO\\svc-severa-sync', o.password ?? 'demo-delegate-password'),
    },
    body: xml,
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  if ((res.headers.get('content-type') ?? '').startsWith('text/xml')) json = parser.parse(text) as Record<string, unknown>;
  return { status: res.status, headers: res.headers, text, json };
}

export async function soap(url: string, body: string, o: SoapOptions = {}): Promise<SoapResult> {
  return post(url, envelope(body, o), o);
}

/** Walks a parsed response by element names. */
export function pick(obj: unknown, ...path: Array<string | number>): any {
  let cur: any = obj;
  for (const p of path) {
    if (cur === undefined || cur === null) return undefined;
    cur = cur[p];
  }
  return cur;
}

export function bodyOf(r: SoapResult): any {
  return pick(r.json, 'Envelope', 'Body');
}

/** The fault's ResponseCode, or undefined when the response is not a SOAP fault. */
export function faultCode(r: SoapResult): string | undefined {
  return pick(bodyOf(r), 'Fault', 'detail', 'ResponseCode');
}

/** The response messages of an operation's response, in order. */
export function messages(r: SoapResult, operation: string): any[] {
  const m = pick(bodyOf(r), `${operation}Response`, 'ResponseMessages', `${operation}ResponseMessage`);
  return m === undefined ? [] : Array.isArray(m) ? m : [m];
}

export const itemShape = (base = 'AllProperties', extra = ''): string =>
  `<m:ItemShape><t:BaseShape>${base}</t:BaseShape>${extra ? `<t:AdditionalProperties>${extra}</t:AdditionalProperties>` : ''}</m:ItemShape>`;

export function createXml(items: string, send = 'SendToNone'): string {
  return `<m:CreateItem${send ? ` SendMeetingInvitations="${send}"` : ''}><m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId><m:Items>${items}</m:Items></m:CreateItem>`;
}

export function calendarItemXml(subject: string, start: string, end: string, more = ''): string {
  return `<t:CalendarItem><t:Subject>${subject}</t:Subject>${more}<t:Start>${start}</t:Start><t:End>${end}</t:End></t:CalendarItem>`;
}

export async function createOne(url: string, mailbox: string, subject: string, start: string, end: string, more = ''): Promise<{ id: string; changeKey: string }> {
  const r = await soap(url, createXml(calendarItemXml(subject, start, end, more)), { impersonate: mailbox });
  const m = messages(r, 'CreateItem')[0];
  if (m?.ResponseCode !== 'NoError') throw new Error(`CreateItem failed: ${r.text}`);
  const id = m.Items.CalendarItem[0].ItemId;
  return { id: id['@Id'], changeKey: id['@ChangeKey'] };
}
