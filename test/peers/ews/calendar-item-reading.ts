/**
 * CalendarItem XML -> item: reading the fields a client sets (CreateItem, SetItemField, AppendToItemField) into a
 * draft, which fields are read-only, and applying a draft to an item (End after Start, all-day snapping).
 * Recurrence, time zone, attendee and extended property elements are read by their own modules.
 */
import type { BodyType, FreeBusy, Sensitivity, SimCalendarItem, SimExtendedProperty, SimRecurrence } from './calendar-model.ts';
import { FREE_BUSY, SENSITIVITIES, extendedPropertyKey } from './calendar-model.ts';
import type { XmlElement } from './xml-parser.ts';
import { childrenNamed } from './xml-parser.ts';
import { EwsError, TYPES_NS, ewsDateTime } from './soap-envelope.ts';
import { formatDate, ianaForWindowsId, parseEwsDateTime, utcToLocal } from './time-zones.ts';
import { bool, int, oneOf, schemaError } from './schema-validation.ts';
import { readAttendees } from './attendee-xml.ts';
import { readRecurrence } from './recurrence-xml.ts';
import { readMeetingTimeZone, readTimeZoneDefinition } from './time-zone-xml.ts';
import { readExtendedProperty } from './extended-property-xml.ts';

const T = TYPES_NS;

/** The fields of one CalendarItem element, as sent; times stay raw until the zone is known. */
export interface ItemDraft {
  keys: Set<string>;
  subject?: string;
  sensitivity?: Sensitivity;
  body?: { text: string; type: BodyType };
  categories?: string[];
  reminderIsSet?: boolean;
  reminderMinutesBeforeStart?: number;
  uid?: string;
  start?: string;
  end?: string;
  isAllDay?: boolean;
  legacyFreeBusyStatus?: FreeBusy;
  location?: string;
  requiredAttendees?: string[];
  optionalAttendees?: string[];
  recurrence?: SimRecurrence | null;
  startTimeZone?: string;
  endTimeZone?: string;
  meetingTimeZone?: string;
  extendedProperties?: SimExtendedProperty[];
}

/** Field keys (used for AutoResolve conflicts and read-only checks) by element local name. */
export const FIELD_BY_ELEMENT: Record<string, string> = {
  Subject: 'subject',
  Sensitivity: 'sensitivity',
  Body: 'body',
  Categories: 'categories',
  ReminderIsSet: 'reminderIsSet',
  ReminderMinutesBeforeStart: 'reminderMinutesBeforeStart',
  UID: 'uid',
  Start: 'start',
  End: 'end',
  IsAllDayEvent: 'isAllDay',
  LegacyFreeBusyStatus: 'legacyFreeBusyStatus',
  Location: 'location',
  RequiredAttendees: 'requiredAttendees',
  OptionalAttendees: 'optionalAttendees',
  Recurrence: 'recurrence',
  StartTimeZone: 'timeZone',
  EndTimeZone: 'timeZone',
  MeetingTimeZone: 'timeZone',
  StartTimeZoneId: 'timeZone',
  EndTimeZoneId: 'timeZone',
  ExtendedProperty: 'extendedProperties',
};

/** Settable with no effect on what the simulator stores (accepted, as Exchange accepts them). */
const ACCEPTED_IGNORED = new Set([
  'ItemClass',
  'Importance',
  'Culture',
  'IsResponseRequested',
  'AllowNewTimeProposal',
  'ConferenceType',
  'MeetingWorkspaceUrl',
  'NetShowUrl',
  'Resources',
  'ReminderDueBy',
  'InReplyTo',
  'IsOnlineMeeting',
  'Flag',
  'When',
  'EnhancedLocation',
  'IntendedFreeBusyStatus',
  'Attachments',
  'MimeContent',
]);

/** Read-only properties: setting them is ErrorInvalidPropertySet. */
export const READ_ONLY_URIS = new Set([
  'item:ItemId',
  'item:ParentFolderId',
  'item:DateTimeCreated',
  'item:DateTimeReceived',
  'item:DateTimeSent',
  'item:LastModifiedTime',
  'item:LastModifiedName',
  'item:Size',
  'item:HasAttachments',
  'item:DisplayTo',
  'item:DisplayCc',
  'item:TextBody',
  'calendar:Organizer',
  'calendar:CalendarItemType',
  'calendar:MyResponseType',
  'calendar:IsMeeting',
  'calendar:IsCancelled',
  'calendar:IsRecurring',
  'calendar:OriginalStart',
  'calendar:RecurrenceId',
  'calendar:FirstOccurrence',
  'calendar:LastOccurrence',
  'calendar:ModifiedOccurrences',
  'calendar:DeletedOccurrences',
  'calendar:AppointmentState',
  'calendar:AppointmentSequenceNumber',
  'calendar:Duration',
  'calendar:TimeZone',
  'calendar:ConflictingMeetingCount',
  'calendar:AdjacentMeetingCount',
  'calendar:IsOrganizer',
]);

/** Reads a `t:CalendarItem` (or `t:Item`) element's children. Unknown elements are an error only if not skippable. */
export function readItemElement(e: XmlElement): ItemDraft {
  const d: ItemDraft = { keys: new Set() };
  for (const c of e.children) {
    if (c.ns !== T) continue;
    const key = FIELD_BY_ELEMENT[c.name];
    if (key) d.keys.add(key);
    switch (c.name) {
      case 'Subject':
        d.subject = c.text;
        break;
      case 'Sensitivity':
        d.sensitivity = oneOf(c.text, SENSITIVITIES, 'Sensitivity');
        break;
      case 'Body':
        d.body = { text: c.text, type: oneOf(c.attrs.BodyType ?? 'Text', ['HTML', 'Text'] as BodyType[], 'Body/@BodyType') };
        break;
      case 'Categories':
        d.categories = childrenNamed(c, T, 'String').map((s) => s.text);
        break;
      case 'ReminderIsSet':
        d.reminderIsSet = bool(c.text, 'ReminderIsSet');
        break;
      case 'ReminderMinutesBeforeStart':
        d.reminderMinutesBeforeStart = int(c.text, 'ReminderMinutesBeforeStart');
        break;
      case 'UID':
        d.uid = c.text.trim();
        break;
      case 'Start':
        d.start = c.text;
        break;
      case 'End':
        d.end = c.text;
        break;
      case 'IsAllDayEvent':
        d.isAllDay = bool(c.text, 'IsAllDayEvent');
        break;
      case 'LegacyFreeBusyStatus':
        d.legacyFreeBusyStatus = oneOf(c.text, FREE_BUSY, 'LegacyFreeBusyStatus');
        break;
      case 'Location':
        d.location = c.text;
        break;
      case 'RequiredAttendees':
        d.requiredAttendees = readAttendees(c);
        break;
      case 'OptionalAttendees':
        d.optionalAttendees = readAttendees(c);
        break;
      case 'Recurrence':
        d.recurrence = readRecurrence(c);
        break;
      case 'StartTimeZone':
        d.startTimeZone = readTimeZoneDefinition(c);
        break;
      case 'EndTimeZone':
        d.endTimeZone = readTimeZoneDefinition(c);
        break;
      case 'StartTimeZoneId':
      case 'EndTimeZoneId': {
        const z = ianaForWindowsId(c.text);
        if (!z) throw new EwsError('ErrorTimeZone', `The time zone '${c.text}' is not known to this server.`);
        if (c.name === 'StartTimeZoneId') d.startTimeZone = z;
        else d.endTimeZone = z;
        break;
      }
      case 'MeetingTimeZone':
        d.meetingTimeZone = readMeetingTimeZone(c);
        break;
      case 'ExtendedProperty':
        (d.extendedProperties ??= []).push(readExtendedProperty(c));
        break;
      default:
        if (!ACCEPTED_IGNORED.has(c.name) && !READ_ONLY_ELEMENTS.has(c.name)) {
          throw schemaError(`The element '${c.name}' in namespace '${T}' is not valid in CalendarItem.`);
        }
    }
  }
  return d;
}

const READ_ONLY_ELEMENTS = new Set(
  [...READ_ONLY_URIS].map((u) => u.split(':')[1]).filter((n) => n !== 'ItemId' && n !== 'ParentFolderId'),
);

export interface ApplyContext {
  /** Zone for date-times sent without an offset: the request's TimeZoneContext, else the item's zone. */
  timeZoneContext?: string;
  nowMs: number;
}

function snapAllDay(ms: number, zone: string, roundUp: boolean): number {
  const l = utcToLocal(zone, ms);
  const midnight = parseEwsDateTime(formatDate(l.year, l.month, l.day), zone);
  if (roundUp && midnight < ms) {
    const next = new Date(Date.UTC(l.year, l.month - 1, l.day + 1));
    return parseEwsDateTime(formatDate(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()), zone);
  }
  return midnight;
}

/**
 * Writes a draft onto an item (a new one or an existing one) and returns the field keys that changed.
 * Validates what only makes sense together: End after Start, the recurrence's first occurrence.
 */
export function applyDraft(d: ItemDraft, item: SimCalendarItem, ctx: ApplyContext): string[] {
  if (d.subject !== undefined) item.subject = d.subject;
  if (d.sensitivity !== undefined) item.sensitivity = d.sensitivity;
  if (d.body !== undefined) {
    item.body = d.body.text;
    item.bodyType = d.body.type;
  }
  if (d.categories !== undefined) item.categories = d.categories;
  if (d.reminderIsSet !== undefined) item.reminderIsSet = d.reminderIsSet;
  if (d.reminderMinutesBeforeStart !== undefined) item.reminderMinutesBeforeStart = d.reminderMinutesBeforeStart;
  if (d.uid !== undefined && d.uid) item.uid = d.uid;
  if (d.legacyFreeBusyStatus !== undefined) item.legacyFreeBusyStatus = d.legacyFreeBusyStatus;
  if (d.location !== undefined) item.location = d.location;
  if (d.requiredAttendees !== undefined) item.requiredAttendees = d.requiredAttendees;
  if (d.optionalAttendees !== undefined) item.optionalAttendees = d.optionalAttendees;
  if (d.extendedProperties) {
    for (const p of d.extendedProperties) {
      const k = extendedPropertyKey(p);
      const i = item.extendedProperties.findIndex((x) => extendedPropertyKey(x) === k);
      if (i >= 0) item.extendedProperties[i] = p;
      else item.extendedProperties.push(p);
    }
  }
  const zone = d.startTimeZone ?? d.meetingTimeZone ?? d.endTimeZone;
  if (zone) item.timeZone = zone;
  if (d.isAllDay !== undefined) item.isAllDay = d.isAllDay;
  const unqualified = ctx.timeZoneContext ?? item.timeZone;
  const parseTime = (raw: string, what: string): number => {
    const ms = parseEwsDateTime(raw, item.isAllDay && /^\d{4}-\d{2}-\d{2}$/.test(raw.trim()) ? item.timeZone : unqualified);
    if (Number.isNaN(ms)) throw schemaError(`The value '${raw}' is invalid for ${what} (xs:dateTime).`);
    return ms;
  };
  let startMs = d.start !== undefined ? parseTime(d.start, 'Start') : Date.parse(item.start);
  let endMs = d.end !== undefined ? parseTime(d.end, 'End') : Date.parse(item.end);
  if (item.isAllDay && (d.start !== undefined || d.end !== undefined || d.isAllDay || zone)) {
    startMs = snapAllDay(startMs, item.timeZone, false);
    endMs = snapAllDay(endMs, item.timeZone, true);
    if (endMs <= startMs) endMs = snapAllDay(startMs + 86_400_000 + 3_600_000, item.timeZone, false);
  }
  if (endMs < startMs) throw new EwsError('ErrorCalendarEndDateIsEarlierThanStartDate', 'EndDate is earlier than StartDate');
  item.start = ewsDateTime(startMs);
  item.end = ewsDateTime(endMs);
  if (d.recurrence !== undefined) item.recurrence = d.recurrence;
  return [...d.keys];
}
