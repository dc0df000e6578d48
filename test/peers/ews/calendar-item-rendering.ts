/**
 * Item -> CalendarItem XML: reading the ItemShape a client asks for and writing the properties it asked for, in the
 * element order of the EWS schema, honouring the request's version (and the bodies, occurrences and summaries that
 * go with it). Recurrence, time zone, attendee and extended property elements are written by their own modules.
 */
import type { BodyType, SimCalendarItem, SimOccurrenceOverride } from './calendar-model.ts';
import { extendedPropertyKey } from './calendar-model.ts';
import type { XmlElement } from './xml-parser.ts';
import { child, childText } from './xml-parser.ts';
import type { ApiVersion } from './soap-envelope.ts';
import { TYPES_NS, attrEscape, el, ewsDateTime, versionAtLeast, xmlEscape } from './soap-envelope.ts';
import { formatDate, offsetMinutes, utcToLocal, windowsZoneFor } from './time-zones.ts';
import { schemaError } from './schema-validation.ts';
import { appointmentState, attendeesXml, isMeeting, mailboxXml } from './attendee-xml.ts';
import { recurrenceXml } from './recurrence-xml.ts';
import { biasDuration, timeZoneXml } from './time-zone-xml.ts';
import type { ExtendedFieldRef } from './extended-property-xml.ts';
import { extendedXml, readExtendedFieldUri } from './extended-property-xml.ts';

const T = TYPES_NS;

export type BodyPreference = 'Best' | 'HTML' | 'Text';

export interface ItemShape {
  base: 'IdOnly' | 'Default' | 'AllProperties';
  uris: Set<string>;
  extended: ExtendedFieldRef[];
  bodyType: BodyPreference;
}

export interface RenderContext {
  version: ApiVersion;
  shape: ItemShape;
  /** FindItem and SyncFolderItems cannot return bodies, attendees or recurrence details (as in Exchange). */
  summaryOnly: boolean;
  nameFor(address: string): string;
  parentFolderId: string;
  parentFolderChangeKey: string;
}

/** What a rendered calendar item is: a stored item, or one occurrence/exception of a series. */
export interface ItemView {
  data: SimCalendarItem;
  id: string;
  changeKey: string;
  type: 'Single' | 'Occurrence' | 'Exception' | 'RecurringMaster';
  originalStartMs?: number;
  /** Occurrences of the series (for FirstOccurrence/LastOccurrence/ModifiedOccurrences ids). */
  occurrenceId?: (originalStartMs: number) => string;
  firstOccurrence?: { startMs: number; endMs: number } | null;
  lastOccurrence?: { startMs: number; endMs: number } | null;
}

const DEFAULT_URIS = [
  'item:Subject',
  'item:HasAttachments',
  'item:IsAssociated',
  'calendar:Start',
  'calendar:End',
  'calendar:LegacyFreeBusyStatus',
  'calendar:Location',
  'calendar:CalendarItemType',
  'calendar:Organizer',
];

const ALL_PROPERTIES_EXCLUDED = new Set(['item:TextBody', 'item:UniqueBody', 'item:MimeContent', 'calendar:StartTimeZoneId', 'calendar:EndTimeZoneId']);
const SUMMARY_EXCLUDED = new Set([
  'item:Body',
  'item:TextBody',
  'item:UniqueBody',
  'item:MimeContent',
  'calendar:RequiredAttendees',
  'calendar:OptionalAttendees',
  'calendar:Resources',
  'calendar:Recurrence',
  'calendar:ModifiedOccurrences',
  'calendar:DeletedOccurrences',
  'calendar:FirstOccurrence',
  'calendar:LastOccurrence',
  'calendar:ConflictingMeetings',
  'calendar:AdjacentMeetings',
]);

function htmlFromText(text: string): string {
  const inner = xmlEscape(text).replace(/\r?\n/g, '<br>\r\n');
  return `<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n</head>\r\n<body>\r\n<div>${inner}</div>\r\n</body>\r\n</html>\r\n`;
}

export function textFromHtml(html: string): string {
  return html
    .replace(/<(script|style|head)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|tr|h\d)>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&')
    .replace(/\r\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function bodyAs(data: SimCalendarItem, pref: BodyPreference): { type: BodyType; text: string } {
  if (pref === 'Best' || pref === data.bodyType) return { type: data.bodyType, text: data.body };
  if (pref === 'HTML') return { type: 'HTML', text: data.body ? htmlFromText(data.body) : '' };
  return { type: 'Text', text: textFromHtml(data.body) };
}

function isoDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `P${d ? `${d}D` : ''}T${h}H${m}M${s}S`;
}

type Emitter = (v: ItemView, ctx: RenderContext) => string;

/** Supported properties in schema order (ItemType, then CalendarItemType). */
const EMITTERS: Array<[string, Emitter]> = [
  ['item:ParentFolderId', (_v, c) => `<t:ParentFolderId Id="${attrEscape(c.parentFolderId)}" ChangeKey="${attrEscape(c.parentFolderChangeKey)}"/>`],
  ['item:ItemClass', () => '<t:ItemClass>IPM.Appointment</t:ItemClass>'],
  ['item:Subject', (v) => el('t:Subject', v.data.subject)],
  ['item:Sensitivity', (v) => el('t:Sensitivity', v.data.sensitivity)],
  [
    'item:Body',
    (v, c) => {
      const b = bodyAs(v.data, c.shape.bodyType);
      return `<t:Body BodyType="${b.type}"${versionAtLeast(c.version, 'Exchange2010') ? ' IsTruncated="false"' : ''}>${xmlEscape(b.text)}</t:Body>`;
    },
  ],
  ['item:DateTimeReceived', (v) => el('t:DateTimeReceived', v.data.dateTimeCreated)],
  ['item:Size', (v) => el('t:Size', 512 + Buffer.byteLength(v.data.subject) + Buffer.byteLength(v.data.body))],
  ['item:Categories', (v) => (v.data.categories.length ? `<t:Categories>${v.data.categories.map((c) => el('t:String', c)).join('')}</t:Categories>` : '')],
  ['item:Importance', () => '<t:Importance>Normal</t:Importance>'],
  ['item:IsSubmitted', () => '<t:IsSubmitted>false</t:IsSubmitted>'],
  ['item:IsDraft', () => '<t:IsDraft>false</t:IsDraft>'],
  ['item:IsFromMe', () => '<t:IsFromMe>false</t:IsFromMe>'],
  ['item:IsResend', () => '<t:IsResend>false</t:IsResend>'],
  ['item:IsUnmodified', () => '<t:IsUnmodified>false</t:IsUnmodified>'],
  ['item:DateTimeSent', (v) => el('t:DateTimeSent', v.data.dateTimeCreated)],
  ['item:DateTimeCreated', (v) => el('t:DateTimeCreated', v.data.dateTimeCreated)],
  ['item:ReminderDueBy', (v) => el('t:ReminderDueBy', v.data.start)],
  ['item:ReminderIsSet', (v) => el('t:ReminderIsSet', v.data.reminderIsSet)],
  ['item:ReminderMinutesBeforeStart', (v) => el('t:ReminderMinutesBeforeStart', v.data.reminderMinutesBeforeStart)],
  ['item:DisplayCc', (v, c) => el('t:DisplayCc', v.data.optionalAttendees.map(c.nameFor).join('; '))],
  ['item:DisplayTo', (v, c) => el('t:DisplayTo', v.data.requiredAttendees.map(c.nameFor).join('; '))],
  ['item:HasAttachments', () => '<t:HasAttachments>false</t:HasAttachments>'],
  ['@extended', () => ''],
  ['item:Culture', () => '<t:Culture>en-US</t:Culture>'],
  ['item:LastModifiedName', (v, c) => el('t:LastModifiedName', c.nameFor(v.data.mailbox))],
  ['item:LastModifiedTime', (v) => el('t:LastModifiedTime', v.data.lastModifiedTime)],
  ['item:IsAssociated', () => '<t:IsAssociated>false</t:IsAssociated>'],
  [
    'item:TextBody',
    (v, c) => (versionAtLeast(c.version, 'Exchange2013') ? `<t:TextBody BodyType="Text">${xmlEscape(bodyAs(v.data, 'Text').text)}</t:TextBody>` : ''),
  ],
  ['calendar:UID', (v) => el('t:UID', v.data.uid)],
  ['calendar:RecurrenceId', (v) => (v.originalStartMs !== undefined ? el('t:RecurrenceId', ewsDateTime(v.originalStartMs)) : '')],
  ['calendar:DateTimeStamp', (v) => el('t:DateTimeStamp', v.data.lastModifiedTime)],
  ['calendar:Start', (v) => el('t:Start', v.data.start)],
  ['calendar:End', (v) => el('t:End', v.data.end)],
  ['calendar:OriginalStart', (v) => (v.originalStartMs !== undefined ? el('t:OriginalStart', ewsDateTime(v.originalStartMs)) : '')],
  ['calendar:IsAllDayEvent', (v) => el('t:IsAllDayEvent', v.data.isAllDay)],
  ['calendar:LegacyFreeBusyStatus', (v) => el('t:LegacyFreeBusyStatus', v.data.legacyFreeBusyStatus)],
  ['calendar:Location', (v) => el('t:Location', v.data.location)],
  ['calendar:IsMeeting', (v) => el('t:IsMeeting', isMeeting(v.data))],
  ['calendar:IsCancelled', (v) => el('t:IsCancelled', v.data.isCancelled)],
  ['calendar:IsRecurring', (v) => el('t:IsRecurring', v.type === 'Occurrence' || v.type === 'Exception')],
  ['calendar:MeetingRequestWasSent', (v) => el('t:MeetingRequestWasSent', isMeeting(v.data) && v.data.organizer === v.data.mailbox)],
  ['calendar:IsResponseRequested', (v) => el('t:IsResponseRequested', isMeeting(v.data))],
  ['calendar:CalendarItemType', (v) => el('t:CalendarItemType', v.type)],
  ['calendar:MyResponseType', (v) => el('t:MyResponseType', v.data.myResponseType)],
  ['calendar:Organizer', (v, c) => `<t:Organizer>${mailboxXml(v.data.organizer, c.nameFor, c.version)}</t:Organizer>`],
  [
    'calendar:RequiredAttendees',
    (v, c) => attendeesXml('RequiredAttendees', v.data.requiredAttendees, c, () => 'Unknown'),
  ],
  ['calendar:OptionalAttendees', (v, c) => attendeesXml('OptionalAttendees', v.data.optionalAttendees, c, () => 'Unknown')],
  ['calendar:ConflictingMeetingCount', () => '<t:ConflictingMeetingCount>0</t:ConflictingMeetingCount>'],
  ['calendar:AdjacentMeetingCount', () => '<t:AdjacentMeetingCount>0</t:AdjacentMeetingCount>'],
  ['calendar:Duration', (v) => el('t:Duration', isoDuration(Date.parse(v.data.end) - Date.parse(v.data.start)))],
  ['calendar:TimeZone', (v) => el('t:TimeZone', windowsZoneFor(v.data.timeZone).name)],
  ['calendar:AppointmentSequenceNumber', (v) => el('t:AppointmentSequenceNumber', v.data.appointmentSequenceNumber)],
  ['calendar:AppointmentState', (v) => el('t:AppointmentState', appointmentState(v.data))],
  ['calendar:Recurrence', (v, c) => (v.type === 'RecurringMaster' && v.data.recurrence ? recurrenceXml(v.data.recurrence, c.version) : '')],
  ['calendar:FirstOccurrence', (v) => occurrenceInfo('FirstOccurrence', v, v.firstOccurrence)],
  ['calendar:LastOccurrence', (v) => occurrenceInfo('LastOccurrence', v, v.lastOccurrence)],
  [
    'calendar:ModifiedOccurrences',
    (v) => {
      if (v.type !== 'RecurringMaster' || !v.data.modifiedOccurrences.length || !v.occurrenceId) return '';
      const occ = (o: SimOccurrenceOverride): string => {
        const orig = Date.parse(o.originalStart);
        const duration = Date.parse(v.data.end) - Date.parse(v.data.start);
        const start = o.start ?? o.originalStart;
        const end = o.end ?? ewsDateTime(orig + duration);
        return `<t:Occurrence><t:ItemId Id="${attrEscape(v.occurrenceId!(orig))}" ChangeKey="${attrEscape(v.changeKey)}"/>${el('t:Start', start)}${el('t:End', end)}${el('t:OriginalStart', o.originalStart)}</t:Occurrence>`;
      };
      const sorted = [...v.data.modifiedOccurrences].sort((a, b) => a.originalStart.localeCompare(b.originalStart));
      return `<t:ModifiedOccurrences>${sorted.map(occ).join('')}</t:ModifiedOccurrences>`;
    },
  ],
  [
    'calendar:DeletedOccurrences',
    (v) =>
      v.type === 'RecurringMaster' && v.data.deletedOccurrences.length
        ? `<t:DeletedOccurrences>${[...v.data.deletedOccurrences].sort().map((s) => `<t:DeletedOccurrence>${el('t:Start', s)}</t:DeletedOccurrence>`).join('')}</t:DeletedOccurrences>`
        : '',
  ],
  [
    'calendar:MeetingTimeZone',
    (v, c) => {
      if (versionAtLeast(c.version, 'Exchange2010')) return '';
      const z = windowsZoneFor(v.data.timeZone);
      const std = Math.min(offsetMinutes(v.data.timeZone, Date.UTC(2026, 0, 15)), offsetMinutes(v.data.timeZone, Date.UTC(2026, 6, 15)));
      return `<t:MeetingTimeZone TimeZoneName="${attrEscape(z.id)}">${el('t:BaseOffset', biasDuration(std))}</t:MeetingTimeZone>`;
    },
  ],
  ['calendar:StartTimeZone', (v, c) => timeZoneXml('StartTimeZone', v.data.timeZone, c.version)],
  ['calendar:EndTimeZone', (v, c) => timeZoneXml('EndTimeZone', v.data.timeZone, c.version)],
  ['calendar:ConferenceType', () => '<t:ConferenceType>0</t:ConferenceType>'],
  ['calendar:AllowNewTimeProposal', () => '<t:AllowNewTimeProposal>true</t:AllowNewTimeProposal>'],
  ['calendar:IsOnlineMeeting', () => '<t:IsOnlineMeeting>false</t:IsOnlineMeeting>'],
  ['calendar:StartTimeZoneId', (v, c) => (versionAtLeast(c.version, 'Exchange2016') ? el('t:StartTimeZoneId', windowsZoneFor(v.data.timeZone).id) : '')],
  ['calendar:EndTimeZoneId', (v, c) => (versionAtLeast(c.version, 'Exchange2016') ? el('t:EndTimeZoneId', windowsZoneFor(v.data.timeZone).id) : '')],
  ['calendar:IsOrganizer', (v, c) => (versionAtLeast(c.version, 'Exchange2013') ? el('t:IsOrganizer', v.data.organizer === v.data.mailbox) : '')],
];

export const SUPPORTED_URIS = new Set(EMITTERS.map(([u]) => u).filter((u) => !u.startsWith('@')));
const ALL_PROPERTY_URIS = [...SUPPORTED_URIS].filter((u) => !ALL_PROPERTIES_EXCLUDED.has(u));

function occurrenceInfo(tag: string, v: ItemView, o: { startMs: number; endMs: number } | null | undefined): string {
  if (v.type !== 'RecurringMaster' || !o || !v.occurrenceId) return '';
  return `<t:${tag}><t:ItemId Id="${attrEscape(v.occurrenceId(o.startMs))}" ChangeKey="${attrEscape(v.changeKey)}"/>${el('t:Start', ewsDateTime(o.startMs))}${el('t:End', ewsDateTime(o.endMs))}${el('t:OriginalStart', ewsDateTime(o.startMs))}</t:${tag}>`;
}

export function localDateOf(ms: number, zone: string): string {
  const l = utcToLocal(zone, ms);
  return formatDate(l.year, l.month, l.day);
}

export function renderCalendarItem(v: ItemView, ctx: RenderContext): string {
  const { shape } = ctx;
  let parts = `<t:CalendarItem><t:ItemId Id="${attrEscape(v.id)}" ChangeKey="${attrEscape(v.changeKey)}"/>`;
  if (shape.base === 'IdOnly' && shape.uris.size === 0 && shape.extended.length === 0) return `${parts}</t:CalendarItem>`;
  const wanted = new Set<string>(shape.uris);
  if (shape.base === 'Default') for (const u of DEFAULT_URIS) wanted.add(u);
  if (shape.base === 'AllProperties') for (const u of ALL_PROPERTY_URIS) wanted.add(u);
  for (const [uri, emit] of EMITTERS) {
    if (uri === '@extended') {
      if (ctx.shape.extended.length) {
        for (const ref of ctx.shape.extended) {
          const k = extendedPropertyKey(ref);
          const p = v.data.extendedProperties.find((x) => extendedPropertyKey(x) === k);
          if (p) parts += extendedXml(p, ref);
        }
      }
      continue;
    }
    if (!wanted.has(uri)) continue;
    if (ctx.summaryOnly && SUMMARY_EXCLUDED.has(uri)) continue;
    parts += emit(v, ctx);
  }
  return `${parts}</t:CalendarItem>`;
}

/** Reads `m:ItemShape` / `m:ResponseShape`. Unknown FieldURIs are skipped (clients ask for much we don't keep). */
export function readItemShape(e: XmlElement | undefined): ItemShape {
  const base = (childText(e, T, 'BaseShape') ?? 'Default').trim();
  if (base !== 'IdOnly' && base !== 'Default' && base !== 'AllProperties') throw schemaError(`The value '${base}' is invalid for BaseShape.`);
  const bodyType = (childText(e, T, 'BodyType') ?? 'Best').trim();
  if (bodyType !== 'Best' && bodyType !== 'HTML' && bodyType !== 'Text') throw schemaError(`The value '${bodyType}' is invalid for BodyType.`);
  const shape: ItemShape = { base, uris: new Set(), extended: [], bodyType };
  for (const p of child(e, T, 'AdditionalProperties')?.children ?? []) {
    if (p.ns !== T) continue;
    if (p.name === 'FieldURI') {
      const uri = p.attrs.FieldURI ?? '';
      if (!/^[A-Za-z]+:[A-Za-z]+$/.test(uri)) throw schemaError(`The FieldURI '${uri}' is invalid.`);
      shape.uris.add(uri);
    } else if (p.name === 'ExtendedFieldURI') {
      shape.extended.push(readExtendedFieldUri(p));
    }
  }
  return shape;
}

/** Applies an occurrence's own changes over its series' fields. */
export function occurrenceData(master: SimCalendarItem, startMs: number, endMs: number, ov: SimOccurrenceOverride | undefined): SimCalendarItem {
  return {
    ...master,
    subject: ov?.subject ?? master.subject,
    location: ov?.location ?? master.location,
    body: ov?.body ?? master.body,
    bodyType: ov?.bodyType ?? master.bodyType,
    sensitivity: ov?.sensitivity ?? master.sensitivity,
    legacyFreeBusyStatus: ov?.legacyFreeBusyStatus ?? master.legacyFreeBusyStatus,
    start: ewsDateTime(startMs),
    end: ewsDateTime(endMs),
    lastModifiedTime: ov?.lastModifiedTime ?? master.lastModifiedTime,
    recurrence: null,
    modifiedOccurrences: [],
    deletedOccurrences: [],
  };
}
