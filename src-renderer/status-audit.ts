import type { AuditDifferenceView, AuditReportView, UserAuditView } from '../src-main/common/ipc-contract.ts';
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

const userResult = (u: UserAuditView) =>
  h(
    'article',
    { class: 'audit-user', 'data-user': u.email, 'aria-label': u.email },
    h('header', {}, h('h4', {}, u.email), h('span', { class: `badge ${u.differences.length || u.error ? 'audit-badge-bad' : 'audit-badge-good'}` }, t('window.audit.userAgrees', { agreeing: u.agreeing, count: u.pairs }))),
    u.error ? problemBox(t('window.audit.userError', { why: u.error }), undefined, 'warning') : null,
    u.differences.length
      ? h(
          'table',
          { class: 'audit-table change-table' },
          h('thead', {}, h('tr', {}, (['entry', 'what', 'severa', 'exchange', 'story', 'rule'] as const).map((c) => h('th', { scope: 'col' }, t(`window.audit.columns.${c}`))))),
          h('tbody', {}, u.differences.map(differenceRow)),
        )
      : null,
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

export function createAuditSection(api: RendererApi): HTMLElement {
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
  return h('section', { class: 'audit', 'aria-labelledby': 'audit-heading' }, h('h3', { id: 'audit-heading' }, t('window.audit.heading')), h('p', { class: 'field-hint' }, t('window.audit.hint')), h('div', { class: 'actions' }, button), results);
}
