import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { BrowserWindow, Menu, Notification, Tray, app, dialog, ipcMain, nativeImage, net, powerMonitor, protocol, session, shell } from 'electron';
import type { MenuItemConstructorOptions } from 'electron';
import ElectronStore from 'electron-store';
import pino from 'pino';
import { APP_ENTRY_URL, APP_SCHEME, ipcChannelName } from '../common/ipc-contract.ts';
import { SyncRunner } from '../runner/sync-runner.ts';
import { KeychainSecretStore } from '../secrets/keychain-secret-store.ts';
import { SettingsStore } from '../settings/settings-store.ts';
import { watchConnectivity } from './connectivity-watch.ts';
import { createEventPusher, isTrustedSenderUrl, registerIpcHandlers } from './ipc-router.ts';
import type { EventPush } from './ipc-router.ts';
import { decideNotifications } from './notification-policy.ts';
import { createPeerLookups } from './peer-lookups.ts';
import { claimSingleInstance } from './single-instance.ts';
import { buildTrayMenu, trayIconFile, trayStateOf, trayTooltip } from './tray-model.ts';
import type { LastSyncSummary, TrayMenuItem, TrayMenuItemId } from './tray-model.ts';
import { readUserStatusBook, recordCycle, writeUserStatusBook } from './user-status-book.ts';
import { appStatusView, createWindowRequestHandlers, runnerStatusView } from './window-requests.ts';
import { hardenSession, hardenWebContents, serveAppFile, settingsWindowOptions } from './window-security.ts';

/**
 * The tray app's main process: wiring only. Every decision (tray state and menu, notifications, request handling,
 * window hardening) lives in the plain modules beside this file, which the tests drive with Electron faked.
 */

// Must happen before 'ready': the window's page is served from app://severa-sync/, a secure standard origin.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true } }]);

const appRoot = app.getAppPath();
const paths = {
  preload: path.join(appRoot, 'dist', 'preload', 'preload.cjs'),
  renderer: path.join(appRoot, 'dist', 'renderer'),
  icons: path.join(appRoot, 'assets', 'icons'),
  dataDir: path.join(app.getPath('userData'), 'sync-data'),
  log: path.join(app.getPath('logs'), 'severa-calendar-sync.log'),
};

let settingsWindow: BrowserWindow | null = null;
let tray: Tray | null = null;
let quitting = false;
/** Every push to the window goes through here: schema-checked, secret-checked, in order. Set once started. */
let push: EventPush | null = null;

if (claimSingleInstance(app, () => showWindow('status'))) {
  app.on('window-all-closed', () => {
    // The app lives in the tray: closing the window does not quit it.
  });
  app.on('before-quit', () => {
    quitting = true;
  });
  app.whenReady().then(start, (error: unknown) => {
    dialog.showErrorBox('Severa Calendar Sync could not start', error instanceof Error ? error.message : String(error));
    app.quit();
  });
}

async function start(): Promise<void> {
  const log = pino({ level: 'info', redact: { paths: ['password', '*.password', 'value', '*.value'], remove: true } }, pino.destination({ dest: paths.log, mkdir: true, sync: false }));

  hardenSession(session.defaultSession);
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, log));
  protocol.handle(APP_SCHEME, async (request) => {
    const file = await serveAppFile(request.url, paths.renderer);
    return new Response(file.body as BodyInit, { status: file.status, headers: file.headers });
  });

  const settings = new SettingsStore(new ElectronStore<Record<string, unknown>>({ name: 'settings' }));
  const secrets = new KeychainSecretStore();
  const runner = new SyncRunner({ loadSettings: () => settings.requireOrg(), secrets, dataDir: paths.dataDir, log });
  let book = readUserStatusBook(paths.dataDir);

  const enrolled = () => {
    try {
      return settings.loadOrg()?.enrollments.map((e) => e.email) ?? [];
    } catch {
      return [];
    }
  };
  const currentStatus = () => appStatusView(runner.status(), book, enrolled(), paths.log);
  const pushToWindow = createEventPusher(
    (event, data) => {
      if (settingsWindow && !settingsWindow.isDestroyed()) settingsWindow.webContents.send(ipcChannelName(event), data);
    },
    { knownSecrets: () => secrets.values(), log },
  );
  push = pushToWindow;

  const handlers = createWindowRequestHandlers({
    settings,
    secrets,
    runner,
    peers: createPeerLookups({ secrets }),
    userStatus: () => book,
    logPath: paths.log,
    exportLog: async () => {
      const target = await dialog.showSaveDialog({ title: 'Export the sync log', defaultPath: `severa-calendar-sync-${new Date().toISOString().slice(0, 10)}.log` });
      if (target.canceled || !target.filePath) return null;
      await copyFile(paths.log, target.filePath);
      return target.filePath;
    },
    openLog: async () => (await shell.openPath(paths.log)) === '',
    push: pushToWindow,
  });
  registerIpcHandlers(ipcMain, handlers, { isTrustedSender: isTrustedSenderUrl, knownSecrets: () => secrets.values(), log });

  tray = new Tray(trayImage('idle'));
  tray.on('click', () => showWindow('status'));
  const refreshTray = () => {
    if (!tray) return;
    const status = runnerStatusView(runner.status());
    const last = lastSyncSummary(runner.status().lastReport);
    const state = trayStateOf(status);
    tray.setImage(trayImage(state));
    tray.setToolTip(trayTooltip(status, last, Date.now()));
    tray.setContextMenu(Menu.buildFromTemplate(buildTrayMenu(status, last, Date.now(), undefined, { startAtLogin: settings.local().startAtLogin }).map(toMenuItem)));
  };
  const onMenu = (id: TrayMenuItemId | 'start-at-login', checked?: boolean) => {
    switch (id) {
      case 'sync-now':
        void runner.runNow();
        break;
      case 'pause-hour':
        void handlers['sync:pause']({ mode: 'hour' });
        break;
      case 'pause-until-resumed':
        void handlers['sync:pause']({ mode: 'untilResumed' });
        break;
      case 'resume':
        runner.resume();
        break;
      case 'open-settings':
        showWindow('admin');
        break;
      case 'start-at-login':
        settings.updateLocal({ startAtLogin: Boolean(checked) });
        app.setLoginItemSettings({ openAtLogin: Boolean(checked) });
        break;
      case 'quit':
        app.quit();
        break;
      case 'last-sync':
        break;
    }
    refreshTray();
  };
  function toMenuItem(item: TrayMenuItem): MenuItemConstructorOptions {
    if (item.kind === 'separator') return { type: 'separator' };
    if (item.kind === 'checkbox') return { type: 'checkbox', label: item.label, checked: item.checked, click: (menuItem) => onMenu(item.id, menuItem.checked) };
    return { label: item.label, enabled: item.enabled, click: () => onMenu(item.id) };
  }

  runner.onStatus((status) => {
    refreshTray();
    void pushToWindow('status', runnerStatusView(status));
  });
  runner.onProgress((progress) => void pushToWindow('progress', progress));
  runner.onReport((report) => {
    book = recordCycle(book, report);
    try {
      writeUserStatusBook(paths.dataDir, book);
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not save the user status');
    }
    const decided = decideNotifications(settings.local().notificationMemory, report);
    settings.updateLocal({ notificationMemory: decided.memory });
    if (Notification.isSupported()) {
      for (const n of decided.notifications) {
        const notification = new Notification({ title: n.title, body: n.body, icon: trayImage(n.kind === 'error' ? 'error' : 'idle') });
        notification.on('click', () => showWindow(n.target));
        notification.show();
      }
    }
    void pushToWindow('report', currentStatus());
    refreshTray();
  });

  powerMonitor.on('resume', () => runner.triggerSoon('resumed from sleep'));
  const connectivity = watchConnectivity(() => net.isOnline(), () => runner.triggerSoon('network is back'));
  app.on('will-quit', () => {
    runner.stopSchedule();
    connectivity.stop();
    tray?.destroy();
  });

  app.setLoginItemSettings({ openAtLogin: settings.local().startAtLogin });
  refreshTray();
  runner.startSchedule();
  let configured = false;
  try {
    configured = settings.loadOrg() !== null;
  } catch {
    configured = false;
  }
  if (!configured) showWindow('admin');
}

function trayImage(state: 'idle' | 'syncing' | 'error' | 'paused') {
  const image = nativeImage.createFromPath(path.join(paths.icons, 'tray', `${trayIconFile(state, process.platform)}.png`));
  if (process.platform === 'darwin') image.setTemplateImage(true);
  return image;
}

function lastSyncSummary(report: import('../common/sync-report.ts').CycleReport | undefined): LastSyncSummary {
  if (!report) return {};
  const changes = report.users.reduce((n, u) => n + u.toExchange.created + u.toExchange.updated + u.toExchange.deleted + u.toSevera.created + u.toSevera.updated + u.toSevera.deleted, 0);
  const errors = report.errors.length + report.users.reduce((n, u) => n + u.errors.length, 0);
  return { at: report.finishedAt, outcome: report.outcome, changes, errors };
}

function showWindow(section: 'admin' | 'personal' | 'status'): void {
  if (settingsWindow && !settingsWindow.isDestroyed()) {
    void push?.('navigate', { section });
    if (settingsWindow.isMinimized()) settingsWindow.restore();
    settingsWindow.show();
    settingsWindow.focus();
    return;
  }
  const window = new BrowserWindow(settingsWindowOptions(paths.preload, path.join(paths.icons, 'app', '256x256.png')));
  settingsWindow = window;
  window.once('ready-to-show', () => window.show());
  window.on('close', (event) => {
    if (!quitting) {
      event.preventDefault();
      window.hide();
    }
  });
  window.on('closed', () => {
    settingsWindow = null;
  });
  void window.loadURL(`${APP_ENTRY_URL}#${section}`);
}
