import type { SideName } from '../../common/sync-report.ts';
import type { SideEvent } from '../calendar-event.ts';
import type { SeveraActivity, SeveraParticipant } from '../severa-port.ts';
import { seriesBaseText, type Candidate, type SideState } from './candidate.ts';
import type { IntentRecord } from '../../store/sync-store.ts';
import type { UserState } from './user-sync-state.ts';

/**
 * What the writes put in the store before their side effect: intents, which a run killed before its commit leaves
 * behind for the next run to finish the job (recover-intents.ts), and the full item journaled before
 * a deletion, which a restore brings back (sync-engine.ts).
 */

/** Written before an activity is created from an Exchange item (kind 'create-severa'). */
export interface CreateSeveraIntent {
  exchangeId: string;
  mailbox: string;
  ownerGuid: string;
  hash: string;
  start: string;
  end: string;
  participantGuids: string[];
  /** The activity's name as written (absent in intents of older versions). */
  name?: string;
  /** The meeting's UID, when the item is a meeting (absent in intents of older versions). */
  uid?: string;
}

/** A create in Severa announced by an intent, with the time of that intent and of the same run's next one. */
export interface PendingSeveraCreate {
  intent: CreateSeveraIntent;
  at: string;
  next?: string;
}

/** Written before an Exchange item is created from an activity (kind 'create-exchange'). */
export interface CreateExchangeIntent {
  mailbox: string;
  severaGuid: string;
}

/**
 * Written before the sync copies one side of a pair onto the other (kinds 'update-exchange', 'update-severa'). A run
 * killed after the write but before its commit leaves the pair as it was, so the next run would take the sync's own
 * write for a user's change (and, say, bring back an entry deleted meanwhile on the other side). With this it knows
 * better: when the written side still holds exactly what was written, the pair is first brought to where the killed run
 * would have left it.
 */
export interface UpdateIntent {
  exchangeId: string;
  severaGuid: string;
  /** The written side's content hash (as the pair stores it) and series base once the write landed. */
  writtenHash: string;
  writtenBase: string | null;
  /** The other side as it was copied from. */
  source: { version: string; hash: string; modified: string; base: string | null };
}

/** The full item as journaled before a deletion. */
export type JournaledItem =
  | { side: 'exchange'; mailbox: string; event: SideEvent; severaGuid: string | null }
  | { side: 'severa'; activity: SeveraActivity; participants: SeveraParticipant[]; exchangeId: string | null; mailbox: string }
  | { side: 'severa'; participation: { activityGuid: string; userGuid: string; participantGuid: string }; activity: SeveraActivity | null; exchangeId: string | null; mailbox: string };

/** The intent of copying onto `side` of a stored pair (see UpdateIntent), not written yet; null when there is no pair. */
export function updateIntentRecord(u: UserState, side: SideName, c: Candidate, what: { writtenHash: string; writtenBase: string | null; source: SideState }): IntentRecord<UpdateIntent> | null {
  const p = c.pair;
  if (!p || u.ctx.dryRun) return null;
  const { source } = what;
  const payload: UpdateIntent = {
    exchangeId: p.exchangeId,
    severaGuid: p.severaGuid,
    writtenHash: what.writtenHash,
    writtenBase: what.writtenBase,
    source: { version: source.version, hash: source.hash, modified: source.modified, base: seriesBaseText(source) },
  };
  return { id: u.ctx.newId(), email: u.plan.email, kind: side === 'exchange' ? 'update-exchange' : 'update-severa', payload, createdAt: u.ctx.now().toISOString() };
}

/** Writes the intent of copying onto `side` of a stored pair (see UpdateIntent); null when there is no pair. */
export function announceUpdate(u: UserState, side: SideName, c: Candidate, what: { writtenHash: string; writtenBase: string | null; source: SideState }): string | null {
  const record = updateIntentRecord(u, side, c, what);
  if (!record) return null;
  u.ctx.store.addIntent(record);
  return record.id;
}
