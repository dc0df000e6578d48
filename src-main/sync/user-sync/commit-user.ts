import type { DeferredItem, UserWork } from '../../store/sync-store.ts';
import type { UserState } from './user-sync-state.ts';

/**
 * Phase 8, commit: the user's new state in one store transaction: the staged pairs, removed intents, deferred items,
 * activities marked gone, both sides' new sync positions and the user's status. Nothing is committed on a dry run.
 */
export function commitUser(u: UserState, exchangeSyncState: string | null): void {
  const { ctx } = u;
  if (ctx.dryRun) return;
  const now = ctx.now().toISOString();
  const user: UserWork['user'] = {
    mailbox: u.mailbox,
    severaUserGuid: u.userGuid,
    exchangeSyncState,
    severaCursor: ctx.severaCursor,
  };
  if (!u.plan.state?.firstSyncedAt) user.firstSyncedAt = now;
  if (u.where.location) {
    user.exchangeLocation = u.where.location;
    user.exchangeLocationSince = u.where.since;
  }
  const work: UserWork = { ...u.work, user, status: u.report, statusAt: now };
  // Deferred items re-added this cycle must not be removed by the same work.
  const readded = new Set(u.work.addDeferred.map((d: DeferredItem) => `${d.side}:${d.itemId}`));
  work.removeDeferred = u.work.removeDeferred.filter((d) => !readded.has(`${d.side}:${d.itemId}`));
  work.markSeveraGone = [...u.markGone];
  ctx.store.commitUserWork(work);
}
