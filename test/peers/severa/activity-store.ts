import { createHash, randomUUID } from 'node:crypto';
import { StoreError, validateActivityInput, type ActivityFilter, type ActivityInput, type ActivityRec, type ActivityView, type MemberStatus, type Page, type ParticipantRec, type TypeRec, type UserRec, type JsonRecord } from './activity-records.ts';
import { activityFromState, activityToState, checkStoreState, StoreStateError, type StoreState } from './activity-store-state.ts';
import { decodeToken, encodeToken, fingerprint, lowerBound, viewsOf, type Cursor } from './activity-listing.ts';
import { renderActivity, renderParticipant, renderType, renderUser, userRef } from './activity-rendering.ts';
import { alignSeriesStart, keepExceptionsOnTheirDays, occurrenceExists, occurrenceGuid } from './series-occurrences.ts';

/**
 * The simulator's data: users, activity types and activities with their participants, indexed so that a request costs
 * what it returns rather than what the organization holds:
 * - a change log sorted by lastUpdatedDateTime answers `changedSince` by binary search;
 * - owner and participant indexes answer `userGuids` without scanning other users' activities;
 * - pages continue from a position (keyset), never by skipping rows already returned.
 * Recurring series are stored once (the master); occurrences are computed on read and get a stable guid derived from the
 * master guid and the occurrence's original start. Changing or deleting one occurrence turns it into a stored exception.
 * Beside it: the records and their checks (activity-records.ts), series and occurrences (series-occurrences.ts), listing
 * filters and page tokens (activity-listing.ts), rendering (activity-rendering.ts), snapshots (activity-store-state.ts).
 */

interface LogEntry {
  ts: number;
  id: number;
  rec: ActivityRec;
  gen: number;
}

const NIL = null;

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

  createActivity(input: ActivityInput, actor: string | null, opts: { guid?: string; createdMs?: number; updatedMs?: number; participants?: string[] } = {}): ActivityRec {
    validateActivityInput(this, input, true);
    input = alignSeriesStart(input, this.zone);
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
    if (!occ || !series || series.deleted || !occurrenceExists(series, occ.startMs, this.zone)) throw new StoreError(404, 'InvalidParameter', `Activity ${guid} was not found.`);
    return this.materializeException(series, occ.startMs, guid, actor);
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
    validateActivityInput(this, next, false, rec);
    if (rec.kind !== 'Exception') next = alignSeriesStart(next, this.zone);
    if (rec.kind !== 'Series' && next.recurrence && rec.kind === 'Exception') throw new StoreError(400, 'InvalidOperation', 'An occurrence of a series cannot have a recurrence of its own.');
    if (rec.kind === 'Series' && next.recurrence) keepExceptionsOnTheirDays(rec, next, this.zone, this.activities);
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

  /** `actingUser`: the API client's user when it acts as one; only the owner may delete. */
  deleteActivity(guid: string, actingUser: string | null): void {
    const rec = this.activities.get(guid);
    const occ = rec ? undefined : this.occurrences.get(guid);
    const target = rec && !rec.deleted ? rec : occ ? this.activities.get(occ.seriesGuid) : undefined;
    if (!target || target.deleted || (occ && !occurrenceExists(target, occ.startMs, this.zone))) throw new StoreError(404, 'InvalidParameter', `Activity ${guid} was not found.`);
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
    const activities = this.allStored().map((rec) => activityToState(rec, logIds.get(rec)!));
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
    checkStoreState(state);

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
      const { rec, logId } = activityFromState(a);
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
    if (!series || series.deleted || !occurrenceExists(series, occ.startMs, this.zone)) return null;
    return { rec: series, occurrenceStartMs: occ.startMs };
  }

  allStored(): ActivityRec[] {
    return this.bySeq.filter((r) => !r.deleted);
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
    const fp = fingerprint(f);
    const from = pageToken ? decodeToken(pageToken, fp) : null;
    const items: ActivityView[] = [];
    for (const { rec, p, q } of this.source(f, from)) {
      const resuming = from !== null && p === from.p && q === from.q;
      let k = 0;
      for (const view of viewsOf(this, rec, f)) {
        if (resuming && k < from.k) {
          k += 1;
          continue;
        }
        if (items.length === rowCount) return { items, nextPageToken: encodeToken({ p, q, k }, fp) };
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
    const from = pageToken ? decodeToken(pageToken, fp).p : 0;
    const items: T[] = [];
    for (let i = from; i < list.length; i++) {
      if (!filter(list[i])) continue;
      if (items.length === rowCount) return { items, nextPageToken: encodeToken({ p: i, q: 0, k: 0 }, fp) };
      items.push(list[i]);
    }
    return { items, nextPageToken: null };
  }

  // ---------- rendering (ActivityModel and friends, as the API sends them) ----------

  userRef(guid: string | null): JsonRecord | null {
    return userRef(this, guid);
  }

  renderActivity(view: ActivityView): JsonRecord {
    return renderActivity(this, view);
  }

  renderParticipant(activityGuid: string, p: ParticipantRec): JsonRecord {
    return renderParticipant(this, activityGuid, p);
  }

  renderUser(u: UserRec): JsonRecord {
    return renderUser(this, u);
  }

  renderType(t: TypeRec): JsonRecord {
    return renderType(this, t);
  }
}
