import { describe, expect, it } from 'vitest';
import { PAUSE_ONE_HOUR_MS, buildTrayMenu, describeLastSync, pauseUntil, trayIconFile, trayStateOf, trayTooltip } from '../../src-main/electron/tray-model.ts';
import type { RunnerStatusView } from '../../src-main/common/ipc-contract.ts';

const now = Date.parse('2026-11-20T10:00:00Z');
const idle: RunnerStatusView = { state: 'idle', consecutiveFailures: 0 };
const ids = (status: RunnerStatusView) => buildTrayMenu(status, {}, now, 'UTC').flatMap((i) => (i.kind === 'separator' ? ['---'] : [i.id]));

describe('tray state', () => {
  it('follows the runner, shows a pause, and a running cycle wins over the pause', () => {
    expect(trayStateOf(idle)).toBe('idle');
    expect(trayStateOf({ ...idle, state: 'error', consecutiveFailures: 2 })).toBe('error');
    expect(trayStateOf({ ...idle, pausedUntil: null })).toBe('paused');
    expect(trayStateOf({ ...idle, state: 'syncing', pausedUntil: null })).toBe('syncing');
  });

  it('uses template images on macOS only', () => {
    expect(trayIconFile('error', 'darwin')).toBe('tray-errorTemplate');
    expect(trayIconFile('error', 'win32')).toBe('tray-error');
    expect(trayIconFile('paused', 'linux')).toBe('tray-paused');
  });
});

describe('tray menu', () => {
  it('has Sync now, both pauses, Open settings, the last sync and Quit', () => {
    expect(ids(idle)).toEqual(['sync-now', 'pause-hour', 'pause-until-resumed', '---', 'open-settings', 'last-sync', '---', 'start-at-login', 'quit']);
  });

  it('offers Resume instead of the pauses while paused, saying until when', () => {
    const menu = buildTrayMenu({ ...idle, pausedUntil: new Date(now + PAUSE_ONE_HOUR_MS).toISOString() }, {}, now, 'UTC');
    expect(ids({ ...idle, pausedUntil: null })).toEqual(['sync-now', 'resume', '---', 'open-settings', 'last-sync', '---', 'start-at-login', 'quit']);
    expect(menu.find((i) => i.kind === 'item' && i.id === 'resume')).toMatchObject({ label: 'Resume auto-sync (paused until 11:00)' });
  });

  it('shows start at login as a checkbox reflecting the preference', () => {
    expect(buildTrayMenu(idle, {}, now, 'UTC', { startAtLogin: true }).find((i) => i.kind === 'checkbox')).toMatchObject({ id: 'start-at-login', checked: true });
    expect(buildTrayMenu(idle, {}, now, 'UTC').find((i) => i.kind === 'checkbox')).toMatchObject({ checked: false });
  });

  it('disables Sync now while a cycle runs; the last-sync line is never clickable', () => {
    const menu = buildTrayMenu({ ...idle, state: 'syncing' }, {}, now, 'UTC');
    expect(menu[0]).toMatchObject({ id: 'sync-now', enabled: false, label: 'Syncing…' });
    expect(menu.find((i) => i.kind === 'item' && i.id === 'last-sync')).toMatchObject({ enabled: false, label: 'Not synced yet' });
  });
});

describe('pause', () => {
  it('one hour from now, or until resumed', () => {
    expect(pauseUntil('hour', now)).toBe(now + 3_600_000);
    expect(pauseUntil('untilResumed', now)).toBeNull();
  });
});

describe('last sync line and tooltip', () => {
  it('says when and what happened', () => {
    expect(describeLastSync({ at: '2026-11-20T09:42:00Z', outcome: 'ok', changes: 3 }, now, 'UTC')).toBe('Last sync 09:42: 3 changes');
    expect(describeLastSync({ at: '2026-11-20T09:42:00Z', outcome: 'ok', changes: 0 }, now, 'UTC')).toBe('Last sync 09:42: no changes');
    expect(describeLastSync({ at: '2026-11-20T09:42:00Z', outcome: 'failed', errors: 1 }, now, 'UTC')).toBe('Last sync 09:42 failed: 1 error');
    expect(describeLastSync({ at: '2026-11-20T09:42:00Z', outcome: 'partial', changes: 1, errors: 2 }, now, 'UTC')).toBe('Last sync 09:42: 1 change, 2 problems');
    expect(describeLastSync({ at: '2026-11-18T09:42:00Z', outcome: 'ok', changes: 1 }, now, 'UTC')).toBe('Last sync 18 Nov 09:42: 1 change');
  });

  it('tooltip names the state and the progress', () => {
    expect(trayTooltip({ ...idle, state: 'syncing', progress: { usersDone: 1, usersTotal: 5 } }, {}, now, 'UTC')).toContain('Syncing (1/5 users)');
    expect(trayTooltip({ ...idle, state: 'error', consecutiveFailures: 1 }, {}, now, 'UTC')).toContain('problem');
    expect(trayTooltip({ ...idle, pausedUntil: null }, {}, now, 'UTC')).toContain('paused until resumed');
  });
});
