import type { ExchangeDraft } from '../src-main/common/ipc-contract.ts';
import type { SecretName } from '../src-main/common/secrets-contract.ts';
import type { ExchangeServerType } from '../src-main/common/settings-schema.ts';
import { t } from '../src-main/common/i18n/i18n.ts';
import { withChooseButton } from './admin-network-fields.ts';
import { h } from './dom.ts';
import { checkboxField, field, textInput } from './form-fields.ts';
import type { Field } from './form-fields.ts';
import type { RendererApi } from './renderer-types.ts';

/**
 * The fields of one Exchange connection: the server type, then either the on-premises server (EWS address, delegate
 * account, its CA file) or Exchange Online (tenant, app, certificate or client secret, and the advanced addresses).
 * The admin section uses it for the organization's connection and for the second one of a hybrid organization.
 * Secrets (delegate password, client secret, the certificate's private key) are write-only inputs: the window sends
 * them to the keychain and never gets them back.
 */

export const SERVER_TYPE_LABELS = {
  Exchange2007_SP1: 'Exchange 2007 SP1',
  Exchange2010: 'Exchange 2010',
  Exchange2013: 'Exchange 2013',
  Exchange2016: 'Exchange 2016',
  Exchange2019: 'Exchange 2019',
  ExchangeServerSE: 'Exchange Server SE',
  Office365: 'Office 365 (Exchange Online)',
} satisfies Record<ExchangeServerType, string>;

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com';


export interface ConnectionFields {
  element: HTMLElement;
  /** Where each settings path shows its problem, for the server type chosen now (`prefix` is 'exchange' or 'secondExchange'). */
  byPath(): Record<string, Field>;
  all(): Field[];
  fill(ex: ExchangeDraft): void;
  collect(): ExchangeDraft;
  isOnline(): boolean;
  /** The secret inputs shown now, with the keychain name each one writes. */
  secrets(): Array<[SecretName, HTMLInputElement | HTMLTextAreaElement]>;
  showSecrets(stored: Record<SecretName, boolean>): void;
  /** The secrets are one per kind of connection: a second connection of the first one's kind leaves them to it. */
  shareSecretsWith(firstIsOnline: boolean | null): void;
  /** The Exchange Online ids as typed, for the help's commands. */
  onlineIds(): { tenant: string; clientId: string };
  serverTypeInput: HTMLSelectElement;
}

export function createConnectionFields(api: RendererApi, prefix: 'exchange' | 'secondExchange', label: string): ConnectionFields {
  const id = (name: string) => (prefix === 'exchange' ? name : `second${name[0].toUpperCase()}${name.slice(1)}`);
  const serverType = h('select', { name: id('serverType') }, Object.entries(SERVER_TYPE_LABELS).map(([value, text]) => h('option', { value }, text)));
  const f = {
    serverType: field(t('forms.connection.serverType'), serverType),
    ewsUrl: field(t('forms.connection.ewsUrl'), textInput(id('ewsUrl'), { placeholder: 'https://mail.example.com/EWS/Exchange.asmx', inputmode: 'url' })),
    domain: field(t('forms.connection.domain'), textInput(id('domain'), { placeholder: 'CONTOSO' }), t('forms.connection.domainHint')),
    username: field(t('forms.connection.username'), textInput(id('username'), { placeholder: 'svc-severa-sync' }), t('forms.connection.usernameHint')),
    password: field(t('forms.connection.password'), h('input', { type: 'password', name: id('delegatePassword'), autocomplete: 'new-password' })),
    authMethod: field(t('forms.connection.authMethod'), h('select', { name: id('authMethod') }, h('option', { value: 'ntlm' }, t('forms.connection.ntlm')), h('option', { value: 'basic' }, 'Basic'))),
    ewsCa: withChooseButton(field(t('forms.connection.caFile'), textInput(id('exchangeCaFile'), { placeholder: '/etc/ssl/contoso-root-ca.pem' }), t('forms.connection.caHintOnPremises')), api, t('forms.connection.chooseCa', { what: label })),
    ewsHttp: checkboxField(t('forms.connection.http'), id('exchangeAllowHttp'), t('forms.connection.httpHint')),
    tenantId: field(t('forms.connection.tenant'), textInput(id('tenantId'), { placeholder: 'contoso.onmicrosoft.com' }), t('forms.connection.tenantHint')),
    clientId: field(t('forms.connection.clientId'), textInput(id('appClientId'), { placeholder: '00000000-0000-0000-0000-000000000000' }), t('forms.connection.clientIdHint')),
    credential: field(t('forms.connection.credential'), h('select', { name: id('credential') }, h('option', { value: 'certificate' }, t('forms.connection.certificate')), h('option', { value: 'secret' }, t('forms.connection.secret')))),
    certificateFile: withChooseButton(field(t('forms.connection.certificateFile'), textInput(id('certificateFile'), { placeholder: 'severa-sync.pem' }), t('forms.connection.certificateFileHint')), api, t('forms.connection.chooseCertificate'), 'graph-certificate'),
    privateKey: field(t('forms.connection.privateKey'), h('textarea', { name: id('certificateKey'), class: 'secret-text', rows: '3', autocomplete: 'off', spellcheck: 'false' }), t('forms.connection.privateKeyHint')),
    clientSecret: field(t('forms.connection.clientSecret'), h('input', { type: 'password', name: id('clientSecret'), autocomplete: 'new-password' }), t('forms.connection.clientSecretHint')),
    secretExpires: field(t('forms.connection.secretExpires'), h('input', { type: 'date', name: id('secretExpires') }), t('forms.connection.secretExpiresHint')),
    authorityHost: field(t('forms.connection.authorityHost'), textInput(id('authorityHost'), { placeholder: DEFAULT_AUTHORITY_HOST, inputmode: 'url' }), t('forms.connection.authorityHostHint')),
    graphUrl: field(t('forms.connection.graphUrl'), textInput(id('graphUrl'), { placeholder: DEFAULT_GRAPH_URL, inputmode: 'url' }), t('forms.connection.graphUrlHint')),
    onlineCa: withChooseButton(field(t('forms.connection.caFile'), textInput(id('onlineCaFile')), t('forms.connection.caHintOnline')), api, t('forms.connection.chooseCa', { what: prefix === 'exchange' ? 'Exchange Online' : t('forms.connection.secondOnline', { label }) })),
  };
  for (const wide of [f.ewsUrl, f.ewsCa, f.certificateFile, f.privateKey, f.onlineCa]) wide.row.classList.add('field-wide');
  const sharedNote = h('p', { class: 'field-hint shared-secrets' });
  const onPremises = h('div', { class: 'field-grid on-premises-fields' }, f.ewsUrl.row, f.authMethod.row, f.domain.row, f.username.row, f.password.row, f.ewsCa.row, f.ewsHttp.row);
  const advanced = h('details', { class: 'advanced' }, h('summary', {}, t('forms.connection.advanced')), h('div', { class: 'field-grid' }, f.authorityHost.row, f.graphUrl.row, f.onlineCa.row));
  const onlineNote = h('div', { class: 'callout callout-info', role: 'note' }, h('p', { class: 'callout-message' }, t('forms.connection.onlineNote')), h('p', {}, t('forms.connection.onlineNoteMore')));
  const online = h(
    'div',
    { class: 'online-fields' },
    onlineNote,
    h('div', { class: 'field-grid' }, f.tenantId.row, f.clientId.row, f.credential.row, f.certificateFile.row, f.privateKey.row, f.clientSecret.row, f.secretExpires.row),
    advanced,
  );
  const element = h('div', { class: 'connection-fields', 'data-connection': prefix }, h('div', { class: 'field-grid' }, f.serverType.row), onPremises, online, sharedNote);
  let sharing: boolean | null = null;

  const isOnline = () => serverType.value === 'Office365';
  const isCertificate = () => f.credential.input.value === 'certificate';
  const shared = () => sharing !== null && sharing === isOnline();
  const show = () => {
    const on = isOnline();
    onPremises.hidden = on;
    online.hidden = !on;
    // The first connection explains Exchange Online; a second one is beside it and needs no second explanation.
    onlineNote.hidden = prefix !== 'exchange';
    f.certificateFile.row.hidden = !isCertificate();
    f.privateKey.row.hidden = !isCertificate() || shared();
    f.clientSecret.row.hidden = isCertificate() || shared();
    f.secretExpires.row.hidden = isCertificate();
    f.password.row.hidden = shared();
    sharedNote.hidden = !shared();
    sharedNote.textContent = on ? t('forms.connection.sharedOnline') : t('forms.connection.sharedPassword');
  };
  serverType.addEventListener('change', show);
  f.credential.input.addEventListener('change', show);

  const value = (fl: Field) => fl.input.value;
  const p = (name: string) => `${prefix}.${name}`;

  return {
    element,
    serverTypeInput: serverType,
    byPath() {
      const common = { [p('serverType')]: f.serverType };
      if (isOnline()) {
        return {
          ...common,
          [p('tenantId')]: f.tenantId,
          [p('clientId')]: f.clientId,
          [p('credential')]: f.credential,
          [p('certificateFile')]: f.certificateFile,
          [p('secretExpires')]: f.secretExpires,
          [p('authorityHost')]: f.authorityHost,
          [p('graphUrl')]: f.graphUrl,
          [p('caFile')]: f.onlineCa,
        };
      }
      return { ...common, [p('ewsUrl')]: f.ewsUrl, [p('domain')]: f.domain, [p('username')]: f.username, [p('authMethod')]: f.authMethod, [p('caFile')]: f.ewsCa, [p('allowInsecureHttp')]: f.ewsHttp };
    },
    all: () => Object.values(f),
    isOnline,
    fill(ex) {
      serverType.value = ex.serverType;
      f.ewsUrl.input.value = ex.ewsUrl ?? '';
      f.domain.input.value = ex.domain ?? '';
      f.username.input.value = ex.username ?? '';
      f.authMethod.input.value = ex.authMethod ?? 'ntlm';
      (f.ewsHttp.input as HTMLInputElement).checked = ex.allowInsecureHttp ?? false;
      f.tenantId.input.value = ex.tenantId ?? '';
      f.clientId.input.value = ex.clientId ?? '';
      f.credential.input.value = ex.credential ?? 'certificate';
      f.certificateFile.input.value = ex.certificateFile ?? '';
      f.secretExpires.input.value = ex.secretExpires ?? '';
      f.authorityHost.input.value = ex.authorityHost ?? DEFAULT_AUTHORITY_HOST;
      f.graphUrl.input.value = ex.graphUrl ?? DEFAULT_GRAPH_URL;
      const onlineType = ex.serverType === 'Office365';
      f.ewsCa.input.value = onlineType ? '' : (ex.caFile ?? '');
      f.onlineCa.input.value = onlineType ? (ex.caFile ?? '') : '';
      // Advanced settings that are not Microsoft's defaults stay in view.
      advanced.open = onlineType && (value(f.authorityHost) !== DEFAULT_AUTHORITY_HOST || value(f.graphUrl) !== DEFAULT_GRAPH_URL || Boolean(ex.caFile));
      show();
    },
    collect(): ExchangeDraft {
      const type = serverType.value as ExchangeServerType;
      if (type === 'Office365') {
        return {
          serverType: type,
          tenantId: value(f.tenantId),
          clientId: value(f.clientId),
          credential: value(f.credential) as 'certificate' | 'secret',
          certificateFile: value(f.certificateFile),
          secretExpires: value(f.secretExpires),
          authorityHost: value(f.authorityHost),
          graphUrl: value(f.graphUrl),
          caFile: value(f.onlineCa),
        };
      }
      return {
        serverType: type,
        ewsUrl: value(f.ewsUrl),
        domain: value(f.domain),
        username: value(f.username),
        authMethod: value(f.authMethod) as 'ntlm' | 'basic',
        allowInsecureHttp: (f.ewsHttp.input as HTMLInputElement).checked,
        caFile: value(f.ewsCa),
      };
    },
    secrets() {
      if (shared()) return [];
      if (!isOnline()) return [['exchange-delegate-password', f.password.input as HTMLInputElement]];
      return isCertificate() ? [['graph-certificate-key', f.privateKey.input as HTMLTextAreaElement]] : [['graph-client-secret', f.clientSecret.input as HTMLInputElement]];
    },
    showSecrets(stored) {
      const placeholder = (name: SecretName) => (stored[name] ? t('window.common.secretStored') : t('window.common.secretNotStored'));
      f.password.input.setAttribute('placeholder', placeholder('exchange-delegate-password'));
      f.clientSecret.input.setAttribute('placeholder', placeholder('graph-client-secret'));
      f.privateKey.input.setAttribute('placeholder', placeholder('graph-certificate-key'));
    },
    shareSecretsWith(firstIsOnline) {
      sharing = firstIsOnline;
      show();
    },
    onlineIds: () => ({ tenant: value(f.tenantId).trim(), clientId: value(f.clientId).trim() }),
  };
}
