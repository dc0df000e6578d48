/**
 * Client-side request limit shared by every call of one Severa client: a bucket of `perSecond` tokens where each token
 * comes back one second (plus a small margin) after it was spent. Unlike a bucket refilled at a steady rate, this never
 * lets more than `perSecond` requests leave within any one-second window, which is what the server counts.
 * A token is spent when the request actually leaves: a caller that knows when (the request was written on a connected
 * socket) says so with the slot's `sent()`, so a request that first waited for a new connection or a TLS handshake
 * counts from then, and the margin only has to cover the network's jitter, not a handshake.
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
 * Slack for the gap between when a request leaves here and when the server sees it (two requests on kept-alive
 * connections arrive as far apart as they left, give or take the network's jitter): 10 requests per 1.015 s at most,
 * 98.5 % of a 10-per-second quota.
 */
const WINDOW_MARGIN_MS = 15;

/** One request's place in the limit. */
export interface RateSlot {
  /** The request left now (written on its connection): its token counts from here. */
  sent(): void;
}

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
  acquire(): Promise<RateSlot> {
    const turn = this.queue.then(() => this.waitTurn());
    this.queue = turn.then(() => undefined, () => undefined);
    return turn;
  }

  /** Holds every caller back for `ms` (a 429's Retry-After). */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
  }

  private async waitTurn(): Promise<RateSlot> {
    for (;;) {
      const now = this.clock.now();
      if (now < this.pausedUntil) {
        await this.clock.sleep(this.pausedUntil - now);
        continue;
      }
      if (!(this.perSecond > 0) || !Number.isFinite(this.perSecond)) return { sent: () => undefined };
      if (this.sent.length < this.perSecond) break;
      const freeAt = this.sent[0] + 1000 + WINDOW_MARGIN_MS;
      if (now >= freeAt) {
        this.sent.shift();
        break;
      }
      await this.clock.sleep(freeAt - now);
    }
    const slot = { at: this.clock.now() };
    this.sent.push(slot.at);
    return {
      sent: () => {
        // Later than acquired (a connection was opened first): the token counts from now, in send order.
        const now = this.clock.now();
        const i = this.sent.indexOf(slot.at);
        if (i < 0 || now <= slot.at) return;
        this.sent.splice(i, 1);
        let j = this.sent.length;
        while (j > 0 && this.sent[j - 1] > now) j--;
        this.sent.splice(j, 0, now);
        slot.at = now;
      },
    };
  }
}
