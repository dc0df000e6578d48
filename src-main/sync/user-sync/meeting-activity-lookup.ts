import type { SeveraItem } from '../severa-snapshot.ts';
import type { UserState } from './user-sync-state.ts';

/**
 * A meeting's activity by its iCalendar UID, from what the sync knows: this cycle's index, other users' pairs, and the
 * store's memory of the UID. guidForUid names the one to link a meeting copy to (match-candidates.ts);
 * anotherActivityOfMeeting finds the meeting's activity again when the one the sync knew is gone: deleted in Severa
 * while another attendee's sync (or the organizer's) made it anew (match-candidates.ts, and severa-writes.ts when a
 * write meets the pair's activity gone).
 */

/**
 * The activity another enrolled user's pair (or a pair made this cycle) holds for a meeting UID; when no pair holds the
 * UID any more (attendees' pairs turned into the sync's own copies while the organizer's syncs failed), the activity
 * a pair last held for it, while any pair still holds that activity (K15 of the real-time soak, K25 of the long one).
 */
export function guidForUid(u: UserState, uid: string): string | undefined {
  const inCycle = u.ctx.uidIndex.get(uid);
  if (inCycle) return inCycle;
  const holding = u.ctx.store.pairsByUid(uid);
  const others = holding.find((p) => p.email !== u.plan.email);
  if (others) return others.severaGuid;
  if (holding.length > 0) return undefined;
  return u.ctx.store.activityOfMeeting(uid) ?? undefined;
}

/**
 * The meeting's activity when the one a pair or the UID first names (`gone`) is gone: another the meeting is known by
 * (this cycle's index, other users' pairs, the store's memory of the UID), the first that still exists and is not in
 * `skip` (taken by another entry already, or tried by the caller).
 */
export async function anotherActivityOfMeeting(u: UserState, uid: string, gone: string, skip: ReadonlySet<string>): Promise<SeveraItem | null> {
  const guids = new Set<string>();
  const inCycle = u.ctx.uidIndex.get(uid);
  if (inCycle) guids.add(inCycle);
  for (const p of u.ctx.store.pairsByUid(uid)) if (p.email !== u.plan.email && !p.severaGone) guids.add(p.severaGuid);
  const remembered = u.ctx.store.activityOfMeeting(uid);
  if (remembered) guids.add(remembered);
  for (const guid of guids) {
    if (guid === gone || skip.has(guid) || guid.startsWith('dry-run:') || u.ctx.snapshot.deletedGuids.has(guid)) continue;
    const item = await u.ctx.snapshot.fetchItem(guid);
    if (item) return item;
  }
  return null;
}
