/**
 * What the tray app says when it cannot start as it is: one dialog per problem, with what is wrong, what it means, the
 * fix, and the choices that fit (start from the defaults, try again, go on without, quit). Pure: main.ts shows the
 * model with Electron's dialog; the tests render the same model as a page in Chromium.
 */

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

// Every sentence of the start-up dialogs, in one place.
const TEXT = {
  title: 'Severa Calendar Sync',
  labels: {
    'start-from-defaults': 'Start from the defaults',
    'fresh-sync-state': 'Start with a fresh sync state',
    retry: 'Try again',
    continue: 'Continue without the keychain',
    quit: 'Quit',
  } satisfies Record<StartupChoice, string>,
  settingsCorrupt: {
    message: 'The settings file is damaged, so the app cannot read its settings.',
    file: (file: string, reason: string) => `The file ${file}: ${reason}.`,
    copy: (copy: string) => `A copy of it is kept as ${copy}, so nothing in it is lost.`,
    noCopy: 'No copy of it could be made; copy it yourself before starting from the defaults if you want to keep it.',
    fix: 'Fix: choose "Start from the defaults" and enter the admin settings again (the passwords stay in the system keychain), or quit, repair the file by hand and start the app again.',
  },
  settingsUnusable: {
    message: 'The settings file cannot be opened.',
    detail: (file: string, detail: string) => `The file ${file}: ${detail}`,
    fix: 'Fix: make sure your user may read and write this file and its folder, then try again.',
  },
  dataDirInUse: {
    message: 'Another program is using the sync data folder.',
    detail: (holder: string) => holder,
    fix: 'Fix: stop the other program (for example a command line "severa-calendar-sync sync --watch" started with this data folder), then try again.',
  },
  storeLocked: {
    message: 'The sync state database is locked by another program.',
    detail: (file: string) => `The database ${file} stays locked.`,
    fix: 'Fix: close the other program that has it open (a command line sync, a database browser, a backup tool), then try again.',
  },
  storeCorrupt: {
    message: 'The sync state database is damaged.',
    detail: (file: string, detail: string) => `The database ${file}: ${detail}`,
    meaning: 'It remembers which entries are paired and what was deleted. With a fresh one the next sync starts over and pairs the entries again; the damaged file is kept beside it.',
    fix: 'Fix: choose "Start with a fresh sync state", or quit and restore the file from a backup.',
  },
  storeNewer: {
    message: 'The sync state was written by a newer version of Severa Calendar Sync.',
    fix: 'Fix: install the newer version again (this one cannot read what it wrote).',
  },
  storeUnusable: {
    message: 'The sync state database cannot be opened.',
    fix: 'Fix: make sure your user may read and write the folder it is in, and that the disk is not full, then try again.',
  },
  keychain: {
    message: 'The system keychain cannot be used.',
    meaning: 'The passwords and secrets of the sync are kept there. Without it the app starts, but no sync can log in until the keychain works.',
  },
  alreadyRunning: {
    message: 'Severa Calendar Sync is already running, but it did not answer.',
    detail: 'It lives in the system tray (the menu bar on macOS).',
    fix: 'Fix: click its tray icon, or quit it (from its tray menu, or the Task Manager, Activity Monitor or System Monitor) and start the app again.',
  },
  unexpected: {
    message: 'Severa Calendar Sync could not start.',
    detail: (detail: string) => `What went wrong: ${detail}`,
    fix: (log: string) => `Fix: start the app again. If this repeats, send the log file to whoever supports the sync: ${log}`,
  },
};

const choices = (...list: StartupChoice[]) => list.map((choice) => ({ choice, label: TEXT.labels[choice] }));

export function startupDialog(problem: StartupProblem): StartupDialogModel {
  const base = { title: TEXT.title };
  switch (problem.kind) {
    case 'settings-corrupt':
      return {
        ...base,
        type: 'error',
        message: TEXT.settingsCorrupt.message,
        detail: [TEXT.settingsCorrupt.file(problem.file, problem.reason), problem.copy ? TEXT.settingsCorrupt.copy(problem.copy) : TEXT.settingsCorrupt.noCopy, TEXT.settingsCorrupt.fix],
        choices: choices('start-from-defaults', 'quit'),
      };
    case 'settings-unusable':
      return { ...base, type: 'error', message: TEXT.settingsUnusable.message, detail: [TEXT.settingsUnusable.detail(problem.file, problem.detail), TEXT.settingsUnusable.fix], choices: choices('retry', 'quit') };
    case 'data-dir-in-use':
      return { ...base, type: 'error', message: TEXT.dataDirInUse.message, detail: [TEXT.dataDirInUse.detail(problem.holder), TEXT.dataDirInUse.fix], choices: choices('retry', 'quit') };
    case 'store-locked':
      return { ...base, type: 'error', message: TEXT.storeLocked.message, detail: [TEXT.storeLocked.detail(problem.file), TEXT.storeLocked.fix], choices: choices('retry', 'quit') };
    case 'store-corrupt':
      return {
        ...base,
        type: 'error',
        message: TEXT.storeCorrupt.message,
        detail: [TEXT.storeCorrupt.detail(problem.file, problem.detail), TEXT.storeCorrupt.meaning, TEXT.storeCorrupt.fix],
        choices: choices('fresh-sync-state', 'quit'),
      };
    case 'store-newer':
      return { ...base, type: 'error', message: TEXT.storeNewer.message, detail: [problem.detail, TEXT.storeNewer.fix], choices: choices('quit') };
    case 'store-unusable':
      return { ...base, type: 'error', message: TEXT.storeUnusable.message, detail: [problem.detail, TEXT.storeUnusable.fix], choices: choices('retry', 'quit') };
    case 'keychain-unavailable':
      return { ...base, type: 'warning', message: TEXT.keychain.message, detail: [problem.detail, TEXT.keychain.meaning, `Fix: ${problem.fix}`], choices: choices('retry', 'continue', 'quit') };
    case 'already-running':
      return { ...base, type: 'warning', message: TEXT.alreadyRunning.message, detail: [TEXT.alreadyRunning.detail, TEXT.alreadyRunning.fix], choices: choices('quit') };
    case 'unexpected':
      return { ...base, type: 'error', message: TEXT.unexpected.message, detail: [TEXT.unexpected.detail(problem.detail), TEXT.unexpected.fix(problem.logFile)], choices: choices('quit') };
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
