import { describe, expect, it } from 'vitest';
import { isDue, nextDelayMs } from '../../src-main/runner/schedule-policy.ts';

describe('nextDelayMs', () => {
  const interval = 15 * 60_000;
  it('waits the interval after a success', () => {
    expect(nextDelayMs(0, interval)).toBe(interval);
  });
  it('doubles per failure in a row up to the cap', () => {
    const cap = 2 * 60 * 60_000;
    expect([1, 2, 3, 4, 50].map((n) => nextDelayMs(n, interval, cap) / 60_000)).toEqual([30, 60, 120, 120, 120]);
  });
  it('never lets the cap shorten the normal interval', () => {
    expect(nextDelayMs(3, 6 * 60 * 60_000, 60_000)).toBe(6 * 60 * 60_000);
  });
  it('refuses a non-positive interval with a clear message', () => {
    expect(() => nextDelayMs(0, 0)).toThrow(/positive/);
  });
});

describe('isDue', () => {
  it('is due once the time has come and no pause holds it', () => {
    expect(isDue({ nowMs: 100, nextRunAtMs: 100, pausedUntilMs: null })).toBe(true);
    expect(isDue({ nowMs: 99, nextRunAtMs: 100, pausedUntilMs: null })).toBe(false);
    expect(isDue({ nowMs: 150, nextRunAtMs: 100, pausedUntilMs: 200 })).toBe(false);
    expect(isDue({ nowMs: 150, nextRunAtMs: 100, pausedUntilMs: Infinity })).toBe(false);
    expect(isDue({ nowMs: 200, nextRunAtMs: 100, pausedUntilMs: 200 })).toBe(true);
  });
});
