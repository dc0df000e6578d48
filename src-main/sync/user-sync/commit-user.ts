import type { DeferredItem, UserWork } from '../../store/sync-store.ts';
import { serverItemId } from '../series-flattening.ts';
import type { UserRead } from './read-sides.ts';
import type { UserState } from './user-sync-state.ts';

/**
 * Phase 8, commit: the user's new state in one store transaction: the staged pairs, removed intents, deferred items,
 * activities marked gone, both sides' new sync positions and the user's status. Nothing is committed on a dry run.
 */
export function commitUser(u: UserState, read: UserRead): void {
  const { ctx } = u;
  if (ctx.dryRun) return;
  const now = ctx.now().toISOString();
  const exchangeSyncState = read.exchange.newSyncState;
  confirmExchangeWrites(u, read, now);
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

/**
 * Items this cycle wrote to Exchange are looked at again next cycle unless the change feed shows them by then. The sync
 * position committed here was read before the writes, so the next read normally reports them (the sync's own writes
 * read back); but an item the user deletes before that read is reported by neither its creation nor its deletion (a
 * change feed reports net changes since a position), and its pair would wait for ever. A deferred look-up finds it gone.
 */
function confirmExchangeWrites(u: UserState, read: UserRead, now: string): void {
  const seen = new Map([...read.exchange.changed.values()].map((e) => [e.id, e.version]));
  for (const p of u.work.upsertPairs) {
    if (p.exchangeGone || seen.get(p.exchangeId) === p.exchangeVersion) continue;
    const before = read.pairs.byExchangeId.get(p.exchangeId);
    if (before && before.exchangeVersion === p.exchangeVersion) continue;
    u.work.addDeferred.push({ email: u.plan.email, side: 'exchange', itemId: serverItemId(p.exchangeId), startsAt: now });
  }
}
