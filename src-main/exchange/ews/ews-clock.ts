import type { EwsExchangeRecord } from './ews-transport.ts';

/**
 * Exchange's clock offset (server minus local, ms). Collisions are decided on last-change times from both sides, so
 * the engine corrects Exchange's times by this offset.
 *
 * The HTTP Date header gives it on every answer. Some servers (or proxies in front of them) send none; then the sync's
 * own writes give it: the LastModifiedTime Exchange stamps on an item the sync just wrote lies, on the local clock,
 * between sending the write and receiving the answer that reads it back. The middle of that interval is the estimate,
 * half its width (plus the second LastModifiedTime is cut to) the uncertainty. Such an estimate is remembered per EWS
 * address for later connectors in this process (one per cycle), so a cycle without writes still has one.
 * Without either, the offset is unknown, and `unknownReason()` says so and what it means.
 */

export interface ClockEstimate {
  offsetMs: number;
  /** The true offset is within offsetMs ± uncertaintyMs. */
  uncertaintyMs: number;
  /** Local time of the measurement. */
  measuredAtMs: number;
}

/** A write that took longer than this to confirm says too little about the clock. */
export const MAX_WRITE_ESTIMATE_UNCERTAINTY_MS = 5_000;
/** Clocks drift slowly; an estimate from a write is used this long for later cycles. */
export const REMEMBER_ESTIMATE_MS = 24 * 3_600_000;

export const NO_DATE_HEADER_SENTENCE = 'Exchange sends no Date header, so its clock offset is unknown; collisions are decided on uncorrected clocks.';

const remembered = new Map<string, ClockEstimate>();

export class EwsClock {
  private fromHeader: number | null = null;
  private fromWrites: ClockEstimate | null = null;
  private answersWithoutDate = 0;
  private readonly key: string;
  private readonly now: () => number;

  /** `serverKey`: the EWS address (estimates are remembered per server). */
  constructor(serverKey: string, now: () => number = Date.now) {
    this.key = serverKey;
    this.now = now;
  }

  /** Every HTTP answer (null status: none came). */
  recordResponse(record: EwsExchangeRecord): void {
    if (record.status === null) return;
    if (record.serverDateMs === null) {
      this.answersWithoutDate++;
      return;
    }
    // The Date header is whole seconds, cut down: the server's clock was, on average, half a second further on.
    this.fromHeader = record.serverDateMs + 500 - record.receivedAtMs;
  }

  /**
   * A write of the sync's own: `lastModified` is the LastModifiedTime Exchange gave the item, `sentAtMs` the local time
   * just before the first writing request was sent, `receivedAtMs` the local time the read-back arrived. Only for a
   * write that certainly changed the item in between (else its LastModifiedTime is older and says nothing).
   */
  recordWrite(lastModified: string, sentAtMs: number, receivedAtMs: number): ClockEstimate | null {
    const serverMs = Date.parse(lastModified);
    if (Number.isNaN(serverMs) || !(receivedAtMs >= sentAtMs)) return null;
    // Whole seconds: the stamp was cut to the second, the real moment up to a second later.
    const precision = serverMs % 1000 === 0 ? 1000 : 1;
    const low = serverMs - receivedAtMs;
    const high = serverMs + precision - sentAtMs;
    const estimate: ClockEstimate = { offsetMs: Math.round((low + high) / 2), uncertaintyMs: Math.ceil((high - low) / 2), measuredAtMs: receivedAtMs };
    if (estimate.uncertaintyMs > MAX_WRITE_ESTIMATE_UNCERTAINTY_MS) return null;
    if (!this.fromWrites || estimate.uncertaintyMs <= this.fromWrites.uncertaintyMs) this.fromWrites = estimate;
    const before = remembered.get(this.key);
    if (!before || estimate.uncertaintyMs <= before.uncertaintyMs || receivedAtMs - before.measuredAtMs > REMEMBER_ESTIMATE_MS / 2) remembered.set(this.key, estimate);
    return estimate;
  }

  /** The Date header's offset, else this connector's best write estimate, else a remembered one; null when unknown. */
  offsetMs(): number | null {
    if (this.fromHeader !== null) return this.fromHeader;
    return this.estimate()?.offsetMs ?? null;
  }

  /** Where the offset comes from, for the diagnostics. */
  source(): { kind: 'date-header' } | { kind: 'write'; estimate: ClockEstimate } | null {
    if (this.fromHeader !== null) return { kind: 'date-header' };
    const estimate = this.estimate();
    return estimate ? { kind: 'write', estimate } : null;
  }

  /** One sentence when answers came without a Date header and nothing else gave the offset; null otherwise. */
  unknownReason(): string | null {
    if (this.offsetMs() !== null || this.answersWithoutDate === 0) return null;
    return NO_DATE_HEADER_SENTENCE;
  }

  private estimate(): ClockEstimate | null {
    if (this.fromWrites) return this.fromWrites;
    const kept = remembered.get(this.key);
    return kept && this.now() - kept.measuredAtMs <= REMEMBER_ESTIMATE_MS ? kept : null;
  }
}

/** Forgets remembered estimates (tests). */
export function forgetClockEstimates(): void {
  remembered.clear();
}
