import path from 'node:path';
import Conf from 'conf';
import { createEventPusher } from '../../src-main/electron/ipc-router.ts';
import { createPeerLookups } from '../../src-main/electron/peer-lookups.ts';
import { recordCycle } from '../../src-main/electron/user-status-book.ts';
import type { UserStatusBook } from '../../src-main/electron/user-status-book.ts';
import { createWindowRequestHandlers, runnerStatusView } from '../../src-main/electron/window-requests.ts';
import type { WindowRequestDeps } from '../../src-main/electron/window-requests.ts';
import { waitingForSetup } from '../../src-main/electron/window-views.ts';
import { SyncRunner } from '../../src-main/runner/sync-runner.ts';
import { SettingsStore } from '../../src-main/settings/settings-store.ts';
import type { MemorySecrets } from './memory-secrets.ts';
import { buildRenderer, startRendererBridge } from './renderer-bridge.ts';
import type { RendererBridge } from './renderer-bridge.ts';

/**
 * The settings window wired as main.ts wires it, for the renderer tests: the built renderer in headless Chromium (the
 * bridge), the real request handlers, a SettingsStore on electron-store's own Conf in `dir`, and the real SyncRunner
 * with the product's connector factory (the real Severa client and Exchange connectors). Automatic sync is scheduled
 * as in the app, but its ticker never fires: cycles run when the test says. Each report is recorded in the people's
 * status book the window shows.
 */
export interface WindowOverRunner {
  bridge: RendererBridge;
  runner: SyncRunner;
  settings: SettingsStore;
  /** Every user's last sync, as the window reads it. */
  book(): UserStatusBook;
  close(): Promise<void>;
}

export interface WindowOverRunnerOptions {
  /** Built renderer, settings and sync data go below it. */
  dir: string;
  secrets: MemorySecrets;
  /** Handler dependencies beyond the defaults (no log file, no file dialog, today's date). */
  deps?: Partial<Omit<WindowRequestDeps, 'settings' | 'secrets' | 'runner' | 'userStatus' | 'push' | 'peers'>>;
  /** Options of the product's peer lookups (Test connection, sign-ins) besides the secrets. */
  peers?: Omit<Parameters<typeof createPeerLookups>[0], 'secrets'>;
  /** As main.ts: the runner's status and each report also reach the window as pushes (real-time states, live reports). */
  pushRunnerEvents?: boolean;
}

export async function startWindowOverRunner(o: WindowOverRunnerOptions): Promise<WindowOverRunner> {
  const rendererDir = path.join(o.dir, 'renderer');
  await buildRenderer(rendererDir);
  const settings = new SettingsStore(new Conf<Record<string, unknown>>({ cwd: o.dir, configName: 'settings', projectName: 'severa-calendar-sync-test' }));
  const runner = new SyncRunner({ loadSettings: () => settings.requireOrg(), secrets: o.secrets, dataDir: path.join(o.dir, 'data'), scheduler: () => ({ stop() {} }), waitingFor: () => waitingForSetup(settings) });
  const knownSecrets = async () => [...o.secrets.values.values()];
  let bridge: RendererBridge | undefined;
  // The main process's own pusher (schema and secret checks, order kept), delivering into the page.
  const push = createEventPusher((event, data) => bridge!.push(event, data as never), { knownSecrets });
  let book: UserStatusBook = {};
  const handlers = createWindowRequestHandlers({
    logPath: null,
    exportLog: async () => null,
    openLog: async () => false,
    ...o.deps,
    settings,
    secrets: o.secrets,
    runner,
    peers: createPeerLookups({ secrets: o.secrets, ...o.peers }),
    userStatus: () => book,
    push,
  });
  runner.onReport((report) => {
    book = recordCycle(book, report);
    if (o.pushRunnerEvents) void handlers['status:get'](undefined).then((view) => push('report', view));
  });
  if (o.pushRunnerEvents) runner.onStatus((status) => void push('status', runnerStatusView(status)));
  bridge = await startRendererBridge({ rendererDir, handlers, knownSecrets });
  const started = bridge;
  return {
    bridge: started,
    runner,
    settings,
    book: () => book,
    close: async () => {
      runner.stopSchedule();
      await started.close();
    },
  };
}
