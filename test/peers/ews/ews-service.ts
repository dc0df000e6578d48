/**
 * The simulated Exchange store behind the SOAP layer: creating, changing and deleting calendar items the way
 * the server does it (series start on their first occurrence, exceptions dropped when a series' timing changes,
 * meeting copies in attendees' mailboxes sharing the organizer's UID), seeding from a seed file, and the test
 * back doors that act as "the user in Outlook".
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SimCalendarItem, SimOccurrenceOverride, SimRecurrencePattern } from './calendar-model.ts';
import { cloneItem } from './calendar-model.ts';
import type { Mailbox } from './directory.ts';
import { Directory } from './directory.ts';
import type { DeleteMode, StoredItem } from './mailbox-calendar.ts';
import { RecurrenceError, firstOccurrence, occurrenceAt, occurrenceByIndex } from './recurrence.ts';
import type { ParsedEwsSeed, SeedItem } from './seed.ts';
import { SeedError, resolveSeedDate, resolveSeedDateTime } from './seed.ts';
import type { ApiVersion } from './soap-envelope.ts';
import { EwsError, ewsDateTime } from './soap-envelope.ts';
import { isValidIana } from './time-zones.ts';

export class BackDoorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackDoorError';
  }
}

/** Fields of a calendar item a back-door `create`/`update` may set (the rest is the server's). */
const SETTABLE: ReadonlyArray<keyof SimCalendarItem> = [
  'uid',
  'subject',
  'start',
  'end',
  'isAllDay',
  'timeZone',
  'location',
  'body',
  'bodyType',
  'sensitivity',
  'legacyFreeBusyStatus',
  'requiredAttendees',
  'optionalAttendees',
  'categories',
  'reminderIsSet',
  'reminderMinutesBeforeStart',
  'recurrence',
  'modifiedOccurrences',
  'deletedOccurrences',
  'extendedProperties',
  'isCancelled',
];

/** Fields whose change on a series master discards its exceptions (Outlook warns about exactly this). */
const SERIES_TIMING = new Set(['start', 'end', 'recurrence', 'timeZone', 'isAllDay']);

export interface MailboxBackDoor {
  items(): SimCalendarItem[];
  create(item: Partial<SimCalendarItem>): SimCalendarItem;
  update(id: string, patch: Partial<SimCalendarItem>): SimCalendarItem;
  delete(id: string): void;
  deletedItems(): SimCalendarItem[];
}

export class EwsService {
  readonly directory: Directory;
  readonly serverVersion: ApiVersion;
  readonly defaultTimeZone: string;
  readonly findCountLimit: number;
  /** The seed's server settings (auth methods, names, limits) for the HTTP layer. */
  readonly server: NonNullable<ParsedEwsSeed['server']>;
  /** Signs sync states: a state from another simulator run is refused (a run restored from a snapshot keeps the key). */
  readonly syncKey: Buffer;
  /** The seed's accounts, mailboxes and server settings (everything but the items), kept for state snapshots. */
  readonly config: Omit<ParsedEwsSeed, 'items'>;
  /** How far the server's clock runs ahead of this computer's (set by the HTTP layer's clock skew). */
  clockSkewMs = 0;

  constructor(seed: ParsedEwsSeed, nowMs = Date.now(), syncKey: Buffer = randomBytes(32)) {
    const { items: _items, ...config } = seed;
    this.config = structuredClone(config);
    this.syncKey = syncKey;
    this.directory = new Directory(seed);
    this.serverVersion = (seed.server?.version as ApiVersion | undefined) ?? 'Exchange2016';
    this.defaultTimeZone = seed.timeZone;
    this.findCountLimit = seed.server?.findCountLimit ?? 1000;
    this.server = seed.server ?? {};
    for (const [i, it] of (seed.items ?? []).entries()) {
      try {
        this.seedItem(it, i, nowMs);
      } catch (e) {
        const why = e instanceof EwsError ? `${e.code}: ${e.message}` : (e as Error).message;
        throw new SeedError(`Seed item #${i + 1} ('${it.subject}'): ${why}`);
      }
    }
  }

  newUid(): string {
    // Outlook's UIDs: the Global Object Id prefix, then random bytes, in upper-case hex.
    return `040000008200E00074C5B7101A82E00800000000${randomBytes(24).toString('hex').toUpperCase()}`;
  }

  /** The server's clock: what it stamps on items (LastModifiedTime, DateTimeCreated). */
  nowMs(): number {
    return Date.now() + this.clockSkewMs;
  }

  /** A complete item with server defaults for what `fields` leaves out. */
  blankItem(mailbox: Mailbox, fields: Partial<SimCalendarItem>, nowMs: number): SimCalendarItem {
    const startMs = fields.start ? Date.parse(fields.start) : Math.ceil(nowMs / 3_600_000) * 3_600_000;
    const base: SimCalendarItem = {
      id: '',
      changeKey: '',
      mailbox: mailbox.primary,
      uid: this.newUid(),
      subject: '',
      start: ewsDateTime(startMs),
      end: ewsDateTime(startMs + 1_800_000),
      isAllDay: false,
      timeZone: this.defaultTimeZone,
      location: '',
      body: '',
      bodyType: 'Text',
      sensitivity: 'Normal',
      legacyFreeBusyStatus: 'Busy',
      organizer: mailbox.primary,
      requiredAttendees: [],
      optionalAttendees: [],
      categories: [],
      reminderIsSet: true,
      reminderMinutesBeforeStart: 15,
      recurrence: null,
      modifiedOccurrences: [],
      deletedOccurrences: [],
      extendedProperties: [],
      isCancelled: false,
      myResponseType: 'Organizer',
      appointmentSequenceNumber: 0,
      dateTimeCreated: '',
      lastModifiedTime: ewsDateTime(nowMs),
      calendarItemType: 'Single',
    };
    for (const k of SETTABLE) if (fields[k] !== undefined) (base as unknown as Record<string, unknown>)[k] = structuredClone(fields[k]);
    return base;
  }

  /** Moves a series' Start/End onto its first occurrence; refuses a series without any occurrence. */
  normalizeSeries(item: SimCalendarItem): void {
    if (!item.recurrence) return;
    const startMs = Date.parse(item.start);
    const endMs = Date.parse(item.end);
    let first;
    try {
      first = firstOccurrence({ startMs, endMs, isAllDay: item.isAllDay, timeZone: item.timeZone, recurrence: item.recurrence });
    } catch (e) {
      if (e instanceof RecurrenceError) throw new EwsError('ErrorInvalidRecurrence', e.message);
      throw e;
    }
    if (!first) throw new EwsError('ErrorRecurrenceHasNoOccurrence', 'The recurrence pattern has no occurrences in its range.');
    item.start = ewsDateTime(first.startMs);
    item.end = ewsDateTime(first.endMs);
  }

  validateItem(item: SimCalendarItem): void {
    if (Number.isNaN(Date.parse(item.start)) || Number.isNaN(Date.parse(item.end))) throw new EwsError('ErrorInvalidValueForProperty', 'Start and End must be date-times.');
    if (Date.parse(item.end) < Date.parse(item.start)) throw new EwsError('ErrorCalendarEndDateIsEarlierThanStartDate', 'EndDate is earlier than StartDate');
    if (!isValidIana(item.timeZone)) throw new EwsError('ErrorTimeZone', `Unknown time zone '${item.timeZone}'.`);
  }

  /** Stores a new item; with `invite`, attendees with a mailbox here get their own copy (same UID). */
  addItem(mailbox: Mailbox, item: SimCalendarItem, nowMs: number, invite: boolean): StoredItem {
    this.normalizeSeries(item);
    this.validateItem(item);
    const stored = mailbox.calendar.create(item, nowMs);
    if (invite && stored.data.organizer === mailbox.primary) this.syncAttendeeCopies(stored.data, nowMs);
    return stored;
  }

  /**
   * Replaces an item's data with `next` (already validated by the caller's draft), journaling one change.
   * `notify`: the organizer sends an update, so attendees' copies follow.
   */
  commitUpdate(mailbox: Mailbox, stored: StoredItem, keys: string[], next: SimCalendarItem, nowMs: number, notify: boolean): StoredItem {
    const timingChanged = keys.some((k) => SERIES_TIMING.has(k));
    if (next.recurrence && timingChanged) {
      next.modifiedOccurrences = [];
      next.deletedOccurrences = [];
    }
    if (keys.includes('recurrence') || (next.recurrence && timingChanged)) this.normalizeSeries(next);
    this.validateItem(next);
    if (notify && next.organizer === mailbox.primary && keys.some((k) => k !== 'extendedProperties' && k !== 'categories')) next.appointmentSequenceNumber++;
    mailbox.calendar.update(stored, keys, (d) => Object.assign(d, next, { id: d.id, changeKey: d.changeKey, mailbox: d.mailbox }), nowMs);
    if (notify && stored.data.organizer === mailbox.primary) this.syncAttendeeCopies(stored.data, nowMs);
    return stored;
  }

  deleteItem(mailbox: Mailbox, stored: StoredItem, mode: DeleteMode, nowMs: number, cancel: boolean): void {
    const data = stored.data;
    mailbox.calendar.delete(stored, mode, nowMs);
    if (cancel && data.organizer === mailbox.primary) this.cancelAttendeeCopies(data, nowMs);
  }

  /** Changes one occurrence of a series: an exception keyed by its original start. */
  upsertOverride(mailbox: Mailbox, master: StoredItem, originalStartMs: number, patch: Partial<SimOccurrenceOverride>, nowMs: number): StoredItem {
    const orig = ewsDateTime(originalStartMs);
    const next = cloneItem(master.data);
    // By instant: an override may spell the same original start another way (with or without milliseconds).
    const i = next.modifiedOccurrences.findIndex((o) => Date.parse(o.originalStart) === originalStartMs);
    const prev = i >= 0 ? next.modifiedOccurrences[i] : { originalStart: orig, lastModifiedTime: '' };
    const ov: SimOccurrenceOverride = { ...prev, ...patch, originalStart: orig, lastModifiedTime: ewsDateTime(nowMs) };
    if (ov.start && ov.end && Date.parse(ov.end) < Date.parse(ov.start)) throw new EwsError('ErrorCalendarEndDateIsEarlierThanStartDate', 'EndDate is earlier than StartDate');
    if (i >= 0) next.modifiedOccurrences[i] = ov;
    else next.modifiedOccurrences.push(ov);
    mailbox.calendar.update(master, ['modifiedOccurrences'], (d) => Object.assign(d, { modifiedOccurrences: next.modifiedOccurrences }), nowMs);
    return master;
  }

  deleteOccurrence(mailbox: Mailbox, master: StoredItem, originalStartMs: number, nowMs: number): void {
    const orig = ewsDateTime(originalStartMs);
    mailbox.calendar.update(
      master,
      ['deletedOccurrences'],
      (d) => {
        // Copy-on-write: stored arrays may be shared (the benchmark shares empty ones).
        d.modifiedOccurrences = d.modifiedOccurrences.filter((o) => Date.parse(o.originalStart) !== originalStartMs);
        if (!d.deletedOccurrences.some((x) => Date.parse(x) === originalStartMs)) d.deletedOccurrences = [...d.deletedOccurrences, orig];
      },
      nowMs,
    );
  }

  /** Attendees' copies of a meeting, found by UID. */
  private copiesOf(uid: string, except: string): Array<{ mailbox: Mailbox; stored: StoredItem }> {
    const out: Array<{ mailbox: Mailbox; stored: StoredItem }> = [];
    for (const s of this.directory.uids.get(uid)) {
      if (s.data.mailbox === except) continue;
      const mb = this.directory.mailboxByPrimary(s.data.mailbox);
      if (mb) out.push({ mailbox: mb, stored: s });
    }
    return out;
  }

  /** Brings every attendee mailbox's copy in line with the organizer's item (creating or cancelling copies). */
  syncAttendeeCopies(org: SimCalendarItem, nowMs: number): void {
    const attendees = new Set([...org.requiredAttendees, ...org.optionalAttendees].map((a) => this.directory.mailboxByAddress(a)?.primary).filter((a): a is string => !!a));
    attendees.delete(org.mailbox);
    const existing = this.copiesOf(org.uid, org.mailbox);
    const shared: Partial<SimCalendarItem> = {
      uid: org.uid,
      subject: org.subject,
      start: org.start,
      end: org.end,
      isAllDay: org.isAllDay,
      timeZone: org.timeZone,
      location: org.location,
      body: org.body,
      bodyType: org.bodyType,
      sensitivity: org.sensitivity,
      requiredAttendees: org.requiredAttendees,
      optionalAttendees: org.optionalAttendees,
      recurrence: org.recurrence,
      modifiedOccurrences: org.modifiedOccurrences,
      deletedOccurrences: org.deletedOccurrences,
      isCancelled: org.isCancelled,
    };
    for (const { mailbox, stored } of existing) {
      if (!attendees.has(mailbox.primary)) {
        this.cancelCopy(mailbox, stored, nowMs);
        continue;
      }
      attendees.delete(mailbox.primary);
      const next = cloneItem(stored.data);
      Object.assign(next, structuredClone(shared), { organizer: org.organizer, appointmentSequenceNumber: org.appointmentSequenceNumber });
      mailbox.calendar.update(stored, ['subject', 'start', 'end', 'location', 'body', 'recurrence'], (d) => Object.assign(d, next, { id: d.id, changeKey: d.changeKey }), nowMs);
    }
    for (const primary of attendees) {
      const mb = this.directory.mailboxByPrimary(primary)!;
      const copy = this.blankItem(mb, shared, nowMs);
      copy.organizer = org.organizer;
      copy.myResponseType = 'NoResponseReceived';
      copy.legacyFreeBusyStatus = 'Tentative';
      copy.appointmentSequenceNumber = org.appointmentSequenceNumber;
      mb.calendar.create(copy, nowMs);
    }
  }

  private cancelCopy(mailbox: Mailbox, stored: StoredItem, nowMs: number): void {
    if (stored.data.isCancelled) return;
    mailbox.calendar.update(
      stored,
      ['subject', 'isCancelled'],
      (d) => {
        d.isCancelled = true;
        d.legacyFreeBusyStatus = 'Free';
        if (!d.subject.startsWith('Canceled: ')) d.subject = `Canceled: ${d.subject}`;
      },
      nowMs,
    );
  }

  cancelAttendeeCopies(org: SimCalendarItem, nowMs: number): void {
    for (const { mailbox, stored } of this.copiesOf(org.uid, org.mailbox)) this.cancelCopy(mailbox, stored, nowMs);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Seed

  private seedItem(it: SeedItem, index: number, nowMs: number): void {
    const mb = this.directory.mailboxByAddress(it.mailbox);
    if (!mb) throw new SeedError(`mailbox ${it.mailbox} is not in "mailboxes"`);
    const zone = it.timeZone ?? this.defaultTimeZone;
    if (!isValidIana(zone)) throw new SeedError(`unknown time zone '${zone}'`);
    const at = (v: string): string => ewsDateTime(resolveSeedDateTime(v, zone, nowMs));
    const fields: Partial<SimCalendarItem> = {
      subject: it.subject,
      start: at(it.start),
      end: at(it.end),
      isAllDay: it.isAllDay ?? false,
      timeZone: zone,
      location: it.location ?? '',
      body: it.body ?? '',
      bodyType: it.bodyType ?? 'Text',
      sensitivity: it.sensitivity ?? 'Normal',
      legacyFreeBusyStatus: it.legacyFreeBusyStatus ?? 'Busy',
      categories: it.categories ?? [],
      requiredAttendees: (it.requiredAttendees ?? []).map((a) => this.directory.mailboxByAddress(a)?.primary ?? a.toLowerCase()),
      optionalAttendees: (it.optionalAttendees ?? []).map((a) => this.directory.mailboxByAddress(a)?.primary ?? a.toLowerCase()),
      extendedProperties: it.extendedProperties ?? [],
      reminderMinutesBeforeStart: it.reminderMinutesBeforeStart ?? 15,
      // Seeded UIDs are derived from the seed so a demo run always shows the same ones.
      uid: it.uid ?? `040000008200E00074C5B7101A82E00800000000${createHash('sha256').update(`${mb.primary}#${index}#${it.subject}`).digest('hex').slice(0, 48).toUpperCase()}`,
    };
    if (it.recurrence) {
      const r = it.recurrence;
      const range =
        r.range.type === 'NoEnd'
          ? { type: 'NoEnd' as const, startDate: resolveSeedDate(r.range.startDate, zone, nowMs) }
          : r.range.type === 'EndDate'
            ? { type: 'EndDate' as const, startDate: resolveSeedDate(r.range.startDate, zone, nowMs), endDate: resolveSeedDate(r.range.endDate, zone, nowMs) }
            : { type: 'Numbered' as const, startDate: resolveSeedDate(r.range.startDate, zone, nowMs), count: r.range.count };
      fields.recurrence = { pattern: r.pattern as SimRecurrencePattern, range };
    }
    const item = this.blankItem(mb, fields, nowMs);
    this.normalizeSeries(item);
    if (it.recurrence) {
      const timing = { startMs: Date.parse(item.start), endMs: Date.parse(item.end), isAllDay: item.isAllDay, timeZone: zone, recurrence: item.recurrence! };
      const occurrenceStart = (v: string | number): number => {
        if (typeof v === 'number') {
          const occ = occurrenceByIndex(timing, v);
          if (!occ) throw new SeedError(`the series has no occurrence #${v}`);
          return occ.startMs;
        }
        const ms = resolveSeedDateTime(v, zone, nowMs);
        if (!occurrenceAt(timing, ms)) throw new SeedError(`${v} is not an occurrence of the series`);
        return ms;
      };
      const duration = timing.endMs - timing.startMs;
      item.deletedOccurrences = (it.deletedOccurrences ?? []).map((v) => ewsDateTime(occurrenceStart(v)));
      item.modifiedOccurrences = (it.modifiedOccurrences ?? []).map((o) => {
        const orig = occurrenceStart(o.originalStart);
        const ov: SimOccurrenceOverride = { originalStart: ewsDateTime(orig), lastModifiedTime: ewsDateTime(nowMs) };
        if (o.subject !== undefined) ov.subject = o.subject;
        if (o.shiftMinutes !== undefined) {
          ov.start = ewsDateTime(orig + o.shiftMinutes * 60_000);
          ov.end = ewsDateTime(orig + o.shiftMinutes * 60_000 + duration);
        }
        if (o.start !== undefined) ov.start = at(o.start);
        if (o.end !== undefined) ov.end = at(o.end);
        if (o.location !== undefined) ov.location = o.location;
        if (o.body !== undefined) ov.body = o.body;
        if (o.sensitivity !== undefined) ov.sensitivity = o.sensitivity;
        if (o.legacyFreeBusyStatus !== undefined) ov.legacyFreeBusyStatus = o.legacyFreeBusyStatus;
        return ov;
      });
    } else if (it.deletedOccurrences?.length || it.modifiedOccurrences?.length) {
      throw new SeedError('modifiedOccurrences/deletedOccurrences need a recurrence');
    }
    const stored = this.addItem(mb, item, nowMs, false);
    // Seeded meetings already sit in attendees' calendars, accepted.
    if (stored.data.requiredAttendees.length + stored.data.optionalAttendees.length > 0) {
      this.syncAttendeeCopies(stored.data, nowMs);
      for (const a of [...stored.data.requiredAttendees, ...stored.data.optionalAttendees]) {
        const amb = this.directory.mailboxByAddress(a);
        if (!amb || amb === mb) continue;
        for (const s of this.directory.uids.get(stored.data.uid)) {
          if (s.data.mailbox !== amb.primary) continue;
          s.data.myResponseType = 'Accept';
          s.data.legacyFreeBusyStatus = stored.data.legacyFreeBusyStatus;
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Back doors

  backDoor(smtp: string): MailboxBackDoor {
    const mb = this.directory.mailboxByAddress(smtp);
    if (!mb) throw new BackDoorError(`No mailbox has the address ${smtp}`);
    const find = (id: string): StoredItem => {
      for (const s of mb.calendar.items.values()) if (s.data.id === id) return s;
      throw new BackDoorError(`No item ${id} in the calendar of ${mb.primary}`);
    };
    const patchOf = (p: Partial<SimCalendarItem>): { keys: string[]; fields: Partial<SimCalendarItem> } => {
      const fields: Partial<SimCalendarItem> = {};
      const keys: string[] = [];
      for (const k of Object.keys(p) as Array<keyof SimCalendarItem>) {
        if (!SETTABLE.includes(k)) {
          if (['id', 'changeKey', 'mailbox', 'lastModifiedTime', 'dateTimeCreated', 'calendarItemType', 'organizer', 'myResponseType', 'appointmentSequenceNumber'].includes(k)) continue;
          throw new BackDoorError(`Unknown calendar item field '${k}'`);
        }
        (fields as Record<string, unknown>)[k] = structuredClone(p[k]);
        keys.push(k);
      }
      for (const t of ['start', 'end'] as const) {
        if (fields[t] !== undefined) {
          const ms = Date.parse(fields[t]!);
          if (Number.isNaN(ms)) throw new BackDoorError(`${t} '${fields[t]}' is not an ISO date-time`);
          fields[t] = ewsDateTime(ms);
        }
      }
      for (const a of ['requiredAttendees', 'optionalAttendees'] as const) if (fields[a]) fields[a] = fields[a]!.map((x) => x.toLowerCase());
      return { keys, fields };
    };
    const wrap = <T>(fn: () => T): T => {
      try {
        return fn();
      } catch (e) {
        if (e instanceof EwsError) throw new BackDoorError(`${e.code}: ${e.message}`);
        throw e;
      }
    };
    return {
      items: () => [...mb.calendar.items.values()].sort((a, b) => a.number - b.number).map((s) => cloneItem(s.data)),
      deletedItems: () => [...mb.calendar.deletedFolder.values()].map((s) => cloneItem(s.data)),
      create: (item) =>
        wrap(() => {
          const now = this.nowMs();
          const { fields } = patchOf(item);
          const data = this.blankItem(mb, fields, now);
          if (!item.end && item.start) data.end = ewsDateTime(Date.parse(data.start) + 1_800_000);
          return cloneItem(this.addItem(mb, data, now, true).data);
        }),
      update: (id, patch) =>
        wrap(() => {
          const now = this.nowMs();
          const s = find(id);
          const { keys, fields } = patchOf(patch);
          const next = cloneItem(s.data);
          Object.assign(next, fields);
          return cloneItem(this.commitUpdate(mb, s, keys, next, now, true).data);
        }),
      delete: (id) =>
        wrap(() => {
          this.deleteItem(mb, find(id), 'MoveToDeletedItems', this.nowMs(), true);
        }),
    };
  }
}
