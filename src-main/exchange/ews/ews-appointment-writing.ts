import { Appointment, BodyType, ExchangeVersion, MessageBody, Recurrence, Sensitivity } from 'ews-javascript-api';
import type { EventFields, RecurrenceRule } from '../../sync/calendar-event.ts';
import { canonicalRule } from '../../sync/recurrence-rule.ts';
import { addressOf, toEwsDateTime } from './ews-calendar-mapping.ts';
import { recurrenceToEws, supportsFirstDayOfWeek } from './ews-recurrence-mapping.ts';
import { windowsTimeZoneFor } from './ews-time-zone-mapping.ts';
import { parseInstant, startOfLocalDate } from './time-zone-conversion.ts';

/**
 * Writing: the neutral fields -> an ews-javascript-api Appointment, only what differs from the item as it is now.
 */

export interface TimedRange {
  startMs: number;
  endMs: number;
}

/** Start and end instants of the fields: all-day dates become local midnights in the event's zone. */
export function instantsOf(fields: Pick<EventFields, 'start' | 'end' | 'isAllDay' | 'timeZone'>): TimedRange {
  if (fields.isAllDay) return { startMs: startOfLocalDate(fields.start, fields.timeZone), endMs: startOfLocalDate(fields.end, fields.timeZone) };
  return { startMs: parseInstant(fields.start, 'start'), endMs: parseInstant(fields.end, 'end') };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((v, i) => v === sb[i]);
}

export function sameRecurrence(x: RecurrenceRule | null, y: RecurrenceRule | null): boolean {
  if (!x || !y) return x === y;
  const a = canonicalRule(x);
  const b = canonicalRule(y);
  return (
    a.frequency === b.frequency &&
    a.interval === b.interval &&
    sameList(a.daysOfWeek ?? [], b.daysOfWeek ?? []) &&
    a.dayOfMonth === b.dayOfMonth &&
    a.weekOrdinal === b.weekOrdinal &&
    a.dayOfWeek === b.dayOfWeek &&
    a.month === b.month &&
    a.firstDayOfWeek === b.firstDayOfWeek &&
    a.startDate === b.startDate &&
    a.count === b.count &&
    a.until === b.until
  );
}

export interface ApplyOptions {
  /** Exchange 2007 SP1 knows no StartTimeZone/EndTimeZone pair. */
  version: ExchangeVersion;
  /** The item as it is now (update); null for a new item. Only differences are written. */
  current: Omit<EventFields, 'exceptions'> | null;
  /** Write the recurrence too (series masters; never for occurrences). */
  includeRecurrence: boolean;
}

/**
 * Sets on `appointment` every field that differs from `current` (all of them for a new item). Attendees keep their
 * required/optional kind when they stay; new ones are required. The organizer cannot be set through EWS: it is the
 * mailbox owner for items created here.
 */
export function applyFields(appointment: Appointment, fields: Omit<EventFields, 'exceptions'>, options: ApplyOptions): void {
  const { current } = options;
  const changed = <K extends keyof Omit<EventFields, 'exceptions'>>(key: K) => !current || current[key] !== fields[key];
  if (changed('subject')) appointment.Subject = fields.subject;
  if (changed('location')) appointment.Location = fields.location;
  if (changed('body')) appointment.Body = new MessageBody(BodyType.Text, fields.body);
  if (changed('isPrivate')) appointment.Sensitivity = fields.isPrivate ? Sensitivity.Private : Sensitivity.Normal;
  const timingChanged = !current || changed('start') || changed('end') || changed('isAllDay') || changed('timeZone');
  if (timingChanged) {
    const { startMs, endMs } = instantsOf(fields);
    const zone = windowsTimeZoneFor(fields.timeZone);
    appointment.StartTimeZone = zone;
    if (options.version !== ExchangeVersion.Exchange2007_SP1) appointment.EndTimeZone = zone;
    appointment.IsAllDayEvent = fields.isAllDay;
    appointment.Start = toEwsDateTime(startMs);
    appointment.End = toEwsDateTime(endMs);
  }
  if (options.includeRecurrence && (!current || !sameRecurrence(current.recurrence, fields.recurrence))) {
    if (fields.recurrence) appointment.Recurrence = recurrenceToEws(fields.recurrence, supportsFirstDayOfWeek(options.version));
    else if (current?.recurrence) appointment.Recurrence = null as unknown as Recurrence;
  }
  const wanted = new Set(fields.attendees.map((a) => a.trim().toLowerCase()).filter((a) => a !== fields.organizer));
  const have = new Set(current?.attendees ?? []);
  if (!current || !sameList([...wanted], [...have])) {
    for (const collection of [appointment.RequiredAttendees, appointment.OptionalAttendees]) {
      for (const attendee of [...collection.GetEnumerator()]) {
        const address = addressOf(attendee);
        if (!address || !wanted.has(address)) collection.Remove(attendee);
        else wanted.delete(address);
      }
    }
    for (const address of wanted) appointment.RequiredAttendees.Add(address);
  }
}
