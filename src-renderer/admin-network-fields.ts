import type { AdminSettingsDraft, FilePurpose } from '../src-main/common/ipc-contract.ts';
import { t } from '../src-main/common/i18n/i18n.ts';
import { h } from './dom.ts';
import { checkboxField, field, numberInput, textInput } from './form-fields.ts';
import type { Field } from './form-fields.ts';
import type { RendererApi } from './renderer-types.ts';

/**
 * The admin settings that the docs and the error messages name, beyond the addresses and logins: Severa's CA
 * certificate file and its http-only opt-in, the proxy (system settings, none, or one named here, with its login),
 * and the mass-deletion guard's limits. (Each Exchange connection's own CA file is with its fields:
 * exchange-connection-fields.ts.)
 */

type ProxyMode = NonNullable<AdminSettingsDraft['network']>['proxyMode'];


const PROXY_MODES: ProxyMode[] = ['system', 'none', 'manual'];

export interface NetworkFields {
  severaCa: Field;
  severaHttp: Field;
  proxyMode: Field;
  proxyUrl: Field;
  proxyBypass: Field;
  proxyUser: Field;
  proxyPassword: Field;
  maxItems: Field;
  maxPercent: Field;
}

/** Puts a Choose… button beside a path field: the system's file dialog (in the main process) fills it in. */
export function withChooseButton(f: Field, api: RendererApi, ariaLabel: string, purpose: FilePurpose = 'ca-certificate'): Field {
  const button = h('button', { type: 'button', class: 'choose-file', 'aria-label': ariaLabel }, t('forms.network.choose'));
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const { path } = await api.invoke('file:choose', { purpose });
      if (path) {
        f.input.value = path;
        f.input.dispatchEvent(new Event('input', { bubbles: true }));
      }
    } finally {
      button.disabled = false;
    }
  });
  const wrapper = h('div', { class: 'input-with-button' });
  f.input.replaceWith(wrapper);
  wrapper.append(f.input, button);
  return f;
}

export function createNetworkFields(api: RendererApi): {
  fields: NetworkFields;
  byPath: Record<string, Field>;
  /** Shows the proxy's own fields only when a proxy is named here. */
  showProxyFields(): void;
  fill(draft: AdminSettingsDraft): void;
  collect(): Pick<AdminSettingsDraft, 'network' | 'deletionGuard'> & { severaCa: string; severaHttp: boolean };
} {
  const fields: NetworkFields = {
    severaCa: withChooseButton(field(t('forms.connection.caFile'), textInput('severaCaFile'), t('forms.network.caHintSevera')), api, t('forms.connection.chooseCa', { what: 'Severa' })),
    severaHttp: checkboxField(t('forms.network.httpSevera'), 'severaAllowHttp', t('forms.network.httpHintSevera')),
    proxyMode: field(t('forms.network.proxyMode'), h('select', { name: 'proxyMode' }, PROXY_MODES.map((m) => h('option', { value: m }, t(`forms.network.modes.${m}`)))), t('forms.network.proxyModeHint')),
    proxyUrl: field(t('forms.network.proxyUrl'), textInput('proxyUrl', { placeholder: 'http://proxy.example.com:8080', inputmode: 'url' }), t('forms.network.proxyUrlHint')),
    proxyBypass: field(t('forms.network.proxyBypass'), textInput('proxyBypass', { placeholder: 'localhost, .contoso.local' }), t('forms.network.proxyBypassHint')),
    proxyUser: field(t('forms.network.proxyUser'), textInput('proxyUsername'), t('forms.network.proxyUserHint')),
    proxyPassword: field(t('forms.network.proxyPassword'), h('input', { type: 'password', name: 'proxyPassword', autocomplete: 'new-password' })),
    maxItems: field(t('forms.network.maxItems'), numberInput('deletionMaxItems', 0, 100_000), t('forms.network.maxItemsHint')),
    maxPercent: field(t('forms.network.maxPercent'), numberInput('deletionMaxPercent', 0, 100), t('forms.network.maxPercentHint')),
  };
  fields.severaCa.row.classList.add('field-wide');
  fields.proxyMode.row.classList.add('field-wide');
  fields.proxyUrl.row.classList.add('field-wide');
  fields.proxyBypass.row.classList.add('field-wide');
  const byPath: Record<string, Field> = {
    'severa.caFile': fields.severaCa,
    'severa.allowInsecureHttp': fields.severaHttp,
    'network.proxyMode': fields.proxyMode,
    'network.proxyUrl': fields.proxyUrl,
    'network.proxyBypass': fields.proxyBypass,
    'network.proxyUsername': fields.proxyUser,
    'deletionGuard.maxItems': fields.maxItems,
    'deletionGuard.maxPercent': fields.maxPercent,
  };
  const checkbox = (f: Field) => f.input as HTMLInputElement;
  const showProxyFields = () => {
    const manual = fields.proxyMode.input.value === 'manual';
    const none = fields.proxyMode.input.value === 'none';
    fields.proxyUrl.row.hidden = !manual;
    fields.proxyBypass.row.hidden = !manual;
    fields.proxyUser.row.hidden = none;
    fields.proxyPassword.row.hidden = none;
  };
  fields.proxyMode.input.addEventListener('change', showProxyFields);
  return {
    fields,
    byPath,
    showProxyFields,
    fill(draft) {
      fields.severaCa.input.value = draft.severa.caFile ?? '';
      checkbox(fields.severaHttp).checked = draft.severa.allowInsecureHttp ?? false;
      const network = draft.network ?? { proxyMode: 'system' };
      fields.proxyMode.input.value = network.proxyMode;
      fields.proxyUrl.input.value = network.proxyUrl ?? '';
      fields.proxyBypass.input.value = network.proxyBypass ?? '';
      fields.proxyUser.input.value = network.proxyUsername ?? '';
      fields.maxItems.input.value = String(draft.deletionGuard?.maxItems ?? 10);
      fields.maxPercent.input.value = String(draft.deletionGuard?.maxPercent ?? 20);
      showProxyFields();
    },
    collect() {
      return {
        severaCa: fields.severaCa.input.value,
        severaHttp: checkbox(fields.severaHttp).checked,
        network: {
          proxyMode: fields.proxyMode.input.value as ProxyMode,
          proxyUrl: fields.proxyUrl.input.value,
          proxyBypass: fields.proxyBypass.input.value,
          proxyUsername: fields.proxyUser.input.value,
        },
        deletionGuard: { maxItems: Number(fields.maxItems.input.value), maxPercent: Number(fields.maxPercent.input.value) },
      };
    },
  };
}
