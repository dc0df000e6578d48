import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleReport } from '../../src-main/common/sync-report.ts';
import { loadEwsSeed, startEwsSimulator } from '../peers/ews/ews-simulator.ts';
import type { EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { loadSeveraSeed, startSeveraSimulator } from '../peers/severa/severa-simulator.ts';
import type { SeveraSimulator } from '../peers/severa/severa-simulator.ts';
import { spawn } from 'node:child_process';
import { CLI_PATH, runCli } from './cli-helpers.ts';

/** The CLI as a separate process against both simulators (started here) with a config file and secrets in env vars. */

const demo = (name: string) => join(import.meta.dirname, '..', 'peers', 'demo', name);
const WRITES_EWS = ['CreateItem', 'UpdateItem', 'DeleteItem'];

let ews: EwsSimulator;
let severa: SeveraSimulator;
let dir: string;
let config: string;
const env = { SCS_EXCHANGE_PASSWORD: 'demo-delegate-password', SCS_SEVERA_CLIENT_SECRET: 'demo-client-secret' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-sync-'));
  ews = await startEwsSimulator({ seed: loadEwsSeed(demo('ews-demo.json')), port: 0 });
  severa = await startSeveraSimulator({ seed: loadSeveraSeed(demo('severa-demo.json')), port: 0 });
  config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      exchange: { serverType: 'Exchange2016', ewsUrl: ews.url, domain: 'CONTOSO', username: 'svc-severa-sync', authMethod: 'ntlm' },
      severa: { apiUrl: severa.baseUrl, clientId: 'demo-client-id' },
      activityTypesToExchange: ['00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b2'],
      enrollments: [
        { email: 'mikko.lahtinen@contoso.example', syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' },
        { email: 's.nieminen@contoso.example', syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' },
      ],
    }),
  );
});
afterAll(async () => {
  await Promise.all([ews?.close(), severa?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const severaWrites = () => Object.entries(severa.counters().byRoute).filter(([route, n]) => n > 0 && /^(POST|PATCH|DELETE) .*activit/i.test(route));
const ewsWrites = () => WRITES_EWS.reduce((n, op) => n + (ews.counters().byOperation[op] ?? 0), 0);

describe('severa-calendar-sync sync', () => {
  it('--dry-run --json prints the planned changes as a CycleReport and writes nothing on either side or in the store', async () => {
    const dataDir = join(dir, 'dry');
    ews.resetCounters();
    severa.resetCounters();
    const run = await runCli(['sync', '--once', '--dry-run', '--json', '--config', config, '--data-dir', dataDir], { env });
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout) as CycleReport;
    expect(report.dryRun).toBe(true);
    expect(report.users.map((u) => u.email).sort()).toEqual(['mikko.lahtinen@contoso.example', 's.nieminen@contoso.example']);
    const planned = report.users.flatMap((u) => u.changes);
    expect(planned.some((c) => c.side === 'exchange' && c.action === 'create')).toBe(true);
    expect(planned.some((c) => c.side === 'severa' && c.action === 'create')).toBe(true);
    // Nothing changed anywhere: no write reached either server, and the store holds no pair.
    expect(ewsWrites()).toBe(0);
    expect(severaWrites()).toEqual([]);
    expect(ews.counters().total).toBeGreaterThan(0);
    const storeFile = join(dataDir, 'sync-store.sqlite');
    if (existsSync(storeFile)) {
      const db = new DatabaseSync(storeFile, { readOnly: true });
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name);
      for (const table of tables.filter((t) => /pair/i.test(t))) {
        expect((db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n).toBe(0);
      }
      db.close();
    }
    expect(existsSync(join(dataDir, 'runner-state.json'))).toBe(false);
  });

  it('a human dry run lists what would change per user', async () => {
    const run = await runCli(['sync', '--dry-run', '--config', config, '--data-dir', join(dir, 'dry-human')], { env });
    expect(run.stdout).toContain('Dry run (nothing was changed)');
    expect(run.stdout).toMatch(/mikko\.lahtinen@contoso\.example would change:\n\s+would create\s+(Severa -> Exchange|Exchange -> Severa)/);
  });

  it('a wrong delegate password is reported once for the organization, not once per user; nobody counts as first-synced', async () => {
    const wrong = { ...env, SCS_EXCHANGE_PASSWORD: 'not-the-delegate-password' };
    const json = await runCli(['sync', '--once', '--json', '--config', config, '--data-dir', join(dir, 'wrong-json')], { env: wrong });
    const report = JSON.parse(json.stdout) as CycleReport;
    expect(report.outcome).toBe('failed');
    expect(report.errors.map((e) => e.code)).toEqual(['exchange-auth']);
    expect(report.errors[0].fix).toMatch(/\S/);
    expect(report.users.map((u) => [u.email, u.outcome, u.errors.length, u.firstSync])).toEqual([
      ['mikko.lahtinen@contoso.example', 'failed', 0, false],
      ['s.nieminen@contoso.example', 'failed', 0, false],
    ]);

    const text = await runCli(['sync', '--once', '--config', config, '--data-dir', join(dir, 'wrong-text')], { env: wrong });
    expect(text.code).toBe(1);
    expect(text.stdout.split("Exchange refused the delegate account's login.").length - 1).toBe(1);
    expect(text.stdout.match(/^\s+fix: /gm)).toHaveLength(1);
    expect(text.stdout).toContain('Not synced because of the problem above: mikko.lahtinen@contoso.example, s.nieminen@contoso.example.');
    // The table's first-sync column says no for users whose sync failed.
    expect(text.stdout).toMatch(/mikko\.lahtinen@contoso\.example\s+failed\s+0\/0\/0\s+0\/0\/0\s+0\s+0\s+no/);
  });

  it('check exits 0 when every activation check passes', async () => {
    const run = await runCli(['check', '--config', config, '--data-dir', join(dir, 'check')], { env });
    expect(run.stdout).toMatch(/All \d+ checks passed\./);
    expect(run.code).toBe(0);
  });

  it('check exits 1 and prints the fix when a secret is missing', async () => {
    const run = await runCli(['check', '--json', '--config', config, '--data-dir', join(dir, 'check2')], { env: { SCS_EXCHANGE_PASSWORD: 'demo-delegate-password' } });
    expect(run.code).toBe(1);
    const results = JSON.parse(run.stdout) as Array<{ id: string; ok: boolean; fix?: string }>;
    expect(results.find((r) => r.id === 'severa-credentials')).toMatchObject({ ok: false, fix: expect.stringContaining('SCS_SEVERA_CLIENT_SECRET') });
  });
});

describe('severa-calendar-sync sync --watch', () => {
  it('syncs at once, prints one JSON report per line, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI_PATH, 'sync', '--watch', '--json', '--config', config, '--data-dir', join(dir, 'watch')], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SCS_NO_KEYCHAIN: '1', LANG: 'C', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const firstLine = new Promise<string>((resolve) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('\n')) resolve(stdout.split('\n')[0]);
      });
    });
    const report = JSON.parse(await firstLine) as CycleReport;
    expect(report.users.map((u) => u.email).sort()).toEqual(['mikko.lahtinen@contoso.example', 's.nieminen@contoso.example']);
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(report.outcome === 'ok' ? 0 : 1);
    const status = await runCli(['status', '--json', '--config', config, '--data-dir', join(dir, 'watch')], { env });
    expect(JSON.parse(status.stdout)).toMatchObject({ lastReport: { startedAt: report.startedAt } });
  });
});


describe('the per-entry change report', () => {
  // Simulators of its own: the entries it syncs and renames must not meet the other tests' runs.
  let ews2: EwsSimulator;
  let severa2: SeveraSimulator;
  let config2: string;
  beforeAll(async () => {
    ews2 = await startEwsSimulator({ seed: loadEwsSeed(demo('ews-demo.json')), port: 0 });
    severa2 = await startSeveraSimulator({ seed: loadSeveraSeed(demo('severa-demo.json')), port: 0 });
    config2 = join(dir, 'config-per-item.json');
    writeFileSync(
      config2,
      JSON.stringify({
        exchange: { serverType: 'Exchange2016', ewsUrl: ews2.url, domain: 'CONTOSO', username: 'svc-severa-sync', authMethod: 'ntlm' },
        severa: { apiUrl: severa2.baseUrl, clientId: 'demo-client-id' },
        activityTypesToExchange: ['00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b2'],
        enrollments: [{ email: 'mikko.lahtinen@contoso.example', syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' }],
      }),
    );
  });
  afterAll(async () => {
    await Promise.all([ews2?.close(), severa2?.close()]);
  });

  it('--json names every created, updated or deleted entry by name, date, direction and reason; the text output lists them', async () => {
    const dataDir = join(dir, 'per-item');
    const first = JSON.parse((await runCli(['sync', '--once', '--json', '--config', config2, '--data-dir', dataDir], { env })).stdout) as CycleReport;
    const mikko = first.users.find((u) => u.email === 'mikko.lahtinen@contoso.example')!;
    const counted = mikko.toExchange.created + mikko.toExchange.updated + mikko.toExchange.deleted + mikko.toSevera.created + mikko.toSevera.updated + mikko.toSevera.deleted;
    expect(counted).toBeGreaterThan(0);
    expect(mikko.changes).toHaveLength(counted);
    for (const c of mikko.changes) expect(c).toMatchObject({ side: expect.stringMatching(/^(severa|exchange)$/), action: expect.stringMatching(/^(create|update|delete)$/), subject: expect.any(String), start: expect.any(String), reason: expect.stringMatching(/\S/) });
    // An entry the first sync brought from Exchange to Severa, now renamed in Outlook.
    const copied = mikko.changes.find((c) => c.side === 'severa' && c.action === 'create')!;
    const item = ews2.mailbox('mikko.lahtinen@contoso.example').items().find((i) => i.subject === copied.subject)!;
    ews2.mailbox('mikko.lahtinen@contoso.example').update(item.id, { subject: `${copied.subject} (moved)` });

    const text = await runCli(['sync', '--once', '--config', config2, '--data-dir', dataDir], { env });
    expect(text.stdout).toContain('mikko.lahtinen@contoso.example changed:');
    const line = text.stdout.split('\n').find((l) => l.includes(`${copied.subject} (moved)`));
    expect(line).toMatch(/^\s+updated\s+Exchange -> Severa\s+\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?\s+.+\(.+\)$/);
  });
});

describe('check --audit', () => {
  it('compares every synced entry of the demo firm on both sides and says they agree; --user narrows it; --json carries it all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-audit-'));
    try {
      expect((await runCli(['sync', '--once', '--demo'], { cwd: dir })).code).toBe(0);
      const audit = await runCli(['check', '--audit', '--demo'], { cwd: dir });
      expect(audit.code, audit.stderr).toBe(0);
      expect(audit.stdout).toMatch(/^Agreement audit of /);
      expect(audit.stdout).toMatch(/aino\.virtanen@contoso\.example: (\d+) of \1 synced entries agree/);
      const one = await runCli(['check', '--audit', '--demo', '--json', '--user', 'mikko.lahtinen@contoso.example'], { cwd: dir });
      const report = JSON.parse(one.stdout) as { users: Array<{ email: string; pairs: number; agreeing: number; differences: unknown[] }> };
      expect(report.users.map((u) => u.email)).toEqual(['mikko.lahtinen@contoso.example']);
      expect(report.users[0].pairs).toBeGreaterThan(0);
      expect(report.users[0].differences).toEqual([]);
      expect((await runCli(['check', '--user', 'x@y.example'], { cwd: dir })).stderr).toMatch(/--user chooses whom "check --audit" compares/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
