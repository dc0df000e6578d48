import type { RunnerStatusView } from '../common/ipc-contract.ts';

/**
 * What the tray shows, decided from the runner's status alone: the icon, the tooltip and the menu as plain data.
 * main.ts turns the model into Electron's Tray and Menu; everything here is tested without Electron.
 */

export type TrayState = 'idle' | 'syncing' | 'error' | 'paused';

export type TrayMenuItemId = 'sync-now' | 'pause-hour' | 'pause-until-resumed' | 'resume' | 'open-settings' | 'last-sync' | 'quit';

export type TrayMenuItem =
  | { kind: 'item'; id: TrayMenuItemId; label: string; enabled: boolean }
  | { kind: 'checkbox'; id: 'start-at-login'; label: string; checked: boolean }
  | { kind: 'separator' };

export interface TrayPreferences {
  startAtLogin: boolean;
}

export const PAUSE_ONE_HOUR_MS = 60 * 60 * 1000;

// The tray's sentences that depend on setup and a delayed start, in one place.
const TEXT = {
  waiting: { settings: 'Set up: the admin settings are not saved yet', enrollment: 'Set up: nobody has turned on their sync yet' },
  syncNowWaiting: 'Sync now (finish the setup first)',
  startsAt: (time: string) => `Automatic sync starts at ${time}`,
};

/** A running cycle shows as syncing even when paused (a "Sync now" still runs while auto-sync is paused). */
export function trayStateOf(status: RunnerStatusView): TrayState {
  if (status.state === 'syncing') return 'syncing';
  if (status.pausedUntil !== undefined) return 'paused';
  return status.state;
}

/**
 * File name (without extension) of the tray image for a state. macOS wants template images (black + alpha; the system
 * tints them for light and dark menu bars); the others get coloured icons.
 */
export function trayIconFile(state: TrayState, platform: NodeJS.Platform): string {
  return platform === 'darwin' ? `tray-${state}Template` : `tray-${state}`;
}

/** When a pause chosen from the menu ends: an instant in ms, or null for "until resumed". */
export function pauseUntil(mode: 'hour' | 'untilResumed', nowMs: number): number | null {
  return mode === 'hour' ? nowMs + PAUSE_ONE_HOUR_MS : null;
}

const timeOf = (iso: string, timeZone?: string) =>
  new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone });

const dayAndTimeOf = (iso: string, nowMs: number, timeZone?: string) => {
  const day = (ms: number) => new Date(ms).toLocaleDateString('en-GB', { timeZone });
  const when = Date.parse(iso);
  return day(when) === day(nowMs) ? timeOf(iso, timeZone) : `${new Date(when).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone })} ${timeOf(iso, timeZone)}`;
};

export interface LastSyncSummary {
  at?: string;
  outcome?: 'ok' | 'partial' | 'failed';
  changes?: number;
  errors?: number;
}

/** "Last sync 10:42: 3 changes" / "Last sync 10:42 failed: 2 errors" / "Not synced yet". */
export function describeLastSync(last: LastSyncSummary, nowMs: number, timeZone?: string): string {
  if (!last.at) return 'Not synced yet';
  const when = dayAndTimeOf(last.at, nowMs, timeZone);
  const changes = last.changes ?? 0;
  const errors = last.errors ?? 0;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (last.outcome === 'failed') return `Last sync ${when} failed${errors ? `: ${plural(errors, 'error')}` : ''}`;
  const changed = changes ? plural(changes, 'change') : 'no changes';
  if (last.outcome === 'partial') return `Last sync ${when}: ${changed}, ${plural(errors, 'problem')}`;
  return `Last sync ${when}: ${changed}`;
}

function describePause(status: RunnerStatusView, nowMs: number, timeZone?: string): string | null {
  if (status.pausedUntil === undefined) return null;
  if (status.pausedUntil === null) return 'Auto-sync paused until resumed';
  return `Auto-sync paused until ${dayAndTimeOf(status.pausedUntil, nowMs, timeZone)}`;
}

export function trayTooltip(status: RunnerStatusView, last: LastSyncSummary, nowMs: number, timeZone?: string): string {
  const state = trayStateOf(status);
  const head =
    state === 'syncing'
      ? status.progress && status.progress.usersTotal > 0
        ? `Syncing (${status.progress.usersDone}/${status.progress.usersTotal} users${status.progress.entriesDone ? `, ${status.progress.entriesDone} entries` : ''})`
        : 'Syncing'
      : state === 'paused'
        ? describePause(status, nowMs, timeZone)!
        : state === 'error'
          ? 'Sync has a problem: open settings for the fix'
          : status.waitingFor
            ? TEXT.waiting[status.waitingFor]
            : status.startsAt && Date.parse(status.startsAt) > nowMs
              ? TEXT.startsAt(timeOf(status.startsAt, timeZone))
              : 'Sync is up to date';
  return `Severa Calendar Sync — ${head}\n${describeLastSync(last, nowMs, timeZone)}`;
}

export function buildTrayMenu(status: RunnerStatusView, last: LastSyncSummary, nowMs: number, timeZone?: string, prefs: TrayPreferences = { startAtLogin: false }): TrayMenuItem[] {
  const syncing = status.state === 'syncing';
  const paused = status.pausedUntil !== undefined;
  const waiting = status.waitingFor !== undefined && !syncing;
  const item = (id: TrayMenuItemId, label: string, enabled = true): TrayMenuItem => ({ kind: 'item', id, label, enabled });
  const pauseItems: TrayMenuItem[] = paused
    ? [item('resume', `Resume auto-sync (${describePause(status, nowMs, timeZone)!.replace(/^Auto-sync /, '')})`)]
    : [item('pause-hour', 'Pause auto-sync for 1 hour'), item('pause-until-resumed', 'Pause auto-sync until resumed')];
  return [
    item('sync-now', syncing ? 'Syncing…' : waiting ? TEXT.syncNowWaiting : 'Sync now', !syncing && !waiting),
    ...pauseItems,
    { kind: 'separator' },
    item('open-settings', 'Open settings…'),
    item('last-sync', describeLastSync(last, nowMs, timeZone), false),
    { kind: 'separator' },
    { kind: 'checkbox', id: 'start-at-login', label: 'Start at login', checked: prefs.startAtLogin },
    item('quit', 'Quit Severa Calendar Sync'),
  ];
}
