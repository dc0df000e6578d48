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

/** A full-page screenshot for the docs, with the pointer moved off the page so no button shows its hover colour. */
export async function screenshot(page: import('playwright-core').Page, name: string): Promise<void> {
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(screenshotFolder(), name), fullPage: true });
}

/** A screenshot of one part of the window (a section the docs talk about), pointer moved off the page first. */
export async function screenshotOf(locator: import('playwright-core').Locator, name: string): Promise<void> {
  await locator.page().mouse.move(0, 0);
  await locator.screenshot({ path: path.join(screenshotFolder(), name) });
}
