import type { AdminSettingsDraft } from '../src-main/common/ipc-contract.ts';
import { t } from '../src-main/common/i18n/i18n.ts';
import { h } from './dom.ts';
import { checkboxField, field } from './form-fields.ts';
import type { Field } from './form-fields.ts';

/**
 * Near real time (settings `realTime`, src-main/runner/live-sync.ts): on or off, and how often what cannot be watched
 * is asked. The scheduled interval stays as the safety net either way.
 */

type RealTime = NonNullable<AdminSettingsDraft['realTime']>;

/**
 * The settings schema's defaults (REAL_TIME_DEFAULTS), for a form without stored settings; the window does not load the
 * schema (zod) itself. test/electron/window-requests.test.ts holds the two equal.
 */
export const REAL_TIME_FORM_DEFAULTS: RealTime = { enabled: false, exchangeOnlinePollSeconds: 2, ewsPollSeconds: 15, severaPollSeconds: 3 };


const seconds = (name: string, min: number, max: number) => h('input', { type: 'number', name, min: String(min), max: String(max), step: '1' });

export function createRealTimeFields(): {
  element: HTMLFieldSetElement;
  byPath: Record<string, Field>;
  all: Field[];
  fill(draft: AdminSettingsDraft): void;
  collect(): RealTime;
} {
  const f = {
    enabled: checkboxField(t('forms.realTime.enabled'), 'realTimeEnabled', t('forms.realTime.enabledHint')),
    online: field(t('forms.realTime.online'), seconds('exchangeOnlinePollSeconds', 1, 300), t('forms.realTime.onlineHint')),
    ews: field(t('forms.realTime.ews'), seconds('ewsPollSeconds', 2, 600), t('forms.realTime.ewsHint')),
    severa: field(t('forms.realTime.severa'), seconds('severaPollSeconds', 1, 300), t('forms.realTime.severaHint')),
  };
  f.enabled.row.classList.add('field-wide');
  const box = f.enabled.input as HTMLInputElement;
  const intervals = h('div', { class: 'field-grid' }, f.online.row, f.ews.row, f.severa.row);
  const show = () => {
    intervals.hidden = !box.checked;
  };
  box.addEventListener('change', show);
  const element = h('fieldset', { id: 'real-time' }, h('legend', {}, t('forms.realTime.legend')), h('div', { class: 'field-grid' }, f.enabled.row), intervals);
  return {
    element,
    byPath: { 'realTime.enabled': f.enabled, 'realTime.exchangeOnlinePollSeconds': f.online, 'realTime.ewsPollSeconds': f.ews, 'realTime.severaPollSeconds': f.severa },
    all: Object.values(f),
    fill(draft) {
      const rt = { ...REAL_TIME_FORM_DEFAULTS, ...draft.realTime };
      box.checked = rt.enabled;
      f.online.input.value = String(rt.exchangeOnlinePollSeconds);
      f.ews.input.value = String(rt.ewsPollSeconds);
      f.severa.input.value = String(rt.severaPollSeconds);
      show();
    },
    collect: () => ({
      enabled: box.checked,
      exchangeOnlinePollSeconds: Number(f.online.input.value),
      ewsPollSeconds: Number(f.ews.input.value),
      severaPollSeconds: Number(f.severa.input.value),
    }),
  };
}
