import type { Language } from '../../src-main/common/i18n/i18n.ts';
import { englishMatchers } from '../renderer/english-leftovers.ts';

/**
 * The English catalog sentences in a command's output that should be in another language: the window test's matchers
 * (english-leftovers.ts: a sentence with values in it matches whatever fills them, a one-word label only when it is the
 * whole text) over each line of the output and each cell of its tables (text between runs of two or more spaces), so
 * a table header "user" is found while a subject "Team user group" is not. `dataTexts` are lines or cells that are data
 * from the servers (never reported).
 */
export function englishInOutput(output: string, language: Language, dataTexts: ReadonlySet<string> = new Set()): string[] {
  const texts = new Set<string>();
  for (const line of output.split('\n')) {
    const whole = line.replace(/\s+/g, ' ').trim();
    if (whole) texts.add(whole);
    for (const cell of line.split(/\s{2,}/)) if (cell.trim()) texts.add(cell.trim());
  }
  const candidates = [...texts].filter((text) => !dataTexts.has(text));
  const found: string[] = [];
  for (const matcher of englishMatchers(language)) {
    const hit = candidates.find((text) => matcher.test(text));
    if (hit) found.push(`${matcher.key}: "${matcher.english}" in "${hit.slice(0, 160)}"`);
  }
  return found;
}
