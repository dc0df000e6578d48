import { describe, expect, it } from 'vitest';
import { runUsers, type ScheduledUser } from '../../src-main/sync/user-schedule.ts';

/** A user whose read and finish take `readMs` / `finishMs` (timers) and log when they run. */
function user(log: string[], name: string, keys: string[], readMs: number, finishMs: number, live: { now: number; peak: number }): ScheduledUser {
  return {
    read: async () => {
      log.push(`${name} read`);
      await new Promise((r) => setTimeout(r, readMs));
      return new Set(keys);
    },
    finish: async () => {
      live.now++;
      live.peak = Math.max(live.peak, live.now);
      log.push(`${name} start`);
      await new Promise((r) => setTimeout(r, finishMs));
      log.push(`${name} end`);
      live.now--;
    },
  };
}

describe('runUsers: users side by side', () => {
  it('users that share nothing write at the same time, up to the limit', async () => {
    const log: string[] = [];
    const live = { now: 0, peak: 0 };
    await runUsers(['a', 'b', 'c', 'd', 'e'].map((n) => user(log, n, [`s:${n}`], 1, 20, live)), 3, 3);
    expect(live.peak).toBe(3);
    expect(log.filter((l) => l.endsWith('end'))).toHaveLength(5);
  });

  it('a user sharing a key with one before it in the list writes after that one has finished, even when it read first', async () => {
    const log: string[] = [];
    const live = { now: 0, peak: 0 };
    await runUsers(
      [
        user(log, 'organizer', ['u:meeting', 's:1'], 30, 20, live),
        user(log, 'other', ['s:2'], 1, 5, live),
        user(log, 'attendee', ['u:meeting', 's:3'], 1, 5, live),
      ],
      8,
      8,
    );
    const at = (l: string) => log.indexOf(l);
    expect(at('attendee start')).toBeGreaterThan(at('organizer end'));
    // The user who shares nothing writes beside the organizer (it only waited for the organizer's read, to know its keys).
    expect(at('other start')).toBeLessThan(at('organizer end'));
  });

  it('one at a time with a limit of 1: strictly in list order', async () => {
    const log: string[] = [];
    const live = { now: 0, peak: 0 };
    await runUsers(['a', 'b', 'c'].map((n, i) => user(log, n, [`s:${n}`], 3 - i, 1, live)), 1);
    expect(log).toEqual(['a read', 'a start', 'a end', 'b read', 'b start', 'b end', 'c read', 'c start', 'c end']);
    expect(live.peak).toBe(1);
  });

  it('one writer (the default): users read side by side, write one after the other in list order', async () => {
    const log: string[] = [];
    const live = { now: 0, peak: 0 };
    await runUsers(['a', 'b', 'c'].map((n, i) => user(log, n, [`s:${n}`], 10 - 3 * i, 5, live)), 3);
    expect(live.peak).toBe(1);
    expect(log.filter((l) => !l.endsWith('read'))).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
    // Every read started before the first write ended.
    expect(log.indexOf('c read')).toBeLessThan(log.indexOf('a end'));
  });

  it('no users: returns at once', async () => {
    await runUsers([], 4);
  });
});
