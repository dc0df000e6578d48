import type { CycleReport, UserProblem, UserReport } from '../common/sync-report.ts';

/** Reports the runner writes itself: a cycle that could not start, users it did not hand to the engine. */

const zeroCounts = () => ({ created: 0, updated: 0, deleted: 0 });

export function failedCycleReport(args: { startedAt: string; finishedAt: string; dryRun: boolean; problem: UserProblem }): CycleReport {
  return {
    startedAt: args.startedAt,
    finishedAt: args.finishedAt,
    dryRun: args.dryRun,
    outcome: 'failed',
    users: [],
    errors: [args.problem],
    requests: { severa: 0, exchange: 0 },
    clockOffsetMs: { severa: null, exchange: null },
    severaDeletionLatencyCycles: 0,
  };
}

/** A cycle in which the engine had no user to sync: paused users, unknown users, or nobody enrolled. */
export function cycleReportWithoutSync(args: { startedAt: string; finishedAt: string; dryRun: boolean; users: UserReport[]; errors: UserProblem[] }): CycleReport {
  const report: CycleReport = {
    ...failedCycleReport({ startedAt: args.startedAt, finishedAt: args.finishedAt, dryRun: args.dryRun, problem: { code: 'none', message: '' } }),
    users: args.users,
    errors: args.errors,
  };
  // Nobody enrolled is a state to act on, not a failure to back off from.
  report.outcome = args.users.length === 0 ? (args.errors.length > 0 ? 'partial' : 'ok') : cycleOutcome(report);
  return report;
}

export function userReportWithoutSync(email: string, outcome: 'skipped' | 'failed', problem?: UserProblem, note?: string): UserReport {
  return {
    email,
    outcome,
    toSevera: zeroCounts(),
    toExchange: zeroCounts(),
    conflicts: 0,
    heldDeletions: 0,
    changes: [],
    errors: problem ? [problem] : [],
    notes: note ? [note] : [],
    firstSync: false,
  };
}

/** The cycle's outcome from its parts, for reports the runner amends. */
export function cycleOutcome(report: Pick<CycleReport, 'users' | 'errors'>): CycleReport['outcome'] {
  const synced = report.users.filter((u) => u.outcome !== 'skipped');
  if (synced.length > 0 && synced.every((u) => u.outcome === 'failed')) return 'failed';
  if (synced.length === 0 && report.errors.length > 0) return 'failed';
  if (report.errors.length > 0 || synced.some((u) => u.outcome !== 'ok')) return 'partial';
  return 'ok';
}

/** One line for logs and thrown errors that carry no message of their own. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
