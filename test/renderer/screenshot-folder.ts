import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where the window tests put their screenshots: a temporary folder, so running the suite leaves the tree clean.
 * `npm run screenshots` runs them with SCS_SCREENSHOT_DIR=docs/screenshots to refresh the pictures the docs show.
 */
export function screenshotFolder(): string {
  const folder = process.env.SCS_SCREENSHOT_DIR
    ? path.resolve(process.env.SCS_SCREENSHOT_DIR)
    : path.join(os.tmpdir(), 'severa-calendar-sync-screenshots');
  mkdirSync(folder, { recursive: true });
  return folder;
}
