/**
 * One mailbox's calendar as neutral JSON, the shape both simulators export and import when a mailbox moves between them
 * (on-premises Exchange <-> Exchange Online, or between two Exchange versions). It is Graph-flavoured on purpose: Graph's
 * patternedRecurrence, Graph's extended property ids (`String {guid} Name X`), lower-case enums. Instants are ISO UTC
 * strings. The EWS simulator's items convert to and from it in neutral-ews-items.ts; the Graph simulator's in
 * graph/neutral-mailbox.ts. Ids never travel: an import makes new ones (`id` is the source's, for id maps).
 */
import type { BodyType, Importance, ResponseType, Sensitivity, ShowAs, SimAttendee } from '../graph/graph-model.ts';
import type { PatternedRecurrence } from '../graph/graph-recurrence.ts';

export interface NeutralException {
  originalStart: string;
  subject?: string;
  body?: string;
  bodyType?: BodyType;
  start?: string;
  end?: string;
  location?: string;
  sensitivity?: Sensitivity;
  showAs?: ShowAs;
  /** When the occurrence was last changed (the item's lastModified when absent). */
  lastModified?: string;
}

export interface NeutralItem {
  /** The item's id where it was exported from (informative: imports make new ids; movers map old to new with it). */
  id?: string;
  uid: string;
  subject: string;
  body: string;
  bodyType: BodyType;
  start: string;
  end: string;
  /** IANA or Windows zone name of start/end. */
  timeZone: string;
  isAllDay: boolean;
  location: string;
  sensitivity: Sensitivity;
  showAs: ShowAs;
  importance: Importance;
  categories: string[];
  isReminderOn: boolean;
  reminderMinutesBeforeStart: number;
  organizer: { address: string; name: string };
  isOrganizer: boolean;
  response: ResponseType;
  attendees: SimAttendee[];
  /** Graph's patternedRecurrence (pattern + range), or null. */
  recurrence: PatternedRecurrence | null;
  exceptions: NeutralException[];
  cancelledOccurrences: string[];
  /** Single-value extended properties, by Graph id (`String {guid} Name X`). */
  extendedProperties: Array<{ id: string; value: string }>;
  isCancelled: boolean;
  created: string;
  lastModified: string;
}

export interface NeutralMailbox {
  format: 'calendar-mailbox';
  version: 1;
  owner: { address: string; displayName: string };
  items: NeutralItem[];
}

/** Refuses anything but a version 1 neutral mailbox, naming what it found. */
export function assertNeutralMailbox(data: unknown): asserts data is NeutralMailbox {
  const d = data as Partial<NeutralMailbox> | null;
  if (d?.format !== 'calendar-mailbox' || d.version !== 1 || !Array.isArray(d.items)) {
    throw new Error(`Not a calendar-mailbox version 1 export (format ${String(d?.format)}, version ${String(d?.version)}).`);
  }
}

/** A neutral time as a UTC instant (ms); names the item when it is not a date-time. */
export function neutralMs(v: string, what: string): number {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new Error(`${what}: '${v}' is not a date-time`);
  return t;
}
