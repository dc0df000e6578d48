import type { AppStatusView, JournalEntryView, LiveModeView, LiveStatusView, ProgressView, RunnerStatusView, UserStatusView } from '../src-main/common/ipc-contract.ts';
import type { UserProblem } from '../src-main/common/sync-report.ts';
import { changeReport } from './change-report.ts';
import { clear, errorParts, h, problemBox } from './dom.ts';
import { counts, plural, timeLeft, when } from './format.ts';
import type { RendererApi } from './renderer-types.ts';
import { createSetupGuide } from './setup-guide.ts';
import { createAuditSection } from './status-audit.ts';

const STATE_LABELS: Record<RunnerStatusView['state'], string> = { idle: 'Up to date', syncing: 'Syncing', error: 'Needs attention', paused: 'Paused' };

// The status section's sentences about setup, progress and the per-person report, in one place.
const TEXT = {
  settingUp: 'Setting up',
  notSynced: 'Not synced yet',
  waiting: {
    settings: 'Automatic sync starts once the admin settings are saved (Admin).',
    enrollment: 'Automatic sync starts once someone turns on their sync (My sync).',
  },
  startsAt: (at: string) => `Automatic sync starts at ${at} (a delayed start after login).`,
  syncNowWaiting: 'Sync now waits until the setup is done.',
  progressPeople: (done: number, total: number) => `${done} of ${total} people`,
  progressEntries: (n: number) => `${n.toLocaleString('en-GB')} ${n === 1 ? 'entry' : 'entries'} written`,
  stoppedByOrganization: 'Not synced because of the problem above.',
  mailbox: 'Mailbox',
  mailboxSince: (label: string, since: string) => `${label}, since ${when(since)}`,
  realTime: 'Real time',
  liveOff: 'Off',
  liveOffBecause: (reason: string) => `Off: ${reason}`,
  liveOn: (severa: string) => `On (Severa: ${severa})`,
  mode: {
    live: (since: string) => `Live since ${since}`,
    polling: (since: string) => `Read every few seconds since ${since}`,
    off: (reason: string | undefined) => (reason ? `Off: ${reason}` : 'Off'),
  },
};

/** One watch as words: "Live since 20 Nov, 10:02", "Read every few seconds since …", "Off: why". */
export function liveModeText(m: LiveModeView): string {
  if (m.mode === 'off') return TEXT.mode.off(m.reason);
  const text = m.mode === 'live' ? TEXT.mode.live(when(m.since)) : TEXT.mode.polling(when(m.since));
  return m.reason ? `${text} (${m.reason})` : text;
}

/** Real time for the whole organization: on (with Severa's poll) or off and why. */
function liveSummary(live: LiveStatusView | undefined): string {
  if (!live) return TEXT.liveOff;
  if (!live.on) return live.reason ? TEXT.liveOffBecause(live.reason) : TEXT.liveOff;
  return TEXT.liveOn(liveModeText(live.severa));
}

/** The state as words; a sync that never ran is "not synced yet", and waiting for setup is "setting up" (neither an error). */
export function stateLabel(runner: RunnerStatusView): string {
  if (runner.state === 'paused' || (runner.state !== 'syncing' && runner.pausedUntil !== undefined)) {
    return runner.pausedUntil ? `Paused until ${when(runner.pausedUntil)}` : 'Paused until resumed';
  }
  if (runner.state === 'idle' && runner.waitingFor) return TEXT.settingUp;
  if (runner.state === 'idle' && !runner.lastRunAt) return TEXT.notSynced;
  return STATE_LABELS[runner.state];
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
  const syncNow = h('button', { type: 'button', class: 'primary', id: 'sync-now' }, 'Sync now');
  const pauseHour = h('button', { type: 'button', id: 'pause-hour' }, 'Pause 1 hour');
  const pauseOpen = h('button', { type: 'button', id: 'pause-until-resumed' }, 'Pause until resumed');
  const resume = h('button', { type: 'button', id: 'resume' }, 'Resume auto-sync');
  const openLog = h('button', { type: 'button', id: 'open-log' }, 'Open log');
  const exportLog = h('button', { type: 'button', id: 'export-log' }, 'Export log…');
  const logLine = h('p', { class: 'muted log-path' });
  const journal = h('div', { class: 'journal', 'aria-live': 'polite' });
  const guide = createSetupGuide({ test: () => navigate('admin'), enable: () => navigate('personal') });

  clear(
    panel,
    h('h2', { id: 'status-heading' }, 'Status'),
    guide.element,
    h('div', { class: 'card status-card' }, summary, progress, h('div', { class: 'actions' }, syncNow, pauseHour, pauseOpen, resume), message),
    orgErrors,
    h('h3', {}, 'People'),
    users,
    createAuditSection(api),
    h('h3', {}, 'Deleted by the sync'),
    h('p', { class: 'field-hint' }, 'Every item the sync deleted on either side is kept here first, so it can be brought back.'),
    journal,
    h('h3', {}, 'Log'),
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
      if (!opened) clear(message, problemBox('The log could not be opened.', 'Use Export log to save a copy instead.', 'warning'));
    }),
  );
  exportLog.addEventListener('click', () =>
    run(exportLog, async () => {
      const { path } = await api.invoke('log:export');
      if (path) clear(message, h('p', { class: 'ok-text' }, `✓ Log saved to ${path}`));
    }),
  );

  const showProgress = (p: ProgressView | undefined) => {
    if (!p) return clear(progress);
    const pct = p.usersTotal > 0 ? Math.round((p.usersDone / p.usersTotal) * 100) : 0;
    // A long first sync: the entries written so far and, once a person is done, the time left.
    const detail = [`${p.usersDone}/${p.usersTotal} people (${pct}%)`, p.entriesDone ? TEXT.progressEntries(p.entriesDone) : null, p.secondsLeft !== undefined ? timeLeft(p.secondsLeft) : null].filter(Boolean).join(' · ');
    clear(
      progress,
      h('label', { for: 'sync-progress' }, p.currentUser ? `Syncing ${p.currentUser}` : (p.phase ?? 'Syncing')),
      h('progress', { id: 'sync-progress', max: String(Math.max(1, p.usersTotal)), value: String(p.usersDone), 'aria-valuetext': `${TEXT.progressPeople(p.usersDone, p.usersTotal)} done${p.secondsLeft !== undefined ? `, ${timeLeft(p.secondsLeft)}` : ''}` }),
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
      waiting ? h('p', { class: 'muted state-hint' }, TEXT.waiting[runner.waitingFor!]) : delayed ? h('p', { class: 'muted state-hint' }, TEXT.startsAt(when(delayed))) : null,
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Last sync'),
        h('dd', {}, when(runner.lastRunAt ?? current?.lastCycle?.finishedAt)),
        h('dt', {}, 'Next sync'),
        h('dd', {}, paused ? (runner.pausedUntil ? `after ${when(runner.pausedUntil)}` : 'when resumed') : when(runner.nextRunAt)),
        runner.consecutiveFailures > 0 ? [h('dt', {}, 'Failed in a row'), h('dd', {}, String(runner.consecutiveFailures))] : null,
        h('dt', {}, TEXT.realTime),
        h('dd', { class: 'live-summary' }, liveSummary(runner.live)),
      ),
    );
    showLive(runner.live);
    syncNow.disabled = syncing || waiting;
    syncNow.textContent = syncing ? 'Syncing…' : 'Sync now';
    if (waiting) syncNow.setAttribute('title', TEXT.syncNowWaiting);
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
        ? h('button', { type: 'button', class: 'danger', 'data-confirm': u.email }, `Confirm ${plural(u.heldDeletions, 'held deletion')}`)
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
        h('span', { class: `badge outcome-badge outcome-${outcome}` }, { ok: 'Synced', partial: 'Synced with problems', failed: 'Failed', skipped: 'Skipped', never: 'Not synced yet' }[outcome]),
      ),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Last sync'),
        h('dd', {}, when(u.lastSyncAt)),
        h('dt', {}, 'To Exchange'),
        h('dd', {}, counts(u.toExchange)),
        h('dt', {}, 'To Severa'),
        h('dd', {}, counts(u.toSevera)),
        h('dt', {}, 'Conflicts'),
        h('dd', {}, String(u.conflicts)),
        u.heldDeletions ? [h('dt', {}, 'Held deletions'), h('dd', {}, String(u.heldDeletions))] : null,
        u.mailboxLocation ? [h('dt', {}, TEXT.mailbox), h('dd', { class: 'mailbox-location' }, TEXT.mailboxSince(u.mailboxLocation.label, u.mailboxLocation.since))] : null,
        h('dt', { class: 'live-row', hidden: true }, TEXT.realTime),
        h('dd', { class: 'live-mode', hidden: true }),
      ),
      u.errors.length ? problems(u.errors) : null,
      stoppedByOrganization ? h('p', { class: 'stopped-note' }, TEXT.stoppedByOrganization) : null,
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
        ? h('p', { class: 'muted empty' }, 'Nothing deleted so far.')
        : h(
            'table',
            { class: 'journal-table' },
            h('thead', {}, h('tr', {}, ['Item', 'Person', 'Deleted in', 'Deleted', ''].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              recent.map((e) => {
                const restore = h('button', { type: 'button', 'data-restore': e.id, disabled: e.restored }, e.restored ? 'Restored' : 'Restore');
                restore.addEventListener('click', () =>
                  run(restore, async () => {
                    const [result] = await api.invoke('journal:restore', { ids: [e.id] });
                    if (!result?.ok) clear(message, problemBox(result?.message ?? 'The item could not be restored.', undefined, 'warning'));
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
    clear(orgErrors, status.orgErrors.length ? [h('h3', {}, 'Problems'), problems(status.orgErrors)] : null);
    guide.show(status.setup);
    // Open stays open: a report pushed after a cycle must not fold up what someone is reading.
    const opened = new Set([...users.querySelectorAll<HTMLElement>('[data-user]')].filter((card) => card.querySelector('details[open]')).map((card) => card.dataset.user));
    clear(
      users,
      status.users.length
        ? status.users.map((u) => userCard(u, u.outcome === 'failed' && u.errors.length === 0 && status.orgErrors.length > 0, opened.has(u.email)))
        : h('p', { class: 'muted empty' }, 'Nobody has turned on sync yet. Each person does that under My sync.'),
    );
    logLine.textContent = status.logPath ? `Log file: ${status.logPath}` : '';
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
