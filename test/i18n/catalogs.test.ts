import { describe, expect, it } from 'vitest';
import { CATALOGS, LANGUAGES, tIn } from '../../src-main/common/i18n/i18n.ts';
import type { Language } from '../../src-main/common/i18n/i18n.ts';

/**
 * The catalogs agree: every key of the English source is in Finnish and Swedish (and no other key), every text is a
 * non-empty string, and each translation has the same {{placeholders}} as the English, so no value is lost or left as
 * "{{email}}" in one language. The types check the keys too (CatalogOf); this also catches a catalog built at run time
 * differently, and placeholders, which the types cannot see.
 */

function leaves(node: unknown, prefix = ''): [string, unknown][] {
  if (typeof node !== 'object' || node === null) return [[prefix, node]];
  return Object.entries(node).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

const placeholders = (text: string) => [...new Set([...text.matchAll(/\{\{\s*([^}\s]+)\s*\}\}/g)].map((m) => m[1]))].sort();

const english = new Map(leaves(CATALOGS.en));
const others = LANGUAGES.filter((l): l is Exclude<Language, 'en'> => l !== 'en');

describe('the catalogs', () => {
  it('English has only non-empty strings', () => {
    const bad = [...english].filter(([, text]) => typeof text !== 'string' || text.trim() === '').map(([key]) => key);
    expect(bad).toEqual([]);
  });

  it.each(others)('%s has every key of English and no other', (language) => {
    const translated = new Map(leaves(CATALOGS[language]));
    expect([...english.keys()].filter((key) => !translated.has(key)), 'missing').toEqual([]);
    expect([...translated.keys()].filter((key) => !english.has(key)), 'extra').toEqual([]);
    const bad = [...translated].filter(([, text]) => typeof text !== 'string' || text.trim() === '').map(([key]) => key);
    expect(bad, 'empty or not text').toEqual([]);
  });

  it.each(others)('%s has the same placeholders as English in every text', (language) => {
    const translated = new Map(leaves(CATALOGS[language]));
    const differing = [...english]
      .filter(([key, text]) => translated.has(key) && placeholders(String(text)).join() !== placeholders(String(translated.get(key))).join())
      .map(([key, text]) => `${key}: en ${placeholders(String(text)).join(',') || '-'}, ${language} ${placeholders(String(translated.get(key))).join(',') || '-'}`);
    expect(differing).toEqual([]);
  });

  it.each(LANGUAGES)('%s fills the values of a sentence and chooses the plural by count', (language) => {
    expect(tIn(language, 'cli.args.unknownCommand', { name: 'frobnicate' })).toContain('"frobnicate"');
    const one = tIn(language, 'cli.checks.someFailed', { failed: 1, count: 1 });
    const many = tIn(language, 'cli.checks.someFailed', { failed: 2, count: 5 });
    expect(one).not.toBe(many);
    expect(many).toContain('5');
    expect(`${one} ${many}`).not.toMatch(/\{\{|\}\}/);
  });
});
