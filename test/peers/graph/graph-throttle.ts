/**
 * Outlook's throttling and the simulator's seeded faults. Throttling is per app and mailbox, as Graph's Outlook limits
 * are: at most N concurrent requests (4 by default) and M requests per window (10,000 per 10 minutes by default); over
 * either, 429 with Retry-After. Faults are drawn from a seeded PRNG, so a run repeats: 503 and 504 answers, random 429s,
 * slow answers, dropped connections, delta replays and in-page duplicates, and "a server that differs" (a write that
 * keeps a series' old subject, an occurrence landed a day off). `forceNext` makes the next N matching requests fail.
 */

export type GraphFaultKind = 'http503' | 'http504' | 'throttle' | 'dropConnection' | 'slow';
export const GRAPH_FAULT_KINDS: readonly GraphFaultKind[] = ['http503', 'http504', 'throttle', 'dropConnection', 'slow'];

export interface GraphFaultConfig {
  seed?: number;
  http503Rate?: number;
  http504Rate?: number;
  /** A 429 ApplicationThrottled regardless of the counters. */
  throttleRate?: number;
  dropConnectionRate?: number;
  slowRate?: number;
  slowMs?: number;
  /** Retry-After (seconds) on injected 503s and 429s; default 1. */
  retryAfterSeconds?: number;
  /** calendarView/delta: chance per round of replaying an unchanged instance, and per entry of a duplicate. */
  deltaReplayRate?: number;
  deltaDuplicateRate?: number;
  /** "A server that differs": chance that a PATCH of a series master's subject is not applied... */
  keepSeriesSubjectRate?: number;
  /** ...and that an occurrence moved by PATCH lands a day later than asked. */
  misplaceOccurrenceRate?: number;
  /**
   * Exchange Online rewrites a new item's change key on its own a few seconds after the create (reported by Graph
   * clients): with this chance a created event's changeKey changes again `changeKeyDriftMs` (default 2000) later, so
   * an If-Match with the etag from the POST answer gets 412.
   */
  changeKeyDriftRate?: number;
  changeKeyDriftMs?: number;
  /** Only requests to these mailboxes (any address) / routes (route names, e.g. "events.create") are affected. */
  onlyMailboxes?: string[];
  onlyRoutes?: string[];
  forceNext?: { kind: GraphFaultKind; count: number };
}

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

const RATES: Array<[keyof GraphFaultConfig, GraphFaultKind]> = [
  ['dropConnectionRate', 'dropConnection'],
  ['http503Rate', 'http503'],
  ['http504Rate', 'http504'],
  ['throttleRate', 'throttle'],
];

export function validateGraphFaults(f: GraphFaultConfig): void {
  for (const k of ['http503Rate', 'http504Rate', 'throttleRate', 'dropConnectionRate', 'slowRate', 'deltaReplayRate', 'deltaDuplicateRate', 'keepSeriesSubjectRate', 'misplaceOccurrenceRate', 'changeKeyDriftRate'] as const) {
    const v = f[k];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1))) throw new RangeError(`Fault ${k} must be a number from 0 to 1, got ${String(v)}`);
  }
  if (f.forceNext) {
    if (!GRAPH_FAULT_KINDS.includes(f.forceNext.kind)) throw new RangeError(`Unknown fault kind '${String(f.forceNext.kind)}'`);
    if (!Number.isInteger(f.forceNext.count) || f.forceNext.count < 0) throw new RangeError('forceNext.count must be a non-negative integer');
  }
}

export class FaultInjector {
  cfg: GraphFaultConfig = {};
  rng: () => number = prng(1);
  private forcedLeft = 0;
  readonly injected: Record<GraphFaultKind, number> = { http503: 0, http504: 0, throttle: 0, dropConnection: 0, slow: 0 };

  constructor(cfg: GraphFaultConfig = {}) {
    this.set(cfg);
  }

  set(cfg: GraphFaultConfig): void {
    validateGraphFaults(cfg);
    this.cfg = { ...cfg, onlyMailboxes: cfg.onlyMailboxes?.map((m) => m.toLowerCase()) };
    this.rng = prng(cfg.seed ?? 1);
    this.forcedLeft = cfg.forceNext?.count ?? 0;
  }

  /** One decision per Graph request (batch sub-requests included). */
  decide(route: string, mailboxAddresses: string[]): { kind: Exclude<GraphFaultKind, 'slow'> | null; delayMs: number } {
    const c = this.cfg;
    if (c.onlyRoutes && !c.onlyRoutes.includes(route)) return { kind: null, delayMs: 0 };
    if (c.onlyMailboxes && !mailboxAddresses.some((a) => c.onlyMailboxes!.includes(a.toLowerCase()))) return { kind: null, delayMs: 0 };
    if (this.forcedLeft > 0 && c.forceNext) {
      this.forcedLeft--;
      this.injected[c.forceNext.kind]++;
      if (c.forceNext.kind === 'slow') return { kind: null, delayMs: c.slowMs ?? 2000 };
      return { kind: c.forceNext.kind, delayMs: 0 };
    }
    let delayMs = 0;
    if (this.rng() < (c.slowRate ?? 0)) {
      delayMs = c.slowMs ?? 2000;
      this.injected.slow++;
    }
    let kind: Exclude<GraphFaultKind, 'slow'> | null = null;
    for (const [key, k] of RATES) {
      const draw = this.rng();
      if (kind === null && draw < ((c[key] as number | undefined) ?? 0)) {
        kind = k as Exclude<GraphFaultKind, 'slow'>;
        this.injected[k]++;
      }
    }
    return { kind, delayMs };
  }

  chance(rate: number | undefined): boolean {
    return (rate ?? 0) > 0 && this.rng() < rate!;
  }
}

export interface ThrottleLimits {
  maxConcurrentPerMailbox: number;
  requestsPerWindow: number;
  windowMs: number;
  retryAfterSeconds: number;
}

export const OUTLOOK_LIMITS: ThrottleLimits = { maxConcurrentPerMailbox: 4, requestsPerWindow: 10_000, windowMs: 600_000, retryAfterSeconds: 1 };

export type ThrottleDecision = { ok: true; release: () => void } | { ok: false; retryAfterSeconds: number; message: string };

/** Per app+mailbox concurrency and request-rate limits. */
export class Throttle {
  limits: ThrottleLimits;
  private readonly inFlight = new Map<string, number>();
  private readonly windows = new Map<string, { start: number; count: number }>();
  throttled = 0;

  constructor(limits: ThrottleLimits) {
    this.limits = limits;
  }

  acquire(appId: string, mailboxId: string, nowMs: number): ThrottleDecision {
    const key = `${appId}|${mailboxId}`;
    const w = this.windows.get(key);
    const win = !w || nowMs - w.start >= this.limits.windowMs ? { start: nowMs, count: 0 } : w;
    this.windows.set(key, win);
    const busy = this.inFlight.get(key) ?? 0;
    if (busy >= this.limits.maxConcurrentPerMailbox) {
      this.throttled++;
      return { ok: false, retryAfterSeconds: this.limits.retryAfterSeconds, message: 'Application is over its MailboxConcurrency limit.' };
    }
    if (win.count >= this.limits.requestsPerWindow) {
      this.throttled++;
      const left = Math.max(1, Math.ceil((win.start + this.limits.windowMs - nowMs) / 1000));
      return { ok: false, retryAfterSeconds: Math.min(left, Math.max(this.limits.retryAfterSeconds, 1)), message: 'Application is over its IncomingRequests limit.' };
    }
    win.count++;
    this.inFlight.set(key, busy + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
      },
    };
  }

  reset(): void {
    this.windows.clear();
  }
}
