import type { CycleReport } from '../../src-main/common/sync-report.ts';
import type { ActivityRec } from '../peers/severa/activity-records.ts';
import { occurrenceGuid } from '../peers/severa/series-occurrences.ts';
import type { OutlookInput, OutlookItem, OutlookRecurrence } from '../sync/outlook-back-door.ts';
import { dateText, dayOffset, localDay, localMs, shiftLocalDays, weekdayOf } from './firm-time.ts';
import type { SeededRandom } from './seeded-random.ts';
import { TIME_ZONE, TYPES, type Person, type SyncWorld } from './sync-world.ts';

/**
 * The soak's users: people editing their Outlook calendars and Severa, at random but reproducibly (seeded), through the
 * simulators' back doors (as a user in Outlook or the Severa UI would, with ChangeKeys and last-update times bumped); in
 * Outlook through the neutral back door, so the same edits land on on-premises Exchange and on Exchange Online.
 *
 * Every logical entry carries a token in its subject (`K17 ...`), kept through every edit, so the final check can tell
 * what belongs together on both sides without trusting the product's own bookkeeping. The ledger remembers who created
 * each entry, who takes part, and whether a user ever deleted it: an entry nobody deleted must exist at the end.
 */

export const TOKEN = /\bK\d+\b/;

export function tokenOf(text: string | null | undefined): string | null {
  return TOKEN.exec(text ?? '')?.[0] ?? null;
}

export interface LedgerEntry {
  token: string;
  origin: 'exchange' | 'severa';
  kind: 'single' | 'meeting' | 'series';
  owner: Person;
  /** Enrolled people who take part besides the owner (and did not leave). */
  members: Set<Person>;
  allDay: boolean;
  /** The Severa type a Severa-side user chose (Exchange-born entries get theirs from the sync rules). */
  severaType: string | null;
  /** Category Task (project task): never in Exchange. */
  neverToExchange: boolean;
  /** A user deleted it on either side at some point (it may legitimately be gone, or back after a conflict). */
  deletedByUser: boolean;
  rev: number;
  history: string[];
  /**
   * A twin (the same entry typed on both sides) stays untouched until its owner's first sync went through: the first
   * sync pairs twins by subject and time, so renaming one side before that makes two different entries, rightly.
   */
  frozenUntilSyncOf: Person | null;
}

export type EditKind =
  | 'ex.create'
  | 'ex.meeting'
  | 'ex.series'
  | 'ex.update'
  | 'ex.occurrence'
  | 'ex.delete'
  | 'ex.leave'
  | 'sv.create'
  | 'sv.participants'
  | 'sv.series'
  | 'sv.update'
  | 'sv.occurrence'
  | 'sv.delete'
  | 'sv.addParticipant'
  | 'sv.removeParticipant'
  | 'both.twin';

export interface WorkloadOptions {
  /** Recurring series with changed and deleted occurrences (default true). */
  series?: boolean;
  /** Attendees keep a cancelled meeting's copy ("Canceled: ...") instead of removing it (default false). */
  keepCancelledCopies?: boolean;
  /** Days ahead within which entries are placed (must sit inside the sync window). */
  horizonDays?: number;
  /**
   * Outlook meetings with attendees (default true). A hybrid organization's soak leaves them out: the simulators carry
   * no mail between each other, so an invitation or update could not reach an attendee whose mailbox lives on the other
   * one (in Exchange it travels by mail).
   */
  outlookMeetings?: boolean;
  /** Whether a user can edit their Outlook calendar now (default: always; not while their mailbox's move completes). */
  outlookEditable?: (person: Person) => boolean;
}

const WORDS = ['budget', 'review', 'kickoff', 'sauna', 'workshop', 'planning', 'retro', 'lunch', 'demo', 'sync', 'audit', 'offsite', 'training', 'interview', 'call'];
const PLACES = ['Room Koli', 'Room Kota', 'Helsinki office', 'Espoo HQ', 'Teams', 'Customer site', 'Tampere'];
const SEVERA_TYPES_FOR_EVENTS = [TYPES.meeting, TYPES.customerVisit, TYPES.salesCall, TYPES.personal] as const;

export class SoakWorkload {
  readonly entries = new Map<string, LedgerEntry>();
  readonly done: Partial<Record<EditKind, number>> = {};
  /** Prefix of history lines: where in the run an edit happened (e.g. "before c3", "during c3"). */
  moment = 'before c1';
  readonly #world: SyncWorld;
  readonly #rng: SeededRandom;
  readonly #series: boolean;
  readonly #keepCancelled: boolean;
  readonly #horizon: number;
  readonly #meetings: boolean;
  readonly #editable: (person: Person) => boolean;
  #next = 1;

  constructor(world: SyncWorld, rng: SeededRandom, options: WorkloadOptions = {}) {
    this.#world = world;
    this.#rng = rng;
    this.#series = options.series ?? true;
    this.#keepCancelled = options.keepCancelledCopies ?? false;
    this.#horizon = options.horizonDays ?? 40;
    this.#meetings = options.outlookMeetings ?? true;
    this.#editable = options.outlookEditable ?? (() => true);
  }

  get people(): Person[] {
    return this.#world.people;
  }

  /** Tells the workload which users' syncs went through (committed), so their twins may be edited from now on. */
  observeCycle(report: CycleReport | null): void {
    for (const u of report?.users ?? []) {
      if (u.outcome !== 'ok' && u.outcome !== 'partial') continue;
      for (const e of this.entries.values()) if (e.frozenUntilSyncOf?.severaEmail === u.email) e.frozenUntilSyncOf = null;
    }
  }

  /** Several random edits; returns what was done, one line each. */
  step(count: number): string[] {
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const line = this.edit();
      if (line) lines.push(line);
    }
    return lines;
  }

  /** One random edit by one user; null when the chosen kind found nothing to act on (rare). */
  edit(kind?: EditKind): string | null {
    const live = [...this.entries.values()].filter((e) => !e.deletedByUser);
    const many = this.people.length > 1;
    const meetings = many && this.#meetings;
    const chosen =
      kind ??
      this.#rng.weighted<EditKind>({
        'ex.create': 10,
        'ex.meeting': meetings ? 5 : 0,
        'ex.series': this.#series ? 3 : 0,
        'ex.update': live.length ? 14 : 0,
        'ex.occurrence': this.#series && live.length ? 4 : 0,
        'ex.delete': live.length ? 5 : 0,
        'ex.leave': meetings && live.length ? 2 : 0,
        'sv.create': 10,
        'sv.participants': many ? 4 : 0,
        'sv.series': this.#series ? 3 : 0,
        'sv.update': live.length ? 14 : 0,
        'sv.occurrence': this.#series && live.length ? 4 : 0,
        'sv.delete': live.length ? 5 : 0,
        'sv.addParticipant': many && live.length ? 3 : 0,
        'sv.removeParticipant': many && live.length ? 2 : 0,
        'both.twin': 0,
      });
    const line = this.#apply(chosen);
    if (line) this.done[chosen] = (this.done[chosen] ?? 0) + 1;
    return line;
  }

  // ---- helpers -------------------------------------------------------------------------------------------------------

  #note(entry: LedgerEntry, line: string): void {
    entry.history.push(`${this.moment}: ${line}`);
  }

  #newEntry(e: Omit<LedgerEntry, 'token' | 'deletedByUser' | 'rev' | 'history' | 'frozenUntilSyncOf'>): LedgerEntry {
    const entry: LedgerEntry = { ...e, token: `K${this.#next++}`, deletedByUser: false, rev: 1, history: [], frozenUntilSyncOf: null };
    this.entries.set(entry.token, entry);
    return entry;
  }

  #subject(entry: LedgerEntry): string {
    return `${entry.token} ${this.#rng.pick(WORDS)} r${entry.rev}`;
  }

  #exItems(person: Person, token: string): OutlookItem[] {
    return this.#world.outlook.items(person.mailbox).filter((i) => tokenOf(i.subject) === token);
  }

  #svRecs(token: string): ActivityRec[] {
    return this.#world.severa.store.allStored().filter((r) => r.kind !== 'Exception' && tokenOf(r.name) === token);
  }

  #personByGuid(guid: string): Person | undefined {
    return this.people.find((p) => p.severaGuid === guid);
  }

  /** A start time for a new entry: a working hour on a day within the horizon. */
  #slot(maxDay = this.#horizon): { startMs: number; endMs: number } {
    const day = this.#rng.int(1, maxDay);
    const startMs = localMs(this.#world.today, day, this.#rng.int(8, 16), this.#rng.pick([0, 30]));
    return { startMs, endMs: startMs + this.#rng.pick([30, 60, 90]) * 60_000 };
  }

  #allDaySlot(): { startMs: number; endMs: number } {
    const day = this.#rng.int(1, this.#horizon - 3);
    return { startMs: localMs(this.#world.today, day), endMs: localMs(this.#world.today, day + this.#rng.int(1, 3)) };
  }

  /** A new start for a move that keeps the entry inside the horizon. */
  #moved(startMs: number, endMs: number, allDay: boolean, byDaysOnly: boolean): { startMs: number; endMs: number } {
    const today = this.#world.today;
    const days = this.#rng.pick([-2, -1, 1, 2]);
    const moveDays = allDay || (!byDaysOnly && this.#rng.chance(0.5)) ? days : 0;
    let s = startMs;
    let e = endMs;
    if (moveDays !== 0 || allDay) {
      const from = dayOffset(today, s);
      const lastDay = dayOffset(today, e - 1);
      const d = from + moveDays < 1 || lastDay + moveDays > this.#horizon + 2 ? -moveDays : moveDays;
      s = shiftLocalDays(s, d);
      e = shiftLocalDays(e, d);
    } else if (!byDaysOnly) {
      const hours = this.#rng.pick([-1, 1, 2]);
      s += hours * 3_600_000;
      e += hours * 3_600_000;
    }
    return { startMs: s, endMs: e };
  }

  #weeklyRecurrence(startMs: number, count: number): OutlookRecurrence {
    return {
      pattern: { type: 'weekly', interval: 1, daysOfWeek: [weekdayOf(startMs).toLowerCase() as NonNullable<OutlookRecurrence['pattern']['daysOfWeek']>[number]], firstDayOfWeek: 'monday' },
      range: { type: 'numbered', startDate: dateText(localDay(this.#world.today, dayOffset(this.#world.today, startMs))), numberOfOccurrences: count },
    };
  }

  #pickLive(filter: (e: LedgerEntry) => boolean): LedgerEntry | null {
    const options = [...this.entries.values()].filter((e) => !e.deletedByUser && !e.frozenUntilSyncOf && filter(e));
    return options.length ? this.#rng.pick(options) : null;
  }

  #others(owner: Person, n: number): Person[] {
    return this.#rng.sample(this.people.filter((p) => p !== owner), n);
  }

  // ---- the edits -----------------------------------------------------------------------------------------------------

  #apply(kind: EditKind): string | null {
    switch (kind) {
      case 'ex.create':
        return this.#exCreate(false, false);
      case 'ex.meeting':
        return this.#exCreate(true, false);
      case 'ex.series':
        return this.#exCreate(this.#rng.chance(0.4) && this.people.length > 1 && this.#meetings, true);
      case 'ex.update':
        return this.#exUpdate();
      case 'ex.occurrence':
        return this.#exOccurrence();
      case 'ex.delete':
        return this.#exDelete();
      case 'ex.leave':
        return this.#exLeave();
      case 'sv.create':
        return this.#svCreate(false, false);
      case 'sv.participants':
        return this.#svCreate(true, false);
      case 'sv.series':
        return this.#svCreate(this.#rng.chance(0.4) && this.people.length > 1, true);
      case 'sv.update':
        return this.#svUpdate();
      case 'sv.occurrence':
        return this.#svOccurrence();
      case 'sv.delete':
        return this.#svDelete();
      case 'sv.addParticipant':
        return this.#svAddParticipant();
      case 'sv.removeParticipant':
        return this.#svRemoveParticipant();
      case 'both.twin':
        return this.#twin();
    }
  }

  #exCreate(meeting: boolean, series: boolean): string | null {
    const owners = this.people.filter(this.#editable);
    if (!owners.length) return null;
    const owner = this.#rng.pick(owners);
    const attendees = meeting ? this.#others(owner, this.#rng.int(1, Math.min(2, this.people.length - 1))) : [];
    const allDay = !meeting && !series && this.#rng.chance(0.12);
    const isPrivate = !meeting && this.#rng.chance(0.2);
    const entry = this.#newEntry({ origin: 'exchange', kind: series ? 'series' : meeting ? 'meeting' : 'single', owner, members: new Set(attendees), allDay, severaType: null, neverToExchange: false });
    const { startMs, endMs } = allDay ? this.#allDaySlot() : this.#slot(series ? 12 : this.#horizon);
    const item = this.#world.outlook.create(owner.mailbox, {
      subject: this.#subject(entry),
      start: new Date(startMs).toISOString(),
      end: new Date(endMs).toISOString(),
      isAllDay: allDay,
      timeZone: TIME_ZONE,
      location: this.#rng.chance(0.6) ? this.#rng.pick(PLACES) : '',
      body: this.#rng.chance(0.5) ? `Agenda: ${this.#rng.pick(WORDS)} and ${this.#rng.pick(WORDS)}.` : '',
      isPrivate,
      attendees: attendees.map((a) => a.mailbox),
      recurrence: series ? this.#weeklyRecurrence(startMs, this.#rng.int(3, 5)) : null,
    });
    const what = `${owner.first} creates in Outlook ${entry.kind} ${entry.token}${attendees.length ? ` with ${attendees.map((a) => a.first).join(', ')}` : ''}${isPrivate ? ' (private)' : ''}${allDay ? ' (all day)' : ''} at ${item.start}`;
    this.#note(entry, what);
    return what;
  }

  /** The copies a user may edit in Outlook: the organizer's item of a meeting; any member's own copy otherwise. */
  #editableCopies(entry: LedgerEntry): Array<{ person: Person; item: OutlookItem }> {
    const out: Array<{ person: Person; item: OutlookItem }> = [];
    const people = entry.kind === 'meeting' || (entry.origin === 'exchange' && entry.kind === 'series' && entry.members.size > 0) ? [entry.owner] : [entry.owner, ...entry.members];
    for (const person of people) {
      if (!this.#editable(person)) continue;
      for (const item of this.#exItems(person, entry.token)) {
        if (item.isCancelled) continue;
        // An attendee's copy of someone else's meeting is the organizer's to change.
        if (item.organizer !== person.mailbox && item.attendees.length > 0) continue;
        out.push({ person, item });
      }
    }
    return out;
  }

  #exUpdate(): string | null {
    const entry = this.#pickLive((e) => this.#editableCopies(e).length > 0);
    if (!entry) return null;
    const { person, item } = this.#rng.pick(this.#editableCopies(entry));
    const patch: Partial<OutlookInput> = {};
    const changes: string[] = [];
    const what = this.#rng.weighted({ subject: 3, location: 2, body: 2, time: 3, privacy: entry.kind === 'meeting' || item.recurrence ? 0 : 1 });
    if (what === 'subject') {
      entry.rev++;
      patch.subject = this.#subject(entry);
      changes.push(`subject "${patch.subject}"`);
    } else if (what === 'location') {
      patch.location = this.#rng.pick(PLACES);
      changes.push(`location "${patch.location}"`);
    } else if (what === 'body') {
      patch.body = `Notes ${this.#rng.int(1, 999)}: ${this.#rng.pick(WORDS)}.`;
      changes.push('body');
    } else if (what === 'time') {
      const moved = this.#moved(Date.parse(item.start), Date.parse(item.end), item.isAllDay, false);
      if (item.recurrence) {
        // A series moves by hours only, so its weekday pattern stays true (moving a series drops its exceptions, as Outlook does).
        const hours = this.#rng.pick([-1, 1]);
        patch.start = new Date(Date.parse(item.start) + hours * 3_600_000).toISOString();
        patch.end = new Date(Date.parse(item.end) + hours * 3_600_000).toISOString();
      } else {
        patch.start = new Date(moved.startMs).toISOString();
        patch.end = new Date(moved.endMs).toISOString();
      }
      changes.push(`moved to ${patch.start}`);
    } else {
      patch.isPrivate = !item.isPrivate;
      changes.push(patch.isPrivate ? 'made private' : 'made public');
    }
    this.#world.outlook.update(person.mailbox, item.id, patch);
    const line = `${person.first} changes ${entry.token} in Outlook: ${changes.join(', ')}`;
    this.#note(entry, line);
    return line;
  }

  #exOccurrence(): string | null {
    const entry = this.#pickLive((e) => e.kind === 'series' && this.#editableCopies(e).some((c) => c.item.recurrence !== null));
    if (!entry) return null;
    const { person, item } = this.#rng.pick(this.#editableCopies(entry).filter((c) => c.item.recurrence !== null));
    // The series' occurrences still as the pattern makes them (not deleted, not changed), as the calendar shows them.
    const from = localMs(this.#world.today, -7);
    const slots = this.#world.outlook.view(person.mailbox, from, from + 400 * 86_400_000).filter((o) => o.itemId === item.id && !o.isException && o.originalStart !== null);
    // Keep at least two regular occurrences, so the series stays a series.
    if (slots.length < 3) return null;
    const occ = this.#rng.pick(slots.slice(1));
    const originalStart = new Date(occ.originalStart!).toISOString();
    let line: string;
    if (this.#rng.chance(0.4)) {
      this.#world.outlook.cancelOccurrence(person.mailbox, item.id, originalStart);
      line = `${person.first} deletes one occurrence of ${entry.token} in Outlook (${originalStart})`;
    } else {
      const shift = this.#rng.chance(0.5) ? 3_600_000 : 0;
      this.#world.outlook.updateOccurrence(person.mailbox, item.id, originalStart, {
        subject: `${entry.token} ${this.#rng.pick(WORDS)} (moved)`,
        start: new Date(occ.start + shift).toISOString(),
        end: new Date(occ.end + shift).toISOString(),
      });
      line = `${person.first} changes one occurrence of ${entry.token} in Outlook (${originalStart})`;
    }
    this.#note(entry, line);
    return line;
  }

  #exDelete(): string | null {
    // The owner deletes their own copy: for a meeting, the organizer cancels it.
    const entry = this.#pickLive((e) => this.#editable(e.owner) && this.#exItems(e.owner, e.token).some((i) => !i.isCancelled && (i.organizer === e.owner.mailbox || i.attendees.length === 0)));
    if (!entry) return null;
    for (const item of this.#exItems(entry.owner, entry.token)) this.#world.outlook.delete(entry.owner.mailbox, item.id);
    if (!this.#keepCancelled) {
      // Attendees answer the cancellation with "Remove from calendar".
      for (const p of this.people) {
        if (p === entry.owner) continue;
        for (const item of this.#exItems(p, entry.token)) if (item.isCancelled) this.#world.outlook.delete(p.mailbox, item.id);
      }
    }
    entry.deletedByUser = true;
    const line = `${entry.owner.first} deletes ${entry.token} in Outlook`;
    this.#note(entry, line);
    return line;
  }

  #exLeave(): string | null {
    const entry = this.#pickLive((e) => [...e.members].some((m) => this.#exItems(m, e.token).length > 0));
    if (!entry) return null;
    const member = this.#rng.pick([...entry.members].filter((m) => this.#exItems(m, entry.token).length > 0));
    for (const item of this.#exItems(member, entry.token)) this.#world.outlook.delete(member.mailbox, item.id);
    entry.members.delete(member);
    const line = `${member.first} removes ${entry.token} from their Outlook calendar (leaves it)`;
    this.#note(entry, line);
    return line;
  }

  #svCreate(withParticipants: boolean, series: boolean): string {
    const owner = this.#rng.pick(this.people);
    const type = series
      ? this.#rng.pick([TYPES.meeting, TYPES.customerVisit])
      : this.#rng.weighted({ [TYPES.meeting]: 5, [TYPES.customerVisit]: 2, [TYPES.personal]: 2, [TYPES.salesCall]: 2, [TYPES.vacation]: 1, [TYPES.projectTask]: 2 } as Record<string, number>);
    const allDay = type === TYPES.vacation;
    const participants = withParticipants && type !== TYPES.personal ? this.#others(owner, this.#rng.int(1, Math.min(2, this.people.length - 1))) : [];
    const entry = this.#newEntry({ origin: 'severa', kind: series ? 'series' : 'single', owner, members: new Set(participants), allDay, severaType: type, neverToExchange: type === TYPES.projectTask });
    const { startMs, endMs } = allDay ? this.#allDaySlot() : this.#slot(series ? 12 : this.#horizon);
    const created = this.#world.severa.createActivity({
      name: this.#subject(entry),
      startDateTime: new Date(startMs).toISOString(),
      endDateTime: new Date(endMs).toISOString(),
      isAllDay: allDay,
      notes: this.#rng.chance(0.5) ? `Notes: ${this.#rng.pick(WORDS)}.` : null,
      location: this.#rng.chance(0.5) ? this.#rng.pick(PLACES) : null,
      activityType: { guid: type },
      ownerUser: { guid: owner.severaGuid },
      recurrence: series
        ? { frequency: 'Weekly', pattern: { weekly: { interval: 1, [weekdayOf(startMs).toLowerCase()]: true } }, range: { maxOccurrences: this.#rng.int(3, 5) } }
        : null,
    });
    for (const p of participants) this.#world.severa.addParticipant(String(created.guid), p.severaGuid);
    const line = `${owner.first} creates in Severa ${series ? 'series' : 'activity'} ${entry.token} (${typeName(type)})${participants.length ? ` with ${participants.map((p) => p.first).join(', ')}` : ''} at ${String(created.startDateTime)}`;
    this.#note(entry, line);
    return line;
  }

  #svUpdate(): string | null {
    const entry = this.#pickLive((e) => this.#svRecs(e.token).length > 0);
    if (!entry) return null;
    const rec = this.#rng.pick(this.#svRecs(entry.token));
    const patch: Record<string, unknown> = {};
    const eventType = (SEVERA_TYPES_FOR_EVENTS as readonly string[]).includes(rec.typeGuid);
    const what = this.#rng.weighted({ name: 3, location: 2, notes: 2, time: 3, type: eventType && rec.kind === 'None' ? 1 : 0 });
    let change: string;
    if (what === 'name') {
      entry.rev++;
      patch.name = this.#subject(entry);
      change = `name "${String(patch.name)}"`;
    } else if (what === 'location') {
      patch.location = this.#rng.pick(PLACES);
      change = `location "${String(patch.location)}"`;
    } else if (what === 'notes') {
      patch.notes = `Notes ${this.#rng.int(1, 999)}: ${this.#rng.pick(WORDS)}.`;
      change = 'notes';
    } else if (what === 'time') {
      const endMs = rec.endMs ?? rec.startMs;
      let moved: { startMs: number; endMs: number };
      if (rec.kind === 'Series') {
        const hours = this.#rng.pick([-1, 1]);
        moved = { startMs: rec.startMs + hours * 3_600_000, endMs: endMs + hours * 3_600_000 };
      } else moved = this.#moved(rec.startMs, endMs, rec.isAllDay, false);
      patch.startDateTime = new Date(moved.startMs).toISOString();
      patch.endDateTime = new Date(moved.endMs).toISOString();
      change = `moved to ${String(patch.startDateTime)}`;
    } else {
      // Private <-> not: the "Personal" type is what makes an activity private.
      const next = rec.typeGuid === TYPES.personal ? TYPES.meeting : this.#rng.pick([TYPES.personal, TYPES.customerVisit, TYPES.meeting].filter((t) => t !== rec.typeGuid));
      patch.activityType = { guid: next };
      change = `type ${typeName(next)}`;
    }
    this.#world.severa.updateActivity(rec.guid, patch);
    const editor = this.#personByGuid(rec.ownerGuid) ?? entry.owner;
    const line = `${editor.first} changes ${entry.token} in Severa: ${change}`;
    this.#note(entry, line);
    return line;
  }

  #svOccurrence(): string | null {
    const entry = this.#pickLive((e) => this.#svRecs(e.token).some((r) => r.kind === 'Series'));
    if (!entry) return null;
    const series = this.#svRecs(entry.token).find((r) => r.kind === 'Series')!;
    const store = this.#world.severa.store;
    const views = store
      .listActivities({ userGuids: [series.ownerGuid], recurrenceType: 'Occurrence' }, null, 10_000)
      .items.filter((v) => v.rec.guid === series.guid && v.occurrenceStartMs !== null);
    if (views.length < 3) return null;
    const view = this.#rng.pick(views.slice(1));
    const guid = occurrenceGuid(series.guid, view.occurrenceStartMs!);
    let line: string;
    if (this.#rng.chance(0.4)) {
      this.#world.severa.deleteActivity(guid);
      line = `${entry.owner.first} deletes one occurrence of ${entry.token} in Severa (${new Date(view.occurrenceStartMs!).toISOString()})`;
    } else {
      const shift = this.#rng.chance(0.5) ? 3_600_000 : 0;
      const duration = (series.endMs ?? series.startMs) - series.startMs;
      this.#world.severa.updateActivity(guid, {
        name: `${entry.token} ${this.#rng.pick(WORDS)} (moved)`,
        startDateTime: new Date(view.occurrenceStartMs! + shift).toISOString(),
        endDateTime: new Date(view.occurrenceStartMs! + shift + duration).toISOString(),
      });
      line = `${entry.owner.first} changes one occurrence of ${entry.token} in Severa (${new Date(view.occurrenceStartMs!).toISOString()})`;
    }
    this.#note(entry, line);
    return line;
  }

  #svDelete(): string | null {
    const entry = this.#pickLive((e) => this.#svRecs(e.token).length > 0);
    if (!entry) return null;
    for (const rec of this.#svRecs(entry.token)) this.#world.severa.deleteActivity(rec.guid);
    entry.deletedByUser = true;
    const line = `${entry.owner.first} deletes ${entry.token} in Severa`;
    this.#note(entry, line);
    return line;
  }

  #svAddParticipant(): string | null {
    const entry = this.#pickLive((e) => e.kind !== 'meeting' && !e.neverToExchange && e.severaType !== TYPES.personal && this.#svRecs(e.token).length > 0 && this.people.some((p) => p !== e.owner && !e.members.has(p)));
    if (!entry) return null;
    const rec = this.#svRecs(entry.token)[0];
    const inRec = new Set((rec.participants ?? []).map((p) => p.userGuid));
    const candidates = this.people.filter((p) => p.severaGuid !== rec.ownerGuid && !inRec.has(p.severaGuid));
    if (!candidates.length) return null;
    const person = this.#rng.pick(candidates);
    this.#world.severa.addParticipant(rec.guid, person.severaGuid);
    entry.members.add(person);
    const line = `${entry.owner.first} adds ${person.first} to ${entry.token} in Severa`;
    this.#note(entry, line);
    return line;
  }

  #svRemoveParticipant(): string | null {
    const entry = this.#pickLive((e) => e.kind !== 'meeting' && this.#svRecs(e.token).some((r) => (r.participants ?? []).some((p) => p.userGuid !== r.ownerGuid)));
    if (!entry) return null;
    const rec = this.#svRecs(entry.token).find((r) => (r.participants ?? []).some((p) => p.userGuid !== r.ownerGuid))!;
    const participant = this.#rng.pick((rec.participants ?? []).filter((p) => p.userGuid !== rec.ownerGuid));
    this.#world.severa.store.removeParticipant(rec.guid, participant.guid, null);
    const person = this.#personByGuid(participant.userGuid);
    if (person) entry.members.delete(person);
    const line = `${entry.owner.first} removes ${person?.first ?? participant.userGuid} from ${entry.token} in Severa`;
    this.#note(entry, line);
    return line;
  }

  /** The same entry typed into both Outlook and Severa before the first sync: it must be paired, not doubled. */
  #twin(): string {
    const owner = this.#rng.pick(this.people);
    const entry = this.#newEntry({ origin: 'exchange', kind: 'single', owner, members: new Set(), allDay: false, severaType: TYPES.meeting, neverToExchange: false });
    entry.frozenUntilSyncOf = owner;
    const { startMs, endMs } = this.#slot();
    const subject = this.#subject(entry);
    this.#world.outlook.create(owner.mailbox, { subject, start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString(), timeZone: TIME_ZONE, location: '', body: '' });
    this.#world.severa.createActivity({ name: subject, startDateTime: new Date(startMs).toISOString(), endDateTime: new Date(endMs).toISOString(), activityType: { guid: TYPES.meeting }, ownerUser: { guid: owner.severaGuid } });
    const line = `${owner.first} has ${entry.token} in both Outlook and Severa before the first sync`;
    this.#note(entry, line);
    return line;
  }
}

export function typeName(guid: string): string {
  return Object.entries(TYPES).find(([, g]) => g === guid)?.[0] ?? guid;
}
