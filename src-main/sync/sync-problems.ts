import type { UserProblem } from '../common/sync-report.ts';
import { CalendarError } from '../exchange/calendar-connector.ts';

/**
 * Errors turned into what a user or admin reads: one plain sentence of what is wrong and what to do about it.
 * Never includes secrets: only codes, addresses and the servers' own error names.
 */

const IMPERSONATION_FIX =
  'Give the delegate account the ApplicationImpersonation role for this mailbox, e.g. in the Exchange Management Shell: ' +
  'New-ManagementRoleAssignment -Name "SeveraSync" -Role ApplicationImpersonation -User svc-severa-sync (add -CustomRecipientWriteScope to limit it to some mailboxes).';

export function calendarProblem(err: CalendarError, mailbox: string): UserProblem {
  // The connector's own sentence where it has one (e.g. Graph's errors, which the EWS wording below would misname).
  if (err.advice) return { code: problemCodeOf(err), message: err.advice.message, fix: err.advice.fix };
  switch (err.code) {
    case 'impersonation-denied':
      return { code: 'impersonation-denied', message: `The delegate account may not open the mailbox ${mailbox}.`, fix: IMPERSONATION_FIX };
    case 'no-mailbox':
      return {
        code: 'no-mailbox',
        message: `Exchange has no mailbox for ${mailbox}.`,
        fix: 'Check that the address used in Severa is a primary or secondary address of the mailbox (several domains: add it as a secondary address).',
      };
    case 'auth':
      return { code: 'exchange-auth', message: 'Exchange refused the delegate account\'s login.', fix: 'Check the delegate user name, domain and password in the settings.' };
    case 'throttled':
      return { code: 'throttled', message: `Exchange is busy and asked the sync to slow down while working on ${mailbox}.`, fix: 'Nothing to do: the next cycle continues where this one stopped.' };
    case 'transient':
      return { code: 'exchange-unavailable', message: `The mailbox ${mailbox} could not be reached just now (${err.serverCode ?? 'connection problem'}).`, fix: 'Nothing to do if it passes; if the mailbox is being moved, the sync resumes once the move is done.' };
    case 'bad-response':
      return { code: 'exchange-bad-response', message: `Exchange answered something that is not a valid EWS response while working on ${mailbox}.`, fix: 'Check that the EWS URL points at Exchange (not a proxy or login page); the next cycle retries.' };
    case 'tls':
      return { code: 'tls', message: 'The Exchange server\'s certificate is not trusted.', fix: 'Install the certificate of the issuing CA as a trusted CA file in the settings.' };
    case 'config':
      return { code: 'exchange-config', message: `The Exchange settings cannot work: ${err.message}`, fix: 'Correct the EWS URL and server type in the settings.' };
    case 'conflict':
      return { code: 'conflict-retry', message: `An entry in ${mailbox} kept changing while the sync was writing it.`, fix: 'Nothing to do: the next cycle decides again.' };
    case 'invalid-sync-state':
      return { code: 'invalid-sync-state', message: `Exchange no longer accepts the sync position for ${mailbox}.`, fix: 'Nothing to do: the sync starts over for this mailbox and keeps what was already paired.' };
    case 'not-found':
      return { code: 'exchange-not-found', message: `An entry in ${mailbox} disappeared while the sync worked on it.`, fix: 'Nothing to do: the next cycle decides again.' };
    default:
      return { code: 'exchange-error', message: `Working on the mailbox ${mailbox} failed: ${err.message}` };
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
      return { code: 'severa-auth', message: `Severa refused the API client's login while ${what}.`, fix: 'Check the Severa API client id and secret in the settings (Severa: Settings > REST API).' };
    case 'forbidden':
      return { code: 'severa-forbidden', message: `Severa did not allow ${what}.`, fix: 'Give the API client the scopes activities:read, activities:write, activities:delete, users:read and settings:read.' };
    case 'throttled':
      return { code: 'throttled', message: `Severa asked the sync to slow down while ${what}.`, fix: 'Nothing to do: the next cycle continues.' };
    case 'transient':
      return { code: 'severa-unavailable', message: `Severa could not be reached while ${what}.`, fix: 'Nothing to do if it passes; check the network otherwise.' };
    case 'tls':
      return { code: 'tls', message: 'The Severa server\'s certificate is not trusted.', fix: 'Check the network for a proxy that intercepts TLS, or install its CA certificate.' };
    default:
      return { code: 'severa-error', message: `Severa failed while ${what}: ${detail}` };
  }
}

export function problemFor(err: unknown, ctx: { mailbox: string; what: string }): UserProblem {
  if (err instanceof CalendarError) return calendarProblem(err, ctx.mailbox);
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'SeveraError') return severaProblem(err, ctx.what);
  if (name === 'MappingError') return { code: 'bad-item', message: (err as Error).message, fix: 'Correct the entry by hand; the sync retries it every cycle.' };
  return { code: 'internal', message: `The sync failed while ${ctx.what}: ${(err as Error)?.message ?? String(err)}` };
}

/** Is this error about one item only (skip it, carry on with the user) rather than the whole mailbox? */
export function isItemLevel(err: unknown): boolean {
  if (err instanceof CalendarError) return err.code === 'not-found' || err.code === 'conflict' || err.code === 'other';
  const e = err as { name?: unknown; code?: unknown } | null;
  if (e?.name === 'MappingError') return true;
  if (e?.name === 'SeveraError') return e.code === 'bad-request' || e.code === 'not-found';
  return false;
}
