/**
 * What the sync engine needs from Severa, and no more: a narrow port that the real `SeveraClient`
 * (src-main/severa/severa-client.ts) satisfies structurally and that tests fake in memory.
 *
 * The model types are the subset of the public API's schemas (ActivityModel, ActivityTypeModel, UserOutputModel,
 * ActivityParticipantModel, ActivityRecurrenceModel) the engine reads or writes, with every field the API may omit
 * optional, so any faithful client's richer types are assignable to them.
 */

export type ActivityCategory = 'Personal' | 'Absences' | 'CalendarEntry' | 'SalesEvent' | 'Task';
export type SeveraRecurrenceType = 'None' | 'Occurrence' | 'Exception' | 'Series';
export type SeveraDayOrdinal = 'First' | 'Second' | 'Third' | 'Fourth' | 'Last';
export type SeveraDayOrdinalOption =
  | 'Sunday' | 'Monday' | 'Tuesday' | 'Wednesday' | 'Thursday' | 'Friday' | 'Saturday' | 'WeekDay' | 'WeekendDay' | 'Day';
export type SeveraMonth =
  | 'January' | 'February' | 'March' | 'April' | 'May' | 'June' | 'July' | 'August' | 'September' | 'October' | 'November' | 'December';

export interface SeveraRecurrence {
  frequency: 'Daily' | 'Weekly' | 'Monthly' | 'Yearly';
  pattern?: {
    daily?: { everyWeekday?: boolean; interval?: number | null } | null;
    weekly?: {
      interval?: number;
      monday?: boolean; tuesday?: boolean; wednesday?: boolean; thursday?: boolean; friday?: boolean; saturday?: boolean; sunday?: boolean;
    } | null;
    monthly?: { interval?: number; dayOfMonth?: number | null; dayOrdinal?: SeveraDayOrdinal | null; dayOrdinalOption?: SeveraDayOrdinalOption | null } | null;
    yearly?: { month?: SeveraMonth; dayOfMonth?: number | null; dayOrdinal?: SeveraDayOrdinal | null; dayOrdinalOption?: SeveraDayOrdinalOption | null } | null;
  } | null;
  range?: { maxOccurrences?: number | null; recursUntilDate?: string | null } | null;
  lastOccurrenceDateTime?: string | null;
  /** Original starts of the occurrences that were changed or deleted (read-only). */
  exceptions?: string[] | null;
}

export interface SeveraActivity {
  guid?: string | null;
  name?: string;
  startDateTime?: string;
  endDateTime?: string | null;
  isAllDay?: boolean;
  notes?: string | null;
  location?: string | null;
  activityType?: { guid: string; name?: string | null; category?: ActivityCategory };
  ownerUser?: { guid: string; name?: string | null };
  recurrence?: SeveraRecurrence | null;
  recurrenceType?: SeveraRecurrenceType;
  recurrenceParentActivityGuid?: string | null;
  isClosed?: boolean;
  lastUpdatedDateTime?: string | null;
  createdDateTime?: string;
}

/** What POST /v1/activities takes. */
export interface SeveraActivityInput {
  name: string;
  startDateTime: string;
  endDateTime?: string | null;
  isAllDay?: boolean;
  notes?: string | null;
  location?: string | null;
  activityType: { guid: string };
  ownerUser: { guid: string };
  recurrence?: SeveraRecurrence | null;
}

export interface SeveraActivityType {
  guid?: string | null;
  name?: string;
  category?: ActivityCategory;
  isActive?: boolean;
  isDefault?: boolean;
}

export interface SeveraUser {
  guid?: string | null;
  email?: string | null;
  firstName?: string;
  lastName?: string;
  isActive?: boolean;
  defaultActivityType?: { guid?: string | null; name?: string | null } | null;
  timezone?: { ianaName?: string | null } | null;
}

export interface SeveraParticipant {
  guid?: string | null;
  activityGuid?: string;
  participantGuid?: string;
  email?: string | null;
  type?: 'User' | 'Contact' | 'Resource' | 'Other';
}

export interface SeveraActivityFilter {
  userGuids?: string[];
  includeAsMember?: boolean;
  startDateTime?: string;
  endDateTime?: string;
  changedSince?: string;
  activityCategories?: ActivityCategory[];
  activityTypeGuids?: string[];
  recurrenceType?: SeveraRecurrenceType;
}

/**
 * A JSON Patch `Replace` of one field, as the API declares it (values travel as strings; the client converts).
 * Paths are ActivityModel paths: `/name`, `/activityType/guid`, `/recurrence/pattern/weekly/monday`, ...
 */
export interface SeveraPatch {
  path: string;
  value: string | number | boolean | null;
}

export interface SeveraPort {
  /** Every page, collected. */
  listActivities(filter: SeveraActivityFilter): Promise<SeveraActivity[]>;
  /** Optional: the pages one by one as they arrive (a long listing is then never held whole). */
  iterateActivityPages?(filter: SeveraActivityFilter): AsyncIterable<SeveraActivity[]>;
  /** Throws an error whose `code` is 'not-found' (or `status` 404) when the activity does not exist. */
  getActivity(guid: string): Promise<SeveraActivity>;
  createActivity(model: SeveraActivityInput): Promise<SeveraActivity>;
  patchActivity(guid: string, ops: SeveraPatch[]): Promise<SeveraActivity | SeveraActivity[]>;
  /** An activity that is already gone is not an error (the client may answer false, or throw not-found). */
  deleteActivity(guid: string): Promise<unknown>;
  listParticipants(activityGuid: string): Promise<SeveraParticipant[]>;
  addParticipant(activityGuid: string, userGuid: string): Promise<unknown>;
  /** `participantGuid`: the participant record's guid (ActivityParticipantModel.guid). */
  removeParticipant(activityGuid: string, participantGuid: string): Promise<unknown>;
  listActivityTypes(): Promise<SeveraActivityType[]>;
  listUsers(): Promise<SeveraUser[]>;
  /** Server clock minus local clock, ms, from the last response's Date header; null before any. */
  clockOffsetMs(): number | null;
}

/** Whether an error from the Severa port means "no such item". */
export function isSeveraNotFound(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; status?: unknown };
  return e.code === 'not-found' || e.status === 404;
}
