import { formatDay, formatTime, t } from '../common/i18n/i18n.ts';
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

const timeOf = (iso: string, timeZone?: string) => formatTime(new Date(iso), timeZone);

const dayAndTimeOf = (iso: string, nowMs: number, timeZone?: string) => {
  const day = (ms: number) => new Date(ms).toLocaleDateString('en-GB', { timeZone });
  const when = Date.parse(iso);
  return day(when) === day(nowMs) ? timeOf(iso, timeZone) : t('app.tray.dayTime', { day: formatDay(new Date(when), timeZone), time: timeOf(iso, timeZone) });
};

export interface LastSyncSummary {
  at?: string;
  outcome?: 'ok' | 'partial' | 'failed';
  changes?: number;
  errors?: number;
}

/** "Last sync 10:42: 3 changes" / "Last sync 10:42 failed: 2 errors" / "Not synced yet". */
export function describeLastSync(last: LastSyncSummary, nowMs: number, timeZone?: string): string {
  if (!last.at) return t('app.tray.notSynced');
  const when = dayAndTimeOf(last.at, nowMs, timeZone);
  const changes = last.changes ?? 0;
  const errors = last.errors ?? 0;
  if (last.outcome === 'failed') return errors ? t('app.tray.lastFailedErrors', { when, errors: t('app.tray.errors', { count: errors }) }) : t('app.tray.lastFailed', { when });
  const changed = changes ? t('app.tray.changes', { count: changes }) : t('app.tray.noChanges');
  if (last.outcome === 'partial') return t('app.tray.lastPartial', { when, changed, problems: t('app.tray.problems', { count: errors }) });
  return t('app.tray.lastOk', { when, changed });
}

function describePause(status: RunnerStatusView, nowMs: number, timeZone?: string): string | null {
  if (status.pausedUntil === undefined) return null;
  if (status.pausedUntil === null) return t('app.tray.pausedUntilResumed');
  return t('app.tray.pausedUntil', { time: dayAndTimeOf(status.pausedUntil, nowMs, timeZone) });
}

export function trayTooltip(status: RunnerStatusView, last: LastSyncSummary, nowMs: number, timeZone?: string): string {
  const state = trayStateOf(status);
  const head =
    state === 'syncing'
      ? status.progress && status.progress.usersTotal > 0
        ? status.progress.entriesDone
          ? t('app.tray.syncingProgressEntries', { done: status.progress.usersDone, total: status.progress.usersTotal, entries: status.progress.entriesDone })
          : t('app.tray.syncingProgress', { done: status.progress.usersDone, total: status.progress.usersTotal })
        : t('app.tray.syncing')
      : state === 'paused'
        ? describePause(status, nowMs, timeZone)!
        : state === 'error'
          ? t('app.tray.problem')
          : status.waitingFor
            ? t(`app.tray.waiting.${status.waitingFor}`)
            : status.startsAt && Date.parse(status.startsAt) > nowMs
              ? t('app.tray.startsAt', { time: timeOf(status.startsAt, timeZone) })
              : t('app.tray.upToDate');
  return `${t('app.tray.tooltip', { head })}\n${describeLastSync(last, nowMs, timeZone)}`;
}

export function buildTrayMenu(status: RunnerStatusView, last: LastSyncSummary, nowMs: number, timeZone?: string, prefs: TrayPreferences = { startAtLogin: false }): TrayMenuItem[] {
  const syncing = status.state === 'syncing';
  const paused = status.pausedUntil !== undefined;
  const waiting = status.waitingFor !== undefined && !syncing;
  const item = (id: TrayMenuItemId, label: string, enabled = true): TrayMenuItem => ({ kind: 'item', id, label, enabled });
  const pauseItems: TrayMenuItem[] = paused
    ? [item('resume', status.pausedUntil ? t('app.tray.resumeUntil', { time: dayAndTimeOf(status.pausedUntil, nowMs, timeZone) }) : t('app.tray.resumeUntilResumed'))]
    : [item('pause-hour', t('app.tray.pauseHour')), item('pause-until-resumed', t('app.tray.pauseUntilResumed'))];
  return [
    item('sync-now', syncing ? t('app.tray.syncingMenu') : waiting ? t('app.tray.syncNowWaiting') : t('app.tray.syncNow'), !syncing && !waiting),
    ...pauseItems,
    { kind: 'separator' },
    item('open-settings', t('app.tray.openSettings')),
    item('last-sync', describeLastSync(last, nowMs, timeZone), false),
    { kind: 'separator' },
    { kind: 'checkbox', id: 'start-at-login', label: t('app.tray.startAtLogin'), checked: prefs.startAtLogin },
    item('quit', t('app.tray.quit')),
  ];
}
