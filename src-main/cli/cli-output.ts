import type { AuditReport } from '../sync/agreement-audit.ts';
import type { ChangeLine, CycleReport, SideCounts, UserProblem, UserReport } from '../common/sync-report.ts';
import { usersStoppedByOrganization } from '../runner/report-consolidation.ts';
import type { AuditStatus, CheckResult, LastAudit, RunnerState, RunnerStatus } from '../runner/runner-types.ts';
import { locale, t } from '../common/i18n/i18n.ts';
import type { TextKey } from '../common/i18n/i18n.ts';
import { reasonText } from '../common/i18n/reasons.ts';

/** The CLI's human output: plain text tables, one row per user, problems with their fix underneath. */

/** Per person, at most this many changed entries are listed in the text output; --json lists every one. */
export const MAX_LISTED_CHANGES = 25;

// The words of the per-entry report (the sentences are in the catalogs, src-main/common/i18n/*/cli.ts).
const ACTION: Record<ChangeLine['action'], TextKey> = { create: 'cli.report.created', update: 'cli.report.updated', delete: 'cli.report.deleted' };
const WOULD_ACTION: Record<ChangeLine['action'], TextKey> = { create: 'cli.report.wouldCreate', update: 'cli.report.wouldUpdate', delete: 'cli.report.wouldDelete' };
/** Which way a change went: product names, the same in every language. */
const DIRECTION: Record<ChangeLine['side'], string> = { exchange: 'Severa -> Exchange', severa: 'Exchange -> Severa' };
const DELETED_IN: Record<ChangeLine['side'], TextKey> = { exchange: 'cli.report.inExchange', severa: 'cli.report.inSevera' };

/** A cycle's or user's outcome word ('ok', 'partial'...) in the current language; --json keeps the value itself. */
export const outcomeText = (outcome: string): string =>
  outcome in OUTCOMES ? t(OUTCOMES[outcome as keyof typeof OUTCOMES]) : outcome;
const OUTCOMES = { ok: 'cli.report.outcomes.ok', partial: 'cli.report.outcomes.partial', failed: 'cli.report.outcomes.failed', skipped: 'cli.report.outcomes.skipped' } as const;

/** The widest of some words in the current language, so a column of them lines up in every language. */
const widest = (keys: TextKey[]) => Math.max(...keys.map((k) => t(k).length));

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
  const verbs = dryRun ? WOULD_ACTION : ACTION;
  const verb = t(verbs[c.action]);
  const way = c.action === 'delete' ? t(DELETED_IN[c.side]) : DIRECTION[c.side];
  const wayWidth = Math.max(17, widest(Object.values(DELETED_IN)));
  return `  ${verb.padEnd(widest(Object.values(verbs)))} ${way.padEnd(wayWidth)} ${when(c.start).padEnd(16)}  ${c.subject}${c.reason ? `  (${reasonText(c.reason)})` : ''}`;
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

/** "3.5" / "3,5": seconds with one decimal, written as the current language writes numbers. */
const oneDecimal = (n: number) => n.toLocaleString(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 });

const counts = (c: SideCounts) => `${c.created}/${c.updated}/${c.deleted}`;
const changeCount = (u: UserReport) =>
  u.toSevera.created + u.toSevera.updated + u.toSevera.deleted + u.toExchange.created + u.toExchange.updated + u.toExchange.deleted;

function problemLines(prefix: string, problems: UserProblem[]): string[] {
  return problems.flatMap((p) => [`${prefix}${p.message}`, ...(p.fix ? [`${' '.repeat(prefix.length)}${t('cli.report.fix', { fix: p.fix })}`] : [])]);
}

export function formatCycleReport(report: CycleReport): string {
  const seconds = oneDecimal((Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000);
  const out: string[] = [];
  const title = t(report.dryRun ? 'cli.report.dryRun' : 'cli.report.cycle');
  out.push(t('cli.report.summary', { title, outcome: outcomeText(report.outcome), seconds, severa: report.requests.severa, exchange: report.requests.exchange }));
  if (report.users.length > 0) {
    out.push('');
    out.push(
      formatTable(
        [
          t('cli.report.user'),
          t('cli.report.outcome'),
          t(report.dryRun ? 'cli.report.wouldToExchange' : 'cli.report.toExchange'),
          t(report.dryRun ? 'cli.report.wouldToSevera' : 'cli.report.toSevera'),
          t('cli.report.conflicts'),
          t('cli.report.heldDeletions'),
          t('cli.report.firstSync'),
        ],
        report.users.map((u) => [u.email, outcomeText(u.outcome), counts(u.toExchange), counts(u.toSevera), String(u.conflicts), String(u.heldDeletions), t(u.firstSync ? 'cli.report.yes' : 'cli.report.no')]),
      ),
    );
    out.push(t('cli.report.legend'));
  }
  const total = report.users.reduce((n, u) => n + changeCount(u), 0);
  if (report.users.length > 0 && total === 0 && report.outcome === 'ok') out.push('', t('cli.report.noChanges'));
  if (report.users.length === 0 && report.errors.length === 0) out.push('', t('cli.report.nothingToSync'));

  // Every changed entry by name, date, direction and reason (a real run as well as a dry run).
  for (const u of report.users.filter((x) => x.changes.length > 0)) {
    out.push('', t(report.dryRun ? 'cli.report.wouldChangeHeading' : 'cli.report.changedHeading', { email: u.email }));
    for (const c of u.changes.slice(0, MAX_LISTED_CHANGES)) out.push(formatChangeLine(c, report.dryRun));
    const unlisted = u.changes.length - Math.min(u.changes.length, MAX_LISTED_CHANGES) + (u.changesOmitted ?? 0);
    if (unlisted > 0) {
      out.push(`  ${u.changesOmitted ? t('cli.report.moreThanReported', { count: unlisted, inJson: u.changes.length }) : t('cli.report.more', { count: unlisted })}`);
    }
  }
  const problems: string[] = [...problemLines('  ', report.errors)];
  const stopped = usersStoppedByOrganization(report);
  if (stopped.length > 0) problems.push(`  ${t('cli.report.stoppedByOrganization', { emails: stopped.join(', ') })}`);
  for (const u of report.users) {
    if (u.errors.length > 0) problems.push(`  ${u.email}:`, ...problemLines('    ', u.errors));
  }
  if (problems.length > 0) out.push('', t('cli.report.problems'), ...problems);
  const notes = report.users.flatMap((u) => u.notes.map((n) => `  ${u.email}: ${n}`));
  if (notes.length > 0) out.push('', t('cli.report.notes'), ...notes);
  if (report.users.some((u) => u.heldDeletions > 0)) out.push('', t('cli.report.held'));
  const offsets = report.clockOffsetMs;
  if (offsets.severa !== null || offsets.exchange !== null) {
    const fmt = (v: number | null) => (v === null ? t('cli.report.unknown') : t('cli.report.seconds', { value: oneDecimal(v / 1000) }));
    out.push('', t('cli.report.clockOffsets', { severa: fmt(offsets.severa), exchange: fmt(offsets.exchange), count: report.severaDeletionLatencyCycles }));
  }
  return out.join('\n');
}

export function formatChecks(results: CheckResult[]): string {
  const width = Math.max(4, t('cli.checks.ok').length, t('cli.checks.fail').length);
  const out = results.map((r) => `${t(r.ok ? 'cli.checks.ok' : 'cli.checks.fail').padEnd(width)}  ${r.title}: ${r.message}${!r.ok && r.fix ? `\n${' '.repeat(width + 2)}${t('cli.report.fix', { fix: r.fix })}` : ''}`);
  const failed = results.filter((r) => !r.ok).length;
  out.push('', failed === 0 ? t('cli.checks.allPassed', { count: results.length }) : t('cli.checks.someFailed', { failed, count: results.length }));
  return out.join('\n');
}

const STATES: Record<RunnerState, TextKey> = { idle: 'cli.status.states.idle', syncing: 'cli.status.states.syncing', error: 'cli.status.states.error', paused: 'cli.status.states.paused' };

export function formatStatus(status: RunnerStatus): string {
  const out: string[] = [];
  out.push(t('cli.status.state', { state: status.state in STATES ? t(STATES[status.state]) : status.state }));
  const when = status.lastRunAt ?? t('cli.status.never');
  out.push(status.lastReport ? t('cli.status.lastCycleOutcome', { when, outcome: outcomeText(status.lastReport.outcome) }) : t('cli.status.lastCycle', { when }));
  if (status.pausedUntil !== undefined) out.push(status.pausedUntil === null ? t('cli.status.pausedUntilResumed') : t('cli.status.pausedUntil', { time: status.pausedUntil }));
  if (status.consecutiveFailures > 0) out.push(t('cli.status.failuresInRow', { count: status.consecutiveFailures }));
  if (status.audit) out.push(...formatAuditStatus(status.audit));
  const report = status.lastReport;
  if (report) {
    if (report.users.length > 0) {
      out.push('');
      // Where each mailbox lives is shown once any user's is known (hybrid organizations, moved mailboxes).
      const located = report.users.some((u) => u.mailboxLocation);
      const where = (u: (typeof report.users)[number]) =>
        u.mailboxLocation ? t('cli.status.mailboxSince', { label: u.mailboxLocation.label, date: u.mailboxLocation.since.slice(0, 10) }) : '';
      out.push(
        formatTable(
          [
            t('cli.report.user'),
            t('cli.report.outcome'),
            t('cli.report.toExchange'),
            t('cli.report.toSevera'),
            t('cli.report.conflicts'),
            t('cli.report.heldDeletions'),
            ...(located ? [t('cli.report.mailbox')] : []),
            t('cli.report.errors'),
          ],
          report.users.map((u) => [u.email, outcomeText(u.outcome), counts(u.toExchange), counts(u.toSevera), String(u.conflicts), String(u.heldDeletions), ...(located ? [where(u)] : []), u.errors.map((e) => e.message).join(' ')]),
        ),
      );
    }
    if (report.errors.length > 0) out.push('', t('cli.report.problems'), ...problemLines('  ', report.errors));
  }
  return out.join('\n');
}

/** In the status, at most this many of the last automatic audit's unexplained differences are listed; --json has them all. */
export const MAX_LISTED_AUDIT_DIFFERENCES = 10;

/** The automatic audit in the status: off, running, never yet (and when the first comes), or the last one's outcome. */
export function formatAuditStatus(audit: AuditStatus): string[] {
  if (audit.running) return [t('cli.status.auditRunning')];
  if (!(audit.everyHours > 0) && !audit.last) return [t('cli.status.auditOff')];
  if (!audit.last) return [audit.nextAfter ? t('cli.status.auditNever', { time: audit.nextAfter }) : t('cli.status.auditNeverUnknown', { hours: audit.everyHours })];
  return [...formatLastAudit(audit.last), ...(audit.everyHours > 0 && audit.nextAfter ? [t('cli.status.nextAudit', { time: audit.nextAfter })] : [])];
}

/** Each field the audit compares, by the name it reports (src-main/sync/agreement-audit.ts), in the reader's language. */
const WHAT: Record<string, TextKey> = {
  subject: 'cli.audit.what.subject',
  start: 'cli.audit.what.start',
  end: 'cli.audit.what.end',
  'all-day': 'cli.audit.what.allDay',
  location: 'cli.audit.what.location',
  body: 'cli.audit.what.body',
  private: 'cli.audit.what.private',
  recurrence: 'cli.audit.what.recurrence',
  occurrences: 'cli.audit.what.occurrences',
  'missing in Exchange': 'cli.audit.what.missingInExchange',
  'missing in Severa': 'cli.audit.what.missingInSevera',
};
const whatText = (what: string) => (Object.hasOwn(WHAT, what) ? t(WHAT[what]) : what);

/** The last automatic audit: its counts, who could not be audited, and the differences no rule explains with their story. */
export function formatLastAudit(last: LastAudit): string[] {
  if (last.error) return [t('cli.status.lastAuditFailed', { when: last.at, why: last.error })];
  const agree = t('cli.status.lastAudit', { when: last.at, agreeing: last.agreeing, pairs: last.pairs });
  const differences = last.explained + last.unexplained;
  const out = [differences ? t('cli.audit.differences', { agree, count: differences, unexplained: last.unexplained }) : agree];
  for (const f of last.failedUsers) out.push(`  ${t('cli.audit.couldNotAudit', { email: f.email, why: f.error })}`);
  const unexplained = last.differences.filter((d) => d.rule === null);
  for (const d of unexplained.slice(0, MAX_LISTED_AUDIT_DIFFERENCES)) {
    out.push(`  ${d.email}: "${d.subject}" (${d.start.slice(0, 16).replace('T', ' ')}): ${whatText(d.what)}: Severa ${d.severa === null ? '-' : JSON.stringify(d.severa)}, Exchange ${d.exchange === null ? '-' : JSON.stringify(d.exchange)}`);
    out.push(`    ${d.story}`);
  }
  if (last.unexplained > MAX_LISTED_AUDIT_DIFFERENCES) out.push(`  ${t('cli.report.more', { count: last.unexplained - MAX_LISTED_AUDIT_DIFFERENCES })}`);
  return out;
}

/** The agreement audit: per user how many entries agree, then each difference with its story and the rule (or none). */
export function formatAudit(report: AuditReport): string {
  const out: string[] = [t('cli.audit.heading', { time: report.auditedAt.slice(0, 16).replace('T', ' ') })];
  for (const u of report.users) {
    if (u.error) {
      out.push(`  ${t('cli.audit.couldNotAudit', { email: u.email, why: u.error })}`);
      continue;
    }
    const unexplained = u.differences.filter((d) => d.rule === null).length;
    const agree = t('cli.audit.agree', { email: u.email, agreeing: u.agreeing, pairs: u.pairs });
    out.push(`  ${u.differences.length ? t('cli.audit.differences', { agree, count: u.differences.length, unexplained }) : agree}`);
    for (const d of u.differences) {
      out.push(`    "${d.subject}" (${d.start.slice(0, 16).replace('T', ' ')}): ${whatText(d.what)}: Severa ${d.severa === null ? '-' : JSON.stringify(d.severa)}, Exchange ${d.exchange === null ? '-' : JSON.stringify(d.exchange)}`);
      out.push(`      ${d.story}`);
      out.push(`      ${d.rule ? t('cli.audit.why', { rule: d.rule }) : t('cli.audit.noRule')}`);
    }
  }
  return out.join('\n');
}
