import { AsyncLocalStorage } from 'node:async_hooks';
import { CalendarError } from '../calendar-connector.ts';

/**
 * Process-level containment for ews-javascript-api.
 *
 * The library parses some HTTP error bodies inside a promise callback of its own (ServiceRequestBase.
 * ProcessWebException): a body that is not a SOAP envelope makes it throw a TypeError there ("Cannot read
 * properties of null (reading 'Header')"). Nothing the caller awaits ever settles, and the rejection escapes as an
 * unhandled rejection, which ends a Node process. The transport pre-checks responses so the library should never
 * see such a body; this guard is the second wall for whatever slips through.
 *
 * Each connector call runs inside `runContained`, which remembers the call in an AsyncLocalStorage. Node runs
 * 'unhandledRejection' / 'uncaughtException' listeners in the async context of the failing callback, so the guard
 * knows which call the library was serving and rejects exactly that one with CalendarError('bad-response').
 * Errors that are not the library's are left alone: when the guard is the only listener it re-raises them so the
 * process fails as it would have without the guard.
 */

interface ContainedCall {
  readonly label: string;
  settled: boolean;
  fail(error: CalendarError): void;
}

const callContext = new AsyncLocalStorage<ContainedCall>();
const pending = new Set<ContainedCall>();
let installed = false;
let containedCount = 0;

const LIBRARY_FRAME = /[\\/](ews-javascript-api|@ewsjs[\\/](xhr|ntlm-client)|@xmldom[\\/]xmldom)[\\/]/;

/** True when the error was thrown from the EWS library's own code (or the XML parser it drives). */
export function isEwsLibraryError(error: unknown): boolean {
  if (!(error instanceof Error) || typeof error.stack !== 'string') return false;
  // Only the frames where it was thrown count, not the message (which may quote server text).
  const frames = error.stack.split('\n').filter((line) => /^\s+at /.test(line));
  return frames.slice(0, 8).some((line) => LIBRARY_FRAME.test(line));
}

function containedError(error: Error, label: string): CalendarError {
  return new CalendarError(
    'bad-response',
    `Exchange sent a response the EWS library could not read (${label}): ${error.message}`,
    { cause: error },
  );
}

function contain(error: unknown): boolean {
  if (!isEwsLibraryError(error)) return false;
  const current = callContext.getStore();
  // Without an async context (a runtime that does not carry it into these listeners) every pending call is
  // failed: a retry costs little, a call that never settles blocks that mailbox forever.
  const targets = current && !current.settled ? [current] : [...pending];
  if (targets.length === 0) return false;
  containedCount++;
  for (const call of targets) call.fail(containedError(error as Error, call.label));
  return true;
}

function onUnhandledRejection(reason: unknown): void {
  if (contain(reason)) return;
  if (process.listenerCount('unhandledRejection') === 1) {
    // We are the only listener, so without us Node would have raised this as an uncaught exception.
    process.nextTick(() => {
      throw reason instanceof Error ? reason : new Error(`Unhandled promise rejection: ${String(reason)}`);
    });
  }
}

function onUncaughtException(error: Error): void {
  if (contain(error)) return;
  if (process.listenerCount('uncaughtException') === 1) {
    // Restore Node's default (print and exit 1) for errors that are not ours.
    process.removeListener('uncaughtException', onUncaughtException);
    process.nextTick(() => {
      throw error;
    });
  }
}

export function installEwsCrashGuard(): void {
  if (installed) return;
  installed = true;
  process.on('unhandledRejection', onUnhandledRejection);
  process.on('uncaughtException', onUncaughtException);
}

/** How many library failures the guard has turned into rejections since the process started (for tests and logs). */
export function containedFailureCount(): number {
  return containedCount;
}

/** Runs one connector call so that a library crash while serving it rejects it instead of ending the process. */
export function runContained<T>(label: string, work: () => Promise<T>): Promise<T> {
  installEwsCrashGuard();
  return new Promise<T>((resolve, reject) => {
    const call: ContainedCall = {
      label,
      settled: false,
      fail(error) {
        if (call.settled) return;
        call.settled = true;
        pending.delete(call);
        reject(error);
      },
    };
    pending.add(call);
    callContext.run(call, () => {
      let started: Promise<T>;
      try {
        started = work();
      } catch (error) {
        started = Promise.reject(error);
      }
      started.then(
        (value) => {
          if (call.settled) return;
          call.settled = true;
          pending.delete(call);
          resolve(value);
        },
        (error: unknown) => {
          if (call.settled) return;
          call.settled = true;
          pending.delete(call);
          reject(error);
        },
      );
    });
  });
}
