/**
 * What the tray app says when it cannot start as it is: one dialog per problem, with what is wrong, what it means, the
 * fix, and the choices that fit (start from the defaults, try again, go on without, quit). Pure: main.ts shows the
 * model with Electron's dialog; the tests render the same model as a page in Chromium.
 */

import { t } from '../common/i18n/i18n.ts';

export type StartupChoice = 'start-from-defaults' | 'fresh-sync-state' | 'retry' | 'continue' | 'quit';

export type StartupProblem =
  | { kind: 'settings-corrupt'; file: string; reason: string; copy: string | null }
  | { kind: 'settings-unusable'; file: string; detail: string }
  | { kind: 'data-dir-in-use'; dataDir: string; holder: string }
  | { kind: 'store-locked'; file: string }
  | { kind: 'store-corrupt'; file: string; detail: string }
  | { kind: 'store-newer'; file: string; detail: string }
  | { kind: 'store-unusable'; file: string; detail: string }
  | { kind: 'keychain-unavailable'; detail: string; fix: string }
  | { kind: 'already-running' }
  | { kind: 'unexpected'; detail: string; logFile: string };

export interface StartupDialogModel {
  type: 'error' | 'warning';
  title: string;
  /** The headline: what is wrong. */
  message: string;
  /** What it means and what to do, as paragraphs. */
  detail: string[];
  /** Buttons in order; the first is the default. */
  choices: { choice: StartupChoice; label: string }[];
}

const LABEL_KEYS = {
  'start-from-defaults': 'startFromDefaults',
  'fresh-sync-state': 'freshSyncState',
  retry: 'retry',
  continue: 'continue',
  quit: 'quit',
} as const satisfies Record<StartupChoice, string>;

const choices = (...list: StartupChoice[]) => list.map((choice) => ({ choice, label: t(`app.startup.labels.${LABEL_KEYS[choice]}`) }));

export function startupDialog(problem: StartupProblem): StartupDialogModel {
  const base = { title: 'Severa Calendar Sync' };
  switch (problem.kind) {
    case 'settings-corrupt':
      return {
        ...base,
        type: 'error',
        message: t('app.startup.settingsCorrupt.message'),
        detail: [t('app.startup.settingsCorrupt.file', { file: problem.file, reason: problem.reason }), problem.copy ? t('app.startup.settingsCorrupt.copy', { copy: problem.copy }) : t('app.startup.settingsCorrupt.noCopy'), t('app.startup.settingsCorrupt.fix')],
        choices: choices('start-from-defaults', 'quit'),
      };
    case 'settings-unusable':
      return { ...base, type: 'error', message: t('app.startup.settingsUnusable.message'), detail: [t('app.startup.settingsUnusable.detail', { file: problem.file, detail: problem.detail }), t('app.startup.settingsUnusable.fix')], choices: choices('retry', 'quit') };
    case 'data-dir-in-use':
      return { ...base, type: 'error', message: t('app.startup.dataDirInUse.message'), detail: [problem.holder, t('app.startup.dataDirInUse.fix')], choices: choices('retry', 'quit') };
    case 'store-locked':
      return { ...base, type: 'error', message: t('app.startup.storeLocked.message'), detail: [t('app.startup.storeLocked.detail', { file: problem.file }), t('app.startup.storeLocked.fix')], choices: choices('retry', 'quit') };
    case 'store-corrupt':
      return {
        ...base,
        type: 'error',
        message: t('app.startup.storeCorrupt.message'),
        detail: [t('app.startup.storeCorrupt.detail', { file: problem.file, detail: problem.detail }), t('app.startup.storeCorrupt.meaning'), t('app.startup.storeCorrupt.fix')],
        choices: choices('fresh-sync-state', 'quit'),
      };
    case 'store-newer':
      return { ...base, type: 'error', message: t('app.startup.storeNewer.message'), detail: [problem.detail, t('app.startup.storeNewer.fix')], choices: choices('quit') };
    case 'store-unusable':
      return { ...base, type: 'error', message: t('app.startup.storeUnusable.message'), detail: [problem.detail, t('app.startup.storeUnusable.fix')], choices: choices('retry', 'quit') };
    case 'keychain-unavailable':
      return { ...base, type: 'warning', message: t('app.startup.keychain.message'), detail: [problem.detail, t('app.startup.keychain.meaning'), t('app.startup.fix', { fix: problem.fix })], choices: choices('retry', 'continue', 'quit') };
    case 'already-running':
      return { ...base, type: 'warning', message: t('app.startup.alreadyRunning.message'), detail: [t('app.startup.alreadyRunning.detail'), t('app.startup.alreadyRunning.fix')], choices: choices('quit') };
    case 'unexpected':
      return { ...base, type: 'error', message: t('app.startup.unexpected.message'), detail: [t('app.startup.unexpected.detail', { detail: problem.detail }), t('app.startup.unexpected.fix', { log: problem.logFile })], choices: choices('quit') };
  }
}

/** The model as Electron's dialog.showMessageBox options (buttons by label; the answer's index maps back to a choice). */
export function messageBoxOptions(model: StartupDialogModel): { type: 'error' | 'warning'; title: string; message: string; detail: string; buttons: string[]; defaultId: number; cancelId: number; noLink: true } {
  return {
    type: model.type,
    title: model.title,
    message: model.message,
    detail: model.detail.join('\n\n'),
    buttons: model.choices.map((c) => c.label),
    defaultId: 0,
    cancelId: Math.max(0, model.choices.findIndex((c) => c.choice === 'quit')),
    noLink: true,
  };
}
