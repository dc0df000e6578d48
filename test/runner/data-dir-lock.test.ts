import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, LOCK_FILE, lockDataDir } from '../../src-main/runner/data-dir-lock.ts';
import { checkSyncStore, setAsideSyncStore } from '../../src-main/runner/store-health.ts';
import { brokenCopyPath, inspectSettingsFile, keepBrokenCopy } from '../../src-main/settings/settings-file-recovery.ts';
import { runCli } from '../cli/cli-helpers.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lock-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the sync data folder lock', () => {
  it('one program at a time: the second is told who holds the folder; after release it is free', () => {
    const first = lockDataDir(dir, 'the tray app');
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname(), program: 'the tray app' });
    // The same process may take it again (a restart of the app's start-up within one process).
    lockDataDir(dir, 'the tray app').release();
    first.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('a lock held by a running process is refused with its holder; one left by a process that is gone is taken over', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    await new Promise((r) => child.once('spawn', r));
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: child.pid, host: hostname(), program: 'the command line (sync --watch)', since: '2026-11-20T08:00:00.000Z' }));
    let error: unknown;
    try {
      lockDataDir(dir, 'the tray app');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataDirInUseError);
    expect((error as Error).message).toBe(`The sync data folder ${dir} is in use by the command line (sync --watch) (process ${child.pid}, since 2026-11-20T08:00:00.000Z).`);
    child.kill();
    await new Promise((r) => child.once('exit', r));
    const lock = lockDataDir(dir, 'the tray app');
    expect(JSON.parse(readFileSync(lock.file, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('the command line refuses to sync in a folder the tray app holds, naming it and the fix', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    await new Promise((r) => child.once('spawn', r));
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: child.pid, host: hostname(), program: 'the tray app', since: '2026-11-20T08:00:00.000Z' }));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ exchange: { serverType: 'Exchange2019', ewsUrl: 'https://mail.contoso.invalid/EWS/Exchange.asmx', username: 'svc' }, severa: { clientId: 'c' } }));
    const run = await runCli(['sync', '--once', '--data-dir', dir]);
    child.kill();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`is in use by the tray app (process ${child.pid}`);
    expect(run.stderr).toContain('Fix: stop the other program (or quit the tray app), or give this command another --data-dir.');
  });
});

describe('start-up health of the files', () => {
  it('a settings file that is not JSON, empty or not an object is found; a missing one is fine', () => {
    const file = join(dir, 'settings.json');
    expect(inspectSettingsFile(file)).toEqual({ ok: true });
    writeFileSync(file, '{"org": ');
    expect(inspectSettingsFile(file)).toMatchObject({ ok: false, reason: expect.stringMatching(/^it is not valid JSON/) });
    writeFileSync(file, '');
    expect(inspectSettingsFile(file)).toMatchObject({ ok: false, reason: 'it is empty' });
    writeFileSync(file, '[1]');
    expect(inspectSettingsFile(file)).toMatchObject({ ok: false, reason: 'it does not hold a settings object' });
    writeFileSync(file, '{"org": null}');
    expect(inspectSettingsFile(file)).toEqual({ ok: true });
  });

  it('keeps a copy of a broken settings file without overwriting an earlier one', () => {
    const file = join(dir, 'settings.json');
    writeFileSync(file, 'broken once');
    const at = new Date('2026-11-20T08:15:00Z');
    expect(brokenCopyPath(file, at)).toBe(join(dir, 'settings.broken-2026-11-20T08-15-00.json'));
    const first = keepBrokenCopy(file, at)!;
    writeFileSync(file, 'broken twice');
    const second = keepBrokenCopy(file, at)!;
    expect(second).not.toBe(first);
    expect(readFileSync(first, 'utf8')).toBe('broken once');
    expect(readFileSync(second, 'utf8')).toBe('broken twice');
  });

  it('the sync state database: healthy, damaged (set aside with its WAL), or written by a newer version', () => {
    expect(checkSyncStore(dir)).toEqual({ ok: true });
    rmSync(join(dir, 'sync-store.sqlite'));
    writeFileSync(join(dir, 'sync-store.sqlite'), 'garbage '.repeat(1000));
    expect(checkSyncStore(dir)).toMatchObject({ ok: false, kind: 'corrupt' });
    const aside = setAsideSyncStore(dir, new Date('2026-11-20T08:15:00Z'));
    expect(aside).toBe(join(dir, 'sync-store.sqlite.broken-2026-11-20T08-15-00'));
    expect(readFileSync(aside, 'utf8')).toMatch(/^garbage /);
    expect(readdirSync(dir).filter((f) => f.startsWith('sync-store.sqlite') && !f.includes('broken'))).toEqual([]);
    expect(checkSyncStore(dir)).toEqual({ ok: true });
    const db = new DatabaseSync(join(dir, 'sync-store.sqlite'));
    db.exec('PRAGMA user_version = 999');
    db.close();
    expect(checkSyncStore(dir)).toMatchObject({ ok: false, kind: 'newer' });
  });
});
