import { t } from '../common/i18n/i18n.ts';
import type { EventFields, RecurrenceRule } from './calendar-event.ts';
import { contentHash } from './event-content-hash.ts';
import { exceptionsOnPatternDays } from './recurrence-rule.ts';
import { activityToFields, severaSeriesExceptions, severaToExchangeEligibility, type Eligibility, type SeveraSeriesExceptions } from './severa-activity-mapping.ts';
import {
  isSeveraNotFound,
  type SeveraActivity,
  type SeveraActivityType,
  type SeveraParticipant,
  type SeveraPort,
  type SeveraUser,
} from './severa-port.ts';
import type { SyncStore } from '../store/sync-store.ts';
import { zoneOr } from './zoned-time.ts';

/**
 * What one cycle knows about Severa: the directory (users, activity types; cached between cycles because they rarely
 * change and cost pages of requests), activities read this cycle turned into neutral items, and who takes part in them.
 * Every read goes through here so nothing is fetched twice in a cycle.
 */

export interface SeveraItem {
  guid: string;
  activity: SeveraActivity;
  /** lastUpdatedDateTime: changes whenever the activity changes. */
  version: string;
  modified: string;
  fields: EventFields;
  hash: string;
  ownerGuid: string;
  timeZone: string;
  eligible: Eligibility;
  /** The series this occurrence belongs to, when the series is synced as single occurrences. */
  flattenedFrom?: string;
  /** A series: occurrence key -> guid of the Exception activity holding that changed occurrence. */
  exceptionRowGuids?: Map<string, string>;
}

interface Directory {
  fetchedAt: string;
  types: SeveraActivityType[];
  users: SeveraUser[];
}

const DIRECTORY_KEY = 'severa-directory';

/**
 * A cycle-long cache that keeps its newest `limit` entries: what one user's sync reads is what it needs again (parents
 * of occurrences, the activity it writes next), and a cycle over a thousand users must not hold every activity read
 * along the way. An entry that fell out is simply read again.
 */
class RecentMap<K, V> extends Map<K, V> {
  readonly #limit: number;
  constructor(limit: number) {
    super();
    this.#limit = limit;
  }
  override set(key: K, value: V): this {
    if (super.has(key)) super.delete(key);
    super.set(key, value);
    if (this.size > this.#limit) super.delete(this.keys().next().value as K);
    return this;
  }
}

/** Activities (and participant lists) kept per cycle: a few users' worth. */
const CACHE_LIMIT = 20_000;
const DIRECTORY_TTL_MS = 6 * 3600_000;

export interface SeveraSnapshotOptions {
  defaultTimeZone: string;
  selectedTypeGuids: ReadonlySet<string>;
  dryRun: boolean;
  now: () => Date;
  notes: (message: string) => void;
  /** Why the calendar cannot hold a series with this rule (then its occurrences travel as single items), or null. */
  seriesProblem?: (rule: RecurrenceRule) => string | null;
}

export class SeveraSnapshot {
  private readonly port: SeveraPort;
  private readonly store: SyncStore;
  private readonly opts: SeveraSnapshotOptions;
  types: SeveraActivityType[] = [];
  typesByGuid = new Map<string, SeveraActivityType>();
  private usersByEmail = new Map<string, SeveraUser>();
  private usersByGuid = new Map<string, SeveraUser>();
  private readonly activities = new RecentMap<string, SeveraActivity | null>(CACHE_LIMIT);
  private readonly participantCache = new RecentMap<string, SeveraParticipant[]>(CACHE_LIMIT);
  /** Exception activities per owner (one listing per owner and cycle). */
  private readonly exceptionRowsByOwner = new Map<string, SeveraActivity[]>();
  /** Series whose pattern cannot travel: synced as single occurrences. */
  private readonly flattenedSeries = new Map<string, string>();
  /** Activities this cycle deleted (for any user): absent for every other pair too. */
  readonly deletedGuids = new Set<string>();

  constructor(port: SeveraPort, store: SyncStore, opts: SeveraSnapshotOptions) {
    this.port = port;
    this.store = store;
    this.opts = opts;
  }

  /** Users and activity types, from the cache when fresh and complete for the enrolled emails. */
  async loadDirectory(requiredEmails: readonly string[]): Promise<void> {
    const cached = this.store.getOrgValue<Directory>(DIRECTORY_KEY);
    const fresh = cached && this.opts.now().getTime() - Date.parse(cached.fetchedAt) < DIRECTORY_TTL_MS;
    if (cached && fresh) {
      this.setDirectory(cached);
      if (requiredEmails.every((e) => this.usersByEmail.has(e.toLowerCase())) && this.types.length > 0) return;
    }
    const [types, users] = [await this.port.listActivityTypes(), await this.port.listUsers()];
    const dir: Directory = { fetchedAt: this.opts.now().toISOString(), types, users };
    this.setDirectory(dir);
    if (!this.opts.dryRun) this.store.setOrgValue(DIRECTORY_KEY, dir);
  }

  private setDirectory(dir: Directory): void {
    this.types = Array.isArray(dir.types) ? dir.types : [];
    this.typesByGuid = new Map(this.types.filter((t) => t.guid).map((t) => [t.guid as string, t]));
    const users = Array.isArray(dir.users) ? dir.users : [];
    this.usersByEmail = new Map(users.filter((u) => u.email).map((u) => [String(u.email).trim().toLowerCase(), u]));
    this.usersByGuid = new Map(users.filter((u) => u.guid).map((u) => [u.guid as string, u]));
  }

  userByEmail(email: string): SeveraUser | undefined {
    return this.usersByEmail.get(email.trim().toLowerCase());
  }

  userByGuid(guid: string): SeveraUser | undefined {
    return this.usersByGuid.get(guid);
  }

  timeZoneOf(userGuid: string | undefined): string {
    const user = userGuid ? this.usersByGuid.get(userGuid) : undefined;
    return zoneOr(user?.timezone?.ianaName, this.opts.defaultTimeZone);
  }

  /**
   * The neutral item for an activity; null (with a note) when it cannot be read. A series master needs its exceptions
   * (see `itemFor`); without them it is read as a series with none.
   */
  toItem(activity: SeveraActivity, flattenedFrom?: string, series?: SeveraSeriesExceptions & { exceptionRows: readonly SeveraActivity[] }): SeveraItem | null {
    const guid = activity.guid;
    if (!guid) return null;
    const ownerGuid = activity.ownerUser?.guid ?? '';
    const timeZone = this.timeZoneOf(ownerGuid);
    try {
      const source = flattenedFrom ? { ...activity, recurrence: null, recurrenceType: 'None' as const } : activity;
      const read = activityToFields(source, { timeZone, typesByGuid: this.typesByGuid, exceptions: series?.exceptions }).fields;
      // An occurrence still kept under its old start after the series moved to another time of day: that day's.
      const { fields, moved } = series ? exceptionsOnPatternDays(read) : { fields: read, moved: new Map<string, string>() };
      // A changed occurrence does not touch its series' own stamp: the series' version covers its exceptions too.
      const stamps = [activity.lastUpdatedDateTime ?? activity.createdDateTime ?? '', ...(series?.exceptionRows ?? []).map((r) => r.lastUpdatedDateTime ?? '')];
      const latest = stamps.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a), stamps[0]);
      const item: SeveraItem = {
        guid,
        activity,
        version: series?.exceptionRows.length ? `${stamps[0]}|${latest}` : stamps[0],
        modified: latest,
        fields,
        hash: contentHash(fields),
        ownerGuid,
        timeZone,
        eligible: severaToExchangeEligibility(activity, this.opts.selectedTypeGuids, this.typesByGuid),
      };
      if (flattenedFrom) item.flattenedFrom = flattenedFrom;
      if (series) item.exceptionRowGuids = moved.size ? new Map([...series.rowGuidByKey].map(([key, row]) => [moved.get(key) ?? key, row])) : series.rowGuidByKey;
      return item;
    } catch (err) {
      this.opts.notes(t('engine.notes.severaActivitySkipped', { name: activity.name ?? guid, why: (err as Error).message }));
      return null;
    }
  }

  /** A series master that travels whole (its pattern fits the neutral rule). */
  isWholeSeries(a: SeveraActivity): boolean {
    if (!a.recurrence || a.recurrenceType === 'Occurrence' || a.recurrenceType === 'Exception' || a.recurrenceType === 'None') return false;
    return !this.flattenReasonOf(a);
  }

  /** Why a series cannot travel whole: a pattern the neutral rule cannot carry, or one the calendar cannot hold. */
  private flattenReasonOf(a: SeveraActivity): string | undefined {
    let read: ReturnType<typeof activityToFields>;
    try {
      read = activityToFields(a, { timeZone: this.timeZoneOf(a.ownerUser?.guid), typesByGuid: this.typesByGuid });
    } catch {
      return undefined;
    }
    if (read.flattenReason) return read.flattenReason;
    const rule = read.fields.recurrence;
    if (!rule || !this.opts.seriesProblem) return undefined;
    const problem = this.opts.seriesProblem(rule);
    return typeof problem === 'string' && problem !== '' ? problem : undefined;
  }

  /** The Exception activities of a series (read once per owner and cycle). */
  async exceptionRows(master: SeveraActivity): Promise<SeveraActivity[]> {
    const owner = master.ownerUser?.guid ?? '';
    let rows = this.exceptionRowsByOwner.get(owner);
    if (!rows) {
      rows = await this.port.listActivities({ userGuids: [owner], recurrenceType: 'Exception' });
      this.exceptionRowsByOwner.set(owner, rows);
    }
    return rows.filter((r) => r.recurrenceParentActivityGuid === master.guid && r.recurrenceType === 'Exception');
  }

  /** The item of any activity: a whole series with its exceptions, a flattened occurrence, or a single activity. */
  async itemFor(a: SeveraActivity): Promise<SeveraItem | null> {
    const parent = a.recurrenceParentActivityGuid;
    if (parent && (a.recurrenceType === 'Occurrence' || a.recurrenceType === 'Exception') && this.flattenedSeries.has(parent)) return this.toItem(a, parent);
    if (!this.isWholeSeries(a)) return this.toItem(a);
    const rows = await this.exceptionRows(a);
    const tz = this.timeZoneOf(a.ownerUser?.guid);
    try {
      const ex = severaSeriesExceptions(a, rows, { timeZone: tz, typesByGuid: this.typesByGuid });
      return this.toItem(a, undefined, { ...ex, exceptionRows: rows });
    } catch (err) {
      this.opts.notes(t('engine.notes.severaSeriesSkipped', { name: String(a.name ?? a.guid), why: (err as Error).message }));
      return null;
    }
  }

  /**
   * Listing rows -> items. Single activities are items. A series master is one item (with its changed and deleted
   * occurrences) when its pattern can travel; otherwise the series is flattened and its occurrences, as the listing
   * returns them, become single items. Occurrence rows of a series that travels whole are covered by the master.
   */
  async itemsFromRows(rows: readonly SeveraActivity[]): Promise<SeveraItem[]> {
    const items: SeveraItem[] = [];
    const seen = new Set<string>();
    const push = (item: SeveraItem | null) => {
      if (item && !seen.has(item.guid)) {
        seen.add(item.guid);
        items.push(item);
      }
    };
    for (const row of rows) if (row.guid) this.activities.set(row.guid, row);
    for (const row of rows) {
      if (!row.guid) continue;
      const parentGuid = row.recurrenceParentActivityGuid;
      const isChild = !!parentGuid && (row.recurrenceType === 'Occurrence' || row.recurrenceType === 'Exception');
      if (!isChild) {
        if (row.recurrence && row.recurrenceType !== 'None' && !this.isWholeSeries(row)) {
          this.flattenSeries(row, this.flattenReasonOf(row) ?? t('engine.series.notSupported'));
          continue;
        }
        if (seen.has(row.guid)) continue;
        push(await this.itemFor(row));
        continue;
      }
      const parent = await this.activity(parentGuid);
      if (!parent) continue;
      if (!this.isWholeSeries(parent)) {
        this.flattenSeries(parent, this.flattenReasonOf(parent) ?? t('engine.series.notSupported'));
        push(this.toItem(row, parentGuid));
      } else if (!seen.has(parent.guid!)) {
        // A changed occurrence of a series that travels whole: the series is the item.
        push(await this.itemFor(parent));
      }
    }
    return items;
  }

  /** Forget what this cycle read of an activity (after writing it), so the next read is fresh. */
  invalidate(guid: string, ownerGuid?: string): void {
    this.activities.delete(guid);
    if (ownerGuid) this.exceptionRowsByOwner.delete(ownerGuid);
  }

  private flattenSeries(master: SeveraActivity, reason: string): void {
    if (!master.guid || this.flattenedSeries.has(master.guid)) return;
    this.flattenedSeries.set(master.guid, reason);
    this.opts.notes(t('engine.notes.severaSeriesFlattened', { name: master.name ?? master.guid, why: reason.replace(/\.$/, '') }));
  }

  isFlattenedSeries(guid: string): boolean {
    return this.flattenedSeries.has(guid);
  }

  /** The activity by guid, read once per cycle; null when it does not exist. */
  async activity(guid: string): Promise<SeveraActivity | null> {
    if (this.deletedGuids.has(guid)) return null;
    if (this.activities.has(guid)) return this.activities.get(guid) ?? null;
    try {
      const a = await this.port.getActivity(guid);
      this.activities.set(guid, a);
      return a;
    } catch (err) {
      if (isSeveraNotFound(err)) {
        this.activities.set(guid, null);
        return null;
      }
      throw err;
    }
  }

  async fetchItem(guid: string): Promise<SeveraItem | null> {
    const a = await this.activity(guid);
    return a ? this.itemFor(a) : null;
  }

  async participants(guid: string): Promise<SeveraParticipant[]> {
    const cached = this.participantCache.get(guid);
    if (cached) return cached;
    let list: SeveraParticipant[];
    try {
      list = await this.port.listParticipants(guid);
    } catch (err) {
      if (!isSeveraNotFound(err)) throw err;
      list = [];
    }
    this.participantCache.set(guid, list);
    return list;
  }

  /** Owner and participating users of an activity (of the series, for a flattened occurrence). */
  async members(item: SeveraItem): Promise<Set<string>> {
    const source = item.flattenedFrom ?? item.guid;
    const members = new Set<string>();
    if (item.ownerGuid) members.add(item.ownerGuid);
    for (const p of await this.participants(source)) {
      if (p.participantGuid && (p.type === undefined || p.type === 'User')) members.add(p.participantGuid);
    }
    return members;
  }

  /** After a write: what the cycle now knows. */
  remember(activity: SeveraActivity): void {
    if (activity.guid) this.activities.set(activity.guid, activity);
  }

  rememberParticipant(activityGuid: string, participant: SeveraParticipant): void {
    const list = this.participantCache.get(activityGuid);
    if (list) list.push(participant);
  }

  forgetParticipants(activityGuid: string): void {
    this.participantCache.delete(activityGuid);
  }

  markDeleted(guid: string): void {
    this.deletedGuids.add(guid);
    this.activities.set(guid, null);
  }
}
