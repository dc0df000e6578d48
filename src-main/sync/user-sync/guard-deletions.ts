import { t } from '../../common/i18n/i18n.ts';
import { evaluateDeletionGuard } from '../deletion-guard.ts';
import type { Decided } from './candidate.ts';
import { problem, stagePair, type UserState } from './user-sync-state.ts';

/**
 * Phase 6, guard: the decided deletions are weighed against the user's synced entries (deletion-guard.ts). A side that
 * was emptied stops the user's sync; a mass deletion on one side is held (its decisions become 'held: ...' and the
 * pairs remember which side is gone, so the deletions can follow once confirmed).
 *
 * Returns false when the user's sync must stop (a side was emptied).
 */
export function guardDeletions(u: UserState, decided: Decided[], pairCount: number): boolean {
  const { ctx } = u;
  const deletions = { severa: 0, exchange: 0 };
  const goneOn = { severa: 0, exchange: 0 };
  for (const { c, d } of decided) {
    // A series changing shape replaces its Severa side with the same occurrences: nothing is lost.
    if (c.exchange.reshaped) continue;
    if (d.action === 'delete') deletions[d.side]++;
    if (c.pair?.id !== undefined) {
      if (c.severa.state === 'absent') goneOn.severa++;
      if (c.exchange.state === 'absent') goneOn.exchange++;
    }
  }
  const verdict = evaluateDeletionGuard({ pairCount, deletions, goneOn, settings: ctx.guard, confirmed: ctx.confirmDeletions });
  if (verdict.emptied) {
    problem(u, {
      code: 'side-emptied',
      message: t(verdict.emptied === 'exchange' ? 'engine.guard.emptiedExchange' : 'engine.guard.emptiedSevera', { pairs: pairCount, mailbox: u.mailbox }),
      fix: t('engine.guard.emptiedFix'),
    });
    if (!ctx.dryRun) ctx.store.setStatus(u.plan.email, u.report, ctx.now().toISOString());
    return false;
  }
  for (const side of ['severa', 'exchange'] as const) {
    if (!verdict.hold[side]) continue;
    problem(u, {
      code: 'mass-deletion-held',
      message: t(side === 'severa' ? 'engine.guard.heldSevera' : 'engine.guard.heldExchange', { deletions: deletions[side], pairs: pairCount, mailbox: u.mailbox }),
      fix: t('engine.guard.heldFix'),
    });
    for (const entry of decided) {
      if (entry.d.action === 'delete' && entry.d.side === side && !entry.c.exchange.reshaped) {
        u.report.heldDeletions++;
        entry.d = { action: 'none', cell: `held: ${entry.d.cell}` };
        // Remember that the item is gone on the other side, so the deletion can follow once confirmed.
        const p = entry.c.pair;
        if (p) stagePair(u, { ...p, severaGone: p.severaGone || entry.c.severa.state === 'absent', exchangeGone: p.exchangeGone || entry.c.exchange.state === 'absent' });
      }
    }
  }
  return true;
}
