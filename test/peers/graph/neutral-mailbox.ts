/**
 * The Graph simulator's side of moving mailboxes: exportMailbox() writes one calendar as the neutral shape
 * (common/neutral-mailbox.ts), importMailbox() adds a neutral mailbox's items to a calendar here under new ids, keeping
 * UIDs, times, zones, recurrence, exceptions, cancelled occurrences, extended properties, created and last-modified times,
 * and mailing no one. The EWS simulator's items convert with common/neutral-ews-items.ts (re-exported here).
 */
import type { CalendarStore } from './calendar-store.ts';
import type { DirectoryUser } from './graph-directory.ts';
import type { EventContent } from './graph-model.ts';
import { normalizePropertyId } from './graph-model.ts';
import { normalizeRecurrence } from './graph-recurrence.ts';
import { resolveZone } from './graph-time.ts';
import type { NeutralException, NeutralItem, NeutralMailbox } from '../common/neutral-mailbox.ts';
import { assertNeutralMailbox, neutralMs as ms } from '../common/neutral-mailbox.ts';

export type { NeutralException, NeutralItem, NeutralMailbox } from '../common/neutral-mailbox.ts';
export type { EwsLikeItem } from '../common/neutral-ews-items.ts';
export { neutralFromEwsItems } from '../common/neutral-ews-items.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

export function exportMailbox(store: CalendarStore, user: DirectoryUser): NeutralMailbox {
  const cal = store.calendarOf(user);
  const items: NeutralItem[] = [];
  for (const e of cal?.items() ?? []) {
    items.push({
      id: e.id,
      uid: e.uid,
      subject: e.subject,
      body: e.body,
      bodyType: e.bodyType,
      start: iso(e.startMs),
      end: iso(e.endMs),
      timeZone: e.startZone,
      isAllDay: e.isAllDay,
      location: e.location,
      sensitivity: e.sensitivity,
      showAs: e.showAs,
      importance: e.importance,
      categories: [...e.categories],
      isReminderOn: e.isReminderOn,
      reminderMinutesBeforeStart: e.reminderMinutesBeforeStart,
      organizer: { address: e.organizerAddress, name: e.organizerName },
      isOrganizer: e.isOrganizer,
      response: e.response,
      attendees: structuredClone(e.attendees),
      recurrence: structuredClone(e.recurrence),
      exceptions: e.exceptions.map((x) => {
        const o = x.overrides;
        const out: NeutralException = { originalStart: iso(x.originalStartMs) };
        if (o.subject !== undefined) out.subject = o.subject;
        if (o.body !== undefined) out.body = o.body;
        if (o.bodyType !== undefined) out.bodyType = o.bodyType;
        if (o.startMs !== undefined) out.start = iso(o.startMs);
        if (o.endMs !== undefined) out.end = iso(o.endMs);
        if (o.location !== undefined) out.location = o.location;
        if (o.sensitivity !== undefined) out.sensitivity = o.sensitivity;
        if (o.showAs !== undefined) out.showAs = o.showAs;
        out.lastModified = iso(x.modifiedMs);
        return out;
      }),
      cancelledOccurrences: e.cancelledOccurrences.map(iso),
      extendedProperties: e.extendedProperties.map((p) => ({ ...p })),
      isCancelled: e.isCancelled,
      created: iso(e.createdMs),
      lastModified: iso(e.modifiedMs),
    });
  }
  return { format: 'calendar-mailbox', version: 1, owner: { address: user.mail, displayName: user.displayName }, items };
}

/** Adds the items to the user's calendar as new items (new ids, the same UIDs). No mail is sent. */
export function importMailbox(store: CalendarStore, user: DirectoryUser, data: NeutralMailbox, nowMs: number): number {
  assertNeutralMailbox(data);
  const cal = store.calendarOf(user);
  if (!cal) throw new Error(`${user.mail} has no mailbox here.`);
  data.items.forEach((it, i) => {
    const where = `items[${i}] ('${it.subject}')`;
    if (!resolveZone(it.timeZone)) throw new Error(`${where}: time zone '${it.timeZone}' is not known`);
    const content: EventContent = {
      subject: it.subject,
      bodyType: it.bodyType,
      body: it.body,
      startMs: ms(it.start, where),
      endMs: ms(it.end, where),
      startZone: it.timeZone,
      endZone: it.timeZone,
      isAllDay: it.isAllDay,
      location: it.location,
      sensitivity: it.sensitivity,
      showAs: it.showAs,
      importance: it.importance ?? 'normal',
      categories: [...(it.categories ?? [])],
      isReminderOn: it.isReminderOn ?? true,
      reminderMinutesBeforeStart: it.reminderMinutesBeforeStart ?? 15,
      attendees: structuredClone(it.attendees ?? []),
      extendedProperties: (it.extendedProperties ?? []).map((p) => ({ id: normalizePropertyId(p.id), value: p.value })),
    };
    const recurrence = it.recurrence ? normalizeRecurrence(it.recurrence, it.timeZone) : null;
    const e = cal.add(content, { uid: it.uid, organizerAddress: it.organizer.address, organizerName: it.organizer.name, isOrganizer: it.isOrganizer, response: it.response, recurrence, nowMs });
    e.exceptions = (it.exceptions ?? []).map((x) => {
      const overrides: Partial<EventContent> = {};
      if (x.subject !== undefined) overrides.subject = x.subject;
      if (x.body !== undefined) overrides.body = x.body;
      if (x.bodyType !== undefined) overrides.bodyType = x.bodyType;
      if (x.start !== undefined) overrides.startMs = ms(x.start, where);
      if (x.end !== undefined) overrides.endMs = ms(x.end, where);
      if (x.location !== undefined) overrides.location = x.location;
      if (x.sensitivity !== undefined) overrides.sensitivity = x.sensitivity;
      if (x.showAs !== undefined) overrides.showAs = x.showAs;
      const changed = x.lastModified ? ms(x.lastModified, where) : it.lastModified ? ms(it.lastModified, where) : nowMs;
      return { originalStartMs: ms(x.originalStart, where), overrides, version: 1, createdMs: changed, modifiedMs: changed };
    });
    e.cancelledOccurrences = (it.cancelledOccurrences ?? []).map((c) => ms(c, where)).sort((a, b) => a - b);
    e.isCancelled = it.isCancelled ?? false;
    e.createdMs = it.created ? ms(it.created, where) : nowMs;
    // A move keeps when the item was last changed (Exchange's mailbox moves copy the property as it is).
    if (it.lastModified) e.modifiedMs = ms(it.lastModified, where);
  });
  return data.items.length;
}
