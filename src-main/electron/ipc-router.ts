import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { APP_HOST, APP_SCHEME, REQUEST_CHANNELS, UserFacingError, ipcChannelName, requestSchemas } from '../common/ipc-contract.ts';
import type { FieldIssue, IpcEnvelope, RequestChannel, RequestPayload, RequestResults } from '../common/ipc-contract.ts';

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
  const secrets = (await options.knownSecrets().catch(() => [] as string[])).filter((s) => s.length >= MIN_CHECKED_SECRET_LENGTH);
  if (secrets.some((s) => serialized.includes(s) || serialized.includes(JSON.stringify(s).slice(1, -1)))) {
    log?.error({ channel }, 'IPC reply withheld: it contained a stored secret');
    return { ok: false, error: { code: 'internal', message: 'The reply was withheld because it contained a secret.' } };
  }
  // A plain JSON copy: no prototype, function or Error object crosses to the window.
  return { ok: true, value: JSON.parse(serialized) };
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
