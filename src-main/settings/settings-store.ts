import { z } from 'zod';
import { LANGUAGE_PREFERENCES } from '../common/i18n/languages.ts';
import { t } from '../common/i18n/i18n.ts';
import { orgSettings } from '../common/settings-schema.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
import { SettingsMigrationError, migrateSettings } from './settings-migrations.ts';

/**
 * The tray app's settings file: the organization's settings (validated by the shared zod schema, migrated by version)
 * and this desktop's own preferences. Backed by electron-store in the app (any `conf`-style store works: tests use
 * `conf`, which electron-store extends). Never holds a secret: those go to the keychain.
 */

/** The part of electron-store / conf this wrapper uses. */
export interface SettingsBackend {
  store: Record<string, unknown>;
  readonly path: string;
}

export const localPreferences = z.object({
  /** The email this desktop's user enabled sync for ("my sync"). */
  myEmail: z.string().nullable().default(null),
  startAtLogin: z.boolean().default(false),
  /** After a start at login, automatic sync begins this many minutes later (the desktop settles first). */
  startDelayMinutes: z.number().int().min(0).max(120).default(0),
  /** Which desktop notifications to show: problems and their end (default), everything, or none. */
  notifications: z.enum(['errors', 'all', 'off']).default('errors'),
  /** The language of the app on this computer: the system's (default) or one chosen under My sync > This computer. */
  language: z.enum(LANGUAGE_PREFERENCES).default('system'),
  notificationMemory: z
    .object({ activeProblems: z.array(z.string()).default([]), firstSyncAnnounced: z.array(z.string()).default([]), realSyncSeen: z.boolean().default(false) })
    .default({ activeProblems: [], firstSyncAnnounced: [], realSyncSeen: false }),
  /** The last Test connection on the current settings; cleared when the settings or a secret change. */
  connectionTest: z.object({ at: z.string(), ok: z.boolean() }).nullable().default(null),
});
export type LocalPreferences = z.infer<typeof localPreferences>;

export class SettingsFileError extends Error {
  readonly fix: string;
  constructor(message: string, fix: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SettingsFileError';
    this.fix = fix;
  }
}

const describeIssues = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.map(String).join('.') || 'settings'}: ${i.message}`).join('; ');

export class SettingsStore {
  readonly #backend: SettingsBackend;

  constructor(backend: SettingsBackend) {
    this.#backend = backend;
  }

  get path(): string {
    return this.#backend.path;
  }

  /**
   * The organization settings, migrated to the current version (written back once migrated), or null before the admin
   * saved any. Throws SettingsFileError with a plain message and fix when the stored settings cannot be used.
   */
  loadOrg(): OrgSettings | null {
    const raw = this.#backend.store.org;
    if (raw === undefined || raw === null) return null;
    let migrated;
    try {
      migrated = migrateSettings(raw);
    } catch (error) {
      if (error instanceof SettingsMigrationError) throw new SettingsFileError(error.message, t('report.settingsFile.fixOrg', { path: this.path }), { cause: error });
      throw error;
    }
    const parsed = orgSettings.safeParse(migrated.settings);
    if (!parsed.success) {
      throw new SettingsFileError(t('report.settingsFile.invalid', { issues: describeIssues(parsed.error) }), t('report.settingsFile.invalidFix'), { cause: parsed.error });
    }
    if (migrated.applied.length > 0) this.#write({ org: parsed.data });
    return parsed.data;
  }

  /** For the runner: its loadSettings must throw when there is nothing usable. */
  requireOrg(): OrgSettings {
    const org = this.loadOrg();
    if (!org) throw new SettingsFileError(t('report.settingsFile.none'), t('report.settingsFile.noneFix'));
    return org;
  }

  saveOrg(settings: OrgSettings): OrgSettings {
    const parsed = orgSettings.parse(settings);
    this.#write({ org: parsed });
    return parsed;
  }

  local(): LocalPreferences {
    const parsed = localPreferences.safeParse(this.#backend.store.local ?? {});
    // A damaged preferences section is not worth stopping the app for: start from the defaults.
    return parsed.success ? parsed.data : localPreferences.parse({});
  }

  updateLocal(patch: Partial<LocalPreferences>): LocalPreferences {
    const next = localPreferences.parse({ ...this.local(), ...patch });
    this.#write({ local: next });
    return next;
  }

  #write(patch: Record<string, unknown>): void {
    // One assignment of the whole document: conf writes it atomically (temp file + rename).
    this.#backend.store = { ...this.#backend.store, ...patch };
  }
}
