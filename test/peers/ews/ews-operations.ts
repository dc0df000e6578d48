/**
 * The EWS operations: each reads its request element and returns the `<m:FooResponse>` body. Per-item problems
 * become per-item response messages (the rest of a batch goes on); request-level problems throw a fault EwsError.
 */
import type { SimCalendarItem, SimOccurrenceOverride } from './calendar-model.ts';
import { cloneItem, extendedPropertyKey } from './calendar-model.ts';
import type { ItemDraft, ItemShape, ItemView, RenderContext } from './calendar-item-xml.ts';
import {
  READ_ONLY_URIS,
  applyDraft,
  occurrenceData,
  readExtendedFieldUri,
  readItemElement,
  readItemShape,
  renderCalendarItem,
  schemaError,
} from './calendar-item-xml.ts';
import type { IncomingHttpHeaders } from 'node:http';
import type { Mailbox, Principal } from './directory.ts';
import type { NotificationHub } from './notification-hub.ts';
import type { EwsService } from './ews-service.ts';
import type { EwsDifferKind } from './fault-injection.ts';
import type { FolderKind } from './item-ids.ts';
import { FOLDER_KINDS, decodeChangeKey, decodeFolderId, decodeItemId, decodeSyncState, encodeFolderId, encodeItemId, encodeSyncState } from './item-ids.ts';
import type { DeleteMode, StoredItem, ViewEntry } from './mailbox-calendar.ts';
import { extendedLookupKey } from './mailbox-calendar.ts';
import { lastOccurrence, occurrenceAt, occurrenceByIndex } from './recurrence.ts';
import { evaluateRestriction, indexableTerm, readRestriction, sortItems } from './restriction.ts';
import type { ApiVersion } from './soap-envelope.ts';
import { EwsError, MESSAGES_NS, TYPES_NS, attrEscape, el, errorMessage, ewsDateTime, operationResponse, successMessage, xmlEscape } from './soap-envelope.ts';
import { ianaForWindowsId, parseEwsDateTime, windowsZoneFor } from './time-zones.ts';
import type { XmlElement } from './xml-parser.ts';
import { child, childText, childrenNamed } from './xml-parser.ts';

const T = TYPES_NS;
const M = MESSAGES_NS;

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

function folderIdsIn(container: XmlElement | undefined): XmlElement[] {
  return (container?.children ?? []).filter((c) => c.ns === T && (c.name === 'FolderId' || c.name === 'DistinguishedFolderId'));
}

const FOLDER_CHANGE_KEY = 'AQAAABYAAAA=';

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

function resolveItem(e: XmlElement, ctx: RequestContext): ItemTarget {
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

function itemIdsIn(container: XmlElement | undefined): XmlElement[] {
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

function renderContext(ctx: RequestContext, mb: Mailbox, shape: ItemShape, summaryOnly: boolean, folder: FolderKind = 'calendar'): RenderContext {
  return {
    version: ctx.version,
    shape,
    summaryOnly,
    nameFor: (a) => ctx.service.directory.nameFor(a),
    parentFolderId: encodeFolderId(mb.guid, folder),
    parentFolderChangeKey: FOLDER_CHANGE_KEY,
  };
}

function perItem(operation: string, items: XmlElement[], fn: (e: XmlElement) => string, errorTrailing = ''): string[] {
  return items.map((e) => {
    try {
      return fn(e);
    } catch (err) {
      if (err instanceof EwsError && !err.fault) return errorMessage(operation, err.code, err.message, errorTrailing);
      throw err;
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// GetItem

const getItem: OperationHandler = (body, ctx) => {
  const shape = readItemShape(child(body, M, 'ItemShape'));
  const ids = itemIdsIn(child(body, M, 'ItemIds'));
  if (!ids.length) throw schemaError("The element 'ItemIds' has incomplete content.");
  requireMailbox(ctx);
  const messages = perItem(
    'GetItem',
    ids,
    (e) => {
      const t = resolveItem(e, ctx);
      const rc = renderContext(ctx, t.mailbox, shape, false, t.folder);
      return successMessage('GetItem', `<m:Items>${renderCalendarItem(viewOf(t), rc)}</m:Items>`);
    },
    '<m:Items/>',
  );
  return operationResponse('GetItem', messages);
};

// ---------------------------------------------------------------------------------------------------------------
// CreateItem

const SEND_INVITATIONS = ['SendToNone', 'SendOnlyToAll', 'SendToAllAndSaveCopy'];

function itemElements(container: XmlElement | undefined): XmlElement[] {
  return (container?.children ?? []).filter((c) => c.ns === T);
}

const createItem: OperationHandler = (body, ctx) => {
  const send = body.attrs.SendMeetingInvitations;
  if (send !== undefined && !SEND_INVITATIONS.includes(send)) throw schemaError(`The value '${send}' is invalid for SendMeetingInvitations.`);
  const saved = folderIdsIn(child(body, M, 'SavedItemFolderId'))[0];
  const items = itemElements(child(body, M, 'Items'));
  if (!items.length) throw schemaError("The element 'Items' has incomplete content.");
  const folder = saved ? resolveFolder(saved, ctx) : { mailbox: requireMailbox(ctx), kind: 'calendar' as FolderKind };
  const messages = perItem(
    'CreateItem',
    items,
    (e) => {
      if (e.name !== 'CalendarItem') throw new EwsError('ErrorInvalidRequest', `The simulator stores calendar items only, not ${e.name}.`);
      if (send === undefined) throw new EwsError('ErrorSendMeetingInvitationsRequired');
      if (folder.kind !== 'calendar') throw new EwsError('ErrorInvalidRequest', 'Calendar items can be created in the calendar folder only.');
      const draft = readItemElement(e);
      if (draft.start === undefined || draft.end === undefined) throw new EwsError('ErrorInvalidRequest', 'A calendar item needs Start and End.');
      const mb = folder.mailbox;
      const item = ctx.service.blankItem(mb, {}, ctx.nowMs);
      item.timeZone = ctx.timeZoneContext ?? 'Etc/UTC';
      item.reminderIsSet = true;
      applyDraft(draft, item, { timeZoneContext: ctx.timeZoneContext, nowMs: ctx.nowMs });
      if (item.location && ctx.differs?.('dropLocation')) item.location = '';
      const stored = ctx.service.addItem(mb, item, ctx.nowMs, send !== 'SendToNone');
      return successMessage('CreateItem', `<m:Items><t:CalendarItem><t:ItemId Id="${attrEscape(stored.data.id)}" ChangeKey="${attrEscape(stored.data.changeKey)}"/></t:CalendarItem></m:Items>`);
    },
    '<m:Items/>',
  );
  return operationResponse('CreateItem', messages);
};

// ---------------------------------------------------------------------------------------------------------------
// UpdateItem

const CONFLICT_MODES = ['NeverOverwrite', 'AutoResolve', 'AlwaysOverwrite'];

/** Default values a DeleteItemField restores. */
const DELETABLE: Record<string, (d: SimCalendarItem) => void> = {
  'item:Subject': (d) => (d.subject = ''),
  'item:Body': (d) => (d.body = ''),
  'item:Categories': (d) => (d.categories = []),
  'item:ReminderMinutesBeforeStart': (d) => (d.reminderMinutesBeforeStart = 15),
  'item:Sensitivity': (d) => (d.sensitivity = 'Normal'),
  'calendar:Location': (d) => (d.location = ''),
  'calendar:RequiredAttendees': (d) => (d.requiredAttendees = []),
  'calendar:OptionalAttendees': (d) => (d.optionalAttendees = []),
  'calendar:Resources': () => undefined,
  'calendar:LegacyFreeBusyStatus': (d) => (d.legacyFreeBusyStatus = 'Busy'),
  'calendar:Recurrence': (d) => {
    d.recurrence = null;
    d.modifiedOccurrences = [];
    d.deletedOccurrences = [];
  },
};

const DELETE_KEYS: Record<string, string> = {
  'item:Subject': 'subject',
  'item:Body': 'body',
  'item:Categories': 'categories',
  'item:ReminderMinutesBeforeStart': 'reminderMinutesBeforeStart',
  'item:Sensitivity': 'sensitivity',
  'calendar:Location': 'location',
  'calendar:RequiredAttendees': 'requiredAttendees',
  'calendar:OptionalAttendees': 'optionalAttendees',
  'calendar:Resources': 'resources',
  'calendar:LegacyFreeBusyStatus': 'legacyFreeBusyStatus',
  'calendar:Recurrence': 'recurrence',
};

/** Fields an occurrence may differ in from its series. */
const OCCURRENCE_FIELDS = new Set(['subject', 'start', 'end', 'location', 'body', 'sensitivity', 'legacyFreeBusyStatus', 'timeZone', 'reminderIsSet', 'reminderMinutesBeforeStart', 'categories', 'extendedProperties', 'isAllDay']);

interface ParsedChange {
  draft: ItemDraft;
  deletes: string[];
  deleteExtended: string[];
  appends: ItemDraft[];
  keys: Set<string>;
}

function readUpdates(updates: XmlElement | undefined): ParsedChange {
  const out: ParsedChange = { draft: { keys: new Set() }, deletes: [], deleteExtended: [], appends: [], keys: new Set() };
  for (const u of updates?.children ?? []) {
    if (u.ns !== T) continue;
    const fieldUri = child(u, T, 'FieldURI');
    const extUri = child(u, T, 'ExtendedFieldURI');
    const indexed = child(u, T, 'IndexedFieldURI');
    if (!fieldUri && !extUri && !indexed) throw schemaError(`${u.name} needs a FieldURI or ExtendedFieldURI.`);
    const uri = fieldUri?.attrs.FieldURI ?? '';
    if (fieldUri && READ_ONLY_URIS.has(uri)) throw new EwsError('ErrorInvalidPropertySet', `The property ${uri} is read-only.`);
    const wrapper = u.children.find((c) => c.ns === T && c !== fieldUri && c !== extUri && c !== indexed);
    if (u.name === 'SetItemField' || u.name === 'AppendToItemField') {
      if (!wrapper) throw schemaError(`${u.name} needs an item element with the new value.`);
      if (indexed) continue;
      const draft = readItemElement(wrapper);
      if (draft.keys.size === 0 && fieldUri) {
        // A field we store nothing for (e.g. item:Importance): accepted, as it is settable on a real server.
        continue;
      }
      if (u.name === 'AppendToItemField') {
        const ok = [...draft.keys].every((k) => k === 'body' || k === 'requiredAttendees' || k === 'optionalAttendees' || k === 'categories');
        if (!ok) throw new EwsError('ErrorInvalidPropertyAppend', `The property ${uri} cannot be appended to.`);
        out.appends.push(draft);
      } else {
        mergeDraft(out.draft, draft);
      }
      for (const k of draft.keys) out.keys.add(k);
    } else if (u.name === 'DeleteItemField') {
      if (extUri) {
        out.deleteExtended.push(extendedPropertyKey(readExtendedFieldUri(extUri)));
        out.keys.add('extendedProperties');
      } else if (fieldUri) {
        if (!DELETABLE[uri]) {
          if (uri === 'calendar:Start' || uri === 'calendar:End' || uri === 'calendar:IsAllDayEvent') {
            throw new EwsError('ErrorInvalidPropertyDelete', `The property ${uri} cannot be deleted.`);
          }
          continue;
        }
        out.deletes.push(uri);
        out.keys.add(DELETE_KEYS[uri]);
      }
    } else {
      throw schemaError(`The element '${u.name}' is not valid in Updates.`);
    }
  }
  return out;
}

function mergeDraft(into: ItemDraft, from: ItemDraft): void {
  for (const [k, v] of Object.entries(from) as Array<[keyof ItemDraft, unknown]>) {
    if (k === 'keys') continue;
    if (k === 'extendedProperties') {
      into.extendedProperties = [...(into.extendedProperties ?? []), ...(v as NonNullable<ItemDraft['extendedProperties']>)];
      continue;
    }
    (into as unknown as Record<string, unknown>)[k] = v;
  }
  for (const k of from.keys) into.keys.add(k);
}

function applyChange(change: ParsedChange, item: SimCalendarItem, ctx: RequestContext): void {
  for (const uri of change.deletes) DELETABLE[uri](item);
  if (change.deleteExtended.length) item.extendedProperties = item.extendedProperties.filter((p) => !change.deleteExtended.includes(extendedPropertyKey(p)));
  applyDraft(change.draft, item, { timeZoneContext: ctx.timeZoneContext, nowMs: ctx.nowMs });
  for (const a of change.appends) {
    if (a.body) item.body += a.body.text;
    if (a.requiredAttendees) item.requiredAttendees = [...new Set([...item.requiredAttendees, ...a.requiredAttendees])];
    if (a.optionalAttendees) item.optionalAttendees = [...new Set([...item.optionalAttendees, ...a.optionalAttendees])];
    if (a.categories) item.categories = [...item.categories, ...a.categories];
  }
}

function checkChangeKey(t: ItemTarget, mode: string, keys: Set<string>): void {
  const s = t.stored;
  if (t.changeKey === undefined || t.changeKey === '') {
    if (mode === 'AlwaysOverwrite') return;
    throw new EwsError('ErrorChangeKeyRequiredForWriteOperations');
  }
  const ck = decodeChangeKey(t.changeKey);
  if (!ck || ck.number !== s.number || ck.version > s.version) throw new EwsError('ErrorInvalidChangeKey');
  if (ck.version === s.version || mode === 'AlwaysOverwrite') return;
  if (mode === 'NeverOverwrite') throw new EwsError('ErrorIrresolvableConflict');
  // AutoResolve: a stale key is fine unless someone changed one of the same fields since that version.
  for (const k of keys) {
    const v = s.fieldVersions?.get(k === 'timeZone' ? 'start' : k) ?? 0;
    if (v > ck.version || (k === 'start' && (s.fieldVersions?.get('timeZone') ?? 0) > ck.version)) throw new EwsError('ErrorIrresolvableConflict');
  }
  // Changes to an occurrence's series count too.
  if (t.occurrence && (s.fieldVersions?.get('modifiedOccurrences') ?? 0) > ck.version) throw new EwsError('ErrorIrresolvableConflict');
}

const updateItem: OperationHandler = (body, ctx) => {
  const mode = body.attrs.ConflictResolution ?? 'AutoResolve';
  if (!CONFLICT_MODES.includes(mode)) throw schemaError(`The value '${mode}' is invalid for ConflictResolution.`);
  const send = body.attrs.SendMeetingInvitationsOrCancellations;
  if (send !== undefined && !['SendToNone', 'SendOnlyToAll', 'SendOnlyToChanged', 'SendToAllAndSaveCopy', 'SendToChangedAndSaveCopy'].includes(send)) {
    throw schemaError(`The value '${send}' is invalid for SendMeetingInvitationsOrCancellations.`);
  }
  const changes = childrenNamed(child(body, M, 'ItemChanges'), T, 'ItemChange');
  if (!changes.length) throw schemaError("The element 'ItemChanges' has incomplete content.");
  requireMailbox(ctx);
  const messages = perItem(
    'UpdateItem',
    changes,
    (c) => {
      const idEl = itemIdsIn(c)[0];
      if (!idEl) throw schemaError('ItemChange needs an ItemId.');
      const t = resolveItem(idEl, ctx);
      if (t.folder !== 'calendar') throw new EwsError('ErrorInvalidOperation', 'Items in Deleted Items cannot be changed here.');
      if (send === undefined) throw new EwsError('ErrorSendMeetingInvitationsOrCancellationsRequired');
      const change = readUpdates(child(c, T, 'Updates'));
      checkChangeKey(t, mode, change.keys);
      const s = t.stored;
      if (t.occurrence) {
        if (change.keys.has('recurrence')) throw new EwsError('ErrorInvalidPropertySet', 'An occurrence has no recurrence of its own.');
        const orig = t.occurrence.originalStartMs;
        const ov = s.data.modifiedOccurrences.find((o) => Date.parse(o.originalStart) === orig);
        const current = occurrenceData(s.data, ov?.start ? Date.parse(ov.start) : t.occurrence.startMs, ov?.end ? Date.parse(ov.end) : t.occurrence.endMs, ov);
        applyChange(change, current, ctx);
        const patch: Partial<SimOccurrenceOverride> = {};
        for (const k of change.keys) {
          if (!OCCURRENCE_FIELDS.has(k)) continue;
          if (k === 'subject') patch.subject = current.subject;
          if (k === 'start' || k === 'end' || k === 'isAllDay' || k === 'timeZone') {
            patch.start = current.start;
            patch.end = current.end;
          }
          if ((k === 'start' || k === 'end') && patch.start !== undefined && ctx.differs?.('resetExceptionTimes')) {
            // A server that differs keeps the occurrence at the pattern's times.
            patch.start = ewsDateTime(t.occurrence.startMs);
            patch.end = ewsDateTime(t.occurrence.endMs);
          }
          if (k === 'location') patch.location = current.location;
          if (k === 'body') {
            patch.body = current.body;
            patch.bodyType = current.bodyType;
          }
          if (k === 'sensitivity') patch.sensitivity = current.sensitivity;
          if (k === 'legacyFreeBusyStatus') patch.legacyFreeBusyStatus = current.legacyFreeBusyStatus;
        }
        ctx.service.upsertOverride(t.mailbox, s, orig, patch, ctx.nowMs);
        if (send !== 'SendToNone' && s.data.organizer === t.mailbox.primary) ctx.service.syncAttendeeCopies(s.data, ctx.nowMs);
        const id = encodeItemId(t.mailbox.guid, 'occurrence', s.number, orig);
        return successMessage('UpdateItem', `<m:Items><t:CalendarItem><t:ItemId Id="${attrEscape(id)}" ChangeKey="${attrEscape(s.data.changeKey)}"/></t:CalendarItem></m:Items><m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>`);
      }
      const next = cloneItem(s.data);
      applyChange(change, next, ctx);
      // A server that differs answers a series' new subject as done and keeps the old one.
      if (s.data.recurrence && change.keys.has('subject') && next.subject !== s.data.subject && ctx.differs?.('keepSeriesSubject')) next.subject = s.data.subject;
      ctx.service.commitUpdate(t.mailbox, s, [...change.keys], next, ctx.nowMs, send !== 'SendToNone');
      return successMessage('UpdateItem', `<m:Items><t:CalendarItem><t:ItemId Id="${attrEscape(s.data.id)}" ChangeKey="${attrEscape(s.data.changeKey)}"/></t:CalendarItem></m:Items><m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>`);
    },
    '<m:Items/>',
  );
  return operationResponse('UpdateItem', messages);
};

// ---------------------------------------------------------------------------------------------------------------
// DeleteItem

const deleteItem: OperationHandler = (body, ctx) => {
  const type = body.attrs.DeleteType;
  if (type === undefined) throw schemaError("The required attribute 'DeleteType' is missing.");
  if (!['HardDelete', 'SoftDelete', 'MoveToDeletedItems'].includes(type)) throw schemaError(`The value '${type}' is invalid for DeleteType.`);
  const cancel = body.attrs.SendMeetingCancellations;
  if (cancel !== undefined && !SEND_INVITATIONS.includes(cancel)) throw schemaError(`The value '${cancel}' is invalid for SendMeetingCancellations.`);
  const ids = itemIdsIn(child(body, M, 'ItemIds'));
  if (!ids.length) throw schemaError("The element 'ItemIds' has incomplete content.");
  requireMailbox(ctx);
  const messages = perItem('DeleteItem', ids, (e) => {
    const t = resolveItem(e, ctx);
    const mb = t.mailbox;
    if (t.folder === 'deleteditems') {
      if (type !== 'MoveToDeletedItems') {
        mb.calendar.deletedFolder.delete(t.stored.number);
        if (type === 'SoftDelete') mb.calendar.recoverable.push(cloneItem(t.stored.data));
      }
      return successMessage('DeleteItem', '');
    }
    if (cancel === undefined) throw new EwsError('ErrorSendMeetingCancellationsRequired');
    if (t.occurrence) {
      ctx.service.deleteOccurrence(mb, t.stored, t.occurrence.originalStartMs, ctx.nowMs);
      if (cancel !== 'SendToNone' && t.stored.data.organizer === mb.primary) ctx.service.syncAttendeeCopies(t.stored.data, ctx.nowMs);
    } else {
      ctx.service.deleteItem(mb, t.stored, type as DeleteMode, ctx.nowMs, cancel !== 'SendToNone');
    }
    return successMessage('DeleteItem', '');
  });
  return operationResponse('DeleteItem', messages);
};

// ---------------------------------------------------------------------------------------------------------------
// FindItem

const TWO_YEARS_MS = (2 * 365 + 1) * 86_400_000;

function readCount(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim())) throw schemaError(`The value '${text}' is invalid for ${what}.`);
  return Number(text.trim());
}

const findItem: OperationHandler = (body, ctx) => {
  const traversal = body.attrs.Traversal ?? 'Shallow';
  if (!['Shallow', 'SoftDeleted', 'Associated'].includes(traversal)) throw schemaError(`The value '${traversal}' is invalid for Traversal.`);
  const shape = readItemShape(child(body, M, 'ItemShape'));
  const folders = folderIdsIn(child(body, M, 'ParentFolderIds'));
  if (!folders.length) throw schemaError("The element 'ParentFolderIds' has incomplete content.");
  const calView = child(body, M, 'CalendarView');
  const pageView = child(body, M, 'IndexedPageItemView');
  const restrictionEl = child(body, M, 'Restriction');
  const restriction = restrictionEl ? readRestriction(restrictionEl) : null;
  const sortOrder = child(body, M, 'SortOrder');
  const limit = ctx.service.findCountLimit;
  const messages = perItem('FindItem', folders, (fe) => {
    const folder = resolveFolder(fe, ctx);
    const mb = folder.mailbox;
    const rc = renderContext(ctx, mb, shape, true, folder.kind);
    if (calView) {
      if (restriction) throw new EwsError('ErrorInvalidRestriction', 'Restrictions are not supported with a CalendarView.');
      if (folder.kind !== 'calendar') throw new EwsError('ErrorInvalidOperation', 'A CalendarView needs a calendar folder.');
      const zone = ctx.timeZoneContext ?? 'Etc/UTC';
      const startMs = parseEwsDateTime(calView.attrs.StartDate ?? '', zone);
      const endMs = parseEwsDateTime(calView.attrs.EndDate ?? '', zone);
      if (Number.isNaN(startMs) || Number.isNaN(endMs)) throw schemaError('CalendarView needs StartDate and EndDate date-times.');
      if (endMs < startMs) throw new EwsError('ErrorCalendarEndDateIsEarlierThanStartDate', 'EndDate is earlier than StartDate');
      if (endMs - startMs > TWO_YEARS_MS) throw new EwsError('ErrorCalendarViewRangeTooBig');
      const max = readCount(calView.attrs.MaxEntriesReturned, 'CalendarView/@MaxEntriesReturned');
      if (max === 0) throw schemaError('MaxEntriesReturned must be at least 1.');
      const entries = mb.calendar.view(startMs, endMs);
      const cap = Math.min(max ?? Infinity, limit);
      const shown = entries.slice(0, cap);
      const xml = shown.map((v) => renderCalendarItem(viewOfEntry(mb, v), rc)).join('');
      return successMessage(
        'FindItem',
        `<m:RootFolder TotalItemsInView="${entries.length}" IncludesLastItemInRange="${shown.length === entries.length}"><t:Items>${xml}</t:Items></m:RootFolder>`,
      );
    }
    let stored: StoredItem[];
    const term = restriction && folder.kind === 'calendar' ? indexableTerm(restriction) : null;
    if (term) stored = mb.calendar.withExtendedValue(extendedLookupKey(term.key, term.value));
    else if (folder.kind === 'calendar') stored = [...mb.calendar.items.values()];
    else if (folder.kind === 'deleteditems') stored = [...mb.calendar.deletedFolder.values()];
    else stored = [];
    if (traversal !== 'Shallow') stored = [];
    if (restriction) stored = stored.filter((s) => evaluateRestriction(restriction, s.data));
    stored = sortItems(stored, sortOrder);
    const max = readCount(pageView?.attrs.MaxEntriesReturned, 'IndexedPageItemView/@MaxEntriesReturned') ?? Infinity;
    const offset = readCount(pageView?.attrs.Offset, 'IndexedPageItemView/@Offset') ?? 0;
    const fromEnd = pageView?.attrs.BasePoint === 'End';
    const total = stored.length;
    const count = Math.min(max, limit);
    let page: StoredItem[];
    if (fromEnd) page = stored.slice(Math.max(0, total - offset - count), Math.max(0, total - offset));
    else page = stored.slice(offset, offset + count);
    const last = fromEnd ? total - offset - count <= 0 : offset + page.length >= total;
    const folderName = folder.kind === 'deleteditems' ? 'deleteditems' : 'calendar';
    const xml = page.map((s) => renderCalendarItem(viewOf({ mailbox: mb, stored: s, folder: folderName }), rc)).join('');
    const nextOffset = fromEnd ? total - offset - page.length : offset + page.length;
    return successMessage(
      'FindItem',
      `<m:RootFolder IndexedPagingOffset="${nextOffset}" TotalItemsInView="${total}" IncludesLastItemInRange="${last}"><t:Items>${xml}</t:Items></m:RootFolder>`,
    );
  });
  return operationResponse('FindItem', messages);
};

function viewOfEntry(mb: Mailbox, v: ViewEntry): ItemView {
  if (!v.occurrence) return viewOf({ mailbox: mb, stored: v.item, folder: 'calendar' });
  return viewOf({
    mailbox: mb,
    stored: v.item,
    folder: 'calendar',
    occurrence: { originalStartMs: v.occurrence.originalStartMs, startMs: v.occurrence.startMs, endMs: v.occurrence.endMs, index: v.occurrence.index },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// SyncFolderItems

const syncFolderItems: OperationHandler = (body, ctx) => {
  const shape = readItemShape(child(body, M, 'ItemShape'));
  const folderEl = folderIdsIn(child(body, M, 'SyncFolderId'))[0];
  if (!folderEl) throw schemaError("The element 'SyncFolderId' has incomplete content.");
  const maxText = childText(body, M, 'MaxChangesReturned');
  if (maxText === undefined) throw schemaError("The element 'SyncFolderItems' has incomplete content. List of possible elements expected: 'MaxChangesReturned'.");
  const max = readCount(maxText, 'MaxChangesReturned')!;
  if (max < 1 || max > 512) throw schemaError(`The value '${maxText}' is invalid for MaxChangesReturned (1..512).`);
  const ignore = new Set(itemIdsIn(child(body, M, 'Ignore')).map((e) => e.attrs.Id ?? ''));
  const stateText = (childText(body, M, 'SyncState') ?? '').trim();
  const trailingOnError = '<m:SyncState/><m:IncludesLastItemInRange>true</m:IncludesLastItemInRange>';
  const messages = perItem(
    'SyncFolderItems',
    [folderEl],
    (fe) => {
      const folder = resolveFolder(fe, ctx);
      if (folder.kind !== 'calendar') throw new EwsError('ErrorInvalidOperation', 'The simulator synchronizes calendar folders only.');
      const mb = folder.mailbox;
      let since = 0;
      if (stateText) {
        const st = decodeSyncState(ctx.service.syncKey, stateText);
        if (!st || st.mailboxGuid !== mb.guid || st.seq > mb.calendar.currentSeq) throw new EwsError('ErrorInvalidSyncStateData');
        since = st.seq;
      }
      const { changes, nextSeq, includesLast } = mb.calendar.changesSince(since, max, ignore);
      const rc = renderContext(ctx, mb, shape, true);
      const xml = changes
        .map((c) => {
          if (c.kind === 'Delete') return `<t:Delete><t:ItemId Id="${attrEscape(c.id)}"/></t:Delete>`;
          const item = renderCalendarItem(viewOf({ mailbox: mb, stored: c.item!, folder: 'calendar' }), rc);
          return `<t:${c.kind}>${item}</t:${c.kind}>`;
        })
        .join('');
      return successMessage(
        'SyncFolderItems',
        `${el('m:SyncState', encodeSyncState(ctx.service.syncKey, mb.guid, nextSeq))}${el('m:IncludesLastItemInRange', includesLast)}<m:Changes>${xml}</m:Changes>`,
      );
    },
    trailingOnError,
  );
  return operationResponse('SyncFolderItems', messages);
};

// ---------------------------------------------------------------------------------------------------------------
// GetFolder

const FOLDER_INFO: Record<FolderKind, { element: string; cls: string; name: string; parent: FolderKind | null }> = {
  root: { element: 'Folder', cls: '', name: 'Root', parent: null },
  msgfolderroot: { element: 'Folder', cls: 'IPF.Note', name: 'Top of Information Store', parent: 'root' },
  calendar: { element: 'CalendarFolder', cls: 'IPF.Appointment', name: 'Calendar', parent: 'msgfolderroot' },
  deleteditems: { element: 'Folder', cls: 'IPF.Note', name: 'Deleted Items', parent: 'msgfolderroot' },
  inbox: { element: 'Folder', cls: 'IPF.Note', name: 'Inbox', parent: 'msgfolderroot' },
  contacts: { element: 'ContactsFolder', cls: 'IPF.Contact', name: 'Contacts', parent: 'msgfolderroot' },
  tasks: { element: 'TasksFolder', cls: 'IPF.Task', name: 'Tasks', parent: 'msgfolderroot' },
  drafts: { element: 'Folder', cls: 'IPF.Note', name: 'Drafts', parent: 'msgfolderroot' },
  sentitems: { element: 'Folder', cls: 'IPF.Note', name: 'Sent Items', parent: 'msgfolderroot' },
  outbox: { element: 'Folder', cls: 'IPF.Note', name: 'Outbox', parent: 'msgfolderroot' },
  journal: { element: 'Folder', cls: 'IPF.Journal', name: 'Journal', parent: 'msgfolderroot' },
  notes: { element: 'Folder', cls: 'IPF.StickyNote', name: 'Notes', parent: 'msgfolderroot' },
  junkemail: { element: 'Folder', cls: 'IPF.Note', name: 'Junk Email', parent: 'msgfolderroot' },
};

function folderXml(mb: Mailbox, kind: FolderKind): string {
  const info = FOLDER_INFO[kind];
  const count = kind === 'calendar' ? mb.calendar.size : kind === 'deleteditems' ? mb.calendar.deletedFolder.size : 0;
  const children = kind === 'root' ? 1 : kind === 'msgfolderroot' ? FOLDER_KINDS.length - 2 : 0;
  return (
    `<t:${info.element}><t:FolderId Id="${encodeFolderId(mb.guid, kind)}" ChangeKey="${FOLDER_CHANGE_KEY}"/>` +
    (info.parent ? `<t:ParentFolderId Id="${encodeFolderId(mb.guid, info.parent)}" ChangeKey="${FOLDER_CHANGE_KEY}"/>` : '') +
    (info.cls ? el('t:FolderClass', info.cls) : '') +
    el('t:DisplayName', info.name) +
    el('t:TotalCount', count) +
    el('t:ChildFolderCount', children) +
    (info.element === 'Folder' ? el('t:UnreadCount', 0) : '') +
    `</t:${info.element}>`
  );
}

const getFolder: OperationHandler = (body, ctx) => {
  const ids = folderIdsIn(child(body, M, 'FolderIds'));
  if (!ids.length) throw schemaError("The element 'FolderIds' has incomplete content.");
  const messages = perItem(
    'GetFolder',
    ids,
    (e) => {
      const f = resolveFolder(e, ctx);
      return successMessage('GetFolder', `<m:Folders>${folderXml(f.mailbox, f.kind)}</m:Folders>`);
    },
    '<m:Folders/>',
  );
  return operationResponse('GetFolder', messages);
};

const findFolder: OperationHandler = (body, ctx) => {
  const ids = folderIdsIn(child(body, M, 'ParentFolderIds'));
  if (!ids.length) throw schemaError("The element 'ParentFolderIds' has incomplete content.");
  const deep = body.attrs.Traversal === 'Deep';
  const messages = perItem('FindFolder', ids, (e) => {
    const f = resolveFolder(e, ctx);
    const kids = FOLDER_KINDS.filter((k) => {
      const p = FOLDER_INFO[k].parent;
      return deep ? p !== null && (p === f.kind || (f.kind === 'root' && p !== null)) : p === f.kind;
    });
    return successMessage(
      'FindFolder',
      `<m:RootFolder TotalItemsInView="${kids.length}" IncludesLastItemInRange="true"><t:Folders>${kids.map((k) => folderXml(f.mailbox, k)).join('')}</t:Folders></m:RootFolder>`,
    );
  });
  return operationResponse('FindFolder', messages);
};

// ---------------------------------------------------------------------------------------------------------------
// ResolveNames

const resolveNames: OperationHandler = (body, ctx) => {
  const entry = childText(body, M, 'UnresolvedEntry');
  if (entry === undefined || !entry.trim()) throw schemaError("The element 'ResolveNames' has incomplete content. List of possible elements expected: 'UnresolvedEntry'.");
  const full = body.attrs.ReturnFullContactData === 'true';
  const found = ctx.service.directory.resolve(entry);
  if (!found.length) return operationResponse('ResolveNames', [errorMessage('ResolveNames', 'ErrorNameResolutionNoResults')]);
  const resolutions = found
    .map((m) => {
      const mailbox = `<t:Mailbox>${el('t:Name', m.displayName)}${el('t:EmailAddress', m.primary)}<t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Mailbox</t:MailboxType></t:Mailbox>`;
      const contact = full
        ? `<t:Contact>${el('t:DisplayName', m.displayName)}<t:EmailAddresses>${[m.primary, ...m.aliases]
            .slice(0, 3)
            .map((a, i) => `<t:Entry Key="EmailAddress${i + 1}">${xmlEscape(`${i === 0 ? 'SMTP' : 'smtp'}:${a}`)}</t:Entry>`)
            .join('')}</t:EmailAddresses><t:ContactSource>ActiveDirectory</t:ContactSource></t:Contact>`
        : '';
      return `<t:Resolution>${mailbox}${contact}</t:Resolution>`;
    })
    .join('');
  const set = `<m:ResolutionSet TotalItemsInView="${found.length}" IncludesLastItemInRange="true">${resolutions}</m:ResolutionSet>`;
  if (found.length > 1) return operationResponse('ResolveNames', [errorMessage('ResolveNames', 'ErrorNameResolutionMultipleResults', undefined, set)]);
  return operationResponse('ResolveNames', [successMessage('ResolveNames', set)]);
};

// ---------------------------------------------------------------------------------------------------------------
// ConvertId (exchangelib probes the server version with it) and GetServerTimeZones

const convertId: OperationHandler = (body, ctx) => {
  const dest = body.attrs.DestinationFormat ?? '';
  const formats = ['EwsId', 'EwsLegacyId', 'EntryId', 'HexEntryId', 'StoreId', 'OwaId'];
  if (!formats.includes(dest)) throw schemaError(`The value '${dest}' is invalid for DestinationFormat.`);
  const ids = childrenNamed(child(body, M, 'SourceIds'), T, 'AlternateId');
  if (!ids.length) throw schemaError("The element 'SourceIds' has incomplete content.");
  const messages = perItem('ConvertId', ids, (e) => {
    const id = e.attrs.Id ?? '';
    const decoded = e.attrs.Format === 'EwsId' || e.attrs.Format === 'EwsLegacyId' ? decodeItemId(id) : null;
    if (!decoded) throw new EwsError('ErrorInvalidIdMalformed');
    const mb = ctx.service.directory.mailboxByGuid(decoded.mailboxGuid);
    if (!mb) throw new EwsError('ErrorItemNotFound');
    const raw = Buffer.from(id, 'base64');
    const out = dest === 'HexEntryId' ? raw.toString('hex').toUpperCase() : dest === 'EntryId' || dest === 'StoreId' ? raw.toString('base64') : id;
    return successMessage('ConvertId', `<m:AlternateId xsi:type="t:AlternateIdType" Format="${dest}" Id="${attrEscape(out)}" Mailbox="${attrEscape(mb.primary)}"/>`);
  });
  return operationResponse('ConvertId', messages);
};

const getServerTimeZones: OperationHandler = (body) => {
  const wanted = childrenNamed(child(body, M, 'Ids'), T, 'Id').map((e) => e.text.trim());
  const zones = ['UTC', 'GMT Standard Time', 'W. Europe Standard Time', 'FLE Standard Time', 'Eastern Standard Time', 'Pacific Standard Time', 'Tokyo Standard Time'];
  const list = (wanted.length ? wanted : zones)
    .map((id) => {
      const iana = ianaForWindowsId(id);
      if (!iana) return '';
      const z = windowsZoneFor(iana);
      return `<t:TimeZoneDefinition Id="${attrEscape(id)}" Name="${attrEscape(z.name)}"/>`;
    })
    .join('');
  return operationResponse('GetServerTimeZones', [successMessage('GetServerTimeZones', `<m:TimeZoneDefinitions>${list}</m:TimeZoneDefinitions>`)]);
};


export const OPERATIONS: Record<string, OperationHandler> = {
  GetItem: getItem,
  CreateItem: createItem,
  UpdateItem: updateItem,
  DeleteItem: deleteItem,
  FindItem: findItem,
  SyncFolderItems: syncFolderItems,
  GetFolder: getFolder,
  FindFolder: findFolder,
  ResolveNames: resolveNames,
  ConvertId: convertId,
  GetServerTimeZones: getServerTimeZones,
};
