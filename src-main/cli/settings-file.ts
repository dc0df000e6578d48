import { readFileSync } from 'node:fs';
import { t } from '../common/i18n/i18n.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
import { SettingsError, parseOrgSettings } from '../runner/settings-problems.ts';

/** Reads the organization settings from a JSON file; every problem is a SettingsError naming the file and each bad field. */
export function readSettingsFile(path: string): OrgSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? t('cli.settings.missing') : code === 'EACCES' ? t('cli.settings.denied') : code === 'EISDIR' ? t('cli.settings.directory') : (error as Error).message;
    throw new SettingsError(t('cli.settings.cannotRead', { path, why }), []);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SettingsError(t('cli.settings.notJson', { path, why: (error as Error).message }), []);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SettingsError(t('cli.settings.notObject', { path }), []);
  }
  if (JSON.stringify(value).match(/"(password|clientSecret|client_secret|secret)"\s*:/i)) {
    throw new SettingsError(t('cli.settings.holdsSecret', { path }), []);
  }
  return parseOrgSettings(value, path);
}
