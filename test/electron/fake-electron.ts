import { mkdtempSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';

/**
 * Electron faked at its boundary for the main-process tests: every API main.ts touches is a small recording fake, and
 * electron-store and keytar (which need Electron or a keychain) are their in-memory or plain-file equivalents. One state
 * per test file (vitest runs each file in its own process); `vi.mock` in the test file hands these modules out.
 */

export interface MenuItemRecord {
  label?: string;
  type?: string;
  enabled?: boolean;
  checked?: boolean;
  click?: (i: { checked?: boolean }) => void;
}

function newState() {
  return {
  tmp: mkdtempSync(path.join(os.tmpdir(), 'scs-main-')),
  appEvents: new EventEmitter(),
  calls: [] as string[],
  ipcHandlers: new Map<string, (...a: unknown[]) => unknown>(),
  trays: [] as { image: string; tooltip: string; menu: MenuItemRecord[] }[],
  windows: [] as { options: { webPreferences: Record<string, unknown> }; url: string; sent: [string, unknown][] }[],
  notifications: [] as { title: string; body: string; click(): void }[],
  permissionAnswers: [] as boolean[],
  /** Start-up dialogs shown (their options); each waits for the test to push the label of the button to press. */
  dialogs: [] as { type: string; message: string; detail: string; buttons: string[] }[],
  dialogAnswers: [] as string[],
  /** What session.resolveProxy answers, per URL. */
  resolveProxy: (_url: string) => 'DIRECT',
  proxyQuestions: [] as string[],
  keychain: new Map<string, string>(),
  /** Makes the fake keychain fail (a locked or missing Secret Service). */
  keychainBroken: false,
  loginItem: null as null | { openAtLogin: boolean; args: string[] },
  /** The system's languages (app.getPreferredSystemLanguages()) and Chromium's locale (app.getLocale()). */
  systemLanguages: ['en-GB'] as string[],
  locale: 'en-GB',
  protocolHandleThrows: false,
  };
}

/** Kept on globalThis: a test that restarts main.ts (vi.resetModules) gets fresh modules, but the same fake state. */
const holder = globalThis as { __scsFakeElectron?: ReturnType<typeof newState> };
export const fake = (holder.__scsFakeElectron ??= newState());

export const userData = () => path.join(fake.tmp, 'userData');

export function electronModule() {
  const image = (p: string) => ({ path: p, setTemplateImage: () => {} });
  class Tray {
    state = { image: '', tooltip: '', menu: [] as MenuItemRecord[] };
    constructor(img: { path: string }) {
      this.state.image = img.path;
      fake.trays.push(this.state);
    }
    on() {}
    setImage(img: { path: string }) {
      this.state.image = img.path;
    }
    setToolTip(t: string) {
      this.state.tooltip = t;
    }
    setContextMenu(m: MenuItemRecord[]) {
      this.state.menu = m;
    }
    destroy() {
      fake.calls.push('tray destroyed');
    }
  }
  class BrowserWindow extends EventEmitter {
    record: { options: never; url: string; sent: [string, unknown][] };
    webContents: { send(ch: string, d: unknown): void };
    constructor(options: never) {
      super();
      this.record = { options, url: '', sent: [] };
      fake.windows.push(this.record as never);
      this.webContents = { send: (ch, d) => void this.record.sent.push([ch, d]) };
    }
    loadURL(url: string) {
      this.record.url = url;
      return Promise.resolve();
    }
    isDestroyed() {
      return false;
    }
    isMinimized() {
      return false;
    }
    show() {}
    focus() {}
    hide() {}
    restore() {}
  }
  class Notification {
    static isSupported() {
      return true;
    }
    listeners: Record<string, () => void> = {};
    o: { title: string; body: string };
    constructor(o: { title: string; body: string }) {
      this.o = o;
    }
    on(e: string, fn: () => void) {
      this.listeners[e] = fn;
    }
    show() {
      fake.notifications.push({ title: this.o.title, body: this.o.body, click: () => this.listeners.click?.() });
    }
  }
  const app = {
    requestSingleInstanceLock: () => (fake.calls.push('lock'), true),
    on: (e: string, fn: (...a: unknown[]) => void) => fake.appEvents.on(e, fn),
    whenReady: () => Promise.resolve(),
    getPath: (name: string) => (name === 'userData' ? userData() : path.join(fake.tmp, name)),
    getAppPath: () => process.cwd(),
    quit: () => fake.calls.push('quit'),
    setLoginItemSettings: (s: { openAtLogin: boolean; args: string[] }) => {
      fake.loginItem = s;
      fake.calls.push(`login item ${s.openAtLogin}`);
    },
    getLoginItemSettings: () => ({ openAtLogin: fake.loginItem?.openAtLogin ?? false, wasOpenedAtLogin: false }),
    setAppUserModelId: (id: string) => fake.calls.push(`app user model id ${id}`),
    getPreferredSystemLanguages: () => [...fake.systemLanguages],
    getLocale: () => fake.locale,
  };
  const session = {
    defaultSession: {
      setPermissionRequestHandler: (fn: (w: unknown, p: string, cb: (g: boolean) => void) => void) => fn({}, 'media', (g) => fake.permissionAnswers.push(g)),
      setPermissionCheckHandler: () => {},
      webRequest: { onBeforeRequest: () => {}, onHeadersReceived: () => {} },
      resolveProxy: async (url: string) => {
        fake.proxyQuestions.push(url);
        return fake.resolveProxy(url);
      },
    },
  };
  const dialog = {
    showErrorBox: (t: string, m: string) => fake.calls.push(`error box ${t}: ${m}`),
    showSaveDialog: async () => ({ canceled: true }),
    showMessageBox: async (o: { type: string; message: string; detail: string; buttons: string[]; defaultId: number }) => {
      fake.dialogs.push({ type: o.type, message: o.message, detail: o.detail, buttons: o.buttons });
      // A modal dialog: it waits until the test answers (pushes a button label).
      while (fake.dialogAnswers.length === 0) await new Promise((r) => setTimeout(r, 10));
      const wanted = fake.dialogAnswers.shift()!;
      const index = o.buttons.indexOf(wanted);
      if (index < 0) throw new Error(`the dialog has no button "${wanted}": ${o.buttons.join(', ')}`);
      return { response: index, checkboxChecked: false };
    },
  };
  const api = {
    app,
    BrowserWindow,
    Tray,
    Notification,
    session,
    dialog,
    Menu: { buildFromTemplate: (t: unknown) => t },
    ipcMain: { handle: (ch: string, fn: never) => void fake.ipcHandlers.set(ch, fn), removeHandler: (ch: string) => void fake.ipcHandlers.delete(ch) },
    nativeImage: { createFromPath: image },
    protocol: {
      registerSchemesAsPrivileged: (s: { scheme: string }[]) => fake.calls.push(`privileged ${s.map((x) => x.scheme)}`),
      handle: (s: string) => {
        if (fake.protocolHandleThrows) throw new Error('The app:// scheme could not be registered.');
        fake.calls.push(`protocol ${s}`);
      },
    },
    net: { isOnline: () => true },
    powerMonitor: { on: (e: string) => fake.calls.push(`power ${e}`) },
    shell: { openPath: async () => '' },
  };
  return { ...api, default: api };
}

/** electron-store: conf on a file in the userData folder, as electron-store puts it. */
export async function electronStoreModule() {
  const { default: Conf } = await import('conf');
  return {
    default: class extends Conf {
      constructor(o: { name: string }) {
        super({ cwd: userData(), configName: o.name, projectName: 'scs-main-test' });
      }
    },
  };
}

export function keychainModule() {
  const check = () => {
    if (fake.keychainBroken) throw Object.assign(new Error('Could not read the secret in the system keychain: the keyring is locked'), { fix: 'Unlock the keyring.' });
  };
  return {
    KeychainSecretStore: class {
      async get(n: string) {
        check();
        fake.calls.push(`keychain read ${n}`);
        return fake.keychain.get(n) ?? null;
      }
      async set(n: string, v: string) {
        check();
        fake.keychain.set(n, v);
      }
      async delete(n: string) {
        check();
        fake.keychain.delete(n);
      }
    },
  };
}
