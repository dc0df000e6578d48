import type { EventFields, RecurrenceRule } from '../../sync/calendar-event.ts';
import { CalendarError } from '../calendar-connector.ts';
import { instantsOf } from './ews-appointment-writing.ts';
import { SYNC_TAG_PROPERTY_NAME, SYNC_TAG_PROPERTY_SET_ID } from './ews-calendar-mapping.ts';
import { windowsTimeZoneFor } from './ews-time-zone-mapping.ts';
import { recurrenceProblemForVersion } from './recurrence-expansion.ts';
import { child, childrenNamed, childText, escapeXml, escapeText, type XmlNode } from './ews-xml.ts';

/**
 * The connector's own SOAP for the calls that carry many calendar items (Exchange 2010 and later): GetItem of items and
 * of modified occurrences, CreateItem of several items in one request, UpdateItem of several single items in one
 * request (only the fields Severa carries are set; attendees and everything else stay as they are). Shapes as in
 * Microsoft's EWS reference (GetItem, CreateItem, UpdateItem operations; CalendarItem, Recurrence, TimeZoneDefinition
 * types); element order as the schema's CalendarItemType sequence requires.
 */

const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const T_NS = 'http://schemas.microsoft.com/exchange/services/2006/types';
const M_NS = 'http://schemas.microsoft.com/exchange/services/2006/messages';

export interface ItemSoapContext {
  /** RequestServerVersion, e.g. 'Exchange2016'. */
  version: string;
  /** Mailbox to impersonate, or null. */
  impersonate: string | null;
  /** Weekly patterns carry FirstDayOfWeek (Exchange 2010 SP1 and later). */
  firstDayOfWeek: boolean;
  /** The server knows StartTimeZoneId (Exchange 2016 and later): a short answer instead of a whole definition. */
  timeZoneIds: boolean;
}

export function envelope(ctx: ItemSoapContext, body: string): string {
  const impersonation = ctx.impersonate ? `<t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>${escapeXml(ctx.impersonate)}</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>` : '';
  return (
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP_NS}" xmlns:t="${T_NS}" xmlns:m="${M_NS}">` +
    `<soap:Header><t:RequestServerVersion Version="${escapeXml(ctx.version)}"/>${impersonation}</soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`
  );
}

const field = (uri: string) => `<t:FieldURI FieldURI="${uri}"/>`;
const SYNC_TAG_URI = `<t:ExtendedFieldURI PropertySetId="${SYNC_TAG_PROPERTY_SET_ID}" PropertyName="${SYNC_TAG_PROPERTY_NAME}" PropertyType="String"/>`;
const OCCURRENCE_FIELDS = ['item:Subject', 'item:Body', 'item:Sensitivity', 'calendar:Start', 'calendar:End', 'calendar:IsAllDayEvent', 'calendar:Location', 'calendar:Organizer', 'calendar:RequiredAttendees', 'calendar:OptionalAttendees'];
const ITEM_FIELDS = [
  'item:Subject',
  'item:Body',
  'item:Sensitivity',
  'item:LastModifiedTime',
  'calendar:Start',
  'calendar:End',
  'calendar:IsAllDayEvent',
  'calendar:Location',
  'calendar:Organizer',
  'calendar:RequiredAttendees',
  'calendar:OptionalAttendees',
  'calendar:CalendarItemType',
  'calendar:Recurrence',
  'calendar:ModifiedOccurrences',
  'calendar:DeletedOccurrences',
  'calendar:UID',
];

/** GetItem of calendar items ('item': everything the sync reads) or of modified occurrences ('occurrence'). */
export function getItemRequest(ctx: ItemSoapContext, ids: readonly string[], shape: 'item' | 'occurrence'): string {
  const props =
    shape === 'item'
      ? ITEM_FIELDS.map(field).join('') + SYNC_TAG_URI + field(ctx.timeZoneIds ? 'calendar:StartTimeZoneId' : 'calendar:StartTimeZone')
      : OCCURRENCE_FIELDS.map(field).join('');
  const itemIds = ids.map((id) => `<t:ItemId Id="${escapeXml(id)}"/>`).join('');
  return envelope(ctx, `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:BodyType>Text</t:BodyType><t:AdditionalProperties>${props}</t:AdditionalProperties></m:ItemShape><m:ItemIds>${itemIds}</m:ItemIds></m:GetItem>`);
}

// ---- writing calendar items ----

const zones = new Map<string, { id: string; name: string }>();

function windowsZone(iana: string): { id: string; name: string } {
  let zone = zones.get(iana);
  if (!zone) {
    const info = windowsTimeZoneFor(iana);
    zone = { id: info.Id, name: info.DisplayName || info.Id };
    zones.set(iana, zone);
  }
  return zone;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const el = (name: string, value: string | number) => `<t:${name}>${escapeText(String(value))}</t:${name}>`;

/** The Recurrence element for a rule (the same patterns recurrenceToEws builds through the library). */
export function recurrenceXml(rule: RecurrenceRule, withFirstDayOfWeek: boolean): string {
  const problem = recurrenceProblemForVersion(rule, withFirstDayOfWeek);
  if (problem) throw new CalendarError('other', problem);
  let pattern: string;
  switch (rule.frequency) {
    case 'Daily':
      pattern = `<t:DailyRecurrence>${el('Interval', rule.interval)}</t:DailyRecurrence>`;
      break;
    case 'Weekly': {
      const first = withFirstDayOfWeek && rule.interval > 1 ? el('FirstDayOfWeek', rule.firstDayOfWeek ?? 'Sunday') : '';
      pattern = `<t:WeeklyRecurrence>${el('Interval', rule.interval)}${el('DaysOfWeek', (rule.daysOfWeek ?? []).join(' '))}${first}</t:WeeklyRecurrence>`;
      break;
    }
    case 'Monthly':
      pattern = rule.weekOrdinal
        ? `<t:RelativeMonthlyRecurrence>${el('Interval', rule.interval)}${el('DaysOfWeek', rule.dayOfWeek ?? 'Day')}${el('DayOfWeekIndex', rule.weekOrdinal)}</t:RelativeMonthlyRecurrence>`
        : `<t:AbsoluteMonthlyRecurrence>${el('Interval', rule.interval)}${el('DayOfMonth', rule.dayOfMonth ?? 1)}</t:AbsoluteMonthlyRecurrence>`;
      break;
    case 'Yearly': {
      const month = MONTHS[(rule.month ?? 1) - 1];
      pattern = rule.weekOrdinal
        ? `<t:RelativeYearlyRecurrence>${el('DaysOfWeek', rule.dayOfWeek ?? 'Day')}${el('DayOfWeekIndex', rule.weekOrdinal)}${el('Month', month)}</t:RelativeYearlyRecurrence>`
        : `<t:AbsoluteYearlyRecurrence>${el('DayOfMonth', rule.dayOfMonth ?? 1)}${el('Month', month)}</t:AbsoluteYearlyRecurrence>`;
      break;
    }
  }
  const start = el('StartDate', rule.startDate);
  const range =
    rule.count !== undefined
      ? `<t:NumberedRecurrence>${start}${el('NumberOfOccurrences', rule.count)}</t:NumberedRecurrence>`
      : rule.until !== undefined
        ? `<t:EndDateRecurrence>${start}${el('EndDate', rule.until)}</t:EndDateRecurrence>`
        : `<t:NoEndRecurrence>${start}</t:NoEndRecurrence>`;
  return `<t:Recurrence>${pattern}${range}</t:Recurrence>`;
}

function zoneXml(tag: 'StartTimeZone' | 'EndTimeZone', iana: string): string {
  const zone = windowsZone(iana);
  return `<t:${tag} Id="${escapeXml(zone.id)}" Name="${escapeXml(zone.name)}"/>`;
}

function attendeesXml(fields: Pick<EventFields, 'attendees' | 'organizer'>): string {
  const wanted = [...new Set(fields.attendees.map((a) => a.trim().toLowerCase()).filter((a) => a && a !== fields.organizer))];
  if (wanted.length === 0) return '';
  return `<t:RequiredAttendees>${wanted.map((a) => `<t:Attendee><t:Mailbox><t:EmailAddress>${escapeText(a)}</t:EmailAddress></t:Mailbox></t:Attendee>`).join('')}</t:RequiredAttendees>`;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A new CalendarItem with everything the sync writes (its exceptions are written afterwards, one by one). */
export function calendarItemXml(fields: EventFields, syncTag: string, ctx: Pick<ItemSoapContext, 'firstDayOfWeek'>): string {
  const { startMs, endMs } = instantsOf(fields);
  return (
    '<t:CalendarItem>' +
    el('Subject', fields.subject) +
    el('Sensitivity', fields.isPrivate ? 'Private' : 'Normal') +
    `<t:Body BodyType="Text">${escapeText(fields.body)}</t:Body>` +
    `<t:ExtendedProperty>${SYNC_TAG_URI}${el('Value', syncTag)}</t:ExtendedProperty>` +
    el('Start', iso(startMs)) +
    el('End', iso(endMs)) +
    el('IsAllDayEvent', fields.isAllDay ? 'true' : 'false') +
    el('Location', fields.location) +
    attendeesXml(fields) +
    (fields.recurrence ? recurrenceXml(fields.recurrence, ctx.firstDayOfWeek) : '') +
    zoneXml('StartTimeZone', fields.timeZone) +
    zoneXml('EndTimeZone', fields.timeZone) +
    '</t:CalendarItem>'
  );
}

export function createItemRequest(ctx: ItemSoapContext, items: ReadonlyArray<{ fields: EventFields; syncTag: string }>): string {
  const body = items.map((i) => calendarItemXml(i.fields, i.syncTag, ctx)).join('');
  return envelope(ctx, `<m:CreateItem MessageDisposition="SaveOnly" SendMeetingInvitations="SendToNone"><m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId><m:Items>${body}</m:Items></m:CreateItem>`);
}

const set = (uri: string, inner: string) => `<t:SetItemField>${field(uri)}<t:CalendarItem>${inner}</t:CalendarItem></t:SetItemField>`;

/**
 * The changes that make a single item hold `fields`: what Severa carries (subject, text, privacy, place, times and
 * their zone, all-day). Attendees, categories, reminders and the rest are left as Outlook has them.
 */
export function itemChangeXml(id: string, changeKey: string, fields: EventFields): string {
  const { startMs, endMs } = instantsOf(fields);
  const updates =
    set('item:Subject', el('Subject', fields.subject)) +
    set('item:Sensitivity', el('Sensitivity', fields.isPrivate ? 'Private' : 'Normal')) +
    set('item:Body', `<t:Body BodyType="Text">${escapeText(fields.body)}</t:Body>`) +
    set('calendar:Location', el('Location', fields.location)) +
    set('calendar:StartTimeZone', zoneXml('StartTimeZone', fields.timeZone)) +
    set('calendar:EndTimeZone', zoneXml('EndTimeZone', fields.timeZone)) +
    set('calendar:IsAllDayEvent', el('IsAllDayEvent', fields.isAllDay ? 'true' : 'false')) +
    set('calendar:Start', el('Start', iso(startMs))) +
    set('calendar:End', el('End', iso(endMs)));
  return `<t:ItemChange><t:ItemId Id="${escapeXml(id)}" ChangeKey="${escapeXml(changeKey)}"/><t:Updates>${updates}</t:Updates></t:ItemChange>`;
}

export function updateItemRequest(ctx: ItemSoapContext, changes: ReadonlyArray<{ id: string; changeKey: string; fields: EventFields }>): string {
  const body = changes.map((c) => itemChangeXml(c.id, c.changeKey, c.fields)).join('');
  return envelope(ctx, `<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="NeverOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges>${body}</m:ItemChanges></m:UpdateItem>`);
}

// ---- reading answers ----

export interface ResponseMessage {
  ok: boolean;
  /** NoError, or the EWS ResponseCode. */
  code: string;
  text: string;
  node: XmlNode;
}

/** The `<operation>ResponseMessage`s of an answer (whose faults the transport already turned into errors). */
export function responseMessagesOf(root: XmlNode, operation: string, context: string): ResponseMessage[] {
  const body = child(root, 'Body');
  const response = child(body, `${operation}Response`);
  if (root.name !== 'Envelope' || !response) throw new CalendarError('bad-response', `${context}: Exchange's answer holds no ${operation}Response.`);
  return childrenNamed(child(response, 'ResponseMessages'), `${operation}ResponseMessage`).map((node) => {
    const code = (childText(node, 'ResponseCode') ?? 'NoError').trim() || 'NoError';
    return { ok: node.attrs?.ResponseClass !== 'Error' && code === 'NoError', code, text: (childText(node, 'MessageText') ?? '').trim(), node };
  });
}

/** The ItemId (Id and ChangeKey) a CreateItem or UpdateItem message names. */
export function writtenItemId(message: XmlNode): { id: string; changeKey: string } | null {
  const items = child(message, 'Items');
  const item = items?.children[0];
  const itemId = child(item, 'ItemId');
  const id = itemId?.attrs?.Id;
  return id ? { id, changeKey: itemId?.attrs?.ChangeKey ?? '' } : null;
}

