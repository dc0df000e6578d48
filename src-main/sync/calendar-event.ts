/**
 * The neutral shape of one calendar entry, shared by both connectors and the sync engine.
 *
 * Each connector turns its own wire format (EWS CalendarItem, Graph event, Severa ActivityModel) into an
 * `EventFields` plus side-specific identity (`SideEvent`). The engine compares, decides and writes only in
 * these terms, so the decision table never sees XML or JSON.
 *
 * Time: a timed event carries UTC instants (`2026-03-29T07:00:00.000Z`); an all-day event carries local dates
 * (`2026-03-29`, end exclusive) in `timeZone`. `timeZone` is an IANA name and decides how a recurrence expands.
 */

export type Weekday = 'Monday' | 'Tuesday' | 'Wednesday' | 'Thursday' | 'Friday' | 'Saturday' | 'Sunday';
export type WeekOrdinal = 'First' | 'Second' | 'Third' | 'Fourth' | 'Last';
/**
 * Groups of days a relative monthly/yearly pattern can count in: "the last weekday of the month" is
 * `{ weekOrdinal: 'Last', dayOfWeek: 'Weekday' }`. EWS DaysOfWeek Day/Weekday/WeekendDay; Severa DayOrdinalOption
 * Day/WeekDay/WeekendDay.
 */
export type DayGroup = 'Day' | 'Weekday' | 'WeekendDay';

/**
 * A recurrence pattern. It holds everything both EWS and Severa can say; where one side cannot write a rule the other
 * side made (see each mapping's "problem" check), the engine syncs the series' occurrences inside the window as
 * single items instead.
 */
export interface RecurrenceRule {
  frequency: 'Daily' | 'Weekly' | 'Monthly' | 'Yearly';
  /** Every `interval` days/weeks/months (1 for yearly). */
  interval: number;
  /** Weekly: the days it falls on. */
  daysOfWeek?: Weekday[];
  /** Monthly/Yearly absolute: day of the month, 1..31. */
  dayOfMonth?: number;
  /** Monthly/Yearly relative: e.g. the Last Friday, or the Last Weekday (a day group). */
  weekOrdinal?: WeekOrdinal;
  dayOfWeek?: Weekday | DayGroup;
  /**
   * Weekly with an interval above 1: the day weeks start on, which decides which days share a week and so which weeks
   * are skipped. Absent means Sunday (Exchange's default). Set only where it changes the occurrences (see
   * `canonicalRule` in recurrence-rule.ts), so two sides with different week starts agree whenever the dates agree.
   */
  firstDayOfWeek?: Weekday;
  /** Yearly: 1..12. */
  month?: number;
  /** First occurrence's local date, YYYY-MM-DD. */
  startDate: string;
  /** End of the series: a count, or a last local date (inclusive), or neither (no end). */
  count?: number;
  until?: string;
}

/** One changed or deleted occurrence of a series, keyed by the occurrence's original start. */
export interface OccurrenceException {
  /** The start the occurrence would have had without the change (UTC instant or local date for all-day). */
  originalStart: string;
  /** null: the occurrence was deleted. */
  fields: Omit<EventFields, 'recurrence'> | null;
}

export interface EventFields {
  subject: string;
  start: string;
  end: string;
  isAllDay: boolean;
  timeZone: string;
  location: string;
  /** Plain text. HTML bodies are converted by the connector. */
  body: string;
  /** EWS Sensitivity Private/Confidential; Severa activity category Personal. */
  isPrivate: boolean;
  recurrence: RecurrenceRule | null;
  exceptions: OccurrenceException[];
  /** Lower-cased SMTP addresses; the organizer is not repeated here. */
  attendees: string[];
  organizer: string | null;
}

/** An event as one side holds it. */
export interface SideEvent {
  /** Stable id on that side: EWS ItemId (without ChangeKey), Graph id, Severa guid. */
  id: string;
  /** Changes whenever the item changes: EWS ChangeKey, Graph changeKey, Severa lastUpdatedDateTime. */
  version: string;
  /** Server's last-modified time, UTC ISO. Decides collisions (the later update wins). */
  lastModified: string;
  fields: EventFields;
  /** iCalendar UID (Exchange meetings): the same in the organizer's and every attendee's copy. */
  uid?: string;
  /** On Exchange: the Severa guid the sync stamped on an item it created (extended property). */
  syncTag?: string;
}
