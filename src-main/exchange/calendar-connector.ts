import type { EventFields, RecurrenceRule, SideEvent } from '../sync/calendar-event.ts';

/**
 * What the sync engine needs from a mailbox calendar. The EWS connector (on-premises Exchange, exchange/ews/) and the
 * Microsoft Graph connector (Exchange Online, exchange/graph/) both implement it; the engine never asks which it has.
 *
 * Every method acts on behalf of one mailbox (impersonation on EWS, /users/{id} on Graph).
 * Errors are thrown as `CalendarError` with a stable `code`, so the engine can decide to retry, resync or report.
 */
export interface CalendarConnector {
  /**
   * Changes since `syncState` (null: from the beginning, every item). Series come back as one event whose
   * `fields.recurrence` and `fields.exceptions` describe the whole series. A cycle with no change costs one request.
   */
  syncChanges(mailbox: string, syncState: string | null, options?: SyncChangesOptions): Promise<CalendarChanges>;
  /**
   * Optional: a hint that `syncChanges` will be asked for these mailboxes in this cycle, so a connector that can batch
   * (Graph's $batch) reads their changes together. Never throws; what it could not read is read by syncChanges.
   */
  prefetchChanges?(requests: ReadonlyArray<{ mailbox: string; syncState: string | null }>): Promise<void>;
  /** Batch read by id. Missing ids are simply absent from the result. */
  getEvents(mailbox: string, ids: string[]): Promise<SideEvent[]>;
  /** Items that carry the sync's tag with this value (normally zero or one): finds what a crashed run created. */
  findByTag(mailbox: string, syncTag: string): Promise<SideEvent[]>;
  /** Creates without mailing anyone (SendToNone). */
  createEvent(mailbox: string, fields: EventFields, syncTag: string): Promise<WriteResult>;
  /**
   * `version` must be the version last read; a stale one throws CalendarError('conflict'). `hint` tells what the sync
   * knows of the item at that version (a connector may ignore it; see UpdateHint).
   */
  updateEvent(mailbox: string, id: string, version: string, fields: EventFields, hint?: UpdateHint): Promise<WriteResult>;
  /**
   * Optional: several creates and updates in one mailbox in as few requests as the protocol allows (EWS: one CreateItem
   * and one UpdateItem per batch, then one GetItem per batch reading them back), each result with what the server
   * stored (`WriteResult.stored`). Outcomes come in the order of `writes`; one item's failure (a refused write, a stale
   * version: 'conflict') is its own. A failure of a whole request throws. An update of a single item (no recurrence)
   * sets the fields both sides share and leaves attendees and everything else as they are.
   */
  writeEvents?(mailbox: string, writes: readonly EventWrite[]): Promise<EventWriteOutcome[]>;
  /** Moves to Deleted Items (recoverable), mails no one. Deleting an id that is already gone is not an error. */
  deleteEvent(mailbox: string, id: string): Promise<void>;
  /** Resolves a primary or secondary address to the mailbox's primary SMTP address; null when no mailbox has it. */
  resolveMailbox(email: string): Promise<string | null>;
  /**
   * Server clock minus local clock in ms, measured from the last response's HTTP Date header (or, where the server
   * sends none, estimated another way, e.g. from the sync's own writes); null while unknown.
   */
  clockOffsetMs(): number | null;
  /**
   * Optional: one plain sentence when the server answered but its clock offset is still unknown (e.g. no Date header
   * and nothing to estimate it from), saying what that means; null when the offset is known or nothing was heard yet.
   */
  clockOffsetUnknownReason?(): string | null;
  /**
   * Optional: one plain sentence when this calendar cannot hold a series with this rule (e.g. Exchange 2007 has no week
   * start for "every 2 weeks"), else null. The engine then syncs such a series' occurrences inside the window as single
   * items. A connector without it is taken to hold every valid rule.
   */
  recurrenceProblem?(rule: RecurrenceRule): string | null;
  /**
   * Optional (hybrid organizations, moved mailboxes): where the mailbox lives, as an opaque location id and a label for
   * people. `remembered` is what the caller stored last time; a connector answers from it without a request while it
   * still holds, and finds the mailbox (a request per connection) when it does not. A connector without it is one place.
   */
  locate?(mailbox: string, remembered: string | null, email?: string): Promise<MailboxLocation>;
  /**
   * Optional: starts watching mailboxes for changes (near real time). `pollIntervalMs` is how often a mailbox is polled
   * where the server cannot push. A connector without it is synced on the schedule only.
   */
  watchChanges?(events: ChangeWatchEvents, options: WatchChangesOptions): ChangeWatch;
}

export interface SyncChangesOptions {
  /**
   * The ids of the single items (not occurrences) the sync already pairs in this mailbox. A connector whose change feed
   * carries everything but the sync's tag (Graph's delta cannot expand extended properties) may take a changed item
   * with such an id from the feed as read, without reading it again by id: the tag only matters for an item the sync
   * does not pair yet (one a crashed run created, or a copy of one). Connectors that read the tag anyway (EWS) ignore it.
   */
  pairedIds?: { has(id: string): boolean };
}

/** What the sync knows of an item it updates, for a connector that would otherwise read it before the write. */
export interface UpdateHint {
  /**
   * At the version the update carries, the item was a single item (no recurrence, no exceptions) with no attendees, as
   * the sync last read or wrote it. The write carries that version (If-Match), so it only lands on that item as it
   * was; a connector may then skip reading it first (Graph reads it to refuse changing a meeting that would mail its
   * attendees, and for a series' pattern). Set only when known; absent means "read it first".
   */
  plainSingleAtVersion?: boolean;
}

export interface WatchChangesOptions {
  pollIntervalMs: number;
  /**
   * The engine's stored positions, for a connector that watches by reading changes since them (Graph delta) instead of
   * keeping positions of its own. Connectors that push or keep their own (EWS) ignore it.
   */
  positions?: WatchPositions;
}

/**
 * The sync engine's stored `syncChanges` state per mailbox, as a watch may use it: read-only, except that a read from a
 * position that found nothing may put the fresh, equivalent position it got in its place (`renew`), so a server that
 * keeps a limited number of positions per mailbox never drops the engine's while the watch reads from it.
 */
export interface WatchPositions {
  /** The mailbox's stored state, null before its first sync. */
  position(mailbox: string): string | null;
  /**
   * `next` was read from `current` with nothing in between: stores `next` in place of `current` if `current` is still
   * what is stored. Returns whether it did.
   */
  renew?(mailbox: string, current: string, next: string): boolean;
  /**
   * Optional: whether the sync already holds every one of these single items at exactly this version (typically its own
   * writes, read back). A watch may then put the position after them in place of the stored one (`renew`) instead of
   * reporting a change: reading them would change nothing.
   */
  settled?(mailbox: string, items: ReadonlyArray<{ id: string; version: string }>): boolean;
  /**
   * Optional: the connection the mailbox was last synced on (its location id, exchange-locations.ts), as the sync
   * store remembers it; lets a hybrid organization's watch start where each mailbox lives without asking again.
   */
  location?(mailbox: string): string | null;
}

/**
 * Near real time: what a connector tells about mailboxes it watches (EWS streaming notifications, or short-interval
 * polling where a server has none; Graph delta polling). It never carries the changes themselves: the caller syncs the
 * mailbox as usual, so a notification that is lost or doubled costs at most a sync, never a change.
 */
export interface ChangeWatchEvents {
  /** Something changed in this mailbox's calendar (events come in bursts: the caller debounces). */
  changed(mailbox: string): void;
  /** Notifications for this mailbox may have been missed (missed events, expired subscription, dropped connection): sync it now. */
  resync(mailbox: string, reason: string): void;
}

export type WatchMode = 'live' | 'polling' | 'off';

export interface ChangeWatch {
  /** The mailboxes to watch, all of them; called again with the whole list when enrolments change. */
  setMailboxes(mailboxes: readonly string[]): void;
  /** How each watched mailbox is watched now, with the reason when it is not 'live'. */
  modes(): Record<string, { mode: WatchMode; since: string; reason?: string }>;
  stop(): Promise<void>;
}

export interface MailboxLocation {
  /** Stable id of the Exchange connection serving the mailbox, e.g. 'ews:https://mail.contoso.com/ews/exchange.asmx'. */
  location: string;
  /** For people: 'on-premises Exchange (mail.contoso.com)', 'Exchange Online (contoso.onmicrosoft.com)'. */
  label: string;
  /** How it was decided: the admin's choice, remembered, or found by asking each connection. */
  decidedBy: 'admin' | 'remembered' | 'found';
}

export interface CalendarChanges {
  changed: SideEvent[];
  deletedIds: string[];
  syncState: string;
}

export interface WriteResult {
  id: string;
  version: string;
  lastModified: string;
  /**
   * The item as the server holds it after the write: from the write's answer where the protocol returns it, else read
   * back. Absent when the connector cannot tell (the caller then knows only what it sent).
   */
  stored?: SideEvent;
}

export type EventWrite = { kind: 'create'; fields: EventFields; syncTag: string } | ({ kind: 'update'; id: string; version: string; fields: EventFields } & UpdateHint);
export type EventWriteOutcome = { ok: true; result: WriteResult } | { ok: false; error: CalendarError };

export type CalendarErrorCode =
  | 'auth' // login failed (401) or token refused
  | 'impersonation-denied' // ErrorImpersonateUserDenied
  | 'no-mailbox' // ErrorNonExistentMailbox
  | 'conflict' // ErrorIrresolvableConflict / ErrorStaleObject: re-read and decide again
  | 'invalid-sync-state' // ErrorInvalidSyncStateData: start over without a state, keep the pairs
  | 'not-found' // ErrorItemNotFound
  | 'throttled' // ErrorServerBusy / 503 / 429; retryAfterMs when the server said
  | 'transient' // moving mailbox, store unavailable, timeouts, dropped connections, 5xx
  | 'bad-response' // a body that is not the protocol (HTML 500, malformed XML, oversize)
  | 'tls' // certificate problems
  | 'config' // the settings cannot work (bad URL, unknown host)
  | 'would-notify' // the write would mail people (Graph has no SendToNone): not made, the item is left as it is
  | 'mailbox-moved' // the mailbox now lives on another Exchange connection: ids changed, positions are void
  | 'other';

/** What the admin or user reads for an error, when the connector knows better than the generic sentence for its code. */
export interface CalendarAdvice {
  message: string;
  fix: string;
}

export class CalendarError extends Error {
  readonly code: CalendarErrorCode;
  readonly retryAfterMs: number | undefined;
  /** The server's own code, e.g. 'ErrorImpersonateUserDenied', for logs and the admin. */
  readonly serverCode: string | undefined;
  readonly advice: CalendarAdvice | undefined;
  constructor(code: CalendarErrorCode, message: string, opts: { retryAfterMs?: number; serverCode?: string; cause?: unknown; advice?: CalendarAdvice } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'CalendarError';
    this.code = code;
    this.retryAfterMs = opts.retryAfterMs;
    this.serverCode = opts.serverCode;
    this.advice = opts.advice;
  }
}
