import type { DayGroup, EventFields, OccurrenceException, RecurrenceRule, Weekday, WeekOrdinal } from './calendar-event.ts';
import type {
  ActivityCategory,
  SeveraActivity,
  SeveraActivityInput,
  SeveraActivityType,
  SeveraMonth,
  SeveraPatch,
  SeveraRecurrence,
  SeveraUser,
} from './severa-port.ts';
import { t } from '../common/i18n/i18n.ts';
import { canonicalRule, occurrenceDates, sameDatesWithWeekStart, weekdayName } from './recurrence-rule.ts';
import type { SeveraDayOrdinalOption } from './severa-port.ts';
import { addDays, formatWithOffset, isDate, localDate, localParts, localToMs } from './zoned-time.ts';

/**
 * Severa ActivityModel <-> the neutral EventFields, and the rules of what may travel (pure, no I/O).
 *
 * - Severa -> Exchange: only activity types the admin selected; project tasks (category Task) never. Private = category Personal.
 * - Exchange -> Severa: every entry. Private entries get the active type named "Personal", else the user's default type,
 *   else the organization's default type; other entries get the user's default, else the organization's default.
 * - Times: timed activities travel as UTC instants and are written back with the zone's offset; all-day activities travel
 *   as local dates (end exclusive) in the owner's zone.
 */

export const NO_SUBJECT = '(no subject)';
export const SEVERA_LOCATION_MAX = 1000;

// ---- activity types --------------------------------------------------------------------------------------------------

export function categoryOf(activity: SeveraActivity, typesByGuid: ReadonlyMap<string, SeveraActivityType>): ActivityCategory | undefined {
  const guid = activity.activityType?.guid;
  return activity.activityType?.category ?? (guid ? typesByGuid.get(guid)?.category : undefined);
}

export type Eligibility = { ok: true } | { ok: false; reason: string };

/** May this activity go to Exchange as a new item? */
export function severaToExchangeEligibility(
  activity: SeveraActivity,
  selectedTypeGuids: ReadonlySet<string>,
  typesByGuid: ReadonlyMap<string, SeveraActivityType>,
): Eligibility {
  const category = categoryOf(activity, typesByGuid);
  if (category === 'Task') return { ok: false, reason: 'project tasks are never synced' };
  const typeGuid = activity.activityType?.guid;
  if (!typeGuid || !selectedTypeGuids.has(typeGuid)) return { ok: false, reason: 'activity type not selected for Exchange' };
  return { ok: true };
}

const usable = (t: SeveraActivityType | undefined): t is SeveraActivityType & { guid: string } =>
  !!t && typeof t.guid === 'string' && t.guid !== '' && t.isActive !== false && t.category !== 'Task';

/** The activity type an entry coming from Exchange gets, or null when Severa has no usable default at all. */
export function chooseActivityType(
  isPrivate: boolean,
  user: SeveraUser | undefined,
  types: readonly SeveraActivityType[],
): { guid: string; category: ActivityCategory | undefined; rule: string } | null {
  if (isPrivate) {
    const personal = types.find((t) => usable(t) && (t.name ?? '').trim().toLowerCase() === 'personal');
    if (usable(personal)) return { guid: personal.guid, category: personal.category, rule: 'private: the "Personal" type' };
  }
  const userDefaultGuid = user?.defaultActivityType?.guid;
  const userDefault = userDefaultGuid ? types.find((t) => t.guid === userDefaultGuid) : undefined;
  if (usable(userDefault)) return { guid: userDefault.guid, category: userDefault.category, rule: "the user's default type" };
  const orgDefault = types.find((t) => usable(t) && t.isDefault === true);
  if (usable(orgDefault)) return { guid: orgDefault.guid, category: orgDefault.category, rule: "the organization's default type" };
  return null;
}

// ---- recurrence ------------------------------------------------------------------------------------------------------

const WEEKDAYS: Weekday[] = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const WEEKLY_KEYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const MONTHS: SeveraMonth[] = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const isWeekday = (v: unknown): v is Weekday => typeof v === 'string' && (WEEKDAYS as string[]).includes(v);
const WORK_WEEK: Weekday[] = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];

/** Severa's DayOrdinalOption day groups <-> the neutral ones (Severa spells "WeekDay"). */
const GROUP_FROM_SEVERA: Partial<Record<SeveraDayOrdinalOption, DayGroup>> = { Day: 'Day', WeekDay: 'Weekday', WeekendDay: 'WeekendDay' };
const GROUP_TO_SEVERA: Record<DayGroup, SeveraDayOrdinalOption> = { Day: 'Day', Weekday: 'WeekDay', WeekendDay: 'WeekendDay' };

function dayToSevera(day: Weekday | DayGroup): SeveraDayOrdinalOption {
  return isWeekday(day) ? day : GROUP_TO_SEVERA[day];
}

export type RuleResult = { rule: RecurrenceRule } | { rule: null; reason: string };

/** Severa counts "every N weeks" in weeks that start on Monday. */
export const SEVERA_FIRST_DAY_OF_WEEK: Weekday = 'Monday';

/**
 * Severa's ActivityRecurrenceModel -> RecurrenceRule (canonical). `startDate` is the series' first local date. A pattern
 * the neutral rule cannot carry (an unknown frequency or day) gives a reason instead, and the series is then flattened.
 */
export function severaRecurrenceToRule(rec: SeveraRecurrence, startDate: string, timeZone: string): RuleResult {
  const p = rec.pattern ?? {};
  const range = rec.range ?? {};
  const end: Pick<RecurrenceRule, 'count' | 'until'> = {};
  if (range.maxOccurrences && range.maxOccurrences > 0) end.count = range.maxOccurrences;
  else if (range.recursUntilDate) end.until = range.recursUntilDate.slice(0, 10);
  else if (rec.lastOccurrenceDateTime && !Number.isNaN(Date.parse(rec.lastOccurrenceDateTime))) {
    end.until = localDate(Date.parse(rec.lastOccurrenceDateTime), timeZone);
  }
  const weekdayOfStart = WEEKDAYS[new Date(`${startDate}T00:00:00Z`).getUTCDay()];
  const done = (rule: RecurrenceRule): RuleResult => ({ rule: canonicalRule(rule) });
  switch (rec.frequency) {
    case 'Daily': {
      // "Every weekday" is Exchange's weekly Monday-Friday, every week.
      if (p.daily?.everyWeekday) return done({ frequency: 'Weekly', interval: 1, daysOfWeek: [...WORK_WEEK], startDate, ...end });
      return done({ frequency: 'Daily', interval: Math.max(1, p.daily?.interval ?? 1), startDate, ...end });
    }
    case 'Weekly': {
      const w = p.weekly ?? {};
      const days = [1, 2, 3, 4, 5, 6, 0].filter((i) => w[WEEKLY_KEYS[i]] === true).map((i) => WEEKDAYS[i]);
      const interval = Math.max(1, w.interval ?? 1);
      return done({ frequency: 'Weekly', interval, daysOfWeek: days.length ? days : [weekdayOfStart], startDate, ...end, firstDayOfWeek: SEVERA_FIRST_DAY_OF_WEEK });
    }
    case 'Monthly':
    case 'Yearly': {
      const m = rec.frequency === 'Monthly' ? (p.monthly ?? {}) : (p.yearly ?? {});
      const base: RecurrenceRule = rec.frequency === 'Monthly'
        ? { frequency: 'Monthly', interval: Math.max(1, p.monthly?.interval ?? 1), startDate, ...end }
        : { frequency: 'Yearly', interval: 1, month: p.yearly?.month ? MONTHS.indexOf(p.yearly.month) + 1 : Number(startDate.slice(5, 7)), startDate, ...end };
      if (m.dayOrdinal && m.dayOrdinalOption) {
        const day = isWeekday(m.dayOrdinalOption) ? m.dayOrdinalOption : GROUP_FROM_SEVERA[m.dayOrdinalOption];
        if (!day) return { rule: null, reason: t('engine.series.noEquivalent', { pattern: `${m.dayOrdinal} ${String(m.dayOrdinalOption)}` }) };
        return done({ ...base, weekOrdinal: m.dayOrdinal as WeekOrdinal, dayOfWeek: day });
      }
      return done({ ...base, dayOfMonth: m.dayOfMonth ?? Number(startDate.slice(8, 10)) });
    }
    default:
      return { rule: null, reason: t('engine.series.unknownFrequency', { frequency: String((rec as { frequency?: unknown }).frequency) }) };
  }
}

/**
 * One plain sentence (no full stop) when Severa cannot hold a series with this rule, else null: then the engine syncs
 * the series' occurrences inside the window as single activities.
 */
export function severaRecurrenceProblem(rule: RecurrenceRule): string | null {
  if (rule.frequency === 'Weekly' && rule.interval > 1 && !sameDatesWithWeekStart(rule, SEVERA_FIRST_DAY_OF_WEEK)) {
    return t('engine.series.severaWeekStart', { interval: rule.interval, weekStart: weekdayName(rule.firstDayOfWeek ?? 'Sunday') });
  }
  if (rule.frequency === 'Yearly' && rule.interval !== 1) return t('engine.series.severaYearly');
  return null;
}

/**
 * Severa shows a series' occurrences up to about two years past its start (its advice: keep series under a year; the
 * simulator stops at 2 x 366 days). A day less, so a DST change between the two ends can never cut the last one off.
 */
export const SEVERA_SERIES_HORIZON_DAYS = 2 * 366 - 1;

/** The last local date Severa shows an occurrence of a series with this rule on. */
export function severaHorizonDate(rule: RecurrenceRule): string {
  return addDays(rule.startDate, SEVERA_SERIES_HORIZON_DAYS);
}

/** Whether the series has occurrences after Severa's horizon. */
export function reachesBeyondSeveraHorizon(rule: RecurrenceRule): boolean {
  const horizon = severaHorizonDate(rule);
  if (rule.until !== undefined) return rule.until > horizon;
  if (rule.count === undefined) return true;
  let last = rule.startDate;
  for (const date of occurrenceDates(rule)) last = date;
  return last > horizon;
}

/**
 * One plain sentence (no full stop) when Severa, holding this series, would not show some of its occurrences inside a
 * window that ends on `windowEndDate` (the series reaches past Severa's horizon, and so does the window).
 */
export function severaHorizonProblem(rule: RecurrenceRule, windowEndDate: string): string | null {
  const horizon = severaHorizonDate(rule);
  if (windowEndDate <= horizon || !reachesBeyondSeveraHorizon(rule)) return null;
  return t('engine.series.severaHorizon', { start: rule.startDate, horizon });
}

const isWorkWeek = (days: readonly Weekday[] | undefined) => !!days && days.length === 5 && WORK_WEEK.every((d) => days.includes(d));

export function ruleToSeveraRecurrence(rule: RecurrenceRule): SeveraRecurrence {
  const range = rule.count ? { maxOccurrences: rule.count, recursUntilDate: null } : rule.until ? { maxOccurrences: null, recursUntilDate: rule.until.slice(0, 10) } : null;
  switch (rule.frequency) {
    case 'Daily':
      return { frequency: 'Daily', pattern: { daily: { everyWeekday: false, interval: Math.max(1, rule.interval) } }, range };
    case 'Weekly': {
      // Weekly Monday-Friday every week is what Severa calls "every weekday".
      if (rule.interval <= 1 && isWorkWeek(rule.daysOfWeek)) return { frequency: 'Daily', pattern: { daily: { everyWeekday: true, interval: 1 } }, range };
      const weekly: NonNullable<NonNullable<SeveraRecurrence['pattern']>['weekly']> = { interval: Math.max(1, rule.interval) };
      // Every day spelled out, so a patch also switches off the days the series no longer falls on.
      for (const key of [1, 2, 3, 4, 5, 6, 0].map((i) => WEEKLY_KEYS[i])) weekly[key] = false;
      for (const day of rule.daysOfWeek ?? []) weekly[WEEKLY_KEYS[WEEKDAYS.indexOf(day)]] = true;
      return { frequency: 'Weekly', pattern: { weekly }, range };
    }
    case 'Monthly':
      return {
        frequency: 'Monthly',
        pattern: {
          monthly: rule.weekOrdinal && rule.dayOfWeek
            ? { interval: Math.max(1, rule.interval), dayOfMonth: null, dayOrdinal: rule.weekOrdinal, dayOrdinalOption: dayToSevera(rule.dayOfWeek) }
            : { interval: Math.max(1, rule.interval), dayOfMonth: rule.dayOfMonth ?? Number(rule.startDate.slice(8, 10)), dayOrdinal: null, dayOrdinalOption: null },
        },
        range,
      };
    case 'Yearly': {
      const month = MONTHS[(rule.month ?? Number(rule.startDate.slice(5, 7))) - 1];
      return {
        frequency: 'Yearly',
        pattern: {
          yearly: rule.weekOrdinal && rule.dayOfWeek
            ? { month, dayOfMonth: null, dayOrdinal: rule.weekOrdinal, dayOrdinalOption: dayToSevera(rule.dayOfWeek) }
            : { month, dayOfMonth: rule.dayOfMonth ?? Number(rule.startDate.slice(8, 10)), dayOrdinal: null, dayOrdinalOption: null },
        },
        range,
      };
    }
  }
}

// ---- times -------------------------------------------------------------------------------------------------------------

export class MappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MappingError';
  }
}

function readTimes(activity: SeveraActivity, timeZone: string): { start: string; end: string; isAllDay: boolean } {
  const startMs = Date.parse(activity.startDateTime ?? '');
  if (Number.isNaN(startMs)) throw new MappingError(`Severa activity ${activity.guid ?? '(new)'} has no valid start time ("${activity.startDateTime ?? ''}").`);
  let endMs = Date.parse(activity.endDateTime ?? '');
  if (Number.isNaN(endMs) || endMs < startMs) endMs = startMs;
  if (activity.isAllDay) {
    const start = localDate(startMs, timeZone);
    const endLocal = localParts(endMs, timeZone);
    const endDate = localDate(endMs, timeZone);
    // End at local midnight is already exclusive; an end inside the day (e.g. 23:59) means "through that day".
    const atMidnight = endLocal.hour === 0 && endLocal.minute === 0 && endLocal.second === 0;
    let end = atMidnight ? endDate : addDays(endDate, 1);
    if (end <= start) end = addDays(start, 1);
    return { start, end, isAllDay: true };
  }
  return { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString(), isAllDay: false };
}

function writeTimes(fields: Pick<EventFields, 'start' | 'end' | 'isAllDay'>, timeZone: string): { startDateTime: string; endDateTime: string } {
  if (fields.isAllDay) {
    const start = fields.start.slice(0, 10);
    let end = fields.end.slice(0, 10);
    if (!isDate(start)) throw new MappingError(`An all-day entry has no valid start date ("${fields.start}").`);
    if (!isDate(end) || end <= start) end = addDays(start, 1);
    return { startDateTime: formatWithOffset(localToMs(timeZone, start), timeZone), endDateTime: formatWithOffset(localToMs(timeZone, end), timeZone) };
  }
  const startMs = Date.parse(fields.start);
  if (Number.isNaN(startMs)) throw new MappingError(`An entry has no valid start time ("${fields.start}").`);
  let endMs = Date.parse(fields.end);
  if (Number.isNaN(endMs) || endMs < startMs) endMs = startMs;
  return { startDateTime: formatWithOffset(startMs, timeZone), endDateTime: formatWithOffset(endMs, timeZone) };
}

// ---- Severa -> neutral ------------------------------------------------------------------------------------------------

export interface SeveraReadContext {
  /** The owner's zone (all-day dates, series start date). */
  timeZone: string;
  typesByGuid: ReadonlyMap<string, SeveraActivityType>;
  /** Changed and deleted occurrences of a series master. */
  exceptions?: OccurrenceException[];
}

export interface SeveraReadResult {
  fields: EventFields;
  /** Set when the activity is a series whose pattern the neutral rule cannot carry: sync its occurrences instead. */
  flattenReason?: string;
}

export function activityToFields(activity: SeveraActivity, ctx: SeveraReadContext): SeveraReadResult {
  const times = readTimes(activity, ctx.timeZone);
  let recurrence: RecurrenceRule | null = null;
  let flattenReason: string | undefined;
  if (activity.recurrence && activity.recurrenceType !== 'Occurrence' && activity.recurrenceType !== 'Exception') {
    const startDate = times.isAllDay ? times.start : localDate(Date.parse(times.start), ctx.timeZone);
    const r = severaRecurrenceToRule(activity.recurrence, startDate, ctx.timeZone);
    if (r.rule) recurrence = r.rule;
    else flattenReason = r.reason;
  }
  const fields: EventFields = {
    subject: activity.name ?? '',
    start: times.start,
    end: times.end,
    isAllDay: times.isAllDay,
    timeZone: ctx.timeZone,
    location: activity.location ?? '',
    body: activity.notes ?? '',
    isPrivate: categoryOf(activity, ctx.typesByGuid) === 'Personal',
    recurrence,
    exceptions: recurrence ? [...(ctx.exceptions ?? [])] : [],
    attendees: [],
    organizer: null,
  };
  return flattenReason ? { fields, flattenReason } : { fields };
}

// ---- series exceptions -------------------------------------------------------------------------------------------------

/** The key of an occurrence: its original start as an instant (ms), or its local date for an all-day series. */
export function occurrenceKey(originalStart: string, isAllDay: boolean, timeZone: string): string {
  if (isAllDay) {
    const ms = Date.parse(originalStart);
    return originalStart.length === 10 || Number.isNaN(ms) ? originalStart.slice(0, 10) : localDate(ms, timeZone);
  }
  const ms = Date.parse(originalStart);
  return Number.isNaN(ms) ? originalStart : new Date(ms).toISOString();
}

export interface SeveraSeriesExceptions {
  exceptions: OccurrenceException[];
  /** Occurrence key -> guid of the Exception activity holding the changed occurrence. */
  rowGuidByKey: Map<string, string>;
}

/**
 * A Severa series' changed and deleted occurrences, in the neutral form. The master lists the original starts of every
 * changed or deleted occurrence; each changed one is an Exception activity of the series. The API does not say which
 * original start an Exception activity replaced, so each is matched to the nearest listed original start.
 */
export function severaSeriesExceptions(master: SeveraActivity, exceptionRows: readonly SeveraActivity[], ctx: SeveraReadContext): SeveraSeriesExceptions {
  const isAllDay = master.isAllDay === true;
  const dates = (master.recurrence?.exceptions ?? []).map((d) => ({ d, ms: Date.parse(d) })).filter((x) => !Number.isNaN(x.ms));
  const rows = exceptionRows.filter((r) => r.guid && !Number.isNaN(Date.parse(r.startDateTime ?? '')));
  const candidates: Array<{ di: number; ri: number; distance: number }> = [];
  dates.forEach((d, di) => rows.forEach((r, ri) => candidates.push({ di, ri, distance: Math.abs(Date.parse(r.startDateTime!) - d.ms) })));
  candidates.sort((a, b) => a.distance - b.distance || a.di - b.di || a.ri - b.ri);
  const rowForDate = new Map<number, SeveraActivity>();
  const usedRows = new Set<number>();
  for (const c of candidates) {
    if (rowForDate.has(c.di) || usedRows.has(c.ri)) continue;
    rowForDate.set(c.di, rows[c.ri]);
    usedRows.add(c.ri);
  }
  const exceptions: OccurrenceException[] = [];
  const rowGuidByKey = new Map<string, string>();
  dates.forEach((d, di) => {
    const originalStart = isAllDay ? localDate(d.ms, ctx.timeZone) : new Date(d.ms).toISOString();
    const row = rowForDate.get(di);
    if (!row) {
      exceptions.push({ originalStart, fields: null });
      return;
    }
    const { recurrence: _none, ...fields } = activityToFields({ ...row, recurrence: null, recurrenceType: 'None' }, { ...ctx, exceptions: [] }).fields;
    exceptions.push({ originalStart, fields });
    rowGuidByKey.set(occurrenceKey(originalStart, isAllDay, ctx.timeZone), row.guid!);
  });
  exceptions.sort((a, b) => (a.originalStart < b.originalStart ? -1 : a.originalStart > b.originalStart ? 1 : 0));
  return { exceptions, rowGuidByKey };
}

// ---- neutral -> Severa ------------------------------------------------------------------------------------------------

function severaName(subject: string): string {
  const s = subject.replace(/\s+/g, ' ').trim();
  return s === '' ? NO_SUBJECT : s;
}

function severaLocation(location: string): string | null {
  const l = location.trim();
  return l === '' ? null : l.slice(0, SEVERA_LOCATION_MAX);
}

export interface SeveraWriteContext {
  ownerGuid: string;
  activityTypeGuid: string;
  timeZone: string;
}

export function fieldsToActivityInput(fields: EventFields, ctx: SeveraWriteContext): SeveraActivityInput {
  const times = writeTimes(fields, ctx.timeZone);
  const input: SeveraActivityInput = {
    name: severaName(fields.subject),
    startDateTime: times.startDateTime,
    endDateTime: times.endDateTime,
    isAllDay: fields.isAllDay,
    notes: fields.body.trim() === '' ? null : fields.body,
    location: severaLocation(fields.location),
    activityType: { guid: ctx.activityTypeGuid },
    ownerUser: { guid: ctx.ownerGuid },
  };
  if (fields.recurrence) input.recurrence = ruleToSeveraRecurrence(fields.recurrence);
  return input;
}

const sameInstant = (a: string | null | undefined, b: string | null | undefined) => {
  const x = Date.parse(a ?? '');
  const y = Date.parse(b ?? '');
  return !Number.isNaN(x) && x === y;
};

/**
 * JSON Patch `replace` operations that bring `current` to `fields`; only what differs. `activityTypeGuid` is given
 * when the type must change (an entry turned private or public in Exchange).
 */
export function activityPatches(current: SeveraActivity, fields: EventFields, ctx: { timeZone: string; activityTypeGuid?: string }): SeveraPatch[] {
  const ops: SeveraPatch[] = [];
  const name = severaName(fields.subject);
  if ((current.name ?? '') !== name) ops.push({ path: '/name', value: name });
  const times = writeTimes(fields, ctx.timeZone);
  if ((current.isAllDay ?? false) !== fields.isAllDay) ops.push({ path: '/isAllDay', value: fields.isAllDay });
  if (!sameInstant(current.startDateTime, times.startDateTime)) ops.push({ path: '/startDateTime', value: times.startDateTime });
  if (!sameInstant(current.endDateTime, times.endDateTime)) ops.push({ path: '/endDateTime', value: times.endDateTime });
  const notes = fields.body.trim() === '' ? null : fields.body;
  if ((current.notes ?? null) !== notes && (current.notes ?? '').trim() !== (notes ?? '').trim()) ops.push({ path: '/notes', value: notes });
  const location = severaLocation(fields.location);
  if ((current.location ?? null) !== location && (current.location ?? '').trim() !== (location ?? '')) ops.push({ path: '/location', value: location });
  if (ctx.activityTypeGuid && current.activityType?.guid !== ctx.activityTypeGuid) ops.push({ path: '/activityType/guid', value: ctx.activityTypeGuid });
  const wantRecurrence = fields.recurrence ? ruleToSeveraRecurrence(fields.recurrence) : null;
  if (JSON.stringify(comparableRecurrence(current.recurrence ?? null)) !== JSON.stringify(comparableRecurrence(wantRecurrence))) {
    ops.push(...recurrencePatches(wantRecurrence));
  }
  return ops;
}

/** Replace operations for every field an entry carries (name, times, all-day, text, place), for an activity not read. */
export function activityFieldPatches(fields: EventFields, timeZone: string): SeveraPatch[] {
  const times = writeTimes(fields, timeZone);
  return [
    { path: '/name', value: severaName(fields.subject) },
    { path: '/isAllDay', value: fields.isAllDay },
    { path: '/startDateTime', value: times.startDateTime },
    { path: '/endDateTime', value: times.endDateTime },
    { path: '/notes', value: fields.body.trim() === '' ? null : fields.body },
    { path: '/location', value: severaLocation(fields.location) },
  ];
}

/** The activity as `ops` mean it to be: what a PATCH's answer is compared with. */
export function withPatches(activity: SeveraActivity, ops: readonly SeveraPatch[]): SeveraActivity {
  const out = structuredClone(activity) as Record<string, unknown>;
  for (const op of ops) {
    const keys = op.path.split('/').slice(1);
    if (keys[0] === 'activityType') {
      out.activityType = { guid: String(op.value) };
      continue;
    }
    let at = out;
    for (const k of keys.slice(0, -1)) {
      if (!at[k] || typeof at[k] !== 'object') at[k] = {};
      at = at[k] as Record<string, unknown>;
    }
    at[keys[keys.length - 1]] = op.value;
  }
  return out as SeveraActivity;
}

const PATTERN_KINDS = ['daily', 'weekly', 'monthly', 'yearly'] as const;

/** A recurrence as Replace operations: the API changes a recurrence field by field (null on /recurrence ends the series). */
export function recurrencePatches(rec: SeveraRecurrence | null): SeveraPatch[] {
  if (!rec) return [{ path: '/recurrence', value: null }];
  const ops: SeveraPatch[] = [{ path: '/recurrence/frequency', value: rec.frequency }];
  const pattern = rec.pattern ?? {};
  for (const kind of PATTERN_KINDS) {
    const part = pattern[kind] as Record<string, string | number | boolean | null | undefined> | null | undefined;
    if (!part) {
      ops.push({ path: `/recurrence/pattern/${kind}`, value: null });
      continue;
    }
    for (const [key, value] of Object.entries(part)) {
      if (value !== undefined) ops.push({ path: `/recurrence/pattern/${kind}/${key}`, value });
    }
  }
  ops.push({ path: '/recurrence/range/maxOccurrences', value: rec.range?.maxOccurrences ?? null });
  ops.push({ path: '/recurrence/range/recursUntilDate', value: rec.range?.recursUntilDate ?? null });
  return ops;
}

/** The parts of a Severa recurrence that define it (not the read-only exception list or computed last occurrence). */
function comparableRecurrence(rec: SeveraRecurrence | null): unknown {
  if (!rec) return null;
  const r = severaRecurrenceToRule(rec, '2000-01-01', 'UTC');
  return r.rule ? { ...r.rule, startDate: undefined } : { raw: rec.pattern ?? null, range: rec.range ?? null };
}

// ---- neutral -> Exchange ----------------------------------------------------------------------------------------------

/**
 * The Exchange item's fields after a change coming from Severa: the shared fields from Severa, and what Severa does not
 * know (attendees, organizer) kept from the Exchange item as it is.
 */
export function mergeIntoExchangeFields(currentExchange: EventFields | null, fromSevera: EventFields): EventFields {
  return {
    ...fromSevera,
    attendees: currentExchange ? [...currentExchange.attendees] : [],
    organizer: currentExchange ? currentExchange.organizer : null,
    timeZone: fromSevera.timeZone || currentExchange?.timeZone || 'UTC',
  };
}

/** A short, human label for reports. */
export function describeFields(fields: Pick<EventFields, 'subject' | 'start'>): { subject: string; start: string } {
  return { subject: fields.subject.trim() === '' ? NO_SUBJECT : fields.subject, start: fields.start };
}
