import type { RecurrenceSpec } from './recurrence-expansion.ts';

/**
 * What the Severa simulator's store holds: users, activity types, activities (single activities, series masters and
 * their exceptions) with their participants, the fields a create or an edit sets, and the error a request gets when
 * they are not acceptable. The store itself (indexes, change log, writes): activity-store.ts.
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

export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
}

export type JsonRecord = Record<string, unknown>;

/** The part of the store that checks and rendering read: the organization's zone, its users and its activity types. */
export interface StoreLookups {
  readonly zone: string;
  readonly users: Map<string, UserRec>;
  readonly types: Map<string, TypeRec>;
}

/** The checks a create or an edit must pass; `current` is the record an edit changes. */
export function validateActivityInput(store: StoreLookups, input: ActivityInput, isNew: boolean, current?: ActivityRec): void {
  if (!input.name.trim()) throw new StoreError(400, 'InvalidParameter', 'The activity name may not be empty.');
  const type = store.types.get(input.typeGuid);
  if (!type) throw new StoreError(400, 'InvalidParameter', `Activity type ${input.typeGuid} does not exist.`);
  if (!type.isActive && (isNew || current?.typeGuid !== input.typeGuid)) throw new StoreError(400, 'InvalidParameter', `Activity type "${type.name}" is not active.`);
  const owner = store.users.get(input.ownerGuid);
  if (!owner) throw new StoreError(400, 'InvalidParameter', `User ${input.ownerGuid} does not exist.`);
  if (!owner.isActive && (isNew || current?.ownerGuid !== input.ownerGuid)) throw new StoreError(400, 'InvalidParameter', `User ${owner.firstName} ${owner.lastName} is not active.`);
  if (!Number.isFinite(input.startMs)) throw new StoreError(400, 'InvalidParameter', 'startDateTime is not a valid date-time.');
  if (input.endMs !== null && (!Number.isFinite(input.endMs) || input.endMs < input.startMs)) throw new StoreError(400, 'InvalidParameter', 'endDateTime must not be before startDateTime.');
  if (input.location !== null && input.location.length > 1000) throw new StoreError(400, 'InvalidParameter', 'location may have at most 1000 characters.');
}
