import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { APP_HOST, APP_SCHEME, REQUEST_CHANNELS, UserFacingError, ipcChannelName, parseEvent, requestSchemas } from '../common/ipc-contract.ts';
import type { EventChannel, EventChannels, FieldIssue, IpcEnvelope, RequestChannel, RequestPayload, RequestResults } from '../common/ipc-contract.ts';

/** What the main process implements: one async function per request channel. */
export type IpcHandlers = { [C in RequestChannel]: (payload: RequestPayload<C>) => Promise<RequestResults[C]> };

export interface RouterLog {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RouterOptions {
  /** The sending frame's URL (null when the frame is gone). */
  isTrustedSender(senderUrl: string | null): boolean;
  /** Every secret value currently stored: a reply containing one is withheld (defence in depth behind write-only secrets). */
  knownSecrets(): Promise<string[]>;
  log?: RouterLog;
}

/** Only our own page, loaded from the app's custom scheme, may talk to the main process. */
export function isTrustedSenderUrl(senderUrl: string | null, scheme = APP_SCHEME, host = APP_HOST): boolean {
  if (!senderUrl) return false;
  let url: URL;
  try {
    url = new URL(senderUrl);
  } catch {
    return false;
  }
  return url.protocol === `${scheme}:` && url.host === host && !url.username && !url.password;
}

const issuePath = (path: readonly PropertyKey[]) => path.map(String).join('.');

/** Secrets shorter than this would match too much ordinary text to be checked meaningfully. */
const MIN_CHECKED_SECRET_LENGTH = 4;

/**
 * Handles one request from any transport (Electron IPC or the test bridge) the same way: sender check, channel check,
 * payload validation, the handler, then a check that no stored secret is in the reply. Never throws; never logs a payload.
 */
export async function dispatchRequest(
  handlers: IpcHandlers,
  channel: string,
  senderUrl: string | null,
  payload: unknown,
  options: RouterOptions,
): Promise<IpcEnvelope<unknown>> {
  const log = options.log;
  if (!options.isTrustedSender(senderUrl)) {
    log?.warn({ channel, senderUrl }, 'IPC request from an untrusted sender dropped');
    return { ok: false, error: { code: 'untrusted-sender', message: 'Request refused: it does not come from the app window.' } };
  }
  if (!Object.hasOwn(requestSchemas, channel)) {
    log?.warn({ channel }, 'IPC request on an unknown channel dropped');
    return { ok: false, error: { code: 'unknown-channel', message: `Unknown request "${channel}".` } };
  }
  const known = channel as RequestChannel;
  const parsed = requestSchemas[known].safeParse(payload);
  if (!parsed.success) {
    const issues: FieldIssue[] = parsed.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message }));
    log?.warn({ channel, issues: issues.map((i) => i.path) }, 'IPC request with an invalid payload rejected');
    return { ok: false, error: { code: 'bad-payload', message: issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join(' '), issues } };
  }
  let value: unknown;
  try {
    const handler = handlers[known] as (p: unknown) => Promise<unknown>;
    value = await handler(parsed.data);
  } catch (err) {
    if (err instanceof UserFacingError) return { ok: false, error: { code: 'failed', message: err.message, fix: err.fix } };
    log?.error({ channel, err: err instanceof Error ? err.message : String(err) }, 'IPC handler failed');
    return { ok: false, error: { code: 'internal', message: err instanceof Error ? err.message : 'Something went wrong in the app.' } };
  }
  const serialized = JSON.stringify(value ?? null);
  if (await containsStoredSecret(serialized, options.knownSecrets)) {
    log?.error({ channel }, 'IPC reply withheld: it contained a stored secret');
    return { ok: false, error: { code: 'internal', message: 'The reply was withheld because it contained a secret.' } };
  }
  // A plain JSON copy: no prototype, function or Error object crosses to the window.
  return { ok: true, value: JSON.parse(serialized) };
}

async function containsStoredSecret(serialized: string, knownSecrets: () => Promise<string[]>): Promise<boolean> {
  const secrets = (await knownSecrets().catch(() => [] as string[])).filter((s) => s.length >= MIN_CHECKED_SECRET_LENGTH);
  return secrets.some((s) => serialized.includes(s) || serialized.includes(JSON.stringify(s).slice(1, -1)));
}

/** Sends one push to the window (webContents.send in the app, the test bridge in tests). */
export type EventSender = (event: EventChannel, data: unknown) => void | Promise<void>;
export type EventPush = <E extends EventChannel>(event: E, data: EventChannels[E]) => Promise<void>;

/**
 * Pushes go through the same guards as replies: the payload must match its schema and may not contain a stored
 * secret; otherwise it is dropped and logged (without the payload). Pushes leave in the order they were made, so a
 * live list in the window fills in order. The returned promise settles when the push was sent or dropped; never rejects.
 */
export function createEventPusher(send: EventSender, options: Pick<RouterOptions, 'knownSecrets' | 'log'>): EventPush {
  let tail: Promise<void> = Promise.resolve();
  return (event, data) => {
    const next = tail.then(async () => {
      try {
        const parsed = parseEvent(event, data);
        if (!parsed.ok) {
          options.log?.error({ event, issues: parsed.issues.map((i) => i.path) }, 'push with an invalid payload dropped');
          return;
        }
        const serialized = JSON.stringify(parsed.data);
        if (await containsStoredSecret(serialized, options.knownSecrets)) {
          options.log?.error({ event }, 'push withheld: it contained a stored secret');
          return;
        }
        await send(event, JSON.parse(serialized));
      } catch (error) {
        // E.g. the window was closed meanwhile: nothing to update, and the pushes after this one still go.
        options.log?.warn({ event, err: error instanceof Error ? error.message : String(error) }, 'push could not be sent');
      }
    });
    tail = next;
    return next;
  };
}

/** Registers every channel on Electron's ipcMain; returns a function that removes them. */
export function registerIpcHandlers(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  handlers: IpcHandlers,
  options: RouterOptions,
): () => void {
  for (const channel of REQUEST_CHANNELS) {
    ipcMain.handle(ipcChannelName(channel), (event: IpcMainInvokeEvent, payload: unknown) =>
      dispatchRequest(handlers, channel, senderUrlOf(event), payload, options),
    );
  }
  return () => {
    for (const channel of REQUEST_CHANNELS) ipcMain.removeHandler(ipcChannelName(channel));
  };
}

function senderUrlOf(event: IpcMainInvokeEvent): string | null {
  try {
    // Only the top frame of our window counts: a subframe (there should be none) is not trusted.
    const frame = event.senderFrame;
    if (!frame || frame.parent) return null;
    return frame.url;
  } catch {
    return null;
  }
}
