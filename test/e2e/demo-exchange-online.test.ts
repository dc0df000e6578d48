import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleReport } from '../../src-main/common/sync-report.ts';
import { runCli } from '../cli/cli-helpers.ts';

/**
 * `npm run demo -- --exchange-online` as a user runs it, twice, in a fresh directory: the demo firm on the Graph
 * simulator (Exchange Online, HTTPS with its own test CA trusted through the settings' CA file). The first run syncs
 * both ways without mailing anyone; the second finds nothing to do at one request per mailbox.
 */

const DATA = join('.sync-data', 'demo-online');
const changesOf = (r: CycleReport) => r.users.reduce((n, u) => n + u.toExchange.created + u.toExchange.updated + u.toExchange.deleted + u.toSevera.created + u.toSevera.updated + u.toSevera.deleted, 0);

let dir: string;
let first: CycleReport;
let second: CycleReport;
let third: CycleReport;
let codes: Array<number | null>;
let stderr: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'demo-online-'));
  const a = await runCli(['sync', '--once', '--demo', '--exchange-online', '--json'], { cwd: dir });
  const b = await runCli(['sync', '--once', '--demo', '--exchange-online', '--json'], { cwd: dir });
  const c = await runCli(['sync', '--once', '--demo', '--exchange-online', '--json'], { cwd: dir });
  codes = [a.code, b.code, c.code];
  stderr = a.stderr + b.stderr + c.stderr;
  first = JSON.parse(a.stdout) as CycleReport;
  second = JSON.parse(b.stdout) as CycleReport;
  third = JSON.parse(c.stdout) as CycleReport;
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the Exchange Online demo, run twice', () => {
  it('keeps the Graph simulator\'s state beside the sync store, and Exchange Online settings that trust its CA file', () => {
    expect(codes, stderr).toEqual([0, 0, 0]);
    for (const file of ['config.json', 'sync-store.sqlite', join('demo-peers', 'graph-state.json'), join('demo-peers', 'severa-state.json'), 'graph-simulator-ca.pem']) {
      expect(existsSync(join(dir, DATA, file)), file).toBe(true);
    }
    const config = JSON.parse(readFileSync(join(dir, DATA, 'config.json'), 'utf8')) as { exchange: Record<string, unknown> };
    expect(config.exchange).toMatchObject({ serverType: 'Office365', credential: 'secret', caFile: join(dir, DATA, 'graph-simulator-ca.pem') });
    expect(readFileSync(join(dir, DATA, 'config.json'), 'utf8')).not.toContain('demo-graph-client-secret');
  });

  it('first run: all five people synced both ways, without an error', () => {
    expect(first.outcome).toBe('ok');
    expect(first.users).toHaveLength(5);
    expect(first.users.every((u) => u.outcome === 'ok' && u.errors.length === 0)).toBe(true);
    expect(first.users.reduce((n, u) => n + u.toSevera.created, 0)).toBeGreaterThan(5);
    expect(first.users.reduce((n, u) => n + u.toExchange.created, 0)).toBeGreaterThan(5);
  });

  it('second run: no changes (the first run\'s own writes come back from delta, are read once and recognised)', () => {
    expect(second.outcome).toBe('ok');
    expect(changesOf(second)).toBe(0);
    expect(second.users.every((u) => u.conflicts === 0 && u.errors.length === 0 && u.notes.length === 0)).toBe(true);
  });

  it('third run, in a new process: no changes for at most one Graph request per mailbox (no directory lookups: the position knows the mailbox)', () => {
    expect(changesOf(third)).toBe(0);
    expect(third.requests.exchange).toBeGreaterThan(0);
    expect(third.requests.exchange).toBeLessThanOrEqual(5);
  });

  it('refuses to mix the two demos in one data folder, with a sentence', async () => {
    const run = await runCli(['sync', '--once', '--demo', '--data-dir', join(dir, DATA)], { cwd: dir });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/is the Exchange Online demo's; use another --data-dir/);
  });
});
