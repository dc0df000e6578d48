import path from 'node:path';
import { t } from '../common/i18n/i18n.ts';

/**
 * Start at login on all three systems. Windows and macOS have Electron's login items (app.setLoginItemSettings); Linux,
 * where the AppImage and the deb run, has none (that call does nothing there): the freedesktop.org way is an autostart
 * entry, ~/.config/autostart/<name>.desktop, which GNOME, KDE, Xfce and the others start at login. A start at login
 * carries LOGIN_ARG, so the app knows to wait the chosen delay before its first sync.
 */

export const LOGIN_ARG = '--login-start';
export const AUTOSTART_FILE_NAME = 'severa-calendar-sync.desktop';

export type LoginItemPlan =
  | { kind: 'electron'; settings: { openAtLogin: boolean; args: string[] } }
  /** content null: remove the entry. */
  | { kind: 'xdg'; file: string; content: string | null };

/** $XDG_CONFIG_HOME/autostart, or ~/.config/autostart. */
export function xdgAutostartDir(env: Record<string, string | undefined>, home: string): string {
  const config = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  return path.join(config, 'autostart');
}

/** One argument of an Exec line, quoted as the Desktop Entry Specification asks when it has to be. */
export function quoteExecArgument(arg: string): string {
  const escaped = arg.replace(/%/g, '%%');
  if (!/[\s"'\\><~|&;$*?#()`]/.test(escaped)) return escaped;
  return `"${escaped.replace(/(["`$\\])/g, '\\$1')}"`;
}

/**
 * What to start: the AppImage file itself when running from one (its mount point changes each run), else the
 * executable (the deb's /opt/Severa Calendar Sync/severa-calendar-sync).
 */
export function launchTarget(env: Record<string, string | undefined>, execPath: string): string {
  return env.APPIMAGE && path.isAbsolute(env.APPIMAGE) ? env.APPIMAGE : execPath;
}

export function xdgAutostartEntry(target: string): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Severa Calendar Sync',
    `Comment=${t('app.autostart.comment')}`,
    `Exec=${quoteExecArgument(target)} ${LOGIN_ARG}`,
    'Icon=severa-calendar-sync',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

export function loginItemPlan(enabled: boolean, host: { platform: NodeJS.Platform; env: Record<string, string | undefined>; home: string; execPath: string }): LoginItemPlan {
  if (host.platform === 'linux') {
    const file = path.join(xdgAutostartDir(host.env, host.home), AUTOSTART_FILE_NAME);
    return { kind: 'xdg', file, content: enabled ? xdgAutostartEntry(launchTarget(host.env, host.execPath)) : null };
  }
  return { kind: 'electron', settings: { openAtLogin: enabled, args: enabled ? [LOGIN_ARG] : [] } };
}

export interface LoginItemEffects {
  setLoginItemSettings(settings: { openAtLogin: boolean; args: string[] }): void;
  mkdir(dir: string): void;
  writeFile(file: string, content: string): void;
  removeFile(file: string): void;
}

export function applyLoginItem(plan: LoginItemPlan, effects: LoginItemEffects): void {
  if (plan.kind === 'electron') {
    effects.setLoginItemSettings(plan.settings);
    return;
  }
  if (plan.content === null) {
    effects.removeFile(plan.file);
    return;
  }
  effects.mkdir(path.dirname(plan.file));
  effects.writeFile(plan.file, plan.content);
}

/** Whether this launch is a start at login: the argument the login item passes, or macOS saying so. */
export function launchedAtLogin(argv: readonly string[], openedAtLogin = false): boolean {
  return openedAtLogin || argv.includes(LOGIN_ARG);
}

/** When automatic sync may begin: at once, or after the delay when the app was started at login. */
export function scheduleStartAt(nowMs: number, atLogin: boolean, delayMinutes: number): number {
  return atLogin && delayMinutes > 0 ? nowMs + delayMinutes * 60_000 : nowMs;
}

/** The Windows toast identity: the same as electron-builder's appId, so notifications show the app's name and icon. */
export const APP_USER_MODEL_ID = 'org.severa-calendar-sync.app';
