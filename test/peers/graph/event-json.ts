/**
 * An event instance as Graph's JSON (what GET returns), and a request body (POST/PATCH) read into the simulator's
 * event content with Graph's checks: unknown properties, enum values, time zones, end before start, all-day midnights.
 */
import type { Instance } from './calendar-store.ts';
import { GraphError, badRequest, unknownProperty } from './graph-errors.ts';
import type { AttendeeType, EventContent, ResponseType, SimAttendee, SimExtendedProperty } from './graph-model.ts';
import { ExtendedPropertyIdError, IMPORTANCES, SENSITIVITIES, SHOW_AS, etagOf, normalizePropertyId, occurrenceICalUid } from './graph-model.ts';
import type { PatternedRecurrence } from './graph-recurrence.ts';
import { RecurrenceError, normalizeRecurrence, recurrenceJson } from './graph-recurrence.ts';
import { TimeZoneError, formatDateTimeTimeZone, graphTimestamp, isLocalMidnight, isoSecondsZ, parseDateTimeTimeZone, resolveZone } from './graph-time.ts';

/** Properties of microsoft.graph.event the simulator returns (for $select and $filter checks). */
export const EVENT_PROPERTIES = [
  'id', 'createdDateTime', 'lastModifiedDateTime', 'changeKey', 'categories', 'transactionId', 'originalStartTimeZone', 'originalEndTimeZone',
  'iCalUId', 'reminderMinutesBeforeStart', 'isReminderOn', 'hasAttachments', 'subject', 'bodyPreview', 'importance', 'sensitivity', 'isAllDay',
  'isCancelled', 'isOrganizer', 'responseRequested', 'seriesMasterId', 'showAs', 'type', 'webLink', 'onlineMeetingUrl', 'isOnlineMeeting',
  'onlineMeetingProvider', 'allowNewTimeProposals', 'isDraft', 'hideAttendees', 'responseStatus', 'body', 'start', 'end', 'location', 'locations',
  'recurrence', 'attendees', 'organizer', 'onlineMeeting', 'originalStart',
] as const;
export const EVENT_NAVIGATION = ['singleValueExtendedProperties', 'multiValueExtendedProperties', 'instances', 'attachments', 'calendar', 'extensions'] as const;

/** Writable properties; read-only ones sent back by a client are ignored, anything else is an error. */
const WRITABLE = new Set([
  'subject', 'body', 'start', 'end', 'isAllDay', 'location', 'locations', 'sensitivity', 'showAs', 'importance', 'categories', 'isReminderOn',
  'reminderMinutesBeforeStart', 'attendees', 'recurrence', 'singleValueExtendedProperties', 'transactionId', 'responseRequested',
  'allowNewTimeProposals', 'isOnlineMeeting', 'onlineMeetingProvider', 'hideAttendees', 'organizer',
]);
const IGNORED = new Set([...EVENT_PROPERTIES, 'multiValueExtendedProperties', 'extensions', 'attachments', 'instances', 'calendar']);

export interface RenderOptions {
  /** Zone of start/end in the answer (Prefer: outlook.timezone; UTC by default). */
  timeZone: string;
  /** Prefer: outlook.body-content-type. */
  bodyType: 'text' | 'html' | null;
  select: string[] | null;
  /** Extended properties to include (already filtered), or undefined when not expanded. */
  expandProperties?: (props: SimExtendedProperty[]) => SimExtendedProperty[] | null;
  /** Extra annotations, e.g. @odata.type in delta. */
  annotate?: Record<string, unknown>;
  /** Newer-than-the-document properties (cancelledOccurrences) on series masters. */
  newerProperties?: boolean;
}

export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|head)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/p>|<\/div>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}

export function textToHtml(text: string): string {
  const esc = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, '<br>');
  return `<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n</head>\r\n<body>\r\n<div>${esc}</div>\r\n</body>\r\n</html>\r\n`;
}

function locationJson(name: string): Record<string, unknown> {
  return { displayName: name, locationType: 'default', uniqueIdType: name ? 'private' : 'unknown', address: {}, coordinates: {}, ...(name ? { uniqueId: name } : {}) };
}

function emailJson(address: string, name: string): Record<string, unknown> {
  return { emailAddress: { name: name || address, address } };
}

/** The full JSON of an instance (before $select). */
export function instanceJson(inst: Instance, opt: RenderOptions): Record<string, unknown> {
  const m = inst.master;
  const c = inst.content;
  const text = c.bodyType === 'html' ? htmlToText(c.body) : c.body;
  const bodyType = opt.bodyType ?? c.bodyType;
  const body = bodyType === c.bodyType ? c.body : bodyType === 'text' ? text : textToHtml(c.body);
  const seriesMasterId = inst.type === 'occurrence' || inst.type === 'exception' ? m.id : null;
  const o: Record<string, unknown> = {
    ...(opt.annotate ?? {}),
    '@odata.etag': etagOf(inst.changeKey),
    id: inst.id,
    createdDateTime: graphTimestamp(inst.createdMs),
    lastModifiedDateTime: graphTimestamp(inst.modifiedMs),
    changeKey: inst.changeKey,
    categories: [...c.categories],
    transactionId: inst.type === 'occurrence' || inst.type === 'exception' ? null : m.transactionId,
    originalStartTimeZone: m.startZone,
    originalEndTimeZone: m.endZone,
    iCalUId: inst.originalStartMs === null ? m.uid : occurrenceICalUid(m.uid, inst.originalStartMs),
    reminderMinutesBeforeStart: c.reminderMinutesBeforeStart,
    isReminderOn: c.isReminderOn,
    hasAttachments: false,
    subject: c.subject,
    bodyPreview: text.replace(/\s+/g, ' ').slice(0, 255),
    importance: c.importance,
    sensitivity: c.sensitivity,
    isAllDay: c.isAllDay,
    isCancelled: m.isCancelled,
    isOrganizer: m.isOrganizer,
    responseRequested: true,
    seriesMasterId,
    showAs: c.showAs,
    type: inst.type,
    webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(inst.id)}&exvsurl=1&path=/calendar/item`,
    onlineMeetingUrl: null,
    isOnlineMeeting: false,
    onlineMeetingProvider: 'unknown',
    allowNewTimeProposals: true,
    isDraft: false,
    hideAttendees: false,
    responseStatus: { response: m.response, time: m.responseTimeMs === null ? '0001-01-01T00:00:00Z' : isoSecondsZ(m.responseTimeMs) },
    body: { contentType: bodyType, content: body },
    start: formatDateTimeTimeZone(c.startMs, opt.timeZone),
    end: formatDateTimeTimeZone(c.endMs, opt.timeZone),
    location: locationJson(c.location),
    locations: c.location ? [locationJson(c.location)] : [],
    recurrence: inst.type === 'seriesMaster' && m.recurrence ? recurrenceJson(m.recurrence) : null,
    attendees: c.attendees.map((a) => ({ type: a.type, status: { response: a.response, time: '0001-01-01T00:00:00Z' }, ...emailJson(a.address, a.name) })),
    organizer: emailJson(m.organizerAddress, m.organizerName),
    onlineMeeting: null,
  };
  if (inst.originalStartMs !== null) o.originalStart = isoSecondsZ(inst.originalStartMs);
  if (opt.newerProperties && inst.type === 'seriesMaster') o.cancelledOccurrences = m.cancelledOccurrences.map((s) => `OID.${m.id}.${isoSecondsZ(s).slice(0, 10)}`);
  return o;
}

/** Applies $select (id and @odata.* stay, as in Graph) and $expand of extended properties. */
export function shape(full: Record<string, unknown>, inst: Instance, opt: RenderOptions): Record<string, unknown> {
  let out = full;
  if (opt.select) {
    out = {};
    for (const [k, v] of Object.entries(full)) if (k.startsWith('@') || k === 'id' || opt.select.includes(k)) out[k] = v;
  }
  if (opt.expandProperties) {
    const props = opt.expandProperties(inst.content.extendedProperties);
    if (props && props.length) out.singleValueExtendedProperties = props.map((p) => ({ id: p.id, value: p.value }));
  }
  return out;
}

// ---- request bodies ------------------------------------------------------------------------------------------------------

export interface ParsedEventBody {
  content: Partial<EventContent>;
  recurrence?: PatternedRecurrence | null;
  transactionId?: string;
  /** Extended properties to set (upsert by id). */
  properties?: SimExtendedProperty[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function enumValue<T extends string>(name: string, v: unknown, values: readonly T[]): T {
  const hit = values.find((x) => typeof v === 'string' && x.toLowerCase() === v.toLowerCase());
  if (!hit) throw new GraphError(400, 'RequestBodyRead', `Cannot convert the literal '${String(v)}' to the expected type 'microsoft.graph.${name}'.`);
  return hit;
}

function str(name: string, v: unknown): string {
  if (v === null) return '';
  if (typeof v !== 'string') throw new GraphError(400, 'RequestBodyRead', `Cannot convert a value to target type 'Edm.String' for property '${name}'.`);
  return v;
}

function bool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new GraphError(400, 'RequestBodyRead', `Cannot convert a value to target type 'Edm.Boolean' for property '${name}'.`);
  return v;
}

function checkNested(value: unknown, allowed: string[], type: string): void {
  if (!isObj(value)) return;
  for (const k of Object.keys(value)) if (!k.includes('@') && !allowed.includes(k)) throw unknownProperty(k, type);
}

function dateTimeOf(name: 'start' | 'end', v: unknown): { ms: number; zoneName: string; zone: string } {
  if (!isObj(v)) throw new GraphError(400, 'RequestBodyRead', `The property '${name}' must be a dateTimeTimeZone object.`);
  checkNested(v, ['dateTime', 'timeZone'], 'dateTimeTimeZone');
  try {
    const r = parseDateTimeTimeZone(v);
    return { ms: r.utcMs, zoneName: r.zoneName, zone: r.zone };
  } catch (e) {
    if (e instanceof TimeZoneError) {
      throw new GraphError(400, 'TimeZoneNotSupportedException', `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${e.message}'.`);
    }
    throw new GraphError(400, 'RequestBodyRead', `Cannot convert the literal '${String(v.dateTime)}' to the expected type 'Edm.DateTimeOffset'.`);
  }
}

function attendeesOf(v: unknown): SimAttendee[] {
  if (!Array.isArray(v)) throw new GraphError(400, 'RequestBodyRead', 'attendees must be a collection.');
  return v.map((a) => {
    if (!isObj(a) || !isObj(a.emailAddress) || typeof a.emailAddress.address !== 'string' || !a.emailAddress.address.includes('@')) {
      throw new GraphError(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid.');
    }
    checkNested(a, ['emailAddress', 'type', 'status', 'proposedNewTime'], 'attendee');
    const type: AttendeeType = a.type === undefined ? 'required' : enumValue('attendeeType', a.type, ['required', 'optional', 'resource'] as const);
    const status = isObj(a.status) && typeof a.status.response === 'string' ? (a.status.response as ResponseType) : 'none';
    return { type, address: a.emailAddress.address.toLowerCase(), name: typeof a.emailAddress.name === 'string' ? a.emailAddress.name : '', response: status };
  });
}

/**
 * Reads a POST or PATCH body. `current` is the event's content for a PATCH (start/end/isAllDay checks look at the
 * result), null for a POST (start and end are then required).
 */
export function parseEventBody(body: unknown, current: EventContent | null): ParsedEventBody {
  if (!isObj(body)) throw badRequest('Empty Payload. JSON content expected.');
  for (const k of Object.keys(body)) {
    if (k.includes('@')) continue; // instance annotations such as @odata.type
    if (!WRITABLE.has(k) && !IGNORED.has(k as never)) throw unknownProperty(k, 'event');
  }
  const out: ParsedEventBody = { content: {} };
  const c = out.content;
  if ('subject' in body) c.subject = str('subject', body.subject);
  if ('body' in body) {
    if (body.body === null) {
      c.body = '';
    } else {
      if (!isObj(body.body)) throw new GraphError(400, 'RequestBodyRead', "The property 'body' must be an itemBody object.");
      checkNested(body.body, ['content', 'contentType'], 'itemBody');
      c.bodyType = body.body.contentType === undefined ? 'text' : enumValue('bodyType', body.body.contentType, ['text', 'html'] as const);
      c.body = str('content', body.body.content ?? '');
    }
  }
  if ('location' in body) {
    if (body.location !== null && !isObj(body.location)) throw new GraphError(400, 'RequestBodyRead', "The property 'location' must be a location object.");
    c.location = body.location === null ? '' : str('displayName', body.location.displayName ?? '');
  } else if ('locations' in body && Array.isArray(body.locations)) {
    const first = body.locations[0];
    c.location = isObj(first) && typeof first.displayName === 'string' ? first.displayName : '';
  }
  if ('sensitivity' in body) c.sensitivity = enumValue('sensitivity', body.sensitivity, SENSITIVITIES);
  if ('showAs' in body) c.showAs = enumValue('freeBusyStatus', body.showAs, SHOW_AS);
  if ('importance' in body) c.importance = enumValue('importance', body.importance, IMPORTANCES);
  if ('categories' in body) {
    if (!Array.isArray(body.categories) || body.categories.some((x) => typeof x !== 'string')) throw new GraphError(400, 'RequestBodyRead', 'categories must be a collection of strings.');
    c.categories = [...(body.categories as string[])];
  }
  if ('isReminderOn' in body) c.isReminderOn = bool('isReminderOn', body.isReminderOn);
  if ('reminderMinutesBeforeStart' in body) {
    if (!Number.isInteger(body.reminderMinutesBeforeStart)) throw new GraphError(400, 'RequestBodyRead', "Cannot convert a value to target type 'Edm.Int32' for property 'reminderMinutesBeforeStart'.");
    c.reminderMinutesBeforeStart = body.reminderMinutesBeforeStart as number;
  }
  if ('attendees' in body) c.attendees = body.attendees === null ? [] : attendeesOf(body.attendees);
  if ('isAllDay' in body) c.isAllDay = bool('isAllDay', body.isAllDay);
  let startZone: string | null = null;
  let endZone: string | null = null;
  if ('start' in body) {
    const s = dateTimeOf('start', body.start);
    c.startMs = s.ms;
    c.startZone = s.zoneName;
    startZone = s.zone;
  }
  if ('end' in body) {
    const e = dateTimeOf('end', body.end);
    c.endMs = e.ms;
    c.endZone = e.zoneName;
    endZone = e.zone;
  }
  if (!current && (c.startMs === undefined || c.endMs === undefined)) {
    throw new GraphError(400, 'ErrorPropertyValidationFailure', 'At least one property failed validation: an event needs start and end.');
  }
  const startMs = c.startMs ?? current!.startMs;
  const endMs = c.endMs ?? current!.endMs;
  if (endMs < startMs) throw new GraphError(400, 'ErrorCalendarEndDateIsEarlierThanStartDate', 'The end date occurs before the start date.');
  const allDay = c.isAllDay ?? current?.isAllDay ?? false;
  if (allDay && ('isAllDay' in body || 'start' in body || 'end' in body)) {
    const sz = startZone ?? resolveZone(c.startZone ?? current?.startZone ?? 'UTC') ?? 'UTC';
    const ez = endZone ?? resolveZone(c.endZone ?? current?.endZone ?? 'UTC') ?? 'UTC';
    if (!isLocalMidnight(startMs, sz) || !isLocalMidnight(endMs, ez) || sz !== ez) {
      throw new GraphError(400, 'ErrorPropertyValidationFailure', 'At least one property failed validation: an all-day event must start and end at midnight, in the same time zone.');
    }
    if (endMs - startMs < 86_400_000 - 3600_000) throw new GraphError(400, 'ErrorPropertyValidationFailure', 'The duration of an event marked as All day must be at least 24 hours.');
  }
  if ('recurrence' in body) {
    if (body.recurrence === null) out.recurrence = null;
    else {
      try {
        out.recurrence = normalizeRecurrence(body.recurrence, c.startZone ?? current?.startZone ?? 'UTC');
      } catch (e) {
        if (e instanceof RecurrenceError) throw new GraphError(400, 'ErrorPropertyValidationFailure', e.message);
        throw e;
      }
      const rz = resolveZone(out.recurrence.range.recurrenceTimeZone);
      if (!rz) throw new GraphError(400, 'TimeZoneNotSupportedException', `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${out.recurrence.range.recurrenceTimeZone}'.`);
    }
  }
  if ('singleValueExtendedProperties' in body) {
    const list = body.singleValueExtendedProperties;
    if (!Array.isArray(list)) throw new GraphError(400, 'RequestBodyRead', 'singleValueExtendedProperties must be a collection.');
    out.properties = list.map((p) => {
      if (!isObj(p) || typeof p.id !== 'string') throw new GraphError(400, 'RequestBodyRead', 'An extended property needs an id.');
      checkNested(p, ['id', 'value'], 'singleValueLegacyExtendedProperty');
      try {
        return { id: normalizePropertyId(p.id), value: p.value === null || p.value === undefined ? '' : String(p.value) };
      } catch (e) {
        if (e instanceof ExtendedPropertyIdError) throw new GraphError(400, 'ErrorInvalidExtendedPropertyValue', e.message);
        throw e;
      }
    });
  }
  if ('transactionId' in body && body.transactionId !== null) out.transactionId = str('transactionId', body.transactionId);
  return out;
}

/** Upserts extended properties by id. */
export function mergeProperties(current: SimExtendedProperty[], updates: SimExtendedProperty[]): SimExtendedProperty[] {
  const out = current.map((p) => ({ ...p }));
  for (const u of updates) {
    const hit = out.find((p) => p.id === u.id);
    if (hit) hit.value = u.value;
    else out.push({ ...u });
  }
  return out;
}
