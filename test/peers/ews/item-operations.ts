/**
 * The EWS operations that read and write single items: GetItem, CreateItem, UpdateItem (field sets, appends and
 * deletes, change-key conflicts, occurrence exceptions) and DeleteItem.
 */
import type { SimCalendarItem, SimOccurrenceOverride } from './calendar-model.ts';
import { cloneItem, extendedPropertyKey } from './calendar-model.ts';
import type { ItemDraft } from './calendar-item-reading.ts';
import { READ_ONLY_URIS, applyDraft, readItemElement } from './calendar-item-reading.ts';
import { occurrenceData, readItemShape, renderCalendarItem } from './calendar-item-rendering.ts';
import { readExtendedFieldUri } from './extended-property-xml.ts';
import { schemaError } from './schema-validation.ts';
import type { FolderKind } from './item-ids.ts';
import { decodeChangeKey, encodeItemId } from './item-ids.ts';
import type { DeleteMode } from './mailbox-calendar.ts';
import type { ItemTarget, OperationHandler, RequestContext } from './operation-context.ts';
import { folderIdsIn, itemIdsIn, perItem, renderContext, requireMailbox, resolveFolder, resolveItem, viewOf } from './operation-context.ts';
import { EwsError, MESSAGES_NS, TYPES_NS, attrEscape, ewsDateTime, operationResponse, successMessage } from './soap-envelope.ts';
import type { XmlElement } from './xml-parser.ts';
import { child, childrenNamed } from './xml-parser.ts';

const T = TYPES_NS;
const M = MESSAGES_NS;

// ---------------------------------------------------------------------------------------------------------------
// GetItem

export const getItem: OperationHandler = (body, ctx) => {
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

export const createItem: OperationHandler = (body, ctx) => {
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

export const updateItem: OperationHandler = (body, ctx) => {
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

export const deleteItem: OperationHandler = (body, ctx) => {
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
