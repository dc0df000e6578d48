import { t } from '../../common/i18n/i18n.ts';
import { CalendarError, type UpdateHint, type WriteResult } from '../../exchange/calendar-connector.ts';
import type { EventFields, SideEvent } from '../calendar-event.ts';
import { contentHash } from '../event-content-hash.ts';
import { occurrenceEventAt, parseOccurrenceItemId, seriesWithOccurrence } from '../series-flattening.ts';
import { encodeSeriesBase, keptSeveraOccurrences, seriesBaseOf } from '../series-merge.ts';
import { describeFields, mergeIntoExchangeFields } from '../severa-activity-mapping.ts';
import type { SeveraItem } from '../severa-snapshot.ts';
import { buildPair, exchangeSide, isPlainSingle, severaSide, type Candidate, type ExchangeState, type SeveraState } from './candidate.ts';
import { change, dropPair, note, roleIn, stagePair, type UserState } from './user-sync-state.ts';
import { verifyWrite } from './verify-writes.ts';
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
  const fields = exchangeCreateFields(item);
  change(u, { side: 'exchange', action: 'create', ...describeFields(fields), sourceId: item.guid, reason });
  if (ctx.dryRun) return;
  const intentId = ctx.newId();
  ctx.store.addIntent({ id: intentId, email: u.plan.email, kind: 'create-exchange', payload: { mailbox: u.mailbox, severaGuid: item.guid } satisfies CreateExchangeIntent, createdAt: ctx.now().toISOString() });
  const written = await ctx.calendar.createEvent(u.mailbox, fields, item.guid);
  u.work.removeIntentIds.push(intentId);
  recordExchangeCreate(u, c, fields, written);
}

/** The fields to create in Exchange for a Severa item (no attendees: the sync never invites anyone). */
export function exchangeCreateFields(item: SeveraItem): EventFields {
  return { ...item.fields, attendees: [], organizer: null };
}

/**
 * After an item was created in Exchange from `c`'s activity: what Exchange stored (WriteResult.stored, when the
 * connector can tell) is compared with what was meant and recorded, so a server that kept something else is reported
 * and never taken for agreement.
 */
export function recordExchangeCreate(u: UserState, c: Candidate, fields: EventFields, written: WriteResult): void {
  const item = c.severa.item!;
  const held = written.stored?.fields ?? fields;
  if (written.stored) verifyWrite(u, { side: 'exchange', exchangeId: written.id, severaGuid: item.guid, meant: fields, stored: held });
  if (c.pair) dropPair(u, c.pair);
  const e = { id: written.id, version: written.version, hash: contentHash(held), modified: written.lastModified, uid: written.stored?.uid ?? null, fields: held };
  stagePair(u, buildPair(u, { ...c, pair: null, role: roleIn(u, item), origin: c.pair?.origin ?? 'severa' }, severaSide(c), e, held));
}

/**
 * The fields an update of `c`'s Exchange item writes (Severa's, or `merged`), and where. `hint`: what the sync knows of
 * the item at `version` (UpdateHint): a plain single as read this cycle, or as the pair recorded it at that version;
 * never a meeting with attendees, a series or an occurrence, nor an item the sync knows nothing about.
 */
export function exchangeUpdateTarget(c: Candidate, merged?: EventFields): { fields: EventFields; id: string; version: string; uid: string | null; hint: UpdateHint } {
  const current = c.exchange.event;
  const p = c.pair;
  const plain = current ? isPlainSingle(current.id, current.fields) : p?.exchangePlainSingle === true && !parseOccurrenceItemId(p.exchangeId);
  return {
    fields: merged ?? mergeIntoExchangeFields(current?.fields ?? null, c.severa.item!.fields),
    id: current?.id ?? p!.exchangeId,
    version: current?.version ?? p!.exchangeVersion,
    uid: current?.uid ?? p?.uid ?? null,
    hint: plain ? { plainSingleAtVersion: true } : {},
  };
}

/** After an update of a (non-occurrence) Exchange item: verified and recorded as Exchange stored it. */
export function recordExchangeUpdate(u: UserState, c: Candidate, target: { fields: EventFields; id: string; uid: string | null; hint?: UpdateHint }, written: WriteResult): SideEvent {
  const held = written.stored?.fields ?? target.fields;
  const id = written.id || target.id;
  if (written.stored) verifyWrite(u, { side: 'exchange', exchangeId: id, severaGuid: c.severa.item?.guid ?? c.pair!.severaGuid, meant: target.fields, stored: held });
  const uid = written.stored?.uid ?? target.uid;
  const after: SideEvent = { id, version: written.version, lastModified: written.lastModified, fields: held, ...(uid ? { uid } : {}) };
  // Without what Exchange stored, the fields are only what was sent, and an update leaves attendees as they were: still
  // a plain single when it was one and the update sent no recurrence; otherwise not known.
  const stillPlain = target.hint?.plainSingleAtVersion === true && target.fields.recurrence === null && target.fields.exceptions.length === 0;
  const plainSingle = written.stored ? undefined : stillPlain ? true : null;
  stagePair(u, buildPair(u, c, severaSide(c), { id, version: after.version, hash: contentHash(held), modified: after.lastModified, uid, fields: held, plainSingle }, held));
  return after;
}

/** Writes Severa's item (or `merged`, the fields a merge decided) to Exchange; returns the item as written. */
export async function updateExchange(u: UserState, c: Candidate, reason: string, merged?: EventFields): Promise<SideEvent | undefined> {
  const { ctx } = u;
  const item = c.severa.item!;
  const target = exchangeUpdateTarget(c, merged);
  const { fields, id, version, uid } = target;
  change(u, { side: 'exchange', action: 'update', ...describeFields(fields), sourceId: item.guid, reason });
  if (ctx.dryRun) return undefined;
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
    const meant: EventFields = { ...fields, recurrence: null, exceptions: [] };
    // The occurrence as the series Exchange stored holds it (an occurrence index may have landed elsewhere).
    const now = written.stored ? occurrenceEventAt(written.stored, parseOccurrenceItemId(id)!.key) : null;
    const held: EventFields = now ? { ...now.fields, recurrence: null, exceptions: [] } : meant;
    if (now) verifyWrite(u, { side: 'exchange', exchangeId: id, severaGuid: item.guid, meant, stored: held });
    const hash = contentHash(held);
    stagePair(u, buildPair(u, c, severaSide(c), { id, version: hash, hash, modified: written.lastModified, uid, base: null }, held));
    return { id, version: hash, lastModified: written.lastModified, fields: held, ...(uid ? { uid } : {}) };
  }
  const written = await ctx.calendar.updateEvent(u.mailbox, id, version, fields, target.hint);
  if (intentId) u.work.removeIntentIds.push(intentId);
  return recordExchangeUpdate(u, c, target, written);
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
    note(u, t('engine.notes.occurrenceNotInSeries', { subject: wanted.subject, at: x.originalStart }));
  }
  for (const x of plan.deletionsKept) {
    note(u, t('engine.notes.deletionKept', { subject: wanted.subject, at: x.originalStart }));
  }
  if (!plan.toExchange || parseOccurrenceItemId(current.id) !== null) return exchangeSide(c);
  const fields = plan.exchange;
  change(u, { side: 'exchange', action: 'update', ...describeFields(fields), sourceId: item.guid, reason: `${reason}; an occurrence changed in Severa is kept` });
  const source: SeveraState = { guid: item.guid, version: item.version, hash: item.hash, modified: item.modified, fields: item.fields };
  const intentId = inMerge ? null : announceUpdate(u, 'exchange', c, { writtenHash: contentHash(fields), writtenBase: encodeSeriesBase(seriesBaseOf(fields)), source });
  const written = await u.ctx.calendar.updateEvent(u.mailbox, current.id, current.version, fields);
  if (intentId) u.work.removeIntentIds.push(intentId);
  const uid = current.uid ?? c.pair?.uid ?? null;
  const held = written.stored?.fields ?? fields;
  if (written.stored) verifyWrite(u, { side: 'exchange', exchangeId: written.id || current.id, severaGuid: item.guid, meant: fields, stored: held });
  return { id: written.id || current.id, version: written.version, hash: contentHash(held), modified: written.lastModified, uid, fields: held };
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
async function writeOccurrence(u: UserState, id: string, fields: EventFields | null): Promise<WriteResult> {
  const ref = parseOccurrenceItemId(id)!;
  const series = u.seriesNow.get(ref.seriesId) ?? (await u.ctx.calendar.getEvents(u.mailbox, [ref.seriesId]))[0];
  if (!series?.fields.recurrence) throw new CalendarError('not-found', 'The Exchange series of this occurrence is gone.');
  const occurrence = fields ? (({ recurrence: _r, exceptions: _x, ...rest }) => rest)(fields) : null;
  const updated = seriesWithOccurrence(series.fields, ref.key, occurrence);
  try {
    const written = await u.ctx.calendar.updateEvent(u.mailbox, series.id, series.version, updated);
    u.seriesNow.set(series.id, written.stored ?? { ...series, version: written.version, lastModified: written.lastModified, fields: updated });
    return written;
  } catch (err) {
    u.seriesNow.delete(series.id);
    throw err;
  }
}
