import { CalendarError } from '../../exchange/calendar-connector.ts';
import type { EventFields, SideEvent } from '../calendar-event.ts';
import { contentHash } from '../event-content-hash.ts';
import { occurrenceEventAt, parseOccurrenceItemId, seriesWithOccurrence } from '../series-flattening.ts';
import { encodeSeriesBase, keptSeveraOccurrences, seriesBaseOf } from '../series-merge.ts';
import { describeFields, mergeIntoExchangeFields } from '../severa-activity-mapping.ts';
import type { SeveraItem } from '../severa-snapshot.ts';
import { buildPair, exchangeSide, severaSide, type Candidate, type ExchangeState, type SeveraState } from './candidate.ts';
import { change, dropPair, note, roleIn, stagePair, type UserState } from './user-sync-state.ts';
import { announceUpdate, type CreateExchangeIntent, type JournaledItem } from './write-ahead.ts';

/**
 * The writes to the user's Exchange calendar (called by write-decisions.ts): create a copy of an activity, update an
 * item from its activity, delete it (journaled first), and write one occurrence of a series synced as occurrences. Each
 * adds its change line before the side effect (so a dry run lists it), announces itself when a killed run would leave
 * it unrecorded (write-ahead.ts), and stages the pair it leaves.
 */

export async function createInExchange(u: UserState, c: Candidate, reason: string): Promise<void> {
  const { ctx } = u;
  const item = c.severa.item!;
  const fields: EventFields = { ...item.fields, attendees: [], organizer: null };
  change(u, { side: 'exchange', action: 'create', ...describeFields(fields), sourceId: item.guid, reason });
  if (ctx.dryRun) return;
  const intentId = ctx.newId();
  ctx.store.addIntent({ id: intentId, email: u.plan.email, kind: 'create-exchange', payload: { mailbox: u.mailbox, severaGuid: item.guid } satisfies CreateExchangeIntent, createdAt: ctx.now().toISOString() });
  const written = await ctx.calendar.createEvent(u.mailbox, fields, item.guid);
  u.work.removeIntentIds.push(intentId);
  if (c.pair) dropPair(u, c.pair);
  const pair = buildPair(u, { ...c, pair: null, role: roleIn(u, item), origin: c.pair?.origin ?? 'severa' }, severaSide(c), { id: written.id, version: written.version, hash: contentHash(fields), modified: written.lastModified, fields }, fields);
  stagePair(u, pair);
}

/** Writes Severa's item (or `merged`, the fields a merge decided) to Exchange; returns the item as written. */
export async function updateExchange(u: UserState, c: Candidate, reason: string, merged?: EventFields): Promise<SideEvent | undefined> {
  const { ctx } = u;
  const item = c.severa.item!;
  const p = c.pair;
  const current = c.exchange.event;
  const fields = merged ?? mergeIntoExchangeFields(current?.fields ?? null, item.fields);
  change(u, { side: 'exchange', action: 'update', ...describeFields(fields), sourceId: item.guid, reason });
  if (ctx.dryRun) return undefined;
  const id = current?.id ?? p!.exchangeId;
  const version = current?.version ?? p!.exchangeVersion;
  const uid = current?.uid ?? p?.uid ?? null;
  const occurrence = parseOccurrenceItemId(id) !== null;
  // A merge's half-done writes are left to the next merge, which needs the pair as it was (see mergeBothWays).
  const intentId = merged ? null : announceUpdate(u, 'exchange', c, {
    writtenHash: occurrence ? contentHash({ ...fields, recurrence: null, exceptions: [] }) : contentHash(fields),
    writtenBase: occurrence ? null : encodeSeriesBase(seriesBaseOf(fields)),
    source: severaSide(c),
  });
  if (occurrence) {
    // One occurrence of a series synced as occurrences: an exception of the series; its version is its content.
    const written = await writeOccurrence(u, id, fields);
    if (intentId) u.work.removeIntentIds.push(intentId);
    const hash = contentHash({ ...fields, recurrence: null, exceptions: [] });
    stagePair(u, buildPair(u, c, severaSide(c), { id, version: hash, hash, modified: written.lastModified, uid, base: null }, fields));
    return { id, version: hash, lastModified: written.lastModified, fields: { ...fields, recurrence: null, exceptions: [] }, ...(uid ? { uid } : {}) };
  }
  const written = await ctx.calendar.updateEvent(u.mailbox, id, version, fields);
  if (intentId) u.work.removeIntentIds.push(intentId);
  const after: SideEvent = { id: written.id || id, version: written.version, lastModified: written.lastModified, fields, ...(uid ? { uid } : {}) };
  stagePair(u, buildPair(u, c, severaSide(c), { id: after.id, version: after.version, hash: contentHash(fields), modified: after.lastModified, uid, fields }, fields));
  return after;
}

/**
 * A series copied onto Severa (`wanted`; `item`: Severa after the write) may still hold there an occurrence changed or
 * deleted in Severa where `wanted` has a regular one: Severa cannot undo that, so it keeps its change, and the change
 * goes to the Exchange series too (see keptSeveraOccurrences in series-merge.ts for why this way round). Returns the
 * Exchange side to record: as written, so the next cycle finds both sides unchanged. Outside a merge the write is
 * announced (UpdateIntent) like any copy onto Exchange; a merge's half-done writes are left to the next merge.
 */
export async function keepSeveraOccurrencesInExchange(u: UserState, c: Candidate, item: SeveraItem, wanted: EventFields, reason: string, inMerge: boolean): Promise<ExchangeState> {
  const current = c.exchange.event!;
  const plan = keptSeveraOccurrences({ wanted, severa: item.fields, exchange: current.fields });
  for (const x of plan.unplaced) {
    note(u, `"${wanted.subject}": an occurrence changed in Severa (${x.originalStart}) is not an occurrence of the Exchange series; Severa keeps its change.`);
  }
  if (!plan.toExchange || parseOccurrenceItemId(current.id) !== null) return exchangeSide(c);
  const fields = plan.exchange;
  change(u, { side: 'exchange', action: 'update', ...describeFields(fields), sourceId: item.guid, reason: `${reason}; an occurrence changed in Severa is kept` });
  const source: SeveraState = { guid: item.guid, version: item.version, hash: item.hash, modified: item.modified, fields: item.fields };
  const intentId = inMerge ? null : announceUpdate(u, 'exchange', c, { writtenHash: contentHash(fields), writtenBase: encodeSeriesBase(seriesBaseOf(fields)), source });
  const written = await u.ctx.calendar.updateEvent(u.mailbox, current.id, current.version, fields);
  if (intentId) u.work.removeIntentIds.push(intentId);
  const uid = current.uid ?? c.pair?.uid ?? null;
  return { id: written.id || current.id, version: written.version, hash: contentHash(fields), modified: written.lastModified, uid, fields };
}

export async function deleteInExchange(u: UserState, c: Candidate, reason: string): Promise<void> {
  const { ctx } = u;
  const p = c.pair!;
  const event = c.exchange.event;
  change(u, { side: 'exchange', action: 'delete', subject: event?.fields.subject ?? p.subject, start: event?.fields.start ?? p.start, sourceId: p.severaGuid, reason });
  if (ctx.dryRun) return;
  if (!event) {
    // Already gone from Exchange too.
    dropPair(u, p);
    return;
  }
  const journalId = ctx.store.journalDeletion({
    email: u.plan.email,
    side: 'exchange',
    kind: 'item',
    itemId: event.id,
    subject: event.fields.subject,
    start: event.fields.start,
    reason,
    item: { side: 'exchange', mailbox: u.mailbox, event, severaGuid: p.severaGuid.startsWith('dry-run:') ? null : p.severaGuid } satisfies JournaledItem,
    deletedAt: ctx.now().toISOString(),
  });
  try {
    // One occurrence of a series synced as occurrences is deleted from the series, never the series itself.
    if (parseOccurrenceItemId(event.id)) await writeOccurrence(u, event.id, null);
    else await ctx.calendar.deleteEvent(u.mailbox, event.id);
  } catch (err) {
    ctx.store.unjournal(journalId);
    throw err;
  }
  dropPair(u, p);
}

// ---- series synced as occurrences ------------------------------------------------------------------------------------------

/** Reads an item again by the id the engine holds (an occurrence id reads its series). */
export async function freshExchangeEvent(u: UserState, id: string): Promise<SideEvent | undefined> {
  const ref = parseOccurrenceItemId(id);
  const [event] = await u.ctx.calendar.getEvents(u.mailbox, [ref?.seriesId ?? id]);
  if (!ref) return event;
  if (!event) return undefined;
  u.seriesNow.set(event.id, event);
  return occurrenceEventAt(event, ref.key) ?? undefined;
}

/** Writes one occurrence of a series synced as occurrences: as an exception of the series (null: deleted). */
async function writeOccurrence(u: UserState, id: string, fields: EventFields | null): Promise<{ version: string; lastModified: string }> {
  const ref = parseOccurrenceItemId(id)!;
  const series = u.seriesNow.get(ref.seriesId) ?? (await u.ctx.calendar.getEvents(u.mailbox, [ref.seriesId]))[0];
  if (!series?.fields.recurrence) throw new CalendarError('not-found', 'The Exchange series of this occurrence is gone.');
  const occurrence = fields ? (({ recurrence: _r, exceptions: _x, ...rest }) => rest)(fields) : null;
  const updated = seriesWithOccurrence(series.fields, ref.key, occurrence);
  try {
    const written = await u.ctx.calendar.updateEvent(u.mailbox, series.id, series.version, updated);
    u.seriesNow.set(series.id, { ...series, version: written.version, lastModified: written.lastModified, fields: updated });
    return written;
  } catch (err) {
    u.seriesNow.delete(series.id);
    throw err;
  }
}
