import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

/**
 * The tray app's settings file before it is opened: a file that is not readable JSON would stop the settings store
 * (electron-store throws on it) and, before this, the whole app. Here it is found first, named, and a copy kept, so
 * the person can start from the defaults without losing what the file held.
 */

export type SettingsFileHealth = { ok: true } | { ok: false; file: string; reason: string };

// Every sentence this module says, in one place.
const TEXT = {
  unreadable: (why: string) => `it cannot be read (${why})`,
  notJson: (why: string) => `it is not valid JSON (${why})`,
  notObject: 'it does not hold a settings object',
  empty: 'it is empty',
};

/** Whether the settings file can be opened by the settings store; a missing file is fine (first run). */
export function inspectSettingsFile(file: string): SettingsFileHealth {
  if (!existsSync(file)) return { ok: true };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return { ok: false, file, reason: TEXT.unreadable(e.code ?? e.message) };
  }
  if (text.trim() === '') return { ok: false, file, reason: TEXT.empty };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, file, reason: TEXT.notJson((error as Error).message) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, file, reason: TEXT.notObject };
  return { ok: true };
}

/** The name of the copy: settings.broken-2026-11-20T08-15-00.json beside the file. */
export function brokenCopyPath(file: string, now: Date): string {
  const stamp = now.toISOString().slice(0, 19).replace(/:/g, '-');
  const ext = path.extname(file);
  return path.join(path.dirname(file), `${path.basename(file, ext)}.broken-${stamp}${ext || '.json'}`);
}

/** Copies the broken file aside (never overwriting an earlier copy) and returns where; null when it cannot be read at all. */
export function keepBrokenCopy(file: string, now: Date): string | null {
  let target = brokenCopyPath(file, now);
  for (let n = 2; existsSync(target); n++) target = target.replace(/(\.broken-[^.]+?)(-\d+)?(\.[^.]+)$/, `$1-${n}$3`);
  try {
    copyFileSync(file, target);
    return target;
  } catch {
    return null;
  }
}

/** Starting from the defaults: the broken file goes (its copy stays), the store then starts empty. */
export function removeBrokenSettings(file: string): void {
  rmSync(file, { force: true });
}
