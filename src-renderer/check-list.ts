import type { CheckProgressView, CheckView } from '../src-main/common/ipc-contract.ts';
import { t } from '../src-main/common/i18n/i18n.ts';
import { clear, h, problemBox } from './dom.ts';

/** Extra help under a failing check (e.g. the commands that fix it, filled in with the admin's own ids), or null. */
export type CheckHelp = (check: CheckView) => HTMLElement | null;

function checkItem(c: CheckView, help?: CheckHelp): HTMLLIElement {
  return h(
    'li',
    { class: `check ${c.ok ? 'check-ok' : 'check-failed'}`, 'data-check': c.id },
    h('span', { class: 'check-mark', 'aria-hidden': 'true' }, c.ok ? '✓' : '✕'),
    h(
      'div',
      { class: 'check-body' },
      h('p', { class: 'check-title' }, h('span', { class: 'visually-hidden' }, c.ok ? t('window.checks.passed') : t('window.checks.failed')), c.title),
      h('p', { class: 'check-message' }, c.message),
      c.fix ? h('p', { class: 'check-fix' }, h('strong', {}, t('window.common.fix')), c.fix) : null,
      help?.(c) ?? null,
    ),
  );
}

const sameCheck = (a: CheckView, b: CheckView) => a.id === b.id && a.title === b.title && a.ok === b.ok && a.message === b.message && a.fix === b.fix;

const summaryText = (checks: CheckView[]) => {
  const failed = checks.filter((c) => !c.ok).length;
  return failed ? t('window.checks.summaryFailed', { count: failed, total: checks.length }) : t('window.checks.summaryPassed', { count: checks.length });
};

/**
 * The connection test's list, filled while the test runs: each check appears (passed or failed, with its fix) as it
 * completes, in order, above a "checking" row that stays until the last one. The list is a polite live region that
 * announces additions only, so a screen reader reads each new check once; the summary line is a status that speaks
 * at the start and at the end. The final reply is the authority: the list is made to match it.
 */
export function createCheckList(target: HTMLElement, help?: CheckHelp) {
  const summary = h('p', { class: 'summary muted', role: 'status' }, t('window.checks.notRun'));
  const list = h('ul', { class: 'check-list', 'aria-live': 'polite', 'aria-relevant': 'additions', hidden: true });
  const running = h(
    'li',
    { class: 'check check-running', 'aria-hidden': 'true' },
    h('span', { class: 'check-mark' }),
    h('div', { class: 'check-body' }, h('p', { class: 'check-title' }, t('window.checks.checking')), h('p', { class: 'check-message' }, t('window.checks.nextResult'))),
  );
  const problem = h('div', { class: 'checks-problem' });
  clear(target, summary, problem, list);
  let runId: string | null = null;
  let shown: CheckView[] = [];

  const showSummary = (text: string, kind: 'muted' | 'summary-good' | 'summary-bad') => {
    summary.className = `summary ${kind}`;
    summary.textContent = text;
  };

  return {
    start(id: string) {
      runId = id;
      shown = [];
      clear(list, running);
      clear(problem);
      list.hidden = false;
      showSummary(t('window.checks.running'), 'muted');
    },
    /** One pushed result; only the running test's, and only the next one in order (a gap waits for the reply). */
    add(event: CheckProgressView) {
      if (event.runId !== runId || event.index !== shown.length) return;
      shown.push(event.check);
      list.insertBefore(checkItem(event.check, help), running);
    },
    finish(id: string, checks: CheckView[]) {
      if (id !== runId) return;
      runId = null;
      running.remove();
      // Normally every check is already shown; if a push was lost, the reply's list replaces what is there.
      const same = shown.length === checks.length && shown.every((c, i) => sameCheck(c, checks[i]));
      if (!same) clear(list, checks.map((c) => checkItem(c, help)));
      shown = checks;
      showSummary(summaryText(checks), checks.some((c) => !c.ok) ? 'summary-bad' : 'summary-good');
    },
    fail(id: string, message: string, fix?: string) {
      if (id !== runId) return;
      runId = null;
      running.remove();
      list.hidden = shown.length === 0;
      clear(problem, problemBox(t('window.checks.stopped', { message }), fix));
      showSummary(shown.length ? t('window.checks.finishedBeforeStop', { count: shown.length }) : t('window.checks.couldNotRun'), 'summary-bad');
    },
    /** The settings changed: earlier results say nothing about them any more. A running test is left to finish. */
    outdate() {
      if (runId !== null || shown.length === 0) return;
      shown = [];
      clear(list);
      clear(problem);
      list.hidden = true;
      showSummary(t('window.checks.stale'), 'muted');
    },
  };
}
