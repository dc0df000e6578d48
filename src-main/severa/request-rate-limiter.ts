/**
 * Client-side request limit shared by every call of one Severa client: a bucket of `perSecond` tokens where each token
 * comes back one second (plus a small margin) after it was spent. Unlike a bucket refilled at a steady rate, this never
 * lets more than `perSecond` requests leave within any one-second window, which is what the server counts.
 * A 429 pauses the whole client until the server's Retry-After has passed.
 */

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Slack for the gap between when a request leaves here and when the server sees it: a request that waits for a new
 * connection arrives later than one on a kept-alive connection sent after it.
 */
const WINDOW_MARGIN_MS = 100;

export class RequestRateLimiter {
  private readonly perSecond: number;
  private readonly clock: Clock;
  /** Send times of the last `perSecond` requests, oldest first. */
  private readonly sent: number[] = [];
  private pausedUntil = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(perSecond: number, clock: Clock = realClock) {
    this.perSecond = perSecond;
    this.clock = clock;
  }

  /** Resolves when one more request may go; callers are served in order. */
  acquire(): Promise<void> {
    const turn = this.queue.then(() => this.waitTurn());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Holds every caller back for `ms` (a 429's Retry-After). */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
  }

  private async waitTurn(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      if (now < this.pausedUntil) {
        await this.clock.sleep(this.pausedUntil - now);
        continue;
      }
      if (!(this.perSecond > 0) || !Number.isFinite(this.perSecond)) return;
      if (this.sent.length < this.perSecond) break;
      const freeAt = this.sent[0] + 1000 + WINDOW_MARGIN_MS;
      if (now >= freeAt) {
        this.sent.shift();
        break;
      }
      await this.clock.sleep(freeAt - now);
    }
    this.sent.push(this.clock.now());
  }
}
