/**
 * The simulator's calendar data, in Graph terms: what one mailbox's calendar holds (series masters and single events,
 * each series with its modified and cancelled occurrences), the opaque ids and change keys, and the extended property ids.
 * Instants are UTC milliseconds; a zone is kept as the client named it (Windows or IANA) beside the resolved IANA zone.
 */
import { createHash } from 'node:crypto';
import type { PatternedRecurrence } from './graph-recurrence.ts';

export type Sensitivity = 'normal' | 'personal' | 'private' | 'confidential';
export const SENSITIVITIES: readonly Sensitivity[] = ['normal', 'personal', 'private', 'confidential'];
export type ShowAs = 'unknown' | 'free' | 'tentative' | 'busy' | 'oof' | 'workingElsewhere';
export const SHOW_AS: readonly ShowAs[] = ['unknown', 'free', 'tentative', 'busy', 'oof', 'workingElsewhere'];
export type Importance = 'low' | 'normal' | 'high';
export const IMPORTANCES: readonly Importance[] = ['low', 'normal', 'high'];
export type ResponseType = 'none' | 'organizer' | 'tentativelyAccepted' | 'accepted' | 'declined' | 'notResponded';
export const RESPONSE_TYPES: readonly ResponseType[] = ['none', 'organizer', 'tentativelyAccepted', 'accepted', 'declined', 'notResponded'];
export type AttendeeType = 'required' | 'optional' | 'resource';
export type BodyType = 'text' | 'html';

export interface SimAttendee {
  type: AttendeeType;
  address: string;
  name: string;
  response: ResponseType;
}

export interface SimExtendedProperty {
  /** Normalized id: `String {guid} Name X`, `String {guid} Id 0x8001` or `String 0x3A4F` (guid lower-case). */
  id: string;
  value: string;
}

/** The fields a user edits; an exception holds the ones it overrides. */
export interface EventContent {
  subject: string;
  bodyType: BodyType;
  body: string;
  startMs: number;
  endMs: number;
  /** Zone names as the client gave them (originalStartTimeZone / originalEndTimeZone). */
  startZone: string;
  endZone: string;
  isAllDay: boolean;
  location: string;
  sensitivity: Sensitivity;
  showAs: ShowAs;
  importance: Importance;
  categories: string[];
  isReminderOn: boolean;
  reminderMinutesBeforeStart: number;
  attendees: SimAttendee[];
  extendedProperties: SimExtendedProperty[];
}

export interface SimException {
  /** The occurrence's start in the pattern (UTC ms): its identity within the series. */
  originalStartMs: number;
  overrides: Partial<EventContent>;
  version: number;
  createdMs: number;
  modifiedMs: number;
}

/** A single event or a series master in one mailbox's calendar. */
export interface SimEvent extends EventContent {
  number: number;
  id: string;
  version: number;
  changeKey: string;
  /** iCalendar UID shared by the organizer's and the attendees' copies. */
  uid: string;
  organizerAddress: string;
  organizerName: string;
  isOrganizer: boolean;
  response: ResponseType;
  responseTimeMs: number | null;
  recurrence: PatternedRecurrence | null;
  exceptions: SimException[];
  /** Original starts (UTC ms) of cancelled (deleted) occurrences. */
  cancelledOccurrences: number[];
  transactionId: string | null;
  isCancelled: boolean;
  createdMs: number;
  modifiedMs: number;
  /** Mailbox change counter value of the last change (creation included). */
  lastSeq: number;
}

export function cloneEvent(e: SimEvent): SimEvent {
  return structuredClone(e);
}

// ---- ids ---------------------------------------------------------------------------------------------------------------

const ID_PREFIX = Buffer.from([0x00, 0x03, 0x24, 0x00]); // base64 "AAMkA..." like Exchange Online ids
const KIND_ITEM = 1;
const KIND_OCCURRENCE = 2;

function guidBytes(guid: string): Buffer {
  return Buffer.from(guid.replace(/-/g, ''), 'hex');
}

function toGraphBase64(b: Buffer): string {
  // Outlook REST ids are base64 with '/' written as '-' and '+' as '_' (so they fit in a URL path segment).
  return b.toString('base64').replace(/\//g, '-').replace(/\+/g, '_');
}

export function eventId(mailboxGuid: string, number: number): string {
  const n = Buffer.alloc(4);
  n.writeUInt32BE(number);
  return toGraphBase64(Buffer.concat([ID_PREFIX, guidBytes(mailboxGuid), Buffer.from([KIND_ITEM]), n]));
}

export function occurrenceId(mailboxGuid: string, number: number, originalStartMs: number): string {
  const n = Buffer.alloc(4);
  n.writeUInt32BE(number);
  const t = Buffer.alloc(8);
  t.writeBigInt64BE(BigInt(originalStartMs));
  return toGraphBase64(Buffer.concat([ID_PREFIX, guidBytes(mailboxGuid), Buffer.from([KIND_OCCURRENCE]), n, t]));
}

export type ParsedId =
  | { kind: 'event'; mailboxGuid: string; number: number }
  | { kind: 'occurrence'; mailboxGuid: string; number: number; originalStartMs: number };

/** Decodes an id made above; null when it is not one (malformed). */
export function parseId(id: string): ParsedId | null {
  if (!/^[A-Za-z0-9_=-]+$/.test(id)) return null;
  const b = Buffer.from(id.replace(/-/g, '/').replace(/_/g, '+'), 'base64');
  if (b.length < 25 || !b.subarray(0, 4).equals(ID_PREFIX)) return null;
  const hex = b.subarray(4, 20).toString('hex');
  const mailboxGuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const kind = b[20];
  const number = b.readUInt32BE(21);
  if (kind === KIND_ITEM && b.length === 25) return { kind: 'event', mailboxGuid, number };
  if (kind === KIND_OCCURRENCE && b.length === 33) return { kind: 'occurrence', mailboxGuid, number, originalStartMs: Number(b.readBigInt64BE(25)) };
  return null;
}

export function changeKeyFor(mailboxGuid: string, number: number, version: number, salt = ''): string {
  return createHash('sha256').update(`${mailboxGuid}|${number}|${version}|${salt}`).digest().subarray(0, 18).toString('base64');
}

export const etagOf = (changeKey: string): string => `W/"${changeKey}"`;

// ---- iCalendar UIDs -----------------------------------------------------------------------------------------------------

/** The fixed start of an Outlook GlobalObjectId (MS-OXOCAL PidLidGlobalObjectId), as Graph shows it in iCalUId. */
const GOID_HEADER = '040000008200E00074C5B7101A82E008';

/** A new Outlook-style UID: header, zero instance date, creation time, reserved, then 16 bytes of the given seed. */
export function newOutlookUid(seed: string): string {
  const data = createHash('sha256').update(seed).digest().subarray(0, 16).toString('hex').toUpperCase();
  return `${GOID_HEADER}00000000${'0'.repeat(16)}${'0'.repeat(16)}10000000${data}`;
}

/**
 * iCalUId of one occurrence: "different for each occurrence" (event resource docs). For an Outlook-style UID the
 * instance date goes into bytes 16..19 (year high, year low, month, day) as in a GlobalObjectId; other UIDs (from
 * other calendar systems) are given a `_yyyymmdd` suffix.
 */
export function occurrenceICalUid(uid: string, originalStartMs: number): string {
  const d = new Date(originalStartMs);
  const y = d.getUTCFullYear();
  const date = [(y >> 8) & 0xff, y & 0xff, d.getUTCMonth() + 1, d.getUTCDate()].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join('');
  if (uid.toUpperCase().startsWith(GOID_HEADER) && uid.length >= 40) return `${uid.slice(0, 32)}${date}${uid.slice(40)}`;
  return `${uid}_${date}`;
}

// ---- extended properties ------------------------------------------------------------------------------------------------

export class ExtendedPropertyIdError extends Error {}

const PROPERTY_TYPES = ['Binary', 'Boolean', 'Currency', 'CLSID', 'Double', 'Integer', 'Long', 'Object', 'Short', 'SystemTime', 'String'];

/**
 * Normalizes a single-value extended property id. Forms (singlevaluelegacyextendedproperty docs): `{type} {proptag}`,
 * `{type} {guid} Name {name}`, `{type} {guid} Id {id}`. Type and guid compare case-insensitively, the name
 * case-sensitively; the result spells the type as documented and the guid in lower case.
 */
export function normalizePropertyId(raw: string): string {
  const s = raw.trim();
  let m = /^(\w+)\s+\{([0-9a-fA-F-]{36})\}\s+(Name|Id)\s+(.+)$/i.exec(s);
  if (m) {
    const type = PROPERTY_TYPES.find((t) => t.toLowerCase() === m![1].toLowerCase());
    if (!type) throw new ExtendedPropertyIdError(`'${m[1]}' is not a MAPI property type.`);
    const kind = m[3].toLowerCase() === 'name' ? 'Name' : 'Id';
    let rest = m[4];
    if (kind === 'Id') {
      const n = /^0x[0-9a-f]+$/i.test(rest) ? parseInt(rest, 16) : /^\d+$/.test(rest) ? Number(rest) : NaN;
      if (!Number.isFinite(n)) throw new ExtendedPropertyIdError(`'${rest}' is not a property id.`);
      rest = `0x${n.toString(16)}`;
    }
    return `${type} {${m[2].toLowerCase()}} ${kind} ${rest}`;
  }
  m = /^(\w+)\s+(0x[0-9a-fA-F]{1,4})$/.exec(s);
  if (m) {
    const type = PROPERTY_TYPES.find((t) => t.toLowerCase() === m![1].toLowerCase());
    if (!type) throw new ExtendedPropertyIdError(`'${m[1]}' is not a MAPI property type.`);
    return `${type} 0x${parseInt(m[2], 16).toString(16)}`;
  }
  throw new ExtendedPropertyIdError(`'${raw}' is not a valid extended property id.`);
}

export function sameProperty(a: string, b: string): boolean {
  try {
    return normalizePropertyId(a) === normalizePropertyId(b);
  } catch {
    return false;
  }
}
