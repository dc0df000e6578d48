import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CalendarError } from '../../src-main/exchange/calendar-connector.ts';
import { EwsCalendarConnector } from '../../src-main/exchange/ews/ews-calendar-connector.ts';
import { containedFailureCount } from '../../src-main/exchange/ews/ews-crash-guard.ts';
import { inspectEwsResponse } from '../../src-main/exchange/ews/ews-transport.ts';

/**
 * A server that answers every EWS request with one hostile body (chosen by the URL path). Each must become a clear
 * CalendarError for the mailbox, without the EWS library ever tripping the process guard.
 */

const ENVELOPE_OPEN = '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>';
const ENVELOPE_CLOSE = '</s:Body></s:Envelope>';
const LAUGHS =
  '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' +
  '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:SyncFolderItemsResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">&lol3;</m:SyncFolderItemsResponse></s:Body></s:Envelope>';

type Answer = { status: number; body: string; headers?: Record<string, string>; truncate?: boolean };

const answers: Record<string, Answer> = {
  malformed: { status: 200, body: `${ENVELOPE_OPEN}<m:SyncFolderItemsResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseMessages>` },
  entities: { status: 200, body: LAUGHS },
  oversize: { status: 200, body: `${ENVELOPE_OPEN}<x>${'a'.repeat(1_200_000)}</x>${ENVELOPE_CLOSE}` },
  html200: { status: 200, body: '<html><body><form action="/owa/auth.owa">Sign in</form></body></html>', headers: { 'content-type': 'text/html' } },
  empty: { status: 200, body: '' },
  faultless500: { status: 500, body: `${ENVELOPE_OPEN}<nothing/>${ENVELOPE_CLOSE}` },
  notxml500: { status: 500, body: 'Internal Server Error' },
  truncated: { status: 200, body: `${ENVELOPE_OPEN}<m:SyncFolderItemsResponse`, truncate: true },
  redirect: { status: 302, body: '', headers: { location: 'https://mail.contoso.example/owa/' } },
};

let server: http.Server;
let base = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const answer = answers[(req.url ?? '').split('/')[1]] ?? answers.empty;
      if (answer.truncate) {
        // Promise more than is sent, then hang up.
        res.writeHead(answer.status, { 'content-type': 'text/xml', 'content-length': String(answer.body.length + 5000) });
        res.write(answer.body);
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'text/xml; charset=utf-8', ...answer.headers });
      res.end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

function connectorFor(route: string): EwsCalendarConnector {
  return new EwsCalendarConnector({
    ewsUrl: `${base}/${route}/EWS/Exchange.asmx`,
    serverType: 'Exchange2016',
    domain: 'CONTOSO',
    username: 'svc-severa-sync',
    password: 'demo-delegate-password',
    authMethod: 'basic',
    timeoutMs: 5_000,
    maxResponseBytes: 1_000_000,
  });
}

describe('hostile or broken answers', () => {
  it.each([
    ['malformed', 'bad-response', /malformed XML/],
    ['entities', 'bad-response', /DOCTYPE/],
    ['oversize', 'bad-response', /larger than/],
    ['html200', 'bad-response', /instead of a SOAP envelope/],
    ['empty', 'bad-response', /empty body/],
    ['faultless500', 'bad-response', /no fault/],
    ['notxml500', 'bad-response', /HTTP 500/],
    ['truncated', 'transient', /dropped/],
    ['redirect', 'config', /redirects/],
  ])('%s -> %s', async (route, code, message) => {
    const before = containedFailureCount();
    let caught: unknown = null;
    try {
      await connectorFor(route).syncChanges('aino.virtanen@contoso.example', null);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CalendarError);
    expect((caught as CalendarError).code).toBe(code);
    expect((caught as CalendarError).message).toMatch(message);
    // The pre-check caught it: the library never got to choke on it.
    expect(containedFailureCount()).toBe(before);
  });
});

describe('inspectEwsResponse', () => {
  const soap = `${ENVELOPE_OPEN}<m:X xmlns:m="urn:x"/>${ENVELOPE_CLOSE}`;
  it('passes SOAP answers, reads SOAP faults itself, refuses the rest', () => {
    expect(inspectEwsResponse(200, {}, soap)).toEqual({ pass: true });
    const fault = inspectEwsResponse(500, {}, `${ENVELOPE_OPEN}<s:Fault><faultcode>a:ErrorServerBusy</faultcode></s:Fault>${ENVELOPE_CLOSE}`);
    expect(fault).toMatchObject({ pass: false, fault: { responseCode: 'ErrorServerBusy', status: 500 }, error: { code: 'throttled' } });
    expect(inspectEwsResponse(200, {}, soap.replace('http://schemas.xmlsoap.org/soap/envelope/', 'https://schemas.xmlsoap.org/soap/envelope/')).pass).toBe(false);
    const busy = inspectEwsResponse(503, { 'retry-after': '7' }, '');
    expect(busy.pass === false && busy.error.code === 'throttled' && busy.error.retryAfterMs === 7000).toBe(true);
    const login = inspectEwsResponse(401, { 'www-authenticate': 'Negotiate, NTLM' }, '');
    expect(login.pass === false && login.error.code === 'auth' && /Negotiate, NTLM/.test(login.error.message)).toBe(true);
  });

  it('reads a fault whatever the status: 200, 500 without detail, 400; other statuses without one stay the status', () => {
    const fault = (code: string) => `${ENVELOPE_OPEN}<s:Fault><faultcode xmlns:a="urn:t">${code}</faultcode><faultstring>The account does not have permission to impersonate the requested user.</faultstring></s:Fault>${ENVELOPE_CLOSE}`;
    for (const status of [200, 500, 400]) {
      const verdict = inspectEwsResponse(status, {}, fault('a:ErrorImpersonateUserDenied'));
      expect(verdict).toMatchObject({ pass: false, fault: { status, responseCode: 'ErrorImpersonateUserDenied', faultCode: 'a:ErrorImpersonateUserDenied' }, error: { code: 'impersonation-denied' } });
    }
    expect(inspectEwsResponse(200, {}, fault('soap:Client'))).toMatchObject({ pass: false, fault: { responseCode: 'ErrorImpersonateUserDenied', genericKind: 'Client' } });
    const gateway = inspectEwsResponse(502, {}, '<html><body>Bad gateway</body></html>');
    expect(gateway).toMatchObject({ pass: false, error: { code: 'transient', message: 'Exchange answered HTTP 502; try again later.' } });
    expect(inspectEwsResponse(405, {}, '')).toMatchObject({ pass: false, error: { code: 'other', message: 'Exchange answered HTTP 405.' } });
  });
});
