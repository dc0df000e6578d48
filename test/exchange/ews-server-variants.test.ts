import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEwsSimulator, type EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { CalendarError } from '../../src-main/exchange/calendar-connector.ts';
import { EwsCalendarConnector } from '../../src-main/exchange/ews/ews-calendar-connector.ts';
import type { EwsConnectorOptions } from '../../src-main/exchange/ews/ews-connector-options.ts';
import { grantImpersonationFix, runEwsDiagnostics, verifyOwnMailboxLogin } from '../../src-main/exchange/ews/ews-diagnostics.ts';
import { offeredSchemes, notOfferedSentence } from '../../src-main/exchange/ews/ews-auth-offer.ts';
import { readSoapFault } from '../../src-main/exchange/ews/ews-soap-fault.ts';
import { problemFor } from '../../src-main/sync/sync-problems.ts';
import { ewsTestSeed } from './fixtures/ews-test-seed.ts';

/**
 * Servers that behave differently from the usual Exchange, over HTTP with the real connector and the diagnostics:
 * SOAP faults with HTTP 200 and/or without detail, a server that refuses GET before any login and offers only Basic,
 * and servers whose answers prove nothing (a check passes only on proof).
 */

const AINO = 'aino.virtanen@contoso.example';
const SARA = 'sara.nieminen@contoso.example';
const LIMITED = { username: 'svc-limited', password: 'demo-limited-password' };

function settings(url: string, overrides: Partial<EwsConnectorOptions> = {}): EwsConnectorOptions {
  return {
    ewsUrl: url,
    serverType: 'Exchange2016',
    domain: 'CONTOSO',
    username: 'svc-severa-sync',
    password: 'demo-delegate-password',
    authMethod: 'ntlm',
    defaultTimeZone: 'Europe/Helsinki',
    timeoutMs: 5_000,
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<CalendarError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CalendarError);
    return error as CalendarError;
  }
  throw new Error('expected a CalendarError, the call succeeded');
}

describe('a SOAP fault read whatever the HTTP status', () => {
  let sim: EwsSimulator;
  beforeAll(async () => {
    sim = await startEwsSimulator({ seed: ewsTestSeed() });
  });
  afterAll(async () => {
    await sim?.close();
  });

  const styles = [
    { name: 'HTTP 200 without detail (as seen on a real server)', style: { httpStatus: 200 as const, detail: false } },
    { name: 'HTTP 200 with detail', style: { httpStatus: 200 as const } },
    { name: 'HTTP 500 without detail', style: { detail: false } },
    { name: 'HTTP 200, s:Client and the faultstring only', style: { httpStatus: 200 as const, detail: false, faultCode: 'client' as const } },
    { name: 'HTTP 500, s:Client and the faultstring only', style: { detail: false, faultCode: 'client' as const } },
  ];

  it.each(styles)('impersonation denied, $name: the user is told the delegate may not open the mailbox, with the fix', async ({ style }) => {
    sim.setFaults({ faultStyle: style });
    try {
      const error = await rejection(new EwsCalendarConnector(settings(sim.url, LIMITED)).syncChanges(SARA, null));
      expect(error).toMatchObject({ code: 'impersonation-denied', serverCode: 'ErrorImpersonateUserDenied' });
      expect(error.message).toBe(`Reading calendar changes (${SARA}): The delegate account may not impersonate this mailbox (ApplicationImpersonation role missing or scoped out). (ErrorImpersonateUserDenied)`);
      expect(error.message).not.toMatch(/ResponseMessages|Cannot read properties/);
      const problem = problemFor(error, { mailbox: SARA, what: 'reading calendar changes' });
      expect(problem).toMatchObject({ code: 'impersonation-denied', message: `The delegate account may not open the mailbox ${SARA}.` });
      expect(problem.fix).toContain('ApplicationImpersonation');
      // The same connector goes on for a mailbox it may open.
      await expect(new EwsCalendarConnector(settings(sim.url, LIMITED)).syncChanges(AINO, null)).resolves.toHaveProperty('syncState');
    } finally {
      sim.setFaults({});
    }
  });

  it('the activation check says impersonation is denied for that mailbox, with the PowerShell fix, when the fault comes with HTTP 200 and no detail', async () => {
    sim.setFaults({ faultStyle: { httpStatus: 200, detail: false } });
    try {
      const checks = await runEwsDiagnostics({ connector: settings(sim.url, LIMITED), emails: [AINO, SARA] });
      expect(checks.find((c) => c.id === `impersonation:${AINO}`)).toMatchObject({ ok: true });
      expect(checks.find((c) => c.id === `impersonation:${SARA}`)).toEqual({
        id: `impersonation:${SARA}`,
        title: `Access to ${SARA}`,
        ok: false,
        message: `CONTOSO\\svc-limited is not allowed to impersonate ${SARA}.`,
        fix: grantImpersonationFix(),
      });
    } finally {
      sim.setFaults({});
    }
  });

  it('throttling in a 200 fault is throttled, with the back-off when detail carries it', async () => {
    sim.setFaults({ faultStyle: { httpStatus: 200 }, serverBusyBackOffMs: 2_500, forceNext: { kind: 'serverBusy', count: 1 } });
    expect(await rejection(new EwsCalendarConnector(settings(sim.url)).syncChanges(AINO, null))).toMatchObject({ code: 'throttled', retryAfterMs: 2_500, serverCode: 'ErrorServerBusy' });
    sim.setFaults({ faultStyle: { httpStatus: 200, detail: false, faultCode: 'server' }, forceNext: { kind: 'serverBusy', count: 1 } });
    expect(await rejection(new EwsCalendarConnector(settings(sim.url)).syncChanges(AINO, null))).toMatchObject({ code: 'throttled', serverCode: 'ErrorServerBusy' });
    sim.setFaults({});
  });

  it("a generic fault nobody recognises keeps the server's words and code: s:Client refused, s:Server passing", async () => {
    const old = await startEwsSimulator({ seed: ewsTestSeed({ version: 'Exchange2010_SP2' }), faults: { faultStyle: { httpStatus: 200, detail: false, faultCode: 'client' } } });
    try {
      const error = await rejection(new EwsCalendarConnector(settings(old.url)).syncChanges(AINO, null));
      expect(error.code).toBe('other');
      expect(error.message).toMatch(new RegExp(`^Reading calendar changes \\(${AINO}\\): Exchange refused the request: .+ \\(s:Client, HTTP 200\\)$`));
    } finally {
      await old.close();
    }
    const fault = readSoapFault(
      '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>Mailbox database offline</faultstring></s:Fault></s:Body></s:Envelope>',
      500,
    );
    expect(fault).toMatchObject({ responseCode: null, genericKind: 'Server', faultString: 'Mailbox database offline' });
  });
});

describe('a login needs proof', () => {
  let basicOnly: EwsSimulator;
  beforeAll(async () => {
    basicOnly = await startEwsSimulator({ seed: ewsTestSeed({ authMethods: ['Basic'], refuseGet: true }) });
  });
  afterAll(async () => {
    await basicOnly?.close();
  });

  it('NTLM set, the server refuses GET and offers only Basic: check fails the login, naming what the server offers and what to set', async () => {
    const checks = await runEwsDiagnostics({ connector: settings(basicOnly.url), emails: [AINO] });
    expect(checks.map((c) => [c.id, c.ok])).toEqual([
      ['ews-url', true],
      ['tls', true],
      ['delegate-login', false],
    ]);
    const login = checks.at(-1)!;
    expect(login.message).toBe('Exchange does not offer NTLM logins at this address, so CONTOSO\\svc-severa-sync could not log in.');
    expect(login.fix).toBe('The server offers Basic only; set the authentication method to Basic. Or enable Windows authentication (NTLM) on the EWS virtual directory.');
    expect(checks.map((c) => c.message).join(' ')).not.toMatch(/logged in|405/);
  });

  it('the sync itself reports a clear auth problem for the same settings, and Basic works there', async () => {
    const error = await rejection(new EwsCalendarConnector(settings(basicOnly.url)).syncChanges(AINO, null));
    expect(error.code).toBe('auth');
    expect(error.message).toBe('Exchange did not start an NTLM login (HTTP 401). The server offers Basic only; set the authentication method to Basic.');
    expect(problemFor(error, { mailbox: AINO, what: 'reading calendar changes' }).code).toBe('exchange-auth');
    await expect(new EwsCalendarConnector(settings(basicOnly.url, { authMethod: 'basic' })).syncChanges(AINO, null)).resolves.toHaveProperty('syncState');
    const checks = await runEwsDiagnostics({ connector: settings(basicOnly.url, { authMethod: 'basic' }), emails: [AINO] });
    expect(checks.filter((c) => c.id !== 'clock' && !c.ok)).toEqual([]);
    expect(checks.find((c) => c.id === 'delegate-login')?.message).toBe('CONTOSO\\svc-severa-sync logged in with Basic (Exchange resolved its name, which needs a login).');
  });

  it("a user proving their mailbox on that server is told the method is not offered, not that their password is wrong", async () => {
    const { username: _u, password: _p, ...own } = settings(basicOnly.url);
    expect(await verifyOwnMailboxLogin(own, AINO, 'demo-aino-password')).toEqual({
      ok: false,
      message: 'Exchange does not offer the login method the sync is set to use, so your password could not be checked.',
      fix: 'Ask the admin: The server offers Basic only; set the authentication method to Basic.',
    });
    expect(await verifyOwnMailboxLogin({ ...own, authMethod: 'basic' }, AINO, 'demo-aino-password')).toEqual({ ok: true, primaryAddress: AINO });
  });

  it('NTLM still works on a server that refuses GET but offers NTLM (the negotiate goes on a POST)', async () => {
    const noGet = await startEwsSimulator({ seed: ewsTestSeed({ refuseGet: true }) });
    try {
      await expect(new EwsCalendarConnector(settings(noGet.url)).syncChanges(AINO, null)).resolves.toHaveProperty('syncState');
      const checks = await runEwsDiagnostics({ connector: settings(noGet.url), emails: [AINO] });
      expect(checks.filter((c) => !c.ok)).toEqual([]);
    } finally {
      await noGet.close();
    }
  });

  describe('answers that prove nothing', () => {
    let server: http.Server;
    let base = '';
    const answers: Record<string, { status: number; body: string; type?: string }> = {
      refuses: { status: 405, body: '<html><body>405 - HTTP verb used to access this page is not allowed.</body></html>', type: 'text/html' },
      html: { status: 200, body: '<html><body><form action="/owa/auth.owa">Sign in</form></body></html>', type: 'text/html' },
    };
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          const a = answers[(req.url ?? '').split('/')[1]];
          res.writeHead(a.status, { 'content-type': a.type ?? 'text/xml' });
          res.end(a.body);
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((r) => server.close(r));
    });

    it.each([
      ['an HTTP 405 to everything', 'refuses', /could not be proved: Exchange answered HTTP 405\./],
      ['a sign-in page with HTTP 200', 'html', /could not be proved: .*instead of a SOAP envelope/],
    ])('%s is neither an EWS address nor a login', async (_name, path, loginMessage) => {
      for (const authMethod of ['ntlm', 'basic'] as const) {
        const checks = await runEwsDiagnostics({ connector: settings(`${base}/${path}/EWS/Exchange.asmx`, { authMethod }), emails: [AINO] });
        expect(checks.map((c) => [c.id, c.ok])).toEqual([
          ['ews-url', false],
          ['tls', true],
          ['delegate-login', false],
        ]);
        expect(checks[0].message).toMatch(/not with the login question \(HTTP 401\) of an EWS endpoint, so it could not be proved to be EWS/);
        expect(checks[2].message).toMatch(loginMessage);
        expect(checks[2].fix).toBeTruthy();
      }
    });
  });
});

describe('what a server offers', () => {
  it('reads the schemes from WWW-Authenticate, parameters and tokens left out', () => {
    expect(offeredSchemes('Negotiate, NTLM, Basic realm="exch01.contoso.example"')).toEqual(['Negotiate', 'NTLM', 'Basic']);
    expect(offeredSchemes('Basic realm="a, b", charset="UTF-8"')).toEqual(['Basic']);
    expect(offeredSchemes('NTLM TlRMTVNTUAACAAAA')).toEqual(['NTLM']);
    expect(offeredSchemes(null)).toEqual([]);
  });

  it('names the method to set, or what to enable when none fits', () => {
    expect(notOfferedSentence('ntlm', 'Basic realm="x"')).toBe('The server offers Basic only; set the authentication method to Basic.');
    expect(notOfferedSentence('basic', 'Negotiate, NTLM')).toBe('The server offers NTLM only; set the authentication method to NTLM.');
    expect(notOfferedSentence('ntlm', 'Negotiate')).toBeNull();
    expect(notOfferedSentence('basic', '')).toBeNull();
    expect(notOfferedSentence('ntlm', 'Bearer realm="x"')).toMatch(/^The server offers Bearer only, which this sync cannot use; enable/);
  });
});
