import type { AuditDifferenceView, AuditReportView, AuditStatusView, UserAuditView } from '../src-main/common/ipc-contract.ts';
import { t } from '../src-main/common/i18n/i18n.ts';
import { clear, errorParts, h, problemBox } from './dom.ts';
import { when } from './format.ts';
import type { RendererApi } from './renderer-types.ts';

/**
 * "Compare both sides": the standing agreement audit (SyncRunner.audit, src-main/sync/agreement-audit.ts) run from the
 * window. Every synced entry is read from both servers now and compared field by field; each difference is listed
 * with its story (when each side last changed, what the sync last wrote) and the rule that explains it, or none.
 * It reads only: nothing is written anywhere.
 */


/** Each field the audit compares, by the name it reports (src-main/sync/agreement-audit.ts), as the window says it. */
const WHAT = {
  subject: 'subject',
  start: 'start',
  end: 'end',
  'all-day': 'allDay',
  location: 'location',
  body: 'body',
  private: 'private',
  recurrence: 'recurrence',
  occurrences: 'occurrences',
  'missing in Exchange': 'missingInExchange',
  'missing in Severa': 'missingInSevera',
} as const;
const whatLabel = (what: string) => (what in WHAT ? t(`window.audit.what.${WHAT[what as keyof typeof WHAT]}`) : what);

const summary = (at: string, agreeing: number, pairs: number, differences: number, unexplained: number) => {
  const agree = t('window.audit.agree', { agreeing, count: pairs });
  if (!differences) return t('window.audit.summary', { at, agree });
  const explained = unexplained ? t('window.audit.unexplained', { count: unexplained }) : t('window.audit.allExplained');
  return t('window.audit.summaryDifferences', { at, agree, differences: t('window.audit.differences', { count: differences }), explained });
};

const differenceRow = (d: AuditDifferenceView) =>
  h(
    'tr',
    { class: d.rule ? 'audit-explained' : 'audit-unexplained', 'data-what': d.what },
    h('td', {}, h('span', { class: 'change-subject' }, d.subject), h('br'), h('span', { class: 'muted' }, when(d.start))),
    h('td', { class: 'audit-what' }, whatLabel(d.what)),
    h('td', {}, d.severa ?? t('window.common.none')),
    h('td', {}, d.exchange ?? t('window.common.none')),
    h('td', { class: 'muted audit-story' }, d.story),
    h('td', { class: 'audit-rule' }, d.rule ?? h('strong', {}, t('window.audit.noRule'))),
  );

const differenceTable = (differences: AuditDifferenceView[]) =>
  h(
    'table',
    { class: 'audit-table change-table' },
    h('thead', {}, h('tr', {}, (['entry', 'what', 'severa', 'exchange', 'story', 'rule'] as const).map((c) => h('th', { scope: 'col' }, t(`window.audit.columns.${c}`))))),
    h('tbody', {}, differences.map(differenceRow)),
  );

const userResult = (u: UserAuditView) =>
  h(
    'article',
    { class: 'audit-user', 'data-user': u.email, 'aria-label': u.email },
    h('header', {}, h('h4', {}, u.email), h('span', { class: `badge ${u.differences.length || u.error ? 'audit-badge-bad' : 'audit-badge-good'}` }, t('window.audit.userAgrees', { agreeing: u.agreeing, count: u.pairs }))),
    u.error ? problemBox(t('window.audit.userError', { why: u.error }), undefined, 'warning') : null,
    u.differences.length ? differenceTable(u.differences) : null,
  );

export function showAuditReport(target: HTMLElement, report: AuditReportView): void {
  const pairs = report.users.reduce((n, u) => n + u.pairs, 0);
  const agreeing = report.users.reduce((n, u) => n + u.agreeing, 0);
  const differences = report.users.flatMap((u) => u.differences);
  const unexplained = differences.filter((d) => !d.rule).length;
  clear(
    target,
    h('p', { class: `summary ${unexplained || report.users.some((u) => u.error) ? 'summary-bad' : 'summary-good'}` }, summary(when(report.auditedAt), agreeing, pairs, differences.length, unexplained)),
    report.users.map(userResult),
  );
}

/** The last automatic comparison in one line for the status card, or null when there is nothing to say. */
export function lastAuditText(audit: AuditStatusView | undefined): string | null {
  if (!audit) return null;
  if (audit.running) return t('window.status.auditRunning');
  if (!(audit.everyHours > 0) && !audit.last) return t('window.status.auditOff');
  const last = audit.last;
  if (!last) return audit.nextAfter ? t('window.status.auditFirst', { time: when(audit.nextAfter) }) : t('window.status.auditNotYet');
  if (last.error) return t('window.status.auditFailed', { at: when(last.at), why: last.error });
  const text = summary(when(last.at), last.agreeing, last.pairs, last.explained + last.unexplained, last.unexplained);
  return last.failedUsers.length ? `${text} ${t('window.status.auditNotCompared', { count: last.failedUsers.length })}` : text;
}

/** The last automatic comparison's differences (and who could not be compared), per person, as "Compare both sides" shows its own. */
function showLastAudit(target: HTMLElement, audit: AuditStatusView | undefined): void {
  const last = audit?.last;
  const hint = audit && audit.everyHours > 0 ? h('p', { class: 'field-hint' }, t('window.audit.automaticHint', { count: audit.everyHours })) : null;
  if (!last || (last.differences.length === 0 && last.failedUsers.length === 0 && !last.error)) {
    clear(target, hint);
    return;
  }
  const people = [...new Set([...last.differences.map((d) => d.email), ...last.failedUsers.map((f) => f.email)])];
  clear(
    target,
    h('h4', {}, t('window.audit.automaticHeading')),
    hint,
    h('p', { class: `summary last-audit-summary ${last.unexplained || last.error || last.failedUsers.length ? 'summary-bad' : 'summary-good'}` }, lastAuditText(audit)),
    people.map((email) => {
      const differences = last.differences.filter((d) => d.email === email);
      const failed = last.failedUsers.find((f) => f.email === email);
      return h(
        'article',
        { class: 'audit-user', 'data-audit-user': email, 'aria-label': email },
        h('header', {}, h('h4', {}, email)),
        failed ? problemBox(t('window.audit.userError', { why: failed.error }), undefined, 'warning') : null,
        differences.length ? differenceTable(differences) : null,
      );
    }),
  );
}

export function createAuditSection(api: RendererApi): { element: HTMLElement; showAutomatic(audit: AuditStatusView | undefined): void } {
  const automatic = h('div', { class: 'last-audit' });
  let shown: string | null = null;
  const results = h('div', { class: 'audit-results', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', id: 'audit-run' }, t('window.audit.run'));
  button.addEventListener('click', async () => {
    button.disabled = true;
    clear(results, h('p', { class: 'muted' }, t('window.audit.running')));
    try {
      showAuditReport(results, await api.invoke('audit:run'));
    } catch (error) {
      const e = errorParts(error);
      clear(results, problemBox(e.message, e.fix));
    } finally {
      button.disabled = false;
    }
  });
  return {
    element: h('section', { class: 'audit', 'aria-labelledby': 'audit-heading' }, h('h3', { id: 'audit-heading' }, t('window.audit.heading')), h('p', { class: 'field-hint' }, t('window.audit.hint')), h('div', { class: 'actions' }, button), results, automatic),
    showAutomatic: (audit) => {
      // Every status push brings it; the tables are rebuilt only when it changed (someone may be reading them).
      const key = JSON.stringify(audit ?? null);
      if (key === shown) return;
      shown = key;
      showLastAudit(automatic, audit);
    },
  };
}
