import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-helpers.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-usage-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CLI usage and settings errors (a real Node 24 process)', () => {
  it('runs under Node 24', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  it('exits 2 with the reason and the usage text for a bad command line', async () => {
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "frobnicate"');
    expect(unknown.stderr).toContain('Usage: severa-calendar-sync');
    expect(unknown.stdout).toBe('');

    const both = await runCli(['sync', '--once', '--watch']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('Choose one of --once and --watch.');

    const option = await runCli(['sync', '--frequency', '5']);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/Unknown option '--frequency'/);
  });

  it('prints help on stdout and exits 0', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('restore --list');
  });

  it('lists each bad field of a config file and exits 2 without touching the data dir', async () => {
    const config = join(dir, 'bad.json');
    writeFileSync(
      config,
      JSON.stringify({
        exchange: { serverType: 'Exchange2016', ewsUrl: 'mail.contoso.example', domain: 'CONTOSO.EXAMPLE.LONGNAME', username: 'svc' },
        severa: { clientId: '' },
        intervalMinutes: 0,
        enrollments: [{ email: 'not-an-email', syncStartDate: '2026-13', enabledAt: 'x' }],
      }),
    );
    const dataDir = join(dir, 'data-bad');
    const run = await runCli(['sync', '--once', '--config', config, '--data-dir', dataDir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`The settings in ${config} are not valid:`);
    for (const field of ['exchange.ewsUrl', 'exchange.domain', 'severa.clientId', 'intervalMinutes', 'enrollments.0.email', 'enrollments.0.syncStartDate']) {
      expect(run.stderr).toContain(`${field}:`);
    }
    expect(() => readdirSync(dataDir)).toThrow();
  });

  it('refuses plain http to a remote server unless allowed, and secrets in the settings file', async () => {
    const http = join(dir, 'http.json');
    writeFileSync(http, JSON.stringify({ exchange: { serverType: 'Exchange2019', ewsUrl: 'http://mail.contoso.example/EWS/Exchange.asmx', username: 'svc' }, severa: { clientId: 'c' } }));
    const runHttp = await runCli(['check', '--config', http, '--data-dir', join(dir, 'd1')]);
    expect(runHttp.code).toBe(2);
    expect(runHttp.stderr).toContain('exchange.ewsUrl: http:// sends the delegate password unprotected');

    const secret = join(dir, 'secret.json');
    writeFileSync(secret, JSON.stringify({ exchange: { serverType: 'Exchange2019', ewsUrl: 'https://mail.contoso.example/EWS/Exchange.asmx', username: 'svc', password: 'hunter2' }, severa: { clientId: 'c' } }));
    const runSecret = await runCli(['sync', '--config', secret, '--data-dir', join(dir, 'd2')]);
    expect(runSecret.code).toBe(2);
    expect(runSecret.stderr).toContain('holds a secret');
    expect(runSecret.stderr).not.toContain('hunter2');
  });

  it('says where it looked when there is no settings file, and that JSON is broken when it is', async () => {
    const missing = await runCli(['sync', '--data-dir', join(dir, 'empty')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`No settings found at ${join(dir, 'empty', 'config.json')}`);

    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "exchange": ');
    const run = await runCli(['sync', '--config', broken, '--data-dir', join(dir, 'd3')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is not valid JSON');
  });

  it('shows an empty status for a data dir that never synced', async () => {
    const run = await runCli(['status', '--json', '--data-dir', join(dir, 'fresh')]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ state: 'idle', consecutiveFailures: 0 });
  });
});
