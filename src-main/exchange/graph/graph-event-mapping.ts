import type { DayGroup, EventFields, RecurrenceRule, SideEvent, WeekOrdinal, Weekday } from '../../sync/calendar-event.ts';
import { canonicalRule, WEEKDAYS } from '../../sync/recurrence-rule.ts';
import { isTimeZone, localParts, wallTimeToMs } from '../../sync/zoned-time.ts';
import { CalendarError } from '../calendar-connector.ts';
import { htmlToText, looksLikeHtml } from '../ews/html-to-text.ts';
import { ianaZoneFor, windowsZoneIdFor } from '../windows-time-zones.ts';

/**
 * Microsoft Graph `event` JSON <-> the neutral EventFields. Reads are asked for in UTC with text bodies (the client's
 * Prefer header), but a server that ignores that is still read right: every date-time is taken with the zone it names.
 * Writes name zones by their Windows ids (every mailbox server knows those) and never carry attendees or an organizer:
 * Graph has no SendToNone, so writing attendees would mail them.
 */

/** The sync tag: the same MAPI named property the EWS connector writes, as a Graph single-value extended property. */
export const SYNC_TAG_PROPERTY_ID = 'String {8b5e2f1c-3d4a-4c6b-9e7f-5a1d2c3b4e60} Name SeveraActivityGuid';

export type GraphEventType = 'singleInstance' | 'occurrence' | 'exception' | 'seriesMaster';

interface DateTimeTimeZone {
  dateTime?: string;
  timeZone?: string;
}

/** The parts of a Graph event the connector reads (everything optional: servers differ). */
export interface GraphEvent {
  id?: string;
  changeKey?: string;
  '@odata.etag'?: string;
  lastModifiedDateTime?: string;
  subject?: string | null;
  body?: { contentType?: string; content?: string } | null;
  start?: DateTimeTimeZone | null;
  end?: DateTimeTimeZone | null;
  isAllDay?: boolean;
  location?: { displayName?: string | null } | null;
  sensitivity?: string;
  type?: string;
  seriesMasterId?: string | null;
  originalStart?: string | null;
  originalStartTimeZone?: string | null;
  recurrence?: GraphRecurrence | null;
  iCalUId?: string | null;
  isOrganizer?: boolean;
  isCancelled?: boolean;
  organizer?: { emailAddress?: { address?: string | null } | null } | null;
  attendees?: Array<{ type?: string; emailAddress?: { address?: string | null } | null }> | null;
  singleValueExtendedProperties?: Array<{ id?: string; value?: string }> | null;
  '@removed'?: { reason?: string };
}

export interface GraphRecurrence {
  pattern?: {
    type?: string;
    interval?: number;
    month?: number;
    dayOfMonth?: number;
    daysOfWeek?: string[];
    firstDayOfWeek?: string;
    index?: string;
  } | null;
  range?: { type?: string; startDate?: string; endDate?: string; numberOfOccurrences?: number; recurrenceTimeZone?: string } | null;
}

/** A Graph event read into the neutral model, with what the connector needs besides. */
export interface ReadGraphEvent {
  event: SideEvent;
  type: GraphEventType;
  seriesMasterId: string | null;
  /** UTC ISO original start of an occurrence or exception. */
  originalStart: string | null;
  isOrganizer: boolean;
  /** Set when the series uses a pattern the neutral model cannot hold; it is then read as its first occurrence. */
  unsupportedRecurrence?: string;
}

const GRAPH_DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const ORDINALS: Record<string, WeekOrdinal> = { first: 'First', second: 'Second', third: 'Third', fourth: 'Fourth', last: 'Last' };
const WORKDAYS: readonly Weekday[] = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];

const isUtcName = (zone: string | undefined) => !zone || /^(UTC|Etc\/UTC|Etc\/GMT|Coordinated Universal Time|GMT)$/i.test(zone.trim());

function weekdayOf(graphDay: string | undefined): Weekday | null {
  const i = GRAPH_DAYS.indexOf(String(graphDay ?? '').toLowerCase() as (typeof GRAPH_DAYS)[number]);
  return i < 0 ? null : WEEKDAYS[i];
}

const graphDay = (day: Weekday): string => GRAPH_DAYS[WEEKDAYS.indexOf(day)];

/** The instant a Graph date-time denotes: its wall time in the zone it names (UTC when asked for UTC). */
function instantOf(value: DateTimeTimeZone | null | undefined, fallbackZone: string, what: string): number {
  const text = value?.dateTime;
  const m = typeof text === 'string' ? /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(text) : null;
  if (!m) throw new CalendarError('bad-response', `Microsoft Graph returned an event whose ${what} is not a date-time ("${String(text)}").`);
  const [year, month, day, hour, minute, second] = m.slice(1).map((v) => Number(v ?? 0));
  if (isUtcName(value?.timeZone)) return Date.UTC(year, month - 1, day, hour, minute, second);
  const zone = ianaZoneFor(value!.timeZone, fallbackZone);
  return wallTimeToMs(zone, { year, month, day, hour, minute, second });
}

/**
 * An all-day event's date. Exchange keeps it as the local midnight of its own zone and Graph presents that instant in
 * the zone asked for (UTC): Helsinki's 9 December comes as 8 December 22:00. A midnight as presented is the date itself;
 * any other time is read as an instant and taken as a date in the event's zone (rounded to the nearest midnight).
 */
function dateOf(value: DateTimeTimeZone | null | undefined, eventZone: string, what: string): string {
  const text = value?.dateTime;
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(text)) throw new CalendarError('bad-response', `Microsoft Graph returned an all-day event whose ${what} is not a date ("${String(text)}").`);
  if (!/T(?!00:00(:00(\.0+)?)?$)\d/.test(text)) return text.slice(0, 10);
  const p = localParts(instantOf(value, eventZone, what) + 12 * 3_600_000, eventZone);
  return `${String(p.year).padStart(4, '0')}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

function bodyTextOf(body: GraphEvent['body']): string {
  const content = typeof body?.content === 'string' ? body.content : '';
  if (/html/i.test(body?.contentType ?? '') || looksLikeHtml(content)) return htmlToText(content);
  return content.replace(/\r\n?/g, '\n').trim();
}

function address(a: { emailAddress?: { address?: string | null } | null } | null | undefined): string | null {
  const value = a?.emailAddress?.address;
  return typeof value === 'string' && value.includes('@') ? value.trim().toLowerCase() : null;
}

export function syncTagOf(e: GraphEvent): string | undefined {
  const found = (e.singleValueExtendedProperties ?? []).find((p) => typeof p?.id === 'string' && p.id.toLowerCase() === SYNC_TAG_PROPERTY_ID.toLowerCase());
  return typeof found?.value === 'string' && found.value.length > 0 ? found.value : undefined;
}

/** The neutral rule of a Graph recurrence, or why it has none. */
export function recurrenceFromGraph(recurrence: GraphRecurrence | null | undefined): { rule: RecurrenceRule | null; unsupported?: string } {
  const pattern = recurrence?.pattern;
  const range = recurrence?.range;
  if (!pattern || !range) return { rule: null };
  const startDate = range.startDate;
  if (typeof startDate !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(startDate)) return { rule: null, unsupported: 'a series without a start date' };
  const end: Pick<RecurrenceRule, 'count' | 'until'> = {};
  if (range.type === 'numbered' && Number.isInteger(range.numberOfOccurrences) && range.numberOfOccurrences! > 0) end.count = range.numberOfOccurrences;
  else if (range.type === 'endDate' && typeof range.endDate === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(range.endDate)) end.until = range.endDate;
  const interval = Number.isInteger(pattern.interval) && pattern.interval! > 0 ? pattern.interval! : 1;
  const days = (pattern.daysOfWeek ?? []).map(weekdayOf);
  if (days.some((d) => d === null)) return { rule: null, unsupported: 'a pattern with an unknown weekday' };
  const weekdays = WEEKDAYS.filter((d) => days.includes(d));
  const done = (rule: RecurrenceRule) => ({ rule: canonicalRule(rule) });
  switch (pattern.type) {
    case 'daily':
      return done({ frequency: 'Daily', interval, startDate, ...end });
    case 'weekly': {
      if (weekdays.length === 0) return { rule: null, unsupported: 'a weekly pattern without days' };
      const weekStart = weekdayOf(pattern.firstDayOfWeek) ?? 'Sunday';
      return done({ frequency: 'Weekly', interval, daysOfWeek: weekdays, startDate, ...end, ...(weekStart !== 'Sunday' ? { firstDayOfWeek: weekStart } : {}) });
    }
    case 'absoluteMonthly':
      return done({ frequency: 'Monthly', interval, dayOfMonth: pattern.dayOfMonth ?? 1, startDate, ...end });
    case 'relativeMonthly':
    case 'relativeYearly': {
      const ordinal = ORDINALS[String(pattern.index ?? 'first').toLowerCase()];
      const day = dayValueOf(weekdays);
      if (!ordinal || !day) return { rule: null, unsupported: 'a relative pattern whose days are not one day, the weekdays or the weekend' };
      if (pattern.type === 'relativeMonthly') return done({ frequency: 'Monthly', interval, weekOrdinal: ordinal, dayOfWeek: day, startDate, ...end });
      if (interval !== 1) return { rule: null, unsupported: `a pattern every ${interval} years` };
      return done({ frequency: 'Yearly', interval: 1, weekOrdinal: ordinal, dayOfWeek: day, month: pattern.month ?? 1, startDate, ...end });
    }
    case 'absoluteYearly':
      if (interval !== 1) return { rule: null, unsupported: `a pattern every ${interval} years` };
      return done({ frequency: 'Yearly', interval: 1, month: pattern.month ?? 1, dayOfMonth: pattern.dayOfMonth ?? 1, startDate, ...end });
    default:
      return { rule: null, unsupported: `a "${String(pattern.type)}" pattern` };
  }
}

/** The days of a relative pattern as one day or a day group ("the last weekday of the month"). */
function dayValueOf(days: readonly Weekday[]): Weekday | DayGroup | null {
  if (days.length === 1) return days[0];
  if (days.length === 7) return 'Day';
  if (days.length === 5 && WORKDAYS.every((d) => days.includes(d))) return 'Weekday';
  if (days.length === 2 && days.includes('Saturday') && days.includes('Sunday')) return 'WeekendDay';
  return null;
}

function daysOfValue(value: Weekday | DayGroup): string[] {
  if (value === 'Day') return [...GRAPH_DAYS];
  if (value === 'Weekday') return WORKDAYS.map(graphDay);
  if (value === 'WeekendDay') return ['saturday', 'sunday'];
  return [graphDay(value)];
}

/** The Windows zone id Graph is told for an IANA zone (UTC when none keeps the same time). */
export function graphZoneFor(iana: string): string {
  return windowsZoneIdFor(iana) ?? 'UTC';
}

export function recurrenceToGraph(rule: RecurrenceRule, timeZone: string): GraphRecurrence {
  const range = {
    startDate: rule.startDate,
    recurrenceTimeZone: graphZoneFor(timeZone),
    ...(rule.count ? { type: 'numbered', numberOfOccurrences: rule.count } : rule.until ? { type: 'endDate', endDate: rule.until } : { type: 'noEnd' }),
  };
  switch (rule.frequency) {
    case 'Daily':
      return { pattern: { type: 'daily', interval: rule.interval }, range };
    case 'Weekly':
      return {
        pattern: { type: 'weekly', interval: rule.interval, daysOfWeek: (rule.daysOfWeek ?? []).map(graphDay), firstDayOfWeek: graphDay(rule.firstDayOfWeek ?? 'Sunday') },
        range,
      };
    case 'Monthly':
      return rule.weekOrdinal && rule.dayOfWeek
        ? { pattern: { type: 'relativeMonthly', interval: rule.interval, index: rule.weekOrdinal.toLowerCase(), daysOfWeek: daysOfValue(rule.dayOfWeek) }, range }
        : { pattern: { type: 'absoluteMonthly', interval: rule.interval, dayOfMonth: rule.dayOfMonth ?? 1 }, range };
    case 'Yearly':
      return rule.weekOrdinal && rule.dayOfWeek
        ? { pattern: { type: 'relativeYearly', interval: 1, month: rule.month ?? 1, index: rule.weekOrdinal.toLowerCase(), daysOfWeek: daysOfValue(rule.dayOfWeek) }, range }
        : { pattern: { type: 'absoluteYearly', interval: 1, month: rule.month ?? 1, dayOfMonth: rule.dayOfMonth ?? 1 }, range };
  }
}

export interface ReadContext {
  /** Zone assumed for an event whose zone the server does not name. */
  defaultTimeZone: string;
}

const TYPES: readonly GraphEventType[] = ['singleInstance', 'occurrence', 'exception', 'seriesMaster'];

/** One Graph event into the neutral model (exceptions of a series are added by the caller). */
export function readGraphEvent(e: GraphEvent, ctx: ReadContext): ReadGraphEvent {
  if (typeof e?.id !== 'string' || e.id === '') throw new CalendarError('bad-response', 'Microsoft Graph returned an event without an id.');
  const type = (TYPES as readonly string[]).includes(String(e.type)) ? (e.type as GraphEventType) : 'singleInstance';
  const recurrence = type === 'seriesMaster' ? recurrenceFromGraph(e.recurrence) : { rule: null };
  const zoneName = e.recurrence?.range?.recurrenceTimeZone ?? e.originalStartTimeZone ?? undefined;
  const timeZone = ianaZoneFor(zoneName && !/^tzone:/i.test(zoneName) ? zoneName : null, ctx.defaultTimeZone);
  const isAllDay = e.isAllDay === true;
  const organizer = address(e.organizer);
  const attendees = [...new Set((e.attendees ?? []).map(address).filter((a): a is string => a !== null && a !== organizer))].sort();
  const fields: EventFields = {
    subject: typeof e.subject === 'string' ? e.subject : '',
    start: isAllDay ? dateOf(e.start, timeZone, 'start') : new Date(instantOf(e.start, timeZone, 'start')).toISOString(),
    end: isAllDay ? dateOf(e.end, timeZone, 'end') : new Date(instantOf(e.end, timeZone, 'end')).toISOString(),
    isAllDay,
    timeZone,
    location: typeof e.location?.displayName === 'string' ? e.location.displayName : '',
    body: bodyTextOf(e.body),
    isPrivate: e.sensitivity === 'private' || e.sensitivity === 'confidential',
    recurrence: recurrence.rule,
    exceptions: [],
    attendees,
    organizer,
  };
  if (isAllDay && fields.end <= fields.start) fields.end = nextDate(fields.start);
  const lastModified = Date.parse(e.lastModifiedDateTime ?? '');
  const event: SideEvent = {
    id: e.id,
    version: versionOf(e),
    lastModified: Number.isNaN(lastModified) ? new Date(0).toISOString() : new Date(lastModified).toISOString(),
    fields,
  };
  if (typeof e.iCalUId === 'string' && e.iCalUId) event.uid = e.iCalUId;
  const tag = syncTagOf(e);
  if (tag) event.syncTag = tag;
  const originalStartMs = Date.parse(e.originalStart ?? '');
  return {
    event,
    type,
    seriesMasterId: typeof e.seriesMasterId === 'string' && e.seriesMasterId ? e.seriesMasterId : null,
    originalStart: Number.isNaN(originalStartMs) ? null : new Date(originalStartMs).toISOString(),
    isOrganizer: e.isOrganizer !== false,
    ...(recurrence.unsupported ? { unsupportedRecurrence: recurrence.unsupported } : {}),
  };
}

/** The version the engine keeps: the changeKey, else the etag's value. */
export function versionOf(e: GraphEvent): string {
  if (typeof e.changeKey === 'string' && e.changeKey) return e.changeKey;
  const etag = e['@odata.etag'];
  return typeof etag === 'string' ? etag.replace(/^W\//, '').replace(/^"|"$/g, '') : '';
}

/** The If-Match value for a version the engine kept. */
export function ifMatchFor(version: string): string {
  return version.startsWith('W/"') ? version : `W/"${version}"`;
}

function nextDate(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** A wall time for Graph: the instant as local time in the zone it is written with. */
function graphDateTime(ms: number, graphZone: string, iana: string): DateTimeTimeZone {
  const zone = graphZone === 'UTC' ? 'UTC' : iana;
  const p = localParts(ms, zone);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return { dateTime: `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`, timeZone: graphZone };
}

/**
 * The Graph body that writes these fields: subject, body (text), start/end, all-day, location, sensitivity and, when
 * asked, the recurrence. Attendees and organizer are never written (see the file comment).
 */
export function graphEventBody(fields: Omit<EventFields, 'exceptions'>, opts: { includeRecurrence: boolean }): Record<string, unknown> {
  if (!isTimeZone(fields.timeZone)) throw new CalendarError('other', `"${fields.timeZone}" is not a known time zone.`);
  const zone = graphZoneFor(fields.timeZone);
  const body: Record<string, unknown> = {
    subject: fields.subject,
    body: { contentType: 'text', content: fields.body },
    isAllDay: fields.isAllDay,
    location: { displayName: fields.location },
    sensitivity: fields.isPrivate ? 'private' : 'normal',
  };
  if (fields.isAllDay) {
    body.start = { dateTime: `${fields.start.slice(0, 10)}T00:00:00`, timeZone: zone };
    body.end = { dateTime: `${fields.end.slice(0, 10)}T00:00:00`, timeZone: zone };
  } else {
    body.start = graphDateTime(Date.parse(fields.start), zone, fields.timeZone);
    body.end = graphDateTime(Date.parse(fields.end), zone, fields.timeZone);
  }
  if (opts.includeRecurrence) body.recurrence = fields.recurrence ? recurrenceToGraph(fields.recurrence, fields.timeZone) : null;
  return body;
}
