import { describe, expect, it } from 'vitest';
import { RequestRateLimiter, type Clock } from '../../src-main/severa/request-rate-limiter.ts';

/** A clock that only moves when a sleeper asks it to (time jumps to the earliest wake-up). */
function fakeClock(): Clock & { t: number } {
  const c = {
    t: 0,
    now: () => c.t,
    sleep: async (ms: number) => {
      c.t += ms;
    },
  };
  return c;
}

describe('RequestRateLimiter', () => {
  it('lets perSecond requests go at once, the next one when the oldest token is a second (and the margin) old', async () => {
    const clock = fakeClock();
    const limiter = new RequestRateLimiter(3, clock);
    const at: number[] = [];
    for (let i = 0; i < 7; i++) {
      await limiter.acquire();
      at.push(clock.t);
    }
    expect(at.slice(0, 3)).toEqual([0, 0, 0]);
    // Any three consecutive requests span more than a second; the margin is small (well under 100 ms).
    for (let i = 3; i < at.length; i++) {
      expect(at[i] - at[i - 3]).toBeGreaterThan(1000);
      expect(at[i] - at[i - 3]).toBeLessThan(1050);
    }
  });

  it('counts a request from when it left: one that waited for its connection holds its token that much longer', async () => {
    const clock = fakeClock();
    const limiter = new RequestRateLimiter(2, clock);
    const first = await limiter.acquire();
    await limiter.acquire();
    // The first request only left 400 ms later (a new connection and a TLS handshake first).
    clock.t = 400;
    first.sent();
    await limiter.acquire();
    // The second token (taken at 0) frees first; the third request may go a second after it, not after 0 + 1000 alone.
    expect(clock.t).toBeGreaterThan(1000);
    const next = clock.t;
    await limiter.acquire();
    // The fourth needs the first token back, which counts from 400.
    expect(clock.t).toBeGreaterThan(1400);
    expect(clock.t).toBeGreaterThan(next);
  });

  it('with no limit, never waits', async () => {
    const clock = fakeClock();
    const limiter = new RequestRateLimiter(0, clock);
    for (let i = 0; i < 50; i++) await limiter.acquire();
    expect(clock.t).toBe(0);
  });
});
