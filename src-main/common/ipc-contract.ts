import { z } from 'zod';
import { EXCHANGE_SERVER_TYPES, PROXY_MODES } from './settings-schema.ts';
import { LANGUAGE_PREFERENCES } from './i18n/languages.ts';
import type { Language, LanguagePreference } from './i18n/languages.ts';
import { SECRET_NAMES } from './secrets-contract.ts';
import type { SecretName } from './secrets-contract.ts';
import type { CycleReport, UserProblem, UserReport } from './sync-report.ts';

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

export const RENDERER_API_KEY = 'severaSync';

/** The custom scheme and host the window is loaded from; the only sender the main process answers. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'severa-sync';
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

// ---------- payload schemas (what the window may send) ----------

const shortText = (max: number) => z.string().max(max, `At most ${max} characters.`);

/**
 * The admin form as typed: shapes only. Whether the values make sense (URL, domain, ranges) is decided by the settings
 * schema when saving, so the form can show each problem beside its field instead of a rejected message.
 * `.strict()`: a payload cannot smuggle extra keys (e.g. a password) into the stored settings.
 */
/**
 * One Exchange connection as the form has it: on-premises (EWS address, delegate account) or Exchange Online (tenant,
 * app, credential, advanced addresses). The fields of the other kind are ignored when saving.
 */
export const exchangeDraftSchema = z
  .object({
    serverType: z.enum(EXCHANGE_SERVER_TYPES),
    ewsUrl: shortText(2048).optional(),
    domain: shortText(64).optional(),
    username: shortText(256).optional(),
    authMethod: z.enum(['ntlm', 'basic']).optional(),
    allowInsecureHttp: z.boolean().optional(),
    caFile: shortText(4096).optional(),
    tenantId: shortText(100).optional(),
    clientId: shortText(100).optional(),
    credential: z.enum(['certificate', 'secret']).optional(),
    certificateFile: shortText(4096).optional(),
    /** YYYY-MM-DD, or empty: unknown. */
    secretExpires: shortText(10).optional(),
    authorityHost: shortText(2048).optional(),
    graphUrl: shortText(2048).optional(),
  })
  .strict();
export type ExchangeDraft = z.infer<typeof exchangeDraftSchema>;

/** The admin's choice of connection per enrolled user; a user not named is found by asking (automatic). */
export const MAILBOX_LOCATION_CHOICES = ['first', 'second'] as const;

/**
 * The admin form as typed: shapes only. Whether the values make sense (URL, domain, ranges) is decided by the settings
 * schema when saving, so the form can show each problem beside its field instead of a rejected message.
 * `.strict()`: a payload cannot smuggle extra keys (e.g. a password) into the stored settings.
 */
export const adminSettingsDraftSchema = z
  .object({
    exchange: exchangeDraftSchema,
    /** Null: no second connection; absent: leave the stored one as it is. */
    secondExchange: exchangeDraftSchema.nullable().optional(),
    /** Absent: leave the stored choices as they are. */
    mailboxLocations: z
      .record(shortText(320), z.enum(MAILBOX_LOCATION_CHOICES))
      .refine((choices) => Object.keys(choices).length <= 10_000, 'Too many users.')
      .optional(),
    severa: z
      .object({
        apiUrl: shortText(2048),
        clientId: shortText(256),
        allowInsecureHttp: z.boolean().optional(),
        caFile: shortText(4096).optional(),
      })
      .strict(),
    network: z
      .object({
        proxyMode: z.enum(PROXY_MODES),
        proxyUrl: shortText(2048).optional(),
        proxyBypass: shortText(4096).optional(),
        proxyUsername: shortText(256).optional(),
      })
      .strict()
      .optional(),
    activityTypesToExchange: z.array(shortText(64)).max(1000),
    intervalMinutes: z.number().finite(),
    windowDaysAhead: z.number().finite(),
    deletionGuard: z.object({ maxItems: z.number().finite(), maxPercent: z.number().finite() }).strict().optional(),
    /** Near real time; absent: leave the stored setting as it is. */
    realTime: z
      .object({ enabled: z.boolean(), exchangeOnlinePollSeconds: z.number().finite(), ewsPollSeconds: z.number().finite(), severaPollSeconds: z.number().finite() })
      .strict()
      .optional(),
  })
  .strict();
export type AdminSettingsDraft = z.infer<typeof adminSettingsDraftSchema>;

const secretNameSchema = z.enum(SECRET_NAMES);
/** What a file is chosen for: a CA certificate to trust, or the Exchange Online app's certificate (public part). */
export const FILE_PURPOSES = ['ca-certificate', 'graph-certificate'] as const;
export type FilePurpose = (typeof FILE_PURPOSES)[number];
const emptyPayload = z.undefined();
const emailText = shortText(320).trim().min(1, 'Enter your email address.');
/** Names one Test connection run, so the window can tell that run's live results from any other's. */
const runIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'Expected a run id of 1 to 64 letters, digits, - or _.');

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

export interface FieldIssue {
  /** Dotted path into the draft, e.g. 'exchange.ewsUrl'. */
  path: string;
  message: string;
}

export interface AdminSettingsView {
  /** Null until the admin saved settings once. */
  settings: AdminSettingsDraft | null;
  /** Which secrets the keychain holds: all the window ever learns about them. */
  secretsStored: Record<SecretName, boolean>;
  /** Who turned on their sync, for the per-user choice of connection (hybrid). */
  enrolledUsers: string[];
}

export type SaveSettingsResult = { ok: true; settings: AdminSettingsDraft } | { ok: false; issues: FieldIssue[] };

export type ActivityCategory = 'CalendarEntry' | 'Task' | 'Personal' | 'Absences' | 'SalesEvent';

export interface ActivityTypeView {
  guid: string;
  name: string;
  category: ActivityCategory | string;
  isActive: boolean;
  isDefault: boolean;
  /** False for project tasks (never synced) and inactive types. */
  syncable: boolean;
  /** Why it cannot be chosen, shown beside it. */
  note?: string;
}

export interface CheckView {
  id: string;
  title: string;
  ok: boolean;
  message: string;
  fix?: string;
}

/** One check of a running Test connection, pushed as soon as it passed or failed. */
export interface CheckProgressView {
  /** The runId of the 'connection:test' request it belongs to. */
  runId: string;
  /** Its position in that request's final list. */
  index: number;
  check: CheckView;
}

export interface IdentityView {
  /** The address as entered, lower-cased. */
  email: string;
  severa: { known: boolean; detail: string };
  exchange: { known: boolean; primaryAddress?: string; detail: string };
}

/** How a person proves a mailbox is theirs: its password (on-premises Exchange) or a Microsoft sign-in (Exchange Online). */
export type MailboxProofKind = 'password' | 'microsoft';

export interface PersonalSyncView {
  /** The email this desktop's user enabled sync for, if any. */
  email: string | null;
  enrolled: boolean;
  /** The proofs the organization's Exchange takes: one, or both in a hybrid organization. Absent: the password. */
  proofs?: MailboxProofKind[];
  syncStartDate?: string;
  enabledAt?: string;
  identity?: IdentityView;
}

export type RunnerStateView = 'idle' | 'syncing' | 'error' | 'paused';

export interface ProgressView {
  usersDone: number;
  usersTotal: number;
  currentUser?: string;
  phase?: string;
  /** Entries created, updated or deleted so far in this cycle. */
  entriesDone?: number;
  startedAt?: string;
  /** Estimated; absent until the first person is done. */
  secondsLeft?: number;
}

/** Why automatic sync has not started: the admin settings are missing, or nobody turned on their sync. */
export type WaitingView = 'settings' | 'enrollment';

/** How changes are picked up in real time: 'live' within seconds, 'polling' every few seconds, or 'off' and why. */
export interface LiveModeView {
  mode: 'live' | 'polling' | 'off';
  since: string;
  reason?: string;
}

/** Real time as the status shows it (settings `realTime`). */
export interface LiveStatusView {
  on: boolean;
  /** Why not, when not. */
  reason?: string;
  /** Severa's change poll. */
  severa: LiveModeView;
  /** Each enrolled user's calendar watch, by email. */
  users: Record<string, LiveModeView>;
  pending: number;
  cycles: number;
  lastCycleAt?: string;
}

export interface RunnerStatusView {
  state: RunnerStateView;
  lastRunAt?: string;
  nextRunAt?: string;
  /** Absent: not paused; null: paused until resumed by hand; else an ISO instant. */
  pausedUntil?: string | null;
  progress?: ProgressView;
  consecutiveFailures: number;
  /** Set while automatic sync waits for setup: nothing is wrong, there is nothing to sync yet. */
  waitingFor?: WaitingView;
  /** After a start at login with a delay: when automatic sync begins (ISO). */
  startsAt?: string;
  /** Real time, while the schedule runs. */
  live?: LiveStatusView;
  /** The automatic comparison of both sides (settings `audit`). */
  audit?: AuditStatusView;
}

/** The last automatic agreement audit: when, how much agreed, the differences with their story, who was not compared. */
export interface LastAuditView {
  at: string;
  users: number;
  pairs: number;
  agreeing: number;
  explained: number;
  unexplained: number;
  /** Unexplained first; at most a hundred (the counts cover every one). */
  differences: Array<AuditDifferenceView & { email: string }>;
  failedUsers: Array<{ email: string; error: string }>;
  /** Why it could not run at all. */
  error?: string;
}

export interface AuditStatusView {
  /** 0: off. */
  everyHours: number;
  running: boolean;
  /** The next one runs after the first successful cycle from this instant. */
  nextAfter?: string;
  last?: LastAuditView;
}

export interface UserStatusView {
  email: string;
  /** When this user's last cycle finished; absent before the first. */
  lastSyncAt?: string;
  outcome?: UserReport['outcome'];
  toSevera?: UserReport['toSevera'];
  toExchange?: UserReport['toExchange'];
  conflicts: number;
  heldDeletions: number;
  errors: UserProblem[];
  notes: string[];
  firstSyncDone: boolean;
  /** The latest changed entries, newest first, across the recent cycles. */
  recentChanges?: ChangeView[];
  /** Which Exchange connection serves the mailbox (e.g. "Exchange Online (contoso.onmicrosoft.com)") and since when. */
  mailboxLocation?: { label: string; since: string };
}

/** One entry the sync created, updated or deleted. */
export interface ChangeView {
  /** Where the change was made. */
  side: 'severa' | 'exchange';
  action: 'create' | 'update' | 'delete';
  subject: string;
  /** The entry's start (ISO instant, or YYYY-MM-DD for all-day entries). */
  start: string;
  reason?: string;
  /** When the cycle that made it finished. */
  at: string;
}

/** Where the first-run setup stands: the window guides through the steps until it is complete. */
export interface SetupView {
  settingsSaved: boolean;
  /** The last Test connection on the current settings. */
  connectionTest: 'not-run' | 'passed' | 'failed';
  anyoneEnrolled: boolean;
  /** Whether this desktop's person turned on their own sync. */
  meEnrolled: boolean;
  /** A cycle has run: the setup worked once, so a later change does not bring the guide back. */
  synced: boolean;
}

export interface PreferencesView {
  notifications: 'errors' | 'all' | 'off';
  startAtLogin: boolean;
  startDelayMinutes: number;
  /** The person's choice: the system's language, or one of the app's. */
  language: LanguagePreference;
  /** The language the app speaks now on this computer (the window takes it over). */
  activeLanguage: Language;
  /** The language the system's settings give (what 'system' means here). */
  systemLanguage: Language;
}

export interface AppStatusView {
  runner: RunnerStatusView;
  users: UserStatusView[];
  /** Organization-level problems of the last cycle (Severa login failed, clock skew, ...). */
  orgErrors: UserProblem[];
  lastCycle?: { startedAt: string; finishedAt: string; outcome: CycleReport['outcome'] };
  /** Where the log is, for "open log". */
  logPath: string | null;
  setup: SetupView;
}

export interface JournalEntryView {
  id: string;
  email: string;
  side: 'severa' | 'exchange';
  subject: string;
  start: string;
  deletedAt: string;
  restored: boolean;
}

export interface RestoreResultView {
  id: string;
  ok: boolean;
  message?: string;
}

/** One difference the agreement audit found between the two sides of a synced entry. */
export interface AuditDifferenceView {
  subject: string;
  start: string;
  /** The field that differs, or 'missing in Exchange' / 'missing in Severa'. */
  what: string;
  severa: string | null;
  exchange: string | null;
  /** When each side was last written, and by whom. */
  story: string;
  /** The rule that explains it; null when none does (then it is a problem to look at). */
  rule: string | null;
}

export interface UserAuditView {
  email: string;
  pairs: number;
  agreeing: number;
  differences: AuditDifferenceView[];
  /** Why this user could not be compared. */
  error?: string;
}

export interface AuditReportView {
  auditedAt: string;
  users: UserAuditView[];
}

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

// ---------- push schemas (what main may send) ----------

const longText = z.string().max(20_000);
const instant = z.string().max(64);
const problemSchema = z.object({ code: z.string().max(200), message: longText, fix: longText.optional() }).loose();
const progressSchema = z.object({
  usersDone: z.number().int().nonnegative(),
  usersTotal: z.number().int().nonnegative(),
  currentUser: z.string().max(320).optional(),
  phase: z.string().max(500).optional(),
  entriesDone: z.number().int().nonnegative().optional(),
  startedAt: instant.optional(),
  secondsLeft: z.number().nonnegative().optional(),
});
const liveModeSchema = z.object({ mode: z.enum(['live', 'polling', 'off']), since: instant, reason: z.string().max(2000).optional() });
const liveStatusSchema = z.object({
  on: z.boolean(),
  reason: z.string().max(2000).optional(),
  severa: liveModeSchema,
  users: z.record(z.string().max(320), liveModeSchema),
  pending: z.number().int().nonnegative(),
  cycles: z.number().int().nonnegative(),
  lastCycleAt: instant.optional(),
});
const auditDifferenceSchema = z.object({
  email: z.string().max(320),
  subject: z.string().max(2000),
  start: instant,
  what: z.string().max(100),
  severa: longText.nullable(),
  exchange: longText.nullable(),
  story: longText,
  rule: longText.nullable(),
});
const auditStatusSchema = z.object({
  everyHours: z.number().nonnegative(),
  running: z.boolean(),
  nextAfter: instant.optional(),
  last: z
    .object({
      at: instant,
      users: z.number().int().nonnegative(),
      pairs: z.number().int().nonnegative(),
      agreeing: z.number().int().nonnegative(),
      explained: z.number().int().nonnegative(),
      unexplained: z.number().int().nonnegative(),
      differences: z.array(auditDifferenceSchema).max(1000),
      failedUsers: z.array(z.object({ email: z.string().max(320), error: longText })).max(100_000),
      error: longText.optional(),
    })
    .optional(),
});
const runnerStatusSchema = z.object({
  state: z.enum(['idle', 'syncing', 'error', 'paused']),
  lastRunAt: instant.optional(),
  nextRunAt: instant.optional(),
  pausedUntil: instant.nullable().optional(),
  progress: progressSchema.optional(),
  consecutiveFailures: z.number().int().nonnegative(),
  waitingFor: z.enum(['settings', 'enrollment']).optional(),
  startsAt: instant.optional(),
  live: liveStatusSchema.optional(),
  audit: auditStatusSchema.optional(),
});
const changeSchema = z.object({
  side: z.enum(['severa', 'exchange']),
  action: z.enum(['create', 'update', 'delete']),
  subject: z.string().max(2000),
  start: instant,
  reason: z.string().max(2000).optional(),
  at: instant,
});
const setupSchema = z.object({
  settingsSaved: z.boolean(),
  connectionTest: z.enum(['not-run', 'passed', 'failed']),
  anyoneEnrolled: z.boolean(),
  meEnrolled: z.boolean(),
  synced: z.boolean(),
});
const checkViewSchema = z.object({ id: z.string().min(1).max(400), title: z.string().max(400), ok: z.boolean(), message: longText, fix: longText.optional() });

/**
 * Every push's shape. Unknown keys are dropped (the window sees only what the contract names), except inside a user's
 * status, whose counts and outcome come straight from the sync report.
 */
export const eventSchemas = {
  status: runnerStatusSchema,
  report: z.object({
    runner: runnerStatusSchema,
    users: z.array(
      z.object({ email: z.string().max(320), conflicts: z.number(), heldDeletions: z.number(), errors: z.array(problemSchema), notes: z.array(longText), firstSyncDone: z.boolean(), recentChanges: z.array(changeSchema).max(500).optional(), mailboxLocation: z.object({ label: z.string().max(500), since: instant }).optional() }).loose(),
    ),
    orgErrors: z.array(problemSchema),
    lastCycle: z.object({ startedAt: instant, finishedAt: instant, outcome: z.enum(['ok', 'partial', 'failed']) }).optional(),
    logPath: z.string().max(4096).nullable(),
    setup: setupSchema,
  }),
  progress: progressSchema,
  navigate: z.object({ section: z.enum(['admin', 'personal', 'status']) }),
  'connection:check': z.object({ runId: runIdSchema, index: z.number().int().nonnegative().max(10_000), check: checkViewSchema }),
} satisfies Record<EventChannel, z.ZodType>;

export const EVENT_CHANNELS = Object.keys(eventSchemas) as EventChannel[];

/** Compiles only while every schema's output is its channel's type, so the two cannot drift apart. */
export type EventSchemasMatchContract = AssertTrue<{ [E in EventChannel]: z.infer<(typeof eventSchemas)[E]> extends EventChannels[E] ? true : false }[EventChannel]>;
type AssertTrue<T extends true> = T;

export type ParsedEvent<E extends EventChannel> = { ok: true; data: EventChannels[E] } | { ok: false; issues: FieldIssue[] };

/** Checks a push against its schema: main calls it before sending, the window on receipt. */
export function parseEvent<E extends EventChannel>(event: E, data: unknown): ParsedEvent<E> {
  if (!Object.hasOwn(eventSchemas, event)) return { ok: false, issues: [{ path: '', message: `Unknown event "${String(event)}".` }] };
  const parsed = (eventSchemas[event] as z.ZodType).safeParse(data);
  if (parsed.success) return { ok: true, data: parsed.data as EventChannels[E] };
  return { ok: false, issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) };
}

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
