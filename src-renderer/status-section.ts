import type { AppStatusView, JournalEntryView, LiveModeView, LiveStatusView, ProgressView, RunnerStatusView, UserStatusView } from '../src-main/common/ipc-contract.ts';
import type { UserProblem } from '../src-main/common/sync-report.ts';
import { formatNumber, t } from '../src-main/common/i18n/i18n.ts';
import { changeReport } from './change-report.ts';
import { clear, errorParts, h, problemBox } from './dom.ts';
import { counts, timeLeft, when } from './format.ts';
import type { RendererApi } from './renderer-types.ts';
import { createSetupGuide } from './setup-guide.ts';
import { createAuditSection, lastAuditText } from './status-audit.ts';


/** One watch as words: "Live since 20 Nov, 10:02", "Read every few seconds since …", "Off: why". */
export function liveModeText(m: LiveModeView): string {
  if (m.mode === 'off') return m.reason ? t('window.status.liveOffBecause', { reason: m.reason }) : t('window.status.liveOff');
  const text = m.mode === 'live' ? t('window.status.modeLive', { since: when(m.since) }) : t('window.status.modePolling', { since: when(m.since) });
  return m.reason ? t('window.status.modeWithReason', { text, reason: m.reason }) : text;
}

/** Real time for the whole organization: on (with Severa's poll) or off and why. */
function liveSummary(live: LiveStatusView | undefined): string {
  if (!live) return t('window.status.liveOff');
  if (!live.on) return live.reason ? t('window.status.liveOffBecause', { reason: live.reason }) : t('window.status.liveOff');
  return t('window.status.liveOn', { severa: liveModeText(live.severa) });
}

/** The state as words; a sync that never ran is "not synced yet", and waiting for setup is "setting up" (neither an error). */
export function stateLabel(runner: RunnerStatusView): string {
  if (runner.state === 'paused' || (runner.state !== 'syncing' && runner.pausedUntil !== undefined)) {
    return runner.pausedUntil ? t('window.status.pausedUntil', { time: when(runner.pausedUntil) }) : t('window.status.pausedUntilResumed');
  }
  if (runner.state === 'idle' && runner.waitingFor) return t('window.status.settingUp');
  if (runner.state === 'idle' && !runner.lastRunAt) return t('window.status.notSynced');
  return t(`window.status.states.${runner.state}`);
}

/** The look of a state: 'new' (never synced) and 'setup' are neutral, not the green of a sync that worked. */
export function stateClass(runner: RunnerStatusView): string {
  if (runner.state === 'syncing') return 'syncing';
  if (runner.pausedUntil !== undefined) return 'paused';
  if (runner.state === 'idle' && runner.waitingFor) return 'setup';
  if (runner.state === 'idle' && !runner.lastRunAt) return 'new';
  return runner.state;
}

export function renderStatusSection(panel: HTMLElement, api: RendererApi, onStatus: (runner: RunnerStatusView) => void, navigate: (section: 'admin' | 'personal') => void = () => {}) {
  const summary = h('div', { class: 'status-summary' });
  const progress = h('div', { class: 'progress-area', 'aria-live': 'polite' });
  const orgErrors = h('div', { class: 'org-errors' });
  const users = h('div', { class: 'users' });
  const message = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const syncNow = h('button', { type: 'button', class: 'primary', id: 'sync-now' }, t('window.status.syncNow'));
  const pauseHour = h('button', { type: 'button', id: 'pause-hour' }, t('window.status.pauseHour'));
  const pauseOpen = h('button', { type: 'button', id: 'pause-until-resumed' }, t('window.status.pauseUntilResumed'));
  const resume = h('button', { type: 'button', id: 'resume' }, t('window.status.resume'));
  const openLog = h('button', { type: 'button', id: 'open-log' }, t('window.status.openLog'));
  const exportLog = h('button', { type: 'button', id: 'export-log' }, t('window.status.exportLog'));
  const logLine = h('p', { class: 'muted log-path' });
  const journal = h('div', { class: 'journal', 'aria-live': 'polite' });
  const guide = createSetupGuide({ test: () => navigate('admin'), enable: () => navigate('personal') });
  const audit = createAuditSection(api);

  clear(
    panel,
    h('h2', { id: 'status-heading' }, t('window.status.heading')),
    guide.element,
    h('div', { class: 'card status-card' }, summary, progress, h('div', { class: 'actions' }, syncNow, pauseHour, pauseOpen, resume), message),
    orgErrors,
    h('h3', {}, t('window.status.people')),
    users,
    audit.element,
    h('h3', {}, t('window.status.deletedHeading')),
    h('p', { class: 'field-hint' }, t('window.status.deletedHint')),
    journal,
    h('h3', {}, t('window.status.log')),
    h('div', { class: 'actions' }, openLog, exportLog),
    logLine,
  );

  let current: AppStatusView | null = null;

  const run = async (button: HTMLButtonElement, work: () => Promise<void>) => {
    button.disabled = true;
    clear(message);
    try {
      await work();
    } catch (error) {
      const e = errorParts(error);
      clear(message, problemBox(e.message, e.fix));
    } finally {
      button.disabled = false;
      if (current) showRunner(current.runner);
    }
  };

  syncNow.addEventListener('click', () =>
    run(syncNow, async () => {
      showRunner({ ...(current?.runner ?? { consecutiveFailures: 0 }), state: 'syncing' });
      show(await api.invoke('sync:now'));
      showJournal(await api.invoke('journal:list', {}));
    }),
  );
  const pause = (mode: 'hour' | 'untilResumed', button: HTMLButtonElement) => () =>
    run(button, async () => {
      const runner = await api.invoke('sync:pause', { mode });
      if (current) show({ ...current, runner });
    });
  pauseHour.addEventListener('click', pause('hour', pauseHour));
  pauseOpen.addEventListener('click', pause('untilResumed', pauseOpen));
  resume.addEventListener('click', () =>
    run(resume, async () => {
      const runner = await api.invoke('sync:resume');
      if (current) show({ ...current, runner });
    }),
  );
  openLog.addEventListener('click', () =>
    run(openLog, async () => {
      const { opened } = await api.invoke('log:open');
      if (!opened) clear(message, problemBox(t('window.status.logNotOpened'), t('window.status.logNotOpenedFix'), 'warning'));
    }),
  );
  exportLog.addEventListener('click', () =>
    run(exportLog, async () => {
      const { path } = await api.invoke('log:export');
      if (path) clear(message, h('p', { class: 'ok-text' }, t('window.status.logSaved', { path })));
    }),
  );

  const showProgress = (p: ProgressView | undefined) => {
    if (!p) return clear(progress);
    const pct = p.usersTotal > 0 ? Math.round((p.usersDone / p.usersTotal) * 100) : 0;
    // A long first sync: the entries written so far and, once a person is done, the time left.
    const detail = [t('window.status.progressShort', { done: p.usersDone, total: p.usersTotal, percent: pct }), p.entriesDone ? t('window.status.progressEntries', { count: p.entriesDone, formatted: formatNumber(p.entriesDone) }) : null, p.secondsLeft !== undefined ? timeLeft(p.secondsLeft) : null].filter(Boolean).join(' · ');
    clear(
      progress,
      h('label', { for: 'sync-progress' }, p.currentUser ? t('window.status.syncingUser', { email: p.currentUser }) : (p.phase ?? t('window.status.states.syncing'))),
      h('progress', { id: 'sync-progress', max: String(Math.max(1, p.usersTotal)), value: String(p.usersDone), 'aria-valuetext': [t('window.status.progressDone', { people: t('window.status.progressPeople', { done: p.usersDone, total: p.usersTotal }) }), p.secondsLeft !== undefined ? timeLeft(p.secondsLeft) : null].filter(Boolean).join(', ') }),
      h('span', { class: 'muted progress-detail' }, detail),
    );
  };

  const showRunner = (runner: RunnerStatusView) => {
    const syncing = runner.state === 'syncing';
    const paused = runner.pausedUntil !== undefined;
    const waiting = runner.waitingFor !== undefined && !syncing;
    const delayed = runner.startsAt && Date.parse(runner.startsAt) > Date.now() ? runner.startsAt : null;
    clear(
      summary,
      h('p', { class: `state state-${stateClass(runner)}` }, stateLabel(runner)),
      waiting ? h('p', { class: 'muted state-hint' }, t(`window.status.waiting.${runner.waitingFor!}`)) : delayed ? h('p', { class: 'muted state-hint' }, t('window.status.startsAt', { time: when(delayed) })) : null,
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, t('window.status.lastSync')),
        h('dd', {}, when(runner.lastRunAt ?? current?.lastCycle?.finishedAt)),
        h('dt', {}, t('window.status.nextSync')),
        h('dd', {}, paused ? (runner.pausedUntil ? t('window.status.nextAfter', { time: when(runner.pausedUntil) }) : t('window.status.whenResumed')) : when(runner.nextRunAt)),
        runner.consecutiveFailures > 0 ? [h('dt', {}, t('window.status.failedInRow')), h('dd', {}, String(runner.consecutiveFailures))] : null,
        h('dt', {}, t('window.status.realTime')),
        h('dd', { class: 'live-summary' }, liveSummary(runner.live)),
        lastAuditText(runner.audit) !== null ? [h('dt', {}, t('window.status.lastAudit')), h('dd', { class: `last-audit-line${runner.audit?.last?.unexplained || runner.audit?.last?.error ? ' audit-bad' : ''}` }, lastAuditText(runner.audit))] : null,
      ),
    );
    audit.showAutomatic(runner.audit);
    showLive(runner.live);
    syncNow.disabled = syncing || waiting;
    syncNow.textContent = syncing ? t('window.status.syncing') : t('window.status.syncNow');
    if (waiting) syncNow.setAttribute('title', t('window.status.syncNowWaiting'));
    else syncNow.removeAttribute('title');
    pauseHour.hidden = paused;
    pauseOpen.hidden = paused;
    resume.hidden = !paused;
    showProgress(syncing ? runner.progress : undefined);
    onStatus(runner);
  };

  /** Each person's watch, in place (a status push must not rebuild the cards someone is reading). */
  const showLive = (live: LiveStatusView | undefined) => {
    for (const card of users.querySelectorAll<HTMLElement>('[data-user]')) {
      const mode = live?.on ? live.users[card.dataset.user ?? ''] : undefined;
      const row = card.querySelector<HTMLElement>('.live-row');
      const value = card.querySelector<HTMLElement>('.live-mode');
      if (!row || !value) continue;
      row.hidden = !mode;
      value.hidden = !mode;
      value.textContent = mode ? liveModeText(mode) : '';
      value.dataset.mode = mode?.mode ?? '';
    }
  };

  const problems = (list: UserProblem[]) =>
    h('ul', { class: 'problems' }, list.map((p) => h('li', { 'data-code': p.code }, problemBox(p.message, p.fix))));

  const userCard = (u: UserStatusView, stoppedByOrganization: boolean, openChanges: boolean) => {
    const confirm =
      u.heldDeletions > 0
        ? h('button', { type: 'button', class: 'danger', 'data-confirm': u.email }, t('window.status.confirm', { count: u.heldDeletions }))
        : null;
    confirm?.addEventListener('click', () => run(confirm, async () => show(await api.invoke('deletions:confirm', { email: u.email }))));
    const outcome = u.outcome ?? 'never';
    return h(
      'article',
      { class: `user-card outcome-${outcome}`, 'data-user': u.email, 'aria-label': u.email },
      h(
        'header',
        {},
        h('h4', {}, u.email),
        h('span', { class: `badge outcome-badge outcome-${outcome}` }, t(`window.status.outcomes.${outcome}`)),
      ),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, t('window.status.lastSync')),
        h('dd', {}, when(u.lastSyncAt)),
        h('dt', {}, t('window.status.toExchange')),
        h('dd', {}, counts(u.toExchange)),
        h('dt', {}, t('window.status.toSevera')),
        h('dd', {}, counts(u.toSevera)),
        h('dt', {}, t('window.status.conflicts')),
        h('dd', {}, String(u.conflicts)),
        u.heldDeletions ? [h('dt', {}, t('window.status.heldDeletions')), h('dd', {}, String(u.heldDeletions))] : null,
        u.mailboxLocation ? [h('dt', {}, t('window.status.mailbox')), h('dd', { class: 'mailbox-location' }, t('window.status.mailboxSince', { label: u.mailboxLocation.label, since: when(u.mailboxLocation.since) }))] : null,
        h('dt', { class: 'live-row', hidden: true }, t('window.status.realTime')),
        h('dd', { class: 'live-mode', hidden: true }),
      ),
      u.errors.length ? problems(u.errors) : null,
      stoppedByOrganization ? h('p', { class: 'stopped-note' }, t('window.status.stoppedByOrganization')) : null,
      u.notes.length ? h('ul', { class: 'notes' }, u.notes.map((n) => h('li', {}, n))) : null,
      changeReport(u.recentChanges ?? [], openChanges),
      confirm ? h('div', { class: 'actions' }, confirm) : null,
    );
  };

  const showJournal = (entries: JournalEntryView[]) => {
    const recent = entries.slice(0, 20);
    clear(
      journal,
      recent.length === 0
        ? h('p', { class: 'muted empty' }, t('window.status.journalEmpty'))
        : h(
            'table',
            { class: 'journal-table' },
            h('thead', {}, h('tr', {}, [...(['item', 'person', 'deletedIn', 'deleted'] as const).map((c) => t(`window.status.journalColumns.${c}`)), ''].map((c) => h('th', { scope: 'col' }, c)))),
            h(
              'tbody',
              {},
              recent.map((e) => {
                const restore = h('button', { type: 'button', 'data-restore': e.id, disabled: e.restored }, e.restored ? t('window.status.restored') : t('window.status.restore'));
                restore.addEventListener('click', () =>
                  run(restore, async () => {
                    const [result] = await api.invoke('journal:restore', { ids: [e.id] });
                    if (!result?.ok) clear(message, problemBox(result?.message ?? t('window.status.notRestored'), undefined, 'warning'));
                    showJournal(await api.invoke('journal:list', {}));
                  }),
                );
                return h('tr', {}, h('td', {}, e.subject, h('span', { class: 'muted' }, ` · ${when(e.start)}`)), h('td', {}, e.email), h('td', {}, e.side === 'exchange' ? 'Exchange' : 'Severa'), h('td', {}, when(e.deletedAt)), h('td', {}, restore));
              }),
            ),
          ),
    );
  };

  const show = (status: AppStatusView) => {
    current = status;
    showRunner(status.runner);
    clear(orgErrors, status.orgErrors.length ? [h('h3', {}, t('window.status.problems')), problems(status.orgErrors)] : null);
    guide.show(status.setup);
    // Open stays open: a report pushed after a cycle must not fold up what someone is reading.
    const opened = new Set([...users.querySelectorAll<HTMLElement>('[data-user]')].filter((card) => card.querySelector('details[open]')).map((card) => card.dataset.user));
    clear(
      users,
      status.users.length
        ? status.users.map((u) => userCard(u, u.outcome === 'failed' && u.errors.length === 0 && status.orgErrors.length > 0, opened.has(u.email)))
        : h('p', { class: 'muted empty' }, t('window.status.nobody')),
    );
    logLine.textContent = status.logPath ? t('window.status.logFile', { path: status.logPath }) : '';
    showLive(status.runner.live);
  };

  api.on('status', (runner) => {
    if (current) current = { ...current, runner };
    showRunner(runner);
  });
  api.on('progress', (p) => showProgress(p));
  api.on('report', (status) => show(status));

  return {
    async refresh() {
      try {
        show(await api.invoke('status:get'));
        showJournal(await api.invoke('journal:list', {}));
      } catch (error) {
        const e = errorParts(error);
        clear(message, problemBox(e.message, e.fix));
      }
    },
  };
}
