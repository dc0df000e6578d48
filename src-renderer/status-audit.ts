import type { AuditDifferenceView, AuditReportView, UserAuditView } from '../src-main/common/ipc-contract.ts';
import { clear, errorParts, h, problemBox } from './dom.ts';
import { when } from './format.ts';
import type { RendererApi } from './renderer-types.ts';

/**
 * "Compare both sides": the standing agreement audit (SyncRunner.audit, src-main/sync/agreement-audit.ts) run from the
 * window. Every synced entry is read from both servers now and compared field by field; each difference is listed
 * with its story (when each side last changed, what the sync last wrote) and the rule that explains it, or none.
 * It reads only: nothing is written anywhere.
 */

// Every sentence of the audit, in one place.
const TEXT = {
  heading: 'Compare both sides',
  hint: 'Reads every synced entry from Severa and from Exchange now and compares them field by field. It changes nothing. Each difference comes with its story and the rule that explains it; a difference no rule explains is a problem to look at.',
  run: 'Compare both sides',
  running: 'Comparing… every synced entry is read from both servers.',
  summary: (at: string, agreeing: number, pairs: number, differences: number, unexplained: number) =>
    `Compared ${at}: ${agreeing} of ${pairs} synced ${pairs === 1 ? 'entry agrees' : 'entries agree'}` +
    (differences ? `; ${differences} ${differences === 1 ? 'difference' : 'differences'}, ${unexplained ? `${unexplained} that no rule explains` : 'each explained by a rule'}.` : '.'),
  userAgrees: (agreeing: number, pairs: number) => `${agreeing} of ${pairs} ${pairs === 1 ? 'entry agrees' : 'entries agree'}`,
  userError: (why: string) => `Not compared: ${why}`,
  columns: ['Entry', 'What differs', 'In Severa', 'In Exchange', 'Story', 'Rule'],
  noRule: 'No rule explains this.',
  none: '—',
  what: {
    subject: 'Subject',
    start: 'Start',
    end: 'End',
    'all-day': 'All day',
    location: 'Place',
    body: 'Text',
    private: 'Private',
    recurrence: 'Repeat rule',
    occurrences: 'Changed or deleted occurrences',
    'missing in Exchange': 'Missing in Exchange',
    'missing in Severa': 'Missing in Severa',
  } as Record<string, string>,
};

const differenceRow = (d: AuditDifferenceView) =>
  h(
    'tr',
    { class: d.rule ? 'audit-explained' : 'audit-unexplained', 'data-what': d.what },
    h('td', {}, h('span', { class: 'change-subject' }, d.subject), h('br'), h('span', { class: 'muted' }, when(d.start))),
    h('td', { class: 'audit-what' }, TEXT.what[d.what] ?? d.what),
    h('td', {}, d.severa ?? TEXT.none),
    h('td', {}, d.exchange ?? TEXT.none),
    h('td', { class: 'muted audit-story' }, d.story),
    h('td', { class: 'audit-rule' }, d.rule ?? h('strong', {}, TEXT.noRule)),
  );

const userResult = (u: UserAuditView) =>
  h(
    'article',
    { class: 'audit-user', 'data-user': u.email, 'aria-label': u.email },
    h('header', {}, h('h4', {}, u.email), h('span', { class: `badge ${u.differences.length || u.error ? 'audit-badge-bad' : 'audit-badge-good'}` }, TEXT.userAgrees(u.agreeing, u.pairs))),
    u.error ? problemBox(TEXT.userError(u.error), undefined, 'warning') : null,
    u.differences.length
      ? h(
          'table',
          { class: 'audit-table change-table' },
          h('thead', {}, h('tr', {}, TEXT.columns.map((c) => h('th', { scope: 'col' }, c)))),
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
    h('p', { class: `summary ${unexplained || report.users.some((u) => u.error) ? 'summary-bad' : 'summary-good'}` }, TEXT.summary(when(report.auditedAt), agreeing, pairs, differences.length, unexplained)),
    report.users.map(userResult),
  );
}

export function createAuditSection(api: RendererApi): HTMLElement {
  const results = h('div', { class: 'audit-results', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', id: 'audit-run' }, TEXT.run);
  button.addEventListener('click', async () => {
    button.disabled = true;
    clear(results, h('p', { class: 'muted' }, TEXT.running));
    try {
      showAuditReport(results, await api.invoke('audit:run'));
    } catch (error) {
      const e = errorParts(error);
      clear(results, problemBox(e.message, e.fix));
    } finally {
      button.disabled = false;
    }
  });
  return h('section', { class: 'audit', 'aria-labelledby': 'audit-heading' }, h('h3', { id: 'audit-heading' }, TEXT.heading), h('p', { class: 'field-hint' }, TEXT.hint), h('div', { class: 'actions' }, button), results);
}
