import { randomUUID } from 'node:crypto';
import type { App } from 'electron';

/**
 * One tray app per user session: a second launch hands over to the first (which shows its window) and quits. The
 * hand-over is acknowledged: the first instance writes the second's token into an answer file; a second launch that
 * sees no answer within a few seconds (the first one hangs, or is stuck behind a dialog) says so, with the fix,
 * instead of vanishing.
 */

type AppLike = Pick<App, 'quit'> & {
  requestSingleInstanceLock(additionalData?: Record<string, unknown>): boolean;
  on(event: 'second-instance', listener: (event: unknown, argv: string[], workingDirectory: string, additionalData: unknown) => void): unknown;
};

export interface HandOverFiles {
  /** Where the first instance answers (the userData folder's second-instance-answer). */
  answerFile: string;
  write(file: string, text: string): void;
  read(file: string): string | null;
}

export const HAND_OVER_WAIT_MS = 4000;

/**
 * Returns whether this process is the one that runs. A second launch quits once its hand-over is answered, or calls
 * `onNoAnswer` (which shows the dialog) when none comes in time.
 */
export function claimSingleInstance(
  app: AppLike | App,
  onSecondLaunch: () => void,
  handOver?: HandOverFiles & { onNoAnswer(): Promise<void> | void; waitMs?: number; sleep?: (ms: number) => Promise<void> },
): boolean {
  const token = randomUUID();
  const a = app as AppLike;
  if (!a.requestSingleInstanceLock({ handOver: token })) {
    if (!handOver) {
      a.quit();
      return false;
    }
    void waitForAnswer(handOver, token).then(async (answered) => {
      if (!answered) await handOver.onNoAnswer();
      a.quit();
    });
    return false;
  }
  a.on('second-instance', (_event, _argv, _dir, additionalData) => {
    onSecondLaunch();
    const other = (additionalData as { handOver?: unknown } | null)?.handOver;
    if (handOver && typeof other === 'string') {
      try {
        handOver.write(handOver.answerFile, other);
      } catch {
        // The second launch then says the app did not answer, which is the truth as far as it can tell.
      }
    }
  });
  return true;
}

async function waitForAnswer(files: HandOverFiles & { waitMs?: number; sleep?: (ms: number) => Promise<void> }, token: string): Promise<boolean> {
  const sleep = files.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + (files.waitMs ?? HAND_OVER_WAIT_MS);
  while (Date.now() < deadline) {
    if (files.read(files.answerFile) === token) return true;
    await sleep(100);
  }
  return files.read(files.answerFile) === token;
}
