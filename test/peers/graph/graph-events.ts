/**
 * The event endpoints of one mailbox: list (/events, /calendar/events), create (with transactionId), get, update and
 * delete (with If-Match), calendarView and instances. An occurrence id PATCHed becomes an exception; DELETEd, a
 * cancelled occurrence. Handlers take a parsed request and return a GraphResult or throw GraphError.
 */
import type { CalendarStore, Instance, MailboxCalendar } from './calendar-store.ts';
import { alignSeriesStart, contentOf } from './calendar-store.ts';
import { GraphError, badRequest, malformedId, notFoundItem } from './graph-errors.ts';
import type { GraphResult } from './graph-errors.ts';
import type { EventContent, SimEvent, SimExtendedProperty } from './graph-model.ts';
import { etagOf } from './graph-model.ts';
import { EVENT_NAVIGATION, EVENT_PROPERTIES, instanceJson, mergeProperties, parseEventBody, shape } from './event-json.ts';
import type { RenderOptions } from './event-json.ts';
import { ODataQueryError, evaluateFilter, parseExpand, parseFilter, parseOrderBy, parseSelect } from './odata-query.ts';
import { parseDateTimeTimeZone, resolveZone } from './graph-time.ts';

export interface EventRequest {
  store: CalendarStore;
  cal: MailboxCalendar;
  /** Case-insensitive query parameters (names lower-cased). */
  query: Map<string, string>;
  /** The request's own URL (absolute), for nextLinks. */
  url: URL;
  ifMatch: string | null;
  timeZone: string;
  bodyType: 'text' | 'html' | null;
  maxPageSize: number | null;
  defaultPageSize: number;
  nowMs: number;
  newerProperties: boolean;
  /** "A server that differs": decides, per write, whether to deviate (seeded). */
  differ?: { keepSeriesSubject(): boolean; misplaceOccurrence(): boolean };
}

const knownEventPath = (segs: string[]): boolean => (EVENT_PROPERTIES as readonly string[]).includes(segs[0]) || segs[0] === 'singleValueExtendedProperties';

function odata<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ODataQueryError) throw new GraphError(400, e.code, e.message);
    throw e;
  }
}

/** The render options a GET asks for ($select, $expand, time zone, body type). */
export function renderOptions(r: EventRequest, allowSelect = true): RenderOptions {
  const select = allowSelect ? odata(() => parseSelect(r.query.get('$select') ?? null, 'event', EVENT_PROPERTIES)) : null;
  const expand = odata(() => parseExpand(r.query.get('$expand') ?? null, 'event', EVENT_NAVIGATION));
  const opt: RenderOptions = { timeZone: r.timeZone, bodyType: r.bodyType, select, newerProperties: r.newerProperties };
  for (const x of expand) {
    if (x.property !== 'singleValueExtendedProperties') throw new GraphError(501, 'NotImplemented', `$expand=${x.property} is not simulated.`);
    opt.expandProperties = (props) => (x.filter ? props.filter((p) => evaluateFilter(x.filter!, { id: p.id, value: p.value }, (s) => s[0] === 'id' || s[0] === 'value', { vars: new Map(), rootCollection: 'singleValueExtendedProperties' })) : props);
  }
  return opt;
}

export function renderInstance(inst: Instance, opt: RenderOptions): Record<string, unknown> {
  return shape(instanceJson(inst, opt), inst, opt);
}

/** The JSON a $filter is evaluated on: the full event plus its extended properties. */
function filterView(inst: Instance, opt: RenderOptions): Record<string, unknown> {
  return { ...instanceJson(inst, { ...opt, select: null }), singleValueExtendedProperties: inst.content.extendedProperties.map((p) => ({ ...p })) };
}

function intParam(r: EventRequest, name: string, max: number): number | null {
  const v = r.query.get(name);
  if (v === undefined) return null;
  if (!/^\d+$/.test(v) || Number(v) > max) throw new GraphError(400, 'ErrorInvalidUrlQuery', `The value '${v}' is not valid for the query option '${name}'.`);
  return Number(v);
}

/** Filters, orders and pages a list; nextLink carries $skip (and the other parameters). */
function page(r: EventRequest, instances: Instance[], opt: RenderOptions, context: string): GraphResult {
  const filterText = r.query.get('$filter');
  let list = instances;
  if (filterText !== undefined) {
    const f = odata(() => parseFilter(filterText));
    list = odata(() => list.filter((i) => evaluateFilter(f, filterView(i, opt), knownEventPath)));
  }
  const order = odata(() => parseOrderBy(r.query.get('$orderby') ?? null, knownEventPath));
  if (order) {
    const views = new Map(list.map((i) => [i, filterView(i, opt)]));
    list = [...list].sort((a, b) => order(views.get(a)!, views.get(b)!));
  }
  const top = intParam(r, '$top', 1000);
  const skip = intParam(r, '$skip', Number.MAX_SAFE_INTEGER) ?? 0;
  const size = top ?? r.maxPageSize ?? r.defaultPageSize;
  const slice = list.slice(skip, skip + size);
  const body: Record<string, unknown> = { '@odata.context': context, value: slice.map((i) => renderInstance(i, opt)) };
  if (r.query.get('$count')?.toLowerCase() === 'true') body['@odata.count'] = list.length;
  if (skip + size < list.length) {
    const next = new URL(r.url);
    next.searchParams.set('$skip', String(skip + size));
    if (top === null) next.searchParams.set('$top', String(size));
    body['@odata.nextLink'] = next.toString().replace(/%24/g, '$');
  }
  const headers: Record<string, string> = r.maxPageSize !== null && top === null ? { 'Preference-Applied': `odata.maxpagesize=${r.maxPageSize}` } : {};
  return { status: 200, body, headers };
}

function contextUrl(r: EventRequest, tail: string): string {
  return `${r.url.origin}/v1.0/$metadata#users('${encodeURIComponent(r.cal.user.id)}')/${tail}`;
}

export function listEvents(r: EventRequest): GraphResult {
  const opt = renderOptions(r);
  return page(r, r.cal.items().map((e) => r.cal.itemInstance(e)), opt, contextUrl(r, 'events'));
}

/** startDateTime/endDateTime of calendarView, instances and delta (names case-insensitive, as Graph takes them). */
export function windowOf(r: { query: Map<string, string> }): [number, number] {
  const s = r.query.get('startdatetime');
  const e = r.query.get('enddatetime');
  if (s === undefined || e === undefined) {
    throw new GraphError(400, 'ErrorInvalidParameter', 'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.');
  }
  const read = (v: string, name: string): number => {
    try {
      return parseDateTimeTimeZone({ dateTime: v, timeZone: 'UTC' }).utcMs;
    } catch {
      throw new GraphError(400, 'ErrorInvalidParameter', `The parameter '${name}' has an invalid value '${v}'.`);
    }
  };
  const from = read(s, 'StartDateTime');
  const to = read(e, 'EndDateTime');
  if (to < from) throw new GraphError(400, 'ErrorInvalidParameter', 'The parameter EndDateTime must be later than StartDateTime.');
  return [from, to];
}

export function calendarView(r: EventRequest): GraphResult {
  const [from, to] = windowOf(r);
  const opt = renderOptions(r);
  return page(r, r.cal.view(from, to), opt, contextUrl(r, 'calendarView'));
}

function resolveOrThrow(r: EventRequest, id: string): { event: SimEvent; originalStartMs: number | null } {
  const hit = r.cal.resolve(id);
  if (hit === 'malformed') throw malformedId();
  if (hit === 'notFound') throw notFoundItem();
  return hit;
}

function instanceFor(r: EventRequest, hit: { event: SimEvent; originalStartMs: number | null }): Instance {
  if (hit.originalStartMs === null) return r.cal.itemInstance(hit.event);
  const inst = r.cal.occurrence(hit.event, hit.originalStartMs);
  if (!inst) throw notFoundItem();
  return inst;
}

export function instances(r: EventRequest, id: string): GraphResult {
  const hit = resolveOrThrow(r, id);
  const [from, to] = windowOf(r);
  const opt = renderOptions(r);
  const list = hit.originalStartMs === null && hit.event.recurrence ? r.cal.seriesInstances(hit.event, from, to) : [];
  return page(r, list, opt, contextUrl(r, `events('${id}')/instances`));
}

export function getEvent(r: EventRequest, id: string): GraphResult {
  const inst = instanceFor(r, resolveOrThrow(r, id));
  const opt = renderOptions(r);
  return { status: 200, body: { '@odata.context': contextUrl(r, 'events/$entity'), ...renderInstance(inst, opt) } };
}

/** If-Match: `*` or the current etag (weak or not, quotes optional); anything else is 412. */
function checkIfMatch(r: EventRequest, inst: Instance): void {
  if (r.ifMatch === null) return;
  const wanted = r.ifMatch
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bare = (s: string): string => s.replace(/^W\//, '').replace(/^"|"$/g, '');
  if (wanted.includes('*') || wanted.some((w) => bare(w) === inst.changeKey)) return;
  throw new GraphError(412, 'ErrorIrresolvableConflict', 'The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.');
}

export function createEvent(r: EventRequest, body: unknown): GraphResult {
  const parsed = parseEventBody(body, null);
  if (parsed.transactionId) {
    const existing = r.cal.transactionIds.get(parsed.transactionId);
    const e = existing !== undefined ? r.cal.events.get(existing) : undefined;
    if (e) return { status: 201, body: { '@odata.context': contextUrl(r, 'events/$entity'), ...renderInstance(r.cal.itemInstance(e), renderOptions(r, false)) } };
  }
  const c = parsed.content;
  const content: EventContent = {
    subject: c.subject ?? '',
    bodyType: c.bodyType ?? 'html',
    body: c.body ?? '',
    startMs: c.startMs!,
    endMs: c.endMs!,
    startZone: c.startZone!,
    endZone: c.endZone!,
    isAllDay: c.isAllDay ?? false,
    location: c.location ?? '',
    sensitivity: c.sensitivity ?? 'normal',
    showAs: c.showAs ?? 'busy',
    importance: c.importance ?? 'normal',
    categories: c.categories ?? [],
    isReminderOn: c.isReminderOn ?? true,
    reminderMinutesBeforeStart: c.reminderMinutesBeforeStart ?? 15,
    attendees: c.attendees ?? [],
    extendedProperties: parsed.properties ?? [],
  };
  const e = r.store.create(r.cal, content, { recurrence: parsed.recurrence ?? null, transactionId: parsed.transactionId ?? null, nowMs: r.nowMs, via: 'graph' });
  const inst = r.cal.itemInstance(e);
  return { status: 201, body: { '@odata.context': contextUrl(r, 'events/$entity'), ...renderInstance(inst, renderOptions(r, false)) }, headers: { ETag: etagOf(inst.changeKey), Location: `${r.url.origin}/v1.0/users('${r.cal.user.id}')/events('${e.id}')` } };
}

const TIME_FIELDS: Array<keyof EventContent> = ['startMs', 'endMs', 'startZone', 'endZone', 'isAllDay'];

export function updateEvent(r: EventRequest, id: string, body: unknown): GraphResult {
  const hit = resolveOrThrow(r, id);
  const inst = instanceFor(r, hit);
  checkIfMatch(r, inst);
  const e = hit.event;
  const parsed = parseEventBody(body, inst.content);
  if (parsed.transactionId !== undefined && parsed.transactionId !== e.transactionId) {
    throw badRequest('The transactionId of an event cannot be changed.', 'ErrorInvalidRequest');
  }
  const attendeesBefore = e.attendees.map((a) => a.address);
  if (hit.originalStartMs !== null) {
    if (parsed.recurrence !== undefined) throw badRequest('The recurrence of an occurrence cannot be set; update the series master.', 'ErrorInvalidRequest');
    const overrides: Partial<EventContent> = { ...parsed.content };
    if (parsed.properties) overrides.extendedProperties = mergeProperties(inst.content.extendedProperties, parsed.properties);
    if (r.differ?.misplaceOccurrence() && overrides.startMs !== undefined && overrides.endMs !== undefined) {
      overrides.startMs += 86_400_000;
      overrides.endMs += 86_400_000;
    }
    r.store.updateOccurrence(r.cal, e, hit.originalStartMs, overrides, 'graph', r.nowMs);
  } else {
    const before = contentOf(e);
    const c = { ...parsed.content };
    if (e.recurrence && c.subject !== undefined && r.differ?.keepSeriesSubject()) delete c.subject;
    Object.assign(e, structuredClone(c));
    if (parsed.properties) e.extendedProperties = mergeProperties(before.extendedProperties, parsed.properties);
    const timeChanged = TIME_FIELDS.some((f) => c[f] !== undefined && c[f] !== before[f]);
    if (parsed.recurrence !== undefined) e.recurrence = parsed.recurrence;
    if (e.recurrence && (timeChanged || parsed.recurrence !== undefined)) {
      // As Outlook warns: changing a series' time or pattern drops its exceptions and cancelled occurrences.
      e.exceptions = [];
      e.cancelledOccurrences = [];
      alignSeriesStart(e);
    }
    r.cal.touch(e, r.nowMs);
    const meetingFields = Object.keys(c).some((k) => k !== 'categories' && k !== 'isReminderOn' && k !== 'reminderMinutesBeforeStart' && k !== 'extendedProperties');
    if (e.attendees.length || attendeesBefore.length) r.store.propagate(e, attendeesBefore, 'graph', r.nowMs, meetingFields || parsed.recurrence !== undefined);
  }
  const after = instanceFor(r, r.cal.resolve(id) as { event: SimEvent; originalStartMs: number | null });
  return { status: 200, body: { '@odata.context': contextUrl(r, 'events/$entity'), ...renderInstance(after, renderOptions(r, false)) }, headers: { ETag: etagOf(after.changeKey) } };
}

export function deleteEvent(r: EventRequest, id: string): GraphResult {
  const hit = resolveOrThrow(r, id);
  const inst = instanceFor(r, hit);
  checkIfMatch(r, inst);
  if (hit.originalStartMs !== null) r.store.cancelOccurrence(r.cal, hit.event, hit.originalStartMs, 'graph', r.nowMs);
  else r.store.delete(r.cal, hit.event, 'graph', r.nowMs);
  return { status: 204 };
}

/** Extended property ids of the event matching a filter (for tests of the tag lookup). */
export function propertiesOf(e: SimEvent): SimExtendedProperty[] {
  return e.extendedProperties.map((p) => ({ ...p }));
}

/** A zone name from Prefer: outlook.timezone, checked (unknown zones are Graph's 400). */
export function checkPreferredZone(name: string | null): string {
  if (name === null || name === '') return 'UTC';
  if (!resolveZone(name)) throw new GraphError(400, 'TimeZoneNotSupportedException', `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${name}'.`);
  return name;
}
