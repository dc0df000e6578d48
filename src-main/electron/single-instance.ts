import type { App } from 'electron';

type AppLike = Pick<App, 'requestSingleInstanceLock' | 'quit'> & {
  on(event: 'second-instance', listener: () => void): unknown;
};

/**
 * One tray app per user session: a second launch hands over to the first (which shows its window) and quits.
 * Returns whether this process is the one that runs.
 */
export function claimSingleInstance(app: AppLike | App, onSecondLaunch: () => void): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  (app as AppLike).on('second-instance', () => onSecondLaunch());
  return true;
}
