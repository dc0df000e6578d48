import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Conf from 'conf';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fake, userData } from './fake-electron.ts';

/**
 * main.ts itself, with Electron replaced at its boundary (fake-electron.ts): start-up order, IPC registration, the
 * calm first run (no cycle, no notification, no error icon before a real sync ran), the tray through a real failing
 * sync, notifications, start at login (an XDG autostart entry on Linux), the proxy resolved by the session, and the
 * keychain read once.
 */

vi.mock('electron', async () => (await import('./fake-electron.ts')).electronModule());
vi.mock('electron-store', async () => (await import('./fake-electron.ts')).electronStoreModule());
vi.mock('../../src-main/secrets/keychain-secret-store.ts', async () => (await import('./fake-electron.ts')).keychainModule());

// Start at login writes ~/.config/autostart on Linux: keep it inside this test's folder.
process.env.XDG_CONFIG_HOME = path.join(fake.tmp, 'config');
delete process.env.APPIMAGE;

const appFrame = { senderFrame: { url: 'app://severa-sync/index.html', parent: null } };
const invoke = async (channel: string, payload?: unknown) => {
  const reply = (await fake.ipcHandlers.get(`scs:${channel}`)!(appFrame, payload)) as { ok: boolean; value?: unknown; error?: unknown };
  if (!reply.ok) throw new Error(`${channel} failed: ${JSON.stringify(reply.error)}`);
  return reply.value as Record<string, unknown>;
};
const menuItem = (label: string | RegExp) => fake.trays[0].menu.find((i) => (typeof label === 'string' ? i.label === label : label.test(i.label ?? '')));
const settled = () => new Promise((r) => setTimeout(r, 150));

afterAll(() => {
  fake.appEvents.emit('will-quit');
});

describe('main process wiring (Electron faked)', () => {
  it('starts: lock, privileged scheme before ready, IPC, tray, hardened session, first-run window on the setup', async () => {
    await import('../../src-main/electron/main.ts');
    await vi.waitFor(() => expect(fake.trays).toHaveLength(1));
    expect(fake.calls.slice(0, 2)).toEqual(['privileged app', 'lock']);
    expect(fake.calls).toContain('protocol app');
    expect(fake.calls).toContain('power resume');
    expect(fake.ipcHandlers.size).toBeGreaterThanOrEqual(21);
    expect([...fake.ipcHandlers.keys()].every((k) => k.startsWith('scs:'))).toBe(true);
    expect(fake.permissionAnswers).toEqual([false]);
    expect(fake.dialogs).toEqual([]);
    // No settings yet: the window opens on the Admin section, isolated and sandboxed, with the preload only.
    expect(fake.windows).toHaveLength(1);
    expect(fake.windows[0].url).toBe('app://severa-sync/index.html#admin');
    expect(fake.windows[0].options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(String(fake.windows[0].options.webPreferences.preload)).toMatch(/dist[\\/]preload[\\/]preload\.cjs$/);
    // The Windows toast identity is set only on Windows (this test runs elsewhere).
    expect(fake.calls.some((c) => c.startsWith('app user model id'))).toBe(process.platform === 'win32');
  });

  it('first run is calm: no cycle runs, no notification, no error icon; the tray says what setup is missing and Sync now waits', async () => {
    await settled();
    const tray = fake.trays[0];
    expect(tray.image).toMatch(/tray-idle\.png$/);
    expect(tray.tooltip).toContain('Set up: the admin settings are not saved yet');
    expect(fake.notifications).toEqual([]);
    expect(menuItem(/^Sync now/)).toMatchObject({ label: 'Sync now (finish the setup first)', enabled: false });
    expect(menuItem(/^Last sync|^Not synced/)?.label).toBe('Not synced yet');
    const status = await invoke('status:get');
    expect(status).toMatchObject({ runner: { state: 'idle', waitingFor: 'settings', consecutiveFailures: 0 }, orgErrors: [], setup: { settingsSaved: false, connectionTest: 'not-run', anyoneEnrolled: false } });
    // The keychain is read at most once per secret (the reply guard's first need), never per message.
    const reads = fake.calls.filter((c) => c.startsWith('keychain read'));
    expect(reads).toEqual([...new Set(reads)]);
  });

  it('Test connection with a run id pushes each check to the window as it completes, then answers with the whole list', async () => {
    const sentBefore = fake.windows[0].sent.length;
    const checks = (await invoke('connection:test', { runId: 'run-1' })) as unknown as { id: string }[];
    // No settings saved yet: the one check says so.
    expect(checks.map((c) => c.id)).toEqual(['settings']);
    await vi.waitFor(() => expect(fake.windows[0].sent.slice(sentBefore).filter(([ch]) => ch === 'scs:connection:check')).toHaveLength(1));
    const pushed = fake.windows[0].sent.slice(sentBefore).find(([ch]) => ch === 'scs:connection:check')!;
    expect(pushed[1]).toEqual({ runId: 'run-1', index: 0, check: checks[0] });
  });

  it('the tray menu pauses until resumed and resumes; start at login writes an XDG autostart entry on Linux and removes it', async () => {
    const tray = fake.trays[0];
    menuItem('Pause auto-sync until resumed')!.click!({});
    await vi.waitFor(() => expect(tray.image).toMatch(/tray-paused\.png$/));
    menuItem(/^Resume auto-sync/)!.click!({});
    await vi.waitFor(() => expect(tray.image).not.toMatch(/paused/));
    menuItem('Start at login')!.click!({ checked: true });
    expect(menuItem('Start at login')).toMatchObject({ checked: true });
    const entry = path.join(fake.tmp, 'config', 'autostart', 'severa-calendar-sync.desktop');
    if (process.platform === 'linux') {
      expect(readFileSync(entry, 'utf8')).toContain(`Exec=${process.execPath} --login-start`);
      expect(fake.loginItem).toBeNull();
      menuItem('Start at login')!.click!({ checked: false });
      expect(existsSync(entry)).toBe(false);
    } else {
      expect(fake.loginItem).toEqual({ openAtLogin: true, args: ['--login-start'] });
    }
  });

  it('notification and start-up preferences are kept and applied through the window', async () => {
    const languages = { language: 'system', activeLanguage: 'en', systemLanguage: 'en' };
    expect(await invoke('preferences:get')).toEqual({ notifications: 'errors', startAtLogin: false, startDelayMinutes: 0, ...languages });
    expect(await invoke('preferences:set', { notifications: 'all', startAtLogin: true, startDelayMinutes: 5 })).toEqual({ notifications: 'all', startAtLogin: true, startDelayMinutes: 5, ...languages });
    if (process.platform === 'linux') expect(existsSync(path.join(fake.tmp, 'config', 'autostart', 'severa-calendar-sync.desktop'))).toBe(true);
    await invoke('preferences:set', { notifications: 'errors', startAtLogin: false });
  });

  it('language: the system\'s (Electron\'s preferred system languages) unless chosen; a choice re-labels the tray at once', async () => {
    fake.systemLanguages = ['de-DE', 'fi-FI'];
    try {
      expect(await invoke('preferences:get')).toMatchObject({ language: 'system', activeLanguage: 'fi', systemLanguage: 'fi' });
      expect(await invoke('preferences:set', { language: 'sv' })).toMatchObject({ language: 'sv', activeLanguage: 'sv' });
      const tray = fake.trays[0];
      expect(tray.tooltip).toMatch(/^Severa Calendar Sync – Konfiguration: /);
      expect(tray.menu.map((i) => i.label)).toContain('Avsluta Severa Calendar Sync');
      expect(await invoke('preferences:set', { language: 'system' })).toMatchObject({ activeLanguage: 'fi' });
      expect(fake.trays[0].menu.map((i) => i.label)).toContain('Lopeta Severa Calendar Sync');
    } finally {
      fake.systemLanguages = ['en-GB'];
      await invoke('preferences:set', { language: 'en' });
      await invoke('preferences:set', { language: 'system' });
    }
    expect(fake.trays[0].menu.map((i) => i.label)).toContain('Quit Severa Calendar Sync');
  });

  it('after setup, the first real sync that fails turns the tray to the error icon with one notification (the organization-wide problem once)', async () => {
    await invoke('secret:set', { name: 'severa-client-secret', value: 'the-severa-secret' });
    await invoke('secret:set', { name: 'exchange-delegate-password', value: 'the-delegate-password' });
    const saved = await invoke('settings:save', {
      exchange: { serverType: 'Exchange2019', ewsUrl: 'https://mail.contoso.invalid/EWS/Exchange.asmx', domain: 'CONTOSO', username: 'svc-severa-sync', authMethod: 'ntlm' },
      severa: { apiUrl: 'https://severa.contoso.invalid/rest-api', clientId: 'demo-client-id' },
      network: { proxyMode: 'system' },
      activityTypesToExchange: [],
      intervalMinutes: 15,
      windowDaysAhead: 365,
    });
    expect(saved).toMatchObject({ ok: true });
    // Two people turned on their sync (from their own desktops): written into the same settings file.
    const store = new Conf<Record<string, unknown>>({ cwd: userData(), configName: 'settings', projectName: 'scs-main-test' });
    const org = store.get('org') as { enrollments: unknown[] };
    store.set('org', { ...org, enrollments: ['aino', 'mikko'].map((n) => ({ email: `${n}@contoso.example`, syncStartDate: '2026-11-01', enabledAt: '2026-11-01T08:00:00Z', paused: false })) });
    expect(fake.notifications).toEqual([]);

    const status = await invoke('sync:now');
    expect(status).toMatchObject({ runner: { state: 'error', consecutiveFailures: 1 }, setup: { settingsSaved: true, anyoneEnrolled: true } });
    const tray = fake.trays[0];
    await vi.waitFor(() => expect(tray.image).toMatch(/tray-error\.png$/));
    expect(fake.notifications).toHaveLength(1);
    expect(fake.notifications[0].title).toBe('Calendar sync problem');
    expect(menuItem(/^Last sync/)?.label).toMatch(/failed/);
    // The system proxy was asked (session.resolveProxy) for the server the sync tried to reach.
    expect(fake.proxyQuestions.some((u) => u.startsWith('https://severa.contoso.invalid'))).toBe(true);
    fake.notifications[0].click();
    await vi.waitFor(() => expect(fake.windows[0].sent).toContainEqual(['scs:navigate', { section: 'status' }]));
    // The same problem again: no second notification.
    await invoke('sync:now');
    expect(fake.notifications).toHaveLength(1);
  });

  it('the keychain was read once, when first needed: window messages and cycles do not read it again', async () => {
    const reads = () => fake.calls.filter((c) => c.startsWith('keychain read')).length;
    const before = reads();
    expect(before).toBeGreaterThan(0);
    for (const channel of ['status:get', 'settings:get', 'status:get', 'personal:get']) await invoke(channel);
    await invoke('sync:now');
    expect(reads()).toBe(before);
  });

  it('a request on ipcMain from a foreign frame is refused; from the app frame it is answered', async () => {
    const status = fake.ipcHandlers.get('scs:status:get')!;
    expect(await status({ senderFrame: { url: 'https://evil.example/', parent: null } }, undefined)).toMatchObject({ ok: false, error: { code: 'untrusted-sender' } });
    expect(await status(appFrame, undefined)).toMatchObject({ ok: true, value: { runner: { state: 'error' }, orgErrors: [{ fix: expect.stringMatching(/\S/) }] } });
  });
});
