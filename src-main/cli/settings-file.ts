import { readFileSync } from 'node:fs';
import type { OrgSettings } from '../common/settings-schema.ts';
import { SettingsError, parseOrgSettings } from '../runner/settings-problems.ts';

/** Reads the organization settings from a JSON file; every problem is a SettingsError naming the file and each bad field. */
export function readSettingsFile(path: string): OrgSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new SettingsError(`Cannot read the settings file ${path}: ${why}.`, []);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SettingsError(`The settings file ${path} is not valid JSON: ${(error as Error).message}.`, []);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SettingsError(`The settings file ${path} must hold one JSON object.`, []);
  }
  if (JSON.stringify(value).match(/"(password|clientSecret|client_secret|secret)"\s*:/i)) {
    throw new SettingsError(`The settings file ${path} holds a secret; secrets belong in the OS keychain or environment variables, never in the settings.`, []);
  }
  return parseOrgSettings(value, path);
}
