import { createHash } from 'node:crypto';
import { formatInZone } from '../common/zoned-time.ts';
import { StoreError, type ActivityInput, type ActivityRec } from './activity-records.ts';
import { occurrenceStarts } from './recurrence-expansion.ts';

/**
 * Series and their occurrences in the store: a series is stored once (the master) and its occurrences are computed from
 * its recurrence (recurrence-expansion.ts), each with a stable guid derived from the master guid and its original start.
 * Changed or deleted occurrences are kept on the master (`exceptionGuids`, `removedStarts`).
 */

/** A stable guid for an occurrence: the same series and original start always give the same guid. */
export function occurrenceGuid(seriesGuid: string, originalStartMs: number): string {
  const h = createHash('sha1').update(`${seriesGuid}|${originalStartMs}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A series starts on its first occurrence (as Outlook and Severa's UI place it); the duration is kept. */
export function alignSeriesStart(input: ActivityInput, zone: string): ActivityInput {
  if (!input.recurrence) return input;
  const first = occurrenceStarts(input.recurrence, input.startMs, zone, Number.MAX_SAFE_INTEGER).next();
  if (first.done) throw new StoreError(400, 'InvalidParameter', 'The recurrence has no occurrence: check its pattern and end.');
  const shift = first.value - input.startMs;
  return { ...input, startMs: first.value, endMs: input.endMs === null ? null : input.endMs + shift };
}

/** Whether `startMs` is an occurrence of the series that has not been deleted or turned into an exception. */
export function occurrenceExists(series: ActivityRec, startMs: number, zone: string): boolean {
  if (series.removedStarts?.has(startMs) || series.exceptionGuids?.has(startMs)) return false;
  for (const s of occurrenceStarts(series.recurrence!, series.startMs, zone, startMs)) if (s === startMs) return true;
  return false;
}

/**
 * A series moved to another time of day (or otherwise re-patterned) keeps its deleted and changed occurrences on their
 * days: a kept start is moved to the new pattern's occurrence on the same local day, so the day keeps one entry (the
 * changed one, or none), as a user of a calendar expects. A start whose day the new pattern no longer has stays as it
 * was (an orphan, listed in `recurrence.exceptions` but matching no occurrence). `rec` still has the old pattern and start.
 */
export function keepExceptionsOnTheirDays(rec: ActivityRec, next: ActivityInput, zone: string, activities: Map<string, ActivityRec>): void {
  const kept = [...rec.removedStarts!, ...rec.exceptionGuids!.keys()];
  if (kept.length === 0 || (next.startMs === rec.startMs && JSON.stringify(next.recurrence) === JSON.stringify(rec.recurrence))) return;
  const dayOf = (ms: number) => formatInZone(ms, zone).slice(0, 10);
  const last = Math.max(...kept) + 2 * 86_400_000;
  const newStartByDay = new Map<string, number>();
  for (const start of occurrenceStarts(next.recurrence!, next.startMs, zone, last)) newStartByDay.set(dayOf(start), start);
  // A kept start already on the new pattern holds its day.
  const taken = new Set(kept.filter((old) => newStartByDay.get(dayOf(old)) === old));
  const moves = new Map<number, number>();
  for (const old of kept) {
    const moved = newStartByDay.get(dayOf(old));
    if (moved === undefined || moved === old || taken.has(moved)) continue;
    taken.add(moved);
    moves.set(old, moved);
  }
  if (moves.size === 0) return;
  const removed = new Set<number>();
  for (const start of rec.removedStarts!) removed.add(moves.get(start) ?? start);
  const exceptions = new Map<number, string>();
  for (const [start, guid] of rec.exceptionGuids!) {
    const moved = moves.get(start) ?? start;
    exceptions.set(moved, guid);
    const exception = activities.get(guid);
    if (exception) exception.originalStartMs = moved;
  }
  rec.removedStarts = removed;
  rec.exceptionGuids = exceptions;
}
