import type { DayGroup, EventFields, RecurrenceRule, SideEvent, WeekOrdinal, Weekday } from '../../sync/calendar-event.ts';
import { canonicalRule } from '../../sync/recurrence-rule.ts';
import { CalendarError } from '../calendar-connector.ts';
import { seriesWithExceptions, type OccurrenceRef, type ReadCalendarItem, type ReadContext } from './ews-appointment-reading.ts';
import { SYNC_TAG_PROPERTY_NAME, SYNC_TAG_PROPERTY_SET_ID } from './ews-calendar-mapping.ts';
import { ianaTimeZoneFor } from './ews-time-zone-mapping.ts';
import { htmlToText, looksLikeHtml } from './html-to-text.ts';
import { WEEKDAYS } from './recurrence-expansion.ts';
import { localDateOf, parseDate } from './time-zone-conversion.ts';
import { child, childrenNamed, childText, path, type XmlNode } from './ews-xml.ts';

/**
 * EWS CalendarItem XML (as GetItem returns it, read by ews-xml.ts) -> the neutral fields: the same rules as
 * readCalendarItem/withExceptions in ews-appointment-reading.ts, which read ews-javascript-api's Appointment objects, for
 * the connector's own GetItem path (Exchange 2010 and later: StartTimeZone names the zone by its Windows id).
 */

function instant(text: string | null): number | null {
  if (!text) return null;
  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? null : ms;
}

function isoOrNull(text: string | null): string | null {
  const ms = instant(text);
  return ms === null ? null : new Date(ms).toISOString();
}

function addressOf(mailboxParent: XmlNode | null): string | null {
  const address = childText(child(mailboxParent, 'Mailbox'), 'EmailAddress');
  const a = address?.trim().toLowerCase() ?? '';
  return a.length > 0 ? a : null;
}

function bodyTextOf(item: XmlNode): string {
  const body = child(item, 'Body');
  if (!body) return '';
  const text = body.text;
  if (body.attrs?.BodyType === 'HTML' || looksLikeHtml(text)) return htmlToText(text);
  return text.replace(/\r\n?/g, '\n').trim();
}

function nextDate(date: string): string {
  return new Date(parseDate(date) + 86_400_000).toISOString().slice(0, 10);
}

/** Fields shared by a series, a single item and an occurrence. */
function commonFields(item: XmlNode, timeZone: string, isAllDay: boolean): Omit<EventFields, 'recurrence' | 'exceptions'> {
  const startMs = instant(childText(item, 'Start'));
  const endMs = instant(childText(item, 'End'));
  if (startMs === null || endMs === null) throw new CalendarError('bad-response', 'Exchange returned a calendar item without a start or end.');
  const organizer = addressOf(child(item, 'Organizer'));
  const attendees = new Set<string>();
  for (const list of ['RequiredAttendees', 'OptionalAttendees']) {
    for (const attendee of childrenNamed(child(item, list), 'Attendee')) {
      const address = addressOf(attendee);
      if (address && address !== organizer) attendees.add(address);
    }
  }
  const sensitivity = childText(item, 'Sensitivity')?.trim();
  return {
    subject: childText(item, 'Subject') ?? '',
    start: isAllDay ? localDateOf(startMs, timeZone) : new Date(startMs).toISOString(),
    // An all-day end is local midnight of the day after; anything short of midnight still covers that day.
    end: isAllDay ? nextDate(localDateOf(endMs - 1, timeZone)) : new Date(endMs).toISOString(),
    isAllDay,
    timeZone,
    location: childText(item, 'Location') ?? '',
    body: bodyTextOf(item),
    isPrivate: sensitivity === 'Private' || sensitivity === 'Confidential',
    attendees: [...attendees].sort(),
    organizer,
  };
}

const isTrue = (text: string | null) => text?.trim() === 'true' || text?.trim() === '1';

// ---- recurrence ----

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const ORDINALS: WeekOrdinal[] = ['First', 'Second', 'Third', 'Fourth', 'Last'];
const GROUPS: DayGroup[] = ['Day', 'Weekday', 'WeekendDay'];

function dayValue(name: string): Weekday | DayGroup | null {
  if ((WEEKDAYS as readonly string[]).includes(name)) return name as Weekday;
  if ((GROUPS as string[]).includes(name)) return name as DayGroup;
  return null;
}

function weekdaysOf(name: string): Weekday[] | null {
  const v = dayValue(name);
  if (v === 'Day') return [...WEEKDAYS];
  if (v === 'Weekday') return ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];
  if (v === 'WeekendDay') return ['Saturday', 'Sunday'];
  return v ? [v as Weekday] : null;
}

function num(text: string | null, fallback: number): number {
  const n = Number(text?.trim());
  return text !== null && Number.isFinite(n) ? n : fallback;
}

interface RecurrenceReading {
  rule: RecurrenceRule | null;
  unsupported?: string;
  firstDayOfWeek: number;
}

export function recurrenceFromXml(recurrence: XmlNode | null): RecurrenceReading {
  if (!recurrence) return { rule: null, firstDayOfWeek: 0 };
  const unsupported = (what: string): RecurrenceReading => ({ rule: null, unsupported: what, firstDayOfWeek: 0 });
  const range = recurrence.children.find((c) => c.name === 'NoEndRecurrence' || c.name === 'EndDateRecurrence' || c.name === 'NumberedRecurrence');
  const pattern = recurrence.children.find((c) => c !== range);
  if (!range || !pattern) return unsupported('a pattern without a range');
  const startDate = (childText(range, 'StartDate') ?? '').trim().slice(0, 10);
  const end: Pick<RecurrenceRule, 'count' | 'until'> = {};
  if (range.name === 'NumberedRecurrence') {
    const count = num(childText(range, 'NumberOfOccurrences'), NaN);
    if (Number.isInteger(count) && count > 0) end.count = count;
  } else if (range.name === 'EndDateRecurrence') {
    const until = (childText(range, 'EndDate') ?? '').trim().slice(0, 10);
    if (until) end.until = until;
  }
  const interval = num(childText(pattern, 'Interval'), 1);
  const done = (rule: RecurrenceRule, firstDayOfWeek = 0): RecurrenceReading => ({ rule: canonicalRule(rule), firstDayOfWeek });
  switch (pattern.name) {
    case 'DailyRecurrence':
      return done({ frequency: 'Daily', interval, startDate, ...end });
    case 'WeeklyRecurrence': {
      const names = (childText(pattern, 'DaysOfWeek') ?? '').trim().split(/\s+/).filter(Boolean);
      const expanded = names.map(weekdaysOf);
      if (expanded.length === 0 || expanded.some((x) => x === null)) return unsupported('a weekly pattern without days');
      const days = WEEKDAYS.filter((d) => expanded.some((list) => list!.includes(d)));
      const first = (childText(pattern, 'FirstDayOfWeek') ?? '').trim();
      const firstIndex = Math.max(0, WEEKDAYS.indexOf(first as Weekday));
      const weekStart = WEEKDAYS[firstIndex];
      return done({ frequency: 'Weekly', interval, daysOfWeek: days, startDate, ...end, ...(weekStart !== 'Sunday' ? { firstDayOfWeek: weekStart } : {}) }, firstIndex);
    }
    case 'AbsoluteMonthlyRecurrence':
      return done({ frequency: 'Monthly', interval, dayOfMonth: num(childText(pattern, 'DayOfMonth'), 1), startDate, ...end });
    case 'AbsoluteYearlyRecurrence':
      return done({ frequency: 'Yearly', interval: 1, month: MONTHS.indexOf((childText(pattern, 'Month') ?? '').trim()) + 1 || 1, dayOfMonth: num(childText(pattern, 'DayOfMonth'), 1), startDate, ...end });
    case 'RelativeMonthlyRecurrence':
    case 'RelativeYearlyRecurrence': {
      const day = dayValue((childText(pattern, 'DaysOfWeek') ?? '').trim());
      const ordinal = ORDINALS.find((o) => o === (childText(pattern, 'DayOfWeekIndex') ?? '').trim()) ?? null;
      if (!day || !ordinal) return unsupported('a relative pattern without a day or week of the month');
      if (pattern.name === 'RelativeMonthlyRecurrence') return done({ frequency: 'Monthly', interval, weekOrdinal: ordinal, dayOfWeek: day, startDate, ...end });
      return done({ frequency: 'Yearly', interval: 1, weekOrdinal: ordinal, dayOfWeek: day, month: MONTHS.indexOf((childText(pattern, 'Month') ?? '').trim()) + 1 || 1, startDate, ...end });
    }
    default:
      return unsupported('a regenerating (task) pattern');
  }
}

// ---- items ----

function syncTagOf(item: XmlNode): string | undefined {
  for (const p of childrenNamed(item, 'ExtendedProperty')) {
    const uri = child(p, 'ExtendedFieldURI')?.attrs;
    if (uri?.PropertyName !== SYNC_TAG_PROPERTY_NAME || uri.PropertySetId?.toLowerCase() !== SYNC_TAG_PROPERTY_SET_ID) continue;
    const value = childText(p, 'Value');
    if (value) return value;
  }
  return undefined;
}

function timeZoneOf(item: XmlNode, ctx: ReadContext): string {
  const id = child(item, 'StartTimeZone')?.attrs?.Id ?? childText(item, 'StartTimeZoneId')?.trim() ?? null;
  return ianaTimeZoneFor(id, ctx.defaultTimeZone);
}

/** A CalendarItem element as the connector reads it (same shape as readCalendarItem's). */
export function readCalendarItemXml(item: XmlNode, ctx: ReadContext): ReadCalendarItem {
  const itemId = child(item, 'ItemId');
  const id = itemId?.attrs?.Id ?? '';
  if (!id) throw new CalendarError('bad-response', 'Exchange returned a calendar item without an id.');
  const timeZone = timeZoneOf(item, ctx);
  const isAllDay = isTrue(childText(item, 'IsAllDayEvent'));
  const type = (childText(item, 'CalendarItemType') ?? 'Single').trim();
  const reading: RecurrenceReading = type === 'RecurringMaster' ? recurrenceFromXml(child(item, 'Recurrence')) : { rule: null, firstDayOfWeek: 0 };
  const fields: EventFields = { ...commonFields(item, timeZone, isAllDay), recurrence: reading.rule, exceptions: [] };
  const uid = childText(item, 'UID')?.trim() ?? '';
  const syncTag = syncTagOf(item);
  const event: SideEvent = {
    id,
    version: itemId?.attrs?.ChangeKey ?? '',
    lastModified: isoOrNull(childText(item, 'LastModifiedTime')) ?? new Date(0).toISOString(),
    fields,
    ...(uid ? { uid } : {}),
    ...(syncTag ? { syncTag } : {}),
  };
  const modifiedOccurrences: OccurrenceRef[] = [];
  const deletedOccurrences: string[] = [];
  if (reading.rule) {
    for (const o of childrenNamed(child(item, 'ModifiedOccurrences'), 'Occurrence')) {
      const occurrenceId = child(o, 'ItemId')?.attrs?.Id ?? '';
      const originalStart = isoOrNull(childText(o, 'OriginalStart'));
      if (occurrenceId && originalStart) modifiedOccurrences.push({ itemId: occurrenceId, originalStart });
    }
    for (const o of childrenNamed(child(item, 'DeletedOccurrences'), 'DeletedOccurrence')) {
      const start = isoOrNull(childText(o, 'Start'));
      if (start) deletedOccurrences.push(start);
    }
  }
  return {
    event,
    modifiedOccurrences,
    deletedOccurrences,
    firstDayOfWeek: reading.firstDayOfWeek,
    ...(reading.unsupported ? { unsupportedRecurrence: reading.unsupported } : {}),
  };
}

/** Completes a series' exceptions from its modified occurrences (CalendarItem elements by id) and deleted ones. */
export function withExceptionsXml(item: ReadCalendarItem, occurrences: Map<string, XmlNode>): SideEvent {
  if (item.modifiedOccurrences.length === 0 && item.deletedOccurrences.length === 0) return item.event;
  return seriesWithExceptions(item, occurrences, (occurrence, series) => {
    const allDay = childText(occurrence, 'IsAllDayEvent');
    return commonFields(occurrence, series.timeZone, allDay === null ? series.isAllDay : isTrue(allDay));
  });
}

/** The CalendarItem elements of a GetItem answer's message (none for other item kinds). */
export function calendarItemsOf(message: XmlNode): XmlNode[] {
  return childrenNamed(path(message, 'Items'), 'CalendarItem');
}
