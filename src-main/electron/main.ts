import { copyFile } from 'node:fs/promises';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BrowserWindow, Menu, Notification, Tray, app, dialog, ipcMain, nativeImage, net, powerMonitor, protocol, session, shell } from 'electron';
import type { MenuItemConstructorOptions } from 'electron';
import ElectronStore from 'electron-store';
import pino from 'pino';
import { resolveLanguage, setLanguage, t } from '../common/i18n/i18n.ts';
import type { LanguagePreference } from '../common/i18n/i18n.ts';
import { APP_ENTRY_URL, APP_SCHEME, ipcChannelName } from '../common/ipc-contract.ts';
import type { PreferencesView } from '../common/ipc-contract.ts';
import { pacResolver } from '../net/proxy-routes.ts';
import { useSystemProxyResolver } from '../net/settings-network.ts';
import { SyncRunner } from '../runner/sync-runner.ts';
import { KeychainSecretStore } from '../secrets/keychain-secret-store.ts';
import { SettingsStore } from '../settings/settings-store.ts';
import { preflight } from './app-preflight.ts';
import { watchConnectivity } from './connectivity-watch.ts';
import { createEventPusher, isTrustedSenderUrl, registerIpcHandlers } from './ipc-router.ts';
import type { EventPush } from './ipc-router.ts';
import { APP_USER_MODEL_ID, applyLoginItem, launchedAtLogin, loginItemPlan, scheduleStartAt } from './login-item.ts';
import { decideAuditNotification, decideNotifications } from './notification-policy.ts';
import { createPeerLookups } from './peer-lookups.ts';
import { SecretCache } from './secret-cache.ts';
import { claimSingleInstance } from './single-instance.ts';
import { messageBoxOptions, startupDialog } from './startup-problems.ts';
import type { StartupChoice, StartupProblem } from './startup-problems.ts';
import { buildTrayMenu, trayIconFile, trayStateOf, trayTooltip } from './tray-model.ts';
import type { LastSyncSummary, TrayMenuItem, TrayMenuItemId } from './tray-model.ts';
import { readUserStatusBook, recordCycle, writeUserStatusBook } from './user-status-book.ts';
import { createWindowRequestHandlers } from './window-requests.ts';
import { appStatusView, runnerStatusView, setupView, waitingForSetup } from './window-views.ts';
import { hardenSession, hardenWebContents, isExternalPageAllowed, serveAppFile, settingsWindowOptions } from './window-security.ts';

/**
 * The tray app's main process: wiring only. Every decision (start-up checks and their dialogs, tray state and menu,
 * notifications, request handling, window hardening, login items) lives in the plain modules beside this file, which
 * the tests drive with Electron faked.
 */

// Must happen before 'ready': the window's page is served from app://severa-sync/, a secure standard origin.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true } }]);
// Windows shows notifications under this identity (the installer's shortcut carries the same id: electron-builder's appId).
if (process.platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID);

const appRoot = app.getAppPath();
const paths = {
  preload: path.join(appRoot, 'dist', 'preload', 'preload.cjs'),
  renderer: path.join(appRoot, 'dist', 'renderer'),
  icons: path.join(appRoot, 'assets', 'icons'),
  settingsFile: path.join(app.getPath('userData'), 'settings.json'),
  handOverAnswer: path.join(app.getPath('userData'), 'second-instance-answer'),
  dataDir: path.join(app.getPath('userData'), 'sync-data'),
  log: path.join(app.getPath('logs'), 'severa-calendar-sync.log'),
};


let settingsWindow: BrowserWindow | null = null;
let tray: Tray | null = null;
let quitting = false;
/** Every push to the window goes through here: schema-checked, secret-checked, in order. Set once started. */
let push: EventPush | null = null;

const handOver = {
  answerFile: paths.handOverAnswer,
  write: (file: string, text: string) => writeFileSync(file, text),
  read: (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return null;
    }
  },
  onNoAnswer: async () => {
    await app.whenReady();
    speak('system');
    await askStartupProblem({ kind: 'already-running' });
  },
};

if (claimSingleInstance(app, () => showWindow('status'), handOver)) {
  app.on('window-all-closed', () => {
    // The app lives in the tray: closing the window does not quit it.
  });
  app.on('before-quit', () => {
    quitting = true;
  });
  // Any failure to start reaches the person as a dialog with the fix, never as a silent exit.
  app
    .whenReady()
    .then(start)
    .catch(async (error: unknown) => {
      await askStartupProblem({ kind: 'unexpected', detail: error instanceof Error ? error.message : String(error), logFile: paths.log }).catch(() => undefined);
      app.quit();
    });
}

/** The system's languages, most preferred first: the OS's list, then Chromium's own locale. */
function systemLocales(): string[] {
  const preferred = typeof app.getPreferredSystemLanguages === 'function' ? app.getPreferredSystemLanguages() : [];
  return [...preferred, app.getLocale()];
}

/** The main process speaks the person's choice, else the system's language (docs/app.md, "Languages"). */
function speak(preference: LanguagePreference): void {
  setLanguage(resolveLanguage(preference, systemLocales()));
}

/** Shows a start-up problem as a native dialog and answers with the choice made. */
async function askStartupProblem(problem: StartupProblem): Promise<StartupChoice> {
  const model = startupDialog(problem);
  const { response } = await dialog.showMessageBox(messageBoxOptions(model));
  return model.choices[response]?.choice ?? 'quit';
}

async function start(): Promise<void> {
  // Start-up problems come before the settings can be read: they speak the system's language.
  speak('system');
  const log = pino({ level: 'info', redact: { paths: ['password', '*.password', 'value', '*.value'], remove: true } }, pino.destination({ dest: paths.log, mkdir: true, sync: false }));

  // The keychain is read once, when first needed, and then served from memory (no prompt per window message).
  const secrets = new SecretCache(new KeychainSecretStore());
  const ready = await preflight({
    settingsFile: paths.settingsFile,
    dataDir: paths.dataDir,
    now: () => new Date(),
    openSettings: () => new SettingsStore(new ElectronStore<Record<string, unknown>>({ name: 'settings' })),
    loadKeychain: () => secrets.load(),
    ask: askStartupProblem,
    log,
  });
  if (!ready) {
    app.quit();
    return;
  }
  const { settings, lock } = ready;
  speak(settings.local().language);

  // 'System' proxy settings in the app are Chromium's: PAC, WPAD and the OS settings, resolved per address.
  useSystemProxyResolver(pacResolver((url) => session.defaultSession.resolveProxy(url)));
  hardenSession(session.defaultSession);
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, log));
  protocol.handle(APP_SCHEME, async (request) => {
    const file = await serveAppFile(request.url, paths.renderer);
    return new Response(file.body as BodyInit, { status: file.status, headers: file.headers });
  });

  const runner = new SyncRunner({ loadSettings: () => settings.requireOrg(), secrets, dataDir: paths.dataDir, log, waitingFor: () => waitingForSetup(settings) });
  let book = readUserStatusBook(paths.dataDir);

  // A start at login waits the chosen delay before automatic sync begins; the tray shows when.
  const openedAtLogin = process.platform === 'darwin' && Boolean(app.getLoginItemSettings?.().wasOpenedAtLogin);
  let startsAtMs: number | null = scheduleStartAt(Date.now(), launchedAtLogin(process.argv, openedAtLogin), settings.local().startDelayMinutes);
  if (startsAtMs <= Date.now()) startsAtMs = null;
  const startsAt = () => (startsAtMs !== null && startsAtMs > Date.now() ? startsAtMs : null);

  const applyStartAtLogin = (enabled: boolean) => {
    try {
      applyLoginItem(loginItemPlan(enabled, { platform: process.platform, env: process.env, home: app.getPath('home'), execPath: process.execPath }), {
        setLoginItemSettings: (s) => app.setLoginItemSettings(s),
        mkdir: (dir) => mkdirSync(dir, { recursive: true }),
        writeFile: (file, content) => writeFileSync(file, content, { mode: 0o644 }),
        removeFile: (file) => rmSync(file, { force: true }),
      });
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not change start at login');
    }
  };

  const enrolled = () => {
    try {
      return settings.loadOrg()?.enrollments.map((e) => e.email) ?? [];
    } catch {
      return [];
    }
  };
  const currentStatus = () => appStatusView(runner.status(), book, enrolled(), paths.log, setupView(settings), startsAt());
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
      const target = await dialog.showSaveDialog({ title: t('app.dialogs.exportLog'), defaultPath: `severa-calendar-sync-${new Date().toISOString().slice(0, 10)}.log` });
      if (target.canceled || !target.filePath) return null;
      await copyFile(paths.log, target.filePath);
      return target.filePath;
    },
    openLog: async () => (await shell.openPath(paths.log)) === '',
    push: pushToWindow,
    startsAt,
    chooseFile: async (purpose) => {
      const title = purpose === 'graph-certificate' ? t('app.dialogs.chooseAppCertificate') : t('app.dialogs.chooseCaCertificate');
      const options = { title, properties: ['openFile' as const], filters: [{ name: t('app.dialogs.pemFiles'), extensions: ['pem', 'crt', 'cer'] }] };
      const chosen = settingsWindow && !settingsWindow.isDestroyed() ? await dialog.showOpenDialog(settingsWindow, options) : await dialog.showOpenDialog(options);
      return chosen.canceled ? null : (chosen.filePaths[0] ?? null);
    },
    // The Microsoft sign-in of "Enable my sync" opens in the person's own browser, never inside the app.
    openExternal: async (url) => {
      if (!isExternalPageAllowed(url)) throw new Error(t('app.dialogs.refusedPage'));
      await shell.openExternal(url);
    },
    systemLocales,
    applyPreferences: (prefs: PreferencesView) => {
      applyStartAtLogin(prefs.startAtLogin);
      refreshTray();
    },
  });
  registerIpcHandlers(ipcMain, handlers, { isTrustedSender: isTrustedSenderUrl, knownSecrets: () => secrets.values(), log });

  tray = new Tray(trayImage('idle'));
  tray.on('click', () => showWindow('status'));
  function refreshTray(): void {
    if (!tray) return;
    const status = runnerStatusView(runner.status(), startsAt());
    const last = lastSyncSummary(runner.status().lastReport);
    tray.setImage(trayImage(trayStateOf(status)));
    tray.setToolTip(trayTooltip(status, last, Date.now()));
    tray.setContextMenu(Menu.buildFromTemplate(buildTrayMenu(status, last, Date.now(), undefined, { startAtLogin: settings.local().startAtLogin }).map(toMenuItem)));
  }
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
        applyStartAtLogin(Boolean(checked));
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
    void pushToWindow('status', runnerStatusView(status, startsAt()));
  });
  runner.onProgress((progress) => void pushToWindow('progress', progress));
  runner.onReport((report) => {
    book = recordCycle(book, report);
    try {
      writeUserStatusBook(paths.dataDir, book);
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not save the user status');
    }
    const local = settings.local();
    const decided = decideNotifications(local.notificationMemory, report, local.notifications);
    settings.updateLocal({ notificationMemory: { ...decided.memory, realSyncSeen: decided.memory.realSyncSeen ?? false } });
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

  // The automatic agreement audit: differences no rule explains are one notification per audit (the status shows them).
  runner.onAudit((audit) => {
    const n = decideAuditNotification(audit, settings.local().notifications);
    if (!n || !Notification.isSupported()) return;
    const notification = new Notification({ title: n.title, body: n.body, icon: trayImage('error') });
    notification.on('click', () => showWindow(n.target));
    notification.show();
  });

  powerMonitor.on('resume', () => runner.triggerSoon('resumed from sleep'));
  const connectivity = watchConnectivity(() => net.isOnline(), () => runner.triggerSoon('network is back'));
  let delayedStart: ReturnType<typeof setTimeout> | null = null;
  app.on('will-quit', () => {
    if (delayedStart) clearTimeout(delayedStart);
    runner.stopSchedule();
    connectivity.stop();
    tray?.destroy();
    lock.release();
  });

  applyStartAtLogin(settings.local().startAtLogin);
  refreshTray();
  const begin = startsAt();
  if (begin === null) runner.startSchedule();
  else {
    delayedStart = setTimeout(() => {
      delayedStart = null;
      startsAtMs = null;
      runner.startSchedule();
    }, begin - Date.now());
  }
  // First run: the window opens on the guided setup (Admin); later runs stay in the tray.
  if (!setupView(settings).settingsSaved) showWindow('admin');
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
  // Asked for before the app finished starting (a second launch, a click during the start-up dialog): later.
  if (!push) return;
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
