import type { RunnerStateFile } from './runner-state-file.ts';
import type { WaitingReason } from './runner-types.ts';
import { nextDelayMs } from './schedule-policy.ts';
import type { SyncRunnerOptions } from './sync-runner-options.ts';

/**
 * The runner's schedule as its saved state and its settings give it (sync-runner.ts keeps the timers and the ticks): until
 * when it is paused, when the first automatic cycle is due, and what automatic sync waits for before it starts.
 */

/** When the first automatic cycle is due (ms since the epoch): at once, unless the last one ran recently. */
export function initialNextRunAtMs(options: Pick<SyncRunnerOptions, 'loadSettings'>, persisted: RunnerStateFile, nowMs: number, backoffCapMs: number): number {
  const last = persisted.lastRunAt ? Date.parse(persisted.lastRunAt) : NaN;
  if (Number.isNaN(last)) return nowMs;
  let intervalMs = 15 * 60_000;
  try {
    intervalMs = options.loadSettings().intervalMinutes * 60_000;
  } catch {
    // Invalid settings: the cycle will report them as soon as it runs.
    return nowMs;
  }
  return Math.max(nowMs, last + nextDelayMs(persisted.consecutiveFailures, intervalMs, backoffCapMs));
}

/** The saved pause in ms since the epoch: null when not paused (or unreadable), Infinity when paused until resumed. */
export function pausedUntilMs(persisted: RunnerStateFile): number | null {
  const p = persisted.pausedUntil;
  if (p === undefined) return null;
  if (p === null) return Infinity;
  const ms = Date.parse(p);
  return Number.isNaN(ms) ? null : ms;
}

/** Why automatic sync does not run yet (nothing configured, nobody enrolled), or null. */
export function waitingReason(options: Pick<SyncRunnerOptions, 'loadSettings' | 'waitingFor'>): WaitingReason | null {
  if (options.waitingFor) {
    try {
      return options.waitingFor();
    } catch {
      return null;
    }
  }
  try {
    return options.loadSettings().enrollments.some((e) => !e.paused) ? null : 'enrollment';
  } catch {
    // Settings that cannot be read are a problem for a cycle to report, not a reason to wait.
    return null;
  }
}
