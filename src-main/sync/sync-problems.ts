import { t } from '../common/i18n/i18n.ts';
import type { UserProblem } from '../common/sync-report.ts';
import { CalendarError } from '../exchange/calendar-connector.ts';

/**
 * Errors turned into what a user or admin reads: one plain sentence of what is wrong and what to do about it.
 * Never includes secrets: only codes, addresses and the servers' own error names.
 */


export function calendarProblem(err: CalendarError, mailbox: string): UserProblem {
  // The connector's own sentence where it has one (e.g. Graph's errors, which the EWS wording below would misname).
  if (err.advice) return { code: problemCodeOf(err), message: err.advice.message, fix: err.advice.fix };
  switch (err.code) {
    case 'impersonation-denied':
      return { code: 'impersonation-denied', message: t('report.problems.impersonationDenied', { mailbox }), fix: t('report.problems.impersonationFix') };
    case 'no-mailbox':
      return {
        code: 'no-mailbox',
        message: t('report.problems.noMailbox', { mailbox }),
        fix: t('report.problems.noMailboxFix'),
      };
    case 'auth':
      return { code: 'exchange-auth', message: t('report.problems.exchangeAuth'), fix: t('report.problems.exchangeAuthFix') };
    case 'throttled':
      return { code: 'throttled', message: t('report.problems.exchangeThrottled', { mailbox }), fix: t('report.problems.exchangeThrottledFix') };
    case 'transient':
      return { code: 'exchange-unavailable', message: t('report.problems.exchangeUnavailable', { mailbox, why: err.serverCode ?? t('report.problems.connectionProblem') }), fix: t('report.problems.exchangeUnavailableFix') };
    case 'bad-response':
      return { code: 'exchange-bad-response', message: t('report.problems.exchangeBadResponse', { mailbox }), fix: t('report.problems.exchangeBadResponseFix') };
    case 'tls':
      return { code: 'tls', message: t('report.problems.exchangeTls'), fix: t('report.problems.exchangeTlsFix') };
    case 'config':
      return { code: 'exchange-config', message: t('report.problems.exchangeConfig', { why: err.message }), fix: t('report.problems.exchangeConfigFix') };
    case 'conflict':
      return { code: 'conflict-retry', message: t('report.problems.conflictRetry', { mailbox }), fix: t('report.problems.nextCycleDecides') };
    case 'invalid-sync-state':
      return { code: 'invalid-sync-state', message: t('report.problems.invalidSyncState', { mailbox }), fix: t('report.problems.invalidSyncStateFix') };
    case 'not-found':
      return { code: 'exchange-not-found', message: t('report.problems.exchangeNotFound', { mailbox }), fix: t('report.problems.nextCycleDecides') };
    default:
      return { code: 'exchange-error', message: t('report.problems.exchangeError', { mailbox, why: err.message }) };
  }
}

/** The problem code for an error, the same whichever connector raised it. */
function problemCodeOf(err: CalendarError): string {
  const byCode: Partial<Record<CalendarError['code'], string>> = {
    auth: 'exchange-auth',
    transient: 'exchange-unavailable',
    'bad-response': 'exchange-bad-response',
    config: 'exchange-config',
    conflict: 'conflict-retry',
    'not-found': 'exchange-not-found',
    other: 'exchange-error',
  };
  return byCode[err.code] ?? err.code;
}

export function severaProblem(err: unknown, what: string): UserProblem {
  const e = (err ?? {}) as { code?: unknown; message?: unknown; status?: unknown };
  const code = typeof e.code === 'string' ? e.code : 'other';
  const detail = typeof e.message === 'string' ? e.message : String(err);
  switch (code) {
    case 'auth':
      return { code: 'severa-auth', message: t('report.problems.severaAuth', { what }), fix: t('report.problems.severaAuthFix') };
    case 'forbidden':
      return { code: 'severa-forbidden', message: t('report.problems.severaForbidden', { what }), fix: t('report.problems.severaForbiddenFix') };
    case 'throttled':
      return { code: 'throttled', message: t('report.problems.severaThrottled', { what }), fix: t('report.problems.severaThrottledFix') };
    case 'transient':
      return { code: 'severa-unavailable', message: t('report.problems.severaUnavailable', { what }), fix: t('report.problems.severaUnavailableFix') };
    case 'tls':
      return { code: 'tls', message: t('report.problems.severaTls'), fix: t('report.problems.severaTlsFix') };
    default:
      return { code: 'severa-error', message: t('report.problems.severaError', { what, why: detail }) };
  }
}

export function problemFor(err: unknown, ctx: { mailbox: string; what: string }): UserProblem {
  if (err instanceof CalendarError) return calendarProblem(err, ctx.mailbox);
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'SeveraError') return severaProblem(err, ctx.what);
  if (name === 'MappingError') return { code: 'bad-item', message: (err as Error).message, fix: t('report.problems.badItemFix') };
  return { code: 'internal', message: t('report.problems.internal', { what: ctx.what, why: (err as Error)?.message ?? String(err) }) };
}

/** Is this error about one item only (skip it, carry on with the user) rather than the whole mailbox? */
export function isItemLevel(err: unknown): boolean {
  if (err instanceof CalendarError) return err.code === 'not-found' || err.code === 'conflict' || err.code === 'other';
  const e = err as { name?: unknown; code?: unknown } | null;
  if (e?.name === 'MappingError') return true;
  if (e?.name === 'SeveraError') return e.code === 'bad-request' || e.code === 'not-found';
  return false;
}
