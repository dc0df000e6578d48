/**
 * Seeded fault injection: the same seed and the same request sequence give the same faults, so a failing soak
 * run can be replayed. Rates are per request; `forceNext` makes the next N matching requests fail a given way
 * (for deterministic tests).
 */

import type { StreamingFaultConfig } from './notification-hub.ts';
import type { SoapFaultShape } from './soap-envelope.ts';

export type EwsFaultKind = 'serverBusy' | 'http503' | 'nonSoap500' | 'dropConnection' | 'slow' | 'mailboxMove';

export interface EwsFaultConfig {
  seed?: number;
  /** ErrorServerBusy SOAP fault (HTTP 500) carrying BackOffMilliseconds. */
  serverBusyRate?: number;
  /** BackOffMilliseconds in ErrorServerBusy; default 1000. */
  serverBusyBackOffMs?: number;
  /** HTTP 503 with IIS's HTML page. */
  http503Rate?: number;
  /** HTTP 500 with an HTML body (not SOAP). */
  nonSoap500Rate?: number;
  /** The body of that 500 (default: IIS's "500 - Internal server error." page); e.g. '<x/>'. */
  nonSoap500Body?: string;
  /** The socket is destroyed without an answer. */
  dropConnectionRate?: number;
  /** The answer is delayed by slowMs (default 2000), then given normally. */
  slowRate?: number;
  slowMs?: number;
  /** ErrorMailboxMoveInProgress in each response message. */
  mailboxMoveRate?: number;
  /** Only these operations (e.g. ["SyncFolderItems"]) are affected. */
  onlyOperations?: string[];
  /** Only requests acting on these mailboxes (any of their addresses) are affected. */
  onlyMailboxes?: string[];
  /** The next `count` matching requests get `kind`, before any random fault. */
  forceNext?: { kind: EwsFaultKind; count: number };
  /**
   * How every SOAP fault is delivered (impersonation, version, throttling, schema...; not only injected ones, and
   * regardless of onlyOperations/onlyMailboxes): as seen on real servers, with HTTP 200 instead of 500, without
   * `detail`, or with a generic `s:Client`/`s:Server` faultcode. `rate` (0..1, default 1) applies it to that share of
   * faults, drawn from the seeded PRNG.
   */
  faultStyle?: EwsFaultStyle;
  /** Faults of streaming notifications, drawn per notification batch (notification-hub.ts; checked there). */
  streaming?: StreamingFaultConfig;
  /**
   * "A server that differs" (seeded, per write; for the sync's verified writes): the write is answered as done, but
   * the server keeps something else. `keepSeriesSubjectRate`: a series master's new subject is not kept;
   * `resetExceptionTimesRate`: a changed occurrence's new times are not kept (it keeps the pattern's);
   * `misplaceOccurrenceRate`: an occurrence addressed by its index (OccurrenceItemId) is the next one;
   * `dropLocationRate`: a new item's location is dropped.
   */
  keepSeriesSubjectRate?: number;
  resetExceptionTimesRate?: number;
  misplaceOccurrenceRate?: number;
  dropLocationRate?: number;
}

export type EwsDifferKind = 'keepSeriesSubject' | 'resetExceptionTimes' | 'misplaceOccurrence' | 'dropLocation';
const DIFFER_RATE: Record<EwsDifferKind, keyof EwsFaultConfig> = {
  keepSeriesSubject: 'keepSeriesSubjectRate',
  resetExceptionTimes: 'resetExceptionTimesRate',
  misplaceOccurrence: 'misplaceOccurrenceRate',
  dropLocation: 'dropLocationRate',
};

export interface EwsFaultStyle extends SoapFaultShape {
  /** HTTP status of a SOAP fault; default 500 (Exchange's). */
  httpStatus?: 200 | 500;
  rate?: number;
}

export interface FaultDecision {
  kind: Exclude<EwsFaultKind, 'slow'> | null;
  delayMs: number;
}

/** mulberry32: tiny, fast and good enough for choosing faults. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const RATE_KEYS: Array<[keyof EwsFaultConfig, EwsFaultKind]> = [
  ['dropConnectionRate', 'dropConnection'],
  ['http503Rate', 'http503'],
  ['nonSoap500Rate', 'nonSoap500'],
  ['serverBusyRate', 'serverBusy'],
  ['mailboxMoveRate', 'mailboxMove'],
];

export function validateFaultConfig(f: EwsFaultConfig): void {
  for (const key of ['serverBusyRate', 'http503Rate', 'nonSoap500Rate', 'dropConnectionRate', 'slowRate', 'mailboxMoveRate', 'keepSeriesSubjectRate', 'resetExceptionTimesRate', 'misplaceOccurrenceRate', 'dropLocationRate'] as const) {
    const v = f[key];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1))) throw new RangeError(`Fault ${key} must be a number from 0 to 1, got ${String(v)}`);
  }
  for (const key of ['slowMs', 'serverBusyBackOffMs'] as const) {
    const v = f[key];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0))) throw new RangeError(`Fault ${key} must be a non-negative number of ms`);
  }
  const style = f.faultStyle;
  if (style !== undefined) {
    if (typeof style !== 'object' || style === null) throw new RangeError('faultStyle must be an object');
    if (style.httpStatus !== undefined && style.httpStatus !== 200 && style.httpStatus !== 500) throw new RangeError(`faultStyle.httpStatus must be 200 or 500, got ${String(style.httpStatus)}`);
    if (style.detail !== undefined && typeof style.detail !== 'boolean') throw new RangeError('faultStyle.detail must be true or false');
    if (style.faultCode !== undefined && !['ews', 'client', 'server'].includes(style.faultCode)) throw new RangeError(`faultStyle.faultCode must be ews, client or server, got ${String(style.faultCode)}`);
    if (style.rate !== undefined && (typeof style.rate !== 'number' || !(style.rate >= 0 && style.rate <= 1))) throw new RangeError('faultStyle.rate must be a number from 0 to 1');
  }
  if (f.forceNext) {
    const kinds: EwsFaultKind[] = ['serverBusy', 'http503', 'nonSoap500', 'dropConnection', 'slow', 'mailboxMove'];
    if (!kinds.includes(f.forceNext.kind)) throw new RangeError(`Unknown fault kind '${String(f.forceNext.kind)}'`);
    if (!Number.isInteger(f.forceNext.count) || f.forceNext.count < 0) throw new RangeError('forceNext.count must be a non-negative integer');
  }
}

export class FaultInjector {
  private cfg: EwsFaultConfig = {};
  private rng: () => number = prng(1);
  private forcedLeft = 0;
  readonly injected: Record<EwsFaultKind, number> = { serverBusy: 0, http503: 0, nonSoap500: 0, dropConnection: 0, slow: 0, mailboxMove: 0 };
  /** Writes the server kept differently, by kind ("a server that differs"). */
  readonly differed: Record<EwsDifferKind, number> = { keepSeriesSubject: 0, resetExceptionTimes: 0, misplaceOccurrence: 0, dropLocation: 0 };

  /** Does the server keep this write differently? Draws from the seeded PRNG only where that rate is set. */
  differs(kind: EwsDifferKind): boolean {
    const rate = this.cfg[DIFFER_RATE[kind]] as number | undefined;
    if (!rate) return false;
    const hit = this.rng() < rate;
    if (hit) this.differed[kind]++;
    return hit;
  }

  constructor(cfg: EwsFaultConfig = {}) {
    this.set(cfg);
  }

  set(cfg: EwsFaultConfig): void {
    validateFaultConfig(cfg);
    this.cfg = { ...cfg, onlyMailboxes: cfg.onlyMailboxes?.map((m) => m.toLowerCase()) };
    this.rng = prng(cfg.seed ?? 1);
    this.forcedLeft = cfg.forceNext?.count ?? 0;
  }

  get nonSoap500Body(): string | undefined {
    return this.cfg.nonSoap500Body;
  }

  get backOffMs(): number {
    return this.cfg.serverBusyBackOffMs ?? 1000;
  }

  /** The HTTP status and shape for the SOAP fault about to be sent (Exchange's when no faultStyle is set). */
  faultDelivery(status: number): { status: number; shape: SoapFaultShape } {
    const style = this.cfg.faultStyle;
    if (!style) return { status, shape: {} };
    // The PRNG is drawn only for a partial rate, so a style applied to every fault leaves the other draws as they were.
    if (style.rate !== undefined && style.rate < 1 && !(this.rng() < style.rate)) return { status, shape: {} };
    return { status: style.httpStatus ?? status, shape: { detail: style.detail, faultCode: style.faultCode } };
  }

  /** `mailboxAddresses`: every address of the mailbox the request acts on (empty when none). */
  decide(operation: string, mailboxAddresses: string[]): FaultDecision {
    const c = this.cfg;
    if (c.onlyOperations && !c.onlyOperations.includes(operation)) return { kind: null, delayMs: 0 };
    if (c.onlyMailboxes && !mailboxAddresses.some((a) => c.onlyMailboxes!.includes(a))) return { kind: null, delayMs: 0 };
    if (this.forcedLeft > 0 && c.forceNext) {
      this.forcedLeft--;
      this.injected[c.forceNext.kind]++;
      if (c.forceNext.kind === 'slow') return { kind: null, delayMs: c.slowMs ?? 2000 };
      return { kind: c.forceNext.kind, delayMs: 0 };
    }
    // One draw per kind, always, so changing one rate does not shift the others' sequence.
    let delayMs = 0;
    const slowDraw = this.rng();
    if (slowDraw < (c.slowRate ?? 0)) {
      delayMs = c.slowMs ?? 2000;
      this.injected.slow++;
    }
    let kind: FaultDecision['kind'] = null;
    for (const [key, k] of RATE_KEYS) {
      const draw = this.rng();
      if (kind === null && draw < ((c[key] as number | undefined) ?? 0)) {
        kind = k as FaultDecision['kind'];
        this.injected[k]++;
      }
    }
    return { kind, delayMs };
  }
}
