/**
 * Versioned migrations of the stored organization settings. Each step takes the document of version N and returns
 * version N+1; `migrateSettings` applies the steps the stored document needs, in order. Pure: the store writes the result
 * back only after the migrated document validated against the current schema, so a failed migration leaves the file as it was.
 *
 * Version 0 is the layout of the first preview builds (before `schemaVersion` existed): `exchange.version` with the old
 * add-on's dropdown values, `exchange.url`, `syncIntervalMinutes` and `activityTypeGuids`.
 */

export const CURRENT_SETTINGS_VERSION = 1;

type Doc = Record<string, unknown>;
type Migration = (doc: Doc) => Doc;

const isObject = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

const OLD_SERVER_TYPES: Record<string, string> = {
  Exchange2007: 'Exchange2007_SP1',
  'Exchange 2007': 'Exchange2007_SP1',
  'Exchange 2010': 'Exchange2010',
  'Exchange 2013': 'Exchange2013',
  'Exchange 2016': 'Exchange2016',
  'Office 365': 'Office365',
};

const MIGRATIONS: Record<number, Migration> = {
  0: (doc) => {
    const { syncIntervalMinutes, activityTypeGuids, ...rest } = doc;
    const out: Doc = { ...rest, schemaVersion: 1 };
    if (isObject(doc.exchange)) {
      const { version, url, ...exchange } = doc.exchange;
      const serverType = exchange.serverType ?? (typeof version === 'string' ? (OLD_SERVER_TYPES[version] ?? version) : undefined);
      out.exchange = { ...exchange, ...(serverType !== undefined ? { serverType } : {}), ...(url !== undefined && exchange.ewsUrl === undefined ? { ewsUrl: url } : {}) };
    }
    if (syncIntervalMinutes !== undefined && out.intervalMinutes === undefined) out.intervalMinutes = syncIntervalMinutes;
    if (activityTypeGuids !== undefined && out.activityTypesToExchange === undefined) out.activityTypesToExchange = activityTypeGuids;
    return out;
  },
};

export class SettingsMigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsMigrationError';
  }
}

export interface MigrationResult {
  settings: Doc;
  fromVersion: number;
  /** Versions migrated from, in order; empty when the document was current. */
  applied: number[];
}

export function storedSettingsVersion(doc: Doc): number {
  const v = doc.schemaVersion;
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new SettingsMigrationError(`The settings file has an invalid schemaVersion (${JSON.stringify(v)}).`);
  return v;
}

export function migrateSettings(stored: unknown): MigrationResult {
  if (!isObject(stored)) throw new SettingsMigrationError('The stored settings are not an object.');
  const fromVersion = storedSettingsVersion(stored);
  if (fromVersion > CURRENT_SETTINGS_VERSION) {
    throw new SettingsMigrationError(
      `The settings were written by a newer version of the app (settings version ${fromVersion}; this app knows up to ${CURRENT_SETTINGS_VERSION}). Update the app.`,
    );
  }
  let doc = structuredClone(stored);
  const applied: number[] = [];
  for (let v = fromVersion; v < CURRENT_SETTINGS_VERSION; v++) {
    const step = MIGRATIONS[v];
    if (!step) throw new SettingsMigrationError(`No migration from settings version ${v}.`);
    doc = step(doc);
    applied.push(v);
  }
  return { settings: doc, fromVersion, applied };
}
