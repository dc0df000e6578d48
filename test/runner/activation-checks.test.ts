import { describe, expect, it } from 'vitest';
import { orgSettings } from '../../src-main/common/settings-schema.ts';
import type { OrgSettings } from '../../src-main/common/settings-schema.ts';
import type { CalendarConnector } from '../../src-main/exchange/calendar-connector.ts';
import { runActivationChecks } from '../../src-main/runner/activation-checks.ts';
import { EnvSecretSource } from '../../src-main/runner/env-secret-source.ts';
import { silentLog } from '../../src-main/runner/runner-types.ts';
import type { CheckResult, ConnectorFactory, CountedSevera } from '../../src-main/runner/runner-types.ts';
import { startEwsSimulator } from '../peers/ews/ews-simulator.ts';
import { ewsTestSeed } from '../exchange/fixtures/ews-test-seed.ts';
import { RoutedCalendarConnector } from '../../src-main/exchange/routed-calendar-connector.ts';
import { FakeCalendar } from '../sync/fakes/fake-calendar.ts';

/** The aggregation with fake peers; the same checks against the real simulators are in sync-runner-peers.test.ts. */

const settings = (): OrgSettings =>
  orgSettings.parse({
    exchange: { serverType: 'Exchange2016', ewsUrl: 'https://mail.contoso.example/EWS/Exchange.asmx', domain: 'CONTOSO', username: 'svc-severa-sync' },
    severa: { clientId: 'demo-client-id' },
    enrollments: [
      { email: 'aino.virtanen@contoso.example', syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' },
      { email: 'nobody@contoso.example', syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' },
    ],
  });

const allSecrets = new EnvSecretSource({ SCS_EXCHANGE_PASSWORD: 'demo-delegate-password', SCS_SEVERA_CLIENT_SECRET: 'demo-client-secret' });

function fakeConnectors(opts: { severaError?: Error; severaSkewMs?: number | null } = {}): ConnectorFactory {
  const severa = {
    async checkAuthorization() {
      if (opts.severaError) throw opts.severaError;
      return { scopes: ['activities:read', 'activities:write', 'users:read'] };
    },
    async listUsers() {
      return [{ email: 'Aino.Virtanen@contoso.example' }];
    },
    clockOffsetMs: () => (opts.severaSkewMs === undefined ? -500 : opts.severaSkewMs),
  } as unknown as CountedSevera;
  return { createCalendar: async () => ({}) as CalendarConnector, createSevera: async () => severa };
}

const exchangeOk = async (): Promise<CheckResult[]> => [{ id: 'delegate-login', title: 'Delegate login', ok: true, message: 'CONTOSO\\svc-severa-sync logged in with NTLM.' }];
const byId = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r.ok]));

describe('runActivationChecks', () => {
  it('checks Severa credentials, scopes, each enrolled user and the clock, then appends the Exchange checks', async () => {
    const results = await runActivationChecks({ settings: settings(), secrets: allSecrets, connectors: fakeConnectors(), log: silentLog, now: Date.now, exchangeChecks: exchangeOk });
    expect(byId(results)).toEqual({
      'severa-credentials': true,
      'severa-user:aino.virtanen@contoso.example': true,
      'severa-user:nobody@contoso.example': false,
      'delegate-login': true,
      'severa-clock': true,
    });
    expect(results[0].message).toBe('Severa accepted client id demo-client-id with the scopes activities:read, activities:write, users:read.');
    expect(results.find((r) => r.id === 'severa-user:nobody@contoso.example')?.fix).toContain('same email address');
  });

  it('names missing scopes, a refused secret, and a skewed Severa clock', async () => {
    const scopes = await runActivationChecks({
      settings: settings(),
      secrets: allSecrets,
      connectors: fakeConnectors({ severaError: Object.assign(new Error('forbidden'), { code: 'forbidden', missingScopes: ['activities:delete'] }) }),
      log: silentLog,
      now: Date.now,
      exchangeChecks: exchangeOk,
    });
    expect(scopes[0]).toMatchObject({ ok: false, message: 'The Severa API client demo-client-id lacks the scope activities:delete.' });

    const refused = await runActivationChecks({
      settings: settings(),
      secrets: allSecrets,
      connectors: fakeConnectors({ severaError: Object.assign(new Error('401'), { code: 'auth', status: 401 }) }),
      log: silentLog,
      now: Date.now,
      exchangeChecks: exchangeOk,
    });
    expect(refused[0].message).toBe('Severa refused the client id demo-client-id with this secret.');
    // Without a login there is no user list to compare and no clock reading.
    expect(refused.some((r) => r.id.startsWith('severa-user:'))).toBe(false);

    const skewed = await runActivationChecks({ settings: settings(), secrets: allSecrets, connectors: fakeConnectors({ severaSkewMs: -125_000 }), log: silentLog, now: Date.now, exchangeChecks: exchangeOk });
    expect(skewed.find((r) => r.id === 'severa-clock')).toMatchObject({ ok: false, message: expect.stringContaining('125 s behind') });
  });

  it('a Severa clock that could not be read fails its check and says so; without a Severa login there is no clock check', async () => {
    const unread = await runActivationChecks({ settings: settings(), secrets: allSecrets, connectors: fakeConnectors({ severaSkewMs: null }), log: silentLog, now: Date.now, exchangeChecks: exchangeOk });
    expect(unread.find((r) => r.id === 'severa-clock')).toMatchObject({
      ok: false,
      message: "Severa's answers carried no Date header, so its clock offset is unknown; collisions are decided on uncorrected clocks.",
      fix: expect.stringContaining('Date header'),
    });
    const refused = await runActivationChecks({
      settings: settings(),
      secrets: allSecrets,
      connectors: fakeConnectors({ severaSkewMs: null, severaError: Object.assign(new Error('401'), { code: 'auth', status: 401 }) }),
      log: silentLog,
      now: Date.now,
      exchangeChecks: exchangeOk,
    });
    expect(refused.some((r) => r.id === 'severa-clock')).toBe(false);
  });

  it('says where to put missing secrets instead of trying to log in', async () => {
    let exchangeAsked = false;
    const results = await runActivationChecks({
      settings: settings(),
      secrets: new EnvSecretSource({}),
      connectors: fakeConnectors(),
      log: silentLog,
      now: Date.now,
      exchangeChecks: async () => {
        exchangeAsked = true;
        return [];
      },
    });
    expect(exchangeAsked).toBe(false);
    expect(results.find((r) => r.id === 'severa-credentials')?.fix).toContain('SCS_SEVERA_CLIENT_SECRET');
    expect(results.find((r) => r.id === 'delegate-login')?.fix).toContain('SCS_EXCHANGE_PASSWORD');
  });

  it("reports each result through onResult as it is added, the Exchange checks' own reports included, each once and in order", async () => {
    const reported: string[] = [];
    let exchangeStarted = false;
    const results = await runActivationChecks({
      settings: settings(),
      secrets: allSecrets,
      connectors: fakeConnectors(),
      log: silentLog,
      now: Date.now,
      onResult: (r) => reported.push(r.id),
      exchangeChecks: async (_settings, _secrets, onResult) => {
        exchangeStarted = true;
        // Severa's checks were already reported before Exchange was asked anything.
        expect(reported).toEqual(['severa-credentials', 'severa-user:aino.virtanen@contoso.example', 'severa-user:nobody@contoso.example']);
        onResult!({ id: 'ews-url', title: 'EWS address', ok: true, message: 'answers' });
        await new Promise((resolve) => setTimeout(resolve, 1));
        expect(reported.at(-1)).toBe('ews-url');
        onResult!({ id: 'delegate-login', title: 'Delegate login', ok: true, message: 'logged in' });
        // A check only returned (not reported) is reported when the list comes back.
        return [
          { id: 'ews-url', title: 'EWS address', ok: true, message: 'answers' },
          { id: 'delegate-login', title: 'Delegate login', ok: true, message: 'logged in' },
          { id: 'clock', title: 'Server clock', ok: true, message: 'agrees' },
        ];
      },
    });
    expect(exchangeStarted).toBe(true);
    expect(reported).toEqual(results.map((r) => r.id));
    expect(reported).toEqual(['severa-credentials', 'severa-user:aino.virtanen@contoso.example', 'severa-user:nobody@contoso.example', 'ews-url', 'delegate-login', 'clock', 'severa-clock']);
  });

  it('with the real EWS checks, NTLM set against a server that refuses GET and offers only Basic: the login fails with what to set, nothing claims a login', async () => {
    const sim = await startEwsSimulator({ seed: ewsTestSeed({ authMethods: ['Basic'], refuseGet: true }) });
    try {
      const base = settings();
      const ntlm = orgSettings.parse({ ...base, exchange: { ...base.exchange, ewsUrl: sim.url, authMethod: 'ntlm' } });
      const results = await runActivationChecks({ settings: ntlm, secrets: allSecrets, connectors: fakeConnectors(), log: silentLog, now: Date.now });
      const login = results.find((r) => r.id === 'delegate-login');
      expect(login).toMatchObject({ ok: false, message: 'Exchange does not offer NTLM logins at this address, so CONTOSO\\svc-severa-sync could not log in.' });
      expect(login?.fix).toMatch(/^The server offers Basic only; set the authentication method to Basic\./);
      expect(results.some((r) => /logged in with/.test(r.message))).toBe(false);
      expect(results.some((r) => r.id.startsWith('impersonation:'))).toBe(false);

      const basic = orgSettings.parse({ ...base, exchange: { ...base.exchange, ewsUrl: sim.url, authMethod: 'basic' } });
      const fixed = await runActivationChecks({ settings: basic, secrets: allSecrets, connectors: fakeConnectors(), log: silentLog, now: Date.now });
      expect(fixed.find((r) => r.id === 'delegate-login')).toMatchObject({ ok: true, message: 'CONTOSO\\svc-severa-sync logged in with Basic (Exchange resolved its name, which needs a login).' });
      expect(fixed.find((r) => r.id === 'impersonation:aino.virtanen@contoso.example')).toMatchObject({ ok: true });
    } finally {
      await sim.close();
    }
  });

  it('hybrid: each connection is checked on its own, then each user is said to be synced where their mailbox lives, and why', async () => {
    const now = () => new Date('2026-01-01T00:00:00Z');
    const onprem = new FakeCalendar({ mailboxes: [{ primary: 'aino.virtanen@contoso.example' }], now, idPrefix: 'E' });
    const online = new FakeCalendar({ mailboxes: [{ primary: 'mikko.lahtinen@contoso.example' }], now, idPrefix: 'G' });
    const hybrid = orgSettings.parse({
      ...settings(),
      secondExchange: { serverType: 'Office365', tenantId: 'contoso.onmicrosoft.com', clientId: '11111111-2222-4333-8444-555555555555', credential: 'secret' },
      enrollments: ['aino.virtanen@contoso.example', 'mikko.lahtinen@contoso.example', 'nobody@contoso.example'].map((email) => ({ email, syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' })),
      mailboxLocations: { 'aino.virtanen@contoso.example': 'first' },
    });
    const router = new RoutedCalendarConnector({
      connections: [{ location: 'ews:mail.contoso.example/ews/exchange.asmx', connector: onprem }, { location: 'graph:contoso.onmicrosoft.com', connector: online }],
      overrides: { 'aino.virtanen@contoso.example': 'ews:mail.contoso.example/ews/exchange.asmx' },
    });
    const connectors = { ...fakeConnectors(), createCalendar: async () => router };
    const checked: string[] = [];
    const results = await runActivationChecks({
      settings: hybrid,
      secrets: allSecrets,
      connectors,
      log: silentLog,
      now: Date.now,
      exchangeChecks: async (s) => {
        checked.push(`${s.exchange.serverType}:${s.enrollments.length}`);
        return [{ id: 'connection', title: 'Connection', ok: true, message: 'fine' }];
      },
    });
    expect(checked).toEqual(['Exchange2016:0', 'Office365:0']);
    expect(results.filter((r) => r.title.endsWith(': Connection')).map((r) => r.title)).toEqual([
      'on-premises Exchange (mail.contoso.example): Connection',
      'Exchange Online (contoso.onmicrosoft.com): Connection',
    ]);
    const where = Object.fromEntries(results.filter((r) => r.id.startsWith('mailbox-location:')).map((r) => [r.id.slice(17), [r.ok, r.message]]));
    expect(where['aino.virtanen@contoso.example']).toEqual([true, 'aino.virtanen@contoso.example is synced through on-premises Exchange (mail.contoso.example): the admin chose it.']);
    expect(where['mikko.lahtinen@contoso.example']).toEqual([true, 'mikko.lahtinen@contoso.example is synced through Exchange Online (contoso.onmicrosoft.com): its calendar opened there.']);
    expect(where['nobody@contoso.example'][0]).toBe(false);
    expect(where['nobody@contoso.example'][1]).toMatch(/Neither on-premises Exchange .* nor Exchange Online .* has a mailbox/);
  });

  it('Office 365: runs the Exchange Online checks, never the delegate login; a missing credential names the secret to enter', async () => {
    const o365 = orgSettings.parse({
      exchange: { serverType: 'Office365', tenantId: 'contoso.onmicrosoft.com', clientId: '11111111-2222-4333-8444-555555555555', credential: 'secret' },
      severa: { clientId: 'demo-client-id' },
    });
    const withoutGraphSecret = { get: async (name: string) => (name === 'graph-client-secret' ? null : 'x') } as typeof allSecrets;
    const results = await runActivationChecks({ settings: o365, secrets: withoutGraphSecret, connectors: fakeConnectors(), log: silentLog, now: Date.now });
    expect(results.some((r) => r.id === 'delegate-login')).toBe(false);
    const connection = results.find((r) => r.id === 'graph-connection');
    expect(connection?.ok).toBe(false);
    expect(connection?.message).toBe('No client secret of the Exchange Online app is stored.');
    expect(connection?.fix).toContain('SCS_GRAPH_CLIENT_SECRET');
  });
});
