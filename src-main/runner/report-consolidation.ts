import type { CycleReport, UserProblem, UserReport } from '../common/sync-report.ts';
import { t, type TextKey } from '../common/i18n/i18n.ts';

/**
 * A cycle's report made fit to act on, whatever produced it (the engine, a test's cycle):
 *  - a problem of the whole organization (the delegate's login refused, an unknown host, an untrusted certificate, the
 *    proxy, Severa's login) is reported once, in the report's own problems, not once per user it stopped;
 *  - the same problem hitting several users word for word is one problem too;
 *  - every problem carries a fix line (a plain fallback where the source gave none);
 *  - a user whose sync failed is never counted as having had their first sync.
 * Pure: a new report comes out, the input is left as it was.
 */

/** Codes that always concern the organization's connection, never one user. */
const ORGANIZATION_CODES = new Set(['exchange-auth', 'exchange-config', 'tls', 'severa-auth', 'connector-config', 'settings-invalid']);

/** User problems that only point at a problem the report already names ("Nothing was synced: Severa could not be read"). */
const POINTER_CODES = new Set(['severa-unavailable']);

// Every sentence this module adds, in one place (said in the process's language).
const FALLBACK_FIXES: Record<string, TextKey> = {
  'exchange-error': 'engine.runner.checkWhichFailsFix',
  'severa-error': 'engine.runner.checkWhichFailsFix',
  internal: 'engine.runner.internalFix',
};

const keyOf = (p: UserProblem) => `${p.code}\u0000${p.message}`;

export function withFix(problem: UserProblem): UserProblem {
  if (problem.fix && problem.fix.trim()) return problem;
  return { ...problem, fix: t(Object.hasOwn(FALLBACK_FIXES, problem.code) ? FALLBACK_FIXES[problem.code] : 'engine.runner.genericFix') };
}

export function consolidateReport(report: CycleReport): CycleReport {
  const seen = new Map<string, number>();
  for (const user of report.users) {
    for (const key of new Set(user.errors.map(keyOf))) seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const orgErrors: UserProblem[] = report.errors.map(withFix);
  const orgKeys = new Set(orgErrors.map(keyOf));
  const hadOrgProblems = orgErrors.length > 0;
  const hoist = (p: UserProblem) => {
    const key = keyOf(p);
    if (orgKeys.has(key)) return;
    orgKeys.add(key);
    orgErrors.push(withFix(p));
  };

  const users: UserReport[] = report.users.map((user) => {
    const errors: UserProblem[] = [];
    for (const problem of user.errors) {
      const shared = (seen.get(keyOf(problem)) ?? 0) > 1;
      if (POINTER_CODES.has(problem.code) && hadOrgProblems && shared) continue;
      if (ORGANIZATION_CODES.has(problem.code) || (shared && user.outcome === 'failed')) {
        hoist(problem);
        continue;
      }
      errors.push(withFix(problem));
    }
    return { ...user, errors, firstSync: user.firstSync && user.outcome !== 'failed' };
  });
  return { ...report, users, errors: orgErrors };
}

/** Users the report says were stopped by the organization's problems (failed, nothing of their own to say). */
export function usersStoppedByOrganization(report: Pick<CycleReport, 'users' | 'errors'>): string[] {
  if (report.errors.length === 0) return [];
  return report.users.filter((u) => u.outcome === 'failed' && u.errors.length === 0).map((u) => u.email);
}
