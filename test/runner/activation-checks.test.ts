import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgSettings } from '../../src-main/common/settings-schema.ts';
import type { OrgSettings } from '../../src-main/common/settings-schema.ts';
import { CalendarError } from '../../src-main/exchange/calendar-connector.ts';
import type { CalendarConnector } from '../../src-main/exchange/calendar-connector.ts';
import type { SeveraPort } from '../../src-main/sync/severa-port.ts';
import { probeUrl, runActivationChecks } from '../../src-main/runner/activation-checks.ts';
import type { UrlProbe } from '../../src-main/runner/activation-checks.ts';
import { EnvSecretSource } from '../../src-main/runner/env-secret-source.ts';
import { silentLog } from '../../src-main/runner/runner-types.ts';
import type { ConnectorFactory } from '../../src-main/runner/runner-types.ts';

const settings = (exchange: Record<string, unknown> = {}): OrgSettings =>
  orgSettings.parse({
    exchange: { serverType: 'Exchange2016', ewsUrl: 'https://mail.contoso.example/EWS/Exchange.asmx', domain: 'CONTOSO', username: 'svc-severa-sync', ...exchange },
    severa: { clientId: 'demo-client-id' },
    enrollments: [
      { email: 'aino.virtanen@contoso.example', syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' },
      { email: 's.nieminen@contoso.example', syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' },
    ],
  });

const allSecrets = new EnvSecretSource({ SCS_EXCHANGE_PASSWORD: 'demo-delegate-password', SCS_SEVERA_CLIENT_SECRET: 'demo-client-secret' });

/** Fake peers that behave like the demo firm: Sara's Severa email is her mailbox's secondary address. */
function fakeConnectors(opts: { impersonationDenied?: string[]; loginFails?: boolean; severaRefuses?: boolean; exchangeSkewMs?: number } = {}): ConnectorFactory {
  const mailboxes: Record<string, string> = {
    'aino.virtanen@contoso.example': 'aino.virtanen@contoso.example',
    's.nieminen@contoso.example': 'sara.nieminen@contoso.example',
  };
  const calendar = {
    async resolveMailbox(email: string) {
      if (opts.loginFails) throw new CalendarError('auth', 'HTTP 401');
      return mailboxes[email] ?? null;
    },
    async findByTag(mailbox: string) {
      if (opts.impersonationDenied?.includes(mailbox)) throw new CalendarError('impersonation-denied', 'denied', { serverCode: 'ErrorImpersonateUserDenied' });
      return [];
    },
    clockOffsetMs: () => opts.exchangeSkewMs ?? 1_000,
  } as unknown as CalendarConnector;
  const severa = {
    async checkAuthorization() {
      if (opts.severaRefuses) throw Object.assign(new Error('invalid_client'), { status: 401 });
      return { scopes: ['activities:read', 'activities:write', 'users:read'] };
    },
    async listUsers() {
      return [{ email: 'Aino.Virtanen@contoso.example' }, { email: 's.nieminen@contoso.example' }];
    },
    clockOffsetMs: () => -500,
  } as unknown as SeveraPort;
  return { createCalendar: async () => calendar, createSevera: async () => severa };
}

const reachable = async (): Promise<UrlProbe> => ({ ok: true, status: 401, authSchemes: ['negotiate', 'ntlm'] });
const byId = (results: { id: string; ok: boolean }[]) => Object.fromEntries(results.map((r) => [r.id, r.ok]));

describe('runActivationChecks', () => {
  it('passes every check against healthy peers, including a user found by a secondary address', async () => {
    const results = await runActivationChecks({ settings: settings(), secrets: allSecrets, connectors: fakeConnectors(), log: silentLog, now: Date.now, probeUrl: reachable });
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(byId(results)).toMatchObject({ 'severa-credentials': true, 'ews-reachable': true, 'ews-login': true, 'impersonation:s.nieminen@contoso.example': true, 'clock:exchange': true });
    expect(results.find((r) => r.id === 'mailbox:s.nieminen@contoso.example')?.message).toContain('secondary address of the mailbox sara.nieminen@contoso.example');
    expect(results.find((r) => r.id === 'severa-credentials')?.message).toContain('activities:read');
  });

  it('names the mailbox that may not be impersonated and gives the PowerShell that grants it', async () => {
    const results = await runActivationChecks({
      settings: settings(),
      secrets: allSecrets,
      connectors: fakeConnectors({ impersonationDenied: ['sara.nieminen@contoso.example'], exchangeSkewMs: 95_000 }),
      log: silentLog,
      now: Date.now,
      probeUrl: reachable,
    });
    const denied = results.find((r) => r.id === 'impersonation:s.nieminen@contoso.example');
    expect(denied?.ok).toBe(false);
    expect(denied?.message).toBe('CONTOSO\\svc-severa-sync may not impersonate sara.nieminen@contoso.example.');
    expect(denied?.fix).toContain('New-ManagementRoleAssignment');
    expect(byId(results)['impersonation:aino.virtanen@contoso.example']).toBe(true);
    const clock = results.find((r) => r.id === 'clock:exchange');
    expect(clock?.ok).toBe(false);
    expect(clock?.message).toContain('95 s ahead');
  });

  it('reports missing secrets, a refused Severa client and a failed login, and does not pretend later checks ran', async () => {
    const noSecrets = await runActivationChecks({ settings: settings(), secrets: new EnvSecretSource({}), connectors: fakeConnectors(), log: silentLog, now: Date.now, probeUrl: reachable });
    expect(noSecrets.find((r) => r.id === 'severa-credentials')?.fix).toContain('SCS_SEVERA_CLIENT_SECRET');
    expect(noSecrets.find((r) => r.id === 'ews-login')?.fix).toContain('SCS_EXCHANGE_PASSWORD');

    const refused = await runActivationChecks({ settings: settings(), secrets: allSecrets, connectors: fakeConnectors({ severaRefuses: true, loginFails: true }), log: silentLog, now: Date.now, probeUrl: reachable });
    expect(refused.find((r) => r.id === 'severa-credentials')?.message).toBe('Severa refused the client id demo-client-id with this secret.');
    expect(refused.find((r) => r.id === 'ews-login')?.message).toBe('Exchange refused the login of CONTOSO\\svc-severa-sync.');
    expect(refused.find((r) => r.id === 'mailbox:aino.virtanen@contoso.example')?.message).toMatch(/^Not checked/);
  });

  it('says that the server offers another authentication method than the settings use', async () => {
    const results = await runActivationChecks({
      settings: settings(),
      secrets: allSecrets,
      connectors: fakeConnectors(),
      log: silentLog,
      now: Date.now,
      probeUrl: async () => ({ ok: true, status: 401, authSchemes: ['basic'] }),
    });
    expect(results.find((r) => r.id === 'ews-auth-method')?.message).toBe('The server offers basic but the settings use NTLM.');
  });

  it('explains that Office 365 no longer takes a delegate password and names the Graph replacement', async () => {
    const o365 = orgSettings.parse({ exchange: { serverType: 'Office365' }, severa: { clientId: 'demo-client-id' } });
    const results = await runActivationChecks({ settings: o365, secrets: allSecrets, connectors: fakeConnectors(), log: silentLog, now: Date.now, probeUrl: reachable });
    const online = results.find((r) => r.id === 'exchange-online');
    expect(online?.ok).toBe(false);
    expect(online?.message).toContain('no longer accepts a delegate user name and password');
    expect(online?.fix).toContain('Microsoft Graph');
    expect(results.some((r) => r.id === 'ews-login')).toBe(false);
  });
});

describe('probeUrl', () => {
  let dir: string;
  let httpPort: number;
  let httpsPort: number;
  let caFile: string;
  const servers: Array<{ close(): void }> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'probe-'));
    // A private CA and a server certificate for 127.0.0.1 signed by it.
    const o = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Test CA']);
    o(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
    const ext = join(dir, 'ext.cnf');
    execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > ${ext}`]);
    o(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', ext]);
    caFile = join(dir, 'ca.pem');
    const answer401 = (_req: unknown, res: import('node:http').ServerResponse) => {
      res.writeHead(401, { 'WWW-Authenticate': ['Negotiate', 'NTLM'] });
      res.end();
    };
    const http = createHttpServer(answer401);
    const https = createHttpsServer({ key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) }, answer401);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    httpPort = (http.address() as AddressInfo).port;
    httpsPort = (https.address() as AddressInfo).port;
    servers.push(http, https);
  });
  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the offered authentication schemes from a 401', async () => {
    expect(await probeUrl(`http://127.0.0.1:${httpPort}/EWS/Exchange.asmx`, undefined)).toEqual({ ok: true, status: 401, authSchemes: ['negotiate', 'ntlm'] });
  });

  it('refuses a certificate from an unknown authority, and trusts it once its CA file is given', async () => {
    const url = `https://127.0.0.1:${httpsPort}/EWS/Exchange.asmx`;
    const untrusted = await probeUrl(url, undefined);
    expect(untrusted).toMatchObject({ ok: false, kind: 'tls' });
    expect(await probeUrl(url, caFile)).toMatchObject({ ok: true, status: 401 });
  });

  it('says when nothing listens or the CA file is missing', async () => {
    const closed = createHttpServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await probeUrl(`http://127.0.0.1:${port}/`, undefined)).toMatchObject({ ok: false, kind: 'unreachable', detail: `nothing listens on 127.0.0.1:${port}.` });
    expect(await probeUrl(`https://127.0.0.1:${httpsPort}/`, join(dir, 'missing.pem'))).toMatchObject({ ok: false, kind: 'config' });
  });
});
