import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fake, userData } from './fake-electron.ts';

/**
 * The tray app's start when something is wrong: a damaged settings file, the sync data folder taken by another
 * program, a damaged sync state database, a keychain that does not answer, and any other failure of start(). Each
 * reaches the person as a dialog with the fix (never a silent exit); main.ts is started afresh for each case, with
 * Electron faked (fake-electron.ts) and the dialog answered by the test.
 */

vi.mock('electron', async () => (await import('./fake-electron.ts')).electronModule());
vi.mock('electron-store', async () => (await import('./fake-electron.ts')).electronStoreModule());
vi.mock('../../src-main/secrets/keychain-secret-store.ts', async () => (await import('./fake-electron.ts')).keychainModule());

process.env.XDG_CONFIG_HOME = path.join(fake.tmp, 'config');
const settingsFile = path.join(userData(), 'settings.json');
const dataDir = path.join(userData(), 'sync-data');
const validSettings = {
  org: {
    schemaVersion: 1,
    exchange: { serverType: 'Exchange2019', ewsUrl: 'https://mail.contoso.invalid/EWS/Exchange.asmx', domain: 'CONTOSO', username: 'svc', authMethod: 'ntlm', allowInsecureHttp: false },
    severa: { apiUrl: 'https://severa.contoso.invalid/rest-api', clientId: 'demo-client-id', allowInsecureHttp: false },
    activityTypesToExchange: [],
    intervalMinutes: 15,
    windowDaysAhead: 365,
    enrollments: [],
    deletionGuard: { maxItems: 10, maxPercent: 20 },
  },
};
let children: ChildProcess[] = [];

/** Starts main.ts afresh and waits until it either runs (tray shown) or quit. */
async function startApp(): Promise<void> {
  vi.resetModules();
  fake.appEvents.emit('will-quit');
  fake.appEvents.removeAllListeners();
  fake.trays.length = 0;
  fake.windows.length = 0;
  fake.calls.length = 0;
  fake.dialogs.length = 0;
  fake.ipcHandlers.clear();
  await import('../../src-main/electron/main.ts');
  await vi.waitFor(() => expect(fake.trays.length > 0 || fake.calls.includes('quit')).toBe(true), { timeout: 15_000 });
}

beforeEach(() => {
  rmSync(userData(), { recursive: true, force: true });
  mkdirSync(userData(), { recursive: true });
  fake.keychainBroken = false;
  fake.protocolHandleThrows = false;
  fake.dialogAnswers.length = 0;
});

afterAll(() => {
  fake.appEvents.emit('will-quit');
  for (const c of children) c.kill();
});

describe('start-up problems reach the person as a dialog with the fix', () => {
  it('a damaged settings file: the dialog names the file and the kept copy; quitting leaves everything as it was', async () => {
    writeFileSync(settingsFile, '{"org": {"exchange": ');
    fake.dialogAnswers.push('Quit');
    await startApp();
    expect(fake.dialogs).toHaveLength(1);
    const [dialog] = fake.dialogs;
    expect(dialog.message).toBe('The settings file is damaged, so the app cannot read its settings.');
    expect(dialog.buttons).toEqual(['Start from the defaults', 'Quit']);
    const copy = readdirSync(userData()).find((f) => /^settings\.broken-.*\.json$/.test(f))!;
    expect(copy).toBeTruthy();
    expect(dialog.detail).toContain(`The file ${settingsFile}: it is not valid JSON`);
    expect(dialog.detail).toContain(`A copy of it is kept as ${path.join(userData(), copy)}`);
    expect(dialog.detail).toContain('Fix: choose "Start from the defaults"');
    expect(readFileSync(path.join(userData(), copy), 'utf8')).toBe('{"org": {"exchange": ');
    expect(readFileSync(settingsFile, 'utf8')).toBe('{"org": {"exchange": ');
    expect(fake.calls).toContain('quit');
    expect(fake.trays).toEqual([]);
  });

  it('a damaged settings file, "Start from the defaults": the app starts with empty settings and the copy stays', async () => {
    writeFileSync(settingsFile, 'not json at all');
    fake.dialogAnswers.push('Start from the defaults');
    await startApp();
    expect(fake.dialogs.map((d) => d.message)).toEqual(['The settings file is damaged, so the app cannot read its settings.']);
    expect(fake.trays).toHaveLength(1);
    expect(fake.calls).not.toContain('quit');
    expect(fake.windows[0].url).toBe('app://severa-sync/index.html#admin');
    const copy = readdirSync(userData()).find((f) => /^settings\.broken-/.test(f))!;
    expect(readFileSync(path.join(userData(), copy), 'utf8')).toBe('not json at all');
  });

  it('the sync data folder in use by another running program: named, with the fix; "Try again" once it stopped', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    children.push(other);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path.join(dataDir, 'sync.lock'), JSON.stringify({ pid: other.pid, host: hostname(), program: 'the command line (sync --watch)', since: '2026-11-20T08:00:00Z' }));
    const started = startApp();
    await vi.waitFor(() => expect(fake.dialogs).toHaveLength(1));
    expect(fake.dialogs[0].message).toBe('Another program is using the sync data folder.');
    expect(fake.dialogs[0].detail).toContain(`in use by the command line (sync --watch) (process ${other.pid}`);
    expect(fake.dialogs[0].detail).toContain('Fix: stop the other program');
    // "Try again" while the other program still runs asks again; once it stopped, the next try works.
    fake.dialogAnswers.push('Try again');
    await vi.waitFor(() => expect(fake.dialogs).toHaveLength(2));
    other.kill();
    await new Promise((r) => other.once('exit', r));
    fake.dialogAnswers.push('Try again');
    await started;
    await vi.waitFor(() => expect(fake.trays).toHaveLength(1));
    expect(JSON.parse(readFileSync(path.join(dataDir, 'sync.lock'), 'utf8'))).toMatchObject({ pid: process.pid, program: 'the tray app' });
  });

  it('a damaged sync state database: "Start with a fresh sync state" keeps the damaged file beside the new one', async () => {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path.join(dataDir, 'sync-store.sqlite'), 'this is not a database, just text that got written here by accident '.repeat(100));
    fake.dialogAnswers.push('Start with a fresh sync state');
    await startApp();
    expect(fake.dialogs[0].message).toBe('The sync state database is damaged.');
    expect(fake.dialogs[0].detail).toContain('With a fresh one the next sync starts over and pairs the entries again');
    expect(fake.trays).toHaveLength(1);
    expect(readdirSync(dataDir).some((f) => /^sync-store\.sqlite\.broken-/.test(f))).toBe(true);
  });

  it('a keychain that does not answer (settings saved): retry, go on without it, or quit', async () => {
    writeFileSync(settingsFile, JSON.stringify(validSettings));
    fake.keychainBroken = true;
    fake.dialogAnswers.push('Continue without the keychain');
    await startApp();
    expect(fake.dialogs[0]).toMatchObject({ type: 'warning', message: 'The system keychain cannot be used.', buttons: ['Try again', 'Continue without the keychain', 'Quit'] });
    expect(fake.dialogs[0].detail).toContain('the keyring is locked');
    expect(fake.dialogs[0].detail).toContain('Fix: Unlock the keyring.');
    expect(fake.trays).toHaveLength(1);
  });

  it('any other failure of start() is a dialog naming what went wrong and the log, then the app quits', async () => {
    fake.protocolHandleThrows = true;
    fake.dialogAnswers.push('Quit');
    await startApp();
    expect(fake.dialogs).toHaveLength(1);
    expect(fake.dialogs[0].message).toBe('Severa Calendar Sync could not start.');
    expect(fake.dialogs[0].detail).toContain('What went wrong: The app:// scheme could not be registered.');
    expect(fake.dialogs[0].detail).toContain(path.join(fake.tmp, 'logs', 'severa-calendar-sync.log'));
    expect(fake.calls).toContain('quit');
  });

  it('a healthy start shows no dialog and takes the data folder for itself', async () => {
    writeFileSync(settingsFile, JSON.stringify(validSettings));
    fake.keychain.set('severa-client-secret', 'x');
    await startApp();
    expect(fake.dialogs).toEqual([]);
    expect(existsSync(path.join(dataDir, 'sync.lock'))).toBe(true);
    fake.appEvents.emit('will-quit');
    expect(existsSync(path.join(dataDir, 'sync.lock'))).toBe(false);
  });
});
