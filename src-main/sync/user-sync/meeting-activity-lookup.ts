import type { SeveraItem } from '../severa-snapshot.ts';
import type { UserState } from './user-sync-state.ts';

/**
 * Finding a meeting's activity again when the one the sync knew is gone: deleted in Severa while another attendee's
 * sync (or the organizer's) made the meeting's activity anew. Used when a new Exchange item is matched
 * (match-candidates.ts) and when a write meets the pair's activity gone (severa-writes.ts).
 */

/**
 * The meeting's activity when the one a pair or the UID first names (`gone`) is gone: another the meeting is known by
 * (this cycle's index, other users' pairs, the store's memory of the UID), the first that still exists and is not taken.
 */
export async function anotherActivityOfMeeting(u: UserState, uid: string, gone: string, taken: ReadonlySet<string>): Promise<SeveraItem | null> {
  const guids = new Set<string>();
  const inCycle = u.ctx.uidIndex.get(uid);
  if (inCycle) guids.add(inCycle);
  for (const p of u.ctx.store.pairsByUid(uid)) if (p.email !== u.plan.email && !p.severaGone) guids.add(p.severaGuid);
  const remembered = u.ctx.store.activityOfMeeting(uid);
  if (remembered) guids.add(remembered);
  for (const guid of guids) {
    if (guid === gone || taken.has(guid) || guid.startsWith('dry-run:') || u.ctx.snapshot.deletedGuids.has(guid)) continue;
    const item = await u.ctx.snapshot.fetchItem(guid);
    if (item) return item;
  }
  return null;
}
