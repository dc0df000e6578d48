import type { Page } from 'playwright-core';
import { CATALOGS } from '../../src-main/common/i18n/i18n.ts';
import type { Language } from '../../src-main/common/i18n/i18n.ts';

/**
 * Finds English on a page that should be in another language: every sentence of the English catalog whose translation
 * differs from it (a product name the languages share is no leftover) is looked for in the page's text, labels,
 * placeholders, titles and options. A sentence with a value in it ("Sync is on for {{email}}.") matches whatever fills
 * the value; a one-word label ("Done") counts only when it is the whole text of an element or attribute, so an English
 * word inside a name from the servers is not taken for one.
 */

interface Matcher {
  key: string;
  english: string;
  test(text: string): boolean;
}

function leaves(node: unknown, prefix = ''): [string, string][] {
  if (typeof node === 'string') return [[prefix, node]];
  return Object.entries(node as Record<string, unknown>).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const normalize = (text: string) => text.replace(/\s+/g, ' ').trim();

export function englishMatchers(language: Language): Matcher[] {
  const translated = new Map(leaves(CATALOGS[language]));
  const out: Matcher[] = [];
  for (const [key, english] of leaves(CATALOGS.en)) {
    if (translated.get(key) === english) continue;
    const fixed = english.replace(/\{\{[^}]+\}\}/g, ' ');
    const words = fixed.match(/\p{L}{2,}/gu) ?? [];
    if (words.length === 0) continue;
    if (words.length === 1 && !/\{\{/.test(english)) {
      const whole = normalize(english);
      out.push({ key, english, test: (text) => text === whole });
      continue;
    }
    // Each fixed part stands as whole words: "{{count}} change" is not found inside "Exchange".
    const pattern = english
      .split(/\{\{[^}]+\}\}/)
      .map((part) => normalize(part))
      .map((part) => (part ? `${/^\p{L}/u.test(part) ? '(?<!\\p{L})' : ''}${escapeRegExp(part)}${/\p{L}$/u.test(part) ? '(?!\\p{L})' : ''}` : ''))
      .join('[\\s\\S]+?');
    const regex = new RegExp(pattern, 'u');
    out.push({ key, english, test: (text) => regex.test(text) });
  }
  return out;
}

/** Every piece of text a person can meet on the page: text, labels, placeholders, titles, options, live values. */
export async function pageTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.textContent?.trim()) out.push(n.textContent);
    for (const el of document.querySelectorAll('p, li, td, th, label, legend, button, summary, h1, h2, h3, h4, dt, dd, option, caption, span, strong, div')) {
      if (el.textContent?.trim()) out.push(el.textContent);
    }
    for (const el of document.querySelectorAll('[placeholder], [aria-label], [title], [aria-valuetext], [alt]')) {
      for (const name of ['placeholder', 'aria-label', 'title', 'aria-valuetext', 'alt']) {
        const value = el.getAttribute(name);
        if (value?.trim()) out.push(value);
      }
    }
    out.push(document.title);
    return out;
  });
}

/** The English catalog sentences on the page ("key: text" each), leaving out texts that are data from the servers. */
export async function englishLeftovers(page: Page, language: Language, dataTexts: Set<string> = new Set()): Promise<string[]> {
  const texts = [...new Set((await pageTexts(page)).map(normalize))].filter((text) => !dataTexts.has(text));
  const found = new Set<string>();
  for (const matcher of englishMatchers(language)) {
    const hit = texts.find((text) => matcher.test(text));
    if (hit) found.add(`${matcher.key}: "${matcher.english}" in "${hit.slice(0, 160)}"`);
  }
  return [...found];
}
