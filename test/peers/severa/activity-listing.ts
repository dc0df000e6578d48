import { createHash } from 'node:crypto';
import { StoreError, type ActivityFilter, type ActivityRec, type ActivityView, type StoreLookups } from './activity-records.ts';
import { lastOccurrenceStart, occurrenceStarts } from './recurrence-expansion.ts';

/**
 * Listing activities: which stored records a filter keeps, the views (single activities, exceptions, a series' masters or
 * its occurrences) each one lists as, and the page tokens (keyset cursors tied to the query) a listing continues from.
 * Which records are read, in which order (change log or insertion order, owner and participant indexes): activity-store.ts.
 */

/** First index in a sorted array whose element is not `before`. */
export function lowerBound<T>(arr: T[], before: (x: T) => boolean): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(arr[mid])) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Cursor {
  /** Source position: log ts (changedSince) or rec seq. */
  p: number;
  /** Log entry id (changedSince only). */
  q: number;
  /** Views of the item at the position already returned. */
  k: number;
}

/** Whether a stored record passes the filter's type, category, closed and user conditions. */
export function typeMatches(store: StoreLookups, rec: ActivityRec, f: ActivityFilter): boolean {
  if (f.typeGuids && f.typeGuids.length && !f.typeGuids.includes(rec.typeGuid)) return false;
  if (f.categories && f.categories.length) {
    const cat = store.types.get(rec.typeGuid)?.category;
    if (!cat || !f.categories.includes(cat)) return false;
  }
  if (f.closed !== undefined && rec.isClosed !== f.closed) return false;
  if (f.userGuids && f.userGuids.length) {
    const mine = f.userGuids.includes(rec.ownerGuid) || (f.includeAsMember === true && (rec.participants ?? []).some((p) => f.userGuids!.includes(p.userGuid)));
    if (!mine) return false;
  }
  return true;
}

/** Whether a span from `startMs` to `endMs` falls in the filter's window (wholly inside when `strict`). */
export function inWindow(startMs: number, endMs: number | null, f: ActivityFilter): boolean {
  const end = endMs ?? startMs;
  if (f.strict) return (f.startMs === undefined || startMs >= f.startMs) && (f.endMs === undefined || end <= f.endMs);
  return (f.startMs === undefined || end >= f.startMs) && (f.endMs === undefined || startMs <= f.endMs);
}

/** The listed views of one stored record under a filter, in order. */
export function* viewsOf(store: StoreLookups, rec: ActivityRec, f: ActivityFilter): Generator<ActivityView> {
  if (rec.deleted || !typeMatches(store, rec, f)) return;
  const wanted = f.recurrenceType;
  if (rec.kind === 'None' || rec.kind === 'Exception') {
    if (wanted === undefined ? true : wanted === rec.kind) {
      if (inWindow(rec.startMs, rec.endMs, f)) yield { rec, occurrenceStartMs: null };
    }
    return;
  }
  // A series master.
  const spec = rec.recurrence!;
  const duration = rec.endMs === null ? 0 : rec.endMs - rec.startMs;
  if (wanted === 'Series') {
    const last = lastOccurrenceStart(spec, rec.startMs, store.zone);
    if (inWindow(rec.startMs, last === null ? Number.MAX_SAFE_INTEGER : last + duration, f)) yield { rec, occurrenceStartMs: null };
    return;
  }
  if (wanted !== undefined && wanted !== 'Occurrence') return;
  const until = f.strict ? (f.endMs ?? Number.MAX_SAFE_INTEGER) - duration : (f.endMs ?? Number.MAX_SAFE_INTEGER);
  for (const s of occurrenceStarts(spec, rec.startMs, store.zone, until)) {
    if (rec.removedStarts!.has(s) || rec.exceptionGuids!.has(s)) continue;
    if (!inWindow(s, s + duration, f)) continue;
    yield { rec, occurrenceStartMs: s };
  }
}

/** Ties a page token to the query it came from. */
export function fingerprint(f: ActivityFilter): string {
  return createHash('sha1').update(JSON.stringify(f)).digest('base64url').slice(0, 16);
}

export function decodeToken(token: string, fingerprint: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<Cursor> & { f?: string };
    if (c.f === fingerprint && typeof c.p === 'number' && typeof c.q === 'number' && typeof c.k === 'number') return { p: c.p, q: c.q, k: c.k };
  } catch {
    // fall through to the error below
  }
  throw new StoreError(400, 'InvalidParameter', 'pageToken is not a token this query returned; start again without pageToken.');
}

export function encodeToken(c: Cursor, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ f: fingerprint, p: c.p, q: c.q, k: c.k })).toString('base64url');
}
