import type {
  SeveraActivity,
  SeveraActivityFilter,
  SeveraActivityInput,
  SeveraActivityType,
  SeveraParticipant,
  SeveraPatch,
  SeveraPort,
  SeveraUser,
} from '../../../src-main/sync/severa-port.ts';
import { FaultPlan } from './fault-plan.ts';

/**
 * An in-memory Severa with the semantics the engine relies on: lastUpdatedDateTime bumps on every change (also when
 * participants change), changedSince is "greater or equal", the window filter is "ends after start / starts before or on
 * end", deletions are invisible except by absence. Series are stored as masters only (the e2e tests use the simulator
 * for occurrence behaviour).
 */

export class FakeSeveraNotFound extends Error {
  readonly code = 'not-found';
  readonly status = 404;
  constructor(what: string) {
    super(`${what} was not found`);
    this.name = 'SeveraError';
  }
}

export class FakeSeveraError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'SeveraError';
    this.code = code;
  }
}

interface Stored {
  activity: SeveraActivity;
  participants: SeveraParticipant[];
}

export class FakeSevera implements SeveraPort {
  readonly faults: FaultPlan;
  readonly now: () => Date;
  users: SeveraUser[];
  types: SeveraActivityType[];
  private readonly store = new Map<string, Stored>();
  private seq = 0;
  private lastStamp = 0;
  calls: Record<string, number> = {};
  offsetMs: number | null = 0;

  constructor(opts: { users: SeveraUser[]; types: SeveraActivityType[]; now: () => Date; faults?: FaultPlan }) {
    this.users = opts.users;
    this.types = opts.types;
    this.now = opts.now;
    this.faults = opts.faults ?? new FaultPlan();
  }

  // ---- bookkeeping --------------------------------------------------------------------------------------------------

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }

  totalCalls(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  writeCalls(): number {
    return ['createActivity', 'patchActivity', 'deleteActivity', 'addParticipant', 'removeParticipant'].reduce((n, m) => n + (this.calls[m] ?? 0), 0);
  }

  resetCalls(): void {
    this.calls = {};
  }

  private stamp(): string {
    let t = this.now().getTime();
    if (t <= this.lastStamp) t = this.lastStamp + 1;
    this.lastStamp = t;
    return new Date(t).toISOString();
  }

  private typeRef(guid: string) {
    const t = this.types.find((x) => x.guid === guid);
    if (!t) throw new FakeSeveraError('bad-request', `activity type ${guid} does not exist`);
    return { guid, name: t.name ?? null, category: t.category };
  }

  private copy(s: Stored): SeveraActivity {
    return structuredClone(s.activity);
  }

  // ---- back doors: a user working in Severa's UI ----------------------------------------------------------------------

  userCreate(a: Omit<SeveraActivityInput, 'activityType'> & { activityType: { guid: string }; guid?: string; participants?: string[] }): SeveraActivity {
    const guid = a.guid ?? `S${++this.seq}`;
    const stamp = this.stamp();
    const activity: SeveraActivity = {
      guid,
      name: a.name,
      startDateTime: a.startDateTime,
      endDateTime: a.endDateTime ?? null,
      isAllDay: a.isAllDay ?? false,
      notes: a.notes ?? null,
      location: a.location ?? null,
      activityType: this.typeRef(a.activityType.guid),
      ownerUser: { guid: a.ownerUser.guid },
      recurrence: a.recurrence ?? null,
      recurrenceType: a.recurrence ? 'Series' : 'None',
      recurrenceParentActivityGuid: null,
      createdDateTime: stamp,
      lastUpdatedDateTime: stamp,
    };
    const participants = (a.participants ?? []).map((u) => ({ guid: `P${++this.seq}`, activityGuid: guid, participantGuid: u, type: 'User' as const }));
    this.store.set(guid, { activity, participants });
    return structuredClone(activity);
  }

  userUpdate(guid: string, change: Partial<SeveraActivity>): SeveraActivity {
    const s = this.store.get(guid);
    if (!s) throw new Error(`no activity ${guid}`);
    Object.assign(s.activity, structuredClone(change));
    if (change.activityType) s.activity.activityType = this.typeRef(change.activityType.guid);
    s.activity.lastUpdatedDateTime = this.stamp();
    return this.copy(s);
  }

  userDelete(guid: string): void {
    this.store.delete(guid);
  }

  userAddParticipant(guid: string, userGuid: string): void {
    const s = this.store.get(guid)!;
    s.participants.push({ guid: `P${++this.seq}`, activityGuid: guid, participantGuid: userGuid, type: 'User' });
    s.activity.lastUpdatedDateTime = this.stamp();
  }

  all(): SeveraActivity[] {
    return [...this.store.values()].map((s) => this.copy(s));
  }

  participantsOf(guid: string): string[] {
    return (this.store.get(guid)?.participants ?? []).map((p) => p.participantGuid!);
  }

  byName(name: string): SeveraActivity[] {
    return this.all().filter((a) => a.name === name);
  }

  // ---- the port ----------------------------------------------------------------------------------------------------------

  async listActivities(f: SeveraActivityFilter): Promise<SeveraActivity[]> {
    this.count('listActivities');
    this.faults.at('listActivities', 'before');
    const since = f.changedSince ? Date.parse(f.changedSince) : null;
    const from = f.startDateTime ? Date.parse(f.startDateTime) : null;
    const to = f.endDateTime ? Date.parse(f.endDateTime) : null;
    const out: SeveraActivity[] = [];
    for (const s of this.store.values()) {
      const a = s.activity;
      const isSeries = a.recurrenceType === 'Series';
      if (f.recurrenceType === 'Series' ? !isSeries : isSeries) continue;
      if (since !== null && Date.parse(a.lastUpdatedDateTime!) < since) continue;
      if (f.userGuids?.length) {
        const mine = f.userGuids.includes(a.ownerUser!.guid) || (f.includeAsMember === true && s.participants.some((p) => f.userGuids!.includes(p.participantGuid!)));
        if (!mine) continue;
      }
      const start = Date.parse(a.startDateTime!);
      const end = a.endDateTime ? Date.parse(a.endDateTime) : start;
      if (from !== null && !(end >= from)) continue;
      if (to !== null && !(start <= to)) continue;
      if (f.activityCategories?.length && !f.activityCategories.includes(a.activityType!.category!)) continue;
      out.push(this.copy(s));
    }
    return out;
  }

  async getActivity(guid: string): Promise<SeveraActivity> {
    this.count('getActivity');
    this.faults.at('getActivity', 'before');
    const s = this.store.get(guid);
    if (!s) throw new FakeSeveraNotFound(`activity ${guid}`);
    return this.copy(s);
  }

  async createActivity(model: SeveraActivityInput): Promise<SeveraActivity> {
    this.count('createActivity');
    this.faults.at('createActivity', 'before');
    if (!model.name?.trim()) throw new FakeSeveraError('bad-request', 'name is required');
    if (Number.isNaN(Date.parse(model.startDateTime))) throw new FakeSeveraError('bad-request', 'startDateTime is invalid');
    const created = this.userCreate({ ...model, participants: [] });
    this.faults.at('createActivity', 'after');
    return created;
  }

  async patchActivity(guid: string, ops: SeveraPatch[]): Promise<SeveraActivity[]> {
    this.count('patchActivity');
    this.faults.at('patchActivity', 'before');
    const s = this.store.get(guid);
    if (!s) throw new FakeSeveraNotFound(`activity ${guid}`);
    const a = s.activity;
    for (const op of ops) {
      const path = op.path;
      const v = op.value;
      if (path === '/name') a.name = String(v);
      else if (path === '/startDateTime') a.startDateTime = String(v);
      else if (path === '/endDateTime') a.endDateTime = v === null ? null : String(v);
      else if (path === '/isAllDay') a.isAllDay = String(v) === 'true';
      else if (path === '/notes') a.notes = v === null ? null : String(v);
      else if (path === '/location') a.location = v === null ? null : String(v);
      else if (path === '/activityType/guid') a.activityType = this.typeRef(String(v));
      else if (path === '/recurrence' && v === null) {
        a.recurrence = null;
        a.recurrenceType = 'None';
      } else if (path.startsWith('/recurrence/')) {
        const segs = path.split('/').slice(2);
        const rec = (a.recurrence ??= { frequency: 'Weekly' }) as unknown as Record<string, unknown>;
        let node = rec;
        for (let i = 0; i < segs.length - 1; i++) {
          if (typeof node[segs[i]] !== 'object' || node[segs[i]] === null) node[segs[i]] = {};
          node = node[segs[i]] as Record<string, unknown>;
        }
        node[segs[segs.length - 1]] = v;
        a.recurrenceType = 'Series';
      } else throw new FakeSeveraError('bad-request', `path ${path} not supported`);
    }
    a.lastUpdatedDateTime = this.stamp();
    this.faults.at('patchActivity', 'after');
    return [this.copy(s)];
  }

  async deleteActivity(guid: string): Promise<boolean> {
    this.count('deleteActivity');
    this.faults.at('deleteActivity', 'before');
    if (!this.store.has(guid)) return false;
    this.store.delete(guid);
    this.faults.at('deleteActivity', 'after');
    return true;
  }

  async listParticipants(activityGuid: string): Promise<SeveraParticipant[]> {
    this.count('listParticipants');
    this.faults.at('listParticipants', 'before');
    const s = this.store.get(activityGuid);
    if (!s) throw new FakeSeveraNotFound(`activity ${activityGuid}`);
    return structuredClone(s.participants);
  }

  async addParticipant(activityGuid: string, userGuid: string): Promise<SeveraParticipant> {
    this.count('addParticipant');
    this.faults.at('addParticipant', 'before');
    const s = this.store.get(activityGuid);
    if (!s) throw new FakeSeveraNotFound(`activity ${activityGuid}`);
    if (s.participants.some((p) => p.participantGuid === userGuid)) throw new FakeSeveraError('bad-request', 'already a participant');
    const p: SeveraParticipant = { guid: `P${++this.seq}`, activityGuid, participantGuid: userGuid, type: 'User' };
    s.participants.push(p);
    s.activity.lastUpdatedDateTime = this.stamp();
    this.faults.at('addParticipant', 'after');
    return structuredClone(p);
  }

  async removeParticipant(activityGuid: string, participantGuid: string): Promise<boolean> {
    this.count('removeParticipant');
    this.faults.at('removeParticipant', 'before');
    const s = this.store.get(activityGuid);
    if (!s) return false;
    const i = s.participants.findIndex((p) => p.guid === participantGuid);
    if (i < 0) return false;
    s.participants.splice(i, 1);
    s.activity.lastUpdatedDateTime = this.stamp();
    this.faults.at('removeParticipant', 'after');
    return true;
  }

  async listActivityTypes(): Promise<SeveraActivityType[]> {
    this.count('listActivityTypes');
    this.faults.at('listActivityTypes', 'before');
    return structuredClone(this.types);
  }

  async listUsers(): Promise<SeveraUser[]> {
    this.count('listUsers');
    this.faults.at('listUsers', 'before');
    return structuredClone(this.users);
  }

  clockOffsetMs(): number | null {
    return this.offsetMs;
  }
}
