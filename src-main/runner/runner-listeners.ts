import { describeError } from './cycle-report-builders.ts';
import type { RunnerLog } from './runner-types.ts';

/** The runner's event listeners (status, report, progress, audit, a check's results) and how each one is called. */

export type Listener<T> = (value: T) => void;

export function safeCall<T>(cb: Listener<T>, value: T, log: RunnerLog): void {
  try {
    cb(value);
  } catch (error) {
    // A broken listener (e.g. a closed window) must not stop the cycle or the other listeners.
    log.warn({ err: describeError(error) }, 'status listener failed');
  }
}
