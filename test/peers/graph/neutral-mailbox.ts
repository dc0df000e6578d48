/**
 * A mailbox's calendar as neutral JSON, for moving mailboxes between simulators: exportMailbox() writes it from this
 * simulator, importMailbox() adds its items to a mailbox here under new ids (keeping UIDs, times, zones, recurrence,
 * exceptions, cancelled occurrences and extended properties), and neutralFromEwsItems() reads the EWS simulator's
 * calendar items (its SimCalendarItem, structurally) into the same shape. Instants are ISO UTC strings.
 */
import type { CalendarStore } from './calendar-store.ts';
import { contentOf } from './calendar-store.ts';
import type { DirectoryUser } from './graph-directory.ts';
import type { BodyType, EventContent, Importance, ResponseType, Sensitivity, ShowAs, SimAttendee } from './graph-model.ts';
import { normalizePropertyId } from './graph-model.ts';
import type { DayOfWeek, PatternedRecurrence, WeekIndex } from './graph-recurrence.ts';
import { DAYS_OF_WEEK, normalizeRecurrence } from './graph-recurrence.ts';
import { resolveZone, windowsNameOf } from './graph-time.ts';

export interface NeutralException {
  originalStart: string;
  subject?: string;
  body?: string;
  bodyType?: BodyType;
  start?: string;
  end?: string;
  location?: string;
  sensitivity?: Sensitivity;
  showAs?: ShowAs;
}

export interface NeutralItem {
  uid: string;
  subject: string;
  body: string;
  bodyType: BodyType;
  start: string;
  end: string;
  /** IANA or Windows zone name of start/end. */
  timeZone: string;
  isAllDay: boolean;
  location: string;
  sensitivity: Sensitivity;
  showAs: ShowAs;
  importance: Importance;
  categories: string[];
  isReminderOn: boolean;
  reminderMinutesBeforeStart: number;
  organizer: { address: string; name: string };
  isOrganizer: boolean;
  response: ResponseType;
  attendees: SimAttendee[];
  /** Graph's patternedRecurrence (pattern + range), or null. */
  recurrence: PatternedRecurrence | null;
  exceptions: NeutralException[];
  cancelledOccurrences: string[];
  /** Single-value extended properties, by Graph id (`String {guid} Name X`). */
  extendedProperties: Array<{ id: string; value: string }>;
  isCancelled: boolean;
  created: string;
  lastModified: string;
}

export interface NeutralMailbox {
  format: 'calendar-mailbox';
  version: 1;
  owner: { address: string; displayName: string };
  items: NeutralItem[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function exportMailbox(store: CalendarStore, user: DirectoryUser): NeutralMailbox {
  const cal = store.calendarOf(user);
  const items: NeutralItem[] = [];
  for (const e of cal?.items() ?? []) {
    items.push({
      uid: e.uid,
      subject: e.subject,
      body: e.body,
      bodyType: e.bodyType,
      start: iso(e.startMs),
      end: iso(e.endMs),
      timeZone: e.startZone,
      isAllDay: e.isAllDay,
      location: e.location,
      sensitivity: e.sensitivity,
      showAs: e.showAs,
      importance: e.importance,
      categories: [...e.categories],
      isReminderOn: e.isReminderOn,
      reminderMinutesBeforeStart: e.reminderMinutesBeforeStart,
      organizer: { address: e.organizerAddress, name: e.organizerName },
      isOrganizer: e.isOrganizer,
      response: e.response,
      attendees: structuredClone(e.attendees),
      recurrence: structuredClone(e.recurrence),
      exceptions: e.exceptions.map((x) => {
        const o = x.overrides;
        const out: NeutralException = { originalStart: iso(x.originalStartMs) };
        if (o.subject !== undefined) out.subject = o.subject;
        if (o.body !== undefined) out.body = o.body;
        if (o.bodyType !== undefined) out.bodyType = o.bodyType;
        if (o.startMs !== undefined) out.start = iso(o.startMs);
        if (o.endMs !== undefined) out.end = iso(o.endMs);
        if (o.location !== undefined) out.location = o.location;
        if (o.sensitivity !== undefined) out.sensitivity = o.sensitivity;
        if (o.showAs !== undefined) out.showAs = o.showAs;
        return out;
      }),
      cancelledOccurrences: e.cancelledOccurrences.map(iso),
      extendedProperties: e.extendedProperties.map((p) => ({ ...p })),
      isCancelled: e.isCancelled,
      created: iso(e.createdMs),
      lastModified: iso(e.modifiedMs),
    });
  }
  return { format: 'calendar-mailbox', version: 1, owner: { address: user.mail, displayName: user.displayName }, items };
}

function ms(v: string, what: string): number {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new Error(`${what}: '${v}' is not a date-time`);
  return t;
}

/** Adds the items to the user's calendar as new items (new ids, the same UIDs). No mail is sent. */
export function importMailbox(store: CalendarStore, user: DirectoryUser, data: NeutralMailbox, nowMs: number): number {
  if (data?.format !== 'calendar-mailbox' || data.version !== 1) throw new Error(`Not a calendar-mailbox version 1 export (format ${String(data?.format)}, version ${String(data?.version)}).`);
  const cal = store.calendarOf(user);
  if (!cal) throw new Error(`${user.mail} has no mailbox here.`);
  data.items.forEach((it, i) => {
    const where = `items[${i}] ('${it.subject}')`;
    if (!resolveZone(it.timeZone)) throw new Error(`${where}: time zone '${it.timeZone}' is not known`);
    const content: EventContent = {
      subject: it.subject,
      bodyType: it.bodyType,
      body: it.body,
      startMs: ms(it.start, where),
      endMs: ms(it.end, where),
      startZone: it.timeZone,
      endZone: it.timeZone,
      isAllDay: it.isAllDay,
      location: it.location,
      sensitivity: it.sensitivity,
      showAs: it.showAs,
      importance: it.importance ?? 'normal',
      categories: [...(it.categories ?? [])],
      isReminderOn: it.isReminderOn ?? true,
      reminderMinutesBeforeStart: it.reminderMinutesBeforeStart ?? 15,
      attendees: structuredClone(it.attendees ?? []),
      extendedProperties: (it.extendedProperties ?? []).map((p) => ({ id: normalizePropertyId(p.id), value: p.value })),
    };
    const recurrence = it.recurrence ? normalizeRecurrence(it.recurrence, it.timeZone) : null;
    const e = cal.add(content, { uid: it.uid, organizerAddress: it.organizer.address, organizerName: it.organizer.name, isOrganizer: it.isOrganizer, response: it.response, recurrence, nowMs });
    e.exceptions = (it.exceptions ?? []).map((x) => {
      const overrides: Partial<EventContent> = {};
      if (x.subject !== undefined) overrides.subject = x.subject;
      if (x.body !== undefined) overrides.body = x.body;
      if (x.bodyType !== undefined) overrides.bodyType = x.bodyType;
      if (x.start !== undefined) overrides.startMs = ms(x.start, where);
      if (x.end !== undefined) overrides.endMs = ms(x.end, where);
      if (x.location !== undefined) overrides.location = x.location;
      if (x.sensitivity !== undefined) overrides.sensitivity = x.sensitivity;
      if (x.showAs !== undefined) overrides.showAs = x.showAs;
      return { originalStartMs: ms(x.originalStart, where), overrides, version: 1, createdMs: nowMs, modifiedMs: nowMs };
    });
    e.cancelledOccurrences = (it.cancelledOccurrences ?? []).map((c) => ms(c, where)).sort((a, b) => a - b);
    e.isCancelled = it.isCancelled ?? false;
    e.createdMs = it.created ? ms(it.created, where) : nowMs;
    void contentOf;
  });
  return data.items.length;
}

// ---- from the EWS simulator ---------------------------------------------------------------------------------------------

/** The fields of the EWS simulator's SimCalendarItem (test/peers/ews/calendar-model.ts) this conversion reads. */
export interface EwsLikeItem {
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
  modifiedOccurrences: Array<{ originalStart: string; subject?: string; start?: string; end?: string; location?: string; body?: string; bodyType?: 'HTML' | 'Text'; sensitivity?: string; legacyFreeBusyStatus?: string }>;
  deletedOccurrences: string[];
  extendedProperties: Array<{ propertySetId?: string; distinguishedPropertySetId?: string; propertyName?: string; propertyId?: number; propertyTag?: string; propertyType: string; value: string | string[] }>;
  isCancelled: boolean;
  myResponseType: string;
  dateTimeCreated: string;
  lastModifiedTime: string;
}

const DISTINGUISHED: Record<string, string> = {
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

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
const SHOW: Record<string, ShowAs> = { Free: 'free', Tentative: 'tentative', Busy: 'busy', OOF: 'oof', WorkingElsewhere: 'workingElsewhere', NoData: 'unknown' };
const RESPONSE: Record<string, ResponseType> = { Unknown: 'none', Organizer: 'organizer', Tentative: 'tentativelyAccepted', Accept: 'accepted', Decline: 'declined', NoResponseReceived: 'notResponded' };
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

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
  if (p.month !== undefined) pattern.month = MONTH_NAMES.indexOf(String(p.month)) + 1;
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
  const set = p.propertySetId ?? DISTINGUISHED[p.distinguishedPropertySetId ?? ''];
  if (!set) return null;
  return normalizePropertyId(p.propertyName !== undefined ? `${p.propertyType} {${set}} Name ${p.propertyName}` : `${p.propertyType} {${set}} Id 0x${(p.propertyId ?? 0).toString(16)}`);
}

/** The EWS simulator's items of one mailbox (e.g. from its exportState()) as a neutral mailbox. */
export function neutralFromEwsItems(owner: { address: string; displayName: string }, items: EwsLikeItem[]): NeutralMailbox {
  return {
    format: 'calendar-mailbox',
    version: 1,
    owner,
    items: items.map((it) => {
      const zone = windowsNameOf(it.timeZone);
      const attendee = (type: SimAttendee['type']) => (address: string): SimAttendee => ({ type, address, name: '', response: 'none' });
      return {
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
        exceptions: it.modifiedOccurrences.map((m) => ({
          originalStart: m.originalStart,
          ...(m.subject !== undefined ? { subject: m.subject } : {}),
          ...(m.start !== undefined ? { start: m.start } : {}),
          ...(m.end !== undefined ? { end: m.end } : {}),
          ...(m.location !== undefined ? { location: m.location } : {}),
          ...(m.body !== undefined ? { body: m.body, bodyType: m.bodyType === 'HTML' ? ('html' as const) : ('text' as const) } : {}),
          ...(m.sensitivity !== undefined ? { sensitivity: lowerFirst(m.sensitivity) as Sensitivity } : {}),
          ...(m.legacyFreeBusyStatus !== undefined ? { showAs: SHOW[m.legacyFreeBusyStatus] ?? 'busy' } : {}),
        })),
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
