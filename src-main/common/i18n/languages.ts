/** The languages the app speaks (no i18next here: the IPC contract and the preload import this much only). */

export const LANGUAGES = ['en', 'fi', 'sv'] as const;
export type Language = (typeof LANGUAGES)[number];
/** The person's choice in the settings: follow the system, or one language. */
export const LANGUAGE_PREFERENCES = ['system', ...LANGUAGES] as const;
export type LanguagePreference = (typeof LANGUAGE_PREFERENCES)[number];

/** Each language's own name, as its speakers write it (shown in the language choice, never translated). */
export const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', fi: 'suomi', sv: 'svenska' };

/** The locale used for dates and numbers in each language. */
export const LOCALES: Record<Language, string> = { en: 'en-GB', fi: 'fi-FI', sv: 'sv-SE' };

