import { formatInZone } from '../common/zoned-time.ts';
import type { ActivityView, JsonRecord, ParticipantRec, StoreLookups, TypeRec, UserRec } from './activity-records.ts';
import { lastOccurrenceStart, toRRule } from './recurrence-expansion.ts';
import { occurrenceGuid } from './series-occurrences.ts';

/** Rendering: the store's records as the API sends them (ActivityModel and friends), date-times in the store's zone. */

function dt(store: StoreLookups, ms: number): string {
  return formatInZone(ms, store.zone);
}

export function userRef(store: StoreLookups, guid: string | null): JsonRecord | null {
  if (!guid) return null;
  const u = store.users.get(guid);
  if (!u) return null;
  return { guid: u.guid, firstName: u.firstName, lastName: u.lastName, name: `${u.firstName} ${u.lastName}`, code: u.code };
}

export function renderActivity(store: StoreLookups, view: ActivityView): JsonRecord {
  const { rec } = view;
  const type = store.types.get(rec.typeGuid);
  const owner = store.users.get(rec.ownerGuid);
  const isOccurrence = view.occurrenceStartMs !== null;
  const start = isOccurrence ? view.occurrenceStartMs! : rec.startMs;
  const end = rec.endMs === null ? null : isOccurrence ? start + (rec.endMs - rec.startMs) : rec.endMs;
  let recurrence: JsonRecord | null = null;
  let recurrenceRule: string | null = null;
  if (rec.kind === 'Series' && !isOccurrence) {
    const spec = rec.recurrence!;
    const last = lastOccurrenceStart(spec, rec.startMs, store.zone);
    recurrence = {
      frequency: spec.frequency,
      pattern: spec.pattern ?? null,
      range: spec.range ?? null,
      lastOccurrenceDateTime: last === null ? null : dt(store, last),
      exceptions: [...rec.removedStarts!, ...rec.exceptionGuids!.keys()].sort((a, b) => a - b).map((ms) => dt(store, ms)),
    };
    recurrenceRule = toRRule(spec, last);
  }
  return {
    guid: isOccurrence ? occurrenceGuid(rec.guid, start) : rec.guid,
    name: rec.name,
    startDateTime: dt(store, start),
    endDateTime: end === null ? null : dt(store, end),
    isAllDay: rec.isAllDay,
    hasDuration: end !== null && end > start,
    hasHours: false,
    isClosed: rec.isClosed,
    isUnassigned: false,
    notes: rec.notes,
    location: rec.location,
    activityType: { guid: rec.typeGuid, name: type?.name ?? null, category: type?.category ?? 'CalendarEntry' },
    ownerUser: { guid: rec.ownerGuid, name: owner ? `${owner.firstName} ${owner.lastName}` : null, code: owner?.code ?? null, keywords: [] },
    createdBy: userRef(store, rec.createdBy),
    lastUpdatedBy: userRef(store, rec.updatedBy),
    createdDateTime: dt(store, rec.createdMs),
    lastUpdatedDateTime: dt(store, rec.updatedMs),
    customer: null,
    phase: null,
    projectTaskStatus: null,
    recurrence,
    recurrenceRule,
    recurrenceType: isOccurrence ? 'Occurrence' : rec.kind,
    recurrenceParentActivityGuid: isOccurrence ? rec.guid : rec.kind === 'Exception' ? rec.seriesGuid : null,
  };
}

export function renderParticipant(store: StoreLookups, activityGuid: string, p: ParticipantRec): JsonRecord {
  const u = store.users.get(p.userGuid);
  return {
    guid: p.guid,
    activityGuid,
    participantGuid: p.userGuid,
    name: u ? `${u.firstName} ${u.lastName}` : null,
    email: u?.email ?? null,
    isActive: u?.isActive ?? false,
    status: p.status,
    type: 'User',
    phone: null,
    mobilePhone: null,
  };
}

export function renderUser(store: StoreLookups, u: UserRec): JsonRecord {
  const type = u.defaultTypeGuid ? store.types.get(u.defaultTypeGuid) : undefined;
  return {
    guid: u.guid,
    firstName: u.firstName,
    lastName: u.lastName,
    email: u.email,
    code: u.code,
    title: u.title,
    isActive: u.isActive,
    defaultActivityType: type ? { guid: type.guid, name: type.name } : null,
    timezone: { guid: null, ianaName: u.timeZone, name: u.timeZone, systemName: null },
    createdDateTime: dt(store, u.createdMs),
    lastUpdatedDateTime: dt(store, u.updatedMs),
    keywords: [],
  };
}

export function renderType(store: StoreLookups, t: TypeRec): JsonRecord {
  return {
    guid: t.guid,
    name: t.name,
    category: t.category,
    code: t.code,
    isActive: t.isActive,
    isDefault: t.isDefault,
    isPaidLeave: t.category === 'Absences' ? true : null,
    createdDateTime: dt(store, t.createdMs),
    lastUpdatedDateTime: dt(store, t.updatedMs),
  };
}
