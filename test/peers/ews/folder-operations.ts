/**
 * The EWS folder operations: GetFolder and FindFolder, over the fixed folder tree each mailbox has.
 */
import type { Mailbox } from './directory.ts';
import type { FolderKind } from './item-ids.ts';
import { FOLDER_KINDS, encodeFolderId } from './item-ids.ts';
import type { OperationHandler } from './operation-context.ts';
import { FOLDER_CHANGE_KEY, folderIdsIn, perItem, resolveFolder } from './operation-context.ts';
import { schemaError } from './schema-validation.ts';
import { MESSAGES_NS, el, operationResponse, successMessage } from './soap-envelope.ts';
import { child } from './xml-parser.ts';

const M = MESSAGES_NS;

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

export const getFolder: OperationHandler = (body, ctx) => {
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

export const findFolder: OperationHandler = (body, ctx) => {
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
