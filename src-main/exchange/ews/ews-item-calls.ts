import type { EventFields, SideEvent } from '../../sync/calendar-event.ts';
import { CalendarError, type EventWrite, type EventWriteOutcome, type WriteResult } from '../calendar-connector.ts';
import type { ReadCalendarItem, ReadContext } from './ews-appointment-reading.ts';
import { calendarErrorFor } from './ews-error-translation.ts';
import { calendarItemsOf, readCalendarItemXml, withExceptionsXml } from './ews-item-reading.ts';
import { createItemRequest, getItemRequest, responseMessagesOf, updateItemRequest, writtenItemId, type ItemSoapContext } from './ews-item-soap.ts';
import { chunks } from './ews-series-exceptions.ts';
import type { XmlNode } from './ews-xml.ts';

/**
 * The connector's batched item calls on its own SOAP (ews-item-soap.ts): reading items (and their modified
 * occurrences) by id, creating and updating several items per request. Each item's outcome is its own: one refused
 * item never fails the others. A failure of the request itself (HTTP, fault, network) is thrown, as for any call.
 */

export interface ItemCalls {
  soap: ItemSoapContext;
  /** Sends one request (through the connector's transport) and returns the answer's root element. */
  post(body: string, purpose?: 'verify'): Promise<XmlNode>;
  read: ReadContext;
  batchSize: number;
  /** "Reading calendar items (mailbox)": what the errors say was being done. */
  context: string;
}

export type ItemOutcome = { ok: true; id: string; changeKey: string } | { ok: false; error: CalendarError };

const NOT_THERE = new Set(['ErrorItemNotFound', 'ErrorInvalidIdMalformed', 'ErrorInvalidIdNotAnItemId']);

/** Items by id with their exceptions completed; ids Exchange does not know are `missing`. */
export async function readItems(calls: ItemCalls, ids: readonly string[], purpose?: 'verify'): Promise<{ events: SideEvent[]; missing: string[] }> {
  const items: ReadCalendarItem[] = [];
  const missing: string[] = [];
  for (const batch of chunks([...ids], calls.batchSize)) {
    const root = await calls.post(getItemRequest(calls.soap, batch, 'item'), purpose);
    const messages = responseMessagesOf(root, 'GetItem', calls.context);
    if (messages.length !== batch.length) throw new CalendarError('bad-response', `${calls.context}: Exchange answered ${messages.length} of ${batch.length} items.`);
    messages.forEach((m, i) => {
      if (!m.ok) {
        if (NOT_THERE.has(m.code)) {
          missing.push(batch[i]);
          return;
        }
        throw calendarErrorFor(m.code, m.text || undefined, calls.context);
      }
      // Only calendar items are synced; anything else in the folder (rare) is skipped.
      for (const node of calendarItemsOf(m.node)) items.push(readCalendarItemXml(node, calls.read));
    });
  }
  const occurrenceIds = items.flatMap((i) => i.modifiedOccurrences.map((o) => o.itemId));
  const occurrences = new Map<string, XmlNode>();
  for (const batch of chunks(occurrenceIds, calls.batchSize)) {
    const root = await calls.post(getItemRequest(calls.soap, batch, 'occurrence'), purpose);
    responseMessagesOf(root, 'GetItem', calls.context).forEach((m, i) => {
      if (!m.ok) {
        if (NOT_THERE.has(m.code)) return;
        throw calendarErrorFor(m.code, m.text || undefined, calls.context);
      }
      const node = calendarItemsOf(m.node)[0];
      if (node && batch[i] !== undefined) occurrences.set(batch[i], node);
    });
  }
  return { events: items.map((i) => withExceptionsXml(i, occurrences)), missing };
}

function outcomesOf(calls: ItemCalls, root: XmlNode, operation: 'CreateItem' | 'UpdateItem', count: number): ItemOutcome[] {
  const messages = responseMessagesOf(root, operation, calls.context);
  if (messages.length !== count) throw new CalendarError('bad-response', `${calls.context}: Exchange answered ${messages.length} of ${count} items.`);
  return messages.map((m): ItemOutcome => {
    if (!m.ok) return { ok: false, error: calendarErrorFor(m.code, m.text || undefined, calls.context) };
    const id = writtenItemId(m.node);
    return id ? { ok: true, ...id } : { ok: false, error: new CalendarError('bad-response', `${calls.context}: Exchange did not say which item it wrote.`) };
  });
}

/** Creates items, `batchSize` per CreateItem; never mails anyone (SendToNone). */
export async function createItems(calls: ItemCalls, items: ReadonlyArray<{ fields: EventFields; syncTag: string }>): Promise<ItemOutcome[]> {
  const out: ItemOutcome[] = [];
  for (const batch of chunks([...items], calls.batchSize)) {
    out.push(...outcomesOf(calls, await calls.post(createItemRequest(calls.soap, batch)), 'CreateItem', batch.length));
  }
  return out;
}

/** Updates single items, `batchSize` per UpdateItem, each against the ChangeKey last read (a stale one is 'conflict'). */
export async function updateItems(calls: ItemCalls, changes: ReadonlyArray<{ id: string; changeKey: string; fields: EventFields }>): Promise<ItemOutcome[]> {
  const out: ItemOutcome[] = [];
  for (const batch of chunks([...changes], calls.batchSize)) {
    out.push(...outcomesOf(calls, await calls.post(updateItemRequest(calls.soap, batch)), 'UpdateItem', batch.length));
  }
  return out;
}

/**
 * Several writes of one mailbox: creates of items without exceptions and updates of single items go in batches; the
 * rest (exceptions are written one occurrence at a time) through `perItem`. Every item written in a batch is then read
 * back, batched too, so each result carries what Exchange stored. `onWritten` hears the local time before the first
 * batch and the LastModifiedTime of an item it wrote (Exchange's clock).
 */
export async function writeBatch(
  calls: ItemCalls,
  writes: readonly EventWrite[],
  perItem: (w: EventWrite) => Promise<WriteResult>,
  onWritten?: (lastModified: string, sentAtMs: number) => void,
): Promise<EventWriteOutcome[]> {
  const out: EventWriteOutcome[] = new Array(writes.length);
  const creates: number[] = [];
  const updates: number[] = [];
  writes.forEach((w, i) => {
    if (w.kind === 'create' && !(w.fields.recurrence && w.fields.exceptions.length > 0)) creates.push(i);
    else if (w.kind === 'update' && !w.fields.recurrence) updates.push(i);
  });
  const sentAtMs = Date.now();
  const written: number[] = [];
  const record = (indexes: number[], outcomes: ItemOutcome[]) =>
    outcomes.forEach((o, k) => {
      const i = indexes[k];
      if (!o.ok) out[i] = o;
      else {
        out[i] = { ok: true, result: { id: o.id, version: o.changeKey, lastModified: new Date().toISOString() } };
        written.push(i);
      }
    });
  if (creates.length) record(creates, await createItems(calls, creates.map((i) => writes[i] as Extract<EventWrite, { kind: 'create' }>)));
  if (updates.length) {
    record(updates, await updateItems(calls, updates.map((i) => {
      const w = writes[i] as Extract<EventWrite, { kind: 'update' }>;
      return { id: w.id, changeKey: w.version, fields: w.fields };
    })));
  }
  const batched = new Set([...creates, ...updates]);
  for (let i = 0; i < writes.length; i++) {
    if (out[i] || batched.has(i)) continue;
    try {
      out[i] = { ok: true, result: await perItem(writes[i]) };
    } catch (error) {
      if (!(error instanceof CalendarError)) throw error;
      out[i] = { ok: false, error };
    }
  }
  if (written.length) {
    const ids = written.map((i) => (out[i] as { result: WriteResult }).result.id);
    const { events } = await readItems(calls, ids, 'verify');
    const byId = new Map(events.map((e) => [e.id, e]));
    for (const i of written) {
      const result = (out[i] as { result: WriteResult }).result;
      const stored = byId.get(result.id);
      if (!stored) {
        out[i] = { ok: false, error: new CalendarError('not-found', `${calls.context}: the item was gone right after it was written.`) };
        continue;
      }
      out[i] = { ok: true, result: { id: stored.id, version: stored.version, lastModified: stored.lastModified, stored } };
    }
    const first = byId.get((out[written[0]] as { result?: WriteResult }).result?.id ?? '');
    if (first) onWritten?.(first.lastModified, sentAtMs);
  }
  return out;
}
