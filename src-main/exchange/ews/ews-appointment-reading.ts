import { Appointment, AppointmentType, BodyType, DateTime, MessageBody, Sensitivity, TimeZoneInfo } from 'ews-javascript-api';
import type { EventFields, OccurrenceException, SideEvent } from '../../sync/calendar-event.ts';
import { CalendarError } from '../calendar-connector.ts';
import { addressOf, instantOf, isoOf, read, syncTagDefinition } from './ews-calendar-mapping.ts';
import { exceptionKey, recurrenceFromEws, sameAsPattern } from './ews-recurrence-mapping.ts';
import { ianaTimeZoneFor, windowsIdFromName } from './ews-time-zone-mapping.ts';
import { htmlToText, looksLikeHtml } from './html-to-text.ts';
import { localDateOf, parseDate } from './time-zone-conversion.ts';

/**
 * Reading: an ews-javascript-api Appointment (a single item, a series master or an occurrence) -> the neutral
 * SideEvent, and a series' exceptions completed from its modified and deleted occurrences.
 */

export interface OccurrenceRef {
  /** EWS ItemId of the modified occurrence. */
  itemId: string;
  /** Pattern start of the occurrence, UTC ISO. */
  originalStart: string;
}

/** A calendar item as read, before the fields of its modified occurrences are filled in. */
export interface ReadCalendarItem {
  event: SideEvent;
  modifiedOccurrences: OccurrenceRef[];
  /** Pattern starts (UTC ISO) of deleted occurrences. */
  deletedOccurrences: string[];
  firstDayOfWeek: number;
  unsupportedRecurrence?: string;
}

export interface ReadContext {
  /** Zone assumed when the server names none (Exchange 2007, or items without a time zone). */
  defaultTimeZone: string;
}

function bodyTextOf(appointment: Appointment): string {
  const body = read(() => appointment.Body, null as MessageBody | null);
  if (!body) return '';
  const text = read(() => body.Text, '');
  const type = read(() => body.BodyType, BodyType.Text);
  if (type === BodyType.HTML || looksLikeHtml(text)) return htmlToText(text);
  return text.replace(/\r\n?/g, '\n').trim();
}

function timeZoneOf(appointment: Appointment, ctx: ReadContext): string {
  const zone = read(() => appointment.StartTimeZone, null as TimeZoneInfo | null);
  if (zone?.Id) return ianaTimeZoneFor(zone.Id, ctx.defaultTimeZone);
  // Exchange 2007 SP1 names the zone in MeetingTimeZone instead.
  const meeting = read(() => (appointment as unknown as { MeetingTimeZone?: { Name?: string } }).MeetingTimeZone?.Name, null as string | null);
  return ianaTimeZoneFor(windowsIdFromName(meeting), ctx.defaultTimeZone);
}

/** Fields shared by a series, a single item and an occurrence. */
function commonFields(appointment: Appointment, timeZone: string, isAllDay: boolean): Omit<EventFields, 'recurrence' | 'exceptions'> {
  const startMs = instantOf(read(() => appointment.Start, null as DateTime | null));
  const endMs = instantOf(read(() => appointment.End, null as DateTime | null));
  if (startMs === null || endMs === null) throw new CalendarError('bad-response', 'Exchange returned a calendar item without a start or end.');
  const organizer = addressOf(read(() => appointment.Organizer, null as { Address?: string } | null));
  const attendees = new Set<string>();
  for (const collection of [read(() => appointment.RequiredAttendees, null), read(() => appointment.OptionalAttendees, null)]) {
    for (const attendee of read(() => collection?.GetEnumerator() ?? [], [])) {
      const address = addressOf(attendee);
      if (address && address !== organizer) attendees.add(address);
    }
  }
  const sensitivity = read(() => appointment.Sensitivity, Sensitivity.Normal);
  return {
    subject: read(() => appointment.Subject, ''),
    start: isAllDay ? localDateOf(startMs, timeZone) : new Date(startMs).toISOString(),
    // An all-day end is local midnight of the day after; anything short of midnight still covers that day.
    end: isAllDay ? nextDate(localDateOf(endMs - 1, timeZone)) : new Date(endMs).toISOString(),
    isAllDay,
    timeZone,
    location: read(() => appointment.Location, ''),
    body: bodyTextOf(appointment),
    isPrivate: sensitivity === Sensitivity.Private || sensitivity === Sensitivity.Confidential,
    attendees: [...attendees].sort(),
    organizer,
  };
}

function nextDate(date: string): string {
  return new Date(parseDate(date) + 86_400_000).toISOString().slice(0, 10);
}

function syncTagOf(appointment: Appointment): string | undefined {
  const out = { outValue: null as unknown };
  const found = read(() => appointment.ExtendedProperties.TryGetValue(syncTagDefinition(), out), false);
  return found && typeof out.outValue === 'string' && out.outValue.length > 0 ? out.outValue : undefined;
}

export function readCalendarItem(appointment: Appointment, ctx: ReadContext): ReadCalendarItem {
  const id = read(() => appointment.Id?.UniqueId, '');
  if (!id) throw new CalendarError('bad-response', 'Exchange returned a calendar item without an id.');
  const timeZone = timeZoneOf(appointment, ctx);
  const isAllDay = read(() => appointment.IsAllDayEvent, false);
  const type = read(() => appointment.AppointmentType, AppointmentType.Single);
  const recurrenceReading = type === AppointmentType.RecurringMaster ? recurrenceFromEws(read(() => appointment.Recurrence, null)) : { rule: null, firstDayOfWeek: 0 };
  const fields: EventFields = { ...commonFields(appointment, timeZone, isAllDay), recurrence: recurrenceReading.rule, exceptions: [] };
  const modified = read(() => appointment.ModifiedOccurrences?.GetEnumerator() ?? [], []);
  const deleted = read(() => appointment.DeletedOccurrences?.GetEnumerator() ?? [], []);
  const uid = read(() => appointment.ICalUid, '');
  const syncTag = syncTagOf(appointment);
  const event: SideEvent = {
    id,
    version: read(() => appointment.Id.ChangeKey, ''),
    lastModified: isoOf(read(() => appointment.LastModifiedTime, null as DateTime | null)) ?? new Date(0).toISOString(),
    fields,
    ...(uid ? { uid } : {}),
    ...(syncTag ? { syncTag } : {}),
  };
  return {
    event,
    modifiedOccurrences: recurrenceReading.rule
      ? modified.flatMap((o) => {
          const itemId = read(() => o.ItemId?.UniqueId, '');
          const originalStart = isoOf(read(() => o.OriginalStart, null as DateTime | null));
          return itemId && originalStart ? [{ itemId, originalStart }] : [];
        })
      : [],
    deletedOccurrences: recurrenceReading.rule ? deleted.flatMap((o) => isoOf(read(() => o.OriginalStart, null as DateTime | null)) ?? []) : [],
    firstDayOfWeek: recurrenceReading.firstDayOfWeek,
    ...('unsupported' in recurrenceReading && recurrenceReading.unsupported ? { unsupportedRecurrence: recurrenceReading.unsupported } : {}),
  };
}

/** Completes a series' exceptions from its modified occurrence items (read separately) and its deleted occurrences. */
export function withExceptions(item: ReadCalendarItem, occurrences: Map<string, Appointment>): SideEvent {
  return seriesWithExceptions(item, occurrences, (occurrence, series) =>
    commonFields(occurrence, series.timeZone, read(() => occurrence.IsAllDayEvent, series.isAllDay)),
  );
}

/**
 * A series with its exceptions: each modified occurrence (found in `occurrences` by its item id, its fields read by
 * `fieldsOf`, whichever way it was fetched) and each deleted one, in original-start order. Shared by the library's
 * reading and the raw SOAP one (ews-item-reading.ts).
 */
export function seriesWithExceptions<T>(item: ReadCalendarItem, occurrences: ReadonlyMap<string, T>, fieldsOf: (occurrence: T, series: EventFields) => Omit<EventFields, 'recurrence' | 'exceptions'>): SideEvent {
  const series = item.event.fields;
  const exceptions: OccurrenceException[] = [];
  for (const ref of item.modifiedOccurrences) {
    const occurrence = occurrences.get(ref.itemId);
    if (!occurrence) continue;
    const key = exceptionKey(ref.originalStart, series);
    const fields = { ...fieldsOf(occurrence, series), exceptions: [] };
    // Exchange keeps an occurrence edited back to the series' own values as an exception; it is not one.
    if (sameAsPattern(fields, key, series)) continue;
    exceptions.push({ originalStart: key, fields });
  }
  for (const originalStart of item.deletedOccurrences) exceptions.push({ originalStart: exceptionKey(originalStart, series), fields: null });
  exceptions.sort((a, b) => (a.originalStart < b.originalStart ? -1 : a.originalStart > b.originalStart ? 1 : 0));
  return { ...item.event, fields: { ...series, exceptions } };
}
