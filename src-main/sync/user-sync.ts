import type { UserReport } from '../common/sync-report.ts';
import { commitUser } from './user-sync/commit-user.ts';
import { decideCandidates } from './user-sync/decide-candidates.ts';
import { flattenExchangeSeries } from './user-sync/flatten-series.ts';
import { guardDeletions } from './user-sync/guard-deletions.ts';
import { matchCandidates } from './user-sync/match-candidates.ts';
import { readSides, type UserRead } from './user-sync/read-sides.ts';
import { recoverIntents } from './user-sync/recover-intents.ts';
import { newUserState, releaseUidIndex, type CycleContext, type UserPlan, type UserState } from './user-sync/user-sync-state.ts';
import { finishVerification } from './user-sync/verify-writes.ts';
import { writeDecisions } from './user-sync/write-decisions.ts';

/**
 * One user's part of a cycle, as a pipeline of phases (each a module in ./user-sync/, all sharing the user's working
 * state, user-sync-state.ts: the report and the store work to commit):
 *
 *   1. read     (read-sides.ts)         the stored pairs, what changed in Exchange and in Severa, deferred items
 *   2. recover  (recover-intents.ts)    the intents a killed run left: finish its creates and updates, never repeat them
 *   3. shape    (flatten-series.ts)     Exchange series Severa cannot hold become their occurrences in the window
 *   4. match    (match-candidates.ts)   each pair and each new item becomes a candidate: both sides as they are now
 *   5. decide   (decide-candidates.ts)  the decision table (sync-decision.ts) says what to do with each candidate
 *   6. guard    (guard-deletions.ts)    mass deletions are held; a side that was emptied stops the user's sync
 *   7. write    (write-decisions.ts)    the decisions are carried out (exchange-writes.ts, severa-writes.ts), each write
 *                                       announced first (write-ahead.ts: intents, the deletion journal)
 *   8. commit   (commit-user.ts)        pairs, intents, deferred items, sync positions and status in one transaction
 *
 * Shared by the phases: candidate.ts (a candidate: one entry as both sides hold it now, and the pair record it becomes)
 * and item-helpers.ts (pure helpers: identity, time range, the Exchange-only pair a restore makes).
 *
 * So, e.g., a meeting deleted in Severa: matching finds its pair's Severa side 'absent' (or, when the copy changed, an
 * activity another run re-created for it: replacementActivity); the table decides to delete the Exchange copy, or to
 * re-create the activity when the copy changed meanwhile (sync-decision.ts); the guard holds it when too many go at
 * once; the write journals the copy and deletes it (exchange-writes.ts: deleteInExchange).
 */

export type { CycleContext, SyncLog, UserPlan } from './user-sync/user-sync-state.ts';

export class UserSync {
  private readonly u: UserState;
  private read: UserRead | null = null;

  constructor(ctx: CycleContext, plan: UserPlan) {
    this.u = newUserState(ctx, plan);
  }

  async run(): Promise<UserReport> {
    await this.readPhase();
    return this.finish();
  }

  /** Phase 1 alone: what both sides hold. Users read side by side; their writes wait as `keys` says. */
  async readPhase(): Promise<void> {
    this.read = await readSides(this.u);
  }

  /**
   * What this user's writes may share with another user's: the meetings (iCalendar UIDs) and Severa activities it
   * holds or read. Two users sharing one never write at the same time (sync-engine.ts runs them in turn).
   */
  keys(): Set<string> {
    const read = this.read!;
    const keys = new Set<string>();
    for (const p of read.pairs.list) {
      keys.add(`s:${p.severaGuid}`);
      if (p.uid) keys.add(`u:${p.uid}`);
    }
    for (const e of read.exchange.changed.values()) if (e.uid) keys.add(`u:${e.uid}`);
    for (const guid of read.severa.items.keys()) keys.add(`s:${guid}`);
    for (const guid of read.severa.lostMembership.keys()) keys.add(`s:${guid}`);
    return keys;
  }

  /**
   * What this user's sync wrote before it failed: its writes happened, so the failed user's report lists them (a
   * failure with nothing listed hid writes that the next run would make again).
   */
  writtenSoFar(): Pick<UserReport, 'changes' | 'toSevera' | 'toExchange' | 'conflicts'> {
    const r = this.u.report;
    return { changes: [...r.changes], toSevera: { ...r.toSevera }, toExchange: { ...r.toExchange }, conflicts: r.conflicts };
  }

  /** Phases 2 to 8, after readPhase. */
  async finish(): Promise<UserReport> {
    const u = this.u;
    const read = this.read!;
    const recovery = await recoverIntents(u, read);
    u.othersInterruptedCreate = recovery.activityOfOthersInterruptedCreate;
    flattenExchangeSeries(u, read);
    const candidates = await matchCandidates(u, read, recovery);
    const decided = decideCandidates(u, candidates);
    if (!guardDeletions(u, decided, read.pairs.list.length)) {
      u.report.outcome = 'failed';
      return u.report;
    }
    await writeDecisions(u, decided);
    finishVerification(u, read.pairs.list);
    if (u.report.heldDeletions > 0 || u.report.errors.length > 0) u.report.outcome = 'partial';
    commitUser(u, read);
    if (!u.ctx.dryRun) releaseUidIndex(u);
    return u.report;
  }
}
