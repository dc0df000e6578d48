import { createHash, randomUUID } from 'node:crypto';
import { formatInZone } from '../common/zoned-time.ts';
import { lastOccurrenceStart, occurrenceStarts, toRRule, type RecurrenceSpec } from './recurrence-expansion.ts';

/**
 * The simulator's data: users, activity types and activities with their participants, indexed so that a request costs
 * what it returns rather than what the organization holds:
 * - a change log sorted by lastUpdatedDateTime answers `changedSince` by binary search;
 * - owner and participant indexes answer `userGuids` without scanning other users' activities;
 * - pages continue from a position (keyset), never by skipping rows already returned.
 * Recurring series are stored once (the master); occurrences are computed on read and get a stable guid derived from the
 * master guid and the occurrence's original start. Changing or deleting one occurrence turns it into a stored exception.
 */

export type Category = 'Personal' | 'Absences' | 'CalendarEntry' | 'SalesEvent' | 'Task';
export type RecurrenceKind = 'None' | 'Occurrence' | 'Exception' | 'Series';
export type MemberStatus = 'Unknown' | 'Invited' | 'Accepted' | 'Tentative' | 'Declined';

/** ExceptionTypeEnum values the simulator answers with. */
export type ErrorType = 'InternalSystemError' | 'AuthenticationRequired' | 'InvalidParameter' | 'InvalidOperation' | 'InvalidRequest' | 'InsufficientApiScope' | 'PermissionDenied';

export class StoreError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  constructor(status: number, type: ErrorType, message: string) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

export interface UserRec {
  guid: string;
  firstName: string;
  lastName: string;
  email: string | null;
  code: string | null;
  title: string | null;
  isActive: boolean;
  defaultTypeGuid: string | null;
  timeZone: string;
  createdMs: number;
  updatedMs: number;
}

export interface TypeRec {
  guid: string;
  name: string;
  category: Category;
  code: string | null;
  isActive: boolean;
  isDefault: boolean;
  createdMs: number;
  updatedMs: number;
}

export interface ParticipantRec {
  guid: string;
  userGuid: string;
  status: MemberStatus;
}

export interface ActivityRec {
  /** Insertion order: the stable order of listings and the position a page token continues from. */
  seq: number;
  /** Bumped on every change; a change-log entry is current only while its gen matches. */
  gen: number;
  guid: string;
  name: string;
  startMs: number;
  endMs: number | null;
  isAllDay: boolean;
  notes: string | null;
  location: string | null;
  isClosed: boolean;
  typeGuid: string;
  ownerGuid: string;
  createdMs: number;
  updatedMs: number;
  createdBy: string | null;
  updatedBy: string | null;
  kind: 'None' | 'Series' | 'Exception';
  recurrence: RecurrenceSpec | null;
  /** Exception: its series and the start the occurrence had in the series. */
  seriesGuid: string | null;
  originalStartMs: number | null;
  /** Series: original starts of occurrences deleted or turned into exceptions. */
  removedStarts: Set<number> | null;
  exceptionGuids: Map<number, string> | null;
  participants: ParticipantRec[] | null;
  deleted: boolean;
}

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

/** The fields a create or an edit sets. */
export interface ActivityInput {
  name: string;
  startMs: number;
  endMs: number | null;
  isAllDay: boolean;
  notes: string | null;
  location: string | null;
  isClosed: boolean;
  typeGuid: string;
  ownerGuid: string;
  recurrence: RecurrenceSpec | null;
}

export interface ActivityFilter {
  userGuids?: string[];
  includeAsMember?: boolean;
  startMs?: number;
  endMs?: number;
  strict?: boolean;
  changedSinceMs?: number;
  categories?: string[];
  typeGuids?: string[];
  recurrenceType?: RecurrenceKind;
  closed?: boolean;
}

/** One listed item: a stored activity, or an occurrence computed from a series. */
export interface ActivityView {
  rec: ActivityRec;
  occurrenceStartMs: number | null;
}

interface LogEntry {
  ts: number;
  id: number;
  rec: ActivityRec;
  gen: number;
}

interface Cursor {
  /** Source position: log ts (changedSince) or rec seq. */
  p: number;
  /** Log entry id (changedSince only). */
  q: number;
  /** Views of the item at the position already returned. */
  k: number;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
}

export type JsonRecord = Record<string, unknown>;

const NIL = null;

/** A stable guid for an occurrence: the same series and original start always give the same guid. */
export function occurrenceGuid(seriesGuid: string, originalStartMs: number): string {
  const h = createHash('sha1').update(`${seriesGuid}|${originalStartMs}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function lowerBound<T>(arr: T[], before: (x: T) => boolean): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(arr[mid])) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SeveraStore {
  readonly zone: string;
  private readonly now: () => number;
  readonly users = new Map<string, UserRec>();
  readonly userList: UserRec[] = [];
  readonly types = new Map<string, TypeRec>();
  readonly typeList: TypeRec[] = [];
  private readonly activities = new Map<string, ActivityRec>();
  private bySeq: ActivityRec[] = [];
  private readonly byOwner = new Map<string, Set<ActivityRec>>();
  private readonly byMember = new Map<string, Set<ActivityRec>>();
  private log: LogEntry[] = [];
  private staleLogEntries = 0;
  private nextSeq = 1;
  private nextLogId = 1;
  /** Occurrence guids handed out so far -> (series, original start), so a client can read or change one it has seen. */
  private readonly occurrences = new Map<string, { seriesGuid: string; startMs: number }>();
  private readonly participantIndex = new Map<string, ActivityRec>();

  constructor(zone: string, now: () => number) {
    this.zone = zone;
    this.now = now;
  }

  // ---------- users and types ----------

  addUser(u: Omit<UserRec, 'createdMs' | 'updatedMs'> & { createdMs?: number; updatedMs?: number }): UserRec {
    const t = this.now();
    const rec: UserRec = { ...u, createdMs: u.createdMs ?? t, updatedMs: u.updatedMs ?? t };
    this.users.set(rec.guid, rec);
    this.userList.push(rec);
    return rec;
  }

  addType(ty: Omit<TypeRec, 'createdMs' | 'updatedMs'>): TypeRec {
    const t = this.now();
    const rec: TypeRec = { ...ty, createdMs: t, updatedMs: t };
    this.types.set(rec.guid, rec);
    this.typeList.push(rec);
    return rec;
  }

  activityCount(): number {
    return this.activities.size;
  }

  // ---------- writes ----------

  private stampTime(): number {
    // Keep the change log sorted even if the configured clock skew is lowered while running.
    const last = this.log.length ? this.log[this.log.length - 1].ts : 0;
    return Math.max(this.now(), last);
  }

  private touch(rec: ActivityRec, actor: string | null, at?: number): void {
    rec.gen += 1;
    rec.updatedMs = at ?? this.stampTime();
    rec.updatedBy = actor;
    const entry: LogEntry = { ts: rec.updatedMs, id: this.nextLogId++, rec, gen: rec.gen };
    const last = this.log[this.log.length - 1];
    if (!last || last.ts <= entry.ts) this.log.push(entry);
    else this.log.splice(lowerBound(this.log, (e) => e.ts <= entry.ts), 0, entry); // seed data given out of order
    if (rec.gen > 1) this.staleLogEntries += 1;
    if (this.staleLogEntries > 1000 && this.staleLogEntries > this.log.length / 2) this.compact();
  }

  private compact(): void {
    this.log = this.log.filter((e) => !e.rec.deleted && e.gen === e.rec.gen);
    this.bySeq = this.bySeq.filter((r) => !r.deleted);
    this.staleLogEntries = 0;
  }

  private validateInput(input: ActivityInput, isNew: boolean, current?: ActivityRec): void {
    if (!input.name.trim()) throw new StoreError(400, 'InvalidParameter', 'The activity name may not be empty.');
    const type = this.types.get(input.typeGuid);
    if (!type) throw new StoreError(400, 'InvalidParameter', `Activity type ${input.typeGuid} does not exist.`);
    if (!type.isActive && (isNew || current?.typeGuid !== input.typeGuid)) throw new StoreError(400, 'InvalidParameter', `Activity type "${type.name}" is not active.`);
    const owner = this.users.get(input.ownerGuid);
    if (!owner) throw new StoreError(400, 'InvalidParameter', `User ${input.ownerGuid} does not exist.`);
    if (!owner.isActive && (isNew || current?.ownerGuid !== input.ownerGuid)) throw new StoreError(400, 'InvalidParameter', `User ${owner.firstName} ${owner.lastName} is not active.`);
    if (!Number.isFinite(input.startMs)) throw new StoreError(400, 'InvalidParameter', 'startDateTime is not a valid date-time.');
    if (input.endMs !== null && (!Number.isFinite(input.endMs) || input.endMs < input.startMs)) throw new StoreError(400, 'InvalidParameter', 'endDateTime must not be before startDateTime.');
    if (input.location !== null && input.location.length > 1000) throw new StoreError(400, 'InvalidParameter', 'location may have at most 1000 characters.');
  }

  /** A series starts on its first occurrence (as Outlook and Severa's UI place it); the duration is kept. */
  private alignSeriesStart(input: ActivityInput): ActivityInput {
    if (!input.recurrence) return input;
    const first = occurrenceStarts(input.recurrence, input.startMs, this.zone, Number.MAX_SAFE_INTEGER).next();
    if (first.done) throw new StoreError(400, 'InvalidParameter', 'The recurrence has no occurrence: check its pattern and end.');
    const shift = first.value - input.startMs;
    return { ...input, startMs: first.value, endMs: input.endMs === null ? null : input.endMs + shift };
  }

  createActivity(input: ActivityInput, actor: string | null, opts: { guid?: string; createdMs?: number; updatedMs?: number; participants?: string[] } = {}): ActivityRec {
    this.validateInput(input, true);
    input = this.alignSeriesStart(input);
    const guid = opts.guid ?? randomUUID();
    if (this.activities.has(guid) || this.occurrences.has(guid)) throw new StoreError(400, 'InvalidParameter', `Activity ${guid} already exists.`);
    const now = this.now();
    const rec: ActivityRec = {
      seq: this.nextSeq++,
      gen: 0,
      guid,
      name: input.name,
      startMs: input.startMs,
      endMs: input.endMs,
      isAllDay: input.isAllDay,
      notes: input.notes,
      location: input.location,
      isClosed: input.isClosed,
      typeGuid: input.typeGuid,
      ownerGuid: input.ownerGuid,
      createdMs: Math.min(opts.createdMs ?? now, opts.updatedMs ?? now),
      updatedMs: 0,
      createdBy: actor,
      updatedBy: actor,
      kind: input.recurrence ? 'Series' : 'None',
      recurrence: input.recurrence,
      seriesGuid: NIL,
      originalStartMs: NIL,
      removedStarts: input.recurrence ? new Set() : NIL,
      exceptionGuids: input.recurrence ? new Map() : NIL,
      participants: NIL,
      deleted: false,
    };
    this.activities.set(guid, rec);
    this.bySeq.push(rec);
    this.indexAdd(this.byOwner, rec.ownerGuid, rec);
    for (const userGuid of opts.participants ?? []) this.attachParticipant(rec, userGuid);
    this.touch(rec, actor, opts.updatedMs !== undefined ? Math.min(opts.updatedMs, now) : undefined);
    return rec;
  }

  private indexAdd(index: Map<string, Set<ActivityRec>>, key: string, rec: ActivityRec): void {
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(rec);
  }

  private indexRemove(index: Map<string, Set<ActivityRec>>, key: string, rec: ActivityRec): void {
    index.get(key)?.delete(rec);
  }

  private attachParticipant(rec: ActivityRec, userGuid: string, status: MemberStatus = 'Accepted'): ParticipantRec {
    const user = this.users.get(userGuid);
    if (!user) throw new StoreError(400, 'InvalidParameter', `User ${userGuid} does not exist.`);
    if (rec.participants?.some((p) => p.userGuid === userGuid)) throw new StoreError(400, 'InvalidOperation', `${user.firstName} ${user.lastName} already takes part in this activity.`);
    const p: ParticipantRec = { guid: randomUUID(), userGuid, status };
    (rec.participants ??= []).push(p);
    this.participantIndex.set(p.guid, rec);
    this.indexAdd(this.byMember, userGuid, rec);
    return p;
  }

  /** Resolves a guid to a stored record for a write; a known occurrence is first turned into a stored exception. */
  private resolveForWrite(guid: string, actor: string | null): ActivityRec {
    const rec = this.activities.get(guid);
    if (rec && !rec.deleted) return rec;
    const occ = this.occurrences.get(guid);
    const series = occ ? this.activities.get(occ.seriesGuid) : undefined;
    if (!occ || !series || series.deleted || !this.occurrenceExists(series, occ.startMs)) throw new StoreError(404, 'InvalidParameter', `Activity ${guid} was not found.`);
    return this.materializeException(series, occ.startMs, guid, actor);
  }

  private occurrenceExists(series: ActivityRec, startMs: number): boolean {
    if (series.removedStarts?.has(startMs) || series.exceptionGuids?.has(startMs)) return false;
    for (const s of occurrenceStarts(series.recurrence!, series.startMs, this.zone, startMs)) if (s === startMs) return true;
    return false;
  }

  private materializeException(series: ActivityRec, startMs: number, guid: string, actor: string | null): ActivityRec {
    const duration = series.endMs === null ? null : series.endMs - series.startMs;
    const exception = this.createActivity(
      {
        name: series.name,
        startMs,
        endMs: duration === null ? null : startMs + duration,
        isAllDay: series.isAllDay,
        notes: series.notes,
        location: series.location,
        isClosed: series.isClosed,
        typeGuid: series.typeGuid,
        ownerGuid: series.ownerGuid,
        recurrence: null,
      },
      actor,
      { guid: undefined },
    );
    // The exception keeps the occurrence's guid, so whoever paired the occurrence keeps its pair.
    this.activities.delete(exception.guid);
    exception.guid = guid;
    this.activities.set(guid, exception);
    exception.kind = 'Exception';
    exception.seriesGuid = series.guid;
    exception.originalStartMs = startMs;
    for (const p of series.participants ?? []) this.attachParticipant(exception, p.userGuid, p.status);
    series.exceptionGuids!.set(startMs, guid);
    this.occurrences.delete(guid);
    this.touch(series, actor);
    return exception;
  }

  updateActivity(guid: string, change: (current: ActivityInput) => ActivityInput, actor: string | null): ActivityRec {
    const rec = this.resolveForWrite(guid, actor);
    const current: ActivityInput = {
      name: rec.name,
      startMs: rec.startMs,
      endMs: rec.endMs,
      isAllDay: rec.isAllDay,
      notes: rec.notes,
      location: rec.location,
      isClosed: rec.isClosed,
      typeGuid: rec.typeGuid,
      ownerGuid: rec.ownerGuid,
      recurrence: rec.recurrence,
    };
    let next = change(current);
    this.validateInput(next, false, rec);
    if (rec.kind !== 'Exception') next = this.alignSeriesStart(next);
    if (rec.kind !== 'Series' && next.recurrence && rec.kind === 'Exception') throw new StoreError(400, 'InvalidOperation', 'An occurrence of a series cannot have a recurrence of its own.');
    if (rec.kind === 'Series' && next.recurrence) this.keepExceptionsOnTheirDays(rec, next);
    if (next.ownerGuid !== rec.ownerGuid) {
      this.indexRemove(this.byOwner, rec.ownerGuid, rec);
      this.indexAdd(this.byOwner, next.ownerGuid, rec);
    }
    rec.name = next.name;
    rec.startMs = next.startMs;
    rec.endMs = next.endMs;
    rec.isAllDay = next.isAllDay;
    rec.notes = next.notes;
    rec.location = next.location;
    rec.isClosed = next.isClosed;
    rec.typeGuid = next.typeGuid;
    rec.ownerGuid = next.ownerGuid;
    if (rec.kind === 'Series' && !next.recurrence) {
      // Ending the series: its exceptions go with it, as when the series is deleted.
      for (const exGuid of rec.exceptionGuids!.values()) {
        const ex = this.activities.get(exGuid);
        if (ex) this.remove(ex);
      }
      rec.removedStarts = NIL;
      rec.exceptionGuids = NIL;
    }
    if (rec.kind !== 'Exception') {
      rec.recurrence = next.recurrence;
      rec.kind = next.recurrence ? 'Series' : 'None';
      rec.removedStarts ??= next.recurrence ? new Set() : NIL;
      rec.exceptionGuids ??= next.recurrence ? new Map() : NIL;
    }
    this.touch(rec, actor);
    return rec;
  }

  /**
   * A series moved to another time of day (or otherwise re-patterned) keeps its deleted and changed occurrences on their
   * days: a kept start is moved to the new pattern's occurrence on the same local day, so the day keeps one entry (the
   * changed one, or none), as a user of a calendar expects. A start whose day the new pattern no longer has stays as it
   * was (an orphan, listed in `recurrence.exceptions` but matching no occurrence). `rec` still has the old pattern and start.
   */
  private keepExceptionsOnTheirDays(rec: ActivityRec, next: ActivityInput): void {
    const kept = [...rec.removedStarts!, ...rec.exceptionGuids!.keys()];
    if (kept.length === 0 || (next.startMs === rec.startMs && JSON.stringify(next.recurrence) === JSON.stringify(rec.recurrence))) return;
    const dayOf = (ms: number) => formatInZone(ms, this.zone).slice(0, 10);
    const last = Math.max(...kept) + 2 * 86_400_000;
    const newStartByDay = new Map<string, number>();
    for (const start of occurrenceStarts(next.recurrence!, next.startMs, this.zone, last)) newStartByDay.set(dayOf(start), start);
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
      const exception = this.activities.get(guid);
      if (exception) exception.originalStartMs = moved;
    }
    rec.removedStarts = removed;
    rec.exceptionGuids = exceptions;
  }

  /** `actingUser`: the API client's user when it acts as one; only the owner may delete. */
  deleteActivity(guid: string, actingUser: string | null): void {
    const rec = this.activities.get(guid);
    const occ = rec ? undefined : this.occurrences.get(guid);
    const target = rec && !rec.deleted ? rec : occ ? this.activities.get(occ.seriesGuid) : undefined;
    if (!target || target.deleted || (occ && !this.occurrenceExists(target, occ.startMs))) throw new StoreError(404, 'InvalidParameter', `Activity ${guid} was not found.`);
    if (actingUser !== null && target.ownerGuid !== actingUser) throw new StoreError(403, 'PermissionDenied', 'Only the owner of an activity can delete it; a participant can only leave it.');
    if (occ) {
      target.removedStarts!.add(occ.startMs);
      this.occurrences.delete(guid);
      this.touch(target, actingUser);
      return;
    }
    if (target.kind === 'Exception') {
      const series = this.activities.get(target.seriesGuid!);
      if (series && !series.deleted) {
        series.exceptionGuids!.delete(target.originalStartMs!);
        series.removedStarts!.add(target.originalStartMs!);
        this.touch(series, actingUser);
      }
    }
    if (target.kind === 'Series') {
      for (const exGuid of target.exceptionGuids!.values()) {
        const ex = this.activities.get(exGuid);
        if (ex) this.remove(ex);
      }
    }
    this.remove(target);
  }

  private remove(rec: ActivityRec): void {
    rec.deleted = true;
    this.activities.delete(rec.guid);
    this.indexRemove(this.byOwner, rec.ownerGuid, rec);
    for (const p of rec.participants ?? []) {
      this.indexRemove(this.byMember, p.userGuid, rec);
      this.participantIndex.delete(p.guid);
    }
    this.staleLogEntries += 1;
    if (this.staleLogEntries > 1000 && this.staleLogEntries > this.log.length / 2) this.compact();
  }

  // ---------- state snapshots ----------

  /** Everything the store holds, as JSON data: restoreState(exportState()) gives back the same answers to every request. */
  exportState(): StoreState {
    const logIds = new Map<ActivityRec, number>();
    for (const e of this.log) if (!e.rec.deleted && e.gen === e.rec.gen) logIds.set(e.rec, e.id);
    const activities = this.allStored().map((rec): ActivityRecState => {
      const { removedStarts, exceptionGuids, deleted: _deleted, ...rest } = rec;
      return {
        ...structuredClone(rest),
        removedStarts: removedStarts ? [...removedStarts].sort((a, b) => a - b) : null,
        exceptionGuids: exceptionGuids ? [...exceptionGuids].sort((a, b) => a[0] - b[0]) : null,
        logId: logIds.get(rec)!,
      };
    });
    const occurrences = [...this.occurrences]
      .filter(([, o]) => this.activities.get(o.seriesGuid)?.kind === 'Series')
      .map(([guid, o]) => ({ guid, seriesGuid: o.seriesGuid, startMs: o.startMs }));
    return {
      nextSeq: this.nextSeq,
      nextLogId: this.nextLogId,
      users: this.userList.map((u) => ({ ...u })),
      activityTypes: this.typeList.map((t) => ({ ...t })),
      activities,
      occurrences,
    };
  }

  /**
   * Loads a snapshot into this (empty) store. References between records (types, owners, participants, series and their
   * exceptions) and the counters are checked, so a hand-edited snapshot is refused with the record named.
   */
  restoreState(state: StoreState): void {
    if (this.activities.size || this.users.size || this.types.size) throw new StoreStateError('the store is not empty');
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

    for (const u of state.users) {
      const rec = { ...u };
      this.users.set(rec.guid, rec);
      this.userList.push(rec);
    }
    for (const t of state.activityTypes) {
      const rec = { ...t };
      this.types.set(rec.guid, rec);
      this.typeList.push(rec);
    }
    const entries: LogEntry[] = [];
    for (const a of [...state.activities].sort((x, y) => x.seq - y.seq)) {
      const { removedStarts, exceptionGuids, logId, ...rest } = structuredClone(a);
      const rec: ActivityRec = { ...rest, removedStarts: removedStarts ? new Set(removedStarts) : NIL, exceptionGuids: exceptionGuids ? new Map(exceptionGuids) : NIL, deleted: false };
      this.activities.set(rec.guid, rec);
      this.bySeq.push(rec);
      this.indexAdd(this.byOwner, rec.ownerGuid, rec);
      for (const p of rec.participants ?? []) {
        this.participantIndex.set(p.guid, rec);
        this.indexAdd(this.byMember, p.userGuid, rec);
      }
      entries.push({ ts: rec.updatedMs, id: logId, rec, gen: rec.gen });
    }
    // Only each record's current entry is ever listed; older ones would be skipped, so they are not needed.
    this.log = entries.sort((x, y) => x.ts - y.ts || x.id - y.id);
    this.nextSeq = state.nextSeq;
    this.nextLogId = state.nextLogId;
    for (const o of state.occurrences) this.occurrences.set(o.guid, { seriesGuid: o.seriesGuid, startMs: o.startMs });
  }

  // ---------- participants ----------

  participantsOf(guid: string): { activityGuid: string; participants: ParticipantRec[] } {
    const view = this.getView(guid);
    if (!view) throw new StoreError(404, 'InvalidParameter', `Activity ${guid} was not found.`);
    return { activityGuid: guid, participants: view.rec.participants ?? [] };
  }

  addParticipant(activityGuid: string, userGuid: string, status: MemberStatus | undefined, actor: string | null): { rec: ActivityRec; participant: ParticipantRec } {
    const rec = this.resolveForWrite(activityGuid, actor);
    const user = this.users.get(userGuid);
    if (!user) throw new StoreError(400, 'InvalidParameter', `User ${userGuid} does not exist.`);
    if (!user.isActive) throw new StoreError(400, 'InvalidParameter', `User ${user.firstName} ${user.lastName} is not active.`);
    const participant = this.attachParticipant(rec, userGuid, status ?? 'Accepted');
    this.touch(rec, actor);
    return { rec, participant };
  }

  removeParticipant(activityGuid: string, participantGuid: string, actor: string | null): void {
    let rec = this.activities.get(activityGuid);
    if (!rec) {
      const occ = this.occurrences.get(activityGuid);
      const series = occ && this.activities.get(occ.seriesGuid);
      const p = series?.participants?.find((x) => x.guid === participantGuid);
      if (!occ || !series || !p) throw new StoreError(404, 'InvalidParameter', `Participant ${participantGuid} was not found in activity ${activityGuid}.`);
      // Leaving one occurrence: the occurrence becomes an exception without that user (the API documents this).
      rec = this.resolveForWrite(activityGuid, actor);
      participantGuid = rec.participants!.find((x) => x.userGuid === p.userGuid)!.guid;
    }
    const index = rec.participants?.findIndex((p) => p.guid === participantGuid) ?? -1;
    if (index < 0) throw new StoreError(404, 'InvalidParameter', `Participant ${participantGuid} was not found in activity ${activityGuid}.`);
    const [p] = rec.participants!.splice(index, 1);
    this.participantIndex.delete(p.guid);
    this.indexRemove(this.byMember, p.userGuid, rec);
    this.touch(rec, actor);
  }

  participantByGuid(guid: string): { rec: ActivityRec; participant: ParticipantRec } | null {
    const rec = this.participantIndex.get(guid);
    const participant = rec?.participants?.find((p) => p.guid === guid);
    return rec && participant ? { rec, participant } : null;
  }

  // ---------- reads ----------

  getView(guid: string): ActivityView | null {
    const rec = this.activities.get(guid);
    if (rec && !rec.deleted) return { rec, occurrenceStartMs: null };
    const occ = this.occurrences.get(guid);
    if (!occ) return null;
    const series = this.activities.get(occ.seriesGuid);
    if (!series || series.deleted || !this.occurrenceExists(series, occ.startMs)) return null;
    return { rec: series, occurrenceStartMs: occ.startMs };
  }

  allStored(): ActivityRec[] {
    return this.bySeq.filter((r) => !r.deleted);
  }

  private typeMatches(rec: ActivityRec, f: ActivityFilter): boolean {
    if (f.typeGuids && f.typeGuids.length && !f.typeGuids.includes(rec.typeGuid)) return false;
    if (f.categories && f.categories.length) {
      const cat = this.types.get(rec.typeGuid)?.category;
      if (!cat || !f.categories.includes(cat)) return false;
    }
    if (f.closed !== undefined && rec.isClosed !== f.closed) return false;
    if (f.userGuids && f.userGuids.length) {
      const mine = f.userGuids.includes(rec.ownerGuid) || (f.includeAsMember === true && (rec.participants ?? []).some((p) => f.userGuids!.includes(p.userGuid)));
      if (!mine) return false;
    }
    return true;
  }

  private inWindow(startMs: number, endMs: number | null, f: ActivityFilter): boolean {
    const end = endMs ?? startMs;
    if (f.strict) return (f.startMs === undefined || startMs >= f.startMs) && (f.endMs === undefined || end <= f.endMs);
    return (f.startMs === undefined || end >= f.startMs) && (f.endMs === undefined || startMs <= f.endMs);
  }

  /** The listed views of one stored record under a filter, in order. */
  private *viewsOf(rec: ActivityRec, f: ActivityFilter): Generator<ActivityView> {
    if (rec.deleted || !this.typeMatches(rec, f)) return;
    const wanted = f.recurrenceType;
    if (rec.kind === 'None' || rec.kind === 'Exception') {
      if (wanted === undefined ? true : wanted === rec.kind) {
        if (this.inWindow(rec.startMs, rec.endMs, f)) yield { rec, occurrenceStartMs: null };
      }
      return;
    }
    // A series master.
    const spec = rec.recurrence!;
    const duration = rec.endMs === null ? 0 : rec.endMs - rec.startMs;
    if (wanted === 'Series') {
      const last = lastOccurrenceStart(spec, rec.startMs, this.zone);
      if (this.inWindow(rec.startMs, last === null ? Number.MAX_SAFE_INTEGER : last + duration, f)) yield { rec, occurrenceStartMs: null };
      return;
    }
    if (wanted !== undefined && wanted !== 'Occurrence') return;
    const until = f.strict ? (f.endMs ?? Number.MAX_SAFE_INTEGER) - duration : (f.endMs ?? Number.MAX_SAFE_INTEGER);
    for (const s of occurrenceStarts(spec, rec.startMs, this.zone, until)) {
      if (rec.removedStarts!.has(s) || rec.exceptionGuids!.has(s)) continue;
      if (!this.inWindow(s, s + duration, f)) continue;
      yield { rec, occurrenceStartMs: s };
    }
  }

  private fingerprint(f: ActivityFilter): string {
    return createHash('sha1').update(JSON.stringify(f)).digest('base64url').slice(0, 16);
  }

  private decodeToken(token: string, fingerprint: string): Cursor {
    try {
      const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<Cursor> & { f?: string };
      if (c.f === fingerprint && typeof c.p === 'number' && typeof c.q === 'number' && typeof c.k === 'number') return { p: c.p, q: c.q, k: c.k };
    } catch {
      // fall through to the error below
    }
    throw new StoreError(400, 'InvalidParameter', 'pageToken is not a token this query returned; start again without pageToken.');
  }

  private encodeToken(c: Cursor, fingerprint: string): string {
    return Buffer.from(JSON.stringify({ f: fingerprint, p: c.p, q: c.q, k: c.k })).toString('base64url');
  }

  /** Stored records from a cursor position, each with the cursor that resumes at it. */
  private *source(f: ActivityFilter, from: Cursor | null): Generator<{ rec: ActivityRec; p: number; q: number }> {
    if (f.changedSinceMs !== undefined) {
      const start = from
        ? lowerBound(this.log, (e) => e.ts < from.p || (e.ts === from.p && e.id < from.q))
        : lowerBound(this.log, (e) => e.ts < f.changedSinceMs!);
      for (let i = start; i < this.log.length; i++) {
        const e = this.log[i];
        if (e.rec.deleted || e.gen !== e.rec.gen) continue;
        yield { rec: e.rec, p: e.ts, q: e.id };
      }
      return;
    }
    if (f.userGuids && f.userGuids.length) {
      const candidates = new Set<ActivityRec>();
      for (const u of f.userGuids) {
        for (const r of this.byOwner.get(u) ?? []) candidates.add(r);
        if (f.includeAsMember) for (const r of this.byMember.get(u) ?? []) candidates.add(r);
      }
      const fromSeq = from?.p ?? 0;
      const ordered = [...candidates].filter((r) => r.seq >= fromSeq).sort((a, b) => a.seq - b.seq);
      for (const rec of ordered) yield { rec, p: rec.seq, q: 0 };
      return;
    }
    const start = from ? lowerBound(this.bySeq, (r) => r.seq < from.p) : 0;
    for (let i = start; i < this.bySeq.length; i++) {
      const rec = this.bySeq[i];
      if (!rec.deleted) yield { rec, p: rec.seq, q: 0 };
    }
  }

  listActivities(f: ActivityFilter, pageToken: string | null, rowCount: number): Page<ActivityView> {
    const fp = this.fingerprint(f);
    const from = pageToken ? this.decodeToken(pageToken, fp) : null;
    const items: ActivityView[] = [];
    for (const { rec, p, q } of this.source(f, from)) {
      const resuming = from !== null && p === from.p && q === from.q;
      let k = 0;
      for (const view of this.viewsOf(rec, f)) {
        if (resuming && k < from.k) {
          k += 1;
          continue;
        }
        if (items.length === rowCount) return { items, nextPageToken: this.encodeToken({ p, q, k }, fp) };
        items.push(view);
        if (view.occurrenceStartMs !== null) this.occurrences.set(occurrenceGuid(rec.guid, view.occurrenceStartMs), { seriesGuid: rec.guid, startMs: view.occurrenceStartMs });
        k += 1;
      }
    }
    return { items, nextPageToken: null };
  }

  /** Users or activity types by position, with `filter` applied. */
  listSimple<T>(list: T[], filter: (x: T) => boolean, pageToken: string | null, rowCount: number, fingerprintOf: string): Page<T> {
    const fp = createHash('sha1').update(fingerprintOf).digest('base64url').slice(0, 16);
    const from = pageToken ? this.decodeToken(pageToken, fp).p : 0;
    const items: T[] = [];
    for (let i = from; i < list.length; i++) {
      if (!filter(list[i])) continue;
      if (items.length === rowCount) return { items, nextPageToken: this.encodeToken({ p: i, q: 0, k: 0 }, fp) };
      items.push(list[i]);
    }
    return { items, nextPageToken: null };
  }

  // ---------- rendering (ActivityModel and friends, as the API sends them) ----------

  private dt(ms: number): string {
    return formatInZone(ms, this.zone);
  }

  userRef(guid: string | null): JsonRecord | null {
    if (!guid) return null;
    const u = this.users.get(guid);
    if (!u) return null;
    return { guid: u.guid, firstName: u.firstName, lastName: u.lastName, name: `${u.firstName} ${u.lastName}`, code: u.code };
  }

  renderActivity(view: ActivityView): JsonRecord {
    const { rec } = view;
    const type = this.types.get(rec.typeGuid);
    const owner = this.users.get(rec.ownerGuid);
    const isOccurrence = view.occurrenceStartMs !== null;
    const start = isOccurrence ? view.occurrenceStartMs! : rec.startMs;
    const end = rec.endMs === null ? null : isOccurrence ? start + (rec.endMs - rec.startMs) : rec.endMs;
    let recurrence: JsonRecord | null = null;
    let recurrenceRule: string | null = null;
    if (rec.kind === 'Series' && !isOccurrence) {
      const spec = rec.recurrence!;
      const last = lastOccurrenceStart(spec, rec.startMs, this.zone);
      recurrence = {
        frequency: spec.frequency,
        pattern: spec.pattern ?? null,
        range: spec.range ?? null,
        lastOccurrenceDateTime: last === null ? null : this.dt(last),
        exceptions: [...rec.removedStarts!, ...rec.exceptionGuids!.keys()].sort((a, b) => a - b).map((ms) => this.dt(ms)),
      };
      recurrenceRule = toRRule(spec, last);
    }
    return {
      guid: isOccurrence ? occurrenceGuid(rec.guid, start) : rec.guid,
      name: rec.name,
      startDateTime: this.dt(start),
      endDateTime: end === null ? null : this.dt(end),
      isAllDay: rec.isAllDay,
      hasDuration: end !== null && end > start,
      hasHours: false,
      isClosed: rec.isClosed,
      isUnassigned: false,
      notes: rec.notes,
      location: rec.location,
      activityType: { guid: rec.typeGuid, name: type?.name ?? null, category: type?.category ?? 'CalendarEntry' },
      ownerUser: { guid: rec.ownerGuid, name: owner ? `${owner.firstName} ${owner.lastName}` : null, code: owner?.code ?? null, keywords: [] },
      createdBy: this.userRef(rec.createdBy),
      lastUpdatedBy: this.userRef(rec.updatedBy),
      createdDateTime: this.dt(rec.createdMs),
      lastUpdatedDateTime: this.dt(rec.updatedMs),
      customer: null,
      phase: null,
      projectTaskStatus: null,
      recurrence,
      recurrenceRule,
      recurrenceType: isOccurrence ? 'Occurrence' : rec.kind,
      recurrenceParentActivityGuid: isOccurrence ? rec.guid : rec.kind === 'Exception' ? rec.seriesGuid : null,
    };
  }

  renderParticipant(activityGuid: string, p: ParticipantRec): JsonRecord {
    const u = this.users.get(p.userGuid);
    return {
      guid: p.guid,
      activityGuid,
      participantGuid: p.userGuid,
      name: u ? `${u.firstName} ${u.lastName}` : null,
      email: u?.email ?? null,
      isActive: u?.isActive ?? false,
      status: p.status,
      type: 'User',
      phone: null,
      mobilePhone: null,
    };
  }

  renderUser(u: UserRec): JsonRecord {
    const type = u.defaultTypeGuid ? this.types.get(u.defaultTypeGuid) : undefined;
    return {
      guid: u.guid,
      firstName: u.firstName,
      lastName: u.lastName,
      email: u.email,
      code: u.code,
      title: u.title,
      isActive: u.isActive,
      defaultActivityType: type ? { guid: type.guid, name: type.name } : null,
      timezone: { guid: null, ianaName: u.timeZone, name: u.timeZone, systemName: null },
      createdDateTime: this.dt(u.createdMs),
      lastUpdatedDateTime: this.dt(u.updatedMs),
      keywords: [],
    };
  }

  renderType(t: TypeRec): JsonRecord {
    return {
      guid: t.guid,
      name: t.name,
      category: t.category,
      code: t.code,
      isActive: t.isActive,
      isDefault: t.isDefault,
      isPaidLeave: t.category === 'Absences' ? true : null,
      createdDateTime: this.dt(t.createdMs),
      lastUpdatedDateTime: this.dt(t.updatedMs),
    };
  }
}

