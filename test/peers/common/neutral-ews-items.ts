/**
 * The EWS simulator's calendar items (SimCalendarItem, in EWS terms) to and from the neutral mailbox shape: EWS patterns
 * and ranges become Graph's and back (`Weekday`/`WeekendDay`/`Day` become day lists and are found again), EWS extended
 * properties become Graph ids and back (distinguished property sets by their GUIDs, tags as `String 0x..`), zones go
 * between IANA (EWS) and Windows names (neutral). One converter, used by both simulators and the move orchestrator.
 * What the neutral shape cannot hold is lost on the way: multi-value extended properties, resource attendees (they
 * come back optional), the appointment sequence number, response times.
 */
import type {
  DayOfWeekIndex,
  DaysOfWeekValue,
  FreeBusy,
  ResponseType as EwsResponseType,
  SimCalendarItem,
  SimExtendedProperty,
  SimOccurrenceOverride,
  SimRecurrence,
  SimRecurrencePattern,
  SimRecurrenceRange,
  Weekday,
} from '../ews/calendar-model.ts';
import { DISTINGUISHED_PROPERTY_SETS, MONTHS, WEEKDAYS } from '../ews/calendar-model.ts';
import type { ResponseType, Sensitivity, ShowAs, SimAttendee } from '../graph/graph-model.ts';
import { normalizePropertyId } from '../graph/graph-model.ts';
import type { DayOfWeek, PatternedRecurrence, WeekIndex } from '../graph/graph-recurrence.ts';
import { DAYS_OF_WEEK, normalizeRecurrence } from '../graph/graph-recurrence.ts';
import { resolveZone, windowsNameOf } from '../graph/graph-time.ts';
import type { NeutralException, NeutralItem, NeutralMailbox } from './neutral-mailbox.ts';
import { assertNeutralMailbox, neutralMs } from './neutral-mailbox.ts';

/** The fields of the EWS simulator's SimCalendarItem this conversion reads (structurally, so snapshots' items fit). */
export interface EwsLikeItem {
  id?: string;
  uid: string;
  subject: string;
  start: string;
  end: string;
  isAllDay: boolean;
  timeZone: string;
  location: string;
  body: string;
  bodyType: 'HTML' | 'Text';
  sensitivity: 'Normal' | 'Personal' | 'Private' | 'Confidential';
  legacyFreeBusyStatus: 'Free' | 'Tentative' | 'Busy' | 'OOF' | 'WorkingElsewhere' | 'NoData';
  organizer: string;
  requiredAttendees: string[];
  optionalAttendees: string[];
  categories: string[];
  reminderIsSet: boolean;
  reminderMinutesBeforeStart: number;
  recurrence: { pattern: Record<string, unknown> & { type: string }; range: Record<string, unknown> & { type: string; startDate: string } } | null;
  modifiedOccurrences: Array<{ originalStart: string; lastModifiedTime?: string; subject?: string; start?: string; end?: string; location?: string; body?: string; bodyType?: 'HTML' | 'Text'; sensitivity?: string; legacyFreeBusyStatus?: string }>;
  deletedOccurrences: string[];
  extendedProperties: Array<{ propertySetId?: string; distinguishedPropertySetId?: string; propertyName?: string; propertyId?: number; propertyTag?: string; propertyType: string; value: string | string[] }>;
  isCancelled: boolean;
  myResponseType: string;
  dateTimeCreated: string;
  lastModifiedTime: string;
}

/** A calendar item's content as the EWS store holds it, without what the store assigns (id, ChangeKey, mailbox, type). */
export type EwsItemContent = Omit<SimCalendarItem, 'id' | 'changeKey' | 'mailbox' | 'calendarItemType' | 'appointmentSequenceNumber'>;

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
const upperFirst = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const SHOW: Record<string, ShowAs> = { Free: 'free', Tentative: 'tentative', Busy: 'busy', OOF: 'oof', WorkingElsewhere: 'workingElsewhere', NoData: 'unknown' };
const FREE_BUSY: Record<ShowAs, FreeBusy> = { free: 'Free', tentative: 'Tentative', busy: 'Busy', oof: 'OOF', workingElsewhere: 'WorkingElsewhere', unknown: 'NoData' };
const RESPONSE: Record<string, ResponseType> = { Unknown: 'none', Organizer: 'organizer', Tentative: 'tentativelyAccepted', Accept: 'accepted', Decline: 'declined', NoResponseReceived: 'notResponded' };
const MY_RESPONSE: Record<ResponseType, EwsResponseType> = { none: 'Unknown', organizer: 'Organizer', tentativelyAccepted: 'Tentative', accepted: 'Accept', declined: 'Decline', notResponded: 'NoResponseReceived' };
/** Seconds, as Exchange stamps times. */
const ewsTime = (v: string, what: string): string => new Date(neutralMs(v, what)).toISOString().replace(/\.\d{3}Z$/, 'Z');

// ---- EWS -> neutral -------------------------------------------------------------------------------------------------------

function ewsDays(v: unknown): DayOfWeek[] {
  const list = Array.isArray(v) ? v : [v];
  return list.flatMap((d) => {
    if (d === 'Day') return [...DAYS_OF_WEEK];
    if (d === 'Weekday') return DAYS_OF_WEEK.slice(1, 6);
    if (d === 'WeekendDay') return [DAYS_OF_WEEK[0], DAYS_OF_WEEK[6]];
    return [String(d).toLowerCase() as DayOfWeek];
  });
}

function ewsRecurrence(r: NonNullable<EwsLikeItem['recurrence']>, zone: string): PatternedRecurrence {
  const p = r.pattern;
  const g = r.range;
  const pattern: Record<string, unknown> = { type: lowerFirst(p.type), interval: p.interval ?? 1 };
  if (p.daysOfWeek !== undefined) pattern.daysOfWeek = ewsDays(p.daysOfWeek);
  if (p.firstDayOfWeek !== undefined) pattern.firstDayOfWeek = String(p.firstDayOfWeek).toLowerCase();
  if (p.dayOfMonth !== undefined) pattern.dayOfMonth = p.dayOfMonth;
  if (p.dayOfWeekIndex !== undefined) pattern.index = String(p.dayOfWeekIndex).toLowerCase() as WeekIndex;
  if (p.month !== undefined) pattern.month = MONTHS.indexOf(String(p.month) as (typeof MONTHS)[number]) + 1;
  const range: Record<string, unknown> = { type: lowerFirst(g.type), startDate: g.startDate, recurrenceTimeZone: zone };
  if (g.endDate !== undefined) range.endDate = g.endDate;
  if (g.count !== undefined) range.numberOfOccurrences = g.count;
  return normalizeRecurrence({ pattern, range }, zone);
}

function ewsPropertyId(p: EwsLikeItem['extendedProperties'][number]): string | null {
  if (Array.isArray(p.value) || p.propertyType.endsWith('Array')) return null; // multi-value: not a single-value property
  if (p.propertyTag !== undefined) {
    const n = p.propertyTag.toLowerCase().startsWith('0x') ? parseInt(p.propertyTag, 16) : parseInt(p.propertyTag, 10);
    return normalizePropertyId(`${p.propertyType} 0x${n.toString(16)}`);
  }
  const set = p.propertySetId ?? DISTINGUISHED_PROPERTY_SETS[p.distinguishedPropertySetId ?? ''];
  if (!set) return null;
  return normalizePropertyId(p.propertyName !== undefined ? `${p.propertyType} {${set}} Name ${p.propertyName}` : `${p.propertyType} {${set}} Id 0x${(p.propertyId ?? 0).toString(16)}`);
}

function neutralException(m: EwsLikeItem['modifiedOccurrences'][number]): NeutralException {
  const x: NeutralException = { originalStart: m.originalStart };
  if (m.subject !== undefined) x.subject = m.subject;
  if (m.start !== undefined) x.start = m.start;
  if (m.end !== undefined) x.end = m.end;
  if (m.location !== undefined) x.location = m.location;
  if (m.body !== undefined) {
    x.body = m.body;
    x.bodyType = m.bodyType === 'HTML' ? 'html' : 'text';
  }
  if (m.sensitivity !== undefined) x.sensitivity = lowerFirst(m.sensitivity) as Sensitivity;
  if (m.legacyFreeBusyStatus !== undefined) x.showAs = SHOW[m.legacyFreeBusyStatus] ?? 'busy';
  if (m.lastModifiedTime) x.lastModified = m.lastModifiedTime;
  return x;
}

/** The EWS simulator's items of one mailbox (its back door's items() or a state snapshot's) as a neutral mailbox. */
export function neutralFromEwsItems(owner: { address: string; displayName: string }, items: EwsLikeItem[]): NeutralMailbox {
  return {
    format: 'calendar-mailbox',
    version: 1,
    owner,
    items: items.map((it): NeutralItem => {
      const zone = windowsNameOf(it.timeZone);
      const attendee = (type: SimAttendee['type']) => (address: string): SimAttendee => ({ type, address, name: '', response: 'none' });
      return {
        ...(it.id !== undefined ? { id: it.id } : {}),
        uid: it.uid,
        subject: it.subject,
        body: it.body,
        bodyType: it.bodyType === 'HTML' ? 'html' : 'text',
        start: it.start,
        end: it.end,
        timeZone: zone,
        isAllDay: it.isAllDay,
        location: it.location,
        sensitivity: lowerFirst(it.sensitivity) as Sensitivity,
        showAs: SHOW[it.legacyFreeBusyStatus] ?? 'busy',
        importance: 'normal',
        categories: [...it.categories],
        isReminderOn: it.reminderIsSet,
        reminderMinutesBeforeStart: it.reminderMinutesBeforeStart,
        organizer: { address: it.organizer, name: '' },
        isOrganizer: it.organizer.toLowerCase() === owner.address.toLowerCase(),
        response: RESPONSE[it.myResponseType] ?? 'none',
        attendees: [...it.requiredAttendees.map(attendee('required')), ...it.optionalAttendees.map(attendee('optional'))],
        recurrence: it.recurrence ? ewsRecurrence(it.recurrence, zone) : null,
        exceptions: it.modifiedOccurrences.map(neutralException),
        cancelledOccurrences: [...it.deletedOccurrences],
        extendedProperties: it.extendedProperties.flatMap((p) => {
          const id = ewsPropertyId(p);
          return id ? [{ id, value: String(p.value) }] : [];
        }),
        isCancelled: it.isCancelled,
        created: it.dateTimeCreated,
        lastModified: it.lastModifiedTime,
      };
    }),
  };
}

// ---- neutral -> EWS -------------------------------------------------------------------------------------------------------

const WEEKDAY_OF: Record<DayOfWeek, Weekday> = Object.fromEntries(DAYS_OF_WEEK.map((d, i) => [d, WEEKDAYS[i]])) as Record<DayOfWeek, Weekday>;

/** A relative pattern's day list as EWS's one DaysOfWeek value (the groups Exchange has names for). */
function ewsDayValue(days: DayOfWeek[], where: string): DaysOfWeekValue {
  const set = [...new Set(days)].sort((a, b) => DAYS_OF_WEEK.indexOf(a) - DAYS_OF_WEEK.indexOf(b)).join(',');
  if (set === DAYS_OF_WEEK.join(',')) return 'Day';
  if (set === DAYS_OF_WEEK.slice(1, 6).join(',')) return 'Weekday';
  if (set === 'sunday,saturday') return 'WeekendDay';
  if (days.length === 1) return WEEKDAY_OF[days[0]];
  throw new Error(`${where}: a relative pattern on ${set} has no EWS DaysOfWeek value`);
}

function ewsPattern(r: PatternedRecurrence, where: string): SimRecurrencePattern {
  const p = r.pattern;
  const index = upperFirst(p.index) as DayOfWeekIndex;
  const month = MONTHS[p.month - 1];
  switch (p.type) {
    case 'daily':
      return { type: 'Daily', interval: p.interval };
    case 'weekly':
      return { type: 'Weekly', interval: p.interval, daysOfWeek: p.daysOfWeek.map((d) => WEEKDAY_OF[d]), firstDayOfWeek: WEEKDAY_OF[p.firstDayOfWeek] };
    case 'absoluteMonthly':
      return { type: 'AbsoluteMonthly', interval: p.interval, dayOfMonth: p.dayOfMonth };
    case 'relativeMonthly':
      return { type: 'RelativeMonthly', interval: p.interval, daysOfWeek: ewsDayValue(p.daysOfWeek, where), dayOfWeekIndex: index };
    case 'absoluteYearly':
      return { type: 'AbsoluteYearly', dayOfMonth: p.dayOfMonth, month };
    case 'relativeYearly':
      return { type: 'RelativeYearly', daysOfWeek: ewsDayValue(p.daysOfWeek, where), dayOfWeekIndex: index, month };
  }
}

function ewsRange(r: PatternedRecurrence): SimRecurrenceRange {
  const g = r.range;
  if (g.type === 'noEnd') return { type: 'NoEnd', startDate: g.startDate };
  if (g.type === 'endDate') return { type: 'EndDate', startDate: g.startDate, endDate: g.endDate };
  return { type: 'Numbered', startDate: g.startDate, count: g.numberOfOccurrences };
}

const SET_NAME_OF: Record<string, string> = Object.fromEntries(Object.entries(DISTINGUISHED_PROPERTY_SETS).map(([name, guid]) => [guid, name]));

/** A Graph extended property id as EWS names it (a distinguished set by its name, as EWS clients name those). */
function ewsProperty(id: string, value: string): SimExtendedProperty {
  const n = normalizePropertyId(id);
  const named = /^(\w+) \{([0-9a-f-]{36})\} (Name|Id) (.+)$/.exec(n);
  if (named) {
    const [, propertyType, guid, kind, rest] = named;
    const set = SET_NAME_OF[guid] ? { distinguishedPropertySetId: SET_NAME_OF[guid] } : { propertySetId: guid };
    return kind === 'Name' ? { ...set, propertyName: rest, propertyType, value } : { ...set, propertyId: parseInt(rest, 16), propertyType, value };
  }
  const [propertyType, tag] = n.split(' ');
  return { propertyTag: tag, propertyType, value };
}

function ewsOverride(x: NeutralException, lastModifiedTime: string, where: string): SimOccurrenceOverride {
  const o: SimOccurrenceOverride = { originalStart: ewsTime(x.originalStart, where), lastModifiedTime: x.lastModified ? ewsTime(x.lastModified, where) : lastModifiedTime };
  if (x.subject !== undefined) o.subject = x.subject;
  if (x.start !== undefined) o.start = ewsTime(x.start, where);
  if (x.end !== undefined) o.end = ewsTime(x.end, where);
  if (x.location !== undefined) o.location = x.location;
  if (x.body !== undefined) {
    o.body = x.body;
    o.bodyType = x.bodyType === 'html' ? 'HTML' : 'Text';
  }
  if (x.sensitivity !== undefined) o.sensitivity = upperFirst(x.sensitivity) as SimOccurrenceOverride['sensitivity'];
  if (x.showAs !== undefined) o.legacyFreeBusyStatus = FREE_BUSY[x.showAs];
  return o;
}

/** A neutral item as the EWS store's content (UTC instants to the second, an IANA zone, EWS names and patterns). */
export function ewsItemFromNeutral(it: NeutralItem, where = `item '${it.subject}'`): EwsItemContent {
  const zone = resolveZone(it.timeZone);
  if (!zone) throw new Error(`${where}: time zone '${it.timeZone}' is not known`);
  const lastModified = ewsTime(it.lastModified, where);
  const recurrence: SimRecurrence | null = it.recurrence ? { pattern: ewsPattern(it.recurrence, where), range: ewsRange(it.recurrence) } : null;
  const attendees = (types: Array<SimAttendee['type']>): string[] => it.attendees.filter((a) => types.includes(a.type)).map((a) => a.address.toLowerCase());
  return {
    uid: it.uid,
    subject: it.subject,
    start: ewsTime(it.start, where),
    end: ewsTime(it.end, where),
    isAllDay: it.isAllDay,
    timeZone: zone,
    location: it.location,
    body: it.body,
    bodyType: it.bodyType === 'html' ? 'HTML' : 'Text',
    sensitivity: upperFirst(it.sensitivity) as EwsItemContent['sensitivity'],
    legacyFreeBusyStatus: FREE_BUSY[it.showAs] ?? 'Busy',
    organizer: it.organizer.address.toLowerCase(),
    requiredAttendees: attendees(['required']),
    optionalAttendees: attendees(['optional', 'resource']),
    categories: [...it.categories],
    reminderIsSet: it.isReminderOn,
    reminderMinutesBeforeStart: it.reminderMinutesBeforeStart,
    recurrence,
    modifiedOccurrences: it.exceptions.map((x) => ewsOverride(x, lastModified, where)),
    deletedOccurrences: it.cancelledOccurrences.map((c) => ewsTime(c, where)),
    extendedProperties: it.extendedProperties.map((p) => ewsProperty(p.id, p.value)),
    isCancelled: it.isCancelled,
    myResponseType: MY_RESPONSE[it.response] ?? 'Unknown',
    dateTimeCreated: ewsTime(it.created, where),
    lastModifiedTime: lastModified,
  };
}

/** Every item of a neutral mailbox as EWS content (checked first: a wrong format or zone names the item). */
export function ewsItemsFromNeutral(data: NeutralMailbox): EwsItemContent[] {
  assertNeutralMailbox(data);
  return data.items.map((it, i) => ewsItemFromNeutral(it, `items[${i}] ('${it.subject}')`));
}
