/**
 * Opaque identifiers shaped like Exchange's (base64 of a binary structure: item ids start "AAMkA", folder ids
 * "AQMkA", change keys "DwAAABYAAAA"). They encode the mailbox and item so a lookup is a map access, and a client
 * that treats them as anything but opaque strings breaks here as it would against a real server.
 */
import { createHmac } from 'node:crypto';

const ITEM_PREFIX = Buffer.from([0x00, 0x03, 0x24, 0x00]);
const FOLDER_PREFIX = Buffer.from([0x00, 0x01, 0x2e, 0x00]);
const CHANGE_KEY_PREFIX = Buffer.from([0x0f, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00]);
const SYNC_PREFIX = Buffer.from('SYNC', 'latin1');

export type IdKind = 'item' | 'occurrence' | 'deleted';
const KIND_CODES: Record<IdKind, number> = { item: 1, occurrence: 2, deleted: 3 };
const KIND_BY_CODE = new Map<number, IdKind>(Object.entries(KIND_CODES).map(([k, v]) => [v, k as IdKind]));

export interface DecodedItemId {
  mailboxGuid: string;
  kind: IdKind;
  number: number;
  /** Occurrence ids: the occurrence's original start. */
  originalStartMs?: number;
}

function guidBytes(guid: string): Buffer {
  return Buffer.from(guid.replace(/-/g, ''), 'hex');
}
function guidString(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function encodeItemId(mailboxGuid: string, kind: IdKind, number: number, originalStartMs?: number): string {
  const tail = Buffer.alloc(kind === 'occurrence' ? 13 : 5);
  tail.writeUInt8(KIND_CODES[kind], 0);
  tail.writeUInt32BE(number, 1);
  if (kind === 'occurrence') tail.writeBigInt64BE(BigInt(originalStartMs ?? 0), 5);
  return Buffer.concat([ITEM_PREFIX, guidBytes(mailboxGuid), tail]).toString('base64');
}

/** null when the text is not an id this server issued (Exchange answers ErrorInvalidIdMalformed). */
export function decodeItemId(id: string): DecodedItemId | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(id)) return null;
  const b = Buffer.from(id, 'base64');
  if (b.length !== 25 && b.length !== 33) return null;
  if (!b.subarray(0, 4).equals(ITEM_PREFIX)) return null;
  const kind = KIND_BY_CODE.get(b.readUInt8(20));
  if (!kind || (kind === 'occurrence') !== (b.length === 33)) return null;
  const out: DecodedItemId = { mailboxGuid: guidString(b.subarray(4, 20)), kind, number: b.readUInt32BE(21) };
  if (kind === 'occurrence') out.originalStartMs = Number(b.readBigInt64BE(25));
  return out;
}

export type FolderKind = 'root' | 'msgfolderroot' | 'calendar' | 'deleteditems' | 'inbox' | 'contacts' | 'tasks' | 'drafts' | 'sentitems' | 'outbox' | 'journal' | 'notes' | 'junkemail';
export const FOLDER_KINDS: readonly FolderKind[] = [
  'root',
  'msgfolderroot',
  'calendar',
  'deleteditems',
  'inbox',
  'contacts',
  'tasks',
  'drafts',
  'sentitems',
  'outbox',
  'journal',
  'notes',
  'junkemail',
];

export function encodeFolderId(mailboxGuid: string, kind: FolderKind): string {
  return Buffer.concat([FOLDER_PREFIX, guidBytes(mailboxGuid), Buffer.from([FOLDER_KINDS.indexOf(kind)])]).toString('base64');
}

export function decodeFolderId(id: string): { mailboxGuid: string; kind: FolderKind } | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(id)) return null;
  const b = Buffer.from(id, 'base64');
  if (b.length !== 21 || !b.subarray(0, 4).equals(FOLDER_PREFIX)) return null;
  const kind = FOLDER_KINDS[b.readUInt8(20)];
  return kind ? { mailboxGuid: guidString(b.subarray(4, 20)), kind } : null;
}

export function encodeChangeKey(number: number, version: number): string {
  const tail = Buffer.alloc(8);
  tail.writeUInt32BE(number, 0);
  tail.writeUInt32BE(version, 4);
  return Buffer.concat([CHANGE_KEY_PREFIX, tail]).toString('base64');
}

export function decodeChangeKey(ck: string): { number: number; version: number } | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(ck)) return null;
  const b = Buffer.from(ck, 'base64');
  if (b.length !== 16 || !b.subarray(0, 8).equals(CHANGE_KEY_PREFIX)) return null;
  return { number: b.readUInt32BE(8), version: b.readUInt32BE(12) };
}

/**
 * Sync states are signed with a key made when the simulator starts: a state from another run (or edited by hand)
 * is refused with ErrorInvalidSyncStateData instead of silently skipping changes.
 */
export function encodeSyncState(key: Buffer, mailboxGuid: string, seq: number): string {
  const body = Buffer.alloc(24);
  SYNC_PREFIX.copy(body, 0);
  guidBytes(mailboxGuid).copy(body, 4);
  body.writeUInt32BE(seq, 20);
  const mac = createHmac('sha256', key).update(body).digest().subarray(0, 12);
  return Buffer.concat([body, mac]).toString('base64');
}

export function decodeSyncState(key: Buffer, state: string): { mailboxGuid: string; seq: number } | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(state.trim())) return null;
  const b = Buffer.from(state.trim(), 'base64');
  if (b.length !== 36 || !b.subarray(0, 4).equals(SYNC_PREFIX)) return null;
  const body = b.subarray(0, 24);
  const mac = createHmac('sha256', key).update(body).digest().subarray(0, 12);
  if (!mac.equals(b.subarray(24))) return null;
  return { mailboxGuid: guidString(body.subarray(4, 20)), seq: body.readUInt32BE(20) };
}
