import { AUDIT_DEFAULTS, auditOf } from '../common/settings-schema.ts';
import { auditDueAtMs } from './automatic-audit.ts';
import type { RunnerStateFile } from './runner-state-file.ts';
import type { AuditStatus } from './runner-types.ts';
import type { SyncRunnerOptions } from './sync-runner-options.ts';

/**
 * The automatic agreement audit as the runner keeps it (sync-runner.ts starts it after a cycle; the arithmetic is in
 * automatic-audit.ts): what the status shows of it, and whether its interval has passed.
 */

/** The automatic audit as the status shows it: how often, whether it runs now, when next, the last outcome. */
export function automaticAuditStatus(options: Pick<SyncRunnerOptions, 'loadSettings'>, persisted: RunnerStateFile, running: boolean): AuditStatus | undefined {
  const last = persisted.lastAudit;
  let everyHours: number;
  try {
    everyHours = auditOf(options.loadSettings()).everyHours;
  } catch {
    // Settings that cannot be read: the last outcome is still worth showing.
    if (!last) return undefined;
    everyHours = AUDIT_DEFAULTS.everyHours;
  }
  const audit: AuditStatus = { everyHours, running };
  const due = auditDueAtMs(everyHours, persisted.auditCountsFrom);
  if (due !== null) audit.nextAfter = new Date(due).toISOString();
  if (last) audit.last = last;
  return audit;
}

/**
 * Whether the automatic audit is on and its interval has passed. The first time it is asked, it only starts the
 * interval's count (in `persisted`) and says no.
 */
export function automaticAuditIntervalPassed(options: Pick<SyncRunnerOptions, 'loadSettings'>, persisted: RunnerStateFile, now: () => number): boolean {
  let everyHours: number;
  try {
    everyHours = auditOf(options.loadSettings()).everyHours;
  } catch {
    return false;
  }
  if (!(everyHours > 0)) return false;
  if (persisted.auditCountsFrom === undefined) {
    persisted.auditCountsFrom = new Date(now()).toISOString();
    return false;
  }
  const due = auditDueAtMs(everyHours, persisted.auditCountsFrom);
  return due !== null && now() >= due;
}
