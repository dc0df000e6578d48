/**
 * The EWS operations by name (the streaming-notification ones are in notification-operations.ts): each reads its
 * request element and returns the `<m:FooResponse>` body. Per-item problems become per-item response messages (the
 * rest of a batch goes on); request-level problems throw a fault EwsError. What every handler works with is in
 * operation-context.ts; the handlers are grouped by family in the modules imported below.
 */
import type { OperationHandler } from './operation-context.ts';
import { createItem, deleteItem, getItem, updateItem } from './item-operations.ts';
import { findItem, syncFolderItems } from './item-query-operations.ts';
import { findFolder, getFolder } from './folder-operations.ts';
import { convertId, getServerTimeZones, resolveNames } from './server-operations.ts';

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
