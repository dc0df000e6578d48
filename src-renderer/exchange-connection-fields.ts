import type { ExchangeDraft } from '../src-main/common/ipc-contract.ts';
import type { SecretName } from '../src-main/common/secrets-contract.ts';
import type { ExchangeServerType } from '../src-main/common/settings-schema.ts';
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

// Every label and hint of a connection's fields, in one place.
const TEXT = {
  serverType: 'Exchange server',
  ewsUrl: 'EWS address',
  domain: 'NetBIOS domain',
  domainHint: 'Leave empty when the user name is a UPN (name@domain).',
  username: 'Delegate user name',
  usernameHint: 'The service account with the ApplicationImpersonation role.',
  password: 'Delegate password',
  authMethod: 'Sign-in method',
  ntlm: 'NTLM (usual)',
  basic: 'Basic',
  caFile: 'CA certificate file (optional)',
  caHintOnPremises: "A PEM file of your own certificate authority, when the Exchange server's certificate comes from it. Certificate checking is never switched off.",
  caHintOnline: 'Only behind a proxy that inspects TLS: the PEM file of its certificate authority. Certificate checking is never switched off.',
  chooseCa: (what: string) => `Choose the CA certificate file for ${what}`,
  http: 'Allow http:// (unencrypted) for this server',
  httpHint: 'Only for a test server: http:// sends the delegate password without protection.',
  onlineNote: 'Exchange Online: the sync signs in as an app registered in Microsoft Entra ID (app-only OAuth through Microsoft Graph).',
  onlineNoteMore:
    'No delegate account and no user password: Microsoft switched off basic authentication and removed ApplicationImpersonation (February 2025). Each person proves their mailbox is theirs by signing in with Microsoft under My sync.',
  tenant: 'Tenant',
  tenantHint: "Its domain (contoso.onmicrosoft.com) or its Directory (tenant) ID, from the app registration's overview page.",
  clientId: 'Application (client) id',
  clientIdHint: "The app registration's Application (client) ID, a GUID.",
  credential: 'Credential',
  credentials: { certificate: 'Certificate (recommended)', secret: 'Client secret' },
  certificateFile: 'Certificate file',
  certificateFileHint: 'The PEM file of the certificate uploaded to the app registration (its public part).',
  chooseCertificate: "Choose the app's certificate file",
  privateKey: "Certificate's private key",
  privateKeyHint: 'Paste the private key (-----BEGIN PRIVATE KEY-----) once: it goes to the system keychain, never to the settings file.',
  clientSecret: 'Client secret',
  clientSecretHint: "The secret's Value from Certificates & secrets (not its Secret ID).",
  secretExpires: 'Client secret expires on',
  secretExpiresHint: 'As the Entra admin center shows it: Test connection warns 30 days ahead.',
  advanced: 'Advanced: national clouds and TLS-inspecting proxies',
  authorityHost: 'Sign-in address',
  authorityHostHint: 'Microsoft Entra ID for the public cloud; national clouds have their own.',
  graphUrl: 'Microsoft Graph address',
  graphUrlHint: 'Microsoft Graph for the public cloud; national clouds have their own.',
  sharedPassword: 'Signs in as its own delegate user with the delegate password entered for the first connection.',
  sharedOnline: "Uses the app's credential entered for the first connection.",
  secretStored: 'Stored — type to replace',
  secretNotStored: 'Not stored yet',
};

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
    serverType: field(TEXT.serverType, serverType),
    ewsUrl: field(TEXT.ewsUrl, textInput(id('ewsUrl'), { placeholder: 'https://mail.example.com/EWS/Exchange.asmx', inputmode: 'url' })),
    domain: field(TEXT.domain, textInput(id('domain'), { placeholder: 'CONTOSO' }), TEXT.domainHint),
    username: field(TEXT.username, textInput(id('username'), { placeholder: 'svc-severa-sync' }), TEXT.usernameHint),
    password: field(TEXT.password, h('input', { type: 'password', name: id('delegatePassword'), autocomplete: 'new-password' })),
    authMethod: field(TEXT.authMethod, h('select', { name: id('authMethod') }, h('option', { value: 'ntlm' }, TEXT.ntlm), h('option', { value: 'basic' }, TEXT.basic))),
    ewsCa: withChooseButton(field(TEXT.caFile, textInput(id('exchangeCaFile'), { placeholder: '/etc/ssl/contoso-root-ca.pem' }), TEXT.caHintOnPremises), api, TEXT.chooseCa(label)),
    ewsHttp: checkboxField(TEXT.http, id('exchangeAllowHttp'), TEXT.httpHint),
    tenantId: field(TEXT.tenant, textInput(id('tenantId'), { placeholder: 'contoso.onmicrosoft.com' }), TEXT.tenantHint),
    clientId: field(TEXT.clientId, textInput(id('appClientId'), { placeholder: '00000000-0000-0000-0000-000000000000' }), TEXT.clientIdHint),
    credential: field(TEXT.credential, h('select', { name: id('credential') }, h('option', { value: 'certificate' }, TEXT.credentials.certificate), h('option', { value: 'secret' }, TEXT.credentials.secret))),
    certificateFile: withChooseButton(field(TEXT.certificateFile, textInput(id('certificateFile'), { placeholder: 'severa-sync.pem' }), TEXT.certificateFileHint), api, TEXT.chooseCertificate, 'graph-certificate'),
    privateKey: field(TEXT.privateKey, h('textarea', { name: id('certificateKey'), class: 'secret-text', rows: '3', autocomplete: 'off', spellcheck: 'false' }), TEXT.privateKeyHint),
    clientSecret: field(TEXT.clientSecret, h('input', { type: 'password', name: id('clientSecret'), autocomplete: 'new-password' }), TEXT.clientSecretHint),
    secretExpires: field(TEXT.secretExpires, h('input', { type: 'date', name: id('secretExpires') }), TEXT.secretExpiresHint),
    authorityHost: field(TEXT.authorityHost, textInput(id('authorityHost'), { placeholder: DEFAULT_AUTHORITY_HOST, inputmode: 'url' }), TEXT.authorityHostHint),
    graphUrl: field(TEXT.graphUrl, textInput(id('graphUrl'), { placeholder: DEFAULT_GRAPH_URL, inputmode: 'url' }), TEXT.graphUrlHint),
    onlineCa: withChooseButton(field(TEXT.caFile, textInput(id('onlineCaFile')), TEXT.caHintOnline), api, TEXT.chooseCa(prefix === 'exchange' ? 'Exchange Online' : `${label} (Exchange Online)`)),
  };
  for (const wide of [f.ewsUrl, f.ewsCa, f.certificateFile, f.privateKey, f.onlineCa]) wide.row.classList.add('field-wide');
  const sharedNote = h('p', { class: 'field-hint shared-secrets' });
  const onPremises = h('div', { class: 'field-grid on-premises-fields' }, f.ewsUrl.row, f.authMethod.row, f.domain.row, f.username.row, f.password.row, f.ewsCa.row, f.ewsHttp.row);
  const advanced = h('details', { class: 'advanced' }, h('summary', {}, TEXT.advanced), h('div', { class: 'field-grid' }, f.authorityHost.row, f.graphUrl.row, f.onlineCa.row));
  const onlineNote = h('div', { class: 'callout callout-info', role: 'note' }, h('p', { class: 'callout-message' }, TEXT.onlineNote), h('p', {}, TEXT.onlineNoteMore));
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
    sharedNote.textContent = on ? TEXT.sharedOnline : TEXT.sharedPassword;
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
      const placeholder = (name: SecretName) => (stored[name] ? TEXT.secretStored : TEXT.secretNotStored);
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
