import { t } from '../common/i18n/i18n.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
import type { CycleReport, UserReport } from '../common/sync-report.ts';
import { cycleOutcome, describeError, failedCycleReport, userReportWithoutSync } from './cycle-report-builders.ts';
import { estimateSecondsLeft } from './progress-estimate.ts';
import { settingsIssueLines } from './settings-problems.ts';
import type { CycleProgress, RunnerLog } from './runner-types.ts';
import type { CycleFunction, RunNowOptions, SyncRunnerOptions } from './sync-runner-options.ts';

/**
 * The steps of one cycle up to its report, for the runner's cycle (sync-runner.ts), which keeps the report and tells its
 * listeners: the settings it runs on, the enrolled users it hands to the engine, the engine's cycle with progress and an
 * estimate of what is left, and the failed report of a cycle that could not start or crashed.
 */

/** The settings a cycle runs on; a CycleStartError when they cannot be read or are invalid. */
export function cycleSettings(options: Pick<SyncRunnerOptions, 'loadSettings'>): OrgSettings {
  try {
    return options.loadSettings();
  } catch (error) {
    throw new CycleStartError('settings-invalid', t('engine.runner.settingsInvalid', { issues: settingsIssueLines(error).join('; ') }), t('engine.runner.noSyncUntilValidFix'));
  }
}

/** The enrolled users to hand to the engine, and reports for those it will not see (paused, not enrolled). */
export function selectCycleUsers(settings: OrgSettings, only: string[] | undefined): { users: { email: string; syncStartDate: string }[]; extra: UserReport[] } {
  const wanted = only ? new Set(only.map((e) => e.trim().toLowerCase())) : null;
  const users: { email: string; syncStartDate: string }[] = [];
  const extra: UserReport[] = [];
  for (const e of settings.enrollments) {
    if (wanted && !wanted.has(e.email)) continue;
    if (e.paused) extra.push(userReportWithoutSync(e.email, 'skipped', undefined, t('engine.runner.userPaused')));
    else users.push({ email: e.email, syncStartDate: e.syncStartDate });
  }
  if (wanted) {
    const enrolled = new Set(settings.enrollments.map((e) => e.email));
    for (const email of wanted) {
      if (!enrolled.has(email)) {
        extra.push(userReportWithoutSync(email, 'failed', { code: 'not-enrolled', message: t('engine.runner.notEnrolled', { email }), fix: t('engine.runner.notEnrolledFix') }));
      }
    }
  }
  return { users, extra };
}

export interface EngineCycleRun {
  options: Pick<SyncRunnerOptions, 'cycle'>;
  /** The engine's cycle, loaded when the options bring none. */
  defaultCycle: () => Promise<CycleFunction>;
  now: () => number;
  /** Each progress the cycle reports, with when it started and the estimate of what is left. */
  onProgress: (progress: CycleProgress) => void;
  settings: OrgSettings;
  users: { email: string; syncStartDate: string }[];
  /** The reports of the users the engine does not see, added to its report. */
  extra: UserReport[];
  opts: RunNowOptions;
}

/** The cycle over the selected users (the options' cycle, else the engine's); throws when it crashes. */
export async function runEngineCycle(run: EngineCycleRun): Promise<CycleReport> {
  const { settings, users, extra, opts } = run;
  const dryRun = opts.dryRun ?? false;
  const cycle = run.options.cycle ?? (await run.defaultCycle());
  const startedAtMs = run.now();
  let currentSince: { email: string; atMs: number } | undefined;
  let report = await cycle({
    settings,
    users,
    dryRun,
    confirmDeletions: opts.confirmDeletions ?? false,
    ...(opts.live ? { live: true } : {}),
    onProgress: (raw) => {
      const nowMs = run.now();
      if (raw.currentUser && raw.currentUser !== currentSince?.email) currentSince = { email: raw.currentUser, atMs: nowMs };
      if (!raw.currentUser) currentSince = undefined;
      const secondsLeft = estimateSecondsLeft({ startedAtMs, nowMs, usersDone: raw.usersDone, usersTotal: raw.usersTotal, ...(currentSince ? { currentUserStartedAtMs: currentSince.atMs } : {}) });
      const progress: CycleProgress = { ...raw, startedAt: new Date(startedAtMs).toISOString(), ...(secondsLeft !== undefined ? { secondsLeft } : {}) };
      run.onProgress(progress);
    },
  });
  if (extra.length > 0) {
    report = { ...report, users: [...report.users, ...extra] };
    report.outcome = report.outcome === 'failed' ? 'failed' : cycleOutcome(report);
  }
  return report;
}

/** The report of a cycle that could not start (a CycleStartError) or crashed, logged. */
export function failedCycleReportFor(error: unknown, cycle: { startedAt: string; dryRun: boolean; now: () => number; log: RunnerLog }): CycleReport {
  const { startedAt, dryRun } = cycle;
  const problem =
    error instanceof CycleStartError
      ? { code: error.code, message: error.message, fix: error.fix }
      : { code: 'cycle-crashed', message: t('engine.runner.crashed', { why: describeError(error) }), fix: t('engine.runner.crashedFix') };
  cycle.log.error({ err: describeError(error), code: problem.code }, 'cycle failed');
  return failedCycleReport({ startedAt, finishedAt: new Date(cycle.now()).toISOString(), dryRun, problem });
}

class CycleStartError extends Error {
  readonly code: string;
  readonly fix: string;
  constructor(code: string, message: string, fix: string) {
    super(message);
    this.code = code;
    this.fix = fix;
  }
}
