import { afterAll, describe, expect, it, vi } from 'vitest';

/**
 * main.ts itself, with Electron replaced at its boundary: every Electron API it touches is a small recording fake, and
 * electron-store / keytar (which need Electron or a keychain) are swapped for their in-memory equivalents.
 */

const h = await vi.hoisted(async () => {
  const { mkdtempSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { EventEmitter } = await import('node:events');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'scs-main-'));
  const appEvents = new EventEmitter();
  const calls: string[] = [];
  const ipcHandlers = new Map<string, (...a: unknown[]) => unknown>();
  const trays: { image: string; tooltip: string; menu: { label?: string; type?: string; click?: (i: { checked?: boolean }) => void }[] }[] = [];
  const windows: { options: { webPreferences: Record<string, unknown> }; url: string; sent: [string, unknown][] }[] = [];
  const notifications: { title: string; body: string; click(): void }[] = [];
  const permissionAnswers: boolean[] = [];
  return { tmp, appEvents, calls, ipcHandlers, trays, windows, notifications, permissionAnswers };
});

vi.mock('electron', async () => {
  const { EventEmitter } = await import('node:events');
  const path = await import('node:path');
  const image = (p: string) => ({ path: p, setTemplateImage: () => {} });
  class Tray {
    state = { image: '', tooltip: '', menu: [] as never[] };
    constructor(img: { path: string }) {
      this.state.image = img.path;
      h.trays.push(this.state);
    }
    on() {}
    setImage(img: { path: string }) { this.state.image = img.path; }
    setToolTip(t: string) { this.state.tooltip = t; }
    setContextMenu(m: never[]) { this.state.menu = m; }
    destroy() { h.calls.push('tray destroyed'); }
  }
  class BrowserWindow extends EventEmitter {
    record: { options: never; url: string; sent: [string, unknown][] };
    webContents: { send(ch: string, d: unknown): void };
    constructor(options: never) {
      super();
      this.record = { options, url: '', sent: [] };
      h.windows.push(this.record as never);
      this.webContents = { send: (ch, d) => void this.record.sent.push([ch, d]) };
    }
    loadURL(url: string) { this.record.url = url; return Promise.resolve(); }
    isDestroyed() { return false; }
    isMinimized() { return false; }
    show() {}
    focus() {}
    hide() {}
    restore() {}
  }
  class Notification {
    static isSupported() { return true; }
    listeners: Record<string, () => void> = {};
    o: { title: string; body: string };
    constructor(o: { title: string; body: string }) {
      this.o = o;
    }
    on(e: string, fn: () => void) { this.listeners[e] = fn; }
    show() { h.notifications.push({ title: this.o.title, body: this.o.body, click: () => this.listeners.click?.() }); }
  }
  const app = {
    requestSingleInstanceLock: () => (h.calls.push('lock'), true),
    on: (e: string, fn: (...a: unknown[]) => void) => h.appEvents.on(e, fn),
    whenReady: () => Promise.resolve(),
    getPath: (name: string) => path.join(h.tmp, name),
    getAppPath: () => process.cwd(),
    quit: () => h.calls.push('quit'),
    setLoginItemSettings: (s: { openAtLogin: boolean }) => h.calls.push(`login item ${s.openAtLogin}`),
  };
  const session = {
    defaultSession: {
      setPermissionRequestHandler: (fn: (w: unknown, p: string, cb: (g: boolean) => void) => void) => fn({}, 'media', (g) => h.permissionAnswers.push(g)),
      setPermissionCheckHandler: () => {},
      webRequest: { onBeforeRequest: () => {}, onHeadersReceived: () => {} },
    },
  };
  const api = {
    app, BrowserWindow, Tray, Notification, session,
    Menu: { buildFromTemplate: (t: unknown) => t },
    ipcMain: { handle: (ch: string, fn: never) => void h.ipcHandlers.set(ch, fn), removeHandler: (ch: string) => void h.ipcHandlers.delete(ch) },
    nativeImage: { createFromPath: image },
    protocol: { registerSchemesAsPrivileged: (s: { scheme: string }[]) => h.calls.push(`privileged ${s.map((x) => x.scheme)}`), handle: (s: string) => h.calls.push(`protocol ${s}`) },
    net: { isOnline: () => true },
    powerMonitor: { on: (e: string) => h.calls.push(`power ${e}`) },
    dialog: { showErrorBox: (t: string, m: string) => h.calls.push(`error box ${t}: ${m}`), showSaveDialog: async () => ({ canceled: true }) },
    shell: { openPath: async () => '' },
  };
  return { ...api, default: api };
});

vi.mock('electron-store', async () => {
  const { default: Conf } = await import('conf');
  return { default: class extends Conf { constructor(o: { name: string }) { super({ cwd: h.tmp, configName: o.name, projectName: 'scs-main-test' }); } } };
});

vi.mock('../../src-main/secrets/keychain-secret-store.ts', () => ({
  KeychainSecretStore: class {
    readonly map = new Map<string, string>();
    async get(n: string) { return this.map.get(n) ?? null; }
    async set(n: string, v: string) { this.map.set(n, v); }
    async delete(n: string) { this.map.delete(n); }
    async has(n: string) { return this.map.has(n); }
    async stored() { return { 'exchange-delegate-password': this.map.has('exchange-delegate-password'), 'severa-client-secret': this.map.has('severa-client-secret'), 'graph-client-secret': false, 'graph-certificate-key': false }; }
    async values() { return [...this.map.values()]; }
  },
}));

afterAll(() => {
  h.appEvents.emit('will-quit');
});

describe('main process wiring (Electron faked)', () => {
  it('starts: lock, privileged scheme before ready, IPC, tray, hardened session, first-run window, schedule', async () => {
    await import('../../src-main/electron/main.ts');
    await vi.waitFor(() => expect(h.trays).toHaveLength(1));
    expect(h.calls.slice(0, 2)).toEqual(['privileged app', 'lock']);
    expect(h.calls).toContain('protocol app');
    expect(h.calls).toContain('power resume');
    expect(h.ipcHandlers.size).toBeGreaterThanOrEqual(19);
    expect([...h.ipcHandlers.keys()].every((k) => k.startsWith('scs:'))).toBe(true);
    expect(h.permissionAnswers).toEqual([false]);
    // No settings yet: the window opens on the Admin section, isolated and sandboxed, with the preload only.
    expect(h.windows).toHaveLength(1);
    expect(h.windows[0].url).toBe('app://severa-sync/index.html#admin');
    expect(h.windows[0].options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(String(h.windows[0].options.webPreferences.preload)).toMatch(/dist[\\/]preload[\\/]preload\.cjs$/);
  });

  it('the schedule first cycle fails on the missing settings: tray shows error, one notification; its click opens the status', async () => {
    const tray = h.trays[0];
    await vi.waitFor(() => expect(tray.image).toMatch(/tray-error\.png$/), { timeout: 10_000 });
    await vi.waitFor(() => expect(h.notifications).toHaveLength(1));
    expect(h.notifications[0].title).toBe('Calendar sync problem');
    h.notifications[0].click();
    expect(h.windows).toHaveLength(1);
    // Pushes go through the checked, ordered pusher, so they land a moment later.
    await vi.waitFor(() => expect(h.windows[0].sent).toContainEqual(['scs:navigate', { section: 'status' }]));
    expect(tray.menu.find((i) => i.label?.startsWith('Last sync'))?.label).toMatch(/failed/);
  });

  it('the tray menu pauses until resumed and resumes; start at login is saved and applied', async () => {
    const tray = h.trays[0];
    const click = (label: string, checked?: boolean) => tray.menu.find((i) => i.label === label)!.click!({ checked });
    click('Pause auto-sync until resumed');
    await vi.waitFor(() => expect(tray.image).toMatch(/tray-paused\.png$/));
    expect(tray.menu.some((i) => i.label?.startsWith('Resume auto-sync'))).toBe(true);
    click(tray.menu.find((i) => i.label?.startsWith('Resume auto-sync'))!.label!);
    await vi.waitFor(() => expect(tray.image).not.toMatch(/paused/));
    click('Start at login', true);
    expect(h.calls).toContain('login item true');
    expect(tray.menu.find((i) => i.label === 'Start at login')).toMatchObject({ checked: true });
  });

  it('Test connection with a run id pushes each check to the window as it completes, then answers with the whole list', async () => {
    const test = h.ipcHandlers.get('scs:connection:test')!;
    const sentBefore = h.windows[0].sent.length;
    const reply = (await test({ senderFrame: { url: 'app://severa-sync/index.html', parent: null } }, { runId: 'run-1' })) as { ok: boolean; value: { id: string }[] };
    expect(reply.ok).toBe(true);
    // No settings saved yet: the one check says so.
    expect(reply.value.map((c) => c.id)).toEqual(['settings']);
    await vi.waitFor(() => expect(h.windows[0].sent.slice(sentBefore).filter(([ch]) => ch === 'scs:connection:check')).toHaveLength(1));
    const pushed = h.windows[0].sent.slice(sentBefore).find(([ch]) => ch === 'scs:connection:check')!;
    expect(pushed[1]).toEqual({ runId: 'run-1', index: 0, check: reply.value[0] });
  });

  it('a request on ipcMain from a foreign frame is refused; from the app frame it is answered', async () => {
    const status = h.ipcHandlers.get('scs:status:get')!;
    expect(await status({ senderFrame: { url: 'https://evil.example/', parent: null } }, undefined)).toMatchObject({ ok: false, error: { code: 'untrusted-sender' } });
    expect(await status({ senderFrame: { url: 'app://severa-sync/index.html', parent: null } }, undefined)).toMatchObject({ ok: true, value: { runner: { state: 'error', consecutiveFailures: 1 }, orgErrors: [{ fix: expect.stringMatching(/\S/) }] } });
  });
});
