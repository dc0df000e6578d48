/**
 * The deletion journal, read back: every deletion the sync made, on either side, listed, and one put back on request
 * (`restore`, the window's journal). The sync engine writes the journal; this is where it is undone.
 */

import type { SideName } from '../common/sync-report.ts';
import type { JournalEntry, SyncStore } from '../store/sync-store.ts';
import type { EventFields } from './calendar-event.ts';
import type { SeveraActivity, SeveraActivityInput } from './severa-port.ts';
import { isSeveraNotFound } from './severa-port.ts';
import { exchangeOnlyPair, RESTORED_TAG_PREFIX } from './user-sync/item-helpers.ts';
import type { JournaledItem } from './user-sync/write-ahead.ts';
import { occurrenceAt } from './recurrence-rule.ts';
import { parseOccurrenceItemId, seriesWithOccurrence } from './series-flattening.ts';
import { t } from '../common/i18n/i18n.ts';
import type { SyncDeps } from './sync-engine.ts';

export interface DeletionListing {
  id: number;
  email: string;
  side: SideName;
  kind: 'item' | 'participation';
  subject: string;
  start: string;
  reason: string;
  deletedAt: string;
  restoredAt: string | null;
}

export function listDeletions(store: SyncStore, filter: { email?: string; limit?: number; includeRestored?: boolean } = {}): DeletionListing[] {
  return store.listJournal(filter).map((j) => ({
    id: j.id,
    email: j.email,
    side: j.side,
    kind: j.kind,
    subject: j.subject,
    start: j.start,
    reason: j.reason,
    deletedAt: j.deletedAt,
    restoredAt: j.restoredAt,
  }));
}

/** Puts a deleted occurrence back into its Exchange series; null when the series (or that date in it) is gone. */
async function restoreOccurrence(
  deps: Pick<SyncDeps, 'severa' | 'calendar' | 'store' | 'now'>,
  entry: JournalEntry<JournaledItem>,
  item: Extract<JournaledItem, { side: 'exchange' }>,
  ref: { seriesId: string; key: string },
): Promise<RestoreResult | null> {
  const [series] = await deps.calendar.getEvents(item.mailbox, [ref.seriesId]);
  if (!series?.fields.recurrence) return null;
  const now = occurrenceAt(series.fields, ref.key);
  if (now === undefined) return null;
  if (now) {
    deps.store.markRestored(entry.id, item.event.id, deps.now().toISOString());
    return { journalId: entry.id, side: 'exchange', restoredId: item.event.id, repaired: false, message: t('engine.restore.stillInSeries', { subject: entry.subject, mailbox: item.mailbox }) };
  }
  const { recurrence: _r, exceptions: _x, ...fields } = item.event.fields;
  await deps.calendar.updateEvent(item.mailbox, series.id, series.version, seriesWithOccurrence(series.fields, ref.key, fields));
  deps.store.markRestored(entry.id, item.event.id, deps.now().toISOString());
  // Not paired here: the next cycle reads the series (it changed) and brings the occurrence to Severa like a new one.
  return { journalId: entry.id, side: 'exchange', restoredId: item.event.id, repaired: false, message: t('engine.restore.backInSeries', { subject: entry.subject, mailbox: item.mailbox }) };
}

export class RestoreError extends Error {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, opts);
    this.name = 'RestoreError';
  }
}

export interface RestoreResult {
  journalId: number;
  side: SideName;
  /** Id of the re-created item (Exchange id or Severa guid; for a participation, the activity guid). */
  restoredId: string;
  /** Paired again with the other side's item at once; otherwise the next cycle brings it to the other side. */
  repaired: boolean;
  message: string;
}

function activityInputFrom(a: SeveraActivity): SeveraActivityInput {
  if (!a.name || !a.startDateTime || !a.activityType?.guid || !a.ownerUser?.guid) throw new RestoreError(t('engine.restore.lacksFields'));
  const input: SeveraActivityInput = {
    name: a.name,
    startDateTime: a.startDateTime,
    endDateTime: a.endDateTime ?? null,
    isAllDay: a.isAllDay ?? false,
    notes: a.notes ?? null,
    location: a.location ?? null,
    activityType: { guid: a.activityType.guid },
    ownerUser: { guid: a.ownerUser.guid },
  };
  if (a.recurrence) {
    const { exceptions: _readOnly, ...recurrence } = a.recurrence;
    input.recurrence = recurrence;
  }
  return input;
}

/**
 * Brings back an item the sync deleted, on the side it was deleted from, and pairs it again with the other side's item
 * when that still exists. Journal entries are never removed; a restored one is marked and cannot be restored twice.
 */
export async function restoreDeletion(deps: Pick<SyncDeps, 'severa' | 'calendar' | 'store' | 'now'>, journalId: number): Promise<RestoreResult> {
  if (!Number.isInteger(journalId) || journalId < 1) throw new RestoreError(t('engine.restore.notNumber', { id: String(journalId) }));
  const entry = deps.store.getJournalEntry(journalId) as JournalEntry<JournaledItem> | null;
  if (!entry) throw new RestoreError(t('engine.restore.noEntry', { id: journalId }));
  if (entry.restoredAt) throw new RestoreError(t('engine.restore.alreadyRestored', { id: journalId, at: entry.restoredAt }));
  const item = entry.item;
  const now = () => deps.now().toISOString();
  const userState = deps.store.getUser(entry.email);

  if (item.side === 'exchange') {
    // One occurrence of a series synced as occurrences: it goes back into its series, while the series exists.
    const occurrence = parseOccurrenceItemId(item.event.id);
    if (occurrence) {
      const restored = await restoreOccurrence(deps, entry, item, occurrence);
      if (restored) return restored;
    }
    const [stillThere] = occurrence ? [] : await deps.calendar.getEvents(item.mailbox, [item.event.id]);
    if (stillThere) {
      deps.store.markRestored(journalId, stillThere.id, now());
      return { journalId, side: 'exchange', restoredId: stillThere.id, repaired: false, message: t('engine.restore.stillInCalendar', { subject: entry.subject, mailbox: item.mailbox }) };
    }
    let activityExists = false;
    if (item.severaGuid) {
      try {
        await deps.severa.getActivity(item.severaGuid);
        activityExists = true;
      } catch (err) {
        if (!isSeveraNotFound(err)) throw err;
      }
    }
    const fields: EventFields = item.event.fields;
    const tag = activityExists && item.severaGuid ? item.severaGuid : `${RESTORED_TAG_PREFIX}${journalId}`;
    const written = await deps.calendar.createEvent(item.mailbox, fields, tag);
    let repaired = false;
    if (activityExists && item.severaGuid) {
      const activity = await deps.severa.getActivity(item.severaGuid);
      const ownerGuid = activity.ownerUser?.guid;
      // Unknown stored Severa content: the next cycle compares both sides afresh and records them without a write when equal.
      const pair = exchangeOnlyPair(
        { id: written.id, version: written.version, lastModified: written.lastModified, fields },
        { email: entry.email, mailbox: item.mailbox, severaGuid: item.severaGuid, role: ownerGuid && ownerGuid === userState?.severaUserGuid ? 'owner' : 'participant', origin: 'severa' },
      );
      deps.store.commitUserWork({ email: entry.email, upsertPairs: [pair] });
      repaired = true;
    }
    deps.store.markRestored(journalId, written.id, now());
    return { journalId, side: 'exchange', restoredId: written.id, repaired, message: t('engine.restore.backInCalendar', { subject: entry.subject, mailbox: item.mailbox }) };
  }

  if ('participation' in item) {
    const { activityGuid, userGuid } = item.participation;
    try {
      await deps.severa.getActivity(activityGuid);
    } catch (err) {
      if (isSeveraNotFound(err)) throw new RestoreError(t('engine.restore.activityGone', { subject: entry.subject }));
      throw err;
    }
    const present = (await deps.severa.listParticipants(activityGuid)).some((p) => p.participantGuid === userGuid);
    if (!present) await deps.severa.addParticipant(activityGuid, userGuid);
    deps.store.markRestored(journalId, activityGuid, now());
    return { journalId, side: 'severa', restoredId: activityGuid, repaired: false, message: t('engine.restore.takesPartAgain', { email: entry.email, subject: entry.subject }) };
  }

  const input = activityInputFrom(item.activity);
  const created = await deps.severa.createActivity(input);
  const guid = created.guid ?? '';
  if (!guid) throw new RestoreError(t('engine.restore.noGuid'));
  const owner = input.ownerUser.guid;
  for (const p of item.participants) {
    if (p.participantGuid && p.participantGuid !== owner && (p.type === undefined || p.type === 'User')) {
      try {
        await deps.severa.addParticipant(guid, p.participantGuid);
      } catch {
        // A participant who left the organization cannot come back; the activity itself is what matters.
      }
    }
  }
  let repaired = false;
  if (item.exchangeId) {
    const [event] = await deps.calendar.getEvents(item.mailbox, [item.exchangeId]);
    if (event) {
      const pair = exchangeOnlyPair(event, { email: entry.email, mailbox: item.mailbox, severaGuid: guid, role: owner === userState?.severaUserGuid ? 'owner' : 'participant', origin: 'exchange' });
      deps.store.commitUserWork({ email: entry.email, upsertPairs: [pair] });
      repaired = true;
    }
  }
  deps.store.markRestored(journalId, guid, now());
  return { journalId, side: 'severa', restoredId: guid, repaired, message: t('engine.restore.backInSevera', { subject: entry.subject }) };
}
