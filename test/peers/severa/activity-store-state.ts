import type { ActivityRec, TypeRec, UserRec } from './activity-records.ts';

/**
 * The store as JSON data, for state snapshots (the simulator's whole state document: severa-state.ts): the records in
 * their JSON form, the checks a snapshot passes before it is loaded, and the conversions both ways. The store's
 * exportState() and restoreState() (activity-store.ts) use these and put the indexes and the change log back.
 */

/** A stored activity in a state snapshot: the record as JSON data, plus the id of its current change-log entry. */
export interface ActivityRecState extends Omit<ActivityRec, 'removedStarts' | 'exceptionGuids' | 'deleted'> {
  removedStarts: number[] | null;
  /** Series: [original start, exception guid] pairs. */
  exceptionGuids: Array<[number, string]> | null;
  /** Orders changes made in the same millisecond, for `changedSince` and its page tokens. */
  logId: number;
}

/** The store as JSON data; see severa-state.ts. */
export interface StoreState {
  nextSeq: number;
  nextLogId: number;
  users: UserRec[];
  activityTypes: TypeRec[];
  activities: ActivityRecState[];
  /** Occurrence guids clients have been shown, so they can still read or change those occurrences. */
  occurrences: Array<{ guid: string; seriesGuid: string; startMs: number }>;
}

export class StoreStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreStateError';
  }
}

/** A stored record as JSON data, with the id of its current change-log entry. */
export function activityToState(rec: ActivityRec, logId: number): ActivityRecState {
  const { removedStarts, exceptionGuids, deleted: _deleted, ...rest } = rec;
  return {
    ...structuredClone(rest),
    removedStarts: removedStarts ? [...removedStarts].sort((a, b) => a - b) : null,
    exceptionGuids: exceptionGuids ? [...exceptionGuids].sort((a, b) => a[0] - b[0]) : null,
    logId,
  };
}

/** A record back from its JSON form (copied, so the store does not share objects with the snapshot). */
export function activityFromState(a: ActivityRecState): { rec: ActivityRec; logId: number } {
  const { removedStarts, exceptionGuids, logId, ...rest } = structuredClone(a);
  const rec: ActivityRec = { ...rest, removedStarts: removedStarts ? new Set(removedStarts) : null, exceptionGuids: exceptionGuids ? new Map(exceptionGuids) : null, deleted: false };
  return { rec, logId };
}

/**
 * Checks a snapshot before it is loaded: references between records (types, owners, participants, series and their
 * exceptions) and the counters, so a hand-edited snapshot is refused with the record named.
 */
export function checkStoreState(state: StoreState): void {
  const fail = (what: string): never => {
    throw new StoreStateError(what);
  };
  const unique = (what: string, keys: Array<string | number>) => {
    const seen = new Set<string | number>();
    for (const k of keys) {
      if (seen.has(k)) fail(`${what} ${k} appears twice`);
      seen.add(k);
    }
  };
  unique('user', state.users.map((u) => u.guid));
  unique('activity type', state.activityTypes.map((t) => t.guid));
  unique('activity', state.activities.map((a) => a.guid));
  unique('activity seq', state.activities.map((a) => a.seq));
  unique('change-log id', state.activities.map((a) => a.logId));
  unique('participant', state.activities.flatMap((a) => (a.participants ?? []).map((p) => p.guid)));
  const users = new Set(state.users.map((u) => u.guid));
  const types = new Set(state.activityTypes.map((t) => t.guid));
  for (const u of state.users) if (u.defaultTypeGuid && !types.has(u.defaultTypeGuid)) fail(`user ${u.guid}: its default activity type ${u.defaultTypeGuid} is not in activityTypes`);
  const byGuid = new Map(state.activities.map((a) => [a.guid, a]));
  for (const a of state.activities) {
    const what = `activity ${a.guid} ('${a.name}')`;
    if (a.seq >= state.nextSeq) fail(`${what}: seq ${a.seq} is not below nextSeq ${state.nextSeq}`);
    if (a.logId >= state.nextLogId) fail(`${what}: logId ${a.logId} is not below nextLogId ${state.nextLogId}`);
    if (!types.has(a.typeGuid)) fail(`${what}: activity type ${a.typeGuid} is not in activityTypes`);
    if (!users.has(a.ownerGuid)) fail(`${what}: owner ${a.ownerGuid} is not in users`);
    for (const p of a.participants ?? []) if (!users.has(p.userGuid)) fail(`${what}: participant ${p.userGuid} is not in users`);
    const isSeries = a.kind === 'Series';
    if (isSeries !== (a.recurrence !== null) || isSeries !== (a.removedStarts !== null) || isSeries !== (a.exceptionGuids !== null)) {
      fail(`${what}: only a series (kind Series) has a recurrence, removedStarts and exceptionGuids`);
    }
    if ((a.kind === 'Exception') !== (a.seriesGuid !== null && a.originalStartMs !== null)) fail(`${what}: only an exception has seriesGuid and originalStartMs`);
    if (a.kind === 'Exception') {
      const series = byGuid.get(a.seriesGuid!);
      if (series?.kind !== 'Series' || !series.exceptionGuids!.some(([start, guid]) => start === a.originalStartMs && guid === a.guid)) {
        fail(`${what}: its series ${a.seriesGuid} does not list it as an exception`);
      }
    }
    for (const [, guid] of a.exceptionGuids ?? []) if (byGuid.get(guid)?.kind !== 'Exception') fail(`${what}: its exception ${guid} is not a stored exception`);
  }
  for (const o of state.occurrences) if (byGuid.get(o.seriesGuid)?.kind !== 'Series') fail(`occurrence ${o.guid}: its series ${o.seriesGuid} is not a stored series`);
}
