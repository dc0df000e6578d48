import type { AdminSettingsDraft } from '../src-main/common/ipc-contract.ts';
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

// Every sentence of the real-time settings, in one place.
const TEXT = {
  legend: 'Real time',
  enabled: 'Sync changes within seconds (real time)',
  enabledHint:
    "A change in Outlook or in Severa starts that person's sync at once. Exchange is watched (streaming notifications on-premises; Exchange Online is read every few seconds) and Severa is asked every few seconds what changed, with one request for the whole organization. The interval above stays as the safety net.",
  online: 'Exchange Online: read changes every (seconds)',
  onlineHint: 'Up to 20 mailboxes a request, spread over the interval.',
  ews: 'On-premises Exchange without streaming: read every (seconds)',
  ewsHint: 'Exchange 2007, or a server that refuses streaming notifications.',
  severa: 'Severa: ask what changed every (seconds)',
  severaHint: 'One request for the whole organization.',
};

const seconds = (name: string, min: number, max: number) => h('input', { type: 'number', name, min: String(min), max: String(max), step: '1' });

export function createRealTimeFields(): {
  element: HTMLFieldSetElement;
  byPath: Record<string, Field>;
  all: Field[];
  fill(draft: AdminSettingsDraft): void;
  collect(): RealTime;
} {
  const f = {
    enabled: checkboxField(TEXT.enabled, 'realTimeEnabled', TEXT.enabledHint),
    online: field(TEXT.online, seconds('exchangeOnlinePollSeconds', 1, 300), TEXT.onlineHint),
    ews: field(TEXT.ews, seconds('ewsPollSeconds', 2, 600), TEXT.ewsHint),
    severa: field(TEXT.severa, seconds('severaPollSeconds', 1, 300), TEXT.severaHint),
  };
  f.enabled.row.classList.add('field-wide');
  const box = f.enabled.input as HTMLInputElement;
  const intervals = h('div', { class: 'field-grid' }, f.online.row, f.ews.row, f.severa.row);
  const show = () => {
    intervals.hidden = !box.checked;
  };
  box.addEventListener('change', show);
  const element = h('fieldset', { id: 'real-time' }, h('legend', {}, TEXT.legend), h('div', { class: 'field-grid' }, f.enabled.row), intervals);
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
