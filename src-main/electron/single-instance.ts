import type { App } from 'electron';

type AppLike = Pick<App, 'requestSingleInstanceLock' | 'quit'> & {
  on(event: 'second-instance', listener: (...args: never[]) => void): unknown;
};

/**
 * One tray app per user session: a second launch hands over to the first (which shows its window) and quits.
 * Returns whether this process is the one that runs.
 */
export function claimSingleInstance(app: AppLike, onSecondLaunch: () => void): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', () => onSecondLaunch());
  return true;
}
