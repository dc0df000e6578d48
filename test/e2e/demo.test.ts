import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleReport, UserReport } from '../../src-main/common/sync-report.ts';
import { runCli } from '../cli/cli-helpers.ts';

/**
 * `npm run demo` as a user runs it, twice, in a fresh directory: the first run syncs the demo firm both ways, the second
 * (new process, simulators restored from their state snapshots and the store from the demo data dir) finds nothing to
 * do and has nothing to say. Runs on copies of the data dir with the simulators' state lost or half lost show that
 * the second run's quiet report depends on that state being restored.
 */

const DEMO_USERS = ['aino.virtanen@contoso.example', 'mikko.lahtinen@contoso.example', 's.nieminen@contoso.example', 'jussi.korhonen@contoso.example', 'leena.makela@contoso.example'];
const changesOf = (u: UserReport) => u.toExchange.created + u.toExchange.updated + u.toExchange.deleted + u.toSevera.created + u.toSevera.updated + u.toSevera.deleted;
const DEMO_DATA = join('.sync-data', 'demo');
/** A copy of the demo data dir as the second run left it. */
const AFTER_SECOND_RUN = 'after-second-run';
const LOST_POSITION = /Exchange no longer accepted the sync position/;

/** Everything a run that found nothing to do must not report: per user changes, conflicts, held deletions, errors, notes. */
function noise(report: CycleReport): string[] {
  const out = report.errors.map((e) => `organization: ${e.message}`);
  for (const u of report.users) {
    if (changesOf(u) > 0) out.push(`${u.email}: ${changesOf(u)} change(s)`);
    if (u.conflicts > 0) out.push(`${u.email}: ${u.conflicts} conflict(s)`);
    if (u.heldDeletions > 0) out.push(`${u.email}: ${u.heldDeletions} held deletion(s)`);
    out.push(...u.errors.map((e) => `${u.email}: error: ${e.message}`), ...u.notes.map((n) => `${u.email}: note: ${n}`));
  }
  return out;
}

/** The demo once more, on a copy of the data dir as the second run left it, after `damage` to the copy. */
async function runOnCopy(damage: (demoDir: string) => void): Promise<CycleReport> {
  const copy = mkdtempSync(join(tmpdir(), 'demo-e2e-copy-'));
  try {
    cpSync(join(dir, AFTER_SECOND_RUN), join(copy, DEMO_DATA), { recursive: true });
    damage(join(copy, DEMO_DATA));
    const run = await runCli(['sync', '--once', '--demo', '--json'], { cwd: copy });
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as CycleReport;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

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
  // A copy for the runs on damaged state, taken before the third run below adds to it.
  cpSync(join(dir, DEMO_DATA), join(dir, AFTER_SECOND_RUN), { recursive: true });
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the demo, run twice', () => {
  it('keeps its state in .sync-data/demo under the working directory', () => {
    for (const file of ['config.json', 'sync-store.sqlite', 'runner-state.json', join('demo-peers', 'ews-state.json'), join('demo-peers', 'severa-state.json')]) {
      expect(existsSync(join(dir, DEMO_DATA, file)), file).toBe(true);
    }
    const ews = JSON.parse(readFileSync(join(dir, DEMO_DATA, 'demo-peers', 'ews-state.json'), 'utf8')) as { format: string; version: number };
    const severa = JSON.parse(readFileSync(join(dir, DEMO_DATA, 'demo-peers', 'severa-state.json'), 'utf8')) as { format: string; version: number };
    expect([ews.format, ews.version, severa.format, severa.version]).toEqual(['ews-simulator-state', 1, 'severa-simulator-state', 1]);
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

  it('second run: no changes on either side, and no error or note for anyone (the sync positions were kept)', () => {
    expect(second.users.map((u) => u.email).sort()).toEqual([...DEMO_USERS].sort());
    expect(second.users.every((u) => !u.firstSync)).toBe(true);
    expect(Object.fromEntries(second.users.map((u) => [u.email, changesOf(u)]))).toEqual(Object.fromEntries(DEMO_USERS.map((e) => [e, 0])));
    for (const u of second.users) expect({ email: u.email, errors: u.errors, notes: u.notes }).toEqual({ email: u.email, errors: [], notes: [] });
    expect(noise(second)).toEqual([]);
    expect(second.errors).toEqual([]);
    expect(second.outcome).toBe('ok');
    expect(secondCode).toBe(0);
  });

  it('is quiet only because the simulators were restored: with their state lost, the same run reports changes and notes', async () => {
    // As if the demo had started the simulators from the seeds again, beside the store the first run left.
    const lost = await runOnCopy((demoDir) => rmSync(join(demoDir, 'demo-peers'), { recursive: true }));
    expect(lost.users.reduce((n, u) => n + changesOf(u), 0)).toBeGreaterThan(0);
    expect(lost.users.filter((u) => u.notes.some((n) => LOST_POSITION.test(n))).map((u) => u.email).sort()).toEqual([...DEMO_USERS].sort());
    expect(noise(lost).length).toBeGreaterThan(0);
  }, 60_000);

  it('is quiet only because the Exchange sync states stay valid: with another signing key every user gets a note', async () => {
    // Items, ids and ChangeKeys restored, but the sync states the store holds signed by a key the server no longer has.
    const rekeyed = await runOnCopy((demoDir) => {
      const file = join(demoDir, 'demo-peers', 'ews-state.json');
      const state = JSON.parse(readFileSync(file, 'utf8')) as { syncKey: string };
      writeFileSync(file, JSON.stringify({ ...state, syncKey: randomBytes(32).toString('base64') }));
    });
    expect(rekeyed.users.map((u) => changesOf(u))).toEqual(DEMO_USERS.map(() => 0));
    for (const u of rekeyed.users) expect(u.notes.some((n) => LOST_POSITION.test(n)), u.email).toBe(true);
    expect(noise(rekeyed).length).toBe(DEMO_USERS.length);
  }, 60_000);

  it('refuses a data dir saved by the old demo (seeds instead of state snapshots) with a plain sentence', async () => {
    const old = mkdtempSync(join(tmpdir(), 'demo-e2e-old-'));
    try {
      cpSync(join(dir, AFTER_SECOND_RUN), join(old, DEMO_DATA), { recursive: true });
      const peers = join(old, DEMO_DATA, 'demo-peers');
      rmSync(peers, { recursive: true });
      cpSync(join(dir, DEMO_DATA, 'config.json'), join(peers, 'ews-seed.json'));
      const run = await runCli(['sync', '--once', '--demo'], { cwd: old });
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/saved by an older version of the demo.*delete .* to start the demo afresh/);
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  }, 60_000);

  it('a third, human-readable run prints the per-user table and says there were no changes', async () => {
    const run = await runCli(['sync', '--once', '--demo'], { cwd: dir });
    expect(run.stdout).toMatch(/^user\s+outcome\s+to Exchange c\/u\/d\s+to Severa c\/u\/d/m);
    for (const email of DEMO_USERS) expect(run.stdout).toMatch(new RegExp(`^${email.replace(/\./g, '\\.')}\\s+ok\\s+0/0/0\\s+0/0/0`, 'm'));
    expect(run.stdout).toContain('No changes.');
    expect(run.code).toBe(0);
  });
});
