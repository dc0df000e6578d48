import {
  AffectedTaskOccurrence,
  Appointment,
  AppointmentOccurrenceId,
  AppointmentSchema,
  BasePropertySet,
  BodyType,
  ConflictResolutionMode,
  DeleteMode,
  ExchangeService,
  ExchangeVersion,
  ItemId,
  ItemSchema,
  PropertySet,
  SendCancellationsMode,
  SendInvitationsOrCancellationsMode,
} from 'ews-javascript-api';
import type { EventFields, OccurrenceException } from '../../sync/calendar-event.ts';
import { CalendarError } from '../calendar-connector.ts';
import { readCalendarItem, withExceptions, type ReadCalendarItem } from './ews-appointment-reading.ts';
import { applyFields } from './ews-appointment-writing.ts';
import { exceptionKey, patternOccurrence } from './ews-recurrence-mapping.ts';
import { calendarErrorFor, responseError } from './ews-error-translation.ts';
import { occurrenceIndexOf } from './recurrence-expansion.ts';
import { localDateOf } from './time-zone-conversion.ts';

/**
 * The exceptions of a series (moved, changed or deleted occurrences) on Exchange: reading them as they are, and
 * writing the wanted ones one occurrence at a time (EWS has no call that sets them all). Used by the connector's
 * create and update; each function runs on the connector's service for one call.
 */

export interface CurrentException {
  /** Occurrence item id when modified; absent when deleted. */
  itemId?: string;
  fields: OccurrenceException['fields'];
}

export function chunks<T>(values: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

export function occurrencePropertySet(): PropertySet {
  const set = new PropertySet(BasePropertySet.IdOnly, [
    ItemSchema.Subject,
    ItemSchema.Body,
    ItemSchema.Sensitivity,
    AppointmentSchema.Start,
    AppointmentSchema.End,
    AppointmentSchema.IsAllDayEvent,
    AppointmentSchema.Location,
    AppointmentSchema.Organizer,
    AppointmentSchema.RequiredAttendees,
    AppointmentSchema.OptionalAttendees,
  ]);
  set.RequestedBodyType = BodyType.Text;
  return set;
}

/** Modified occurrences by id, batched. */
export async function readOccurrences(service: ExchangeService, ids: string[], batchSize: number, context: string): Promise<Map<string, Appointment>> {
  const occurrences = new Map<string, Appointment>();
  for (const batch of chunks(ids, batchSize)) {
    const responses = await service.BindToItems(batch.map((id) => new ItemId(id)), occurrencePropertySet());
    responses.Responses.forEach((response, index) => {
      const error = responseError(response);
      if (error === 'ErrorItemNotFound') return;
      if (error) throw calendarErrorFor(error, response.ErrorMessage, context);
      const item = (response as unknown as { Item?: unknown }).Item;
      if (item instanceof Appointment) occurrences.set(batch[index], item);
    });
  }
  return occurrences;
}

/** Exceptions of the series as they are on the server, keyed like EventFields exceptions. */
export async function currentExceptions(service: ExchangeService, read: ReadCalendarItem, batchSize: number, context: string): Promise<Map<string, CurrentException>> {
  const out = new Map<string, CurrentException>();
  if (!read.event.fields.recurrence) return out;
  const series = read.event.fields;
  for (const originalStart of read.deletedOccurrences) out.set(exceptionKey(originalStart, series), { fields: null });
  const occurrences = await readOccurrences(service, read.modifiedOccurrences.map((o) => o.itemId), batchSize, context);
  const complete = withExceptions(read, occurrences);
  for (const ref of read.modifiedOccurrences) {
    const key = exceptionKey(ref.originalStart, series);
    const exception = complete.fields.exceptions.find((e) => e.originalStart === key && e.fields !== null);
    out.set(key, { itemId: ref.itemId, fields: exception?.fields ?? null });
  }
  return out;
}

function occurrenceIndex(series: EventFields, key: string, context: string): number {
  const date = series.isAllDay ? key : localDateOf(Date.parse(key), series.timeZone);
  const index = series.recurrence ? occurrenceIndexOf(series.recurrence, date) : null;
  if (index === null) throw new CalendarError('other', `${context}: the series has no occurrence on ${date}.`);
  return index;
}

/** Makes the server's exceptions of a series match `fields.exceptions`, one occurrence at a time. */
export async function applyExceptions(service: ExchangeService, masterId: string, fields: EventFields, current: Map<string, CurrentException>, version: ExchangeVersion, context: string): Promise<void> {
  const wanted = new Map<string, OccurrenceException['fields']>();
  for (const e of fields.exceptions) wanted.set(normalizedKey(e.originalStart, fields), e.fields);
  const seriesTiming = { isAllDay: fields.isAllDay, timeZone: fields.timeZone };
  for (const [key, wantedFields] of wanted) {
    const have = current.get(key);
    if (wantedFields === null) {
      if (have && have.fields === null && !have.itemId) continue;
      const target = have?.itemId ? new ItemId(have.itemId) : new AppointmentOccurrenceId(masterId, occurrenceIndex(fields, key, context));
      const responses = await service.DeleteItems([target], DeleteMode.MoveToDeletedItems, SendCancellationsMode.SendToNone, null as unknown as AffectedTaskOccurrence);
      const error = responses.Responses[0] ? responseError(responses.Responses[0]) : null;
      if (error && error !== 'ErrorItemNotFound' && error !== 'ErrorCalendarOccurrenceIsDeletedFromRecurrence') throw calendarErrorFor(error, responses.Responses[0].ErrorMessage, context);
      continue;
    }
    if (have?.fields && sameOccurrence(have.fields, wantedFields)) continue;
    const occurrence = have?.itemId
      ? await Appointment.Bind(service, new ItemId(have.itemId), occurrencePropertySet())
      : await Appointment.BindToOccurrence(service, new ItemId(masterId), occurrenceIndex(fields, key, context), occurrencePropertySet());
    const before = readCalendarItem(occurrence, { defaultTimeZone: fields.timeZone }).event.fields;
    const { exceptions: _e, ...occurrenceFields } = { ...wantedFields, timeZone: seriesTiming.timeZone, recurrence: null };
    applyFields(occurrence, occurrenceFields, { version, current: { ...before, timeZone: seriesTiming.timeZone, recurrence: null }, includeRecurrence: false });
    if (isDirty(occurrence)) await occurrence.Update(ConflictResolutionMode.NeverOverwrite, SendInvitationsOrCancellationsMode.SendToNone);
  }
  // Modified occurrences the fields no longer mention go back to the series' own values.
  for (const [key, have] of current) {
    if (wanted.has(key) || !have.itemId || have.fields === null) continue;
    const occurrence = await Appointment.Bind(service, new ItemId(have.itemId), occurrencePropertySet());
    const before = readCalendarItem(occurrence, { defaultTimeZone: fields.timeZone }).event.fields;
    const { exceptions: _e, ...revertFields } = { ...patternOccurrence(fields, key), recurrence: null };
    applyFields(occurrence, revertFields, { version, current: { ...before, recurrence: null }, includeRecurrence: false });
    if (isDirty(occurrence)) await occurrence.Update(ConflictResolutionMode.NeverOverwrite, SendInvitationsOrCancellationsMode.SendToNone);
  }
}


export function normalizedKey(originalStart: string, series: Pick<EventFields, 'isAllDay'>): string {
  return series.isAllDay ? originalStart : new Date(Date.parse(originalStart)).toISOString();
}

function sameOccurrence(a: NonNullable<OccurrenceException['fields']>, b: NonNullable<OccurrenceException['fields']>): boolean {
  return (
    a.subject === b.subject &&
    a.start === b.start &&
    a.end === b.end &&
    a.isAllDay === b.isAllDay &&
    a.location === b.location &&
    a.body === b.body &&
    a.isPrivate === b.isPrivate &&
    [...a.attendees].sort().join(',') === [...b.attendees].sort().join(',')
  );
}

/** Whether the library has changes to send for this item (an UpdateItem without changes is an EWS error). */
export function isDirty(appointment: Appointment): boolean {
  const bag = (appointment as unknown as { PropertyBag?: { GetIsUpdateCallNecessary?(): boolean } }).PropertyBag;
  return typeof bag?.GetIsUpdateCallNecessary === 'function' ? bag.GetIsUpdateCallNecessary() : true;
}
