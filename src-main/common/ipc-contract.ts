import { z } from 'zod';
import { LANGUAGE_PREFERENCES } from './i18n/languages.ts';
import { SECRET_NAMES } from './secrets-contract.ts';
import { FILE_PURPOSES, adminSettingsDraftSchema, shortText } from './ipc-settings-types.ts';
import type { ActivityTypeView, AdminSettingsView, FieldIssue, PreferencesView, SaveSettingsResult } from './ipc-settings-types.ts';
import { runIdSchema } from './ipc-setup-types.ts';
import type { CheckProgressView, CheckView, PersonalSyncView } from './ipc-setup-types.ts';
import type { AppStatusView, AuditReportView, JournalEntryView, ProgressView, RestoreResultView, RunnerStatusView } from './ipc-status-types.ts';
import { EVENT_CHANNELS, parseEvent } from './ipc-event-schemas.ts';

/**
 * The one contract between the main process and the settings window (GitHub Desktop style): every request channel is a
 * key of `RequestChannels` (`channel -> (payload) => Promise<result>`), every payload has a zod schema in
 * `requestSchemas`, every push from main is a key of `EventChannels` with a zod schema in `eventSchemas` (checked in main
 * before sending and in the window on receipt). The preload exposes `RendererApi` on
 * `window[RENDERER_API_KEY]`; the main process serves it through one generic wrapper (src-main/electron/ipc-router.ts).
 *
 * Plain data only. No result ever carries a secret: secrets are write-only from the window's side (`secret:set`,
 * `secret:delete`), and `secret:has` is all it can learn.
 */

/*
 * The contract's parts, re-exported here so both ends import one module: ipc-settings-types.ts (the Admin form's draft,
 * what the Admin section reads, field issues, preferences), ipc-setup-types.ts (Test connection's checks, turning on
 * one's own sync, the first-run setup), ipc-status-types.ts (runner status, people's status, journal, audit report) and
 * ipc-event-schemas.ts (every push's zod schema and its check).
 */
export { FILE_PURPOSES, MAILBOX_LOCATION_CHOICES, adminSettingsDraftSchema, exchangeDraftSchema } from './ipc-settings-types.ts';
export type {
  ActivityCategory,
  ActivityTypeView,
  AdminSettingsDraft,
  AdminSettingsView,
  ExchangeDraft,
  FieldIssue,
  FilePurpose,
  PreferencesView,
  SaveSettingsResult,
} from './ipc-settings-types.ts';
export type { CheckProgressView, CheckView, IdentityView, MailboxProofKind, PersonalSyncView, SetupView } from './ipc-setup-types.ts';
export type {
  AppStatusView,
  AuditDifferenceView,
  AuditReportView,
  AuditStatusView,
  ChangeView,
  JournalEntryView,
  LastAuditView,
  LiveModeView,
  LiveStatusView,
  ProgressView,
  RestoreResultView,
  RunnerStateView,
  RunnerStatusView,
  UserAuditView,
  UserStatusView,
  WaitingView,
} from './ipc-status-types.ts';
export { EVENT_CHANNELS, eventSchemas, parseEvent } from './ipc-event-schemas.ts';
export type { EventSchemasMatchContract, ParsedEvent } from './ipc-event-schemas.ts';

export const RENDERER_API_KEY = 'severaSync';

/** The custom scheme and host the window is loaded from; the only sender the main process answers. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'severa-sync';
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

// ---------- payload schemas (what the window may send) ----------

const secretNameSchema = z.enum(SECRET_NAMES);
const emptyPayload = z.undefined();
const emailText = shortText(320).trim().min(1, 'Enter your email address.');

export const requestSchemas = {
  'settings:get': emptyPayload,
  'settings:save': adminSettingsDraftSchema,
  'secret:set': z.object({ name: secretNameSchema, value: z.string().min(1, 'Enter a value.').max(4096) }).strict(),
  'secret:has': z.object({ name: secretNameSchema }).strict(),
  'secret:delete': z.object({ name: secretNameSchema }).strict(),
  'activityTypes:list': emptyPayload,
  /** With a runId, each check is also pushed on 'connection:check' as it completes; the reply is the full list either way. */
  'connection:test': z.object({ runId: runIdSchema }).strict().optional(),
  'personal:get': emptyPayload,
  'personal:enable': z
    .object({
      email: emailText,
      password: z.string().min(1, 'Enter your mailbox password.').max(1024),
      syncStartDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'Expected a date YYYY-MM-DD.').optional(),
    })
    .strict(),
  /**
   * "Enable my sync" on Exchange Online: the person signs in with Microsoft in their own browser (opened by the app), and
   * is enrolled only if the signed-in account's mailbox has this address. Nothing of the sign-in is kept.
   */
  'personal:signInWithMicrosoft': z
    .object({ email: emailText, syncStartDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'Expected a date YYYY-MM-DD.').optional() })
    .strict(),
  'personal:disable': emptyPayload,
  'sync:now': emptyPayload,
  'sync:pause': z.object({ mode: z.enum(['hour', 'untilResumed']) }).strict(),
  'sync:resume': emptyPayload,
  'status:get': emptyPayload,
  'log:export': emptyPayload,
  'log:open': emptyPayload,
  'journal:list': z.object({ email: emailText.optional() }).strict(),
  'journal:restore': z.object({ ids: z.array(shortText(200)).min(1).max(500) }).strict(),
  'deletions:confirm': z.object({ email: emailText }).strict(),
  /** Asks the person to pick a file (the main process shows the system's file dialog); only its path comes back. */
  'file:choose': z.object({ purpose: z.enum(FILE_PURPOSES) }).strict(),
  /** The agreement audit: every synced entry of the enrolled users (or this one) compared on both servers; reads only. */
  'audit:run': z.object({ email: emailText.optional() }).strict().optional(),
  'preferences:get': emptyPayload,
  'preferences:set': z
    .object({
      notifications: z.enum(['errors', 'all', 'off']).optional(),
      startAtLogin: z.boolean().optional(),
      startDelayMinutes: z.number().int('Whole minutes.').min(0, 'From 0 to 120 minutes.').max(120, 'From 0 to 120 minutes.').optional(),
      language: z.enum(LANGUAGE_PREFERENCES).optional(),
    })
    .strict(),
} as const;

export type RequestChannel = keyof typeof requestSchemas;
export const REQUEST_CHANNELS = Object.keys(requestSchemas) as RequestChannel[];
export type RequestPayload<C extends RequestChannel> = z.infer<(typeof requestSchemas)[C]>;

// ---------- result shapes (what the window receives) ----------

export interface RequestResults {
  'settings:get': AdminSettingsView;
  'settings:save': SaveSettingsResult;
  'secret:set': { stored: true };
  'secret:has': { stored: boolean };
  'secret:delete': { stored: false };
  'activityTypes:list': ActivityTypeView[];
  'connection:test': CheckView[];
  'personal:get': PersonalSyncView;
  'personal:enable': PersonalSyncView;
  'personal:signInWithMicrosoft': PersonalSyncView;
  'personal:disable': PersonalSyncView;
  'sync:now': AppStatusView;
  'sync:pause': RunnerStatusView;
  'sync:resume': RunnerStatusView;
  'status:get': AppStatusView;
  'log:export': { path: string | null };
  'log:open': { opened: boolean };
  'journal:list': JournalEntryView[];
  'journal:restore': RestoreResultView[];
  'deletions:confirm': AppStatusView;
  'file:choose': { path: string | null };
  'preferences:get': PreferencesView;
  'preferences:set': PreferencesView;
  'audit:run': AuditReportView;
}

/** The type map: one function per channel. The main process implements it; the window calls it through `invoke`. */
export type RequestChannels = {
  [C in RequestChannel]: (...args: InvokeArgs<C>) => Promise<RequestResults[C]>;
};

/** Pushes from main to the window. */
export interface EventChannels {
  status: RunnerStatusView;
  report: AppStatusView;
  progress: ProgressView;
  /** A notification was clicked: show this section. */
  navigate: { section: 'admin' | 'personal' | 'status' };
  /** One check of the Test connection run named by `runId` completed (passed or failed). */
  'connection:check': CheckProgressView;
}
export type EventChannel = keyof EventChannels;

/** What crosses the wire for every request: errors travel as data so the window gets the message and the fix intact. */
export type IpcEnvelope<T> = { ok: true; value: T } | { ok: false; error: IpcFailure };

export interface IpcFailure {
  /** 'untrusted-sender' | 'unknown-channel' | 'bad-payload' | 'failed' | 'internal' */
  code: string;
  message: string;
  fix?: string;
  issues?: FieldIssue[];
}

/** Thrown by handlers for a failure the user can act on; the wrapper passes message and fix to the window. */
export class UserFacingError extends Error {
  readonly fix: string | undefined;
  constructor(message: string, fix?: string) {
    super(message);
    this.name = 'UserFacingError';
    this.fix = fix;
  }
}

/** Raised in the window when a request fails. */
export class IpcRequestError extends Error {
  readonly code: string;
  readonly fix: string | undefined;
  readonly issues: FieldIssue[] | undefined;
  constructor(failure: IpcFailure) {
    super(failure.message);
    this.name = 'IpcRequestError';
    this.code = failure.code;
    this.fix = failure.fix;
    this.issues = failure.issues;
  }
}

// ---------- the window's side ----------

export type InvokeArgs<C extends RequestChannel> = RequestPayload<C> extends undefined
  ? []
  : undefined extends RequestPayload<C>
    ? [payload?: RequestPayload<C>]
    : [payload: RequestPayload<C>];

/** What `window.severaSync` is. */
export interface RendererApi {
  invoke<C extends RequestChannel>(channel: C, ...args: InvokeArgs<C>): Promise<RequestResults[C]>;
  /** Returns the unsubscribe function. */
  on<E extends EventChannel>(event: E, listener: (data: EventChannels[E]) => void): () => void;
}

/** How a transport (the preload's ipcRenderer, or a test bridge) moves one request and subscribes to pushes. */
export interface RendererTransport {
  send(channel: string, payload: unknown): Promise<unknown>;
  subscribe(event: string, listener: (data: unknown) => void): () => void;
}

const isEnvelope = (value: unknown): value is IpcEnvelope<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean';

/**
 * Builds the window's API over a transport. Only known channels leave the window: a typo or a script injected into the
 * page cannot reach an arbitrary IPC channel through it. A push that does not match its schema never reaches a listener.
 */
export function createRendererApi(
  transport: RendererTransport,
  onInvalidEvent: (event: EventChannel, issues: FieldIssue[]) => void = (event, issues) => console.warn(`Ignored a malformed "${event}" push:`, issues),
): RendererApi {
  const requestChannels = new Set<string>(REQUEST_CHANNELS);
  const eventChannels = new Set<string>(EVENT_CHANNELS);
  return {
    async invoke(channel, ...args) {
      if (!requestChannels.has(channel)) throw new IpcRequestError({ code: 'unknown-channel', message: `Unknown request "${String(channel)}".` });
      const reply = await transport.send(channel, args[0]);
      if (!isEnvelope(reply)) throw new IpcRequestError({ code: 'internal', message: 'The app answered in an unexpected way.' });
      if (!reply.ok) throw new IpcRequestError(reply.error);
      return reply.value as never;
    },
    on(event, listener) {
      if (!eventChannels.has(event)) throw new Error(`Unknown event "${String(event)}".`);
      return transport.subscribe(event, (data) => {
        const parsed = parseEvent(event, data);
        if (parsed.ok) listener(parsed.data);
        else onInvalidEvent(event, parsed.issues);
      });
    },
  };
}

/** Electron channel names are namespaced so nothing else on ipcMain collides with them. */
export const ipcChannelName = (channel: RequestChannel | EventChannel) => `scs:${channel}`;
