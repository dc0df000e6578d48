import { describe, expect, it } from 'vitest';
import { DEFAULT_DELETION_GUARD, evaluateDeletionGuard, type GuardInput } from '../../src-main/sync/deletion-guard.ts';

const input = (over: Partial<GuardInput>): GuardInput => ({
  pairCount: 100,
  deletions: { severa: 0, exchange: 0 },
  goneOn: { severa: 0, exchange: 0 },
  settings: DEFAULT_DELETION_GUARD,
  confirmed: false,
  ...over,
});

describe('deletion guard', () => {
  it('holds a side only above BOTH limits (more than 10 items and more than 20 %)', () => {
    expect(evaluateDeletionGuard(input({ deletions: { severa: 21, exchange: 0 } })).hold).toEqual({ severa: true, exchange: false });
    expect(evaluateDeletionGuard(input({ deletions: { severa: 20, exchange: 0 } })).hold.severa).toBe(false); // 20 % is not more than 20 %
    expect(evaluateDeletionGuard(input({ pairCount: 30, deletions: { severa: 0, exchange: 11 } })).hold.exchange).toBe(true);
    expect(evaluateDeletionGuard(input({ pairCount: 30, deletions: { severa: 0, exchange: 10 } })).hold.exchange).toBe(false); // 10 is not more than 10
    expect(evaluateDeletionGuard(input({ pairCount: 1000, deletions: { severa: 150, exchange: 0 } })).hold.severa).toBe(false); // 15 %
  });
  it('uses the configured limits', () => {
    expect(evaluateDeletionGuard(input({ settings: { maxItems: 0, maxPercent: 0 }, deletions: { severa: 1, exchange: 0 } })).hold.severa).toBe(true);
  });
  it('an emptied side (every pair gone there, at least two) stops the user', () => {
    expect(evaluateDeletionGuard(input({ pairCount: 5, goneOn: { severa: 0, exchange: 5 } })).emptied).toBe('exchange');
    expect(evaluateDeletionGuard(input({ pairCount: 5, goneOn: { severa: 5, exchange: 0 } })).emptied).toBe('severa');
    expect(evaluateDeletionGuard(input({ pairCount: 5, goneOn: { severa: 4, exchange: 0 } })).emptied).toBeNull();
    expect(evaluateDeletionGuard(input({ pairCount: 1, goneOn: { severa: 1, exchange: 0 } })).emptied).toBeNull();
  });
  it('confirmation lifts both protections; no pairs, nothing to guard', () => {
    expect(evaluateDeletionGuard(input({ confirmed: true, pairCount: 5, goneOn: { severa: 5, exchange: 0 }, deletions: { severa: 0, exchange: 5 } }))).toEqual({ hold: { severa: false, exchange: false }, emptied: null });
    expect(evaluateDeletionGuard(input({ pairCount: 0, deletions: { severa: 50, exchange: 0 } })).hold.severa).toBe(false);
  });
});
