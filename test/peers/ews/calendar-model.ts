/**
 * The simulator's calendar item, in EWS terms (not the product's neutral event model, on purpose: the simulator
 * must be able to hold whatever a real mailbox holds, including things the product cannot express).
 * Instants are UTC ISO strings; `timeZone` is the IANA zone that the item's StartTimeZone names.
 */

export type Weekday = 'Sunday' | 'Monday' | 'Tuesday' | 'Wednesday' | 'Thursday' | 'Friday' | 'Saturday';
export type DaysOfWeekValue = Weekday | 'Day' | 'Weekday' | 'WeekendDay';
export type DayOfWeekIndex = 'First' | 'Second' | 'Third' | 'Fourth' | 'Last';
export type MonthName =
  | 'January'
  | 'February'
  | 'March'
  | 'April'
  | 'May'
  | 'June'
  | 'July'
  | 'August'
  | 'September'
  | 'October'
  | 'November'
  | 'December';

export const WEEKDAYS: readonly Weekday[] = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
export const MONTHS: readonly MonthName[] = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
export const DAY_INDEXES: readonly DayOfWeekIndex[] = ['First', 'Second', 'Third', 'Fourth', 'Last'];

export type SimRecurrencePattern =
  | { type: 'Daily'; interval: number }
  | { type: 'Weekly'; interval: number; daysOfWeek: Weekday[]; firstDayOfWeek?: Weekday }
  | { type: 'AbsoluteMonthly'; interval: number; dayOfMonth: number }
  | { type: 'RelativeMonthly'; interval: number; daysOfWeek: DaysOfWeekValue; dayOfWeekIndex: DayOfWeekIndex }
  | { type: 'AbsoluteYearly'; dayOfMonth: number; month: MonthName }
  | { type: 'RelativeYearly'; daysOfWeek: DaysOfWeekValue; dayOfWeekIndex: DayOfWeekIndex; month: MonthName };

/** Dates are local dates (YYYY-MM-DD) in the item's time zone; EndDate is inclusive. */
export type SimRecurrenceRange =
  | { type: 'NoEnd'; startDate: string }
  | { type: 'EndDate'; startDate: string; endDate: string }
  | { type: 'Numbered'; startDate: string; count: number };

export interface SimRecurrence {
  pattern: SimRecurrencePattern;
  range: SimRecurrenceRange;
}

/** A modified occurrence (an "exception"): the fields that differ from the series. */
export interface SimOccurrenceOverride {
  /** The start the occurrence has in the pattern (UTC instant): its identity within the series. */
  originalStart: string;
  subject?: string;
  start?: string;
  end?: string;
  location?: string;
  body?: string;
  bodyType?: BodyType;
  sensitivity?: Sensitivity;
  legacyFreeBusyStatus?: FreeBusy;
  lastModifiedTime: string;
}

export type Sensitivity = 'Normal' | 'Personal' | 'Private' | 'Confidential';
export type BodyType = 'HTML' | 'Text';
export type FreeBusy = 'Free' | 'Tentative' | 'Busy' | 'OOF' | 'WorkingElsewhere' | 'NoData';
export type ResponseType = 'Unknown' | 'Organizer' | 'Tentative' | 'Accept' | 'Decline' | 'NoResponseReceived';

export const SENSITIVITIES: readonly Sensitivity[] = ['Normal', 'Personal', 'Private', 'Confidential'];
export const FREE_BUSY: readonly FreeBusy[] = ['Free', 'Tentative', 'Busy', 'OOF', 'WorkingElsewhere', 'NoData'];

/**
 * An extended (MAPI) property. Named properties carry a property set (GUID or distinguished name) and a name or
 * numeric id; tagged ones a property tag (`0x1234`). Values are kept as EWS writes them (strings).
 */
export interface SimExtendedProperty {
  propertySetId?: string;
  distinguishedPropertySetId?: string;
  propertyName?: string;
  propertyId?: number;
  propertyTag?: string;
  propertyType: string;
  value: string | string[];
}

export interface SimCalendarItem {
  /** EWS ItemId Id. */
  id: string;
  changeKey: string;
  /** Primary SMTP address of the mailbox that holds this copy. */
  mailbox: string;
  /** iCalendar UID: the same in the organizer's and each attendee's copy of a meeting. */
  uid: string;
  subject: string;
  start: string;
  end: string;
  isAllDay: boolean;
  /** IANA zone of StartTimeZone. */
  timeZone: string;
  location: string;
  body: string;
  bodyType: BodyType;
  sensitivity: Sensitivity;
  legacyFreeBusyStatus: FreeBusy;
  /** Organizer's SMTP address (the mailbox owner for an appointment). */
  organizer: string;
  /** Lower-case SMTP addresses. */
  requiredAttendees: string[];
  optionalAttendees: string[];
  categories: string[];
  reminderIsSet: boolean;
  reminderMinutesBeforeStart: number;
  recurrence: SimRecurrence | null;
  modifiedOccurrences: SimOccurrenceOverride[];
  /** Original starts (UTC instants) of deleted occurrences. */
  deletedOccurrences: string[];
  extendedProperties: SimExtendedProperty[];
  isCancelled: boolean;
  myResponseType: ResponseType;
  appointmentSequenceNumber: number;
  dateTimeCreated: string;
  lastModifiedTime: string;
  calendarItemType: 'Single' | 'RecurringMaster';
}

export function cloneItem(item: SimCalendarItem): SimCalendarItem {
  return structuredClone(item);
}

/** Well-known MAPI property sets, so a client may name a set either way and still find the same property. */
export const DISTINGUISHED_PROPERTY_SETS: Record<string, string> = {
  Meeting: '6ed8da90-450b-101b-98da-00aa003f1305',
  Appointment: '00062002-0000-0000-c000-000000000046',
  Common: '00062008-0000-0000-c000-000000000046',
  PublicStrings: '00020329-0000-0000-c000-000000000046',
  Address: '00062004-0000-0000-c000-000000000046',
  InternetHeaders: '00020386-0000-0000-c000-000000000046',
  CalendarAssistant: '11000e07-b51b-40d6-af21-caa85edab1d0',
  UnifiedMessaging: '4442858e-a9e3-4e80-b900-317a210cc15b',
  Task: '00062003-0000-0000-c000-000000000046',
  Sharing: '00062040-0000-0000-c000-000000000046',
};

/** A key identifying an extended property regardless of how the client spelled the set or the tag. */
export function extendedPropertyKey(p: Omit<SimExtendedProperty, 'value' | 'propertyType'>): string {
  if (p.propertyTag !== undefined) {
    const n = p.propertyTag.toLowerCase().startsWith('0x') ? parseInt(p.propertyTag, 16) : parseInt(p.propertyTag, 10);
    return `tag:${Number.isFinite(n) ? n : p.propertyTag.toLowerCase()}`;
  }
  const set = (p.propertySetId ?? DISTINGUISHED_PROPERTY_SETS[p.distinguishedPropertySetId ?? ''] ?? p.distinguishedPropertySetId ?? '').toLowerCase();
  return p.propertyName !== undefined ? `name:${set}:${p.propertyName}` : `id:${set}:${p.propertyId}`;
}
