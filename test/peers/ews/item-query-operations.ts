/**
 * The EWS operations that list a folder's items: FindItem (calendar views, and paged, restricted, sorted listings)
 * and SyncFolderItems (the changes since a sync state).
 */
import type { ItemView } from './calendar-item-rendering.ts';
import { readItemShape, renderCalendarItem } from './calendar-item-rendering.ts';
import { schemaError } from './schema-validation.ts';
import type { Mailbox } from './directory.ts';
import { decodeSyncState, encodeSyncState } from './item-ids.ts';
import type { StoredItem, ViewEntry } from './mailbox-calendar.ts';
import { extendedLookupKey } from './mailbox-calendar.ts';
import type { OperationHandler } from './operation-context.ts';
import { folderIdsIn, itemIdsIn, perItem, renderContext, resolveFolder, viewOf } from './operation-context.ts';
import { evaluateRestriction, indexableTerm, readRestriction, sortItems } from './restriction.ts';
import { EwsError, MESSAGES_NS, attrEscape, el, operationResponse, successMessage } from './soap-envelope.ts';
import { parseEwsDateTime } from './time-zones.ts';
import { child, childText } from './xml-parser.ts';

const M = MESSAGES_NS;

// ---------------------------------------------------------------------------------------------------------------
// FindItem

const TWO_YEARS_MS = (2 * 365 + 1) * 86_400_000;

function readCount(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim())) throw schemaError(`The value '${text}' is invalid for ${what}.`);
  return Number(text.trim());
}

export const findItem: OperationHandler = (body, ctx) => {
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

export const syncFolderItems: OperationHandler = (body, ctx) => {
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
