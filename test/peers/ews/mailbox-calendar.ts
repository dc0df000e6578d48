/**
 * One mailbox's calendar folder (and its Deleted Items), indexed so that each request costs what it returns:
 * items by number (ItemId lookup), single items sorted by start (CalendarView), recurring masters apart (expanded
 * on demand), and an append-only change journal (SyncFolderItems resumes from a sequence number in the sync state).
 */
import type { SimCalendarItem } from './calendar-model.ts';
import { cloneItem, extendedPropertyKey } from './calendar-model.ts';
import { encodeChangeKey, encodeItemId } from './item-ids.ts';
import type { IdKind } from './item-ids.ts';
import { expandSeries, lastOccurrence } from './recurrence.ts';
import { ewsDateTime } from './soap-envelope.ts';

export interface StoredItem {
  number: number;
  /** Live data; `id` and `changeKey` are kept current. */
  data: SimCalendarItem;
  startMs: number;
  endMs: number;
  version: number;
  /** Version at which each field last changed: AutoResolve compares these with a stale ChangeKey's version. */
  fieldVersions: Map<string, number> | null;
  createdSeq: number;
  lastSeq: number;
}

interface Tombstone {
  id: string;
  createdSeq: number;
  deletedSeq: number;
}

export type DeleteMode = 'HardDelete' | 'SoftDelete' | 'MoveToDeletedItems';

/** One stored item in a state snapshot: the item and the bookkeeping its id, ChangeKey and sync answers derive from. */
export interface StoredItemState {
  number: number;
  version: number;
  fieldVersions: Record<string, number> | null;
  createdSeq: number;
  lastSeq: number;
  item: SimCalendarItem;
}

/** A calendar folder (with Deleted Items and Recoverable Items) as plain JSON data; see ews-state.ts. */
export interface CalendarState {
  nextNumber: number;
  seq: number;
  /** The change journal: entry i is change number i + 1 and names the item number it touched. */
  journal: number[];
  items: StoredItemState[];
  deletedItems: StoredItemState[];
  recoverable: SimCalendarItem[];
  tombstones: Array<{ number: number; id: string; createdSeq: number; deletedSeq: number }>;
}

export class CalendarStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CalendarStateError';
  }
}

export interface SyncChange {
  kind: 'Create' | 'Update' | 'Delete';
  item?: StoredItem;
  id: string;
}

/**
 * A change to the calendar folder as mailbox notifications report it: an item created, modified, moved to Deleted
 * Items (a new ItemId there) or deleted for good (soft or hard). Times are the server's clock.
 */
export interface CalendarFolderChange {
  kind: 'Created' | 'Modified' | 'Moved' | 'Deleted';
  itemId: string;
  changeKey: string;
  /** The folder the item is in after the change (Deleted Items for a move there). */
  folder: 'calendar' | 'deleteditems';
  /** A move: the item's id and folder before it. */
  oldItemId?: string;
  oldFolder?: 'calendar';
  atMs: number;
}

export interface ViewEntry {
  item: StoredItem;
  /** Set for an occurrence or exception of a series. */
  occurrence?: { index: number; originalStartMs: number; startMs: number; endMs: number; isException: boolean };
  startMs: number;
  endMs: number;
}

/** Every copy of each meeting by UID, across mailboxes (organizer's and attendees' copies). */
export class UidIndex {
  // Most UIDs have one copy: keep the item itself, an array only for meetings with copies (memory at 1M items).
  private readonly byUid = new Map<string, StoredItem | StoredItem[]>();
  add(s: StoredItem): void {
    const cur = this.byUid.get(s.data.uid);
    if (cur === undefined) this.byUid.set(s.data.uid, s);
    else if (Array.isArray(cur)) {
      if (!cur.includes(s)) cur.push(s);
    } else if (cur !== s) this.byUid.set(s.data.uid, [cur, s]);
  }
  remove(s: StoredItem, uid = s.data.uid): void {
    const cur = this.byUid.get(uid);
    if (cur === s) this.byUid.delete(uid);
    else if (Array.isArray(cur)) {
      const rest = cur.filter((x) => x !== s);
      if (rest.length === 0) this.byUid.delete(uid);
      else this.byUid.set(uid, rest.length === 1 ? rest[0] : rest);
    }
  }
  get(uid: string): StoredItem[] {
    const cur = this.byUid.get(uid);
    return cur === undefined ? [] : Array.isArray(cur) ? [...cur] : [cur];
  }
}

export class MailboxCalendar {
  readonly guid: string;
  readonly primary: string;
  private nextNumber = 1;
  private seq = 0;
  readonly items = new Map<number, StoredItem>();
  readonly deletedFolder = new Map<number, StoredItem>();
  /** Soft-deleted items (Recoverable Items): not visible to the calendar or Deleted Items. */
  readonly recoverable: SimCalendarItem[] = [];
  private readonly tombstones = new Map<number, Tombstone>();
  private readonly journalSeqs: number[] = [];
  private readonly journalNumbers: number[] = [];
  /** Single (non-recurring) items sorted by start. */
  private readonly singles: StoredItem[] = [];
  /** Series masters with the span their occurrences (and exceptions) can cover: most are skipped without expanding. */
  private readonly masters = new Map<StoredItem, { fromMs: number; toMs: number }>();
  /** Items by extended property value (string properties): finding the item a sync tagged costs a map lookup. */
  private readonly byExtended = new Map<string, StoredItem | StoredItem[]>();
  private maxSingleDurationMs = 0;

  private readonly uids: UidIndex;
  /** Told of every create, update and delete after it happened (the notification hub listens); restoring a snapshot tells nothing. */
  onChange: ((change: CalendarFolderChange) => void) | null = null;

  constructor(guid: string, primary: string, uids: UidIndex) {
    this.guid = guid;
    this.primary = primary;
    this.uids = uids;
  }

  get currentSeq(): number {
    return this.seq;
  }

  get size(): number {
    return this.items.size;
  }

  private journal(number: number): number {
    this.seq++;
    this.journalSeqs.push(this.seq);
    this.journalNumbers.push(number);
    return this.seq;
  }

  private refreshIdentity(s: StoredItem): void {
    s.data.changeKey = encodeChangeKey(s.number, s.version);
    s.startMs = Date.parse(s.data.start);
    s.endMs = Date.parse(s.data.end);
  }

  private indexInsert(s: StoredItem): void {
    for (const k of extendedKeys(s.data)) {
      const cur = this.byExtended.get(k);
      if (cur === undefined) this.byExtended.set(k, s);
      else if (Array.isArray(cur)) cur.push(s);
      else this.byExtended.set(k, [cur, s]);
    }
    if (s.data.recurrence) {
      this.masters.set(s, seriesSpan(s));
      return;
    }
    let lo = 0;
    let hi = this.singles.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.singles[mid].startMs <= s.startMs) lo = mid + 1;
      else hi = mid;
    }
    this.singles.splice(lo, 0, s);
    this.maxSingleDurationMs = Math.max(this.maxSingleDurationMs, s.endMs - s.startMs);
  }

  private indexRemove(s: StoredItem): void {
    for (const k of extendedKeys(s.data)) {
      const cur = this.byExtended.get(k);
      if (cur === s) this.byExtended.delete(k);
      else if (Array.isArray(cur)) {
        const rest = cur.filter((x) => x !== s);
        if (rest.length === 0) this.byExtended.delete(k);
        else this.byExtended.set(k, rest.length === 1 ? rest[0] : rest);
      }
    }
    if (this.masters.delete(s)) return;
    let lo = 0;
    let hi = this.singles.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.singles[mid].startMs < s.startMs) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.singles.length && this.singles[i].startMs <= s.startMs; i++) {
      if (this.singles[i] === s) {
        this.singles.splice(i, 1);
        return;
      }
    }
    const i = this.singles.indexOf(s);
    if (i >= 0) this.singles.splice(i, 1);
  }

  /** Adds an item; `data` gets its id, change key and times. */
  create(data: Omit<SimCalendarItem, 'id' | 'changeKey'>, nowMs: number): StoredItem {
    const number = this.nextNumber++;
    const full = data as SimCalendarItem;
    full.id = encodeItemId(this.guid, 'item', number);
    full.mailbox = this.primary;
    full.dateTimeCreated ||= ewsDateTime(nowMs);
    full.lastModifiedTime = ewsDateTime(nowMs);
    full.calendarItemType = full.recurrence ? 'RecurringMaster' : 'Single';
    const s: StoredItem = { number, data: full, startMs: 0, endMs: 0, version: 1, fieldVersions: null, createdSeq: 0, lastSeq: 0 };
    this.refreshIdentity(s);
    s.createdSeq = s.lastSeq = this.journal(number);
    this.items.set(number, s);
    this.indexInsert(s);
    this.uids.add(s);
    this.onChange?.({ kind: 'Created', itemId: full.id, changeKey: full.changeKey, folder: 'calendar', atMs: nowMs });
    return s;
  }

  /**
   * Applies a change: `mutate` edits `data` in place; `fields` names what changed (for AutoResolve). Bumps the
   * ChangeKey and LastModifiedTime and journals the change, like any write to a real store.
   */
  update(s: StoredItem, fields: string[], mutate: (d: SimCalendarItem) => void, nowMs: number): StoredItem {
    this.indexRemove(s);
    const uid = s.data.uid;
    try {
      mutate(s.data);
    } finally {
      if (s.data.uid !== uid) {
        this.uids.remove(s, uid);
        this.uids.add(s);
      }
      s.version++;
      if (fields.length) s.fieldVersions ??= new Map();
      for (const f of fields) s.fieldVersions!.set(f, s.version);
      s.data.lastModifiedTime = ewsDateTime(Math.max(nowMs, Date.parse(s.data.lastModifiedTime) + 1000));
      s.data.calendarItemType = s.data.recurrence ? 'RecurringMaster' : 'Single';
      this.refreshIdentity(s);
      s.lastSeq = this.journal(s.number);
      this.indexInsert(s);
    }
    this.onChange?.({ kind: 'Modified', itemId: s.data.id, changeKey: s.data.changeKey, folder: 'calendar', atMs: nowMs });
    return s;
  }

  delete(s: StoredItem, mode: DeleteMode, nowMs: number): StoredItem | null {
    this.items.delete(s.number);
    this.indexRemove(s);
    this.uids.remove(s);
    const deletedSeq = this.journal(s.number);
    this.tombstones.set(s.number, { id: s.data.id, createdSeq: s.createdSeq, deletedSeq });
    if (mode === 'SoftDelete' || mode === 'HardDelete') {
      if (mode === 'SoftDelete') this.recoverable.push(cloneItem(s.data));
      this.onChange?.({ kind: 'Deleted', itemId: s.data.id, changeKey: s.data.changeKey, folder: 'calendar', atMs: nowMs });
      return null;
    }
    // Moving gives the item a new id in Deleted Items, as a move does in Exchange.
    const number = this.nextNumber++;
    const moved: StoredItem = { ...s, number, fieldVersions: null, data: cloneItem(s.data) };
    moved.data.id = encodeItemId(this.guid, 'deleted', number);
    moved.data.lastModifiedTime = ewsDateTime(nowMs);
    moved.version++;
    this.refreshIdentity(moved);
    this.deletedFolder.set(number, moved);
    this.onChange?.({ kind: 'Moved', itemId: moved.data.id, changeKey: moved.data.changeKey, folder: 'deleteditems', oldItemId: s.data.id, oldFolder: 'calendar', atMs: nowMs });
    return moved;
  }

  /** Everything this folder holds, as JSON data: restoreState(exportState()) gives back the same answers to every request. */
  exportState(): CalendarState {
    const stored = (s: StoredItem): StoredItemState => ({
      number: s.number,
      version: s.version,
      fieldVersions: s.fieldVersions ? Object.fromEntries(s.fieldVersions) : null,
      createdSeq: s.createdSeq,
      lastSeq: s.lastSeq,
      item: cloneItem(s.data),
    });
    return {
      nextNumber: this.nextNumber,
      seq: this.seq,
      journal: [...this.journalNumbers],
      items: [...this.items.values()].sort((a, b) => a.number - b.number).map(stored),
      deletedItems: [...this.deletedFolder.values()].sort((a, b) => a.number - b.number).map(stored),
      recoverable: this.recoverable.map(cloneItem),
      tombstones: [...this.tombstones].sort((a, b) => a[0] - b[0]).map(([number, t]) => ({ number, ...t })),
    };
  }

  /**
   * Loads a snapshot into this (empty) folder. Every id, ChangeKey and journal position is checked against the numbers it
   * derives from, so a hand-edited or mixed-up snapshot is refused with the item named rather than served wrongly.
   */
  restoreState(state: CalendarState): void {
    if (this.nextNumber !== 1 || this.seq !== 0) throw new CalendarStateError(`the calendar of ${this.primary} is not empty`);
    const where = `mailbox ${this.primary}`;
    const fail = (what: string): never => {
      throw new CalendarStateError(`${where}: ${what}`);
    };
    if (state.journal.length !== state.seq) fail(`the journal has ${state.journal.length} entries but seq is ${state.seq}`);
    for (const [i, n] of state.journal.entries()) if (n < 1 || n >= state.nextNumber) fail(`journal entry ${i + 1} names item ${n}, not below nextNumber ${state.nextNumber}`);
    const journalNames = (seq: number, n: number): boolean => seq >= 1 && seq <= state.seq && state.journal[seq - 1] === n;
    const numbers = new Set<number>();
    const toStored = (x: StoredItemState, kind: IdKind): StoredItem => {
      const what = `item ${x.number} ('${x.item.subject}')`;
      if (x.number < 1 || x.number >= state.nextNumber) fail(`${what}: its number is not below nextNumber ${state.nextNumber}`);
      if (numbers.has(x.number)) fail(`${what}: the number is used twice`);
      numbers.add(x.number);
      if (x.item.id !== encodeItemId(this.guid, kind, x.number)) fail(`${what}: its ItemId does not belong to this mailbox and number`);
      if (x.item.changeKey !== encodeChangeKey(x.number, x.version)) fail(`${what}: its ChangeKey does not match version ${x.version}`);
      if (x.item.mailbox !== this.primary) fail(`${what}: it says it is in the mailbox ${x.item.mailbox}`);
      const startMs = Date.parse(x.item.start);
      const endMs = Date.parse(x.item.end);
      if (Number.isNaN(startMs) || Number.isNaN(endMs) || endMs < startMs) fail(`${what}: start/end are not a valid time span`);
      if (!(x.createdSeq <= x.lastSeq && x.lastSeq <= state.seq)) fail(`${what}: createdSeq ${x.createdSeq} / lastSeq ${x.lastSeq} do not fit seq ${state.seq}`);
      return {
        number: x.number,
        data: cloneItem(x.item),
        startMs,
        endMs,
        version: x.version,
        fieldVersions: x.fieldVersions ? new Map(Object.entries(x.fieldVersions)) : null,
        createdSeq: x.createdSeq,
        lastSeq: x.lastSeq,
      };
    };
    const live = state.items.map((x) => {
      if (!journalNames(x.createdSeq, x.number) || !journalNames(x.lastSeq, x.number)) fail(`item ${x.number}: the journal does not record its creation and last change where it says`);
      return toStored(x, 'item');
    });
    const deleted = state.deletedItems.map((x) => toStored(x, 'deleted'));
    const tombstones = new Map<number, Tombstone>();
    for (const t of state.tombstones) {
      if (numbers.has(t.number) || tombstones.has(t.number)) fail(`deleted item ${t.number}: the number is also in use elsewhere`);
      if (!journalNames(t.deletedSeq, t.number) || t.createdSeq > t.deletedSeq) fail(`deleted item ${t.number}: the journal does not record its deletion where it says`);
      if (t.id !== encodeItemId(this.guid, 'item', t.number)) fail(`deleted item ${t.number}: its ItemId does not belong to this mailbox and number`);
      tombstones.set(t.number, { id: t.id, createdSeq: t.createdSeq, deletedSeq: t.deletedSeq });
    }

    this.nextNumber = state.nextNumber;
    this.seq = state.seq;
    this.journalNumbers.push(...state.journal);
    for (let seq = 1; seq <= state.seq; seq++) this.journalSeqs.push(seq);
    for (const s of live) {
      this.items.set(s.number, s);
      this.indexInsert(s);
      this.uids.add(s);
    }
    for (const s of deleted) this.deletedFolder.set(s.number, s);
    this.recoverable.push(...state.recoverable.map(cloneItem));
    for (const [n, t] of tombstones) this.tombstones.set(n, t);
  }

  /** Items carrying this extended property value (see extendedLookupKey). */
  withExtendedValue(lookupKey: string): StoredItem[] {
    const cur = this.byExtended.get(lookupKey);
    return cur === undefined ? [] : Array.isArray(cur) ? [...cur] : [cur];
  }

  /** Every occurrence/item overlapping [fromMs, toMs), sorted by start. */
  view(fromMs: number, toMs: number): ViewEntry[] {
    const out: ViewEntry[] = [];
    const lowest = fromMs - this.maxSingleDurationMs;
    let lo = 0;
    let hi = this.singles.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.singles[mid].startMs < lowest) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.singles.length; i++) {
      const s = this.singles[i];
      if (s.startMs >= toMs) break;
      if (overlaps(s.startMs, s.endMs, fromMs, toMs)) out.push({ item: s, startMs: s.startMs, endMs: s.endMs });
    }
    for (const [m, span] of this.masters) if (span.fromMs < toMs && span.toMs > fromMs) this.expandInto(m, fromMs, toMs, out);
    out.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
    return out;
  }

  private expandInto(m: StoredItem, fromMs: number, toMs: number, out: ViewEntry[]): void {
    const d = m.data;
    if (!d.recurrence) return;
    const overrides = new Map<number, (typeof d.modifiedOccurrences)[number]>();
    for (const o of d.modifiedOccurrences) overrides.set(Date.parse(o.originalStart), o);
    const deleted = new Set(d.deletedOccurrences.map((x) => Date.parse(x)));
    const timing = { startMs: m.startMs, endMs: m.endMs, isAllDay: d.isAllDay, timeZone: d.timeZone, recurrence: d.recurrence };
    // Exceptions may have moved anywhere, so they are checked by their own times; their pattern slot is skipped.
    const duration = m.endMs - m.startMs;
    const seen = new Set<number>();
    for (const occ of expandSeries(timing, toMs + duration + 1, Infinity, fromMs)) {
      seen.add(occ.startMs);
      if (deleted.has(occ.startMs)) continue;
      const ov = overrides.get(occ.startMs);
      const startMs = ov?.start ? Date.parse(ov.start) : occ.startMs;
      const endMs = ov?.end ? Date.parse(ov.end) : occ.endMs;
      if (!overlaps(startMs, endMs, fromMs, toMs)) continue;
      out.push({ item: m, startMs, endMs, occurrence: { index: occ.index, originalStartMs: occ.startMs, startMs, endMs, isException: ov !== undefined } });
    }
    // An exception moved into the window from an original slot beyond it.
    for (const [orig, ov] of overrides) {
      if (seen.has(orig) || deleted.has(orig)) continue;
      const startMs = ov.start ? Date.parse(ov.start) : orig;
      const endMs = ov.end ? Date.parse(ov.end) : orig + duration;
      if (!overlaps(startMs, endMs, fromMs, toMs)) continue;
      let index = 0;
      for (const occ of expandSeries(timing, orig + 1)) if (occ.startMs === orig) index = occ.index;
      if (index) out.push({ item: m, startMs, endMs, occurrence: { index, originalStartMs: orig, startMs, endMs, isException: true } });
    }
  }

  /**
   * Changes after `sinceSeq`. An item is reported at its creation entry (as Create, with its current data) and at its
   * latest entry (as Update) unless that would repeat it within one answer; intermediate entries are skipped. So
   * an initial sync lists every item once, in creation order, and an item changed while a client pages through is
   * reported again later, never lost. Returns the sequence number the next sync continues from.
   */
  changesSince(sinceSeq: number, max: number, ignore: Set<string>): { changes: SyncChange[]; nextSeq: number; includesLast: boolean } {
    const changes: SyncChange[] = [];
    let lo = 0;
    let hi = this.journalSeqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.journalSeqs[mid] <= sinceSeq) lo = mid + 1;
      else hi = mid;
    }
    let nextSeq = sinceSeq;
    for (let i = lo; i < this.journalSeqs.length; i++) {
      const seq = this.journalSeqs[i];
      const number = this.journalNumbers[i];
      const live = this.items.get(number);
      let change: SyncChange | null = null;
      if (live) {
        if (seq === live.createdSeq) change = { kind: 'Create', item: live, id: live.data.id };
        else if (seq === live.lastSeq && live.createdSeq <= sinceSeq) change = { kind: 'Update', item: live, id: live.data.id };
      } else {
        const t = this.tombstones.get(number);
        if (t && t.deletedSeq === seq && t.createdSeq <= sinceSeq) change = { kind: 'Delete', id: t.id };
      }
      if (change && !ignore.has(change.id)) {
        if (changes.length >= max) return { changes, nextSeq, includesLast: false };
        changes.push(change);
      }
      nextSeq = seq;
    }
    return { changes, nextSeq: this.seq, includesLast: true };
  }
}

/** Items whose extended property `key` (see extendedPropertyKey) has the string value `value`. */
export function extendedLookupKey(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

function extendedKeys(d: SimCalendarItem): string[] {
  if (!d.extendedProperties.length) return [];
  const out: string[] = [];
  for (const p of d.extendedProperties) if (typeof p.value === 'string') out.push(extendedLookupKey(extendedPropertyKey(p), p.value));
  return out;
}

/** From the first occurrence's start to the last one's end (open-ended for NoEnd), widened by any moved exception. */
function seriesSpan(s: StoredItem): { fromMs: number; toMs: number } {
  const d = s.data;
  let fromMs = s.startMs;
  let toMs = Infinity;
  if (d.recurrence && d.recurrence.range.type !== 'NoEnd') {
    try {
      const last = lastOccurrence({ startMs: s.startMs, endMs: s.endMs, isAllDay: d.isAllDay, timeZone: d.timeZone, recurrence: d.recurrence });
      if (last) toMs = last.endMs;
    } catch {
      // an invalid pattern never got stored; keep the open span
    }
  }
  for (const o of d.modifiedOccurrences) {
    if (o.start) fromMs = Math.min(fromMs, Date.parse(o.start));
    if (o.end) toMs = Math.max(toMs, Date.parse(o.end));
  }
  return { fromMs, toMs };
}

function overlaps(startMs: number, endMs: number, fromMs: number, toMs: number): boolean {
  if (startMs === endMs) return startMs >= fromMs && startMs < toMs;
  return startMs < toMs && endMs > fromMs;
}
