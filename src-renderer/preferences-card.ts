import type { PreferencesView } from '../src-main/common/ipc-contract.ts';
import { LANGUAGE_NAMES, LANGUAGE_PREFERENCES, currentLanguage, t } from '../src-main/common/i18n/i18n.ts';
import type { LanguagePreference } from '../src-main/common/i18n/i18n.ts';
import { clear, errorParts, h, problemBox } from './dom.ts';
import type { RendererApi } from './renderer-types.ts';

/**
 * This computer's own preferences: which desktop notifications to show, starting at login, how long a start at login
 * waits before the first sync, and the language (the system's, or one chosen here). Each change is kept at once; a
 * new language loads the window again in it (`onLanguage`).
 */

type Mode = PreferencesView['notifications'];
const MODES: Mode[] = ['errors', 'all', 'off'];

export function renderPreferencesCard(api: RendererApi, onLanguage: () => void = () => {}): { element: HTMLElement; refresh(): Promise<void> } {
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const radios = MODES.map((mode) => {
    const id = `notify-${mode}`;
    const input = h('input', { type: 'radio', name: 'notifications', id, value: mode, 'aria-describedby': `${id}-hint` });
    const row = h('div', { class: 'radio-line' }, input, h('label', { for: id }, t(`forms.preferences.modes.${mode}`)), h('span', { class: 'field-hint', id: `${id}-hint` }, t(`forms.preferences.modes.${mode}Hint`)));
    return { mode, input, row };
  });
  const atLogin = h('input', { type: 'checkbox', id: 'start-at-login', name: 'startAtLogin' });
  const delay = h('input', { type: 'number', id: 'start-delay', name: 'startDelayMinutes', min: '0', max: '120', step: '1', 'aria-describedby': 'start-delay-hint' });
  // Each language by its own name, so someone who cannot read the current one still finds theirs.
  const language = h(
    'select',
    { id: 'language', name: 'language', 'aria-describedby': 'language-hint' },
    LANGUAGE_PREFERENCES.map((choice) => h('option', { value: choice }, choice === 'system' ? '' : LANGUAGE_NAMES[choice])),
  );
  const element = h(
    'section',
    { class: 'card preferences', 'aria-labelledby': 'preferences-heading' },
    h('h3', { id: 'preferences-heading' }, t('forms.preferences.heading')),
    h('fieldset', { class: 'plain' }, h('legend', {}, t('forms.preferences.notifications')), radios.map((r) => r.row)),
    h('div', { class: 'check-line' }, atLogin, h('label', { for: 'start-at-login' }, t('forms.preferences.startAtLogin'))),
    h('div', { class: 'field field-narrow' }, h('label', { for: 'start-delay' }, t('forms.preferences.delay')), delay, h('p', { class: 'field-hint', id: 'start-delay-hint' }, t('forms.preferences.delayHint'))),
    h('div', { class: 'field field-narrow' }, h('label', { for: 'language' }, t('forms.preferences.language')), language, h('p', { class: 'field-hint', id: 'language-hint' }, t('forms.preferences.languageHint'))),
    status,
  );

  const show = (prefs: PreferencesView) => {
    for (const r of radios) r.input.checked = r.mode === prefs.notifications;
    atLogin.checked = prefs.startAtLogin;
    delay.value = String(prefs.startDelayMinutes);
    delay.disabled = !prefs.startAtLogin;
    language.options[0].textContent = t('forms.preferences.languageSystem', { language: LANGUAGE_NAMES[prefs.systemLanguage] });
    language.value = prefs.language;
  };
  const save = async (patch: { notifications?: Mode; startAtLogin?: boolean; startDelayMinutes?: number; language?: LanguagePreference }) => {
    try {
      const prefs = await api.invoke('preferences:set', patch);
      if (prefs.activeLanguage !== currentLanguage()) return onLanguage();
      show(prefs);
      clear(status, h('p', { class: 'ok-text' }, t('window.common.saved')));
    } catch (error) {
      const e = errorParts(error);
      clear(status, problemBox(e.message, e.fix));
    }
  };
  for (const r of radios) r.input.addEventListener('change', () => r.input.checked && void save({ notifications: r.mode }));
  atLogin.addEventListener('change', () => void save({ startAtLogin: atLogin.checked }));
  delay.addEventListener('change', () => void save({ startDelayMinutes: Math.max(0, Math.min(120, Math.round(Number(delay.value) || 0))) }));
  language.addEventListener('change', () => void save({ language: language.value as LanguagePreference }));

  return {
    element,
    async refresh() {
      try {
        show(await api.invoke('preferences:get'));
      } catch (error) {
        const e = errorParts(error);
        clear(status, problemBox(e.message, e.fix));
      }
    },
  };
}
