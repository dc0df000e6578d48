import type { SideName } from '../common/sync-report.ts';
import type { EventFields, OccurrenceException } from './calendar-event.ts';
import { contentHash, contentProjection } from './event-content-hash.ts';
import { occurrenceAt, occurrenceKeyOf, occurrenceKeyOnDay } from './recurrence-rule.ts';
import { laterSide } from './sync-decision.ts';

/**
 * A series changed on both sides since the last cycle is merged occurrence by occurrence, not handed whole to the side
 * that changed last: a deletion of the third occurrence in Severa and a move of the second in Outlook both stand.
 *
 * That needs to know what each side looked like when the sync last agreed with it, per occurrence: the `SeriesBase`,
 * stored with the pair (one per side, since each side's reading of the same series may differ in what it cannot hold).
 * Then, as in the decision table but one level down:
 *
 *   - the series' own fields (subject, times, pattern, location, text, private) changed on one side: they go to the
 *     other; changed on both to different values: the later side's;
 *   - each occurrence, keyed by its original start: changed (moved, edited, deleted, or made regular again) on one side
 *     only: that side's state goes to the other; on both to different states: the later side's (the side's own
 *     last-update time: neither Severa's deleted occurrences nor the neutral model carry a time per occurrence).
 *
 * When the winning series fields move the occurrences (another pattern, start or end), the other side's occurrences no
 * longer line up with it: the winner's series travels whole, as Exchange itself drops exceptions when a pattern changes.
 *
 * Pure: no I/O, no clock.
 */

export interface SeriesBase {
  /** Hash of the series' own fields, without its exceptions. */
  series: string;
  /** Occurrence key -> hash of the changed occurrence's fields, or null for a deleted one. Regular occurrences are absent. */
  occurrences: Record<string, string | null>;
}

const REGULAR = '';
const DELETED = 'deleted';

const levelHash = (f: EventFields): string => contentHash({ ...f, exceptions: [] });
const occurrenceHash = (x: OccurrenceException): string => (x.fields === null ? DELETED : contentHash({ ...x.fields, recurrence: null, exceptions: [] }));

/** What decides where the occurrences fall: the pattern, the series' start and end, all-day. */
function shapeOf(f: EventFields): string {
  const p = contentProjection({ ...f, exceptions: [] });
  return JSON.stringify([p.r, p.a, p.b, p.e]);
}

function exceptionsByKey(f: EventFields): Map<string, OccurrenceException> {
  return new Map((f.exceptions ?? []).map((x) => [occurrenceKeyOf(x.originalStart, f), x]));
}

/** The base to store for a series as a side now holds it; null for anything that is not a series. */
export function seriesBaseOf(fields: EventFields | null | undefined): SeriesBase | null {
  if (!fields?.recurrence) return null;
  const occurrences: Record<string, string | null> = {};
  for (const [key, x] of exceptionsByKey(fields)) occurrences[key] = x.fields === null ? null : occurrenceHash(x);
  return { series: levelHash(fields), occurrences };
}

export function encodeSeriesBase(base: SeriesBase | null): string | null {
  return base ? JSON.stringify(base) : null;
}

/** A stored base read back; null when there is none or it is not one (then the series is not merged, only decided whole). */
export function decodeSeriesBase(text: string | null | undefined): SeriesBase | null {
  if (typeof text !== 'string' || text === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const { series, occurrences } = value as Partial<SeriesBase>;
  if (typeof series !== 'string' || !occurrences || typeof occurrences !== 'object' || Array.isArray(occurrences)) return null;
  for (const v of Object.values(occurrences)) if (v !== null && typeof v !== 'string') return null;
  return { series, occurrences: { ...occurrences } };
}

export interface SeriesMergeInput {
  severa: EventFields;
  exchange: EventFields;
  severaBase: SeriesBase;
  exchangeBase: SeriesBase;
  /** Last-update instants on one clock, for what both sides changed differently. */
  severaModified?: string;
  exchangeModified?: string;
}

export interface SeriesMerge {
  /** The series as Severa should hold it: its own, with what comes from Exchange. */
  severa: EventFields;
  /** The series as Exchange should hold it: its own, with what comes from Severa. */
  exchange: EventFields;
  /** Whether that differs from what the side holds now (a write is needed). */
  toSevera: boolean;
  toExchange: boolean;
  /** Parts (the series' own fields, or one occurrence) both sides changed to different values. */
  conflicts: number;
  /** The series' own fields came from this side whole, exceptions included (its occurrences moved). */
  wholeFrom: SideName | null;
}

/** The series' own fields, which travel together: what the sync copies when they changed. */
function withLevelOf(target: EventFields, source: EventFields): EventFields {
  return {
    ...target,
    subject: source.subject,
    start: source.start,
    end: source.end,
    isAllDay: source.isAllDay,
    timeZone: source.timeZone,
    location: source.location,
    body: source.body,
    isPrivate: source.isPrivate,
    recurrence: source.recurrence,
  };
}

const sortedExceptions = (byKey: Map<string, OccurrenceException>): OccurrenceException[] =>
  [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, x]) => x);

export function mergeSeries(input: SeriesMergeInput): SeriesMerge {
  const { severa: s, exchange: e, severaBase, exchangeBase } = input;
  const later = (): SideName => laterSide(input.severaModified, input.exchangeModified);
  let conflicts = 0;

  // The series' own fields.
  const sLevel = levelHash(s);
  const eLevel = levelHash(e);
  let levelFrom: SideName | null = null;
  if (sLevel !== eLevel) {
    const sChanged = sLevel !== severaBase.series;
    const eChanged = eLevel !== exchangeBase.series;
    if (sChanged && eChanged) {
      conflicts++;
      levelFrom = later();
    } else if (sChanged) levelFrom = 'severa';
    else if (eChanged) levelFrom = 'exchange';
  }

  if (shapeOf(s) !== shapeOf(e)) {
    // The occurrences do not line up: one series wins whole (the one whose own fields changed; else the later).
    const from = levelFrom ?? later();
    const winner = from === 'severa' ? s : e;
    const severa = from === 'severa' ? s : { ...withLevelOf(s, winner), exceptions: [...winner.exceptions] };
    const exchange = from === 'exchange' ? e : { ...withLevelOf(e, winner), exceptions: [...winner.exceptions] };
    return finish(s, e, severa, exchange, conflicts, from);
  }

  // Occurrence by occurrence.
  const sNow = exceptionsByKey(s);
  const eNow = exceptionsByKey(e);
  const sOut = new Map(sNow);
  const eOut = new Map(eNow);
  const was = (base: SeriesBase, key: string): string => {
    if (!Object.prototype.hasOwnProperty.call(base.occurrences, key)) return REGULAR;
    return base.occurrences[key] ?? DELETED;
  };
  const keys = new Set([...sNow.keys(), ...eNow.keys(), ...Object.keys(severaBase.occurrences), ...Object.keys(exchangeBase.occurrences)]);
  for (const key of keys) {
    const sx = sNow.get(key);
    const ex = eNow.get(key);
    const sState = sx ? occurrenceHash(sx) : REGULAR;
    const eState = ex ? occurrenceHash(ex) : REGULAR;
    if (sState === eState) continue;
    const sChanged = sState !== was(severaBase, key);
    const eChanged = eState !== was(exchangeBase, key);
    let from: SideName | null = null;
    if (sChanged && eChanged) {
      conflicts++;
      from = later();
    } else if (sChanged) from = 'severa';
    else if (eChanged) from = 'exchange';
    if (from === 'severa') {
      if (sx) eOut.set(key, sx);
      else eOut.delete(key);
    } else if (from === 'exchange') {
      if (ex) sOut.set(key, ex);
      else sOut.delete(key);
    }
  }
  const severa = { ...(levelFrom === 'exchange' ? withLevelOf(s, e) : s), exceptions: sortedExceptions(sOut) };
  const exchange = { ...(levelFrom === 'severa' ? withLevelOf(e, s) : e), exceptions: sortedExceptions(eOut) };
  return finish(s, e, severa, exchange, conflicts, null);
}

function finish(s: EventFields, e: EventFields, severa: EventFields, exchange: EventFields, conflicts: number, wholeFrom: SideName | null): SeriesMerge {
  return {
    severa,
    exchange,
    toSevera: contentHash(severa) !== contentHash(s),
    toExchange: contentHash(exchange) !== contentHash(e),
    conflicts,
    wholeFrom,
  };
}

export interface KeptSeveraOccurrences {
  /** The Exchange series with Severa's kept occurrences in it: what to write to Exchange when `toExchange`. */
  exchange: EventFields;
  toExchange: boolean;
  /** Kept occurrences the Exchange series has no occurrence for (its pattern moved them away): they cannot follow. */
  unplaced: OccurrenceException[];
  /** Occurrences Severa holds deleted where a change was wanted: Severa cannot bring them back, so the deletion stands. */
  deletionsKept: OccurrenceException[];
}

/**
 * After a series was copied onto Severa (`wanted`: what Severa was to hold; `severa`: what it holds after the write), the
 * occurrences Severa still holds as changed or deleted where `wanted` has a regular one. Severa's API cannot make an
 * occurrence regular again, so Severa keeps that change; it then goes to the Exchange series too (as a changed or
 * deleted occurrence), so both sides agree, instead of the two being recorded in sync while they differ.
 *
 * Why not the other way round (Severa's occurrence patched back to the pattern's values when Exchange changed later)?
 * A deleted occurrence cannot come back in Severa at all; a changed one patched back would stay an exception there, so
 * the sides would still differ. And Exchange holding an occurrence as regular rarely means someone made it regular:
 * Exchange never got Severa's change (a copy interrupted, or the series taken whole from the side changed later), so
 * nobody chose the regular occurrence over it. Keeping the change loses nothing a user did, and converges.
 *
 * An occurrence deleted in Severa where a changed one was wanted (changed in Outlook after it was deleted in Severa)
 * cannot come back in Severa either: the deletion stands on both sides, and the caller says so (`deletionsKept`),
 * rather than the two sides being recorded as agreeing while Exchange still shows the occurrence.
 */
export function keptSeveraOccurrences(input: { wanted: EventFields; severa: EventFields; exchange: EventFields }): KeptSeveraOccurrences {
  const { wanted, severa, exchange } = input;
  const wantedByKey = new Map((wanted.exceptions ?? []).map((x) => [occurrenceKeyOf(x.originalStart, severa), x]));
  const out = exceptionsByKey(exchange);
  const pattern: EventFields = { ...exchange, exceptions: [] };
  const unplaced: OccurrenceException[] = [];
  const deletionsKept: OccurrenceException[] = [];
  let toExchange = false;
  for (const x of severa.exceptions ?? []) {
    const want = wantedByKey.get(occurrenceKeyOf(x.originalStart, severa));
    const deletionStands = want !== undefined && want.fields !== null && x.fields === null;
    if (want !== undefined && !deletionStands) continue;
    let key = occurrenceKeyOf(x.originalStart, exchange);
    // Kept under its old start after the series moved to another time of day: it stands for that day's occurrence.
    if (exchange.recurrence && occurrenceAt(pattern, key) === undefined) key = occurrenceKeyOnDay(pattern, x.originalStart) ?? key;
    if (!exchange.recurrence || occurrenceAt(pattern, key) === undefined) {
      unplaced.push(x);
      continue;
    }
    const have = out.get(key);
    if (have && occurrenceHash(have) === occurrenceHash(x)) continue;
    out.set(key, { originalStart: key, fields: x.fields });
    toExchange = true;
    if (deletionStands) deletionsKept.push(x);
  }
  return { exchange: toExchange ? { ...exchange, exceptions: sortedExceptions(out) } : exchange, toExchange, unplaced, deletionsKept };
}
