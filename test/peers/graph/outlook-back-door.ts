/**
 * Back doors for tests: "the user in Outlook" creating, changing and deleting events in one mailbox without Graph.
 * Changes bump changeKey and lastModifiedDateTime like a real edit, show in delta, and a meeting organised here
 * (attendees given) puts copies with the same iCalUId in the attendees' calendars (isOrganizer false), as Outlook's
 * invitations do; updates and deletions of the organizer's copy follow to theirs.
 */
import type { CalendarStore, Instance } from './calendar-store.ts';
import { alignSeriesStart, contentOf } from './calendar-store.ts';
import type { DirectoryUser } from './graph-directory.ts';
import type { BodyType, EventContent, Importance, Sensitivity, ShowAs, SimEvent } from './graph-model.ts';
import { normalizePropertyId } from './graph-model.ts';
import { normalizeRecurrence } from './graph-recurrence.ts';
import { resolveZone, windowsNameOf } from './graph-time.ts';

export interface BackDoorEventInput {
  subject: string;
  /** Instants: ISO with Z or an offset (an all-day event's local midnights, e.g. 2026-12-01T00:00:00+02:00). */
  start: string;
  end: string;
  /** IANA or Windows name; default UTC. Recorded as originalStartTimeZone (IANA names as Outlook's Windows names). */
  timeZone?: string;
  isAllDay?: boolean;
  location?: string;
  body?: string;
  bodyType?: BodyType;
  sensitivity?: Sensitivity;
  showAs?: ShowAs;
  importance?: Importance;
  categories?: string[];
  /** Attendee addresses (required attendees): makes a meeting. */
  attendees?: string[];
  /** Graph's patternedRecurrence. */
  recurrence?: { pattern: Record<string, unknown>; range: Record<string, unknown> } | null;
  extendedProperties?: Array<{ id: string; value: string }>;
  uid?: string;
}

export interface GraphMailboxBackDoor {
  address: string;
  /** Masters and single events (copies). */
  list(): SimEvent[];
  get(id: string): SimEvent | undefined;
  /** What calendarView shows for [from, to). */
  view(from: string, to: string): Instance[];
  create(input: BackDoorEventInput): SimEvent;
  update(id: string, patch: Partial<BackDoorEventInput>): SimEvent;
  delete(id: string): void;
  /** Changes one occurrence of a series (it becomes an exception). */
  updateOccurrence(masterId: string, originalStart: string, patch: Partial<Omit<BackDoorEventInput, 'recurrence' | 'attendees'>>): void;
  /** Deletes one occurrence of a series. */
  cancelOccurrence(masterId: string, originalStart: string): void;
  /** The attendee accepts (or declines...) a meeting copy. */
  respond(id: string, response: SimEvent['response']): void;
}

function toContent(p: Partial<BackDoorEventInput>, base: EventContent | null): Partial<EventContent> {
  const c: Partial<EventContent> = {};
  const zoneName = p.timeZone ?? base?.startZone ?? 'UTC';
  if (!resolveZone(zoneName)) throw new Error(`Unknown time zone '${zoneName}'`);
  const at = (v: string): number => {
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw new Error(`'${v}' is not an instant (use ISO with Z or an offset)`);
    return t;
  };
  if (p.subject !== undefined) c.subject = p.subject;
  if (p.start !== undefined) c.startMs = at(p.start);
  if (p.end !== undefined) c.endMs = at(p.end);
  if (p.timeZone !== undefined || !base) {
    c.startZone = windowsNameOf(zoneName);
    c.endZone = windowsNameOf(zoneName);
  }
  if (p.isAllDay !== undefined) c.isAllDay = p.isAllDay;
  if (p.location !== undefined) c.location = p.location;
  if (p.body !== undefined) {
    c.body = p.body;
    c.bodyType = p.bodyType ?? (/^\s*<(html|p|div)/i.test(p.body) ? 'html' : 'text');
  }
  if (p.sensitivity !== undefined) c.sensitivity = p.sensitivity;
  if (p.showAs !== undefined) c.showAs = p.showAs;
  if (p.importance !== undefined) c.importance = p.importance;
  if (p.categories !== undefined) c.categories = [...p.categories];
  if (p.attendees !== undefined) c.attendees = p.attendees.map((a) => ({ type: 'required', address: a.toLowerCase(), name: '', response: 'none' }));
  if (p.extendedProperties !== undefined) {
    const list = (base?.extendedProperties ?? []).map((x) => ({ ...x }));
    for (const x of p.extendedProperties) {
      const id = normalizePropertyId(x.id);
      const hit = list.find((y) => y.id === id);
      if (hit) hit.value = x.value;
      else list.push({ id, value: x.value });
    }
    c.extendedProperties = list;
  }
  return c;
}

export function mailboxBackDoor(store: CalendarStore, user: DirectoryUser): GraphMailboxBackDoor {
  const cal = store.calendarOf(user);
  if (!cal) throw new Error(`${user.mail} has no Exchange Online mailbox in the Graph simulator`);
  const find = (id: string): SimEvent => {
    const hit = cal.resolve(id);
    if (typeof hit === 'string' || hit.originalStartMs !== null) throw new Error(`No event ${id} in ${user.mail}`);
    return hit.event;
  };
  return {
    address: user.mail,
    list: () => cal.items().map((e) => structuredClone(e)),
    get: (id) => {
      const hit = cal.resolve(id);
      return typeof hit === 'string' ? undefined : structuredClone(hit.event);
    },
    view: (from, to) => cal.view(Date.parse(from), Date.parse(to)),
    create: (input) => {
      const c = toContent(input, null);
      const content: EventContent = {
        subject: input.subject,
        bodyType: c.bodyType ?? 'text',
        body: c.body ?? '',
        startMs: c.startMs!,
        endMs: c.endMs!,
        startZone: c.startZone!,
        endZone: c.endZone!,
        isAllDay: input.isAllDay ?? false,
        location: input.location ?? '',
        sensitivity: input.sensitivity ?? 'normal',
        showAs: input.showAs ?? 'busy',
        importance: input.importance ?? 'normal',
        categories: input.categories ?? [],
        isReminderOn: true,
        reminderMinutesBeforeStart: 15,
        attendees: c.attendees ?? [],
        extendedProperties: c.extendedProperties ?? [],
      };
      const recurrence = input.recurrence ? normalizeRecurrence(input.recurrence, content.startZone) : null;
      return structuredClone(store.create(cal, content, { uid: input.uid, recurrence, nowMs: Date.now(), via: 'outlook', attendeeResponse: 'notResponded' }));
    },
    update: (id, patch) => {
      const e = find(id);
      const before = contentOf(e);
      const attendeesBefore = e.attendees.map((a) => a.address);
      Object.assign(e, toContent(patch, before));
      if (patch.recurrence !== undefined) {
        e.recurrence = patch.recurrence ? normalizeRecurrence(patch.recurrence, e.startZone) : null;
        e.exceptions = [];
        e.cancelledOccurrences = [];
        // As the API's PATCH and a create do: a series starts on its first occurrence.
        alignSeriesStart(e);
      }
      cal.touch(e, Date.now());
      store.propagate(e, attendeesBefore, 'outlook', Date.now());
      return structuredClone(e);
    },
    delete: (id) => store.delete(cal, find(id), 'outlook', Date.now()),
    updateOccurrence: (masterId, originalStart, patch) => {
      const e = find(masterId);
      const os = Date.parse(originalStart);
      if (!cal.occurrence(e, os)) throw new Error(`${originalStart} is not an occurrence of ${e.subject}`);
      store.updateOccurrence(cal, e, os, toContent(patch, cal.occurrence(e, os)!.content), 'outlook', Date.now());
    },
    cancelOccurrence: (masterId, originalStart) => {
      const e = find(masterId);
      store.cancelOccurrence(cal, e, Date.parse(originalStart), 'outlook', Date.now());
    },
    respond: (id, response) => {
      const e = find(id);
      e.response = response;
      e.responseTimeMs = Date.now();
      if (response === 'accepted') e.showAs = 'busy';
      cal.touch(e, Date.now());
    },
  };
}
