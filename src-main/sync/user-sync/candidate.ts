import type { SideName } from '../../common/sync-report.ts';
import type { PairRecord, PairRole } from '../../store/sync-store.ts';
import type { EventFields, SideEvent } from '../calendar-event.ts';
import { contentHash } from '../event-content-hash.ts';
import { parseOccurrenceItemId } from '../series-flattening.ts';
import { encodeSeriesBase, seriesBaseOf } from '../series-merge.ts';
import type { SeveraItem } from '../severa-snapshot.ts';
import type { Decision, SideNow } from '../sync-decision.ts';
import type { UserState } from './user-sync-state.ts';

/**
 * A candidate is what the pipeline moves from matching to writing: one entry as both sides hold it now, with the pair
 * the store remembers for it (if any). Once written, it becomes the pair record built here.
 */

/**
 * `leftBy`: absent for this user only: the activity still exists, but the user no longer owns it or takes part in it
 * (removed as participant). A change of the user's copy then brings the participation back, not a second activity.
 */
export type SeveraSideNow = { state: SideNow; item?: SeveraItem; leftBy?: SeveraItem };
/** `reshaped`: the Exchange series now travels in the other shape (whole vs. as occurrences); its old pair goes. */
export type ExchangeSideNow = { state: SideNow; event?: SideEvent; reshaped?: boolean };

export interface Candidate {
  pair: PairRecord | null;
  severa: SeveraSideNow;
  exchange: ExchangeSideNow;
  /** For pair-less candidates: the user's part in the activity and where the item came from. */
  role: PairRole;
  origin: SideName;
  /** Guid of a Severa activity this Exchange item is linked to by meeting UID (membership to ensure). */
  linkedByUid?: boolean;
  /** The Severa activity was created from this Exchange item by a run that crashed before pairing them. */
  recovered?: boolean;
  /** The pair was brought forward to a write a killed run made (see UpdateIntent): it is stored again whatever happens. */
  pairRepaired?: boolean;
  /** The sync's own copy of a meeting that Exchange has delivered itself again: it goes, the meeting takes its place in the pair. */
  copyGivesWay?: boolean;
}

/** A candidate with what the decision table (and then the deletion guard) made of it. */
export interface Decided {
  c: Candidate;
  d: Decision;
}

// ---- the pair a candidate becomes ------------------------------------------------------------------------------------------

/**
 * One side as a pair records it. `fields` (what the side holds now) or `base` (already encoded, e.g. from the stored
 * pair) give the series base kept for a per-occurrence merge (series-merge.ts).
 */
export interface SideState {
  version: string;
  hash: string;
  modified: string;
  fields?: EventFields;
  base?: string | null;
}
export type SeveraState = SideState & { guid: string };
/**
 * `plainSingle`: what PairRecord.exchangePlainSingle is to say, where `fields` cannot tell it (null: not known); absent,
 * it is told from `fields` (see exchangePlainSingle).
 */
export type ExchangeState = SideState & { id: string; uid?: string | null; plainSingle?: boolean | null };

/**
 * An Exchange item the sync may update without reading it first (UpdateHint.plainSingleAtVersion): a single item (not
 * an occurrence; no recurrence, no exceptions) with no attendees, so no write to it can mail anyone.
 */
export function isPlainSingle(id: string, fields: EventFields): boolean {
  return parseOccurrenceItemId(id) === null && fields.recurrence === null && fields.exceptions.length === 0 && fields.attendees.length === 0;
}

/** Whether the Exchange side, at its version, is a plain single (isPlainSingle); null when not known. */
export function exchangePlainSingle(e: ExchangeState): boolean | null {
  if (e.plainSingle !== undefined) return e.plainSingle;
  return e.fields ? isPlainSingle(e.id, e.fields) : null;
}

export function seriesBaseText(side: SideState): string | null {
  if (side.base !== undefined) return side.base;
  return encodeSeriesBase(seriesBaseOf(side.fields));
}

export function buildPair(u: UserState, c: Candidate, s: SeveraState, e: ExchangeState, fields: EventFields): PairRecord {
  return {
    id: c.pair?.id,
    email: u.plan.email,
    mailbox: u.mailbox,
    exchangeId: e.id,
    severaGuid: s.guid,
    role: c.pair?.role ?? c.role,
    origin: c.pair?.origin ?? c.origin,
    uid: e.uid ?? c.pair?.uid ?? null,
    exchangeVersion: e.version,
    exchangeHash: e.hash,
    exchangeModified: e.modified,
    severaVersion: s.version,
    severaHash: s.hash,
    severaModified: s.modified,
    subject: fields.subject,
    start: fields.start,
    end: fields.end,
    exchangeGone: false,
    severaGone: false,
    severaSeriesBase: seriesBaseText(s),
    exchangeSeriesBase: seriesBaseText(e),
    exchangePlainSingle: exchangePlainSingle(e),
  };
}

/** The Severa side as it is now (read this cycle) or, unread, as the pair records it. */
export function severaSide(c: Candidate): SeveraState {
  const i = c.severa.item;
  if (i) return { guid: i.guid, version: i.version, hash: i.hash, modified: i.modified, fields: i.fields };
  const p = c.pair!;
  return { guid: p.severaGuid, version: p.severaVersion, hash: p.severaHash, modified: p.severaModified, base: p.severaSeriesBase ?? null };
}

/** The Exchange side as it is now (read this cycle) or, unread, as the pair records it. */
export function exchangeSide(c: Candidate): ExchangeState {
  const e = c.exchange.event;
  if (e) return { id: e.id, version: e.version, hash: contentHash(e.fields), modified: e.lastModified, uid: e.uid ?? null, fields: e.fields };
  const p = c.pair!;
  return { id: p.exchangeId, version: p.exchangeVersion, hash: p.exchangeHash, modified: p.exchangeModified, uid: p.uid, base: p.exchangeSeriesBase ?? null, plainSingle: p.exchangePlainSingle ?? null };
}

export function currentFields(c: Candidate): EventFields {
  return c.exchange.event?.fields ?? c.severa.item!.fields;
}
