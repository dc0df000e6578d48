/**
 * What every EWS operation handler works with: the request context, resolving folder and item ids against the
 * request's mailbox, the view of an item (or occurrence) that is rendered, and per-item response messages (a per-item
 * problem answers that item and the rest of the batch goes on; a request-level problem throws a fault EwsError).
 */
import type { ItemShape, ItemView, RenderContext } from './calendar-item-rendering.ts';
import { occurrenceData } from './calendar-item-rendering.ts';
import { schemaError } from './schema-validation.ts';
import type { IncomingHttpHeaders } from 'node:http';
import type { Mailbox, Principal } from './directory.ts';
import type { NotificationHub } from './notification-hub.ts';
import type { EwsService } from './ews-service.ts';
import type { EwsDifferKind } from './fault-injection.ts';
import type { FolderKind } from './item-ids.ts';
import { FOLDER_KINDS, decodeFolderId, decodeItemId, encodeFolderId, encodeItemId } from './item-ids.ts';
import type { StoredItem } from './mailbox-calendar.ts';
import { lastOccurrence, occurrenceAt, occurrenceByIndex } from './recurrence.ts';
import type { ApiVersion } from './soap-envelope.ts';
import { EwsError, TYPES_NS, errorMessage, ewsDateTime } from './soap-envelope.ts';
import type { XmlElement } from './xml-parser.ts';
import { child, childText } from './xml-parser.ts';

const T = TYPES_NS;

export interface RequestContext {
  service: EwsService;
  version: ApiVersion;
  principal: Principal;
  /** The mailbox the request acts on: the impersonated one, else the caller's own (none for a service account). */
  mailbox: Mailbox | undefined;
  timeZoneContext: string | undefined;
  nowMs: number;
  /** The HTTP request's headers (the affinity headers notifications are routed by). */
  requestHeaders?: IncomingHttpHeaders;
  /** Headers the answer carries besides the usual ones (Set-Cookie: X-BackEndOverrideCookie). */
  responseHeaders?: Record<string, string>;
  /** Streaming subscriptions and connections (notification-hub.ts). */
  notifications?: NotificationHub;
  /** "A server that differs": decides, per write, whether the server keeps it differently (seeded; fault-injection.ts). */
  differs?: (kind: EwsDifferKind) => boolean;
}

export type OperationHandler = (body: XmlElement, ctx: RequestContext) => string;

// ---------------------------------------------------------------------------------------------------------------
// Folders and ids

export interface FolderRef {
  mailbox: Mailbox;
  kind: FolderKind;
}

export function requireMailbox(ctx: RequestContext): Mailbox {
  if (!ctx.mailbox) {
    throw new EwsError(
      'ErrorMissingEmailAddress',
      'When making a request as an account that does not have a mailbox, you must specify the mailbox primary SMTP address for any distinguished folder Ids.',
    );
  }
  return ctx.mailbox;
}

export function resolveFolder(e: XmlElement, ctx: RequestContext): FolderRef {
  if (e.name === 'DistinguishedFolderId') {
    const id = e.attrs.Id ?? '';
    if (!(FOLDER_KINDS as readonly string[]).includes(id)) {
      // Valid EWS names we keep no folder for (e.g. 'voicemail') are simply not found.
      if (/^[a-z]+$/.test(id)) throw new EwsError('ErrorFolderNotFound');
      throw schemaError(`The value '${id}' is invalid for DistinguishedFolderId/@Id.`);
    }
    const addr = childText(child(e, T, 'Mailbox'), T, 'EmailAddress');
    if (addr && addr.trim()) {
      const target = ctx.service.directory.mailboxByAddress(addr);
      if (!target) throw new EwsError('ErrorNonExistentMailbox', `The SMTP address has no mailbox associated with it.`);
      if (target !== ctx.mailbox) throw new EwsError('ErrorAccessDenied', `Access is denied. Check credentials and try again.`);
      return { mailbox: target, kind: id as FolderKind };
    }
    return { mailbox: requireMailbox(ctx), kind: id as FolderKind };
  }
  if (e.name === 'FolderId') {
    const d = decodeFolderId(e.attrs.Id ?? '');
    if (!d) throw new EwsError('ErrorInvalidIdMalformed');
    const mb = ctx.service.directory.mailboxByGuid(d.mailboxGuid);
    if (!mb) throw new EwsError('ErrorFolderNotFound');
    if (mb !== ctx.mailbox) throw new EwsError('ErrorAccessDenied');
    return { mailbox: mb, kind: d.kind };
  }
  throw schemaError(`The element '${e.name}' is not a folder id.`);
}

export function folderIdsIn(container: XmlElement | undefined): XmlElement[] {
  return (container?.children ?? []).filter((c) => c.ns === T && (c.name === 'FolderId' || c.name === 'DistinguishedFolderId'));
}

export const FOLDER_CHANGE_KEY = 'AQAAABYAAAA=';

export interface ItemTarget {
  mailbox: Mailbox;
  stored: StoredItem;
  folder: 'calendar' | 'deleteditems';
  /** Set when the target is one occurrence of `stored` (a series master). */
  occurrence?: { originalStartMs: number; startMs: number; endMs: number; index: number };
  changeKey?: string;
}

function findOccurrence(master: StoredItem, originalStartMs: number): { index: number; startMs: number; endMs: number } | null {
  const d = master.data;
  if (!d.recurrence) return null;
  return occurrenceAt({ startMs: master.startMs, endMs: master.endMs, isAllDay: d.isAllDay, timeZone: d.timeZone, recurrence: d.recurrence }, originalStartMs);
}

export function resolveItem(e: XmlElement, ctx: RequestContext): ItemTarget {
  const dir = ctx.service.directory;
  const lookup = (id: string): { mailbox: Mailbox; decoded: NonNullable<ReturnType<typeof decodeItemId>> } => {
    const decoded = decodeItemId(id);
    if (!decoded) throw new EwsError('ErrorInvalidIdMalformed');
    const mb = dir.mailboxByGuid(decoded.mailboxGuid);
    if (!mb || mb !== ctx.mailbox) throw new EwsError('ErrorItemNotFound');
    return { mailbox: mb, decoded };
  };
  const master = (mb: Mailbox, number: number): StoredItem => {
    const s = mb.calendar.items.get(number);
    if (!s) throw new EwsError('ErrorItemNotFound');
    return s;
  };
  if (e.name === 'ItemId') {
    const { mailbox, decoded } = lookup(e.attrs.Id ?? '');
    const ck = e.attrs.ChangeKey;
    if (decoded.kind === 'deleted') {
      const s = mailbox.calendar.deletedFolder.get(decoded.number);
      if (!s) throw new EwsError('ErrorItemNotFound');
      return { mailbox, stored: s, folder: 'deleteditems', changeKey: ck };
    }
    const s = master(mailbox, decoded.number);
    if (decoded.kind === 'occurrence') {
      const orig = decoded.originalStartMs!;
      const occ = findOccurrence(s, orig);
      if (!occ || s.data.deletedOccurrences.includes(ewsDateTime(orig))) throw new EwsError('ErrorItemNotFound');
      return { mailbox, stored: s, folder: 'calendar', occurrence: { originalStartMs: orig, ...occ }, changeKey: ck };
    }
    return { mailbox, stored: s, folder: 'calendar', changeKey: ck };
  }
  if (e.name === 'OccurrenceItemId') {
    const { mailbox, decoded } = lookup(e.attrs.RecurringMasterId ?? '');
    if (decoded.kind !== 'item') throw new EwsError('ErrorItemNotFound');
    const s = master(mailbox, decoded.number);
    const rawIndex = e.attrs.InstanceIndex ?? '';
    if (!/^\d+$/.test(rawIndex)) throw schemaError(`The value '${rawIndex}' is invalid for OccurrenceItemId/@InstanceIndex.`);
    const d = s.data;
    if (!d.recurrence) throw new EwsError('ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange');
    // A server that differs lands an occurrence addressed by its index on the next one.
    const index = Number(rawIndex) + (ctx.differs?.('misplaceOccurrence') ? 1 : 0);
    const occ = occurrenceByIndex({ startMs: s.startMs, endMs: s.endMs, isAllDay: d.isAllDay, timeZone: d.timeZone, recurrence: d.recurrence }, index);
    if (!occ) throw new EwsError('ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange');
    if (d.deletedOccurrences.some((x) => Date.parse(x) === occ.startMs)) throw new EwsError('ErrorCalendarOccurrenceIsDeletedFromRecurrence');
    return { mailbox, stored: s, folder: 'calendar', occurrence: { originalStartMs: occ.startMs, ...occ }, changeKey: e.attrs.ChangeKey };
  }
  if (e.name === 'RecurringMasterItemId') {
    const { mailbox, decoded } = lookup(e.attrs.OccurrenceId ?? '');
    if (decoded.kind === 'deleted') throw new EwsError('ErrorItemNotFound');
    const s = master(mailbox, decoded.number);
    if (!s.data.recurrence) throw new EwsError('ErrorItemNotFound', 'The item is not part of a recurring series.');
    return { mailbox, stored: s, folder: 'calendar', changeKey: e.attrs.ChangeKey };
  }
  throw schemaError(`The element '${e.name}' is not an item id.`);
}

export function itemIdsIn(container: XmlElement | undefined): XmlElement[] {
  return (container?.children ?? []).filter((c) => c.ns === T && (c.name === 'ItemId' || c.name === 'OccurrenceItemId' || c.name === 'RecurringMasterItemId'));
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

function occurrenceIdFn(mb: Mailbox, s: StoredItem): (orig: number) => string {
  return (orig) => encodeItemId(mb.guid, 'occurrence', s.number, orig);
}

export function viewOf(t: ItemTarget): ItemView {
  const s = t.stored;
  if (t.occurrence) {
    const orig = t.occurrence.originalStartMs;
    const ov = s.data.modifiedOccurrences.find((o) => Date.parse(o.originalStart) === orig);
    const startMs = ov?.start ? Date.parse(ov.start) : t.occurrence.startMs;
    const endMs = ov?.end ? Date.parse(ov.end) : t.occurrence.endMs;
    return {
      data: occurrenceData(s.data, startMs, endMs, ov),
      id: encodeItemId(t.mailbox.guid, 'occurrence', s.number, orig),
      changeKey: s.data.changeKey,
      type: ov ? 'Exception' : 'Occurrence',
      originalStartMs: orig,
    };
  }
  const view: ItemView = { data: s.data, id: s.data.id, changeKey: s.data.changeKey, type: s.data.recurrence ? 'RecurringMaster' : 'Single' };
  if (s.data.recurrence && t.folder === 'calendar') {
    view.occurrenceId = occurrenceIdFn(t.mailbox, s);
    const timing = { startMs: s.startMs, endMs: s.endMs, isAllDay: s.data.isAllDay, timeZone: s.data.timeZone, recurrence: s.data.recurrence };
    view.firstOccurrence = { startMs: s.startMs, endMs: s.endMs };
    view.lastOccurrence = lastOccurrence(timing);
  }
  return view;
}

export function renderContext(ctx: RequestContext, mb: Mailbox, shape: ItemShape, summaryOnly: boolean, folder: FolderKind = 'calendar'): RenderContext {
  return {
    version: ctx.version,
    shape,
    summaryOnly,
    nameFor: (a) => ctx.service.directory.nameFor(a),
    parentFolderId: encodeFolderId(mb.guid, folder),
    parentFolderChangeKey: FOLDER_CHANGE_KEY,
  };
}

export function perItem(operation: string, items: XmlElement[], fn: (e: XmlElement) => string, errorTrailing = ''): string[] {
  return items.map((e) => {
    try {
      return fn(e);
    } catch (err) {
      if (err instanceof EwsError && !err.fault) return errorMessage(operation, err.code, err.message, errorTrailing);
      throw err;
    }
  });
}
