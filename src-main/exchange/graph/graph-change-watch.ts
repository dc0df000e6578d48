import { CalendarError, type ChangeWatch, type ChangeWatchEvents, type WatchMode, type WatchPositions } from '../calendar-connector.ts';
import { GraphClient, MAX_BATCH, retryAfterMs, type GraphRequest, type GraphResponse } from './graph-client.ts';
import { graphHttpError } from './graph-errors.ts';
import { versionOf, type GraphEvent } from './graph-event-mapping.ts';
import { decodeSyncState, encodeSyncState, type GraphSyncState } from './graph-sync-state.ts';
import { t } from '../../common/i18n/i18n.ts';

/**
 * Near real time for Exchange Online (GraphCalendarConnector.watchChanges). Graph's change notifications need a public
 * HTTPS endpoint, which a tray app behind a firewall does not have, so mailboxes are polled instead, cheaply:
 *  - each poll reads `calendarView/delta` from the sync engine's own stored position (`WatchPositions`), one item a
 *    page: "nothing" is an empty page, anything else means the engine's next read of that mailbox finds something.
 *    The watch never keeps or advances positions of its own, so it can never hide a change from the engine;
 *  - 20 mailboxes per `$batch` request, the batches spread evenly over the interval (1,000 mailboxes every 2 s: one
 *    request every 40 ms), so a quiet organization costs one request per 20 mailboxes per interval, and each mailbox
 *    one (of Outlook's 10,000 per 10 minutes per app) per interval;
 *  - a throttled mailbox (429/503 with Retry-After) waits what it was told; a throttled `$batch` holds every batch;
 *  - after a change is reported from a position, that mailbox is not read again until the engine stored a newer
 *    position (or `rereadAfterMs` passed, e.g. its sync failed), so one change is reported once;
 *  - Exchange Online keeps a limited number of delta positions per mailbox and drops the oldest: every delta read makes
 *    a new one. So that the engine's stored position never ages out while the watch reads from it, every
 *    `renewAfterQuietPolls` quiet reads the fresh position the last one returned (the same point in the calendar, since
 *    nothing came in between) is put in its place (`WatchPositions.renew`, compare-and-set against the stored one);
 *  - what a read finds may be only the sync's own writes read back (single events the sync holds at exactly that
 *    version: `WatchPositions.settled`); then the position after them is put in place of the stored one, as after a
 *    quiet read, and nothing is reported (reading them would change nothing; series are always reported, since the
 *    engine's read also keeps their occurrences' index);
 *  - a position Exchange no longer knows (410) -> `resync(mailbox)`: the engine's sync starts that mailbox over.
 * Modes: 'live' (read every interval), 'off' with the reason (not synced yet, refused, failing, stopped).
 */

export interface GraphWatchOptions {
  /** Quiet reads after which the engine's stored position is renewed (default 25; the server keeps ~100). */
  renewAfterQuietPolls?: number;
  /** A mailbox whose change was reported is read again from the same position after this (default 60 s). */
  rereadAfterMs?: number;
  /** A mailbox Graph refuses (no mailbox, outside the app's scope) is tried again after this (default 15 min). */
  offRetryMs?: number;
  /** Failed reads in a row after which a mailbox shows 'off' (default 3); reads back off up to 60 s meanwhile. */
  failuresBeforeOff?: number;
}

export interface GraphWatchSetup {
  client: GraphClient;
  pollIntervalMs: number;
  positions: WatchPositions | undefined;
  /** The delta request for a mailbox's link (the connector's, asking for one item a page). */
  deltaRequest: (mailbox: string, url: string) => GraphRequest;
  options?: GraphWatchOptions;
  now?: () => number;
}

interface Member {
  mailbox: string;
  mode: WatchMode;
  since: string;
  reason?: string;
  /** The position read from: the engine's stored one, or its renewal. */
  position: string | null;
  /** What `positions.position()` said last time: a different answer is adopted. */
  provided: string | null;
  quietReads: number;
  /** The position a change was reported from, and when. */
  reported: { position: string; atMs: number } | null;
  notBeforeMs: number;
  failures: number;
  inFlight: boolean;
  /** Off until the engine's next sync of the mailbox gives a position (not synced yet, a foreign or expired one). */
  untilSynced: boolean;
}

type DeltaPage = { value?: unknown[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };

const EMAIL_RE = /^[^\s@<>()"',;:\\]+@[^\s@<>()"',;:\\]+\.[^\s@<>()"',;:\\]+$/;
const MAX_BACKOFF_MS = 60_000;

// Said in the process's language (engine.watch).
const TEXT = {
  get notSynced() { return t('engine.watch.notSynced'); },
  get noPositions() { return t('engine.watch.noPositions'); },
  get foreignLink() { return t('engine.watch.foreignLink'); },
  get expired() { return t('engine.watch.expired'); },
  failing: (why: string) => t('engine.watch.onlineFailing', { why }),
  get stopped() { return t('engine.watch.stopped'); },
};

function unref(t: NodeJS.Timeout): NodeJS.Timeout {
  t.unref?.();
  return t;
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

export class GraphChangeWatch implements ChangeWatch {
  readonly #setup: GraphWatchSetup;
  readonly #events: ChangeWatchEvents;
  readonly #now: () => number;
  readonly #renewAfter: number;
  readonly #rereadAfterMs: number;
  readonly #offRetryMs: number;
  readonly #failuresBeforeOff: number;
  readonly #members = new Map<string, Member>();
  /** Mailboxes in address order, cut into batches of 20: batch k is read at tick k of every interval. */
  #slots: Member[][] = [];
  #tick = 0;
  #timer: NodeJS.Timeout | null = null;
  /** A $batch request itself was throttled: nothing is sent before this. */
  #pausedUntilMs = 0;
  #stopped = false;

  constructor(setup: GraphWatchSetup, events: ChangeWatchEvents) {
    this.#setup = setup;
    this.#events = events;
    this.#now = setup.now ?? Date.now;
    const o = setup.options ?? {};
    this.#renewAfter = Math.max(1, Math.round(positive(o.renewAfterQuietPolls, 25)));
    this.#rereadAfterMs = positive(o.rereadAfterMs, 60_000);
    this.#offRetryMs = positive(o.offRetryMs, 15 * 60_000);
    this.#failuresBeforeOff = Math.max(1, Math.round(positive(o.failuresBeforeOff, 3)));
  }

  // ---- ChangeWatch ----

  setMailboxes(mailboxes: readonly string[]): void {
    if (this.#stopped) return;
    const wanted = new Set(mailboxes.filter((m) => typeof m === 'string' && EMAIL_RE.test(m.trim())).map((m) => m.trim().toLowerCase()));
    for (const mailbox of [...this.#members.keys()]) if (!wanted.has(mailbox)) this.#members.delete(mailbox);
    for (const mailbox of wanted) {
      if (this.#members.has(mailbox)) continue;
      this.#members.set(mailbox, { mailbox, mode: 'off', since: this.#iso(), reason: TEXT.notSynced, position: null, provided: null, quietReads: 0, reported: null, notBeforeMs: 0, failures: 0, inFlight: false, untilSynced: true });
    }
    const ordered = [...this.#members.values()].sort((a, b) => a.mailbox.localeCompare(b.mailbox));
    this.#slots = [];
    for (let i = 0; i < ordered.length; i += MAX_BATCH) this.#slots.push(ordered.slice(i, i + MAX_BATCH));
    // A new mailbox shows whether it can be watched at once, not at its first turn.
    for (const m of ordered) this.#adoptPosition(m);
    this.#restartTimer();
  }

  modes(): Record<string, { mode: WatchMode; since: string; reason?: string }> {
    const out: Record<string, { mode: WatchMode; since: string; reason?: string }> = {};
    for (const m of this.#members.values()) out[m.mailbox] = m.reason === undefined ? { mode: m.mode, since: m.since } : { mode: m.mode, since: m.since, reason: m.reason };
    return out;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const m of this.#members.values()) this.#setMode(m, 'off', TEXT.stopped);
  }

  // ---- scheduling ----

  #restartTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#slots.length === 0 || this.#stopped) return;
    // Every batch once per interval, evenly spaced.
    const everyMs = Math.max(1, this.#setup.pollIntervalMs / this.#slots.length);
    this.#timer = unref(setInterval(() => this.#onTick(), everyMs));
  }

  #onTick(): void {
    if (this.#stopped || this.#slots.length === 0) return;
    const slot = this.#slots[this.#tick % this.#slots.length];
    this.#tick = (this.#tick + 1) % this.#slots.length;
    if (this.#now() < this.#pausedUntilMs) return;
    void this.#readSlot(slot).catch(() => undefined);
  }

  // ---- reading ----

  /** Takes the engine's stored position when it changed (a sync stored a new one): reading starts afresh from it. */
  #adoptPosition(m: Member): void {
    if (!this.#setup.positions) {
      this.#setMode(m, 'off', TEXT.noPositions);
      return;
    }
    let provided: string | null;
    try {
      provided = this.#setup.positions.position(m.mailbox);
    } catch {
      provided = m.provided;
    }
    if (provided === m.provided && m.position !== null) return;
    m.provided = provided;
    m.position = provided;
    m.quietReads = 0;
    m.reported = null;
    if (provided === null) this.#setMode(m, 'off', TEXT.notSynced, true);
    else if (m.mode === 'off' && m.untilSynced) this.#setMode(m, 'live');
  }

  async #readSlot(slot: Member[]): Promise<void> {
    const nowMs = this.#now();
    const reads: Array<{ m: Member; position: string; state: GraphSyncState; request: GraphRequest }> = [];
    for (const m of slot) {
      if (m.inFlight || nowMs < m.notBeforeMs || !this.#members.has(m.mailbox)) continue;
      this.#adoptPosition(m);
      if (m.position === null) continue;
      if (m.reported && m.reported.position === m.position && nowMs - m.reported.atMs < this.#rereadAfterMs) continue;
      let state: GraphSyncState | null;
      try {
        state = decodeSyncState(m.position);
      } catch {
        state = null;
      }
      const url = state ? this.#setup.client.relativeUrl(state.deltaLink) : null;
      if (!state || url === null) {
        this.#setMode(m, 'off', TEXT.foreignLink, true);
        continue;
      }
      reads.push({ m, position: m.position, state, request: this.#setup.deltaRequest(m.mailbox, url) });
    }
    if (reads.length === 0) return;
    for (const r of reads) r.m.inFlight = true;
    let answers: GraphResponse[] | null = null;
    let failure: CalendarError | null = null;
    try {
      answers = await this.#setup.client.batch(
        reads.map((r) => r.request),
        { retryThrottled: false },
      );
    } catch (error) {
      failure = error instanceof CalendarError ? error : new CalendarError('transient', String(error));
    } finally {
      for (const r of reads) r.m.inFlight = false;
    }
    if (this.#stopped) return;
    if (failure) {
      if (failure.code === 'throttled') this.#pausedUntilMs = this.#now() + (failure.retryAfterMs ?? this.#setup.pollIntervalMs * 2);
      for (const r of reads) this.#failed(r.m, failure);
      return;
    }
    answers!.forEach((answer, i) => this.#answered(reads[i], answer));
  }

  #answered(read: { m: Member; position: string; state: GraphSyncState; request: GraphRequest }, answer: GraphResponse): void {
    const { m } = read;
    // The engine stored a newer position while this read was under way: its answer says nothing about it.
    if (m.position !== read.position) return;
    if (answer.status === 200) {
      const page = (answer.body ?? {}) as DeltaPage;
      const items = Array.isArray(page.value) ? page.value.length : 0;
      const next = page['@odata.nextLink'];
      const done = page['@odata.deltaLink'];
      const hasNext = typeof next === 'string' && next !== '';
      const hasDone = typeof done === 'string' && done !== '';
      if (items > 0 && !hasNext && hasDone && this.#onlyOwnWrites(m, page.value!)) return this.#quiet(m, read.state, done!, true);
      if (items > 0 || hasNext) return this.#changed(m, read.position);
      if (hasDone) return this.#quiet(m, read.state, done!);
      return this.#failed(m, new CalendarError('bad-response', "Microsoft Graph's delta page has neither a next nor a delta link."));
    }
    if (answer.status === 429 || answer.status === 503) {
      m.notBeforeMs = this.#now() + (retryAfterMs(answer.headers) ?? this.#setup.pollIntervalMs * 2 ** Math.min(5, m.failures + 1));
      return;
    }
    const error = graphHttpError(answer.status, answer.body, { what: t('report.graph.steps.readingChanges'), mailbox: m.mailbox });
    if (error.code === 'invalid-sync-state') {
      // The engine's read will meet the same answer and start the mailbox over; until it stored the new position, wait.
      m.reported = { position: read.position, atMs: this.#now() };
      this.#setMode(m, 'off', TEXT.expired, true);
      this.#events.resync(m.mailbox, TEXT.expired);
      return;
    }
    if (error.code === 'no-mailbox' || error.code === 'impersonation-denied' || error.code === 'auth') {
      m.notBeforeMs = this.#now() + this.#offRetryMs;
      this.#setMode(m, 'off', error.advice?.message ?? error.message);
      return;
    }
    this.#failed(m, error);
  }

  #changed(m: Member, position: string): void {
    m.failures = 0;
    m.quietReads = 0;
    m.reported = { position, atMs: this.#now() };
    this.#setMode(m, 'live');
    this.#events.changed(m.mailbox);
  }

  /** Every item of the page is a single event the sync holds at exactly this version. */
  #onlyOwnWrites(m: Member, value: unknown[]): boolean {
    const settled = this.#setup.positions?.settled;
    if (!settled || !this.#setup.positions?.renew) return false;
    const items: Array<{ id: string; version: string }> = [];
    for (const raw of value) {
      const e = raw as GraphEvent & { '@removed'?: unknown };
      if (!e || typeof e.id !== 'string' || e['@removed'] || (e.type !== undefined && e.type !== 'singleInstance')) return false;
      const version = versionOf(e);
      if (!version) return false;
      items.push({ id: e.id, version });
    }
    try {
      return settled.call(this.#setup.positions, m.mailbox, items);
    } catch {
      return false;
    }
  }

  #quiet(m: Member, state: GraphSyncState, deltaLink: string, renewNow = false): void {
    m.failures = 0;
    this.#setMode(m, 'live');
    m.quietReads++;
    const renew = this.#setup.positions?.renew;
    if (!renew || (m.quietReads < this.#renewAfter && !renewNow) || m.position === null) return;
    m.quietReads = 0;
    const fresh = encodeSyncState({ ...state, deltaLink: this.#setup.client.relativeUrl(deltaLink) ?? deltaLink });
    let renewed = false;
    try {
      renewed = renew.call(this.#setup.positions, m.mailbox, m.position, fresh);
    } catch {
      renewed = false;
    }
    // Not renewed: the engine stored another position meanwhile, which the next read adopts.
    if (renewed) {
      m.position = fresh;
      m.provided = fresh;
    }
  }

  #failed(m: Member, error: CalendarError): void {
    m.failures++;
    m.notBeforeMs = this.#now() + Math.min(MAX_BACKOFF_MS, this.#setup.pollIntervalMs * 2 ** Math.min(10, m.failures));
    if (m.failures >= this.#failuresBeforeOff) this.#setMode(m, 'off', TEXT.failing(error.message));
  }

  /** `untilSynced`: an 'off' that the mailbox's next sync ends (its new position turns it live). */
  #setMode(m: Member, mode: WatchMode, reason?: string, untilSynced = false): void {
    m.untilSynced = untilSynced;
    if (m.mode === mode && m.reason === reason) return;
    m.mode = mode;
    m.since = this.#iso();
    if (reason === undefined) delete m.reason;
    else m.reason = reason;
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }
}
