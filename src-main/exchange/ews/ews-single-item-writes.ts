import { Appointment, ConflictResolutionMode, ExchangeService, ItemId, SendInvitationsMode, SendInvitationsOrCancellationsMode, WellKnownFolderName } from 'ews-javascript-api';
import type { EventFields } from '../../sync/calendar-event.ts';
import { CalendarError } from '../calendar-connector.ts';
import { readCalendarItem } from './ews-appointment-reading.ts';
import { applyFields, sameRecurrence } from './ews-appointment-writing.ts';
import { syncTagDefinition } from './ews-calendar-mapping.ts';
import { fullPropertySet, type LibraryCallSettings } from './ews-change-reading.ts';
import { calendarErrorFor, responseError } from './ews-error-translation.ts';
import { recurrenceToEws, supportsFirstDayOfWeek } from './ews-recurrence-mapping.ts';
import { applyExceptions, currentExceptions, isDirty, normalizedKey } from './ews-series-exceptions.ts';

/**
 * The connector's create and update of one calendar item through the library, its exceptions included (written one
 * occurrence at a time, ews-series-exceptions.ts): createEvent and updateEvent, so every write on Exchange 2007 SP1
 * and, on later versions, the writes writeEvents cannot batch. Each returns the local time before the first request
 * that certainly changed the item (null when none did), so the caller can read the item back and measure Exchange's
 * clock. Each runs on the connector's service for one call.
 */

export async function createAppointment(service: ExchangeService, fields: EventFields, syncTag: string, settings: LibraryCallSettings, context: string): Promise<{ id: string; sentAtMs: number }> {
  const appointment = new Appointment(service);
  applyFields(appointment, fields, { version: settings.version, current: null, includeRecurrence: true });
  appointment.SetExtendedProperty(syncTagDefinition(), syncTag);
  const sentAtMs = Date.now();
  await appointment.Save(WellKnownFolderName.Calendar, SendInvitationsMode.SendToNone);
  const id = appointment.Id.UniqueId;
  if (fields.recurrence && fields.exceptions.length > 0) {
    await applyExceptions(service, id, fields, new Map(), settings.version, context);
  }
  return { id, sentAtMs };
}

/** `changeKey`: the version the caller read; an item changed since is a 'conflict'. */
export async function updateAppointment(service: ExchangeService, id: string, changeKey: string, fields: EventFields, settings: LibraryCallSettings, context: string): Promise<number | null> {
  const responses = await service.BindToItems([new ItemId(id)], fullPropertySet(settings.version));
  const response = responses.Responses[0];
  const error = response ? responseError(response) : 'ErrorItemNotFound';
  if (error || !response) throw calendarErrorFor(error ?? 'ErrorItemNotFound', response?.ErrorMessage, context);
  const appointment = (response as unknown as { Item: Appointment }).Item;
  if (!(appointment instanceof Appointment)) throw new CalendarError('other', `${context}: the item is not a calendar item.`);
  if (appointment.Id.ChangeKey !== changeKey) {
    throw new CalendarError('conflict', `${context}: the item changed on Exchange since it was read.`, { serverCode: 'ErrorIrresolvableConflict' });
  }
  const read = readCalendarItem(appointment, { defaultTimeZone: settings.defaultTimeZone });
  const { exceptions: _none, ...current } = read.event.fields;
  const existing = await currentExceptions(service, read, settings.batchSize, context);
  applyFields(appointment, fields, { version: settings.version, current, includeRecurrence: true });
  // A deleted occurrence cannot be undeleted in EWS; re-sending the pattern makes Exchange drop every exception,
  // after which the wanted ones are applied again.
  const restoreDeleted =
    fields.recurrence !== null &&
    [...existing].some(([key, e]) => !e.itemId && !fields.exceptions.some((x) => normalizedKey(x.originalStart, fields) === key && x.fields === null));
  if (restoreDeleted && fields.recurrence) appointment.Recurrence = recurrenceToEws(fields.recurrence, supportsFirstDayOfWeek(settings.version));
  const patternRewritten = restoreDeleted || !sameRecurrence(current.recurrence, fields.recurrence);
  let sentAtMs: number | null = null;
  if (isDirty(appointment)) {
    sentAtMs = Date.now();
    await appointment.Update(ConflictResolutionMode.NeverOverwrite, SendInvitationsOrCancellationsMode.SendToNone);
  }
  if (fields.recurrence) {
    // Exchange's changed occurrences take the series' new subject, place, text or privacy where they did not change
    // those themselves: what they hold now is read again before they are brought in line.
    const inherited = sentAtMs !== null && existing.size > 0 && (['subject', 'location', 'body', 'isPrivate'] as const).some((k) => current[k] !== fields[k]);
    let now = existing;
    if (patternRewritten) now = new Map();
    else if (inherited) {
      const [again] = (await service.BindToItems([new ItemId(id)], fullPropertySet(settings.version))).Responses;
      const item = (again as unknown as { Item?: unknown } | undefined)?.Item;
      if (item instanceof Appointment) now = await currentExceptions(service, readCalendarItem(item, { defaultTimeZone: settings.defaultTimeZone }), settings.batchSize, context);
    }
    await applyExceptions(service, id, fields, now, settings.version, context);
  }
  return sentAtMs;
}
