import type { EventFields, OccurrenceException, SideEvent } from '../../sync/calendar-event.ts';
import { occurrenceAt, occurrenceKeyOf, occurrencesInWindow } from '../../sync/recurrence-rule.ts';
import { localDate, localToMs } from '../../sync/zoned-time.ts';
import { CalendarError } from '../calendar-connector.ts';
import { GraphClient, type GraphRequest } from './graph-client.ts';
import { graphEventBody, readGraphEvent, type GraphEvent, type ReadContext } from './graph-event-mapping.ts';

/**
 * Series on Graph: Graph keeps a series as a master (pattern) plus occurrence items, some of them exceptions, and
 * cancelled occurrences simply missing. The engine wants one event with `exceptions` (changed and deleted occurrences),
 * as EWS gives it; this reads that from the master's instances and writes it back occurrence by occurrence.
 */

export interface SeriesInstance {
  id: string;
  /** The occurrence's key (OccurrenceException.originalStart). */
  key: string;
  type: 'occurrence' | 'exception';
}

export interface SeriesReading {
  event: SideEvent;
  /** Every instance listed, for the occurrence index and for writing exceptions. */
  instances: SeriesInstance[];
}

const DAY = 86_400_000;

/** Where a series' instances are listed: from its first occurrence to its end or the window's end. */
export function seriesSpan(series: EventFields, windowEndMs: number): { fromMs: number; toMs: number } {
  const rule = series.recurrence!;
  const fromMs = localToMs(series.timeZone, rule.startDate) - DAY;
  const untilMs = rule.until ? localToMs(series.timeZone, rule.until) + 2 * DAY : Number.POSITIVE_INFINITY;
  return { fromMs, toMs: Math.max(fromMs + DAY, Math.min(windowEndMs, untilMs)) };
}

const iso = (ms: number) => new Date(ms).toISOString();

interface Ctx {
  client: GraphClient;
  userPath: string;
  mailbox: string;
  read: ReadContext;
  windowEndMs: number;
  what: string;
}

/** Every instance of the series in its span (ids, types and keys only), following Graph's paging. */
export async function listInstances(ctx: Ctx, masterId: string, series: EventFields): Promise<SeriesInstance[]> {
  const { fromMs, toMs } = seriesSpan(series, ctx.windowEndMs);
  const out: SeriesInstance[] = [];
  let url: string | null =
    `${ctx.userPath}/events/${encodeURIComponent(masterId)}/instances?startDateTime=${iso(fromMs)}&endDateTime=${iso(toMs)}&$select=id,type,originalStart&$top=500`;
  for (let pages = 0; url; pages++) {
    if (pages > 1000) throw new CalendarError('bad-response', `${ctx.what} (${ctx.mailbox}): Microsoft Graph keeps announcing more occurrences of a series.`);
    const page: { body: { value?: GraphEvent[]; '@odata.nextLink'?: string } } = await ctx.client.request({
      method: 'GET',
      url,
      mailbox: ctx.mailbox,
      what: ctx.what,
      operation: 'events/instances',
      aboutItem: true,
    });
    for (const e of page.body?.value ?? []) {
      if (typeof e.id !== 'string' || !e.originalStart) continue;
      if (e.isCancelled) continue;
      out.push({ id: e.id, key: occurrenceKeyOf(e.originalStart, series), type: e.type === 'exception' ? 'exception' : 'occurrence' });
    }
    url = page.body?.['@odata.nextLink'] ?? null;
  }
  return out;
}

/** GETs of events by id, with the sync tag expanded. */
export function eventRequest(ctx: Pick<Ctx, 'userPath' | 'mailbox' | 'what'>, id: string, tagExpand: string): GraphRequest {
  return { method: 'GET', url: `${ctx.userPath}/events/${encodeURIComponent(id)}?$expand=${tagExpand}`, mailbox: ctx.mailbox, what: ctx.what, operation: 'events/get', aboutItem: true };
}

/** The pattern's occurrence keys in the span, each with what it would be unchanged. */
function patternKeys(series: EventFields, windowEndMs: number): Set<string> {
  const { fromMs, toMs } = seriesSpan(series, windowEndMs);
  return new Set(occurrencesInWindow({ ...series, exceptions: [] }, fromMs, toMs).map((o) => o.key));
}

/** A master completed with its exceptions: changed occurrences read in full, cancelled ones as deleted. */
export async function readSeries(ctx: Ctx, master: SideEvent, tagExpand: string): Promise<SeriesReading> {
  const series = master.fields;
  const instances = await listInstances(ctx, master.id, series);
  const exceptionIds = instances.filter((i) => i.type === 'exception');
  const exceptions: OccurrenceException[] = [];
  if (exceptionIds.length > 0) {
    const answers = await ctx.client.batch(exceptionIds.map((i) => eventRequest(ctx, i.id, tagExpand)));
    answers.forEach((answer, n) => {
      if (answer.status === 404) return;
      if (answer.status >= 400) GraphClient.raise(answer, eventRequest(ctx, exceptionIds[n].id, tagExpand));
      const read = readGraphEvent(answer.body as GraphEvent, ctx.read).event.fields;
      const fields = { ...read, timeZone: series.timeZone, recurrence: null, exceptions: [] };
      const { recurrence: _r, ...occurrence } = fields;
      if (!sameAsPattern(occurrence, series, exceptionIds[n].key)) exceptions.push({ originalStart: exceptionIds[n].key, fields: occurrence });
    });
  }
  const present = new Set(instances.map((i) => i.key));
  for (const key of patternKeys(series, ctx.windowEndMs)) if (!present.has(key)) exceptions.push({ originalStart: key, fields: null });
  exceptions.sort((a, b) => (a.originalStart < b.originalStart ? -1 : a.originalStart > b.originalStart ? 1 : 0));
  return { event: { ...master, fields: { ...series, exceptions } }, instances };
}

type OccurrenceFields = Omit<EventFields, 'recurrence'>;

/** The occurrence at `key` as the pattern makes it; undefined when the pattern has none there. */
function patternFields(series: EventFields, key: string): OccurrenceFields | undefined {
  const o = occurrenceAt({ ...series, exceptions: [] }, key);
  if (!o) return undefined;
  const { recurrence: _r, ...rest } = o;
  return rest;
}

function sameOccurrence(a: OccurrenceFields, b: OccurrenceFields): boolean {
  return a.subject === b.subject && a.start === b.start && a.end === b.end && a.isAllDay === b.isAllDay && a.location === b.location && a.body === b.body && a.isPrivate === b.isPrivate;
}

function sameAsPattern(fields: OccurrenceFields, series: EventFields, key: string): boolean {
  const p = patternFields(series, key);
  return p !== undefined && sameOccurrence(fields, p);
}

/**
 * Makes the series' occurrences on the server match `fields.exceptions`: a deleted occurrence is cancelled, a changed
 * one patched, one no longer changed patched back to the pattern. `current` is the series as last read; a cancelled
 * occurrence that must come back cannot be restored by Graph, so the caller re-sends the pattern first (which drops
 * every exception) and passes `current` without exceptions.
 */
export async function writeExceptions(ctx: Ctx, masterId: string, fields: EventFields, current: OccurrenceException[]): Promise<number> {
  const instances = await listInstances(ctx, masterId, fields);
  const byKey = new Map(instances.map((i) => [i.key, i]));
  // An occurrence is known by its original start; when the series moved within its days (Severa keeps the old starts of
  // its changed occurrences), the occurrence is the series' one on the same day, as Outlook itself names occurrences.
  const dayOf = (key: string) => (fields.isAllDay ? key.slice(0, 10) : localDate(Date.parse(key), fields.timeZone));
  const byDay = new Map<string, SeriesInstance[]>();
  for (const i of instances) byDay.set(dayOf(i.key), [...(byDay.get(dayOf(i.key)) ?? []), i]);
  const instanceAt = (key: string): SeriesInstance | undefined => byKey.get(key) ?? (byDay.get(dayOf(key))?.length === 1 ? byDay.get(dayOf(key))![0] : undefined);
  const wanted = new Map(fields.exceptions.map((e) => [occurrenceKeyOf(e.originalStart, fields), e.fields]));
  const have = new Map(current.map((e) => [occurrenceKeyOf(e.originalStart, fields), e.fields]));
  const requests: GraphRequest[] = [];
  for (const [key, wantedFields] of wanted) {
    const instance = instanceAt(key);
    if (wantedFields === null) {
      if (instance) requests.push({ method: 'DELETE', url: `${ctx.userPath}/events/${encodeURIComponent(instance.id)}`, mailbox: ctx.mailbox, what: ctx.what, operation: 'events/delete', aboutItem: true });
      continue;
    }
    if (!instance) throw new CalendarError('other', `${ctx.what} (${ctx.mailbox}): the series has no occurrence on ${key} to change.`);
    // A change Exchange dropped meanwhile (it drops them all when the series' time changes) is no longer there.
    const before = instance.type === 'exception' ? have.get(key) : undefined;
    if (before && sameOccurrence(before, wantedFields)) continue;
    const pattern = patternFields(fields, instance.key);
    const body = occurrencePatch({ ...wantedFields, timeZone: fields.timeZone }, before ? [before, pattern] : [pattern]);
    if (body) requests.push(patchRequest(ctx, instance.id, body));
  }
  for (const [key, before] of have) {
    if (wanted.has(key) || before === null) continue;
    const instance = instanceAt(key);
    if (!instance || instance.type !== 'exception') continue;
    const pattern = patternFields(fields, instance.key);
    const body = pattern ? occurrencePatch(pattern, [before]) : null;
    if (body) requests.push(patchRequest(ctx, instance.id, body));
  }
  if (requests.length === 0) return 0;
  const answers = await ctx.client.batch(requests);
  answers.forEach((answer, i) => {
    if (answer.status >= 400 && !(answer.status === 404 && requests[i].method === 'DELETE')) GraphClient.raise(answer, requests[i]);
  });
  return requests.length;
}

/**
 * The body of an occurrence's PATCH: only the fields that differ from what the occurrence is now or would be by the
 * pattern. Exchange keeps a field written on an occurrence as that occurrence's own, so a field written needlessly (the
 * subject, with a changed place) would no longer follow the series when it is renamed in Outlook later. `bases`: what
 * the occurrence is (as last read) and what the pattern makes it; undefined for one that does not exist (all is sent).
 */
function occurrencePatch(wanted: OccurrenceFields, bases: Array<OccurrenceFields | undefined>): Record<string, unknown> | null {
  const { exceptions: _e, ...rest } = { ...wanted, recurrence: null };
  const full = graphEventBody(rest, { includeRecurrence: false });
  const differs = (of: (f: OccurrenceFields) => unknown): boolean => bases.some((b) => b === undefined || JSON.stringify(of(b)) !== JSON.stringify(of(wanted)));
  const body: Record<string, unknown> = {};
  if (differs((f) => f.subject)) body.subject = full.subject;
  if (differs((f) => f.body)) body.body = full.body;
  if (differs((f) => f.location)) body.location = full.location;
  if (differs((f) => f.isPrivate)) body.sensitivity = full.sensitivity;
  if (differs((f) => [f.start, f.end, f.isAllDay])) Object.assign(body, { start: full.start, end: full.end, isAllDay: full.isAllDay });
  return Object.keys(body).length > 0 ? body : null;
}

function patchRequest(ctx: Ctx, id: string, body: Record<string, unknown>): GraphRequest {
  return {
    method: 'PATCH',
    url: `${ctx.userPath}/events/${encodeURIComponent(id)}`,
    mailbox: ctx.mailbox,
    body,
    what: ctx.what,
    operation: 'events/update',
    aboutItem: true,
  };
}
