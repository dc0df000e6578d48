import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEwsSimulator, type EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { CalendarError } from '../../src-main/exchange/calendar-connector.ts';
import { EwsCalendarConnector } from '../../src-main/exchange/ews/ews-calendar-connector.ts';
import type { EwsConnectorOptions } from '../../src-main/exchange/ews/ews-connector-options.ts';
import { grantImpersonationFix, runEwsDiagnostics, verifyOwnMailboxLogin } from '../../src-main/exchange/ews/ews-diagnostics.ts';
import { ewsTestSeed } from './fixtures/ews-test-seed.ts';
import { hasOpenssl, makeTestCertificates, startTlsFront, type TestCertificates } from './fixtures/tls-fixtures.ts';

const AINO = 'aino.virtanen@contoso.example';
const SARA = 'sara.nieminen@contoso.example';

let sim: EwsSimulator;

function settings(overrides: Partial<EwsConnectorOptions> = {}): EwsConnectorOptions {
  return {
    ewsUrl: sim.url,
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

beforeAll(async () => {
  sim = await startEwsSimulator({ seed: ewsTestSeed() });
});

afterAll(async () => {
  await sim?.close();
});

describe.skipIf(!hasOpenssl())('TLS (skipped only where openssl is missing)', () => {
  let certs: TestCertificates;
  let front: { url: string; close(): Promise<void> };
  let expiredFront: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    certs = makeTestCertificates();
    front = await startTlsFront(sim.url, certs.serverKey, certs.serverCert);
    expiredFront = await startTlsFront(sim.url, certs.serverKey, certs.expiredCert);
  });

  afterAll(async () => {
    await front?.close();
    await expiredFront?.close();
  });

  it('a server certificate from a private CA is refused until that CA is given, then NTLM works over TLS', async () => {
    let error: unknown;
    try {
      await new EwsCalendarConnector(settings({ ewsUrl: front.url })).syncChanges(AINO, null);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CalendarError);
    expect((error as CalendarError).code).toBe('tls');
    expect((error as CalendarError).message).toMatch(/does not trust/);

    const trusting = new EwsCalendarConnector(settings({ ewsUrl: front.url, caCertificates: certs.caPem }));
    await expect(trusting.syncChanges(AINO, null)).resolves.toHaveProperty('syncState');

    // Trusting the CA for the connector did not change what the rest of the process trusts.
    expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
    const plain = await new Promise<string>((resolve) => {
      https.get(front.url, (res) => resolve(`status ${res.statusCode}`)).on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(plain).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('an expired certificate is named as expired, even with the CA trusted', async () => {
    const checks = await runEwsDiagnostics({ connector: settings({ ewsUrl: expiredFront.url, caCertificates: certs.caPem }), emails: [AINO] });
    const tlsCheck = checks.find((c) => c.id === 'tls');
    expect(tlsCheck).toMatchObject({ ok: false });
    expect(tlsCheck?.message).toMatch(/expired/);
    expect(tlsCheck?.fix).toMatch(/Renew/);
    // Nothing after a TLS failure is reported as a separate failure.
    expect(checks.map((c) => c.id)).toEqual(['ews-url', 'tls']);
  });

  it('diagnostics over TLS name the certificate and pass with the CA file', async () => {
    const checks = await runEwsDiagnostics({ connector: settings({ ewsUrl: front.url, caCertificates: certs.caPem }), emails: [AINO] });
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(checks.find((c) => c.id === 'tls')?.message).toMatch(/127\.0\.0\.1 \(issued by Contoso Test Root CA\)/);
  });
});

describe('activation diagnostics against the simulator', () => {
  it('all pass for the delegate with impersonation rights; an alias is recognised', async () => {
    const checks = await runEwsDiagnostics({ connector: settings(), emails: [AINO, 's.nieminen@contoso.example'] });
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => c.id)).toEqual([
      'ews-url',
      'tls',
      'delegate-login',
      `mailbox:${AINO}`,
      `impersonation:${AINO}`,
      'mailbox:s.nieminen@contoso.example',
      'impersonation:s.nieminen@contoso.example',
      'clock',
    ]);
    expect(checks.find((c) => c.id === 'mailbox:s.nieminen@contoso.example')?.message).toBe(`s.nieminen@contoso.example is a secondary address of the mailbox ${SARA}.`);
    expect(checks.find((c) => c.id === 'delegate-login')?.message).toBe('CONTOSO\\svc-severa-sync logged in with NTLM (Exchange resolved its name, which needs a login).');
  });

  it('a delegate without impersonation for a mailbox gets the PowerShell fix; an unknown address gets the domain fix', async () => {
    const checks = await runEwsDiagnostics({ connector: settings({ username: 'svc-limited', password: 'demo-limited-password' }), emails: [AINO, SARA, 'nobody@contoso.example'] });
    expect(checks.find((c) => c.id === `impersonation:${AINO}`)?.ok).toBe(true);
    const denied = checks.find((c) => c.id === `impersonation:${SARA}`);
    expect(denied).toMatchObject({ ok: false, message: `CONTOSO\\svc-limited is not allowed to impersonate ${SARA}.`, fix: grantImpersonationFix() });
    expect(denied?.fix).toContain('New-ManagementRoleAssignment -Name "SeveraSync" -Role ApplicationImpersonation -User svc-severa-sync');
    expect(denied?.fix).toContain('New-ManagementScope');
    const unknown = checks.find((c) => c.id === 'mailbox:nobody@contoso.example');
    expect(unknown).toMatchObject({ ok: false });
    expect(unknown?.fix).toMatch(/secondary address/);
  });

  it('a wrong password stops at the login and says what the server offers', async () => {
    const checks = await runEwsDiagnostics({ connector: settings({ password: 'wrong', authMethod: 'basic' }), emails: [AINO] });
    expect(checks.map((c) => c.id)).toEqual(['ews-url', 'tls', 'delegate-login']);
    const login = checks.at(-1)!;
    expect(login.ok).toBe(false);
    expect(login.message).toMatch(/refused CONTOSO\\svc-severa-sync with Basic; the server offers: .*NTLM/);
  });

  it('a wrong password fails the login check even with no enrolled user and a bare account name', async () => {
    for (const authMethod of ['ntlm', 'basic'] as const) {
      const checks = await runEwsDiagnostics({ connector: settings({ password: 'wrong', authMethod }), emails: [] });
      expect(checks.find((c) => c.id === 'delegate-login')).toMatchObject({ ok: false });
      const good = await runEwsDiagnostics({ connector: settings({ authMethod }), emails: [] });
      expect(good.find((c) => c.id === 'delegate-login')).toMatchObject({ ok: true });
    }
  });

  it('Basic where the server offers only NTLM: the fix says to switch methods', async () => {
    const ntlmOnly = await startEwsSimulator({ seed: ewsTestSeed({ authMethods: ['Negotiate', 'NTLM'] }) });
    try {
      const checks = await runEwsDiagnostics({ connector: settings({ ewsUrl: ntlmOnly.url, authMethod: 'basic' }), emails: [AINO] });
      expect(checks.at(-1)).toMatchObject({ id: 'delegate-login', ok: false, message: 'Exchange does not offer Basic logins at this address, so CONTOSO\\svc-severa-sync could not log in.' });
      expect(checks.at(-1)?.fix).toBe('The server offers NTLM only; set the authentication method to NTLM. Or enable Basic authentication on the EWS virtual directory.');
    } finally {
      await ntlmOnly.close();
    }
  });

  it('a clock more than 60 s off fails the clock check; a few seconds do not', async () => {
    sim.setClockSkewMs(-3 * 60_000 - 12_000);
    const skewed = await runEwsDiagnostics({ connector: settings(), emails: [AINO] });
    expect(skewed.find((c) => c.id === 'clock')).toMatchObject({ ok: false });
    expect(skewed.find((c) => c.id === 'clock')?.message).toMatch(/3 min 1[12] s behind/);
    sim.setClockSkewMs(4_000);
    expect((await runEwsDiagnostics({ connector: settings(), emails: [AINO] })).find((c) => c.id === 'clock')?.ok).toBe(true);
    sim.setClockSkewMs(0);
  });

  it('an unreachable address and a wrong path are reported as such', async () => {
    const down = await runEwsDiagnostics({ connector: settings({ ewsUrl: 'http://127.0.0.1:1/EWS/Exchange.asmx' }), emails: [AINO] });
    expect(down).toEqual([expect.objectContaining({ id: 'ews-url', ok: false })]);
    const wrongPath = await runEwsDiagnostics({ connector: settings({ ewsUrl: sim.url.replace('/EWS/Exchange.asmx', '/owa/') }), emails: [AINO] });
    expect(wrongPath[0]).toMatchObject({ id: 'ews-url', ok: false });
    expect(wrongPath[0].fix).toMatch(/EWS\/Exchange\.asmx/);
    const insecure = await runEwsDiagnostics({ connector: settings({ ewsUrl: 'http://mail.contoso.example/EWS/Exchange.asmx' }), emails: [AINO] });
    expect(insecure[0]).toMatchObject({ id: 'ews-url', ok: false, fix: 'Use the https:// address of the server.' });
  });
});

describe('proving a user owns the mailbox (login without impersonation)', () => {
  const own = () => {
    const { username: _u, password: _p, ...rest } = settings();
    return rest;
  };

  it('accepts the user with their own password, by primary address, or by alias with their sign-in name', async () => {
    expect(await verifyOwnMailboxLogin(own(), AINO, 'demo-aino-password')).toEqual({ ok: true, primaryAddress: AINO });
    expect(await verifyOwnMailboxLogin(own(), 'aino@contoso.example', 'demo-aino-password', AINO)).toEqual({ ok: true, primaryAddress: AINO });
    expect(await verifyOwnMailboxLogin({ ...own(), authMethod: 'basic' }, 'mikko.lahtinen@contoso.example', 'demo-mikko-password', 'mikko.lahtinen')).toEqual({ ok: true, primaryAddress: 'mikko.lahtinen@contoso.example' });
  });

  it('refuses a wrong password, and the right password for someone else’s address', async () => {
    expect(await verifyOwnMailboxLogin(own(), AINO, 'demo-mikko-password')).toMatchObject({ ok: false, message: 'Exchange did not accept this address and password.' });
    // Aino signs in with her own name and password but claims Sara's mailbox.
    const claim = await verifyOwnMailboxLogin(own(), SARA, 'demo-aino-password', 'aino.virtanen@contoso.example');
    expect(claim).toMatchObject({ ok: false, message: `You signed in, but ${SARA} is not your mailbox.` });
    expect(await verifyOwnMailboxLogin(own(), 'not-an-email', 'x')).toMatchObject({ ok: false });
    expect(await verifyOwnMailboxLogin(own(), AINO, '')).toMatchObject({ ok: false });
  });
});
