import type { PreferencesView } from '../src-main/common/ipc-contract.ts';
import { clear, errorParts, h, problemBox } from './dom.ts';
import type { RendererApi } from './renderer-types.ts';

/**
 * This computer's own preferences: which desktop notifications to show, starting at login, and how long a start at
 * login waits before the first sync. Each change is kept at once.
 */

type Mode = PreferencesView['notifications'];

// Every sentence of the card, in one place.
const TEXT = {
  heading: 'This computer',
  notifications: 'Desktop notifications',
  modes: {
    errors: ['Problems only', 'A new problem, once, and when it is fixed (recommended).'],
    all: ['Everything', 'Also each first sync and every sync that changed entries.'],
    off: ['None', 'The tray icon still shows when something needs attention.'],
  } satisfies Record<Mode, [string, string]>,
  startAtLogin: 'Start Severa Calendar Sync when I log in',
  delay: 'Wait before the first sync (minutes)',
  delayHint: 'After a start at login, so the computer can settle first. 0: at once.',
  saved: '✓ Saved',
};

export function renderPreferencesCard(api: RendererApi): { element: HTMLElement; refresh(): Promise<void> } {
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const radios = (Object.keys(TEXT.modes) as Mode[]).map((mode) => {
    const id = `notify-${mode}`;
    const input = h('input', { type: 'radio', name: 'notifications', id, value: mode, 'aria-describedby': `${id}-hint` });
    const row = h('div', { class: 'radio-line' }, input, h('label', { for: id }, TEXT.modes[mode][0]), h('span', { class: 'field-hint', id: `${id}-hint` }, TEXT.modes[mode][1]));
    return { mode, input, row };
  });
  const atLogin = h('input', { type: 'checkbox', id: 'start-at-login', name: 'startAtLogin' });
  const delay = h('input', { type: 'number', id: 'start-delay', name: 'startDelayMinutes', min: '0', max: '120', step: '1', 'aria-describedby': 'start-delay-hint' });
  const element = h(
    'section',
    { class: 'card preferences', 'aria-labelledby': 'preferences-heading' },
    h('h3', { id: 'preferences-heading' }, TEXT.heading),
    h('fieldset', { class: 'plain' }, h('legend', {}, TEXT.notifications), radios.map((r) => r.row)),
    h('div', { class: 'check-line' }, atLogin, h('label', { for: 'start-at-login' }, TEXT.startAtLogin)),
    h('div', { class: 'field field-narrow' }, h('label', { for: 'start-delay' }, TEXT.delay), delay, h('p', { class: 'field-hint', id: 'start-delay-hint' }, TEXT.delayHint)),
    status,
  );

  const show = (prefs: PreferencesView) => {
    for (const r of radios) r.input.checked = r.mode === prefs.notifications;
    atLogin.checked = prefs.startAtLogin;
    delay.value = String(prefs.startDelayMinutes);
    delay.disabled = !prefs.startAtLogin;
  };
  const save = async (patch: { notifications?: Mode; startAtLogin?: boolean; startDelayMinutes?: number }) => {
    try {
      show(await api.invoke('preferences:set', patch));
      clear(status, h('p', { class: 'ok-text' }, TEXT.saved));
    } catch (error) {
      const e = errorParts(error);
      clear(status, problemBox(e.message, e.fix));
    }
  };
  for (const r of radios) r.input.addEventListener('change', () => r.input.checked && void save({ notifications: r.mode }));
  atLogin.addEventListener('change', () => void save({ startAtLogin: atLogin.checked }));
  delay.addEventListener('change', () => void save({ startDelayMinutes: Math.max(0, Math.min(120, Math.round(Number(delay.value) || 0))) }));

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
