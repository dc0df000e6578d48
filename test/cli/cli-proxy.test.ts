import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleReport } from '../../src-main/common/sync-report.ts';
import { loadEwsSeed, startEwsSimulator } from '../peers/ews/ews-simulator.ts';
import type { EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { loadSeveraSeed, startSeveraSimulator } from '../peers/severa/severa-simulator.ts';
import type { SeveraSimulator } from '../peers/severa/severa-simulator.ts';
import { startCountingProxy } from '../net/counting-proxy.ts';
import type { CountingProxy } from '../net/counting-proxy.ts';
import { runCli } from './cli-helpers.ts';

/**
 * The command line behind a company proxy: HTTP_PROXY / HTTPS_PROXY with the proxy login in the URL, NO_PROXY for
 * what goes direct. The servers have host names only the proxy resolves, so answers prove the path.
 */

const demo = (name: string) => join(import.meta.dirname, '..', 'peers', 'demo', name);
let ews: EwsSimulator;
let severa: SeveraSimulator;
let proxy: CountingProxy;
let dir: string;
let config: string;
const secrets = { SCS_EXCHANGE_PASSWORD: 'demo-delegate-password', SCS_SEVERA_CLIENT_SECRET: 'demo-client-secret' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-proxy-'));
  ews = await startEwsSimulator({ seed: loadEwsSeed(demo('ews-demo.json')), port: 0 });
  severa = await startSeveraSimulator({ seed: loadSeveraSeed(demo('severa-demo.json')), port: 0 });
  proxy = await startCountingProxy({ login: { kind: 'basic', username: 'svc-proxy', password: 'p@ss word' }, hosts: { 'ews.proxy-only.test': '127.0.0.1', 'severa.proxy-only.test': '127.0.0.1' } });
  config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      exchange: { serverType: 'Exchange2016', ewsUrl: ews.url.replace('127.0.0.1', 'ews.proxy-only.test'), domain: 'CONTOSO', username: 'svc-severa-sync', authMethod: 'ntlm', allowInsecureHttp: true },
      severa: { apiUrl: severa.baseUrl.replace('127.0.0.1', 'severa.proxy-only.test'), clientId: 'demo-client-id', allowInsecureHttp: true },
      activityTypesToExchange: ['00000000-0000-4000-8000-0000000000b1'],
      enrollments: [{ email: 'aino.virtanen@contoso.example', syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' }],
    }),
  );
});
afterAll(async () => {
  await Promise.all([ews?.close(), severa?.close(), proxy?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const proxyUrl = () => `http://svc-proxy:${encodeURIComponent('p@ss word')}@127.0.0.1:${proxy.port}`;

describe('the command line behind a proxy', () => {
  it('check and sync go through HTTP_PROXY, logging in with the user and password in its URL', async () => {
    const check = await runCli(['check', '--config', config, '--data-dir', join(dir, 'a')], { env: { ...secrets, HTTP_PROXY: proxyUrl() } });
    expect(check.stdout).toMatch(/All \d+ checks passed\./);
    expect(check.stdout).toContain(`Network path: Severa is reached through the proxy 127.0.0.1:${proxy.port} (HTTP_PROXY); Exchange through the proxy 127.0.0.1:${proxy.port} (HTTP_PROXY).`);
    expect(proxy.countFor('severa.proxy-only.test')).toBeGreaterThan(0);
    expect(proxy.countFor('ews.proxy-only.test')).toBeGreaterThan(0);

    const before = proxy.total();
    const sync = await runCli(['sync', '--once', '--json', '--config', config, '--data-dir', join(dir, 'a')], { env: { ...secrets, HTTP_PROXY: proxyUrl() } });
    const report = JSON.parse(sync.stdout) as CycleReport;
    expect(report.errors).toEqual([]);
    expect(report.users.map((u) => u.outcome)).toEqual(['ok']);
    expect(proxy.total()).toBeGreaterThan(before);
  });

  it('without the login the proxy refuses, and the problem names the proxy and what to set', async () => {
    const check = await runCli(['check', '--json', '--config', config, '--data-dir', join(dir, 'b')], { env: { ...secrets, HTTP_PROXY: `http://127.0.0.1:${proxy.port}` } });
    const results = JSON.parse(check.stdout) as Array<{ id: string; ok: boolean; message: string; fix?: string }>;
    const severaCheck = results.find((r) => r.id === 'severa-credentials')!;
    expect(severaCheck.ok).toBe(false);
    expect(severaCheck.message).toContain(`The proxy 127.0.0.1:${proxy.port} asks for a login (it offers Basic), and none is set.`);
    const ewsCheck = results.find((r) => r.id === 'ews-url')!;
    expect(ewsCheck).toMatchObject({ ok: false });
    expect(`${ewsCheck.message} ${ewsCheck.fix}`).toContain('HTTPS_PROXY=http://user:password@proxy:port');
  });

  it('NO_PROXY sends a host direct: here it cannot be found without the proxy', async () => {
    const check = await runCli(['check', '--json', '--config', config, '--data-dir', join(dir, 'c')], { env: { ...secrets, HTTP_PROXY: proxyUrl(), NO_PROXY: 'severa.proxy-only.test' } });
    const results = JSON.parse(check.stdout) as Array<{ id: string; ok: boolean; message: string }>;
    expect(results.find((r) => r.id === 'severa-credentials')).toMatchObject({ ok: false });
    expect(results.find((r) => r.id === 'network')?.message).toBe(`Severa is reached directly; Exchange through the proxy 127.0.0.1:${proxy.port} (HTTP_PROXY).`);
    expect(results.find((r) => r.id === 'delegate-login')).toMatchObject({ ok: true });
  });
});
