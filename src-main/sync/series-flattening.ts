import type { EventFields, OccurrenceException, SideEvent } from './calendar-event.ts';
import { contentHash } from './event-content-hash.ts';
import { occurrenceAt, occurrenceKeyOf, type SeriesOccurrence } from './recurrence-rule.ts';

/**
 * Where one side cannot hold the other's series, the occurrences inside the window travel as single items, and the
 * report says so (one note per series). What each side cannot hold, as far as this project knows:
 *
 * - Severa (severaRecurrenceProblem, severaHorizonProblem in severa-activity-mapping.ts): "every N weeks" counted in
 *   weeks that start on another day than Monday where that moves dates; a series going on past about two years after
 *   its start while the window reaches that far (Severa shows no occurrence beyond that).
 * - Exchange (the connector's recurrenceProblem): more than 999 occurrences; on Exchange 2007 SP1, "every N weeks"
 *   counted from another day than Sunday where that moves dates. The Severa side of this is flattened by the snapshot
 *   (its occurrences are listed by the API as rows of their own).
 *
 * An Exchange series whose pattern Severa cannot hold travels as its occurrences inside the window, each one paired
 * with a single Severa activity. Pure helpers for that: the id an occurrence is paired under, the occurrence as a
 * single event, and the series after one occurrence changed (how a change made in Severa is written back: as an
 * exception of the Exchange series, never as a new item).
 *
 * The occurrence id is the series' own id plus the occurrence's original start, not the server's occurrence item id:
 * it stays the same whatever the server does with its ids, and it says which series to write to.
 */

const SEPARATOR = '#occurrence:';

export function occurrenceItemId(seriesId: string, key: string): string {
  return `${seriesId}${SEPARATOR}${key}`;
}

/** The series id and occurrence key of an occurrence id; null for any other id. */
export function parseOccurrenceItemId(id: string): { seriesId: string; key: string } | null {
  const at = typeof id === 'string' ? id.lastIndexOf(SEPARATOR) : -1;
  if (at <= 0) return null;
  const key = id.slice(at + SEPARATOR.length);
  return key ? { seriesId: id.slice(0, at), key } : null;
}

/** The id to read or re-read on the server for an id the engine holds (a series for an occurrence id). */
export function serverItemId(id: string): string {
  return parseOccurrenceItemId(id)?.seriesId ?? id;
}

/**
 * One occurrence as a single event of its own. Its version is its content, so a write to another occurrence of the
 * same series (which gives the series a new ChangeKey) does not read as a change of this one. A meeting's occurrences
 * get UIDs of their own, so the copies in other enrolled mailboxes pair occurrence by occurrence.
 */
export function occurrenceEvent(series: SideEvent, occurrence: SeriesOccurrence): SideEvent {
  const fields: EventFields = { ...occurrence.fields, recurrence: null, exceptions: [] };
  return {
    id: occurrenceItemId(series.id, occurrence.key),
    version: contentHash(fields),
    lastModified: series.lastModified,
    fields,
    ...(series.uid ? { uid: `${series.uid}${SEPARATOR}${occurrence.key}` } : {}),
  };
}

/** The occurrence with this key of a series as read, as an event; null when the series has no such occurrence now. */
export function occurrenceEventAt(series: SideEvent, key: string): SideEvent | null {
  const fields = occurrenceAt(series.fields, key);
  return fields ? occurrenceEvent(series, { key: occurrenceKeyOf(key, series.fields), fields }) : null;
}

type OccurrenceFields = Omit<EventFields, 'recurrence' | 'exceptions'>;

const sameContent = (a: OccurrenceFields, b: OccurrenceFields) =>
  contentHash({ ...a, recurrence: null, exceptions: [] }) === contentHash({ ...b, recurrence: null, exceptions: [] });

/**
 * The series' fields after the occurrence `key` changed to `fields` (null: deleted). An occurrence changed back to
 * what the pattern gives is no exception any more.
 */
export function seriesWithOccurrence(series: EventFields, key: string, fields: OccurrenceFields | null): EventFields {
  const k = occurrenceKeyOf(key, series);
  const others = series.exceptions.filter((x) => occurrenceKeyOf(x.originalStart, series) !== k);
  const exceptions: OccurrenceException[] = [...others];
  if (fields === null) exceptions.push({ originalStart: k, fields: null });
  else {
    const pattern = occurrenceAt({ ...series, exceptions: others }, k);
    const { recurrence: _r, exceptions: _x, ...wanted } = { ...series, ...fields, timeZone: series.timeZone } as EventFields;
    if (!pattern || !sameContent(pattern, wanted)) exceptions.push({ originalStart: k, fields: { ...wanted, exceptions: [] } });
  }
  exceptions.sort((a, b) => (a.originalStart < b.originalStart ? -1 : a.originalStart > b.originalStart ? 1 : 0));
  return { ...series, exceptions };
}
