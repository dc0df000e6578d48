import type { CycleReport, SideCounts, UserProblem, UserReport } from '../common/sync-report.ts';
import type { CheckResult, RunnerStatus } from '../runner/runner-types.ts';

/** The CLI's human output: plain text tables, one row per user, problems with their fix underneath. */

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const counts = (c: SideCounts) => `${c.created}/${c.updated}/${c.deleted}`;
const changeCount = (u: UserReport) =>
  u.toSevera.created + u.toSevera.updated + u.toSevera.deleted + u.toExchange.created + u.toExchange.updated + u.toExchange.deleted;

function problemLines(prefix: string, problems: UserProblem[]): string[] {
  return problems.flatMap((p) => [`${prefix}${p.message}`, ...(p.fix ? [`${' '.repeat(prefix.length)}fix: ${p.fix}`] : [])]);
}

export function formatCycleReport(report: CycleReport): string {
  const seconds = ((Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000).toFixed(1);
  const out: string[] = [];
  const title = report.dryRun ? 'Dry run (nothing was changed)' : 'Sync cycle';
  out.push(`${title}: ${report.outcome} in ${seconds} s; requests: Severa ${report.requests.severa}, Exchange ${report.requests.exchange}`);
  if (report.users.length > 0) {
    const verb = report.dryRun ? 'would' : '';
    out.push('');
    out.push(
      formatTable(
        ['user', 'outcome', `${verb ? 'would ' : ''}to Exchange c/u/d`, `${verb ? 'would ' : ''}to Severa c/u/d`, 'conflicts', 'held deletions', 'first sync'],
        report.users.map((u) => [u.email, u.outcome, counts(u.toExchange), counts(u.toSevera), String(u.conflicts), String(u.heldDeletions), u.firstSync ? 'yes' : 'no']),
      ),
    );
    out.push('(c/u/d: created/updated/deleted)');
  }
  const total = report.users.reduce((n, u) => n + changeCount(u), 0);
  if (report.users.length > 0 && total === 0 && report.outcome === 'ok') out.push('', 'No changes.');

  if (report.dryRun) {
    const changed = report.users.filter((u) => u.changes.length > 0);
    for (const u of changed) {
      out.push('', `${u.email} would change:`);
      for (const c of u.changes) {
        out.push(`  ${c.action.padEnd(6)} in ${c.side.padEnd(8)} ${c.start}  ${c.subject}${c.reason ? `  (${c.reason})` : ''}`);
      }
    }
  }
  const problems: string[] = [...problemLines('  ', report.errors)];
  for (const u of report.users) {
    if (u.errors.length > 0) problems.push(`  ${u.email}:`, ...problemLines('    ', u.errors));
  }
  if (problems.length > 0) out.push('', 'Problems:', ...problems);
  const notes = report.users.flatMap((u) => u.notes.map((n) => `  ${u.email}: ${n}`));
  if (notes.length > 0) out.push('', 'Notes:', ...notes);
  if (report.users.some((u) => u.heldDeletions > 0)) {
    out.push('', 'Some deletions are held by the mass-deletion guard. Check them with --dry-run, then run "sync --once --confirm-deletions".');
  }
  const offsets = report.clockOffsetMs;
  if (offsets.severa !== null || offsets.exchange !== null) {
    const fmt = (v: number | null) => (v === null ? 'unknown' : `${(v / 1000).toFixed(1)} s`);
    out.push('', `Clock offsets: Severa ${fmt(offsets.severa)}, Exchange ${fmt(offsets.exchange)}. A deletion in Severa reaches Exchange within ${report.severaDeletionLatencyCycles} cycle(s).`);
  }
  return out.join('\n');
}

export function formatChecks(results: CheckResult[]): string {
  const out = results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'}  ${r.title}: ${r.message}${!r.ok && r.fix ? `\n      fix: ${r.fix}` : ''}`);
  const failed = results.filter((r) => !r.ok).length;
  out.push('', failed === 0 ? `All ${results.length} checks passed.` : `${failed} of ${results.length} checks failed.`);
  return out.join('\n');
}

export function formatStatus(status: RunnerStatus): string {
  const out: string[] = [];
  out.push(`State: ${status.state}`);
  out.push(`Last cycle: ${status.lastRunAt ?? 'never'}${status.lastReport ? ` (${status.lastReport.outcome})` : ''}`);
  if (status.pausedUntil !== undefined) out.push(`Paused ${status.pausedUntil === null ? 'until resumed' : `until ${status.pausedUntil}`}`);
  if (status.consecutiveFailures > 0) out.push(`Failed cycles in a row: ${status.consecutiveFailures}`);
  const report = status.lastReport;
  if (report) {
    if (report.users.length > 0) {
      out.push('');
      out.push(
        formatTable(
          ['user', 'outcome', 'to Exchange c/u/d', 'to Severa c/u/d', 'conflicts', 'held deletions', 'errors'],
          report.users.map((u) => [u.email, u.outcome, counts(u.toExchange), counts(u.toSevera), String(u.conflicts), String(u.heldDeletions), u.errors.map((e) => e.message).join(' ')]),
        ),
      );
    }
    if (report.errors.length > 0) out.push('', 'Problems:', ...problemLines('  ', report.errors));
  }
  return out.join('\n');
}
