import { z } from 'zod';
import { EXCHANGE_SERVER_TYPES, PROXY_MODES } from './settings-schema.ts';
import type { Language, LanguagePreference } from './i18n/languages.ts';
import type { SecretName } from './secrets-contract.ts';

/**
 * The settings part of the IPC contract (ipc-contract.ts is the contract and re-exports it): the Admin form's draft as
 * the window sends it (zod shapes), what the Admin section reads back (the stored settings, which secrets are stored,
 * the activity types), the problems a save reports beside their fields, and the person's own preferences.
 */

// ---------- payload schemas (what the window may send) ----------

/** A text field of at most `max` characters (the contract's request payloads use it too). */
export const shortText = (max: number) => z.string().max(max, `At most ${max} characters.`);

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

/** What a file is chosen for: a CA certificate to trust, or the Exchange Online app's certificate (public part). */
export const FILE_PURPOSES = ['ca-certificate', 'graph-certificate'] as const;
export type FilePurpose = (typeof FILE_PURPOSES)[number];

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
