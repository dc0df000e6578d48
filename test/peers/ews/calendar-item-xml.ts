/**
 * CalendarItem <-> XML: reading the fields a client sets (CreateItem, SetItemField, AppendToItemField) and writing
 * the properties it asked for (ItemShape), in the element order of the EWS schema, honouring the request's version.
 */
import type {
  BodyType,
  DaysOfWeekValue,
  DayOfWeekIndex,
  FreeBusy,
  MonthName,
  Sensitivity,
  SimCalendarItem,
  SimExtendedProperty,
  SimOccurrenceOverride,
  SimRecurrence,
  SimRecurrencePattern,
  SimRecurrenceRange,
  Weekday,
} from './calendar-model.ts';
import { DAY_INDEXES, FREE_BUSY, MONTHS, SENSITIVITIES, WEEKDAYS, extendedPropertyKey } from './calendar-model.ts';
import type { XmlElement } from './xml-parser.ts';
import { child, childText, childrenNamed } from './xml-parser.ts';
import type { ApiVersion } from './soap-envelope.ts';
import { EwsError, TYPES_NS, attrEscape, el, ewsDateTime, versionAtLeast, xmlEscape } from './soap-envelope.ts';
import { fixedOffsetZone, formatDate, ianaForWindowsId, offsetMinutes, parseEwsDate, parseEwsDateTime, utcToLocal, windowsZoneFor, zoneRules } from './time-zones.ts';

const T = TYPES_NS;

// ---------------------------------------------------------------------------------------------------------------
// Reading

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

function bool(text: string, what: string): boolean {
  const t = text.trim();
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  throw schemaError(`The value '${t}' is invalid for ${what} (xs:boolean).`);
}

function int(text: string, what: string): number {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) throw schemaError(`The value '${t}' is invalid for ${what} (xs:int).`);
  return Number(t);
}

export function schemaError(violation: string): EwsError {
  return new EwsError('ErrorSchemaValidation', `The request failed schema validation: ${violation}`, {
    fault: true,
    messageXml: `<t:LineNumber>1</t:LineNumber><t:LinePosition>1</t:LinePosition><t:Violation>${xmlEscape(violation)}</t:Violation>`,
  });
}

function oneOf<V extends string>(text: string, allowed: readonly V[], what: string): V {
  const t = text.trim();
  if (!(allowed as readonly string[]).includes(t)) throw schemaError(`The value '${t}' is invalid for ${what}.`);
  return t as V;
}

function readAttendees(e: XmlElement): string[] {
  const out: string[] = [];
  for (const a of childrenNamed(e, T, 'Attendee')) {
    const addr = childText(child(a, T, 'Mailbox'), T, 'EmailAddress');
    if (addr && addr.trim()) out.push(addr.trim().toLowerCase());
  }
  return out;
}

/** xs:duration -> minutes (EWS uses them for time zone biases, e.g. -PT2H or -P0DT2H0M0.0S). */
export function parseDurationMinutes(text: string): number | null {
  const m = /^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text.trim());
  if (!m) return null;
  const v = Number(m[2] ?? 0) * 1440 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0) + Number(m[5] ?? 0) / 60;
  return m[1] ? -v : v;
}

/** TimeZoneDefinition (2010+): Id names the zone; an unknown Id falls back to the standard period's bias. */
export function readTimeZoneDefinition(e: XmlElement): string {
  const id = e.attrs.Id ?? e.attrs.Name ?? '';
  const iana = id ? ianaForWindowsId(id) : undefined;
  if (iana) return iana;
  const periods = childrenNamed(child(e, T, 'Periods'), T, 'Period');
  const std = periods.find((p) => /standard/i.test(p.attrs.Name ?? '') || /std/i.test(p.attrs.Id ?? '')) ?? periods[0];
  const bias = std ? parseDurationMinutes(std.attrs.Bias ?? '') : null;
  const fixed = bias === null ? undefined : fixedOffsetZone(-bias);
  if (fixed) return fixed;
  throw new EwsError('ErrorTimeZone', `The time zone '${id || '(no Id)'}' is not known to this server.`);
}

/**
 * MeetingTimeZone (Exchange 2007): TimeZoneName if known, else BaseOffset as a fixed zone. exchangelib writes the
 * 2010 attributes (Id, Name) here instead; Exchange tolerates that, so do we.
 */
function readMeetingTimeZone(e: XmlElement): string {
  const name = e.attrs.TimeZoneName ?? e.attrs.Id ?? e.attrs.Name;
  const iana = name ? ianaForWindowsId(name) : undefined;
  if (iana) return iana;
  const base = parseDurationMinutes(childText(e, T, 'BaseOffset') ?? '');
  const fixed = base === null ? undefined : fixedOffsetZone(-base);
  if (fixed) return fixed;
  throw new EwsError('ErrorTimeZone', `The meeting time zone '${name ?? '(unnamed)'}' is not known to this server.`);
}

const PATTERN_ELEMENTS = [
  'DailyRecurrence',
  'WeeklyRecurrence',
  'AbsoluteMonthlyRecurrence',
  'RelativeMonthlyRecurrence',
  'AbsoluteYearlyRecurrence',
  'RelativeYearlyRecurrence',
];

export function readRecurrence(e: XmlElement): SimRecurrence {
  let pattern: SimRecurrencePattern | undefined;
  let range: SimRecurrenceRange | undefined;
  for (const c of e.children) {
    if (c.ns !== T) continue;
    const interval = (): number => {
      const v = int(childText(c, T, 'Interval') ?? '', `${c.name}/Interval`);
      if (v < 1 || v > 999) throw new EwsError('ErrorInvalidRecurrence', 'Interval must be between 1 and 999.');
      return v;
    };
    const dayOfMonth = (): number => {
      const v = int(childText(c, T, 'DayOfMonth') ?? '', `${c.name}/DayOfMonth`);
      if (v < 1 || v > 31) throw new EwsError('ErrorInvalidRecurrence', 'DayOfMonth must be between 1 and 31.');
      return v;
    };
    const daysValue = (): DaysOfWeekValue =>
      oneOf(childText(c, T, 'DaysOfWeek') ?? '', [...WEEKDAYS, 'Day', 'Weekday', 'WeekendDay'] as DaysOfWeekValue[], `${c.name}/DaysOfWeek`);
    const index = (): DayOfWeekIndex => oneOf(childText(c, T, 'DayOfWeekIndex') ?? '', DAY_INDEXES, `${c.name}/DayOfWeekIndex`);
    const month = (): MonthName => oneOf(childText(c, T, 'Month') ?? '', MONTHS, `${c.name}/Month`);
    const date = (name: string): string => {
      const raw = childText(c, T, name);
      const d = raw ? parseEwsDate(raw) : null;
      if (!d) throw schemaError(`The value '${raw ?? ''}' is invalid for ${c.name}/${name} (xs:date).`);
      return formatDate(...d);
    };
    switch (c.name) {
      case 'DailyRecurrence':
        pattern = { type: 'Daily', interval: interval() };
        break;
      case 'WeeklyRecurrence': {
        const days = (childText(c, T, 'DaysOfWeek') ?? '').trim().split(/\s+/).filter(Boolean);
        // Exchange keeps a weekly pattern's days as a set of weekdays: a day group (Weekday, WeekendDay, Day) is stored,
        // and read back, as the days it stands for.
        const named = days.map((d) => oneOf(d, [...WEEKDAYS, 'Day', 'Weekday', 'WeekendDay'] as DaysOfWeekValue[], 'WeeklyRecurrence/DaysOfWeek'));
        const daysOfWeek = WEEKDAYS.filter((w, i) =>
          named.some((d) => d === w || d === 'Day' || (d === 'Weekday' && i >= 1 && i <= 5) || (d === 'WeekendDay' && (i === 0 || i === 6))),
        );
        if (!daysOfWeek.length) throw new EwsError('ErrorInvalidRecurrence', 'A weekly recurrence needs DaysOfWeek.');
        const first = childText(c, T, 'FirstDayOfWeek');
        pattern = { type: 'Weekly', interval: interval(), daysOfWeek: daysOfWeek as Weekday[] };
        if (first) pattern.firstDayOfWeek = oneOf(first, WEEKDAYS, 'FirstDayOfWeek');
        break;
      }
      case 'AbsoluteMonthlyRecurrence':
        pattern = { type: 'AbsoluteMonthly', interval: interval(), dayOfMonth: dayOfMonth() };
        break;
      case 'RelativeMonthlyRecurrence':
        pattern = { type: 'RelativeMonthly', interval: interval(), daysOfWeek: daysValue(), dayOfWeekIndex: index() };
        break;
      case 'AbsoluteYearlyRecurrence':
        pattern = { type: 'AbsoluteYearly', dayOfMonth: dayOfMonth(), month: month() };
        break;
      case 'RelativeYearlyRecurrence':
        pattern = { type: 'RelativeYearly', daysOfWeek: daysValue(), dayOfWeekIndex: index(), month: month() };
        break;
      case 'NoEndRecurrence':
        range = { type: 'NoEnd', startDate: date('StartDate') };
        break;
      case 'EndDateRecurrence':
        range = { type: 'EndDate', startDate: date('StartDate'), endDate: date('EndDate') };
        break;
      case 'NumberedRecurrence': {
        const count = int(childText(c, T, 'NumberOfOccurrences') ?? '', 'NumberedRecurrence/NumberOfOccurrences');
        if (count < 1 || count > 999) throw new EwsError('ErrorInvalidRecurrence', 'NumberOfOccurrences must be between 1 and 999.');
        range = { type: 'Numbered', startDate: date('StartDate'), count };
        break;
      }
      default:
        if (/Regeneration$/.test(c.name)) throw new EwsError('ErrorInvalidRecurrence', `${c.name} applies to tasks, not calendar items.`);
        throw schemaError(`The element '${c.name}' is not valid in Recurrence.`);
    }
  }
  if (!pattern || !range) throw new EwsError('ErrorInvalidRecurrence', 'A recurrence needs a pattern and a range.');
  if (range.type === 'EndDate' && range.endDate < range.startDate) {
    throw new EwsError('ErrorInvalidRecurrence', 'The recurrence EndDate is before its StartDate.');
  }
  return { pattern, range };
}

export interface ExtendedFieldRef {
  propertySetId?: string;
  distinguishedPropertySetId?: string;
  propertyName?: string;
  propertyId?: number;
  propertyTag?: string;
  propertyType: string;
}

const PROPERTY_TYPES = new Set([
  'ApplicationTime',
  'ApplicationTimeArray',
  'Binary',
  'BinaryArray',
  'Boolean',
  'CLSID',
  'CLSIDArray',
  'Currency',
  'CurrencyArray',
  'Double',
  'DoubleArray',
  'Error',
  'Float',
  'FloatArray',
  'Integer',
  'IntegerArray',
  'Long',
  'LongArray',
  'Null',
  'Object',
  'ObjectArray',
  'Short',
  'ShortArray',
  'SystemTime',
  'SystemTimeArray',
  'String',
  'StringArray',
]);

export function readExtendedFieldUri(e: XmlElement): ExtendedFieldRef {
  const a = e.attrs;
  const type = a.PropertyType ?? '';
  if (!PROPERTY_TYPES.has(type)) throw schemaError(`The PropertyType '${type}' is invalid.`);
  const ref: ExtendedFieldRef = { propertyType: type };
  if (a.PropertySetId !== undefined) ref.propertySetId = a.PropertySetId;
  if (a.DistinguishedPropertySetId !== undefined) ref.distinguishedPropertySetId = a.DistinguishedPropertySetId;
  if (a.PropertyName !== undefined) ref.propertyName = a.PropertyName;
  if (a.PropertyId !== undefined) ref.propertyId = int(a.PropertyId, 'ExtendedFieldURI/PropertyId');
  if (a.PropertyTag !== undefined) ref.propertyTag = a.PropertyTag;
  const named = ref.propertyName !== undefined || ref.propertyId !== undefined;
  const hasSet = ref.propertySetId !== undefined || ref.distinguishedPropertySetId !== undefined;
  if (ref.propertyTag !== undefined ? named || hasSet : !(named && hasSet)) {
    throw new EwsError('ErrorInvalidExtendedProperty', 'An ExtendedFieldURI needs either PropertyTag, or a property set with PropertyName or PropertyId.');
  }
  return ref;
}

function checkExtendedValue(type: string, v: string): void {
  const base = type.replace(/Array$/, '');
  const bad =
    ((base === 'Integer' || base === 'Short' || base === 'Long') && !/^-?\d+$/.test(v.trim())) ||
    (base === 'Boolean' && !/^(true|false|1|0)$/.test(v.trim())) ||
    ((base === 'Double' || base === 'Float') && Number.isNaN(Number(v))) ||
    (base === 'SystemTime' && Number.isNaN(parseEwsDateTime(v, 'Etc/UTC')));
  if (bad) throw new EwsError('ErrorInvalidExtendedPropertyValue', `The value '${v}' is not a valid ${type}.`);
}

function readExtendedProperty(e: XmlElement): SimExtendedProperty {
  const uri = child(e, T, 'ExtendedFieldURI');
  if (!uri) throw schemaError('ExtendedProperty requires an ExtendedFieldURI.');
  const ref = readExtendedFieldUri(uri);
  const isArray = ref.propertyType.endsWith('Array');
  const single = child(e, T, 'Value');
  const many = child(e, T, 'Values');
  let value: string | string[];
  if (isArray) {
    if (!many) throw new EwsError('ErrorInvalidExtendedPropertyValue', `A ${ref.propertyType} property needs Values.`);
    value = childrenNamed(many, T, 'Value').map((v) => v.text);
    value.forEach((v) => checkExtendedValue(ref.propertyType, v));
  } else {
    if (!single) throw new EwsError('ErrorInvalidExtendedPropertyValue', `A ${ref.propertyType} property needs a Value.`);
    value = single.text;
    checkExtendedValue(ref.propertyType, value);
  }
  return { ...ref, value };
}

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

// ---------------------------------------------------------------------------------------------------------------
// Writing

export type BodyPreference = 'Best' | 'HTML' | 'Text';

export interface ItemShape {
  base: 'IdOnly' | 'Default' | 'AllProperties';
  uris: Set<string>;
  extended: ExtendedFieldRef[];
  bodyType: BodyPreference;
}

export interface RenderContext {
  version: ApiVersion;
  shape: ItemShape;
  /** FindItem and SyncFolderItems cannot return bodies, attendees or recurrence details (as in Exchange). */
  summaryOnly: boolean;
  nameFor(address: string): string;
  parentFolderId: string;
  parentFolderChangeKey: string;
}

/** What a rendered calendar item is: a stored item, or one occurrence/exception of a series. */
export interface ItemView {
  data: SimCalendarItem;
  id: string;
  changeKey: string;
  type: 'Single' | 'Occurrence' | 'Exception' | 'RecurringMaster';
  originalStartMs?: number;
  /** Occurrences of the series (for FirstOccurrence/LastOccurrence/ModifiedOccurrences ids). */
  occurrenceId?: (originalStartMs: number) => string;
  firstOccurrence?: { startMs: number; endMs: number } | null;
  lastOccurrence?: { startMs: number; endMs: number } | null;
}

const DEFAULT_URIS = [
  'item:Subject',
  'item:HasAttachments',
  'item:IsAssociated',
  'calendar:Start',
  'calendar:End',
  'calendar:LegacyFreeBusyStatus',
  'calendar:Location',
  'calendar:CalendarItemType',
  'calendar:Organizer',
];

const ALL_PROPERTIES_EXCLUDED = new Set(['item:TextBody', 'item:UniqueBody', 'item:MimeContent', 'calendar:StartTimeZoneId', 'calendar:EndTimeZoneId']);
const SUMMARY_EXCLUDED = new Set([
  'item:Body',
  'item:TextBody',
  'item:UniqueBody',
  'item:MimeContent',
  'calendar:RequiredAttendees',
  'calendar:OptionalAttendees',
  'calendar:Resources',
  'calendar:Recurrence',
  'calendar:ModifiedOccurrences',
  'calendar:DeletedOccurrences',
  'calendar:FirstOccurrence',
  'calendar:LastOccurrence',
  'calendar:ConflictingMeetings',
  'calendar:AdjacentMeetings',
]);

function htmlFromText(text: string): string {
  const inner = xmlEscape(text).replace(/\r?\n/g, '<br>\r\n');
  return `<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n</head>\r\n<body>\r\n<div>${inner}</div>\r\n</body>\r\n</html>\r\n`;
}

export function textFromHtml(html: string): string {
  return html
    .replace(/<(script|style|head)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|tr|h\d)>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&')
    .replace(/\r\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function bodyAs(data: SimCalendarItem, pref: BodyPreference): { type: BodyType; text: string } {
  if (pref === 'Best' || pref === data.bodyType) return { type: data.bodyType, text: data.body };
  if (pref === 'HTML') return { type: 'HTML', text: data.body ? htmlFromText(data.body) : '' };
  return { type: 'Text', text: textFromHtml(data.body) };
}

function mailboxXml(address: string, nameFor: (a: string) => string, version: ApiVersion): string {
  return (
    `<t:Mailbox>${el('t:Name', nameFor(address))}${el('t:EmailAddress', address)}<t:RoutingType>SMTP</t:RoutingType>` +
    (versionAtLeast(version, 'Exchange2007_SP1') ? '<t:MailboxType>Mailbox</t:MailboxType>' : '') +
    `</t:Mailbox>`
  );
}

function attendeesXml(tag: string, list: string[], ctx: RenderContext, responses: (a: string) => string): string {
  if (!list.length) return '';
  return `<t:${tag}>${list.map((a) => `<t:Attendee>${mailboxXml(a, ctx.nameFor, ctx.version)}${el('t:ResponseType', responses(a))}</t:Attendee>`).join('')}</t:${tag}>`;
}

export function recurrenceXml(r: SimRecurrence, version: ApiVersion): string {
  const p = r.pattern;
  let pat: string;
  switch (p.type) {
    case 'Daily':
      pat = `<t:DailyRecurrence>${el('t:Interval', p.interval)}</t:DailyRecurrence>`;
      break;
    case 'Weekly':
      pat =
        `<t:WeeklyRecurrence>${el('t:Interval', p.interval)}${el('t:DaysOfWeek', p.daysOfWeek.join(' '))}` +
        (versionAtLeast(version, 'Exchange2010') ? el('t:FirstDayOfWeek', p.firstDayOfWeek ?? 'Sunday') : '') +
        `</t:WeeklyRecurrence>`;
      break;
    case 'AbsoluteMonthly':
      pat = `<t:AbsoluteMonthlyRecurrence>${el('t:Interval', p.interval)}${el('t:DayOfMonth', p.dayOfMonth)}</t:AbsoluteMonthlyRecurrence>`;
      break;
    case 'RelativeMonthly':
      pat = `<t:RelativeMonthlyRecurrence>${el('t:Interval', p.interval)}${el('t:DaysOfWeek', p.daysOfWeek)}${el('t:DayOfWeekIndex', p.dayOfWeekIndex)}</t:RelativeMonthlyRecurrence>`;
      break;
    case 'AbsoluteYearly':
      pat = `<t:AbsoluteYearlyRecurrence>${el('t:DayOfMonth', p.dayOfMonth)}${el('t:Month', p.month)}</t:AbsoluteYearlyRecurrence>`;
      break;
    case 'RelativeYearly':
      pat = `<t:RelativeYearlyRecurrence>${el('t:DaysOfWeek', p.daysOfWeek)}${el('t:DayOfWeekIndex', p.dayOfWeekIndex)}${el('t:Month', p.month)}</t:RelativeYearlyRecurrence>`;
      break;
  }
  const g = r.range;
  let range: string;
  if (g.type === 'NoEnd') range = `<t:NoEndRecurrence>${el('t:StartDate', g.startDate)}</t:NoEndRecurrence>`;
  else if (g.type === 'EndDate') range = `<t:EndDateRecurrence>${el('t:StartDate', g.startDate)}${el('t:EndDate', g.endDate)}</t:EndDateRecurrence>`;
  else range = `<t:NumberedRecurrence>${el('t:StartDate', g.startDate)}${el('t:NumberOfOccurrences', g.count)}</t:NumberedRecurrence>`;
  return `<t:Recurrence>${pat}${range}</t:Recurrence>`;
}

function isoDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `P${d ? `${d}D` : ''}T${h}H${m}M${s}S`;
}

function biasDuration(minutesEast: number): string {
  const bias = -minutesEast;
  const abs = Math.abs(bias);
  return `${bias < 0 ? '-' : ''}PT${Math.floor(abs / 60)}H${abs % 60 ? `${abs % 60}M` : ''}`;
}

function extendedXml(p: SimExtendedProperty, asRequested: ExtendedFieldRef): string {
  const attrs: string[] = [];
  if (asRequested.distinguishedPropertySetId !== undefined) attrs.push(`DistinguishedPropertySetId="${attrEscape(asRequested.distinguishedPropertySetId)}"`);
  if (asRequested.propertySetId !== undefined) attrs.push(`PropertySetId="${attrEscape(asRequested.propertySetId)}"`);
  if (asRequested.propertyTag !== undefined) attrs.push(`PropertyTag="${attrEscape(asRequested.propertyTag)}"`);
  if (asRequested.propertyName !== undefined) attrs.push(`PropertyName="${attrEscape(asRequested.propertyName)}"`);
  if (asRequested.propertyId !== undefined) attrs.push(`PropertyId="${asRequested.propertyId}"`);
  attrs.push(`PropertyType="${attrEscape(p.propertyType)}"`);
  const value = Array.isArray(p.value) ? `<t:Values>${p.value.map((v) => el('t:Value', v)).join('')}</t:Values>` : el('t:Value', p.value);
  return `<t:ExtendedProperty><t:ExtendedFieldURI ${attrs.join(' ')}/>${value}</t:ExtendedProperty>`;
}

type Emitter = (v: ItemView, ctx: RenderContext) => string;

/** Supported properties in schema order (ItemType, then CalendarItemType). */
const EMITTERS: Array<[string, Emitter]> = [
  ['item:ParentFolderId', (_v, c) => `<t:ParentFolderId Id="${attrEscape(c.parentFolderId)}" ChangeKey="${attrEscape(c.parentFolderChangeKey)}"/>`],
  ['item:ItemClass', () => '<t:ItemClass>IPM.Appointment</t:ItemClass>'],
  ['item:Subject', (v) => el('t:Subject', v.data.subject)],
  ['item:Sensitivity', (v) => el('t:Sensitivity', v.data.sensitivity)],
  [
    'item:Body',
    (v, c) => {
      const b = bodyAs(v.data, c.shape.bodyType);
      return `<t:Body BodyType="${b.type}"${versionAtLeast(c.version, 'Exchange2010') ? ' IsTruncated="false"' : ''}>${xmlEscape(b.text)}</t:Body>`;
    },
  ],
  ['item:DateTimeReceived', (v) => el('t:DateTimeReceived', v.data.dateTimeCreated)],
  ['item:Size', (v) => el('t:Size', 512 + Buffer.byteLength(v.data.subject) + Buffer.byteLength(v.data.body))],
  ['item:Categories', (v) => (v.data.categories.length ? `<t:Categories>${v.data.categories.map((c) => el('t:String', c)).join('')}</t:Categories>` : '')],
  ['item:Importance', () => '<t:Importance>Normal</t:Importance>'],
  ['item:IsSubmitted', () => '<t:IsSubmitted>false</t:IsSubmitted>'],
  ['item:IsDraft', () => '<t:IsDraft>false</t:IsDraft>'],
  ['item:IsFromMe', () => '<t:IsFromMe>false</t:IsFromMe>'],
  ['item:IsResend', () => '<t:IsResend>false</t:IsResend>'],
  ['item:IsUnmodified', () => '<t:IsUnmodified>false</t:IsUnmodified>'],
  ['item:DateTimeSent', (v) => el('t:DateTimeSent', v.data.dateTimeCreated)],
  ['item:DateTimeCreated', (v) => el('t:DateTimeCreated', v.data.dateTimeCreated)],
  ['item:ReminderDueBy', (v) => el('t:ReminderDueBy', v.data.start)],
  ['item:ReminderIsSet', (v) => el('t:ReminderIsSet', v.data.reminderIsSet)],
  ['item:ReminderMinutesBeforeStart', (v) => el('t:ReminderMinutesBeforeStart', v.data.reminderMinutesBeforeStart)],
  ['item:DisplayCc', (v, c) => el('t:DisplayCc', v.data.optionalAttendees.map(c.nameFor).join('; '))],
  ['item:DisplayTo', (v, c) => el('t:DisplayTo', v.data.requiredAttendees.map(c.nameFor).join('; '))],
  ['item:HasAttachments', () => '<t:HasAttachments>false</t:HasAttachments>'],
  ['@extended', () => ''],
  ['item:Culture', () => '<t:Culture>en-US</t:Culture>'],
  ['item:LastModifiedName', (v, c) => el('t:LastModifiedName', c.nameFor(v.data.mailbox))],
  ['item:LastModifiedTime', (v) => el('t:LastModifiedTime', v.data.lastModifiedTime)],
  ['item:IsAssociated', () => '<t:IsAssociated>false</t:IsAssociated>'],
  [
    'item:TextBody',
    (v, c) => (versionAtLeast(c.version, 'Exchange2013') ? `<t:TextBody BodyType="Text">${xmlEscape(bodyAs(v.data, 'Text').text)}</t:TextBody>` : ''),
  ],
  ['calendar:UID', (v) => el('t:UID', v.data.uid)],
  ['calendar:RecurrenceId', (v) => (v.originalStartMs !== undefined ? el('t:RecurrenceId', ewsDateTime(v.originalStartMs)) : '')],
  ['calendar:DateTimeStamp', (v) => el('t:DateTimeStamp', v.data.lastModifiedTime)],
  ['calendar:Start', (v) => el('t:Start', v.data.start)],
  ['calendar:End', (v) => el('t:End', v.data.end)],
  ['calendar:OriginalStart', (v) => (v.originalStartMs !== undefined ? el('t:OriginalStart', ewsDateTime(v.originalStartMs)) : '')],
  ['calendar:IsAllDayEvent', (v) => el('t:IsAllDayEvent', v.data.isAllDay)],
  ['calendar:LegacyFreeBusyStatus', (v) => el('t:LegacyFreeBusyStatus', v.data.legacyFreeBusyStatus)],
  ['calendar:Location', (v) => el('t:Location', v.data.location)],
  ['calendar:IsMeeting', (v) => el('t:IsMeeting', isMeeting(v.data))],
  ['calendar:IsCancelled', (v) => el('t:IsCancelled', v.data.isCancelled)],
  ['calendar:IsRecurring', (v) => el('t:IsRecurring', v.type === 'Occurrence' || v.type === 'Exception')],
  ['calendar:MeetingRequestWasSent', (v) => el('t:MeetingRequestWasSent', isMeeting(v.data) && v.data.organizer === v.data.mailbox)],
  ['calendar:IsResponseRequested', (v) => el('t:IsResponseRequested', isMeeting(v.data))],
  ['calendar:CalendarItemType', (v) => el('t:CalendarItemType', v.type)],
  ['calendar:MyResponseType', (v) => el('t:MyResponseType', v.data.myResponseType)],
  ['calendar:Organizer', (v, c) => `<t:Organizer>${mailboxXml(v.data.organizer, c.nameFor, c.version)}</t:Organizer>`],
  [
    'calendar:RequiredAttendees',
    (v, c) => attendeesXml('RequiredAttendees', v.data.requiredAttendees, c, () => 'Unknown'),
  ],
  ['calendar:OptionalAttendees', (v, c) => attendeesXml('OptionalAttendees', v.data.optionalAttendees, c, () => 'Unknown')],
  ['calendar:ConflictingMeetingCount', () => '<t:ConflictingMeetingCount>0</t:ConflictingMeetingCount>'],
  ['calendar:AdjacentMeetingCount', () => '<t:AdjacentMeetingCount>0</t:AdjacentMeetingCount>'],
  ['calendar:Duration', (v) => el('t:Duration', isoDuration(Date.parse(v.data.end) - Date.parse(v.data.start)))],
  ['calendar:TimeZone', (v) => el('t:TimeZone', windowsZoneFor(v.data.timeZone).name)],
  ['calendar:AppointmentSequenceNumber', (v) => el('t:AppointmentSequenceNumber', v.data.appointmentSequenceNumber)],
  ['calendar:AppointmentState', (v) => el('t:AppointmentState', appointmentState(v.data))],
  ['calendar:Recurrence', (v, c) => (v.type === 'RecurringMaster' && v.data.recurrence ? recurrenceXml(v.data.recurrence, c.version) : '')],
  ['calendar:FirstOccurrence', (v) => occurrenceInfo('FirstOccurrence', v, v.firstOccurrence)],
  ['calendar:LastOccurrence', (v) => occurrenceInfo('LastOccurrence', v, v.lastOccurrence)],
  [
    'calendar:ModifiedOccurrences',
    (v) => {
      if (v.type !== 'RecurringMaster' || !v.data.modifiedOccurrences.length || !v.occurrenceId) return '';
      const occ = (o: SimOccurrenceOverride): string => {
        const orig = Date.parse(o.originalStart);
        const duration = Date.parse(v.data.end) - Date.parse(v.data.start);
        const start = o.start ?? o.originalStart;
        const end = o.end ?? ewsDateTime(orig + duration);
        return `<t:Occurrence><t:ItemId Id="${attrEscape(v.occurrenceId!(orig))}" ChangeKey="${attrEscape(v.changeKey)}"/>${el('t:Start', start)}${el('t:End', end)}${el('t:OriginalStart', o.originalStart)}</t:Occurrence>`;
      };
      const sorted = [...v.data.modifiedOccurrences].sort((a, b) => a.originalStart.localeCompare(b.originalStart));
      return `<t:ModifiedOccurrences>${sorted.map(occ).join('')}</t:ModifiedOccurrences>`;
    },
  ],
  [
    'calendar:DeletedOccurrences',
    (v) =>
      v.type === 'RecurringMaster' && v.data.deletedOccurrences.length
        ? `<t:DeletedOccurrences>${[...v.data.deletedOccurrences].sort().map((s) => `<t:DeletedOccurrence>${el('t:Start', s)}</t:DeletedOccurrence>`).join('')}</t:DeletedOccurrences>`
        : '',
  ],
  [
    'calendar:MeetingTimeZone',
    (v, c) => {
      if (versionAtLeast(c.version, 'Exchange2010')) return '';
      const z = windowsZoneFor(v.data.timeZone);
      const std = Math.min(offsetMinutes(v.data.timeZone, Date.UTC(2026, 0, 15)), offsetMinutes(v.data.timeZone, Date.UTC(2026, 6, 15)));
      return `<t:MeetingTimeZone TimeZoneName="${attrEscape(z.id)}">${el('t:BaseOffset', biasDuration(std))}</t:MeetingTimeZone>`;
    },
  ],
  ['calendar:StartTimeZone', (v, c) => timeZoneXml('StartTimeZone', v.data.timeZone, c.version)],
  ['calendar:EndTimeZone', (v, c) => timeZoneXml('EndTimeZone', v.data.timeZone, c.version)],
  ['calendar:ConferenceType', () => '<t:ConferenceType>0</t:ConferenceType>'],
  ['calendar:AllowNewTimeProposal', () => '<t:AllowNewTimeProposal>true</t:AllowNewTimeProposal>'],
  ['calendar:IsOnlineMeeting', () => '<t:IsOnlineMeeting>false</t:IsOnlineMeeting>'],
  ['calendar:StartTimeZoneId', (v, c) => (versionAtLeast(c.version, 'Exchange2016') ? el('t:StartTimeZoneId', windowsZoneFor(v.data.timeZone).id) : '')],
  ['calendar:EndTimeZoneId', (v, c) => (versionAtLeast(c.version, 'Exchange2016') ? el('t:EndTimeZoneId', windowsZoneFor(v.data.timeZone).id) : '')],
  ['calendar:IsOrganizer', (v, c) => (versionAtLeast(c.version, 'Exchange2013') ? el('t:IsOrganizer', v.data.organizer === v.data.mailbox) : '')],
];

export const SUPPORTED_URIS = new Set(EMITTERS.map(([u]) => u).filter((u) => !u.startsWith('@')));
const ALL_PROPERTY_URIS = [...SUPPORTED_URIS].filter((u) => !ALL_PROPERTIES_EXCLUDED.has(u));

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function minutesDuration(minutes: number): string {
  const sign = minutes < 0 ? '-' : '';
  const abs = Math.abs(minutes);
  return `${sign}PT${Math.floor(abs / 60)}H${abs % 60 ? `${abs % 60}M` : ''}`;
}

const tzXmlCache = new Map<string, string>();

/** A full TimeZoneDefinition (periods, transition groups, transitions), as Exchange 2010+ returns one. */
export function timeZoneDefinitionXml(tag: string, zone: string): string {
  const key = `${tag}|${zone}`;
  let xml = tzXmlCache.get(key);
  if (xml === undefined) {
    xml = buildTimeZoneDefinitionXml(tag, zone);
    tzXmlCache.set(key, xml);
  }
  return xml;
}

function buildTimeZoneDefinitionXml(tag: string, zone: string): string {
  const z = windowsZoneFor(zone);
  const r = zoneRules(zone);
  const base = `trule:Microsoft/Registry/${z.id}/2026`;
  const stdId = `${base}-Standard`;
  const dltId = `${base}-Daylight`;
  let periods = `<t:Period Bias="${minutesDuration(-r.standardOffset)}" Name="Standard" Id="${attrEscape(stdId)}"/>`;
  let group: string;
  if (r.daylightOffset !== null && r.toDaylight && r.toStandard) {
    periods += `<t:Period Bias="${minutesDuration(-r.daylightOffset)}" Name="Daylight" Id="${attrEscape(dltId)}"/>`;
    const tr = (to: string, rule: NonNullable<typeof r.toDaylight>): string =>
      `<t:RecurringDayTransition><t:To Kind="Period">${xmlEscape(to)}</t:To>${el('t:TimeOffset', minutesDuration(rule.localMinutes))}` +
      `${el('t:Month', rule.month)}${el('t:DayOfWeek', DAY_NAMES[rule.weekday])}${el('t:Occurrence', rule.occurrence)}</t:RecurringDayTransition>`;
    group = tr(dltId, r.toDaylight) + tr(stdId, r.toStandard);
  } else {
    group = `<t:Transition><t:To Kind="Period">${xmlEscape(stdId)}</t:To></t:Transition>`;
  }
  return (
    `<t:${tag} Id="${attrEscape(z.id)}" Name="${attrEscape(z.name)}"><t:Periods>${periods}</t:Periods>` +
    `<t:TransitionsGroups><t:TransitionsGroup Id="0">${group}</t:TransitionsGroup></t:TransitionsGroups>` +
    `<t:Transitions><t:Transition><t:To Kind="Group">0</t:To></t:Transition></t:Transitions></t:${tag}>`
  );
}

function timeZoneXml(tag: string, zone: string, version: ApiVersion): string {
  if (!versionAtLeast(version, 'Exchange2010')) return '';
  return timeZoneDefinitionXml(tag, zone);
}

function occurrenceInfo(tag: string, v: ItemView, o: { startMs: number; endMs: number } | null | undefined): string {
  if (v.type !== 'RecurringMaster' || !o || !v.occurrenceId) return '';
  return `<t:${tag}><t:ItemId Id="${attrEscape(v.occurrenceId(o.startMs))}" ChangeKey="${attrEscape(v.changeKey)}"/>${el('t:Start', ewsDateTime(o.startMs))}${el('t:End', ewsDateTime(o.endMs))}${el('t:OriginalStart', ewsDateTime(o.startMs))}</t:${tag}>`;
}

function isMeeting(d: SimCalendarItem): boolean {
  return d.requiredAttendees.length + d.optionalAttendees.length > 0;
}

function appointmentState(d: SimCalendarItem): number {
  let s = 0;
  if (isMeeting(d)) s |= 1;
  if (d.organizer !== d.mailbox) s |= 3;
  if (d.isCancelled) s |= 4;
  return s;
}

export function localDateOf(ms: number, zone: string): string {
  const l = utcToLocal(zone, ms);
  return formatDate(l.year, l.month, l.day);
}

export function renderCalendarItem(v: ItemView, ctx: RenderContext): string {
  const { shape } = ctx;
  let parts = `<t:CalendarItem><t:ItemId Id="${attrEscape(v.id)}" ChangeKey="${attrEscape(v.changeKey)}"/>`;
  if (shape.base === 'IdOnly' && shape.uris.size === 0 && shape.extended.length === 0) return `${parts}</t:CalendarItem>`;
  const wanted = new Set<string>(shape.uris);
  if (shape.base === 'Default') for (const u of DEFAULT_URIS) wanted.add(u);
  if (shape.base === 'AllProperties') for (const u of ALL_PROPERTY_URIS) wanted.add(u);
  for (const [uri, emit] of EMITTERS) {
    if (uri === '@extended') {
      if (ctx.shape.extended.length) {
        for (const ref of ctx.shape.extended) {
          const k = extendedPropertyKey(ref);
          const p = v.data.extendedProperties.find((x) => extendedPropertyKey(x) === k);
          if (p) parts += extendedXml(p, ref);
        }
      }
      continue;
    }
    if (!wanted.has(uri)) continue;
    if (ctx.summaryOnly && SUMMARY_EXCLUDED.has(uri)) continue;
    parts += emit(v, ctx);
  }
  return `${parts}</t:CalendarItem>`;
}

/** Reads `m:ItemShape` / `m:ResponseShape`. Unknown FieldURIs are skipped (clients ask for much we don't keep). */
export function readItemShape(e: XmlElement | undefined): ItemShape {
  const base = (childText(e, T, 'BaseShape') ?? 'Default').trim();
  if (base !== 'IdOnly' && base !== 'Default' && base !== 'AllProperties') throw schemaError(`The value '${base}' is invalid for BaseShape.`);
  const bodyType = (childText(e, T, 'BodyType') ?? 'Best').trim();
  if (bodyType !== 'Best' && bodyType !== 'HTML' && bodyType !== 'Text') throw schemaError(`The value '${bodyType}' is invalid for BodyType.`);
  const shape: ItemShape = { base, uris: new Set(), extended: [], bodyType };
  for (const p of child(e, T, 'AdditionalProperties')?.children ?? []) {
    if (p.ns !== T) continue;
    if (p.name === 'FieldURI') {
      const uri = p.attrs.FieldURI ?? '';
      if (!/^[A-Za-z]+:[A-Za-z]+$/.test(uri)) throw schemaError(`The FieldURI '${uri}' is invalid.`);
      shape.uris.add(uri);
    } else if (p.name === 'ExtendedFieldURI') {
      shape.extended.push(readExtendedFieldUri(p));
    }
  }
  return shape;
}

/** Applies an occurrence's own changes over its series' fields. */
export function occurrenceData(master: SimCalendarItem, startMs: number, endMs: number, ov: SimOccurrenceOverride | undefined): SimCalendarItem {
  return {
    ...master,
    subject: ov?.subject ?? master.subject,
    location: ov?.location ?? master.location,
    body: ov?.body ?? master.body,
    bodyType: ov?.bodyType ?? master.bodyType,
    sensitivity: ov?.sensitivity ?? master.sensitivity,
    legacyFreeBusyStatus: ov?.legacyFreeBusyStatus ?? master.legacyFreeBusyStatus,
    start: ewsDateTime(startMs),
    end: ewsDateTime(endMs),
    lastModifiedTime: ov?.lastModifiedTime ?? master.lastModifiedTime,
    recurrence: null,
    modifiedOccurrences: [],
    deletedOccurrences: [],
  };
}

