import type { AuditReport } from '../sync/agreement-audit.ts';
import type { LastAudit, LastAuditDifference } from './runner-types.ts';

/**
 * The automatic agreement audit's arithmetic (the runner runs it: sync-runner.ts): when it is due and what of its report
 * is kept. Pure, so the rules are tested without clocks or servers.
 */

/** The last audit keeps at most this many differences (the unexplained first); the counts cover every one. */
export const MAX_KEPT_AUDIT_DIFFERENCES = 100;

const HOUR_MS = 3_600_000;

/**
 * When the next automatic audit may run (ms since the epoch), or null: off (`everyHours` 0), or its interval has not
 * started counting yet (no audit ran and no successful scheduled cycle yet).
 */
export function auditDueAtMs(everyHours: number, countsFrom: string | undefined): number | null {
  if (!(everyHours > 0) || countsFrom === undefined) return null;
  const from = Date.parse(countsFrom);
  return Number.isNaN(from) ? null : from + everyHours * HOUR_MS;
}

/** What the status keeps of a finished audit: the counts, the differences with their story, who could not be compared. */
export function summarizeAudit(report: AuditReport, finishedAt: string): LastAudit {
  const all: LastAuditDifference[] = report.users.flatMap((u) => u.differences.map((d) => ({ ...d, email: u.email })));
  const unexplained = all.filter((d) => d.rule === null);
  const explained = all.filter((d) => d.rule !== null);
  const compared = report.users.filter((u) => !u.error);
  return {
    at: finishedAt,
    users: compared.length,
    pairs: compared.reduce((n, u) => n + u.pairs, 0),
    agreeing: compared.reduce((n, u) => n + u.agreeing, 0),
    explained: explained.length,
    unexplained: unexplained.length,
    differences: [...unexplained, ...explained].slice(0, MAX_KEPT_AUDIT_DIFFERENCES),
    failedUsers: report.users.filter((u) => u.error).map((u) => ({ email: u.email, error: u.error! })),
  };
}

/** An audit that could not run at all. */
export function failedAudit(finishedAt: string, error: string): LastAudit {
  return { at: finishedAt, users: 0, pairs: 0, agreeing: 0, explained: 0, unexplained: 0, differences: [], failedUsers: [], error };
}
