import type { EventFields, RecurrenceRule, SideEvent } from '../../../src-main/sync/calendar-event.ts';
import { CalendarError, type CalendarChanges, type CalendarConnector, type SyncChangesOptions, type UpdateHint, type WriteResult } from '../../../src-main/exchange/calendar-connector.ts';
import { FaultPlan } from './fault-plan.ts';

/**
 * An in-memory Exchange with the CalendarConnector's semantics: a change log per mailbox behind an opaque sync state,
 * ChangeKey-like versions checked on update (stale -> 'conflict'), deletions reported once, items the sync creates
 * tagged, meetings sharing a UID across mailboxes, aliases resolving to the primary address.
 */

interface Mailbox {
  primary: string;
  aliases: string[];
  items: Map<string, SideEvent>;
  log: Array<{ seq: number; id: string }>;
  deleted: SideEvent[];
  /** Sync states older than this are refused (ErrorInvalidSyncStateData). */
  minValidSeq: number;
  failWith?: () => Error;
}

export const fields = (over: Partial<EventFields> & Pick<EventFields, 'subject' | 'start' | 'end'>): EventFields => ({
  isAllDay: false,
  timeZone: 'Europe/Helsinki',
  location: '',
  body: '',
  isPrivate: false,
  recurrence: null,
  exceptions: [],
  attendees: [],
  organizer: null,
  ...over,
});

export class FakeCalendar implements CalendarConnector {
  readonly faults: FaultPlan;
  readonly now: () => Date;
  private readonly boxes = new Map<string, Mailbox>();
  private seq = 0;
  private idSeq = 0;
  calls: Record<string, number> = {};
  callsByMailbox: Record<string, number> = {};
  /** Each updateEvent's id and hint (UpdateHint), in order. */
  updateHints: Array<{ id: string; hint: UpdateHint | undefined }> = [];
  /** Each syncChanges's options, in order. */
  syncChangesOptions: Array<SyncChangesOptions | undefined> = [];
  offsetMs: number | null = 0;
  /** As Exchange Online: an organizer's meeting with attendees cannot change or go without mailing them ('would-notify'). */
  refuseNotifyingWrites = false;
  /**
   * As EWS's SyncFolderItems (and any change feed of net changes): an item created after a sync state and deleted again
   * before the next read is reported by neither.
   */
  netChanges = false;
  /** Sequence number at which each item was created. */
  private readonly createdAt = new Map<string, number>();
  /** As Graph's calendarView: a full read (no sync state) lists only what this says is in its window. */
  fullReadLists: (e: SideEvent) => boolean = () => true;
  private readonly ruleProblem: (rule: RecurrenceRule) => string | null;
  /** Item ids start with this (another server's ids differ). */
  private readonly idPrefix: string;

  /** `recurrenceProblem`: the rules this calendar cannot hold as series (default: it holds every rule). */
  constructor(opts: { mailboxes: Array<{ primary: string; aliases?: string[] }>; now: () => Date; faults?: FaultPlan; recurrenceProblem?: (rule: RecurrenceRule) => string | null; idPrefix?: string }) {
    this.now = opts.now;
    this.ruleProblem = opts.recurrenceProblem ?? (() => null);
    this.idPrefix = opts.idPrefix ?? 'X';
    this.faults = opts.faults ?? new FaultPlan();
    for (const m of opts.mailboxes) {
      this.boxes.set(m.primary.toLowerCase(), { primary: m.primary.toLowerCase(), aliases: (m.aliases ?? []).map((a) => a.toLowerCase()), items: new Map(), log: [], deleted: [], minValidSeq: 0 });
    }
  }

  private count(method: string, mailbox?: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    if (mailbox) this.callsByMailbox[mailbox] = (this.callsByMailbox[mailbox] ?? 0) + 1;
  }

  totalCalls(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  writeCalls(): number {
    return ['createEvent', 'updateEvent', 'deleteEvent'].reduce((n, m) => n + (this.calls[m] ?? 0), 0);
  }

  resetCalls(): void {
    this.calls = {};
    this.callsByMailbox = {};
  }

  private box(mailbox: string): Mailbox {
    const b = this.boxes.get(mailbox.toLowerCase());
    if (!b) throw new CalendarError('no-mailbox', `no mailbox ${mailbox}`, { serverCode: 'ErrorNonExistentMailbox' });
    if (b.failWith) throw b.failWith();
    return b;
  }

  private touch(b: Mailbox, id: string): void {
    b.log.push({ seq: ++this.seq, id });
  }

  private stamp(): string {
    return this.now().toISOString();
  }

  // ---- back doors: a user working in Outlook ----------------------------------------------------------------------------

  userCreate(mailbox: string, f: EventFields, opts: { uid?: string; syncTag?: string } = {}): SideEvent {
    const b = this.boxes.get(mailbox.toLowerCase())!;
    const id = `${this.idPrefix}${++this.idSeq}`;
    const e: SideEvent = { id, version: `ck${++this.seq}`, lastModified: this.stamp(), fields: structuredClone(f), uid: opts.uid ?? `uid-${id}` };
    if (opts.syncTag) e.syncTag = opts.syncTag;
    b.items.set(id, e);
    this.touch(b, id);
    this.createdAt.set(id, this.seq);
    return structuredClone(e);
  }

  /** A meeting organised in one mailbox, with copies (same UID) in the attendees' mailboxes. */
  userMeeting(organizer: string, attendees: string[], f: Omit<EventFields, 'organizer' | 'attendees'>): SideEvent[] {
    const uid = `meeting-${++this.idSeq}`;
    const full = { ...f, organizer: organizer.toLowerCase(), attendees: attendees.map((a) => a.toLowerCase()) };
    return [organizer, ...attendees].filter((m) => this.boxes.has(m.toLowerCase())).map((m) => this.userCreate(m, full, { uid }));
  }

  userUpdate(mailbox: string, id: string, change: Partial<EventFields>): SideEvent {
    const b = this.boxes.get(mailbox.toLowerCase())!;
    const e = b.items.get(id)!;
    e.fields = { ...e.fields, ...structuredClone(change) };
    e.version = `ck${++this.seq}`;
    e.lastModified = this.stamp();
    this.touch(b, id);
    return structuredClone(e);
  }

  userDelete(mailbox: string, id: string): void {
    const b = this.boxes.get(mailbox.toLowerCase())!;
    const e = b.items.get(id);
    if (!e) return;
    b.items.delete(id);
    b.deleted.push(e);
    this.touch(b, id);
  }

  /** A mailbox arriving on this server (the target of a move), empty. */
  addMailbox(primary: string, aliases: string[] = []): void {
    this.boxes.set(primary.toLowerCase(), { primary: primary.toLowerCase(), aliases: aliases.map((a) => a.toLowerCase()), items: new Map(), log: [], deleted: [], minValidSeq: 0 });
  }

  /**
   * Moves a mailbox to another server, as Exchange's mailbox moves do: every item arrives under a new id and version,
   * with its fields, UID and sync tag kept; the mailbox is gone from here. Returns old id -> new id.
   */
  moveMailboxTo(target: FakeCalendar, mailbox: string, opts: { dropUids?: boolean } = {}): Map<string, string> {
    const b = this.boxes.get(mailbox.toLowerCase())!;
    target.addMailbox(b.primary, b.aliases);
    const ids = new Map<string, string>();
    for (const e of b.items.values()) {
      const copy = target.userCreate(b.primary, e.fields, { ...(opts.dropUids ? {} : { uid: e.uid }), ...(e.syncTag ? { syncTag: e.syncTag } : {}) });
      ids.set(e.id, copy.id);
    }
    this.boxes.delete(b.primary);
    return ids;
  }

  items(mailbox: string): SideEvent[] {
    return [...this.boxes.get(mailbox.toLowerCase())!.items.values()].map((e) => structuredClone(e));
  }

  bySubject(mailbox: string, subject: string): SideEvent[] {
    return this.items(mailbox).filter((e) => e.fields.subject === subject);
  }

  invalidateSyncStates(mailbox: string): void {
    const b = this.boxes.get(mailbox.toLowerCase())!;
    b.minValidSeq = this.seq + 1;
  }

  failMailbox(mailbox: string, error: (() => Error) | undefined): void {
    this.boxes.get(mailbox.toLowerCase())!.failWith = error;
  }

  // ---- the connector ----------------------------------------------------------------------------------------------------

  async syncChanges(mailbox: string, syncState: string | null, options?: SyncChangesOptions): Promise<CalendarChanges> {
    this.count('syncChanges', mailbox);
    this.syncChangesOptions.push(options);
    this.faults.at('syncChanges', 'before', mailbox);
    const b = this.box(mailbox);
    if (syncState === null) return { changed: [...b.items.values()].filter(this.fullReadLists).map((e) => structuredClone(e)), deletedIds: [], syncState: `seq:${this.seq}` };
    const m = /^seq:(\d+)$/.exec(syncState);
    if (!m || Number(m[1]) < b.minValidSeq - 1) throw new CalendarError('invalid-sync-state', 'ErrorInvalidSyncStateData', { serverCode: 'ErrorInvalidSyncStateData' });
    const since = Number(m[1]);
    const touched = new Set(b.log.filter((l) => l.seq > since).map((l) => l.id));
    const changed: SideEvent[] = [];
    const deletedIds: string[] = [];
    for (const id of touched) {
      const e = b.items.get(id);
      if (e) changed.push(structuredClone(e));
      else if (!(this.netChanges && (this.createdAt.get(id) ?? 0) > since)) deletedIds.push(id);
    }
    return { changed, deletedIds, syncState: `seq:${this.seq}` };
  }

  async getEvents(mailbox: string, ids: string[]): Promise<SideEvent[]> {
    this.count('getEvents', mailbox);
    this.faults.at('getEvents', 'before', mailbox);
    const b = this.box(mailbox);
    return ids.map((id) => b.items.get(id)).filter((e): e is SideEvent => !!e).map((e) => structuredClone(e));
  }

  async findByTag(mailbox: string, syncTag: string): Promise<SideEvent[]> {
    this.count('findByTag', mailbox);
    this.faults.at('findByTag', 'before', mailbox);
    const b = this.box(mailbox);
    return [...b.items.values()].filter((e) => e.syncTag === syncTag).map((e) => structuredClone(e));
  }

  async createEvent(mailbox: string, f: EventFields, syncTag: string): Promise<WriteResult> {
    this.count('createEvent', mailbox);
    this.faults.at('createEvent', 'before', mailbox);
    this.box(mailbox);
    const e = this.userCreate(mailbox, f, { syncTag });
    this.faults.at('createEvent', 'after', mailbox);
    return { id: e.id, version: e.version, lastModified: e.lastModified };
  }

  async updateEvent(mailbox: string, id: string, version: string, f: EventFields, hint?: UpdateHint): Promise<WriteResult> {
    this.count('updateEvent', mailbox);
    this.updateHints.push({ id, hint });
    this.faults.at('updateEvent', 'before', mailbox);
    const b = this.box(mailbox);
    const e = b.items.get(id);
    if (!e) throw new CalendarError('not-found', `no item ${id}`, { serverCode: 'ErrorItemNotFound' });
    if (e.version !== version) throw new CalendarError('conflict', 'stale ChangeKey', { serverCode: 'ErrorIrresolvableConflict' });
    this.refuseNotifying(b, e);
    const updated = this.userUpdate(mailbox, id, f);
    this.faults.at('updateEvent', 'after', mailbox);
    return { id, version: updated.version, lastModified: updated.lastModified };
  }

  async deleteEvent(mailbox: string, id: string): Promise<void> {
    this.count('deleteEvent', mailbox);
    this.faults.at('deleteEvent', 'before', mailbox);
    const b = this.box(mailbox);
    const e = b.items.get(id);
    if (e) this.refuseNotifying(b, e);
    this.userDelete(mailbox, id);
    this.faults.at('deleteEvent', 'after', mailbox);
  }

  private refuseNotifying(b: Mailbox, e: SideEvent): void {
    if (!this.refuseNotifyingWrites || e.fields.attendees.length === 0 || e.fields.organizer !== b.primary) return;
    throw new CalendarError('would-notify', 'would mail the attendees', {
      advice: { message: `A meeting in the calendar of ${b.primary} has attendees: changing or deleting it would mail them, so the sync left it as it is.`, fix: 'Change or delete the meeting in Outlook.' },
    });
  }

  async resolveMailbox(email: string): Promise<string | null> {
    this.count('resolveMailbox');
    this.faults.at('resolveMailbox', 'before');
    const e = email.toLowerCase();
    for (const b of this.boxes.values()) if (b.primary === e || b.aliases.includes(e)) return b.primary;
    return null;
  }

  clockOffsetMs(): number | null {
    return this.offsetMs;
  }

  recurrenceProblem(rule: RecurrenceRule): string | null {
    return this.ruleProblem(rule);
  }
}
