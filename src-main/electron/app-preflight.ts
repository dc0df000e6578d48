import { DataDirInUseError, lockDataDir } from '../runner/data-dir-lock.ts';
import type { DataDirLock } from '../runner/data-dir-lock.ts';
import { checkSyncStore, setAsideSyncStore } from '../runner/store-health.ts';
import { inspectSettingsFile, keepBrokenCopy, removeBrokenSettings } from '../settings/settings-file-recovery.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import type { StartupChoice, StartupProblem } from './startup-problems.ts';

/**
 * What the tray app makes sure of before it wires anything: the settings file opens, the sync data folder is its
 * own, the sync state database opens, and (once settings exist) the keychain answers. Each failure is put to the
 * person as a StartupProblem with its choices; this returns what was opened, or null when they chose to quit.
 * No Electron here: main.ts passes the dialog in, the tests a scripted answer.
 */

export interface PreflightDeps {
  settingsFile: string;
  dataDir: string;
  now(): Date;
  /** Opens the settings store on the file (electron-store); may throw. */
  openSettings(): SettingsStore;
  /** Reads the keychain once (fills the secret cache); rejects with a message and fix when it cannot. */
  loadKeychain(): Promise<void>;
  ask(problem: StartupProblem): Promise<StartupChoice>;
  log?: { warn(obj: object, msg?: string): void };
}

export interface PreflightResult {
  settings: SettingsStore;
  lock: DataDirLock;
  /** False when the person chose to go on without a working keychain. */
  keychainOk: boolean;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function preflight(deps: PreflightDeps): Promise<PreflightResult | null> {
  // 1. The settings file: a damaged one is copied aside and, if the person agrees, replaced by the defaults.
  let settings: SettingsStore | null = null;
  let copied: string | null | undefined;
  while (!settings) {
    const health = inspectSettingsFile(deps.settingsFile);
    if (!health.ok) {
      copied ??= keepBrokenCopy(health.file, deps.now());
      deps.log?.warn({ file: health.file, copy: copied }, 'settings file damaged');
      const choice = await deps.ask({ kind: 'settings-corrupt', file: health.file, reason: health.reason, copy: copied });
      if (choice !== 'start-from-defaults') return null;
      removeBrokenSettings(health.file);
      continue;
    }
    try {
      settings = deps.openSettings();
    } catch (error) {
      if ((await deps.ask({ kind: 'settings-unusable', file: deps.settingsFile, detail: message(error) })) !== 'retry') return null;
    }
  }

  // 2. The sync data folder is this app's alone.
  let lock: DataDirLock | null = null;
  while (!lock) {
    try {
      lock = lockDataDir(deps.dataDir, 'the tray app', deps.now);
    } catch (error) {
      const holder = error instanceof DataDirInUseError ? error.message : message(error);
      if ((await deps.ask({ kind: 'data-dir-in-use', dataDir: deps.dataDir, holder })) !== 'retry') return null;
    }
  }

  // 3. The sync state database opens.
  for (;;) {
    const store = checkSyncStore(deps.dataDir);
    if (store.ok) break;
    const problem: StartupProblem =
      store.kind === 'locked'
        ? { kind: 'store-locked', file: store.file }
        : store.kind === 'corrupt'
          ? { kind: 'store-corrupt', file: store.file, detail: store.detail }
          : store.kind === 'newer'
            ? { kind: 'store-newer', file: store.file, detail: store.detail }
            : { kind: 'store-unusable', file: store.file, detail: store.detail };
    const choice = await deps.ask(problem);
    if (choice === 'fresh-sync-state') {
      setAsideSyncStore(deps.dataDir, deps.now());
      continue;
    }
    if (choice !== 'retry') {
      lock.release();
      return null;
    }
  }

  // 4. The keychain, once there are settings that need its secrets (a first run has none to read).
  let configured = false;
  try {
    configured = settings.loadOrg() !== null;
  } catch {
    configured = true;
  }
  let keychainOk = true;
  while (configured) {
    try {
      await deps.loadKeychain();
      break;
    } catch (error) {
      const fix = (error as { fix?: unknown }).fix;
      const choice = await deps.ask({ kind: 'keychain-unavailable', detail: message(error), fix: typeof fix === 'string' ? fix : 'Unlock the system keychain, then try again.' });
      if (choice === 'continue') {
        keychainOk = false;
        break;
      }
      if (choice !== 'retry') {
        lock.release();
        return null;
      }
    }
  }
  return { settings, lock, keychainOk };
}
