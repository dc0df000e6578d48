import { CalendarError, type EventWrite, type EventWriteOutcome } from '../../exchange/calendar-connector.ts';
import type { IntentRecord } from '../../store/sync-store.ts';
import type { EventFields } from '../calendar-event.ts';
import { contentHash } from '../event-content-hash.ts';
import { parseOccurrenceItemId } from '../series-flattening.ts';
import { encodeSeriesBase, seriesBaseOf } from '../series-merge.ts';
import { describeFields } from '../severa-activity-mapping.ts';
import type { Decision } from '../sync-decision.ts';
import { isItemLevel } from '../sync-problems.ts';
import { severaSide, type Candidate, type Decided } from './candidate.ts';
import { exchangeCreateFields, exchangeUpdateTarget, recordExchangeCreate, recordExchangeUpdate } from './exchange-writes.ts';
import { change, type UserState } from './user-sync-state.ts';
import { updateIntentRecord, type CreateExchangeIntent } from './write-ahead.ts';

/**
 * The user's creates and single-item updates in Exchange, carried out together: every intent is written first (one
 * store transaction), then the writes go to the connector in one call (EWS: a CreateItem and an UpdateItem per batch,
 * and one GetItem per batch reading back what Exchange stored), then each outcome is recorded on its own: a success is
 * verified and paired, a failure is handled as any failed write (the caller's `onFailure`: a conflict is decided again,
 * an item-level problem is reported and retried next cycle, anything else stops the user's sync before its commit, and
 * the intents let the next run finish what this one started).
 */

/** Can this decision go in the batch? Series, their occurrences, merges and meeting links take the one-by-one path. */
export function batchableExchangeWrite(u: UserState, c: Candidate, d: Decision): boolean {
  if (u.ctx.dryRun || (d.action !== 'create' && d.action !== 'update') || d.side !== 'exchange' || !c.severa.item) return false;
  if (c.linkedByUid && !c.pair) return false;
  // A series with changed occurrences is written one occurrence at a time anyway: it takes the one-by-one path.
  if (d.action === 'create') return !(c.severa.item.fields.recurrence && c.severa.item.fields.exceptions.length > 0);
  if (d.action !== 'update' || !c.pair) return false;
  const id = c.exchange.event?.id ?? c.pair.exchangeId;
  return !parseOccurrenceItemId(id) && !c.severa.item.fields.recurrence && !c.pair.exchangeSeriesBase && !c.exchange.event?.fields.recurrence;
}

type WriteDecision = Extract<Decision, { action: 'create' | 'update' }>;

interface Planned {
  c: Candidate;
  d: WriteDecision;
  write: EventWrite;
  intentId: string | null;
  fields: EventFields;
  target?: ReturnType<typeof exchangeUpdateTarget>;
}

/** A connector without writeEvents: one write at a time, stopping at the first failure that is not the item's own. */
async function oneByOne(u: UserState, writes: readonly EventWrite[]): Promise<EventWriteOutcome[]> {
  const out: EventWriteOutcome[] = [];
  for (const w of writes) {
    try {
      const result = w.kind === 'create' ? await u.ctx.calendar.createEvent(u.mailbox, w.fields, w.syncTag) : await u.ctx.calendar.updateEvent(u.mailbox, w.id, w.version, w.fields, w);
      out.push({ ok: true, result });
    } catch (error) {
      if (!(error instanceof CalendarError)) throw error;
      out.push({ ok: false, error });
      if (!isItemLevel(error)) {
        while (out.length < writes.length) out.push({ ok: false, error });
        break;
      }
    }
  }
  return out;
}

export async function writeExchangeBatch(u: UserState, items: readonly Decided[], onFailure: (c: Candidate, d: Decision, err: CalendarError) => Promise<void>): Promise<void> {
  const { ctx } = u;
  const now = ctx.now().toISOString();
  const planned: Planned[] = [];
  const intents: IntentRecord[] = [];
  for (const x of items) {
    const c = x.c;
    const d = x.d as WriteDecision;
    if (d.action === 'create') {
      const item = c.severa.item!;
      const fields = exchangeCreateFields(item);
      const intent: IntentRecord<CreateExchangeIntent> = { id: ctx.newId(), email: u.plan.email, kind: 'create-exchange', payload: { mailbox: u.mailbox, severaGuid: item.guid }, createdAt: now };
      intents.push(intent);
      planned.push({ c, d, write: { kind: 'create', fields, syncTag: item.guid }, intentId: intent.id, fields });
    } else {
      const target = exchangeUpdateTarget(c);
      const intent = updateIntentRecord(u, 'exchange', c, { writtenHash: contentHash(target.fields), writtenBase: encodeSeriesBase(seriesBaseOf(target.fields)), source: severaSide(c) });
      if (intent) intents.push(intent);
      planned.push({ c, d, write: { kind: 'update', id: target.id, version: target.version, fields: target.fields, ...target.hint }, intentId: intent?.id ?? null, fields: target.fields, target });
    }
  }
  // Write-ahead: every intent is in the store before the first write goes out.
  ctx.store.addIntents(intents);
  const writes = planned.map((p) => p.write);
  const outcomes = ctx.calendar.writeEvents ? await ctx.calendar.writeEvents(u.mailbox, writes) : await oneByOne(u, writes);
  if (outcomes.length !== planned.length) throw new CalendarError('bad-response', `The calendar connector answered ${outcomes.length} of ${planned.length} writes.`);
  for (let i = 0; i < planned.length; i++) {
    const p = planned[i];
    const o = outcomes[i];
    if (!o.ok) {
      await onFailure(p.c, p.d, o.error);
      continue;
    }
    if (p.d.conflict) u.report.conflicts++;
    change(u, { side: 'exchange', action: p.d.action === 'create' ? 'create' : 'update', ...describeFields(p.fields), sourceId: p.c.severa.item!.guid, reason: p.d.reason });
    if (p.intentId) u.work.removeIntentIds.push(p.intentId);
    if (p.d.action === 'create') recordExchangeCreate(u, p.c, p.fields, o.result);
    else recordExchangeUpdate(u, p.c, p.target!, o.result);
  }
}
