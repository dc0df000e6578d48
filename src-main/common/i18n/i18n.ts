import i18next from 'i18next';
import type { i18n as I18n } from 'i18next';
import { en } from './en/index.ts';
import { LANGUAGES, LOCALES } from './languages.ts';
import type { Language, LanguagePreference } from './languages.ts';
import { fi } from './fi/index.ts';
import { sv } from './sv/index.ts';

/**
 * The one way the app, its window and the command line say anything to a person: i18next over the catalogs beside this
 * file (one per language: en/, fi/, sv/, each split by area). English is the source and the fallback; Finnish and
 * Swedish have every key of it (the catalog types make a missing key a type error, test/i18n checks the rest).
 *
 * One language per process: the tray app's main process and the command line set it at start (from the OS and the
 * person's choice), the window sets its own from what the main process chose. Sentences are made in that language
 * when they are said, reports included (docs/app.md, "Languages").
 */

export { LANGUAGES, LANGUAGE_NAMES, LANGUAGE_PREFERENCES, LOCALES } from './languages.ts';
export type { Language, LanguagePreference } from './languages.ts';

export const CATALOGS = { en, fi, sv } as const;
export type Catalog = typeof en;

// ---------- typed keys: 'window.admin.heading'; plurals ('x_one', 'x_other') are asked for as 'x' with a count ----------

type PluralBase<K extends string> = K extends `${infer B}_one` ? B : K extends `${infer B}_other` ? B : K;
type Paths<T> = { [K in keyof T & string]: T[K] extends string ? PluralBase<K> : `${K}.${Paths<T[K]>}` }[keyof T & string];
export type TextKey = Paths<Catalog>;
export type TextParams = Record<string, string | number>;

// ---------- choosing the language ----------

/** 'fi-FI', 'fi_FI.UTF-8', 'sv-FI', 'FI' -> a supported language, or null ('C', 'POSIX', 'de-DE'). */
export function supportedLanguageOf(locale: string | undefined | null): Language | null {
  if (!locale) return null;
  const base = locale.trim().toLowerCase().split(/[-_.@]/)[0];
  return (LANGUAGES as readonly string[]).includes(base) ? (base as Language) : null;
}

/** The person's choice, else the first of the system's languages that the app speaks, else English. */
export function resolveLanguage(preference: LanguagePreference | undefined, systemLocales: readonly (string | undefined | null)[]): Language {
  if (preference && preference !== 'system') return preference;
  for (const locale of systemLocales) {
    const language = supportedLanguageOf(locale);
    if (language) return language;
  }
  return 'en';
}

/** The command line's language from the environment, as POSIX orders it: LC_ALL, then LC_MESSAGES, then LANG. */
export function languageFromEnvironment(env: Record<string, string | undefined>): Language {
  const set = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((v) => v !== undefined && v !== '');
  return supportedLanguageOf(set) ?? 'en';
}

// ---------- the one instance ----------

function createInstance(language: Language): I18n {
  const instance = i18next.createInstance();
  void instance.init({
    lng: language,
    fallbackLng: 'en',
    supportedLngs: [...LANGUAGES],
    resources: Object.fromEntries(LANGUAGES.map((l) => [l, { translation: CATALOGS[l] }])),
    initAsync: false,
    // Text is always set as text (the window never parses it as HTML), so nothing needs escaping here.
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  return instance;
}

let active: Language = 'en';
const instance = createInstance(active);
const listeners = new Set<(language: Language) => void>();

export function setLanguage(language: Language): void {
  active = language;
  void instance.changeLanguage(language);
  for (const listener of listeners) listener(language);
}

/** Called with the language now and on every change (e.g. the settings schema switches zod's own messages). */
export function onLanguage(listener: (language: Language) => void): void {
  listeners.add(listener);
  listener(active);
}

export function currentLanguage(): Language {
  return active;
}

/** A sentence in the current language. Plural keys take `count`. */
export function t(key: TextKey, params?: TextParams): string {
  return instance.t(key, params as Record<string, unknown>) as string;
}

/** A sentence in a given language, whatever the current one is (tests, and a language's own name in the choice). */
export function tIn(language: Language, key: TextKey, params?: TextParams): string {
  return instance.getFixedT(language)(key, params as Record<string, unknown>) as string;
}

// ---------- dates, times and numbers in the current language ----------

export const locale = (): string => LOCALES[active];

export function formatNumber(n: number): string {
  return n.toLocaleString(locale());
}

/** "20 Nov, 10:02" / "20.11. klo 10.02" / "20 nov. 10:02". */
export function formatDayTime(date: Date, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone }).format(date);
}

/** "10:02" / "10.02". */
export function formatTime(date: Date, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit', timeZone }).format(date);
}

/** "20 Nov" / "20.11." / "20 nov.". */
export function formatDay(date: Date, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short', timeZone }).format(date);
}

/** "Fri 20 Nov" / "pe 20.11." / "fre 20 nov.". */
export function formatWeekdayDay(date: Date, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale(), { weekday: 'short', day: 'numeric', month: 'short', timeZone }).format(date);
}

/** "a, b and c" / "a, b ja c" / "a, b och c". */
export function formatList(items: readonly string[]): string {
  return new Intl.ListFormat(locale(), { style: 'long', type: 'conjunction' }).format(items);
}
