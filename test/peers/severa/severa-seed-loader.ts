import type { SeveraStore } from './activity-store.ts';
import type { ParsedSeveraSeed } from './severa-seed.ts';
import { parseSeedDate, parseSeedDateTime } from '../common/zoned-time.ts';

/**
 * Fills an empty store from a parsed seed file (severa-seed.ts): activity types, users, then activities with their
 * participants and series exceptions, relative dates resolved against `nowMs` in the seed's time zone.
 */
export function loadSeedInto(store: SeveraStore, seed: ParsedSeveraSeed, nowMs: number): void {
  const zone = seed.timeZone;
  const dt = (v: string) => parseSeedDateTime(v, zone, nowMs);
  for (const t of seed.activityTypes) store.addType({ guid: t.guid, name: t.name, category: t.category, code: t.code, isActive: t.isActive, isDefault: t.isDefault });
  for (const u of seed.users) {
    store.addUser({
      guid: u.guid, firstName: u.firstName, lastName: u.lastName, email: u.email, code: u.code, title: u.title, isActive: u.isActive,
      defaultTypeGuid: u.defaultActivityTypeGuid, timeZone: u.timeZone ?? zone,
    });
  }
  for (const a of seed.activities) {
    const where = `activity ${a.guid}`;
    try {
      const startMs = dt(a.start);
      const recurrence = a.recurrence
        ? {
            frequency: a.recurrence.frequency,
            pattern: a.recurrence.pattern,
            range: a.recurrence.range
              ? { maxOccurrences: a.recurrence.range.maxOccurrences ?? null, recursUntilDate: a.recurrence.range.recursUntilDate ? parseSeedDate(a.recurrence.range.recursUntilDate, zone, nowMs) : null }
              : null,
          }
        : null;
      const rec = store.createActivity(
        {
          name: a.name, startMs, endMs: a.end == null ? null : dt(a.end), isAllDay: a.isAllDay, notes: a.notes, location: a.location, isClosed: a.isClosed,
          typeGuid: a.activityTypeGuid, ownerGuid: a.ownerGuid, recurrence,
        },
        a.ownerGuid,
        {
          guid: a.guid,
          participants: a.participants.filter((p) => p !== a.ownerGuid),
          createdMs: a.createdDateTime ? dt(a.createdDateTime) : undefined,
          updatedMs: a.lastUpdatedDateTime ? dt(a.lastUpdatedDateTime) : undefined,
        },
      );
      if (a.exceptions.length) {
        // Exceptions are made the way a client makes them: through the occurrence.
        const page = store.listActivities({ userGuids: [a.ownerGuid], recurrenceType: 'Occurrence' }, null, 100_000);
        const byStart = new Map(page.items.filter((v) => v.rec === rec).map((v) => [v.occurrenceStartMs!, store.renderActivity(v).guid as string]));
        for (const ex of a.exceptions) {
          const original = dt(ex.originalStart);
          const occGuid = byStart.get(original);
          if (!occGuid) throw new Error(`exception ${ex.originalStart} is not an occurrence of the series.`);
          if (ex.deleted) store.deleteActivity(occGuid, null);
          else {
            store.updateActivity(
              occGuid,
              (cur) => ({
                ...cur,
                name: ex.name ?? cur.name,
                startMs: ex.start ? dt(ex.start) : cur.startMs,
                endMs: ex.end ? dt(ex.end) : cur.endMs,
                notes: ex.notes !== undefined ? ex.notes : cur.notes,
                location: ex.location !== undefined ? ex.location : cur.location,
              }),
              a.ownerGuid,
            );
          }
        }
      }
    } catch (e) {
      throw new Error(`The Severa seed is not valid: ${where}: ${(e as Error).message}`);
    }
  }
}
