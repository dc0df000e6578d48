import type { AuditReport } from '../sync/agreement-audit.ts';
import type { ChangeLine, CycleReport, SideCounts, UserProblem, UserReport } from '../common/sync-report.ts';
import { usersStoppedByOrganization } from '../runner/report-consolidation.ts';
import type { CheckResult, RunnerStatus } from '../runner/runner-types.ts';

/** The CLI's human output: plain text tables, one row per user, problems with their fix underneath. */

/** Per person, at most this many changed entries are listed in the text output; --json lists every one. */
export const MAX_LISTED_CHANGES = 25;

// The sentences and words of the per-entry report, in one place.
const TEXT = {
  action: { create: 'created', update: 'updated', delete: 'deleted' } as Record<ChangeLine['action'], string>,
  wouldAction: { create: 'would create', update: 'would update', delete: 'would delete' } as Record<ChangeLine['action'], string>,
  direction: { exchange: 'Severa -> Exchange', severa: 'Exchange -> Severa' } as Record<ChangeLine['side'], string>,
  deletedIn: { exchange: 'in Exchange', severa: 'in Severa' } as Record<ChangeLine['side'], string>,
  changedHeading: (email: string) => `${email} changed:`,
  wouldChangeHeading: (email: string) => `${email} would change:`,
  more: (n: number) => `  ...and ${n} more (--json lists every one)`,
  moreThanReported: (n: number, inJson: number) => `  ...and ${n} more (--json lists the first ${inJson})`,
  nothingToSync: 'Nobody has turned on their sync yet, so there is nothing to sync. Each person does that in the app, under My sync.',
  stoppedByOrganization: (emails: string[]) => `Not synced because of the problem above: ${emails.join(', ')}.`,
};

/** "2026-05-12 10:00" in this computer's zone for instants, the date alone for all-day entries. */
function when(start: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(start)) return start;
  const ms = Date.parse(start);
  if (Number.isNaN(ms)) return start;
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** One changed entry: what was done, which way, when the entry is, its name and why. */
export function formatChangeLine(c: ChangeLine, dryRun = false): string {
  const verb = (dryRun ? TEXT.wouldAction : TEXT.action)[c.action];
  const way = c.action === 'delete' ? TEXT.deletedIn[c.side] : TEXT.direction[c.side];
  return `  ${verb.padEnd(dryRun ? 12 : 7)} ${way.padEnd(17)} ${when(c.start).padEnd(16)}  ${c.subject}${c.reason ? `  (${c.reason})` : ''}`;
}

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
  if (report.users.length === 0 && report.errors.length === 0) out.push('', TEXT.nothingToSync);

  // Every changed entry by name, date, direction and reason (a real run as well as a dry run).
  for (const u of report.users.filter((x) => x.changes.length > 0)) {
    out.push('', report.dryRun ? TEXT.wouldChangeHeading(u.email) : TEXT.changedHeading(u.email));
    for (const c of u.changes.slice(0, MAX_LISTED_CHANGES)) out.push(formatChangeLine(c, report.dryRun));
    const unlisted = u.changes.length - Math.min(u.changes.length, MAX_LISTED_CHANGES) + (u.changesOmitted ?? 0);
    if (unlisted > 0) out.push(u.changesOmitted ? TEXT.moreThanReported(unlisted, u.changes.length) : TEXT.more(unlisted));
  }
  const problems: string[] = [...problemLines('  ', report.errors)];
  const stopped = usersStoppedByOrganization(report);
  if (stopped.length > 0) problems.push(`  ${TEXT.stoppedByOrganization(stopped)}`);
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
      // Where each mailbox lives is shown once any user's is known (hybrid organizations, moved mailboxes).
      const located = report.users.some((u) => u.mailboxLocation);
      const where = (u: (typeof report.users)[number]) => (u.mailboxLocation ? `${u.mailboxLocation.label} since ${u.mailboxLocation.since.slice(0, 10)}` : '');
      out.push(
        formatTable(
          ['user', 'outcome', 'to Exchange c/u/d', 'to Severa c/u/d', 'conflicts', 'held deletions', ...(located ? ['mailbox'] : []), 'errors'],
          report.users.map((u) => [u.email, u.outcome, counts(u.toExchange), counts(u.toSevera), String(u.conflicts), String(u.heldDeletions), ...(located ? [where(u)] : []), u.errors.map((e) => e.message).join(' ')]),
        ),
      );
    }
    if (report.errors.length > 0) out.push('', 'Problems:', ...problemLines('  ', report.errors));
  }
  return out.join('\n');
}

/** The agreement audit: per user how many entries agree, then each difference with its story and the rule (or none). */
export function formatAudit(report: AuditReport): string {
  const out: string[] = [`Agreement audit of ${report.auditedAt.slice(0, 16).replace('T', ' ')}:`];
  for (const u of report.users) {
    if (u.error) {
      out.push(`  ${u.email}: could not be audited: ${u.error}`);
      continue;
    }
    const unexplained = u.differences.filter((d) => d.rule === null).length;
    out.push(`  ${u.email}: ${u.agreeing} of ${u.pairs} synced entries agree${u.differences.length ? `; ${u.differences.length} difference(s), ${unexplained} not explained by a rule` : ''}`);
    for (const d of u.differences) {
      out.push(`    "${d.subject}" (${d.start.slice(0, 16).replace('T', ' ')}): ${d.what}: Severa ${d.severa === null ? '-' : JSON.stringify(d.severa)}, Exchange ${d.exchange === null ? '-' : JSON.stringify(d.exchange)}`);
      out.push(`      ${d.story}`);
      out.push(`      ${d.rule ? `Why: ${d.rule}.` : 'No rule explains this: the next change to either side brings them in line; to fix it now, edit the entry on the side that is right.'}`);
    }
  }
  return out.join('\n');
}
