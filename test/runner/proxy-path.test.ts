import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgSettings } from '../../src-main/common/settings-schema.ts';
import type { OrgSettings } from '../../src-main/common/settings-schema.ts';
import { useSystemProxyResolver } from '../../src-main/net/settings-network.ts';
import { pacResolver } from '../../src-main/net/proxy-routes.ts';
import { EnvSecretSource } from '../../src-main/runner/env-secret-source.ts';
import { SyncRunner } from '../../src-main/runner/sync-runner.ts';
import { loadEwsSeed, startEwsSimulator } from '../peers/ews/ews-simulator.ts';
import type { EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { loadSeveraSeed, startSeveraSimulator } from '../peers/severa/severa-simulator.ts';
import type { SeveraSimulator } from '../peers/severa/severa-simulator.ts';
import { startCountingProxy } from '../net/counting-proxy.ts';
import type { CountingProxy } from '../net/counting-proxy.ts';

/**
 * Test connection and a sync through a proxy on loopback, with the product's own connectors (Severa client, EWS with
 * NTLM through CONNECT tunnels, the activation checks). The servers are named by host names only the proxy resolves
 * (*.proxy-only.test), so every answer proves its request went through the proxy; the proxy counts what it relayed.
 */

const demo = (name: string) => join(import.meta.dirname, '..', 'peers', 'demo', name);
const SEVERA_HOST = 'severa.proxy-only.test';
const EWS_HOST = 'ews.proxy-only.test';

let ews: EwsSimulator;
let severa: SeveraSimulator;
let proxy: CountingProxy;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'runner-proxy-'));
  ews = await startEwsSimulator({ seed: loadEwsSeed(demo('ews-demo.json')), port: 0 });
  severa = await startSeveraSimulator({ seed: loadSeveraSeed(demo('severa-demo.json')), port: 0 });
  proxy = await startCountingProxy({ login: { kind: 'basic', username: 'svc-proxy', password: 'proxy-secret' }, hosts: { [SEVERA_HOST]: '127.0.0.1', [EWS_HOST]: '127.0.0.1' } });
});
afterAll(async () => {
  useSystemProxyResolver(null);
  await Promise.all([ews?.close(), severa?.close(), proxy?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const settingsWith = (network: Partial<OrgSettings['network']>): OrgSettings =>
  orgSettings.parse({
    exchange: { serverType: 'Exchange2016', ewsUrl: ews.url.replace('127.0.0.1', EWS_HOST), domain: 'CONTOSO', username: 'svc-severa-sync', authMethod: 'ntlm', allowInsecureHttp: true },
    severa: { apiUrl: severa.baseUrl.replace('127.0.0.1', SEVERA_HOST), clientId: 'demo-client-id', allowInsecureHttp: true },
    activityTypesToExchange: ['00000000-0000-4000-8000-0000000000b1'],
    enrollments: ['aino.virtanen@contoso.example', 's.nieminen@contoso.example'].map((email) => ({ email, syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' })),
    network,
  });

const secrets = new EnvSecretSource({ SCS_EXCHANGE_PASSWORD: 'demo-delegate-password', SCS_SEVERA_CLIENT_SECRET: 'demo-client-secret', SCS_PROXY_PASSWORD: 'proxy-secret' });
const ewsPort = () => Number(new URL(ews.url).port);
const severaPort = () => Number(new URL(severa.baseUrl).port);

describe('through a proxy on loopback', () => {
  it('without the proxy the servers cannot even be found', async () => {
    const runner = new SyncRunner({ loadSettings: () => settingsWith({ proxyMode: 'none' }), secrets, dataDir: join(dir, 'none') });
    const results = await runner.check();
    expect(results.find((r) => r.id === 'severa-credentials')).toMatchObject({ ok: false });
    expect(results.find((r) => r.id === 'ews-url')).toMatchObject({ ok: false });
    expect(proxy.total()).toBe(0);
  });

  it('Test connection passes through the proxy named in the settings, logging in to it with the stored proxy password', async () => {
    const runner = new SyncRunner({ loadSettings: () => settingsWith({ proxyMode: 'manual', proxyUrl: proxy.url, proxyUsername: 'svc-proxy' }), secrets, dataDir: join(dir, 'manual') });
    const results = await runner.check();
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.map((r) => r.id)).toEqual(expect.arrayContaining(['network', 'severa-credentials', 'ews-url', 'delegate-login', 'impersonation:aino.virtanen@contoso.example']));
    expect(results.find((r) => r.id === 'network')?.message).toBe(
      `Severa is reached through the proxy 127.0.0.1:${proxy.port} (the app settings); Exchange through the proxy 127.0.0.1:${proxy.port} (the app settings).`,
    );
    expect(proxy.countFor(severaPort())).toBeGreaterThan(0);
    expect(proxy.countFor(ewsPort())).toBeGreaterThan(0);
  });

  it("a sync goes through the system proxy (the app's resolveProxy), with NTLM to Exchange inside the tunnels", async () => {
    const before = { severa: proxy.countFor(severaPort()), ews: proxy.countFor(ewsPort()) };
    const asked: string[] = [];
    useSystemProxyResolver(pacResolver(async (url) => (asked.push(new URL(url).hostname), `PROXY 127.0.0.1:${proxy.port}`)));
    const runner = new SyncRunner({ loadSettings: () => settingsWith({ proxyMode: 'system', proxyUsername: 'svc-proxy' }), secrets, dataDir: join(dir, 'system') });
    const report = await runner.runNow();
    expect(report.errors).toEqual([]);
    expect(report.users.map((u) => [u.email, u.outcome])).toEqual([
      ['aino.virtanen@contoso.example', 'ok'],
      ['s.nieminen@contoso.example', 'ok'],
    ]);
    expect(report.users[0].toExchange.created + report.users[0].toSevera.created).toBeGreaterThan(0);
    expect(proxy.countFor(severaPort())).toBeGreaterThan(before.severa);
    expect(proxy.countFor(ewsPort())).toBeGreaterThan(before.ews);
    expect(new Set(asked)).toEqual(new Set([SEVERA_HOST, EWS_HOST]));
  });
});
