/**
 * The calendars of every mailbox: events, series with their exceptions and cancelled occurrences, the instances a
 * calendar view shows, and what Exchange does around meetings (an organizer's meeting puts copies with the same UID in
 * the attendees' calendars; updates and cancellations follow). Every change bumps the item's version and changeKey and the
 * mailbox's change counter, which delta sync states are compared against. Mails that would have gone out are logged.
 */
import type { Directory, DirectoryUser } from './graph-directory.ts';
import type { EventContent, SimEvent, SimException } from './graph-model.ts';
import { changeKeyFor, eventId, newOutlookUid, occurrenceId, parseId } from './graph-model.ts';
import type { PatternedRecurrence } from './graph-recurrence.ts';
import { expandOccurrences, firstOccurrence, isOccurrence } from './graph-recurrence.ts';
import { resolveZone } from './graph-time.ts';

export type InstanceType = 'singleInstance' | 'seriesMaster' | 'occurrence' | 'exception';

/** One event as the API shows it: a single event, a master, or one occurrence / exception of a series. */
export interface Instance {
  type: InstanceType;
  id: string;
  master: SimEvent;
  originalStartMs: number | null;
  content: EventContent;
  changeKey: string;
  /** Changes whenever what the API shows for this instance may have changed (for delta). */
  stamp: string;
  createdMs: number;
  modifiedMs: number;
}

export interface MailRecord {
  kind: 'invitation' | 'update' | 'cancellation';
  from: string;
  to: string;
  subject: string;
  uid: string;
  /** 'graph' when a Graph request caused it, 'outlook' for the back doors and the seed. */
  via: 'graph' | 'outlook';
}

export interface SyncStateData {
  id: string;
  window: [number, number];
  /** Mailbox change counter when the state was made. */
  seq: number;
  /** Instance id -> stamp the client has seen. */
  seen: Record<string, string>;
  /** Remaining pages of an unfinished round, or null for a delta token. */
  pending: unknown[] | null;
  createdMs: number;
}

export const COPY_FIELDS: Array<keyof EventContent> = ['subject', 'bodyType', 'body', 'startMs', 'endMs', 'startZone', 'endZone', 'isAllDay', 'location', 'sensitivity', 'attendees'];

export class MailboxCalendar {
  readonly events = new Map<number, SimEvent>();
  nextNumber = 1;
  seq = 0;
  readonly transactionIds = new Map<string, number>();
  /** Delta sync states in age order (oldest first); the delta module manages them. */
  readonly syncStates = new Map<string, SyncStateData>();
  /** Ids (and when) of events deleted, for delta's "changed outside the window" reports. */
  readonly tombstones: Array<{ id: string; seq: number }> = [];

  readonly user: DirectoryUser;
  constructor(user: DirectoryUser) {
    this.user = user;
  }

  get guid(): string {
    return this.user.id;
  }

  touch(e: SimEvent, nowMs: number): void {
    e.version++;
    e.changeKey = changeKeyFor(this.guid, e.number, e.version);
    e.modifiedMs = nowMs;
    e.lastSeq = ++this.seq;
  }

  add(content: EventContent, opts: { uid?: string; organizerAddress?: string; organizerName?: string; isOrganizer?: boolean; response?: SimEvent['response']; recurrence?: PatternedRecurrence | null; transactionId?: string | null; nowMs: number }): SimEvent {
    const number = this.nextNumber++;
    const e: SimEvent = {
      ...structuredClone(content),
      number,
      id: eventId(this.guid, number),
      version: 0,
      changeKey: '',
      uid: opts.uid ?? newOutlookUid(`${this.guid}|${number}|${opts.nowMs}|${Math.random()}`),
      organizerAddress: opts.organizerAddress ?? this.user.mail,
      organizerName: opts.organizerName ?? this.user.displayName,
      isOrganizer: opts.isOrganizer ?? true,
      response: opts.response ?? 'organizer',
      responseTimeMs: null,
      recurrence: opts.recurrence ?? null,
      exceptions: [],
      cancelledOccurrences: [],
      transactionId: opts.transactionId ?? null,
      isCancelled: false,
      createdMs: opts.nowMs,
      modifiedMs: opts.nowMs,
      lastSeq: 0,
    };
    if (e.recurrence) alignSeriesStart(e);
    this.touch(e, opts.nowMs);
    this.events.set(number, e);
    if (e.transactionId) this.transactionIds.set(e.transactionId, number);
    return e;
  }

  remove(e: SimEvent): void {
    this.events.delete(e.number);
    if (e.transactionId) this.transactionIds.delete(e.transactionId);
    this.tombstones.push({ id: e.id, seq: ++this.seq });
    if (this.tombstones.length > 10_000) this.tombstones.splice(0, this.tombstones.length - 10_000);
  }

  /** Resolves an event or occurrence id of this mailbox. */
  resolve(id: string): { event: SimEvent; originalStartMs: number | null } | 'malformed' | 'notFound' {
    const p = parseId(id);
    if (!p) return 'malformed';
    if (p.mailboxGuid !== this.guid) return 'notFound';
    const event = this.events.get(p.number);
    if (!event) return 'notFound';
    if (p.kind === 'event') return { event, originalStartMs: null };
    if (!event.recurrence || event.cancelledOccurrences.includes(p.originalStartMs)) return 'notFound';
    if (!event.exceptions.some((x) => x.originalStartMs === p.originalStartMs) && !isOccurrence(event.recurrence, timingOf(event), p.originalStartMs)) return 'notFound';
    return { event, originalStartMs: p.originalStartMs };
  }

  /** The master or single event itself as an instance. */
  itemInstance(e: SimEvent): Instance {
    return {
      type: e.recurrence ? 'seriesMaster' : 'singleInstance',
      id: e.id,
      master: e,
      originalStartMs: null,
      content: contentOf(e),
      changeKey: e.changeKey,
      stamp: String(e.version),
      createdMs: e.createdMs,
      modifiedMs: e.modifiedMs,
    };
  }

  /** One occurrence or exception of a series (null when cancelled). */
  occurrence(e: SimEvent, originalStartMs: number): Instance | null {
    if (!e.recurrence || e.cancelledOccurrences.includes(originalStartMs)) return null;
    const x = e.exceptions.find((ex) => ex.originalStartMs === originalStartMs);
    const duration = e.endMs - e.startMs;
    const base = { ...contentOf(e), startMs: originalStartMs, endMs: originalStartMs + duration };
    return {
      type: x ? 'exception' : 'occurrence',
      id: occurrenceId(this.guid, e.number, originalStartMs),
      master: e,
      originalStartMs,
      content: x ? { ...base, ...structuredClone(x.overrides) } : base,
      changeKey: x ? changeKeyFor(this.guid, e.number, e.version, `${originalStartMs}:${x.version}`) : changeKeyFor(this.guid, e.number, e.version, String(originalStartMs)),
      stamp: `${e.version}:${x?.version ?? 0}`,
      createdMs: x?.createdMs ?? e.createdMs,
      modifiedMs: x ? Math.max(x.modifiedMs, e.modifiedMs) : e.modifiedMs,
    };
  }

  /** A series' occurrences and exceptions overlapping [fromMs, toMs), by start. */
  seriesInstances(e: SimEvent, fromMs: number, toMs: number): Instance[] {
    if (!e.recurrence) return [];
    const starts = new Set(expandOccurrences(e.recurrence, timingOf(e), fromMs - 86_400_000 * 7, toMs + 86_400_000 * 7));
    for (const x of e.exceptions) starts.add(x.originalStartMs);
    const out: Instance[] = [];
    for (const s of starts) {
      const inst = this.occurrence(e, s);
      if (inst && overlaps(inst.content, fromMs, toMs)) out.push(inst);
    }
    return out.sort(byStart);
  }

  /** What GET calendarView shows: singles and expanded series overlapping [fromMs, toMs), by start. */
  view(fromMs: number, toMs: number): Instance[] {
    const out: Instance[] = [];
    for (const e of this.events.values()) {
      if (e.recurrence) out.push(...this.seriesInstances(e, fromMs, toMs));
      else if (overlaps(e, fromMs, toMs)) out.push(this.itemInstance(e));
    }
    return out.sort(byStart);
  }

  /** Masters and singles (GET /events lists these, not occurrences). */
  items(): SimEvent[] {
    return [...this.events.values()].sort((a, b) => a.startMs - b.startMs || a.number - b.number);
  }

  findByUid(uid: string): SimEvent | undefined {
    return [...this.events.values()].find((e) => e.uid === uid);
  }
}

export function contentOf(e: SimEvent): EventContent {
  const { subject, bodyType, body, startMs, endMs, startZone, endZone, isAllDay, location, sensitivity, showAs, importance, categories, isReminderOn, reminderMinutesBeforeStart, attendees, extendedProperties } = e;
  return structuredClone({ subject, bodyType, body, startMs, endMs, startZone, endZone, isAllDay, location, sensitivity, showAs, importance, categories, isReminderOn, reminderMinutesBeforeStart, attendees, extendedProperties });
}

export function timingOf(e: SimEvent): { startMs: number; durationMs: number; zone: string } {
  return { startMs: e.startMs, durationMs: e.endMs - e.startMs, zone: resolveZone(e.recurrence?.range.recurrenceTimeZone ?? e.startZone) ?? resolveZone(e.startZone) ?? 'UTC' };
}

/** A series starts on its first occurrence (Outlook moves the master there). */
export function alignSeriesStart(e: SimEvent): void {
  if (!e.recurrence) return;
  const first = firstOccurrence(e.recurrence, timingOf(e));
  if (first === null) return;
  const duration = e.endMs - e.startMs;
  e.startMs = first;
  e.endMs = first + duration;
}

export function overlaps(c: { startMs: number; endMs: number }, fromMs: number, toMs: number): boolean {
  if (c.startMs === c.endMs) return c.startMs >= fromMs && c.startMs < toMs;
  return c.startMs < toMs && c.endMs > fromMs;
}

const byStart = (a: Instance, b: Instance): number => a.content.startMs - b.content.startMs || a.id.localeCompare(b.id);

/**
 * All mailboxes, and what Exchange does between them for meetings. Copies are found by UID in the attendees' mailboxes;
 * only the organizer's copy drives them (attendee copies are changed by the attendee alone).
 */
export class CalendarStore {
  readonly calendars = new Map<string, MailboxCalendar>();
  readonly mail: MailRecord[] = [];

  readonly directory: Directory;
  constructor(directory: Directory) {
    this.directory = directory;
    // A mailbox moving or moved away keeps its calendar object (so its ids are never reused when it comes back).
    for (const u of directory.users) if (u.mailboxState !== 'none') this.calendars.set(u.id, new MailboxCalendar(u));
  }

  calendarOf(user: DirectoryUser): MailboxCalendar | null {
    return this.calendars.get(user.id) ?? null;
  }

  private send(kind: MailRecord['kind'], organizer: SimEvent, to: string, via: MailRecord['via']): void {
    this.mail.push({ kind, from: organizer.organizerAddress, to, subject: organizer.subject, uid: organizer.uid, via });
  }

  private attendeeCalendars(e: SimEvent): Array<{ address: string; cal: MailboxCalendar | null }> {
    return e.attendees
      .filter((a) => a.address.toLowerCase() !== e.organizerAddress.toLowerCase())
      .map((a) => {
        const u = this.directory.userByAnyAddress(a.address);
        return { address: a.address, cal: u ? this.calendarOf(u) : null };
      });
  }

  /** A new event; a meeting made by its organizer invites the attendees (their copies appear, a mail is logged). */
  create(cal: MailboxCalendar, content: EventContent, opts: Parameters<MailboxCalendar['add']>[1] & { via: MailRecord['via']; attendeeResponse?: SimEvent['response'] }): SimEvent {
    const e = cal.add(content, opts);
    if (e.isOrganizer) for (const t of this.attendeeCalendars(e)) this.invite(e, t.address, t.cal, opts.via, opts.attendeeResponse ?? 'notResponded', opts.nowMs);
    return e;
  }

  private invite(org: SimEvent, address: string, cal: MailboxCalendar | null, via: MailRecord['via'], response: SimEvent['response'], nowMs: number): void {
    this.send('invitation', org, address, via);
    if (!cal || cal.findByUid(org.uid)) return;
    this.addCopy(org, cal, response, nowMs);
  }

  /** The attendee's copy of `org`, as an invitation (or an update after they removed theirs) puts it in their calendar. */
  private addCopy(org: SimEvent, cal: MailboxCalendar, response: SimEvent['response'], nowMs: number): void {
    const c = contentOf(org);
    const copy = cal.add(
      { ...c, extendedProperties: [], categories: [], showAs: response === 'accepted' ? org.showAs : 'tentative', isReminderOn: true, reminderMinutesBeforeStart: 15 },
      { uid: org.uid, organizerAddress: org.organizerAddress, organizerName: org.organizerName, isOrganizer: false, response, recurrence: structuredClone(org.recurrence), nowMs },
    );
    copy.exceptions = org.exceptions.map((x) => ({ ...structuredClone(x), overrides: stripPrivate(x.overrides) }));
    copy.cancelledOccurrences = [...org.cancelledOccurrences];
    copy.responseTimeMs = response === 'accepted' ? nowMs : null;
  }

  /**
   * After the organizer changed `org` (already applied and touched): copies follow, mails are logged. `attendeesBefore`
   * tells who was invited before, so added attendees get invitations and removed ones cancellations.
   */
  propagate(org: SimEvent, attendeesBefore: string[], via: MailRecord['via'], nowMs: number, notify = true): void {
    if (!org.isOrganizer) return;
    const now = new Set(org.attendees.map((a) => a.address.toLowerCase()));
    const before = new Set(attendeesBefore.map((a) => a.toLowerCase()));
    for (const t of this.attendeeCalendars(org)) {
      if (!before.has(t.address.toLowerCase())) {
        this.invite(org, t.address, t.cal, via, 'notResponded', nowMs);
        continue;
      }
      if (notify) this.send('update', org, t.address, via);
      const copy = t.cal?.findByUid(org.uid);
      if (!t.cal) continue;
      if (!copy) {
        // An attendee who removed the meeting from their calendar (without declining) gets it again with the update.
        if (notify) this.addCopy(org, t.cal, 'notResponded', nowMs);
        continue;
      }
      const c = contentOf(org);
      for (const f of COPY_FIELDS) (copy as unknown as Record<string, unknown>)[f] = structuredClone(c[f]);
      copy.recurrence = structuredClone(org.recurrence);
      copy.exceptions = org.exceptions.map((x) => ({ ...structuredClone(x), overrides: stripPrivate(x.overrides) }));
      copy.cancelledOccurrences = [...org.cancelledOccurrences];
      copy.isCancelled = false;
      t.cal.touch(copy, nowMs);
    }
    for (const gone of before) {
      if (now.has(gone) || gone === org.organizerAddress.toLowerCase()) continue;
      this.cancelCopy(org, gone, via, nowMs);
    }
  }

  private cancelCopy(org: SimEvent, address: string, via: MailRecord['via'], nowMs: number): void {
    this.send('cancellation', org, address, via);
    const u = this.directory.userByAnyAddress(address);
    const cal = u ? this.calendarOf(u) : null;
    const copy = cal?.findByUid(org.uid);
    if (!cal || !copy || copy.isCancelled) return;
    copy.isCancelled = true;
    copy.subject = copy.subject.startsWith('Canceled: ') ? copy.subject : `Canceled: ${copy.subject}`;
    cal.touch(copy, nowMs);
  }

  /** Deleting an organizer's meeting cancels it for every attendee. */
  delete(cal: MailboxCalendar, e: SimEvent, via: MailRecord['via'], nowMs: number): void {
    cal.remove(e);
    if (e.isOrganizer) for (const a of e.attendees) if (a.address.toLowerCase() !== e.organizerAddress.toLowerCase()) this.cancelCopy(e, a.address, via, nowMs);
  }

  /** Makes (or changes) an exception of one occurrence. */
  updateOccurrence(cal: MailboxCalendar, e: SimEvent, originalStartMs: number, overrides: Partial<EventContent>, via: MailRecord['via'], nowMs: number): void {
    let x: SimException | undefined = e.exceptions.find((ex) => ex.originalStartMs === originalStartMs);
    if (!x) {
      x = { originalStartMs, overrides: {}, version: 0, createdMs: nowMs, modifiedMs: nowMs };
      e.exceptions.push(x);
    }
    Object.assign(x.overrides, structuredClone(overrides));
    x.version++;
    x.modifiedMs = nowMs;
    cal.touch(e, nowMs);
    this.propagate(e, e.attendees.map((a) => a.address), via, nowMs);
  }

  /** Deletes one occurrence (it joins the cancelled occurrences; attendees get a cancellation of that occurrence). */
  cancelOccurrence(cal: MailboxCalendar, e: SimEvent, originalStartMs: number, via: MailRecord['via'], nowMs: number): void {
    e.exceptions = e.exceptions.filter((x) => x.originalStartMs !== originalStartMs);
    if (!e.cancelledOccurrences.includes(originalStartMs)) e.cancelledOccurrences.push(originalStartMs);
    e.cancelledOccurrences.sort((a, b) => a - b);
    cal.touch(e, nowMs);
    this.propagate(e, e.attendees.map((a) => a.address), via, nowMs);
  }
}

/** What an attendee's copy of an exception carries: not the organizer's own tags. */
function stripPrivate(o: Partial<EventContent>): Partial<EventContent> {
  const { extendedProperties: _x, categories: _c, ...rest } = structuredClone(o);
  return rest;
}
