import {
  Appointment,
  AppointmentType,
  BodyType,
  DateTime,
  DateTimeKind,
  DayOfTheWeek,
  DayOfTheWeekIndex,
  ExchangeVersion,
  ExtendedPropertyDefinition,
  Guid,
  MapiPropertyType,
  MessageBody,
  Recurrence,
  Sensitivity,
  TimeSpan,
  TimeZoneInfo,
} from 'ews-javascript-api';
import type { DayGroup, EventFields, OccurrenceException, RecurrenceRule, SideEvent, WeekOrdinal, Weekday } from '../../sync/calendar-event.ts';
import { canonicalRule } from '../../sync/recurrence-rule.ts';
import type { ExchangeServerType } from '../../common/settings-schema.ts';
import { CalendarError } from '../calendar-connector.ts';
import { htmlToText, looksLikeHtml } from './html-to-text.ts';
import { WEEKDAYS, recurrenceProblemForVersion, recurrenceRuleProblem } from './recurrence-expansion.ts';
import { isIsoDate, isValidTimeZone, localDateOf, parseDate, parseInstant, startOfLocalDate, utcOffsetMs } from './time-zone-conversion.ts';

/**
 * EWS CalendarItem <-> the neutral EventFields. Reading and writing go through ews-javascript-api's Appointment
 * object; every decision about time (zones, all-day dates, recurrence dates) is made with the platform's tz database
 * in time-zone-conversion.ts, never with the library's DateTime arithmetic.
 */

// ---- server version ----

export function exchangeVersionFor(serverType: ExchangeServerType): ExchangeVersion {
  switch (serverType) {
    case 'Exchange2007_SP1':
      return ExchangeVersion.Exchange2007_SP1;
    case 'Exchange2010':
      return ExchangeVersion.Exchange2010_SP2;
    case 'Exchange2013':
      return ExchangeVersion.Exchange2013_SP1;
    case 'Exchange2016':
    case 'Exchange2019':
    case 'ExchangeServerSE':
      return ExchangeVersion.Exchange2016;
    case 'Office365':
      throw new CalendarError('config', 'Exchange Online no longer accepts a delegate password over EWS; it needs the Microsoft Graph connector (app registration).');
    default:
      throw new CalendarError('config', `Unknown Exchange server type "${String(serverType)}".`);
  }
}

// ---- the sync tag ----

/** Our own MAPI property set: nothing else writes into it. */
export const SYNC_TAG_PROPERTY_SET_ID = '8b5e2f1c-3d4a-4c6b-9e7f-5a1d2c3b4e60';
export const SYNC_TAG_PROPERTY_NAME = 'SeveraActivityGuid';

export function syncTagDefinition(): ExtendedPropertyDefinition {
  return new ExtendedPropertyDefinition(new Guid(SYNC_TAG_PROPERTY_SET_ID), SYNC_TAG_PROPERTY_NAME, MapiPropertyType.String);
}

// ---- time zones ----

/** Current IANA names the library's (older) Windows-zone table knows only by their former names. */
const IANA_ALIASES: Record<string, string> = {
  'Europe/Kyiv': 'Europe/Kiev',
  'Asia/Kolkata': 'Asia/Calcutta',
  'Asia/Kathmandu': 'Asia/Katmandu',
  'Asia/Yangon': 'Asia/Rangoon',
  'Asia/Ho_Chi_Minh': 'Asia/Saigon',
  'America/Nuuk': 'America/Godthab',
  'Atlantic/Faroe': 'Atlantic/Faeroe',
  'Pacific/Kanton': 'Pacific/Enderbury',
  'Pacific/Chuuk': 'Pacific/Truk',
  'Pacific/Pohnpei': 'Pacific/Ponape',
  'Etc/UTC': 'Etc/UTC',
  UTC: 'Etc/UTC',
};

function libraryZone(name: string): TimeZoneInfo | null {
  try {
    return TimeZoneInfo.FindSystemTimeZoneById(name);
  } catch {
    return null;
  }
}

/** Offsets at the solstices and equinoxes of the next two years: equal samples mean equal current rules. */
function offsetSignature(iana: string): string {
  const year = new Date().getUTCFullYear();
  const samples: number[] = [];
  for (const y of [year, year + 1]) for (const m of [0, 3, 6, 9]) samples.push(utcOffsetMs(Date.UTC(y, m, 15), iana));
  return samples.join(',');
}

let windowsZoneCache: Map<string, string> | null = null;

function windowsIdByRules(iana: string): string | null {
  if (!windowsZoneCache) windowsZoneCache = new Map();
  const signature = offsetSignature(iana);
  if (windowsZoneCache.has(signature)) return windowsZoneCache.get(signature) ?? null;
  for (const windowsId of TimeZoneInfo.ListWindowsTimeZones()) {
    const zone = libraryZone(windowsId);
    if (!zone?.IanaId || !isValidTimeZone(zone.IanaId)) continue;
    if (offsetSignature(zone.IanaId) === signature) {
      windowsZoneCache.set(signature, windowsId);
      return windowsId;
    }
  }
  return null;
}

function decodeXmlText(text: string): string {
  return text.replace(/&amp;/g, '&');
}

/** The Windows time zone EWS should be told for an IANA zone, as a library TimeZoneInfo ready to write. */
export function windowsTimeZoneFor(iana: string): TimeZoneInfo {
  if (!isValidTimeZone(iana)) throw new CalendarError('other', `"${iana}" is not a known time zone.`);
  const direct = libraryZone(iana) ?? libraryZone(IANA_ALIASES[iana] ?? '');
  const windowsId = direct?.Id ?? windowsIdByRules(iana);
  if (!windowsId) throw new CalendarError('other', `The time zone "${iana}" has no Windows equivalent Exchange would understand.`);
  const zone = libraryZone(windowsId);
  // Rebuilt so the display name is not XML-escaped twice on the way out (the library's table holds "&amp;").
  return TimeZoneInfo.CreateCustomTimeZone(
    windowsId,
    zone ? zone.BaseUtcOffset : TimeSpan.Zero,
    decodeXmlText(zone?.DisplayName ?? windowsId),
    decodeXmlText(zone?.StandardName || windowsId),
  );
}

/**
 * The IANA zone for a Windows zone id the server named. `preferred` (the organization's zone) wins whenever it maps to
 * the same Windows zone, so an item written in Europe/Helsinki does not come back as Europe/Kiev.
 */
export function ianaTimeZoneFor(windowsId: string | null | undefined, preferred: string): string {
  if (!windowsId) return preferred;
  try {
    if (windowsTimeZoneFor(preferred).Id === windowsId) return preferred;
  } catch {
    // fall through to the table
  }
  const zone = libraryZone(windowsId);
  const iana = zone?.IanaId;
  if (iana && isValidTimeZone(iana)) return iana === 'Etc/GMT' ? 'UTC' : iana;
  if (isValidTimeZone(windowsId)) return windowsId;
  return preferred;
}

// ---- DateTime helpers ----

/**
 * An instant for Start/End. Kind Unspecified on purpose: the library scopes Start/End to the item's StartTimeZone and
 * refuses a Utc-kind value there ("DateTime Kind mismatch"); an Unspecified value built from the instant keeps the
 * instant through that conversion and is written as UTC.
 */
export function toEwsDateTime(instantMs: number): DateTime {
  return new DateTime(instantMs, DateTimeKind.Unspecified);
}

export function instantOf(value: DateTime | null | undefined): number | null {
  if (!value) return null;
  const ms = value.TotalMilliSeconds;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : null;
}

export function isoOf(value: DateTime | null | undefined): string | null {
  const ms = instantOf(value);
  return ms === null ? null : new Date(ms).toISOString();
}

/** A recurrence date (StartDate/EndDate): the library parses "YYYY-MM-DD" as a local-time moment; read the date back the same way. */
function recurrenceDateOf(value: DateTime): string {
  return value.Format('YYYY-MM-DD');
}

function recurrenceDateValue(date: string): DateTime {
  return new DateTime(parseDate(date), DateTimeKind.Utc);
}

// ---- safe property access (unloaded properties throw in the library) ----

function read<T>(get: () => T | null | undefined, fallback: T): T {
  try {
    const value = get();
    return value === undefined || value === null ? fallback : value;
  } catch {
    return fallback;
  }
}

// ---- recurrence ----

const DAY_OF_THE_WEEK_BY_NAME: Record<Weekday | DayGroup, DayOfTheWeek> = {
  Sunday: DayOfTheWeek.Sunday,
  Monday: DayOfTheWeek.Monday,
  Tuesday: DayOfTheWeek.Tuesday,
  Wednesday: DayOfTheWeek.Wednesday,
  Thursday: DayOfTheWeek.Thursday,
  Friday: DayOfTheWeek.Friday,
  Saturday: DayOfTheWeek.Saturday,
  Day: DayOfTheWeek.Day,
  Weekday: DayOfTheWeek.Weekday,
  WeekendDay: DayOfTheWeek.WeekendDay,
};
const ORDINAL_BY_NAME: Record<WeekOrdinal, DayOfTheWeekIndex> = {
  First: DayOfTheWeekIndex.First,
  Second: DayOfTheWeekIndex.Second,
  Third: DayOfTheWeekIndex.Third,
  Fourth: DayOfTheWeekIndex.Fourth,
  Last: DayOfTheWeekIndex.Last,
};

function weekdayName(value: DayOfTheWeek): Weekday | null {
  return value >= 0 && value <= 6 ? WEEKDAYS[value] : null;
}
/** A relative pattern's day: a weekday or a day group. */
function dayValueName(value: DayOfTheWeek): Weekday | DayGroup | null {
  const n = Number(value);
  if (n === DayOfTheWeek.Day) return 'Day';
  if (n === DayOfTheWeek.Weekday) return 'Weekday';
  if (n === DayOfTheWeek.WeekendDay) return 'WeekendDay';
  return weekdayName(n);
}
/** A weekly pattern's DaysOfWeek entry as the days it stands for (Exchange accepts the groups there too). */
function weekdaysOf(value: DayOfTheWeek): Weekday[] | null {
  const name = dayValueName(value);
  if (name === 'Day') return [...WEEKDAYS];
  if (name === 'Weekday') return ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];
  if (name === 'WeekendDay') return ['Saturday', 'Sunday'];
  return name ? [name] : null;
}
function ordinalName(value: DayOfTheWeekIndex): WeekOrdinal | null {
  return (['First', 'Second', 'Third', 'Fourth', 'Last'] as const)[value] ?? null;
}

type PatternCtor<A extends unknown[]> = new (...args: A) => Recurrence;
const DailyPattern = Recurrence.DailyPattern as unknown as PatternCtor<[DateTime, number]>;
const WeeklyPattern = Recurrence.WeeklyPattern as unknown as PatternCtor<[DateTime, number, DayOfTheWeek[]]>;
const MonthlyPattern = Recurrence.MonthlyPattern as unknown as PatternCtor<[DateTime, number, number]>;
const RelativeMonthlyPattern = Recurrence.RelativeMonthlyPattern as unknown as PatternCtor<[DateTime, number, DayOfTheWeek, DayOfTheWeekIndex]>;
const YearlyPattern = Recurrence.YearlyPattern as unknown as PatternCtor<[DateTime, number, number]>;
const RelativeYearlyPattern = Recurrence.RelativeYearlyPattern as unknown as PatternCtor<[DateTime, number, DayOfTheWeek, DayOfTheWeekIndex]>;

/** Exchange 2010 SP1 and later take a weekly pattern's FirstDayOfWeek; Exchange 2007 SP1 counts weeks from Sunday. */
export function supportsFirstDayOfWeek(version: ExchangeVersion): boolean {
  return version >= ExchangeVersion.Exchange2010_SP1;
}

/**
 * The EWS pattern for a rule. `withFirstDayOfWeek`: the server takes FirstDayOfWeek; an "every N weeks" pattern then
 * always names its week start, so the server's own default (a mailbox setting) never moves the dates.
 */
export function recurrenceToEws(rule: RecurrenceRule, withFirstDayOfWeek = true): Recurrence {
  const problem = recurrenceProblemForVersion(rule, withFirstDayOfWeek);
  if (problem) throw new CalendarError('other', problem);
  const start = recurrenceDateValue(rule.startDate);
  let recurrence: Recurrence;
  switch (rule.frequency) {
    case 'Daily':
      recurrence = new DailyPattern(start, rule.interval);
      break;
    case 'Weekly': {
      recurrence = new WeeklyPattern(start, rule.interval, (rule.daysOfWeek ?? []).map((d) => DAY_OF_THE_WEEK_BY_NAME[d]));
      if (withFirstDayOfWeek && rule.interval > 1) {
        // DayOfWeek (System.DayOfWeek) numbers Sunday..Saturday as 0..6, like DayOfTheWeek.
        (recurrence as unknown as { FirstDayOfWeek: number }).FirstDayOfWeek = WEEKDAYS.indexOf(rule.firstDayOfWeek ?? 'Sunday');
      }
      break;
    }
    case 'Monthly':
      recurrence = rule.weekOrdinal
        ? new RelativeMonthlyPattern(start, rule.interval, DAY_OF_THE_WEEK_BY_NAME[rule.dayOfWeek as Weekday | DayGroup], ORDINAL_BY_NAME[rule.weekOrdinal])
        : new MonthlyPattern(start, rule.interval, rule.dayOfMonth as number);
      break;
    case 'Yearly':
      recurrence = rule.weekOrdinal
        ? new RelativeYearlyPattern(start, rule.month as number, DAY_OF_THE_WEEK_BY_NAME[rule.dayOfWeek as Weekday | DayGroup], ORDINAL_BY_NAME[rule.weekOrdinal])
        : new YearlyPattern(start, rule.month as number, rule.dayOfMonth as number);
      break;
  }
  if (rule.count !== undefined) recurrence.NumberOfOccurrences = rule.count;
  else if (rule.until !== undefined) recurrence.EndDate = recurrenceDateValue(rule.until);
  else recurrence.NeverEnds();
  return recurrence;
}

export interface RecurrenceReading {
  rule: RecurrenceRule | null;
  /** Set when the series uses a pattern the neutral model cannot hold (a task's regenerating pattern). */
  unsupported?: string;
  /** Week start the server uses for weekly intervals (0 = Sunday). */
  firstDayOfWeek: number;
}

export function recurrenceFromEws(recurrence: Recurrence | null | undefined): RecurrenceReading {
  if (!recurrence) return { rule: null, firstDayOfWeek: 0 };
  const startDate = recurrenceDateOf(recurrence.StartDate);
  const end: Pick<RecurrenceRule, 'count' | 'until'> = {};
  const count = Number(read(() => recurrence.NumberOfOccurrences, null as number | null) ?? NaN);
  const endDate = read(() => recurrence.EndDate, null as DateTime | null);
  if (Number.isInteger(count) && count > 0) end.count = count;
  else if (endDate) end.until = recurrenceDateOf(endDate);
  const r = recurrence as unknown as {
    Interval?: number;
    DaysOfTheWeek?: { GetEnumerator(): DayOfTheWeek[] };
    FirstDayOfWeek?: number;
    DayOfMonth?: number;
    DayOfTheWeek?: DayOfTheWeek;
    DayOfTheWeekIndex?: DayOfTheWeekIndex;
    Month?: number;
  };
  // The library leaves some numbers as the strings it parsed from XML.
  const num = (get: () => unknown, fallback: number): number => {
    const n = Number(read(get as () => number, fallback));
    return Number.isFinite(n) ? n : fallback;
  };
  const interval = num(() => r.Interval, 1);
  const unsupported = (what: string): RecurrenceReading => ({ rule: null, unsupported: what, firstDayOfWeek: 0 });
  const done = (rule: RecurrenceRule, firstDayOfWeek = 0): RecurrenceReading => ({ rule: canonicalRule(rule), firstDayOfWeek });
  if (recurrence instanceof Recurrence.DailyPattern) return done({ frequency: 'Daily', interval, startDate, ...end });
  if (recurrence instanceof Recurrence.WeeklyPattern) {
    const days = read(() => r.DaysOfTheWeek?.GetEnumerator() ?? [], [] as DayOfTheWeek[]);
    const expanded = days.map(weekdaysOf);
    if (expanded.some((n) => n === null) || expanded.length === 0) return unsupported('a weekly pattern without days');
    const names = WEEKDAYS.filter((d) => expanded.some((list) => list!.includes(d)));
    const firstDayOfWeek = num(() => r.FirstDayOfWeek, 0);
    const weekStart = weekdayName(firstDayOfWeek) ?? 'Sunday';
    return done({ frequency: 'Weekly', interval, daysOfWeek: names, startDate, ...end, ...(weekStart !== 'Sunday' ? { firstDayOfWeek: weekStart } : {}) }, firstDayOfWeek);
  }
  if (recurrence instanceof Recurrence.MonthlyPattern) {
    return done({ frequency: 'Monthly', interval, dayOfMonth: num(() => r.DayOfMonth, 1), startDate, ...end });
  }
  if (recurrence instanceof Recurrence.YearlyPattern) {
    return done({ frequency: 'Yearly', interval: 1, month: num(() => r.Month, 1), dayOfMonth: num(() => r.DayOfMonth, 1), startDate, ...end });
  }
  if (recurrence instanceof Recurrence.RelativeMonthlyPattern || recurrence instanceof Recurrence.RelativeYearlyPattern) {
    const day = dayValueName(read(() => r.DayOfTheWeek as DayOfTheWeek, -1 as DayOfTheWeek));
    const ordinal = ordinalName(Number(read(() => r.DayOfTheWeekIndex as DayOfTheWeekIndex, -1 as DayOfTheWeekIndex)));
    if (!day || !ordinal) return unsupported('a relative pattern without a day or week of the month');
    if (recurrence instanceof Recurrence.RelativeMonthlyPattern) {
      return done({ frequency: 'Monthly', interval, weekOrdinal: ordinal, dayOfWeek: day, startDate, ...end });
    }
    return done({ frequency: 'Yearly', interval: 1, weekOrdinal: ordinal, dayOfWeek: day, month: num(() => r.Month, 1), startDate, ...end });
  }
  return unsupported('a regenerating (task) pattern');
}

// ---- reading ----

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

function addressOf(value: { Address?: string } | null | undefined): string | null {
  const address = value?.Address;
  return typeof address === 'string' && address.length > 0 ? address.trim().toLowerCase() : null;
}

function bodyTextOf(appointment: Appointment): string {
  const body = read(() => appointment.Body, null as MessageBody | null);
  if (!body) return '';
  const text = read(() => body.Text, '');
  const type = read(() => body.BodyType, BodyType.Text);
  if (type === BodyType.HTML || looksLikeHtml(text)) return htmlToText(text);
  return text.replace(/\r\n?/g, '\n').trim();
}

/** Text of a zone's display name without its "(UTC+02:00) " / "(GMT+02:00) " prefix, for matching across Windows versions. */
function displayKey(name: string): string {
  return decodeXmlText(name).replace(/^\((UTC|GMT)[^)]*\)\s*/i, '').trim().toLowerCase();
}

/** A Windows zone id from what Exchange 2007 puts in MeetingTimeZone/@TimeZoneName: an id, or a display name. */
export function windowsIdFromName(name: string | null | undefined): string | null {
  if (!name) return null;
  if (libraryZone(name)) return name;
  const key = displayKey(name);
  for (const id of TimeZoneInfo.ListWindowsTimeZones()) {
    const zone = libraryZone(id);
    if (zone && displayKey(zone.DisplayName) === key) return id;
  }
  return null;
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

/** The key an exception is known by: a UTC instant, or the local date for an all-day series. */
export function exceptionKey(originalStartIso: string, series: Pick<EventFields, 'isAllDay' | 'timeZone'>): string {
  const ms = Date.parse(originalStartIso);
  return series.isAllDay ? localDateOf(ms, series.timeZone) : new Date(ms).toISOString();
}

/** Completes a series' exceptions from its modified occurrence items (read separately) and its deleted occurrences. */
export function withExceptions(item: ReadCalendarItem, occurrences: Map<string, Appointment>): SideEvent {
  const series = item.event.fields;
  const exceptions: OccurrenceException[] = [];
  for (const ref of item.modifiedOccurrences) {
    const occurrence = occurrences.get(ref.itemId);
    if (!occurrence) continue;
    const isAllDay = read(() => occurrence.IsAllDayEvent, series.isAllDay);
    const key = exceptionKey(ref.originalStart, series);
    const fields = { ...commonFields(occurrence, series.timeZone, isAllDay), exceptions: [] };
    // Exchange keeps an occurrence edited back to the series' own values as an exception; it is not one.
    if (sameAsPattern(fields, key, series)) continue;
    exceptions.push({ originalStart: key, fields });
  }
  for (const originalStart of item.deletedOccurrences) exceptions.push({ originalStart: exceptionKey(originalStart, series), fields: null });
  exceptions.sort((a, b) => (a.originalStart < b.originalStart ? -1 : a.originalStart > b.originalStart ? 1 : 0));
  return { ...item.event, fields: { ...series, exceptions } };
}

/** What the occurrence at `key` looks like when nobody changed it. */
export function patternOccurrence(series: EventFields, key: string): Omit<EventFields, 'recurrence'> {
  const { recurrence: _r, ...rest } = series;
  if (series.isAllDay) {
    const days = Math.round((parseDate(series.end) - parseDate(series.start)) / 86_400_000);
    return { ...rest, start: key, end: new Date(parseDate(key) + days * 86_400_000).toISOString().slice(0, 10), exceptions: [] };
  }
  const startMs = Date.parse(key);
  const duration = Date.parse(series.end) - Date.parse(series.start);
  return { ...rest, start: new Date(startMs).toISOString(), end: new Date(startMs + duration).toISOString(), exceptions: [] };
}

export function sameAsPattern(fields: Omit<EventFields, 'recurrence'>, key: string, series: EventFields): boolean {
  const p = patternOccurrence(series, key);
  return (
    fields.subject === p.subject &&
    fields.start === p.start &&
    fields.end === p.end &&
    fields.isAllDay === p.isAllDay &&
    fields.location === p.location &&
    fields.body === p.body &&
    fields.isPrivate === p.isPrivate &&
    fields.attendees.join(',') === [...p.attendees].sort().join(',')
  );
}

// ---- validation of what the engine asks us to write ----

const EMAIL_RE = /^[^\s@<>()"',;:]+@[^\s@<>()"',;:]+\.[^\s@<>()"',;:]+$/;

/** One plain sentence describing why these fields cannot be written, or null when they can. */
export function eventFieldsProblem(fields: EventFields | Omit<EventFields, 'recurrence'>, label = 'The event'): string | null {
  if (!fields || typeof fields !== 'object') return `${label} has no fields.`;
  if (typeof fields.subject !== 'string') return `${label} has no subject text.`;
  if (fields.subject.length > 255) return `${label}'s subject is longer than 255 characters.`;
  if (typeof fields.isAllDay !== 'boolean') return `${label} does not say whether it is all-day.`;
  if (!isValidTimeZone(fields.timeZone)) return `${label}'s time zone "${String(fields.timeZone)}" is not a known IANA zone.`;
  if (fields.isAllDay) {
    if (!isIsoDate(fields.start) || !isIsoDate(fields.end)) return `${label} is all-day, so its start and end must be dates (YYYY-MM-DD), not "${String(fields.start)}" / "${String(fields.end)}".`;
    if (fields.end <= fields.start) return `${label} ends (${fields.end}) before or on the day it starts (${fields.start}); an all-day end is the day after the last day.`;
  } else {
    try {
      const start = parseInstant(fields.start, `${label}'s start`);
      const end = parseInstant(fields.end, `${label}'s end`);
      if (end < start) return `${label} ends (${fields.end}) before it starts (${fields.start}).`;
    } catch (error) {
      return (error as Error).message;
    }
  }
  if (typeof fields.location !== 'string' || typeof fields.body !== 'string') return `${label}'s location and body must be text.`;
  if (typeof fields.isPrivate !== 'boolean') return `${label} does not say whether it is private.`;
  if (!Array.isArray(fields.attendees)) return `${label}'s attendees must be a list.`;
  const bad = fields.attendees.find((a) => typeof a !== 'string' || !EMAIL_RE.test(a.trim()));
  if (bad !== undefined) return `${label} has an attendee "${String(bad)}" that is not an email address.`;
  if ('recurrence' in fields && fields.recurrence) {
    const problem = recurrenceRuleProblem(fields.recurrence);
    if (problem) return problem;
  }
  if (!Array.isArray(fields.exceptions)) return `${label}'s exceptions must be a list.`;
  for (const exception of fields.exceptions) {
    if (!exception || typeof exception.originalStart !== 'string') return `${label} has an exception without an original start.`;
    const keyOk = fields.isAllDay ? isIsoDate(exception.originalStart) : !Number.isNaN(Date.parse(exception.originalStart)) && /T/.test(exception.originalStart);
    if (!keyOk) return `${label} has an exception whose original start "${exception.originalStart}" does not match the series (${fields.isAllDay ? 'a date' : 'a date-time'} expected).`;
    if (exception.fields) {
      const problem = eventFieldsProblem(exception.fields, `The occurrence of ${exception.originalStart}`);
      if (problem) return problem;
    }
  }
  if (fields.exceptions.length > 0 && !('recurrence' in fields && fields.recurrence)) return `${label} has exceptions but no recurrence.`;
  return null;
}

// ---- writing ----

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
