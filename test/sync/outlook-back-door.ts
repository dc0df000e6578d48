import type { EwsSimulator, SimCalendarItem, SimRecurrence } from '../peers/ews/ews-simulator.ts';
import { expandSeries } from '../peers/ews/recurrence.ts';
import { ewsDateTime } from '../peers/ews/soap-envelope.ts';
import type { GraphSimulator } from '../peers/graph/graph-simulator.ts';
import type { BackDoorEventInput } from '../peers/graph/outlook-back-door.ts';
import { neutralFromEwsItems, type NeutralItem } from '../peers/graph/neutral-mailbox.ts';
import { resolveZone } from '../peers/graph/graph-time.ts';

/**
 * "The user in Outlook", the same for both Exchange simulators: what tests read from a mailbox and what they change in
 * it, in one neutral shape, through the EWS simulator's back door (on-premises Exchange) or the Graph simulator's
 * (Exchange Online). Items and occurrences carry instants as ISO UTC (ms), bodies as text, privacy as a flag, series
 * as Graph's patternedRecurrence (the EWS simulator's patterns read through the simulators' own conversion), and the
 * sync's tag when an item has one. Changing a series' time drops its changed and deleted occurrences on both, as
 * Outlook does.
 */

export type ExchangeKind = 'ews' | 'graph';
/** Every e2e suite runs once per Exchange. */
export const EXCHANGES: readonly ExchangeKind[] = ['ews', 'graph'];

type DayOfWeek = 'sunday' | 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday';
const DAYS: readonly DayOfWeek[] = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;

/** Graph's patternedRecurrence with only the fields its type uses (no recurrenceTimeZone: the item's zone). */
export interface OutlookRecurrence {
  pattern: {
    type: 'daily' | 'weekly' | 'absoluteMonthly' | 'relativeMonthly' | 'absoluteYearly' | 'relativeYearly';
    interval: number;
    daysOfWeek?: DayOfWeek[];
    firstDayOfWeek?: DayOfWeek;
    dayOfMonth?: number;
    index?: 'first' | 'second' | 'third' | 'fourth' | 'last';
    month?: number;
  };
  range: { type: 'endDate' | 'noEnd' | 'numbered'; startDate: string; endDate?: string; numberOfOccurrences?: number };
}

export interface OutlookException {
  /** ISO UTC: the occurrence's start in the pattern. */
  originalStart: string;
  subject?: string;
  start?: string;
  end?: string;
  location?: string;
  body?: string;
  isPrivate?: boolean;
}

export interface OutlookItem {
  id: string;
  subject: string;
  start: string;
  end: string;
  isAllDay: boolean;
  /** IANA zone. */
  timeZone: string;
  location: string;
  /** Text (an HTML body with its tags taken out). */
  body: string;
  isPrivate: boolean;
  uid: string;
  organizer: string;
  isOrganizer: boolean;
  /** Lower-case addresses, required and optional, the organizer left out. */
  attendees: string[];
  /** A meeting its organizer cancelled (the attendee's copy stays, "Canceled: ..."). */
  isCancelled: boolean;
  recurrence: OutlookRecurrence | null;
  exceptions: OutlookException[];
  /** ISO UTC original starts of deleted occurrences. */
  cancelledOccurrences: string[];
  /** The Severa activity guid the sync tagged the item with (the same property on both). */
  syncTag: string | null;
}

/** One entry of a calendar view: a single item, or one occurrence (changed or not) of a series. */
export interface OutlookOccurrence {
  itemId: string;
  /** ms; null for a single item. */
  originalStart: number | null;
  isException: boolean;
  start: number;
  end: number;
  isAllDay: boolean;
  timeZone: string;
  subject: string;
  location: string;
  body: string;
  isPrivate: boolean;
}

export interface OutlookInput {
  subject: string;
  /** Instants (ISO with Z or an offset); an all-day entry's local midnights. */
  start: string;
  end: string;
  /** IANA; default Europe/Helsinki. */
  timeZone?: string;
  isAllDay?: boolean;
  location?: string;
  body?: string;
  isPrivate?: boolean;
  /** Makes a meeting this mailbox organises: the attendees get copies with the same UID. */
  attendees?: string[];
  recurrence?: OutlookRecurrence | null;
}

export type OccurrencePatch = Partial<Pick<OutlookInput, 'subject' | 'start' | 'end' | 'location' | 'body' | 'isPrivate'>>;

export interface OutlookCounters {
  /** Requests by the simulator's own operation names (EWS operations; Graph routes, $batch sub-requests included). */
  byOperation: Record<string, number>;
  /** Creates, updates and deletes of calendar items (EWS CreateItem/UpdateItem/DeleteItem; Graph events POST/PATCH/DELETE). */
  writes: number;
}

export interface OutlookBackDoor {
  kind: ExchangeKind;
  items(mailbox: string): OutlookItem[];
  item(mailbox: string, id: string): OutlookItem | undefined;
  /** Singles and occurrences overlapping [fromMs, toMs), by start (deleted occurrences left out). */
  view(mailbox: string, fromMs: number, toMs: number): OutlookOccurrence[];
  create(mailbox: string, input: OutlookInput): OutlookItem;
  update(mailbox: string, id: string, patch: Partial<OutlookInput>): OutlookItem;
  /** Deletes an item; an organizer's meeting is cancelled for its attendees ("Canceled: ..." copies). */
  delete(mailbox: string, id: string): void;
  /** Changes one occurrence of a series (it becomes an exception). `originalStart`: ISO, its start in the pattern. */
  updateOccurrence(mailbox: string, seriesId: string, originalStart: string, patch: OccurrencePatch): void;
  cancelOccurrence(mailbox: string, seriesId: string, originalStart: string): void;
  counters(): OutlookCounters;
  resetCounters(): void;
  /** Mails the sync made Exchange send (Graph: invitations, updates, cancellations caused by Graph requests; EWS: null, its simulator keeps no mail log). */
  mailsSentBySync(): number | null;
  setClockSkewMs(ms: number): void;
}

// ---- shared ------------------------------------------------------------------------------------------------------------

const DEFAULT_ZONE = 'Europe/Helsinki';
const SYNC_TAG_NAME = 'Name SeveraActivityGuid';
const iso = (v: string | number) => new Date(typeof v === 'number' ? v : Date.parse(v)).toISOString();
const isPrivate = (sensitivity: string | undefined) => /^(private|confidential)$/i.test(sensitivity ?? '');

/** An HTML body as the text a person reads; a text body with its line ends and runs of spaces evened out. */
export function textOfBody(body: string, html: boolean): string {
  const text = html ? body.replace(/<br\s*\/?>/gi, '\n').replace(/<[^>]+>/g, ' ').replace(/&nbsp;/g, ' ').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>') : body;
  return text.replace(/\r\n?/g, '\n').replace(/\s+/g, ' ').trim();
}

function compactRecurrence(r: NeutralItem['recurrence']): OutlookRecurrence | null {
  if (!r) return null;
  const p = r.pattern;
  const pattern: OutlookRecurrence['pattern'] = { type: p.type, interval: p.interval };
  if (p.type === 'weekly') Object.assign(pattern, { daysOfWeek: [...p.daysOfWeek], firstDayOfWeek: p.firstDayOfWeek });
  if (p.type === 'relativeMonthly' || p.type === 'relativeYearly') Object.assign(pattern, { daysOfWeek: [...p.daysOfWeek], index: p.index });
  if (p.type === 'absoluteMonthly' || p.type === 'absoluteYearly') pattern.dayOfMonth = p.dayOfMonth;
  if (p.type === 'absoluteYearly' || p.type === 'relativeYearly') pattern.month = p.month;
  const g = r.range;
  const range: OutlookRecurrence['range'] = { type: g.type, startDate: g.startDate };
  if (g.type === 'endDate') range.endDate = g.endDate;
  if (g.type === 'numbered') range.numberOfOccurrences = g.numberOfOccurrences;
  return { pattern, range };
}

/** Both simulators' items are read through the neutral mailbox shape the simulators move mailboxes with. */
function fromNeutral(id: string, n: NeutralItem): OutlookItem {
  const zone = resolveZone(n.timeZone) ?? DEFAULT_ZONE;
  const organizer = n.organizer.address.toLowerCase();
  return {
    id,
    subject: n.subject,
    start: iso(n.start),
    end: iso(n.end),
    isAllDay: n.isAllDay,
    timeZone: zone,
    location: n.location,
    body: textOfBody(n.body, n.bodyType === 'html'),
    isPrivate: isPrivate(n.sensitivity),
    uid: n.uid,
    organizer,
    isOrganizer: n.isOrganizer,
    attendees: [...new Set(n.attendees.map((a) => a.address.toLowerCase()).filter((a) => a !== organizer))].sort(),
    isCancelled: n.isCancelled,
    recurrence: compactRecurrence(n.recurrence),
    exceptions: n.exceptions
      .map((x) => ({
        originalStart: iso(x.originalStart),
        ...(x.subject !== undefined ? { subject: x.subject } : {}),
        ...(x.start !== undefined ? { start: iso(x.start) } : {}),
        ...(x.end !== undefined ? { end: iso(x.end) } : {}),
        ...(x.location !== undefined ? { location: x.location } : {}),
        ...(x.body !== undefined ? { body: textOfBody(x.body, x.bodyType === 'html') } : {}),
        ...(x.sensitivity !== undefined ? { isPrivate: isPrivate(x.sensitivity) } : {}),
      }))
      .sort((a, b) => (a.originalStart < b.originalStart ? -1 : 1)),
    cancelledOccurrences: n.cancelledOccurrences.map(iso).sort(),
    syncTag: n.extendedProperties.find((p) => p.id.endsWith(SYNC_TAG_NAME))?.value ?? null,
  };
}

const byStart = (a: OutlookOccurrence, b: OutlookOccurrence) => a.start - b.start || a.end - b.end || a.itemId.localeCompare(b.itemId);

// ---- EWS -------------------------------------------------------------------------------------------------------------

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
type EwsWeekday = 'Sunday' | 'Monday' | 'Tuesday' | 'Wednesday' | 'Thursday' | 'Friday' | 'Saturday';

/** The EWS simulator's pattern for Graph's (the reverse of the simulators' own EWS-to-Graph conversion). */
export function ewsRecurrenceOf(r: OutlookRecurrence): SimRecurrence {
  const p = r.pattern;
  const days = (p.daysOfWeek ?? []).map((d) => cap(d) as EwsWeekday);
  const group = (): EwsWeekday | 'Day' | 'Weekday' | 'WeekendDay' => {
    const set = new Set(p.daysOfWeek ?? []);
    if (set.size === 7) return 'Day';
    if (set.size === 5 && !set.has('saturday') && !set.has('sunday')) return 'Weekday';
    if (set.size === 2 && set.has('saturday') && set.has('sunday')) return 'WeekendDay';
    if (set.size === 1) return days[0];
    throw new Error(`EWS has no relative pattern on ${[...set].join(', ')}`);
  };
  const index = cap(p.index ?? 'first') as 'First' | 'Second' | 'Third' | 'Fourth' | 'Last';
  const month = MONTHS[(p.month ?? 1) - 1];
  const pattern: SimRecurrence['pattern'] =
    p.type === 'daily' ? { type: 'Daily', interval: p.interval }
    : p.type === 'weekly' ? { type: 'Weekly', interval: p.interval, daysOfWeek: days, ...(p.firstDayOfWeek ? { firstDayOfWeek: cap(p.firstDayOfWeek) as EwsWeekday } : {}) }
    : p.type === 'absoluteMonthly' ? { type: 'AbsoluteMonthly', interval: p.interval, dayOfMonth: p.dayOfMonth ?? 1 }
    : p.type === 'relativeMonthly' ? { type: 'RelativeMonthly', interval: p.interval, daysOfWeek: group(), dayOfWeekIndex: index }
    : p.type === 'absoluteYearly' ? { type: 'AbsoluteYearly', dayOfMonth: p.dayOfMonth ?? 1, month }
    : { type: 'RelativeYearly', daysOfWeek: group(), dayOfWeekIndex: index, month };
  const g = r.range;
  const range: SimRecurrence['range'] =
    g.type === 'endDate' ? { type: 'EndDate', startDate: g.startDate, endDate: g.endDate! }
    : g.type === 'numbered' ? { type: 'Numbered', startDate: g.startDate, count: g.numberOfOccurrences! }
    : { type: 'NoEnd', startDate: g.startDate };
  return { pattern, range };
}

function ewsFields(p: Partial<OutlookInput>): Partial<SimCalendarItem> {
  const f: Partial<SimCalendarItem> = {};
  if (p.subject !== undefined) f.subject = p.subject;
  if (p.start !== undefined) f.start = iso(p.start);
  if (p.end !== undefined) f.end = iso(p.end);
  if (p.timeZone !== undefined) f.timeZone = p.timeZone;
  if (p.isAllDay !== undefined) f.isAllDay = p.isAllDay;
  if (p.location !== undefined) f.location = p.location;
  if (p.body !== undefined) Object.assign(f, { body: p.body, bodyType: 'Text' });
  if (p.isPrivate !== undefined) f.sensitivity = p.isPrivate ? 'Private' : 'Normal';
  if (p.attendees !== undefined) f.requiredAttendees = p.attendees.map((a) => a.toLowerCase());
  if (p.recurrence !== undefined) f.recurrence = p.recurrence ? ewsRecurrenceOf(p.recurrence) : null;
  return f;
}

const ewsText = (s: Pick<SimCalendarItem, 'body' | 'bodyType'>) => textOfBody(s.body, s.bodyType === 'HTML');

export function ewsOutlook(sim: EwsSimulator): OutlookBackDoor {
  const raw = (mailbox: string) => sim.mailbox(mailbox).items();
  const rawItem = (mailbox: string, id: string) => {
    const hit = raw(mailbox).find((i) => i.id === id);
    if (!hit) throw new Error(`No item ${id} in ${mailbox}`);
    return hit;
  };
  const read = (mailbox: string, items: SimCalendarItem[]) => {
    const neutral = neutralFromEwsItems({ address: mailbox, displayName: '' }, items as never);
    return items.map((it, i) => fromNeutral(it.id, neutral.items[i]));
  };
  const occurrencesOf = (it: SimCalendarItem, fromMs: number, toMs: number): OutlookOccurrence[] => {
    const base = { itemId: it.id, isAllDay: it.isAllDay, timeZone: it.timeZone, subject: it.subject, location: it.location, body: ewsText(it), isPrivate: isPrivate(it.sensitivity) };
    const startMs = Date.parse(it.start);
    const endMs = Date.parse(it.end);
    if (!it.recurrence) return startMs < toMs && (endMs > fromMs || (startMs === endMs && startMs >= fromMs)) ? [{ ...base, originalStart: null, isException: false, start: startMs, end: endMs }] : [];
    const deleted = new Set(it.deletedOccurrences.map((x) => Date.parse(x)));
    const changed = new Map(it.modifiedOccurrences.map((o) => [Date.parse(o.originalStart), o]));
    const out: OutlookOccurrence[] = [];
    const timing = { startMs, endMs, isAllDay: it.isAllDay, timeZone: it.timeZone, recurrence: it.recurrence };
    // Exceptions may have moved anywhere: the series is expanded a little past the view on both ends.
    for (const occ of expandSeries(timing, toMs + 30 * 86_400_000, 5_000, fromMs - 30 * 86_400_000)) {
      if (deleted.has(occ.startMs)) continue;
      const o = changed.get(occ.startMs);
      const s = o?.start ? Date.parse(o.start) : occ.startMs;
      const e = o?.end ? Date.parse(o.end) : occ.endMs;
      if (!(s < toMs && e > fromMs)) continue;
      out.push({
        ...base,
        originalStart: occ.startMs,
        isException: o !== undefined,
        start: s,
        end: e,
        subject: o?.subject ?? base.subject,
        location: o?.location ?? base.location,
        body: o?.body !== undefined ? textOfBody(o.body, (o.bodyType ?? it.bodyType) === 'HTML') : base.body,
        isPrivate: o?.sensitivity !== undefined ? isPrivate(o.sensitivity) : base.isPrivate,
      });
    }
    return out;
  };
  const door: OutlookBackDoor = {
    kind: 'ews',
    items: (mailbox) => read(mailbox, raw(mailbox)),
    item: (mailbox, id) => {
      const hit = raw(mailbox).find((i) => i.id === id);
      return hit ? read(mailbox, [hit])[0] : undefined;
    },
    view: (mailbox, fromMs, toMs) => raw(mailbox).flatMap((it) => occurrencesOf(it, fromMs, toMs)).sort(byStart),
    create: (mailbox, input) => read(mailbox, [sim.mailbox(mailbox).create({ timeZone: DEFAULT_ZONE, bodyType: 'Text', ...ewsFields(input) })])[0],
    update: (mailbox, id, patch) => read(mailbox, [sim.mailbox(mailbox).update(id, ewsFields(patch))])[0],
    delete: (mailbox, id) => sim.mailbox(mailbox).delete(id),
    updateOccurrence: (mailbox, seriesId, originalStart, patch) => {
      const it = rawItem(mailbox, seriesId);
      const key = Date.parse(originalStart);
      const before = it.modifiedOccurrences.find((o) => Date.parse(o.originalStart) === key);
      const f = ewsFields(patch);
      // In the simulator's own spelling of instants (whole seconds, Z), as Outlook's edits reach it.
      const override = {
        ...before,
        originalStart: ewsDateTime(key),
        ...(f.subject !== undefined ? { subject: f.subject } : {}),
        ...(f.start !== undefined ? { start: ewsDateTime(Date.parse(f.start)) } : {}),
        ...(f.end !== undefined ? { end: ewsDateTime(Date.parse(f.end)) } : {}),
        ...(f.location !== undefined ? { location: f.location } : {}),
        ...(f.body !== undefined ? { body: f.body, bodyType: f.bodyType } : {}),
        ...(f.sensitivity !== undefined ? { sensitivity: f.sensitivity } : {}),
        lastModifiedTime: ewsDateTime(Date.now()),
      };
      sim.mailbox(mailbox).update(seriesId, { modifiedOccurrences: [...it.modifiedOccurrences.filter((o) => o !== before), override] });
    },
    cancelOccurrence: (mailbox, seriesId, originalStart) => {
      const it = rawItem(mailbox, seriesId);
      const key = Date.parse(originalStart);
      sim.mailbox(mailbox).update(seriesId, {
        deletedOccurrences: [...it.deletedOccurrences.filter((d) => Date.parse(d) !== key), ewsDateTime(key)],
        modifiedOccurrences: it.modifiedOccurrences.filter((o) => Date.parse(o.originalStart) !== key),
      });
    },
    counters: () => {
      const byOperation = { ...sim.counters().byOperation };
      return { byOperation, writes: (byOperation.CreateItem ?? 0) + (byOperation.UpdateItem ?? 0) + (byOperation.DeleteItem ?? 0) };
    },
    resetCounters: () => sim.resetCounters(),
    mailsSentBySync: () => null,
    setClockSkewMs: (ms) => sim.setClockSkewMs(ms),
  };
  return door;
}

// ---- Graph -----------------------------------------------------------------------------------------------------------

function graphFields(p: Partial<OutlookInput>): Partial<BackDoorEventInput> {
  const f: Partial<BackDoorEventInput> = {};
  if (p.subject !== undefined) f.subject = p.subject;
  if (p.start !== undefined) f.start = iso(p.start);
  if (p.end !== undefined) f.end = iso(p.end);
  if (p.timeZone !== undefined) f.timeZone = p.timeZone;
  if (p.isAllDay !== undefined) f.isAllDay = p.isAllDay;
  if (p.location !== undefined) f.location = p.location;
  if (p.body !== undefined) Object.assign(f, { body: p.body, bodyType: 'text' });
  if (p.isPrivate !== undefined) f.sensitivity = p.isPrivate ? 'private' : 'normal';
  if (p.attendees !== undefined) f.attendees = p.attendees.map((a) => a.toLowerCase());
  if (p.recurrence !== undefined) f.recurrence = p.recurrence ? { pattern: { ...p.recurrence.pattern }, range: { ...p.recurrence.range } } : null;
  return f;
}

export function graphOutlook(sim: GraphSimulator): OutlookBackDoor {
  const items = (mailbox: string): OutlookItem[] => {
    const ids = sim.mailbox(mailbox).list().map((e) => e.id);
    return sim.exportMailbox(mailbox).items.map((n, i) => fromNeutral(ids[i], n));
  };
  const item = (mailbox: string, id: string) => items(mailbox).find((i) => i.id === id);
  const door: OutlookBackDoor = {
    kind: 'graph',
    items,
    item,
    view: (mailbox, fromMs, toMs) =>
      sim
        .mailbox(mailbox)
        .view(new Date(fromMs).toISOString(), new Date(toMs).toISOString())
        .map((inst) => ({
          itemId: inst.master.id,
          originalStart: inst.originalStartMs,
          isException: inst.type === 'exception',
          start: inst.content.startMs,
          end: inst.content.endMs,
          isAllDay: inst.content.isAllDay,
          timeZone: resolveZone(inst.content.startZone) ?? DEFAULT_ZONE,
          subject: inst.content.subject,
          location: inst.content.location,
          body: textOfBody(inst.content.body, inst.content.bodyType === 'html'),
          isPrivate: isPrivate(inst.content.sensitivity),
        }))
        .sort(byStart),
    create: (mailbox, input) => {
      const e = sim.mailbox(mailbox).create({ timeZone: DEFAULT_ZONE, bodyType: 'text', ...graphFields(input) } as BackDoorEventInput);
      return item(mailbox, e.id)!;
    },
    update: (mailbox, id, patch) => {
      const f = graphFields(patch);
      const before = item(mailbox, id);
      // Outlook drops a series' changed and deleted occurrences when its time changes (the EWS simulator does so too):
      // the pattern is written again, which does that here.
      if (before?.recurrence && f.recurrence === undefined && (f.start !== undefined || f.end !== undefined || f.timeZone !== undefined || f.isAllDay !== undefined)) {
        f.recurrence = { pattern: { ...before.recurrence.pattern }, range: { ...before.recurrence.range } };
      }
      sim.mailbox(mailbox).update(id, f);
      return item(mailbox, id)!;
    },
    delete: (mailbox, id) => sim.mailbox(mailbox).delete(id),
    updateOccurrence: (mailbox, seriesId, originalStart, patch) => sim.mailbox(mailbox).updateOccurrence(seriesId, iso(originalStart), graphFields(patch)),
    cancelOccurrence: (mailbox, seriesId, originalStart) => sim.mailbox(mailbox).cancelOccurrence(seriesId, iso(originalStart)),
    counters: () => {
      const byOperation = { ...sim.counters().byRoute };
      return { byOperation, writes: (byOperation['events.create'] ?? 0) + (byOperation['events.update'] ?? 0) + (byOperation['events.delete'] ?? 0) };
    },
    resetCounters: () => sim.resetCounters(),
    mailsSentBySync: () => sim.mailSent().filter((m) => m.via === 'graph').length,
    setClockSkewMs: (ms) => sim.setClockSkewMs(ms),
  };
  return door;
}

export function outlookOf(sim: { ews: EwsSimulator } | { graph: GraphSimulator }): OutlookBackDoor {
  return 'ews' in sim ? ewsOutlook(sim.ews) : graphOutlook(sim.graph);
}

/** Every day of the week as Graph spells it, Sunday first (for building patterns). */
export const GRAPH_DAYS = DAYS;
