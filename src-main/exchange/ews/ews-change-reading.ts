import {
  Appointment,
  AppointmentSchema,
  BasePropertySet,
  BodyType,
  ChangeType,
  ExchangeService,
  ExchangeVersion,
  FolderId,
  ItemId,
  ItemSchema,
  PropertySet,
  SyncFolderItemsScope,
  WellKnownFolderName,
} from 'ews-javascript-api';
import type { SideEvent } from '../../sync/calendar-event.ts';
import { CalendarError } from '../calendar-connector.ts';
import { readCalendarItem, withExceptions, type ReadCalendarItem } from './ews-appointment-reading.ts';
import { syncTagDefinition } from './ews-calendar-mapping.ts';
import { calendarErrorFor, responseError } from './ews-error-translation.ts';
import { chunks, readOccurrences } from './ews-series-exceptions.ts';

/**
 * The connector's reading through the library: which calendar items changed since a sync state (SyncFolderItems
 * pages), and items read in full by id (BindToItems in batches, then their modified occurrences). Exchange 2010 and
 * later read items on the connector's own SOAP instead (ews-item-calls.ts). Each function runs on the connector's
 * service for one call.
 */

/** What reading (and writing) through the library needs of the connector's settings. */
export interface LibraryCallSettings {
  version: ExchangeVersion;
  /** Items per GetItem request. */
  batchSize: number;
  /** Zone assumed for items whose time zone the server does not name. */
  defaultTimeZone: string;
}

/** 512 changes a page: two million changes before a server that never says "last page" is given up on. */
const MAX_SYNC_PAGES = 4096;

export function fullPropertySet(version: ExchangeVersion): PropertySet {
  const properties = [
    ItemSchema.Subject,
    ItemSchema.Body,
    ItemSchema.Sensitivity,
    ItemSchema.LastModifiedTime,
    AppointmentSchema.Start,
    AppointmentSchema.End,
    AppointmentSchema.IsAllDayEvent,
    AppointmentSchema.Location,
    AppointmentSchema.Organizer,
    AppointmentSchema.RequiredAttendees,
    AppointmentSchema.OptionalAttendees,
    AppointmentSchema.AppointmentType,
    AppointmentSchema.Recurrence,
    AppointmentSchema.ModifiedOccurrences,
    AppointmentSchema.DeletedOccurrences,
    AppointmentSchema.ICalUid,
    syncTagDefinition(),
  ];
  properties.push(version === ExchangeVersion.Exchange2007_SP1 ? AppointmentSchema.MeetingTimeZone : AppointmentSchema.StartTimeZone);
  const set = new PropertySet(BasePropertySet.IdOnly, properties);
  // Let Exchange do the HTML -> text conversion; html-to-text.ts still handles servers that send HTML anyway.
  set.RequestedBodyType = BodyType.Text;
  return set;
}

/**
 * SyncFolderItems pages on the calendar from `syncState` (null or empty: from the start) to the last one: the ids
 * created or updated and the ids deleted since, each in one set only (its last change counts), and the new state.
 */
export async function changedIdsSince(service: ExchangeService, syncState: string | null, pageSize: number): Promise<{ changed: Set<string>; deleted: Set<string>; state: string }> {
  let state = syncState && syncState.length > 0 ? syncState : null;
  const changed = new Set<string>();
  const deleted = new Set<string>();
  let pages = 0;
  for (;;) {
    const page = await service.SyncFolderItems(
      new FolderId(WellKnownFolderName.Calendar),
      new PropertySet(BasePropertySet.IdOnly),
      null as unknown as ItemId[],
      pageSize,
      SyncFolderItemsScope.NormalItems,
      state as string,
    );
    for (const change of page.GetEnumerator()) {
      const id = change.ItemId?.UniqueId;
      if (!id) continue;
      if (change.ChangeType === ChangeType.Create || change.ChangeType === ChangeType.Update) {
        changed.add(id);
        deleted.delete(id);
      } else if (change.ChangeType === ChangeType.Delete) {
        deleted.add(id);
        changed.delete(id);
      }
    }
    if (!page.SyncState) throw new CalendarError('bad-response', 'Exchange answered SyncFolderItems without a sync state.');
    // "More to come" with nothing in it and the same state would loop forever.
    const stuck = page.MoreChangesAvailable && (page.Count === 0 || page.SyncState === state);
    state = page.SyncState;
    if (!page.MoreChangesAvailable) break;
    if (stuck || ++pages > MAX_SYNC_PAGES) throw new CalendarError('bad-response', 'Exchange keeps announcing more calendar changes without sending them.');
  }
  return { changed, deleted, state };
}

/** Batched GetItem (BindToItems) of masters/single items, then of their modified occurrences; ids Exchange does not know are `missing`. */
export async function bindCalendarItems(service: ExchangeService, ids: string[], settings: LibraryCallSettings, context: string): Promise<{ events: SideEvent[]; missing: string[] }> {
  const items: ReadCalendarItem[] = [];
  const missing: string[] = [];
  const readContext = { defaultTimeZone: settings.defaultTimeZone };
  for (const batch of chunks(ids, settings.batchSize)) {
    const responses = await service.BindToItems(batch.map((id) => new ItemId(id)), fullPropertySet(settings.version));
    responses.Responses.forEach((response, index) => {
      const error = responseError(response);
      if (error === 'ErrorItemNotFound' || error === 'ErrorInvalidIdMalformed' || error === 'ErrorInvalidIdNotAnItemId') {
        missing.push(batch[index]);
        return;
      }
      if (error) throw calendarErrorFor(error, response.ErrorMessage, context);
      const item = (response as unknown as { Item?: unknown }).Item;
      // Only calendar items are synced; anything else in the folder (rare) is skipped.
      if (item instanceof Appointment) items.push(readCalendarItem(item, readContext));
    });
  }
  const occurrences = await readOccurrences(service, items.flatMap((i) => i.modifiedOccurrences.map((o) => o.itemId)), settings.batchSize, context);
  return { events: items.map((i) => withExceptions(i, occurrences)), missing };
}
