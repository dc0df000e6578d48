import { createHash } from 'node:crypto';
import { CalendarError } from '../calendar-connector.ts';

/**
 * The Graph connector's sync state for one mailbox, kept by the engine as an opaque string:
 * - the `calendarView/delta` link and the window it was opened for (a delta token is bound to its window: a new
 *   window is a new initial round, which never deletes anything, since items leaving the window are not reported);
 * - which series each occurrence id seen belongs to. Delta lists occurrences, never series masters, and reports a
 *   cancelled occurrence or a deleted series only as removed occurrence ids; this index leads back to the master. Ids
 *   are kept as short hashes, so a mailbox with many series costs a few kB.
 */

const PREFIX = 'graph-delta:';

export interface GraphSyncState {
  /** The /users/{…} path that reaches the mailbox (saves a directory lookup in a new process). */
  userPath?: string;
  /** The window the delta link was opened for (ISO instants). */
  windowStart: string;
  windowEnd: string;
  deltaLink: string;
  /** Series master ids, referred to by position in `occurrences`. */
  masters: string[];
  /** Hash of an occurrence id -> position of its master in `masters`. */
  occurrences: Record<string, number>;
}

export function occurrenceKey(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 12);
}

export function encodeSyncState(state: GraphSyncState): string {
  // Drop masters no occurrence refers to any more, renumbering the rest.
  const used = [...new Set(Object.values(state.occurrences))].sort((a, b) => a - b);
  const renumber = new Map(used.map((old, i) => [old, i]));
  const occurrences: Record<string, number> = {};
  for (const [k, v] of Object.entries(state.occurrences)) occurrences[k] = renumber.get(v)!;
  return PREFIX + JSON.stringify({ ...state, masters: used.map((i) => state.masters[i]), occurrences });
}

/** The state the engine kept, or null for "from the beginning"; a state that is not this connector's is refused. */
export function decodeSyncState(text: string | null): GraphSyncState | null {
  if (text === null || text === '') return null;
  const invalid = () => new CalendarError('invalid-sync-state', 'The stored sync position is not a Microsoft Graph delta position.');
  if (typeof text !== 'string' || !text.startsWith(PREFIX)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(PREFIX.length));
  } catch {
    throw invalid();
  }
  const s = parsed as Partial<GraphSyncState>;
  const ok =
    typeof s?.windowStart === 'string' &&
    typeof s.windowEnd === 'string' &&
    typeof s.deltaLink === 'string' &&
    (s.userPath === undefined || (typeof s.userPath === 'string' && s.userPath.startsWith('/users/'))) &&
    Array.isArray(s.masters) &&
    s.masters.every((m) => typeof m === 'string') &&
    typeof s.occurrences === 'object' &&
    s.occurrences !== null &&
    Object.values(s.occurrences).every((v) => Number.isInteger(v) && v >= 0 && v < s.masters!.length);
  if (!ok) throw invalid();
  return s as GraphSyncState;
}

/** Index of occurrence ids -> master ids, edited while a round is read. */
export class OccurrenceIndex {
  readonly #masters: string[];
  readonly #position = new Map<string, number>();
  readonly #occurrences: Record<string, number>;

  constructor(state: GraphSyncState | null) {
    this.#masters = [...(state?.masters ?? [])];
    this.#masters.forEach((m, i) => this.#position.set(m, i));
    this.#occurrences = { ...(state?.occurrences ?? {}) };
  }

  masterOf(occurrenceId: string): string | undefined {
    const i = this.#occurrences[occurrenceKey(occurrenceId)];
    return i === undefined ? undefined : this.#masters[i];
  }

  add(occurrenceId: string, masterId: string): void {
    let i = this.#position.get(masterId);
    if (i === undefined) {
      i = this.#masters.push(masterId) - 1;
      this.#position.set(masterId, i);
    }
    this.#occurrences[occurrenceKey(occurrenceId)] = i;
  }

  remove(occurrenceId: string): void {
    delete this.#occurrences[occurrenceKey(occurrenceId)];
  }

  /** Forgets every occurrence of a master (deleted, or about to be listed again). */
  forgetMaster(masterId: string): void {
    const i = this.#position.get(masterId);
    if (i === undefined) return;
    for (const [k, v] of Object.entries(this.#occurrences)) if (v === i) delete this.#occurrences[k];
  }

  toState(window: { windowStart: string; windowEnd: string }, deltaLink: string, userPath: string): GraphSyncState {
    return { userPath, ...window, deltaLink, masters: this.#masters, occurrences: this.#occurrences };
  }
}
