import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleReport, UserReport } from '../../src-main/common/sync-report.ts';
import { runCli } from '../cli/cli-helpers.ts';

/**
 * `npm run demo` as a user runs it, twice, in a fresh directory: the first run syncs the demo firm both ways, the second
 * (new process, simulators and store loaded from the demo data dir) finds nothing to do.
 */

const DEMO_USERS = ['aino.virtanen@contoso.example', 'mikko.lahtinen@contoso.example', 's.nieminen@contoso.example', 'jussi.korhonen@contoso.example', 'leena.makela@contoso.example'];
const changesOf = (u: UserReport) => u.toExchange.created + u.toExchange.updated + u.toExchange.deleted + u.toSevera.created + u.toSevera.updated + u.toSevera.deleted;

let dir: string;
let first: CycleReport;
let second: CycleReport;
let firstCode: number | null;
let secondCode: number | null;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'demo-e2e-'));
  const a = await runCli(['sync', '--once', '--demo', '--json'], { cwd: dir });
  firstCode = a.code;
  first = JSON.parse(a.stdout) as CycleReport;
  const b = await runCli(['sync', '--once', '--demo', '--json'], { cwd: dir });
  secondCode = b.code;
  second = JSON.parse(b.stdout) as CycleReport;
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the demo, run twice', () => {
  it('keeps its state in .sync-data/demo under the working directory', () => {
    for (const file of ['config.json', 'sync-store.sqlite', 'runner-state.json', join('demo-peers', 'ews-seed.json'), join('demo-peers', 'severa-seed.json')]) {
      expect(existsSync(join(dir, '.sync-data', 'demo', file)), file).toBe(true);
    }
  });

  it('first run: all five people synced, items created on both sides, no error', () => {
    expect(first.users.map((u) => u.email).sort()).toEqual([...DEMO_USERS].sort());
    expect(first.users.every((u) => u.firstSync)).toBe(true);
    expect(first.users.reduce((n, u) => n + u.toExchange.created, 0)).toBeGreaterThan(0);
    expect(first.users.reduce((n, u) => n + u.toSevera.created, 0)).toBeGreaterThan(0);
    expect(first.users.flatMap((u) => u.errors.map((e) => `${u.email}: ${e.message}`))).toEqual([]);
    expect(first.errors).toEqual([]);
    expect(first.outcome).toBe('ok');
    expect(firstCode).toBe(0);
  });

  it('second run: no changes on either side', () => {
    expect(second.users.map((u) => u.email).sort()).toEqual([...DEMO_USERS].sort());
    expect(second.users.every((u) => !u.firstSync)).toBe(true);
    expect(Object.fromEntries(second.users.map((u) => [u.email, changesOf(u)]))).toEqual(Object.fromEntries(DEMO_USERS.map((e) => [e, 0])));
    expect(second.users.flatMap((u) => u.errors)).toEqual([]);
    expect(second.outcome).toBe('ok');
    expect(secondCode).toBe(0);
  });

  it('a third, human-readable run prints the per-user table and says there were no changes', async () => {
    const run = await runCli(['sync', '--once', '--demo'], { cwd: dir });
    expect(run.stdout).toMatch(/^user\s+outcome\s+to Exchange c\/u\/d\s+to Severa c\/u\/d/m);
    for (const email of DEMO_USERS) expect(run.stdout).toMatch(new RegExp(`^${email.replace(/\./g, '\\.')}\\s+ok\\s+0/0/0\\s+0/0/0`, 'm'));
    expect(run.stdout).toContain('No changes.');
    expect(run.code).toBe(0);
  });
});
