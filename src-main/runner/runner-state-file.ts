import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CycleReport } from '../common/sync-report.ts';
import type { LastAudit } from './runner-types.ts';

/**
 * What the runner remembers between processes (the CLI's `status`, the tray app after a restart): the last real cycle's
 * report, the failure streak the back-off counts, and a pause. Written whole to a temporary file and renamed, so a crash
 * mid-write leaves the previous file, never half of one.
 */
export interface RunnerStateFile {
  lastReport?: CycleReport;
  lastRunAt?: string;
  consecutiveFailures: number;
  /** ISO instant, or null for "until resumed"; absent when not paused. */
  pausedUntil?: string | null;
  /** The last automatic agreement audit's outcome. */
  lastAudit?: LastAudit;
  /**
   * From when the automatic audit counts its interval (ISO): when the last one ran, or, before any ran, the first
   * successful scheduled cycle. Kept so a restart does not audit again at once.
   */
  auditCountsFrom?: string;
}

export const RUNNER_STATE_FILE = 'runner-state.json';

export function readRunnerState(dataDir: string): RunnerStateFile {
  const path = join(dataDir, RUNNER_STATE_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { consecutiveFailures: 0 };
  }
  try {
    const parsed = JSON.parse(text) as Partial<RunnerStateFile>;
    if (typeof parsed !== 'object' || parsed === null) return { consecutiveFailures: 0 };
    return {
      lastReport: typeof parsed.lastReport === 'object' && parsed.lastReport !== null ? parsed.lastReport : undefined,
      lastRunAt: typeof parsed.lastRunAt === 'string' ? parsed.lastRunAt : undefined,
      consecutiveFailures: Number.isInteger(parsed.consecutiveFailures) ? Math.max(0, parsed.consecutiveFailures as number) : 0,
      pausedUntil: parsed.pausedUntil === null || typeof parsed.pausedUntil === 'string' ? parsed.pausedUntil : undefined,
      lastAudit: isLastAudit(parsed.lastAudit) ? parsed.lastAudit : undefined,
      auditCountsFrom: typeof parsed.auditCountsFrom === 'string' && !Number.isNaN(Date.parse(parsed.auditCountsFrom)) ? parsed.auditCountsFrom : undefined,
    };
  } catch {
    // A damaged status file only costs the remembered status, never the sync state (that lives in the store).
    return { consecutiveFailures: 0 };
  }
}

function isLastAudit(value: unknown): value is LastAudit {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<LastAudit>;
  return typeof v.at === 'string' && typeof v.pairs === 'number' && typeof v.unexplained === 'number' && Array.isArray(v.differences) && Array.isArray(v.failedUsers);
}

export function writeJsonAtomically(path: string, value: unknown, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode });
  renameSync(tmp, path);
}

export function writeRunnerState(dataDir: string, state: RunnerStateFile): void {
  writeJsonAtomically(join(dataDir, RUNNER_STATE_FILE), state);
}
