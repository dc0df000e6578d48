/**
 * When the next automatic cycle is due: pure arithmetic, so the schedule's rules (interval, back-off after failures,
 * pause) are tested without clocks or timers.
 */

/** Back-off never waits longer than this, however long the failures last, so a fixed server is noticed within hours. */
export const DEFAULT_BACKOFF_CAP_MS = 4 * 60 * 60 * 1000;

/**
 * Delay after a cycle: the interval after a success; after n failures in a row the interval times 2^n, capped
 * (the cap never shortens the normal interval).
 */
export function nextDelayMs(consecutiveFailures: number, intervalMs: number, capMs: number = DEFAULT_BACKOFF_CAP_MS): number {
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new Error(`The sync interval must be a positive number of milliseconds, not ${intervalMs}.`);
  if (consecutiveFailures <= 0) return intervalMs;
  // 2^n overflows to Infinity long before it matters; min() handles that.
  return Math.min(intervalMs * 2 ** consecutiveFailures, Math.max(capMs, intervalMs));
}

export interface ScheduleState {
  nowMs: number;
  /** When the next automatic cycle is due (ms since epoch). */
  nextRunAtMs: number;
  /** null: not paused; Infinity: paused until resumed by hand. */
  pausedUntilMs: number | null;
}

/** Whether a schedule tick at `nowMs` should start a cycle. */
export function isDue(state: ScheduleState): boolean {
  if (state.pausedUntilMs !== null && state.nowMs < state.pausedUntilMs) return false;
  return state.nowMs >= state.nextRunAtMs;
}
