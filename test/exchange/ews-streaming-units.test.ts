/**
 * The change watch's pieces without a server: splitting a streamed body into envelopes, reading GetStreamingEvents /
 * Subscribe / SyncFolderItems answers, the affinity cookie, which refusals mean "no streaming here", the settings'
 * defaults; and over plain HTTP, what the stream reader makes of answers a real network can give (a proxy's HTML
 * page, a login refused, a body cut off mid-envelope, silence, a DOCTYPE).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CalendarError } from '../../src-main/exchange/calendar-connector.ts';
import { backEndCookieOf, refusesStreaming } from '../../src-main/exchange/ews/ews-notification-client.ts';
import { getStreamingEventsRequest, readStreamingEnvelope, readSubscribeResponse, readSyncFolderItemsResponse, subscribeRequest } from '../../src-main/exchange/ews/ews-notification-soap.ts';
import { EnvelopeSplitter, openEwsStream, type EwsStreamEnd } from '../../src-main/exchange/ews/ews-stream-request.ts';
import type { EwsTransportSettings } from '../../src-main/exchange/ews/ews-transport.ts';
import { watchSettings } from '../../src-main/exchange/ews/ews-watch-options.ts';

const S = 'http://schemas.xmlsoap.org/soap/envelope/';
const M = 'http://schemas.microsoft.com/exchange/services/2006/messages';
const T = 'http://schemas.microsoft.com/exchange/services/2006/types';

function gse(message: string, prefix = 's'): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><${prefix}:Envelope xmlns:${prefix}="${S}"><${prefix}:Body>` +
    `<m:GetStreamingEventsResponse xmlns:m="${M}" xmlns:t="${T}"><m:ResponseMessages>${message}</m:ResponseMessages></m:GetStreamingEventsResponse>` +
    `</${prefix}:Body></${prefix}:Envelope>`
  );
}

const NOTE = `<m:GetStreamingEventsResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Notifications>
<m:Notification><t:SubscriptionId>sub-1</t:SubscriptionId><t:CreatedEvent><t:TimeStamp>2026-01-01T00:00:00Z</t:TimeStamp><t:ItemId Id="a"/></t:CreatedEvent><t:ModifiedEvent><t:TimeStamp>2026-01-01T00:00:00Z</t:TimeStamp><t:FolderId Id="f"/></t:ModifiedEvent></m:Notification>
<m:Notification><t:SubscriptionId>sub-2</t:SubscriptionId><t:MovedEvent><t:ItemId Id="b"/></t:MovedEvent><t:MovedEvent><t:ItemId Id="c"/></t:MovedEvent></m:Notification>
</m:Notifications><m:ConnectionStatus>OK</m:ConnectionStatus></m:GetStreamingEventsResponseMessage>`;

describe('EnvelopeSplitter', () => {
  it('splits envelopes however the chunks fall, dropping the declarations between them', () => {
    const text = gse(NOTE) + gse('<m:GetStreamingEventsResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:ConnectionStatus>OK</m:ConnectionStatus></m:GetStreamingEventsResponseMessage>', 'soap');
    for (const size of [1, 7, 64, text.length]) {
      const splitter = new EnvelopeSplitter(1_000_000);
      const out: string[] = [];
      for (let i = 0; i < text.length; i += size) out.push(...splitter.push(text.slice(i, i + size)));
      expect(out).toHaveLength(2);
      expect(out[0].startsWith('<s:Envelope')).toBe(true);
      expect(out[1].endsWith('</soap:Envelope>')).toBe(true);
      expect(splitter.pending()).toBe(false);
    }
  });

  it('refuses a DOCTYPE and an envelope over the size limit; knows a half-received envelope', () => {
    expect(() => new EnvelopeSplitter(1000).push('<!DOCTYPE x [<!ENTITY a "b">]>')).toThrow(/DOCTYPE/);
    const small = new EnvelopeSplitter(100);
    expect(() => small.push(`<s:Envelope xmlns:s="${S}">${'x'.repeat(200)}`)).toThrow(CalendarError);
    const half = new EnvelopeSplitter(10_000);
    half.push(`<s:Envelope xmlns:s="${S}"><s:Body>`);
    expect(half.pending()).toBe(true);
  });
});

describe('reading the answers', () => {
  it('reads notifications (every event counted), keep-alives, subscription errors and the connection status', () => {
    const [note] = readStreamingEnvelope(gse(NOTE), 'test');
    expect(note).toMatchObject({ ok: true, code: 'NoError', connectionStatus: 'OK', errorSubscriptionIds: [] });
    expect(note.notifications).toEqual([
      { subscriptionId: 'sub-1', events: ['CreatedEvent', 'ModifiedEvent'] },
      { subscriptionId: 'sub-2', events: ['MovedEvent', 'MovedEvent'] },
    ]);
    const error = `<m:GetStreamingEventsResponseMessage ResponseClass="Error"><m:MessageText>lost</m:MessageText><m:ResponseCode>ErrorMissedNotificationEvents</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:ErrorSubscriptionIds><m:SubscriptionId>sub-1</m:SubscriptionId><m:SubscriptionId>sub-2</m:SubscriptionId></m:ErrorSubscriptionIds><m:ConnectionStatus>Closed</m:ConnectionStatus></m:GetStreamingEventsResponseMessage>`;
    expect(readStreamingEnvelope(gse(error), 'test')[0]).toMatchObject({ ok: false, code: 'ErrorMissedNotificationEvents', text: 'lost', errorSubscriptionIds: ['sub-1', 'sub-2'], connectionStatus: 'Closed', notifications: [] });
  });

  it('turns a SOAP fault or a body that is no EWS answer into a CalendarError', () => {
    const fault = `<s:Envelope xmlns:s="${S}"><s:Body><s:Fault><faultcode xmlns:a="${T}">a:ErrorServerBusy</faultcode><faultstring>busy</faultstring><detail><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorServerBusy</e:ResponseCode></detail></s:Fault></s:Body></s:Envelope>`;
    expect(() => readStreamingEnvelope(fault, 'test')).toThrow(expect.objectContaining({ code: 'throttled', serverCode: 'ErrorServerBusy' }));
    expect(() => readStreamingEnvelope(`<s:Envelope xmlns:s="${S}"><s:Body><x/></s:Body></s:Envelope>`, 'test')).toThrow(/no GetStreamingEventsResponse/);
    expect(() => readStreamingEnvelope(`<s:Envelope xmlns:s="${S}"><s:Body>`, 'test')).toThrow(/malformed/);
  });

  it('reads Subscribe and SyncFolderItems answers', () => {
    const sub = (inner: string): string => `<s:Envelope xmlns:s="${S}"><s:Body><m:SubscribeResponse xmlns:m="${M}"><m:ResponseMessages>${inner}</m:ResponseMessages></m:SubscribeResponse></s:Body></s:Envelope>`;
    expect(readSubscribeResponse(sub('<m:SubscribeResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:SubscriptionId>abc=</m:SubscriptionId></m:SubscribeResponseMessage>'), 't')).toEqual({ subscriptionId: 'abc=' });
    expect(readSubscribeResponse(sub('<m:SubscribeResponseMessage ResponseClass="Error"><m:MessageText>no</m:MessageText><m:ResponseCode>ErrorSubscriptionDelegateAccessNotSupported</m:ResponseCode></m:SubscribeResponseMessage>'), 't')).toEqual({ code: 'ErrorSubscriptionDelegateAccessNotSupported', text: 'no' });
    const sync = (changes: string, last: string): string =>
      `<s:Envelope xmlns:s="${S}"><s:Body><m:SyncFolderItemsResponse xmlns:m="${M}" xmlns:t="${T}"><m:ResponseMessages><m:SyncFolderItemsResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:SyncState>st</m:SyncState><m:IncludesLastItemInRange>${last}</m:IncludesLastItemInRange><m:Changes>${changes}</m:Changes></m:SyncFolderItemsResponseMessage></m:ResponseMessages></m:SyncFolderItemsResponse></s:Body></s:Envelope>`;
    expect(readSyncFolderItemsResponse(sync('', 'true'), 't')).toEqual({ syncState: 'st', includesLastItemInRange: true, changes: 0 });
    expect(readSyncFolderItemsResponse(sync('<t:Create><t:CalendarItem/></t:Create><t:Create><t:CalendarItem/></t:Create><t:Delete><t:ItemId Id="x"/></t:Delete>', 'false'), 't')).toEqual({ syncState: 'st', includesLastItemInRange: false, changes: 3 });
  });

  it('writes requests as the EWS reference shows them, escaping what it puts in', () => {
    const sub = subscribeRequest({ version: 'Exchange2016', impersonate: 'a&b@contoso.example' });
    expect(sub).toContain('<m:StreamingSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="calendar"/></t:FolderIds>');
    expect(sub).toContain('<t:SmtpAddress>a&amp;b@contoso.example</t:SmtpAddress>');
    expect(subscribeRequest({ version: 'Exchange2007_SP1', impersonate: 'x@y.example' })).toContain('<t:PrimarySmtpAddress>x@y.example</t:PrimarySmtpAddress>');
    expect(getStreamingEventsRequest({ version: 'Exchange2013_SP1', impersonate: null }, ['a', 'b'], 30)).toContain(
      '<m:GetStreamingEvents><m:SubscriptionIds><t:SubscriptionId>a</t:SubscriptionId><t:SubscriptionId>b</t:SubscriptionId></m:SubscriptionIds><m:ConnectionTimeout>30</m:ConnectionTimeout></m:GetStreamingEvents>',
    );
  });

  it('finds the affinity cookie among Set-Cookie headers, and knows which refusals mean no streaming', () => {
    expect(backEndCookieOf(['exchangecookie=ddb8; path=/', 'X-BackEndOverrideCookie=CO1PR06MB222.namprd06.prod.outlook.com~1941996295; path=/; secure; HttpOnly'])).toBe('CO1PR06MB222.namprd06.prod.outlook.com~1941996295');
    expect(backEndCookieOf('X-BackEndCookie=alfred@contoso.com=Ox8XKzcXLxg==; path=/EWS')).toBeNull();
    expect(backEndCookieOf(undefined)).toBeNull();
    expect(refusesStreaming(new CalendarError('config', 'x', { serverCode: 'ErrorInvalidServerVersion' }))).toBe(true);
    expect(refusesStreaming(new CalendarError('other', 'x', { serverCode: 'ErrorInvalidRequest' }))).toBe(true);
    expect(refusesStreaming(new CalendarError('transient', 'x', { serverCode: 'ErrorServerBusy' }))).toBe(false);
  });

  it('settings: 30-minute connections renewed a minute early, 200 per connection, one connection under the limit', () => {
    const base = { client: null as never, version: 'Exchange2016', streamingSupported: true, pollIntervalMs: 60_000, requestTimeoutMs: 100_000 };
    expect(watchSettings({ ...base, hangingConnectionLimit: 10, options: {} })).toMatchObject({ timeoutMinutes: 30, renewAfterMs: 29 * 60_000, perConnection: 200, maxConnections: 9, idleTimeoutMs: 90_000 });
    expect(watchSettings({ ...base, hangingConnectionLimit: 3, options: { connectionTimeoutMinutes: 99, subscriptionsPerConnection: 500 } })).toMatchObject({ timeoutMinutes: 30, perConnection: 200, maxConnections: 2 });
    expect(watchSettings({ ...base, hangingConnectionLimit: 10, options: { connectionTimeoutMinutes: 1, minuteMs: 1000 } }).renewAfterMs).toBe(900);
  });
});

describe('the stream reader against answers a network can give', () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
  });

  async function serve(handler: http.RequestListener): Promise<string> {
    const server = http.createServer(handler);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/EWS/Exchange.asmx`;
  }

  const settings: EwsTransportSettings = { authMethod: 'basic', domain: '', username: 'u', password: 'p', timeoutMs: 2000, maxResponseBytes: 1_000_000 };

  function open(url: string, onEnvelope: (xml: string) => void = () => undefined, idleTimeoutMs = 2000) {
    return openEwsStream(settings, {}, { url, body: '<x/>', headers: {}, basicAuthorization: 'Basic dTpw', connectTimeoutMs: 2000, idleTimeoutMs, maxEnvelopeBytes: 100_000, onEnvelope });
  }

  it("a proxy's HTML 502, a refused login and an EWS fault are refused before any streaming", async () => {
    const html = await serve((_q, r) => {
      r.writeHead(502, { 'Content-Type': 'text/html' });
      r.end('<html>Bad gateway</html>');
    });
    await expect(open(html)).rejects.toMatchObject({ code: 'transient', serverCode: 'HTTP502' });
    const login = await serve((_q, r) => {
      r.writeHead(401, { 'WWW-Authenticate': 'Negotiate, NTLM' });
      r.end();
    });
    await expect(open(login)).rejects.toMatchObject({ code: 'auth' });
    const fault = await serve((_q, r) => {
      r.writeHead(500, { 'Content-Type': 'text/xml' });
      r.end(`<s:Envelope xmlns:s="${S}"><s:Body><s:Fault><faultcode xmlns:a="${T}">a:ErrorImpersonateUserDenied</faultcode><faultstring>no</faultstring></s:Fault></s:Body></s:Envelope>`);
    });
    await expect(open(fault)).rejects.toMatchObject({ code: 'impersonation-denied' });
  });

  it('delivers envelopes as they come; a body cut off mid-envelope, silence and a DOCTYPE end it as failures', async () => {
    const got: string[] = [];
    const cut = await serve((_q, r) => {
      r.writeHead(200, { 'Content-Type': 'text/xml' });
      r.write(gse(NOTE));
      r.write(`<s:Envelope xmlns:s="${S}"><s:Body>`);
      setTimeout(() => r.socket?.destroy(), 50);
    });
    const stream = await open(cut, (xml) => got.push(xml));
    expect(await stream.done).toMatchObject({ kind: 'failed', error: { code: 'transient' } });
    expect(got).toHaveLength(1);

    const silent = await serve((_q, r) => {
      r.writeHead(200, { 'Content-Type': 'text/xml' });
      r.write(' ');
    });
    const quiet = await open(silent, () => undefined, 200);
    const end: EwsStreamEnd = await quiet.done;
    expect(end).toMatchObject({ kind: 'failed', error: { serverCode: 'STREAM_SILENT' } });

    const doctype = await serve((_q, r) => {
      r.writeHead(200, { 'Content-Type': 'text/xml' });
      r.write('<!DOCTYPE lol [<!ENTITY a "aaaa">]>');
    });
    expect(await (await open(doctype)).done).toMatchObject({ kind: 'failed', error: { code: 'bad-response' } });

    const orderly = await serve((_q, r) => {
      r.writeHead(200, { 'Content-Type': 'text/xml' });
      r.end(gse(NOTE));
    });
    const fine = await open(orderly);
    expect(await fine.done).toEqual({ kind: 'ended' });
  });
});
