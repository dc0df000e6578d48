import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it, vi } from 'vitest';
import { SECRET_NAMES } from '../../src-main/common/secrets-contract.ts';
import type { SecretName } from '../../src-main/common/secrets-contract.ts';
import { APP_USER_MODEL_ID, LOGIN_ARG, applyLoginItem, launchedAtLogin, loginItemPlan, quoteExecArgument, scheduleStartAt, xdgAutostartDir } from '../../src-main/electron/login-item.ts';
import { SecretCache } from '../../src-main/electron/secret-cache.ts';
import { claimSingleInstance } from '../../src-main/electron/single-instance.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('start at login', () => {
  it('Linux: an XDG autostart entry in $XDG_CONFIG_HOME/autostart (else ~/.config), starting the AppImage file when run from one', () => {
    const deb = loginItemPlan(true, { platform: 'linux', env: {}, home: '/home/aino', execPath: '/opt/Severa Calendar Sync/severa-calendar-sync' });
    expect(deb).toMatchObject({ kind: 'xdg', file: '/home/aino/.config/autostart/severa-calendar-sync.desktop' });
    const content = (deb as { content: string }).content;
    expect(content.split('\n')).toEqual(
      expect.arrayContaining(['[Desktop Entry]', 'Type=Application', 'Name=Severa Calendar Sync', `Exec="/opt/Severa Calendar Sync/severa-calendar-sync" ${LOGIN_ARG}`, 'X-GNOME-Autostart-enabled=true']),
    );
    const appImage = loginItemPlan(true, { platform: 'linux', env: { APPIMAGE: '/home/aino/Apps/Severa-Calendar-Sync.AppImage', XDG_CONFIG_HOME: '/home/aino/.cfg' }, home: '/home/aino', execPath: '/tmp/.mount_x/severa-calendar-sync' });
    expect(appImage).toMatchObject({ file: '/home/aino/.cfg/autostart/severa-calendar-sync.desktop' });
    expect((appImage as { content: string }).content).toContain(`Exec=/home/aino/Apps/Severa-Calendar-Sync.AppImage ${LOGIN_ARG}`);
    expect(loginItemPlan(false, { platform: 'linux', env: {}, home: '/home/aino', execPath: '/x' })).toMatchObject({ kind: 'xdg', content: null });
    expect(xdgAutostartDir({ XDG_CONFIG_HOME: 'relative/ignored' }, '/home/aino')).toBe('/home/aino/.config/autostart');
  });

  it('quotes Exec arguments as the Desktop Entry Specification asks', () => {
    expect(quoteExecArgument('/usr/bin/app')).toBe('/usr/bin/app');
    expect(quoteExecArgument('/opt/My App/app')).toBe('"/opt/My App/app"');
    expect(quoteExecArgument('/opt/a"b$c`d\\e')).toBe('"/opt/a\\"b\\$c\\`d\\\\e"');
    expect(quoteExecArgument('/opt/100%/app')).toBe('/opt/100%%/app');
  });

  it('Windows and macOS: Electron login items, with the login argument; applying writes or removes as planned', () => {
    expect(loginItemPlan(true, { platform: 'win32', env: {}, home: 'C:\\Users\\aino', execPath: 'C:\\app.exe' })).toEqual({ kind: 'electron', settings: { openAtLogin: true, args: [LOGIN_ARG] } });
    const effects = { setLoginItemSettings: vi.fn(), mkdir: vi.fn(), writeFile: vi.fn(), removeFile: vi.fn() };
    applyLoginItem(loginItemPlan(false, { platform: 'darwin', env: {}, home: '/Users/aino', execPath: '/Applications/x' }), effects);
    expect(effects.setLoginItemSettings).toHaveBeenCalledWith({ openAtLogin: false, args: [] });
    applyLoginItem({ kind: 'xdg', file: '/h/.config/autostart/a.desktop', content: 'x' }, effects);
    expect(effects.mkdir).toHaveBeenCalledWith('/h/.config/autostart');
    expect(effects.writeFile).toHaveBeenCalledWith('/h/.config/autostart/a.desktop', 'x');
    applyLoginItem({ kind: 'xdg', file: '/h/.config/autostart/a.desktop', content: null }, effects);
    expect(effects.removeFile).toHaveBeenCalledWith('/h/.config/autostart/a.desktop');
  });

  it('a start at login waits the chosen delay before automatic sync; a start by hand does not', () => {
    expect(launchedAtLogin(['/opt/app', LOGIN_ARG])).toBe(true);
    expect(launchedAtLogin(['/opt/app'])).toBe(false);
    expect(launchedAtLogin(['/opt/app'], true)).toBe(true);
    expect(scheduleStartAt(1_000, true, 5)).toBe(1_000 + 5 * 60_000);
    expect(scheduleStartAt(1_000, false, 5)).toBe(1_000);
    expect(scheduleStartAt(1_000, true, 0)).toBe(1_000);
  });

  it("the Windows toast identity is electron-builder's appId (the installer's shortcut carries it)", () => {
    const config = parse(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as { appId: string };
    expect(APP_USER_MODEL_ID).toBe(config.appId);
    expect(readFileSync(path.join(root, 'src-main/electron/main.ts'), 'utf8')).toMatch(/if \(process\.platform === 'win32'\) app\.setAppUserModelId\(APP_USER_MODEL_ID\)/);
  });
});

describe('a second launch', () => {
  it('is answered by the first instance: it quits quietly', async () => {
    const files = new Map<string, string>();
    const io = { answerFile: '/ud/answer', write: (f: string, t: string) => void files.set(f, t), read: (f: string) => files.get(f) ?? null };
    const listeners = new Map<string, (...a: unknown[]) => void>();
    const first = { requestSingleInstanceLock: () => true, quit: vi.fn(), on: (e: string, fn: (...a: unknown[]) => void) => listeners.set(e, fn) };
    const show = vi.fn();
    expect(claimSingleInstance(first as never, show, { ...io, onNoAnswer: vi.fn() })).toBe(true);

    let token: unknown;
    const onNoAnswer = vi.fn();
    const second = {
      requestSingleInstanceLock: (data: { handOver: string }) => {
        token = data.handOver;
        // Electron tells the first instance, with the second's data.
        setTimeout(() => listeners.get('second-instance')!({}, [], '/', data), 20);
        return false;
      },
      quit: vi.fn(),
      on: vi.fn(),
    };
    expect(claimSingleInstance(second as never, vi.fn(), { ...io, onNoAnswer, waitMs: 2000, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) })).toBe(false);
    await vi.waitFor(() => expect(second.quit).toHaveBeenCalledOnce());
    expect(show).toHaveBeenCalledOnce();
    expect(files.get('/ud/answer')).toBe(token);
    expect(onNoAnswer).not.toHaveBeenCalled();
  });

  it('that gets no answer (the first instance hangs) says so before it quits', async () => {
    const onNoAnswer = vi.fn();
    const second = { requestSingleInstanceLock: () => false, quit: vi.fn(), on: vi.fn() };
    claimSingleInstance(second as never, vi.fn(), { answerFile: '/ud/answer', write: vi.fn(), read: () => 'an older answer', onNoAnswer, waitMs: 50, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) });
    await vi.waitFor(() => expect(second.quit).toHaveBeenCalledOnce());
    expect(onNoAnswer).toHaveBeenCalledOnce();
  });
});

describe('the secret cache', () => {
  it('reads the keychain once, serves every later need from memory, and writes through', async () => {
    const reads: string[] = [];
    const store = new Map<string, string>([['severa-client-secret', 's3cret']]);
    const keychain = {
      get: async (n: SecretName) => (reads.push(n), store.get(n) ?? null),
      set: async (n: SecretName, v: string) => void store.set(n, v),
      delete: async (n: SecretName) => void store.delete(n),
      has: async (n: SecretName) => store.has(n),
    };
    const cache = new SecretCache(keychain);
    await Promise.all([cache.values(), cache.stored(), cache.get('severa-client-secret'), cache.has('proxy-password')]);
    expect(reads.sort()).toEqual([...SECRET_NAMES].sort());
    for (let i = 0; i < 5; i++) await cache.values();
    await cache.set('exchange-delegate-password', 'pw');
    expect(await cache.get('exchange-delegate-password')).toBe('pw');
    await cache.delete('severa-client-secret');
    expect(await cache.stored()).toMatchObject({ 'severa-client-secret': false, 'exchange-delegate-password': true });
    expect(reads).toHaveLength(SECRET_NAMES.length);
    expect(store.get('exchange-delegate-password')).toBe('pw');
  });

  it('a failed read is not remembered: the next need asks the keychain again', async () => {
    let locked = true;
    const cache = new SecretCache({
      get: async () => {
        if (locked) throw new Error('locked');
        return 'v';
      },
      set: async () => {},
      delete: async () => {},
      has: async () => true,
    });
    await expect(cache.load()).rejects.toThrow('locked');
    expect(await cache.values()).toEqual([]);
    locked = false;
    await cache.load();
    expect(await cache.get('proxy-password')).toBe('v');
  });
});
