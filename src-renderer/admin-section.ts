import type { ActivityTypeView, AdminSettingsDraft, CheckView, FieldIssue } from '../src-main/common/ipc-contract.ts';
import type { ExchangeServerType } from '../src-main/common/settings-schema.ts';
import type { SecretName } from '../src-main/common/secrets-contract.ts';
import { clear, errorParts, h, problemBox, uniqueId } from './dom.ts';
import type { RendererApi } from './renderer-types.ts';

const SERVER_TYPE_LABELS = {
  Exchange2007_SP1: 'Exchange 2007 SP1',
  Exchange2010: 'Exchange 2010',
  Exchange2013: 'Exchange 2013',
  Exchange2016: 'Exchange 2016',
  Exchange2019: 'Exchange 2019',
  ExchangeServerSE: 'Exchange Server SE',
  Office365: 'Office 365 (Exchange Online)',
} satisfies Record<ExchangeServerType, string>;

const DEFAULT_DRAFT: AdminSettingsDraft = {
  exchange: { serverType: 'Exchange2019', ewsUrl: '', domain: '', username: '', authMethod: 'ntlm' },
  severa: { apiUrl: 'https://api.severa.visma.com/rest-api', clientId: '' },
  activityTypesToExchange: [],
  intervalMinutes: 15,
  windowDaysAhead: 365,
};

interface Field {
  input: HTMLInputElement | HTMLSelectElement;
  error: HTMLElement;
  row: HTMLElement;
}

/** One labelled form row with its own error line, tied together for screen readers. */
function field(label: string, input: HTMLInputElement | HTMLSelectElement, hint?: string): Field {
  const id = input.id || uniqueId('f');
  input.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' });
  const hintEl = hint ? h('p', { class: 'field-hint', id: `${id}-hint` }, hint) : null;
  input.setAttribute('aria-describedby', [hintEl ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '));
  const row = h('div', { class: 'field' }, h('label', { for: id }, label), input, hintEl, error);
  return { input, error, row };
}

const textInput = (name: string, attrs: Record<string, string> = {}) => h('input', { type: 'text', name, autocomplete: 'off', spellcheck: 'false', ...attrs });

export function renderAdminSection(panel: HTMLElement, api: RendererApi): { refresh(): Promise<void> } {
  const f = {
    serverType: field('Exchange server', h('select', { name: 'serverType' }, Object.entries(SERVER_TYPE_LABELS).map(([value, label]) => h('option', { value }, label)))),
    ewsUrl: field('EWS address', textInput('ewsUrl', { placeholder: 'https://mail.example.com/EWS/Exchange.asmx', inputmode: 'url' })),
    domain: field('NetBIOS domain', textInput('domain', { placeholder: 'CONTOSO' }), 'Leave empty when the user name is a UPN (name@domain).'),
    username: field('Delegate user name', textInput('username', { placeholder: 'svc-severa-sync' }), 'The service account with the ApplicationImpersonation role.'),
    password: field('Delegate password', h('input', { type: 'password', name: 'delegatePassword', autocomplete: 'new-password' })),
    authMethod: field('Sign-in method', h('select', { name: 'authMethod' }, h('option', { value: 'ntlm' }, 'NTLM (usual)'), h('option', { value: 'basic' }, 'Basic'))),
    tenantId: field('Directory (tenant) id', textInput('tenantId')),
    appClientId: field('Application (client) id', textInput('appClientId')),
    severaUrl: field('Severa API address', textInput('severaUrl', { inputmode: 'url' })),
    severaClientId: field('Severa API client id', textInput('severaClientId')),
    severaSecret: field('Severa API client secret', h('input', { type: 'password', name: 'severaSecret', autocomplete: 'new-password' })),
    interval: field('Sync every (minutes)', h('input', { type: 'number', name: 'intervalMinutes', min: '1', max: '1440', step: '1' })),
    window: field('Sync days ahead', h('input', { type: 'number', name: 'windowDaysAhead', min: '1', max: '730', step: '1' })),
  };
  const byPath: Record<string, Field> = {
    'exchange.serverType': f.serverType,
    'exchange.ewsUrl': f.ewsUrl,
    'exchange.domain': f.domain,
    'exchange.username': f.username,
    'exchange.tenantId': f.tenantId,
    'exchange.clientId': f.appClientId,
    'severa.apiUrl': f.severaUrl,
    'severa.clientId': f.severaClientId,
    intervalMinutes: f.interval,
    windowDaysAhead: f.window,
  };

  const office365Note = problemBox(
    'Exchange Online no longer accepts a delegate user name and password: Microsoft switched off basic authentication and removed the ApplicationImpersonation role (February 2025).',
    'What replaces it is an app registration in Microsoft Entra ID with app-only OAuth (Microsoft Graph, Calendars.ReadWrite limited to the synced mailboxes). Enter its ids below; the Exchange Online connector comes as a separate update.',
    'info',
  );
  const onPremFields = h('div', { class: 'field-grid' }, f.ewsUrl.row, f.domain.row, f.username.row, f.password.row, f.authMethod.row);
  const onlineFields = h('div', { class: 'field-grid' }, f.tenantId.row, f.appClientId.row);

  const typesList = h('div', { class: 'type-list', role: 'group', 'aria-label': 'Activity types that go to Exchange' });
  const typesStatus = h('div', { class: 'types-status', 'aria-live': 'polite' }, 'Load the activity types from Severa to choose which go to Exchange.');
  let selectedTypes = new Set<string>();

  const saveStatus = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const checksOut = h('div', { class: 'checks', 'aria-live': 'polite' });
  const secretsStored: Record<SecretName, boolean> = { 'exchange-delegate-password': false, 'severa-client-secret': false, 'graph-client-secret': false };

  const saveButton = h('button', { type: 'submit', class: 'primary', id: 'save-admin' }, 'Save settings');
  const testButton = h('button', { type: 'button', id: 'test-connection' }, 'Test connection');
  const loadTypesButton = h('button', { type: 'button', id: 'load-types' }, 'Load from Severa');

  const form = h(
    'form',
    { class: 'settings-form', 'aria-labelledby': 'admin-heading', novalidate: true },
    h('h2', { id: 'admin-heading' }, 'Admin settings'),
    h('p', { class: 'lead' }, 'One set of settings for the whole organization. Passwords and secrets go to the system keychain; this window can replace them but never read them back.'),
    h('fieldset', {}, h('legend', {}, 'Microsoft Exchange'), h('div', { class: 'field-grid' }, f.serverType.row), office365Note, onPremFields, onlineFields),
    h('fieldset', {}, h('legend', {}, 'Visma Severa'), h('div', { class: 'field-grid' }, f.severaUrl.row, f.severaClientId.row, f.severaSecret.row)),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Activity types that go to Exchange'),
      h('p', { class: 'field-hint' }, 'Everything in Exchange comes to Severa. From Severa, only the types chosen here go to Exchange. Project tasks are never synced.'),
      h('div', { class: 'row' }, loadTypesButton, typesStatus),
      typesList,
    ),
    h('fieldset', {}, h('legend', {}, 'Schedule'), h('div', { class: 'field-grid' }, f.interval.row, f.window.row)),
    h('div', { class: 'actions' }, saveButton, testButton, saveStatus),
    h('section', { class: 'checks-section', 'aria-labelledby': 'checks-heading' }, h('h3', { id: 'checks-heading' }, 'Connection test'), checksOut),
  );
  clear(panel, form);

  const isOnline = () => f.serverType.input.value === 'Office365';
  const showServerFields = () => {
    const online = isOnline();
    office365Note.hidden = !online;
    onPremFields.hidden = online;
    onlineFields.hidden = !online;
  };
  f.serverType.input.addEventListener('change', showServerFields);

  const secretPlaceholder = (stored: boolean) => (stored ? 'Stored in the keychain — type to replace' : 'Not stored yet');

  const fill = (draft: AdminSettingsDraft) => {
    const ex = draft.exchange;
    f.serverType.input.value = ex.serverType;
    f.ewsUrl.input.value = ex.ewsUrl ?? '';
    f.domain.input.value = ex.domain ?? '';
    f.username.input.value = ex.username ?? '';
    f.authMethod.input.value = ex.authMethod ?? 'ntlm';
    f.tenantId.input.value = ex.tenantId ?? '';
    f.appClientId.input.value = ex.clientId ?? '';
    f.severaUrl.input.value = draft.severa.apiUrl;
    f.severaClientId.input.value = draft.severa.clientId;
    f.interval.input.value = String(draft.intervalMinutes);
    f.window.input.value = String(draft.windowDaysAhead);
    selectedTypes = new Set(draft.activityTypesToExchange);
    for (const box of typesList.querySelectorAll<HTMLInputElement>('input[type=checkbox]')) box.checked = selectedTypes.has(box.value);
    showServerFields();
  };

  const collect = (): AdminSettingsDraft => {
    const serverType = f.serverType.input.value as ExchangeServerType;
    const exchange: AdminSettingsDraft['exchange'] =
      serverType === 'Office365'
        ? { serverType, tenantId: f.tenantId.input.value, clientId: f.appClientId.input.value }
        : { serverType, ewsUrl: f.ewsUrl.input.value, domain: f.domain.input.value, username: f.username.input.value, authMethod: f.authMethod.input.value as 'ntlm' | 'basic' };
    const boxes = [...typesList.querySelectorAll<HTMLInputElement>('input[type=checkbox]')];
    const types = boxes.length ? boxes.filter((b) => b.checked && !b.disabled).map((b) => b.value) : [...selectedTypes];
    return {
      exchange,
      severa: { apiUrl: f.severaUrl.input.value, clientId: f.severaClientId.input.value },
      activityTypesToExchange: types,
      intervalMinutes: Number(f.interval.input.value),
      windowDaysAhead: Number(f.window.input.value),
    };
  };

  const showIssues = (issues: FieldIssue[]) => {
    for (const fl of Object.values(f)) {
      fl.error.textContent = '';
      fl.input.removeAttribute('aria-invalid');
    }
    const unplaced: FieldIssue[] = [];
    for (const issue of issues) {
      const target = byPath[issue.path];
      if (!target) {
        unplaced.push(issue);
        continue;
      }
      target.error.textContent = issue.message;
      target.input.setAttribute('aria-invalid', 'true');
    }
    const first = issues.map((i) => byPath[i.path]).find(Boolean);
    first?.input.focus();
    return unplaced;
  };

  const showSecrets = () => {
    f.password.input.setAttribute('placeholder', secretPlaceholder(secretsStored['exchange-delegate-password']));
    f.severaSecret.input.setAttribute('placeholder', secretPlaceholder(secretsStored['severa-client-secret']));
  };

  const renderTypes = (types: ActivityTypeView[]) => {
    clear(
      typesList,
      types.map((t) => {
        const id = `type-${t.guid}`;
        const box = h('input', { type: 'checkbox', id, value: t.guid, disabled: !t.syncable });
        box.checked = t.syncable && selectedTypes.has(t.guid);
        box.addEventListener('change', () => (box.checked ? selectedTypes.add(t.guid) : selectedTypes.delete(t.guid)));
        return h(
          'div',
          { class: `type-item${t.syncable ? '' : ' type-disabled'}` },
          box,
          h('label', { for: id }, t.name, t.isDefault ? h('span', { class: 'badge' }, 'default') : null),
          h('span', { class: 'type-category' }, t.category),
          t.note ? h('span', { class: 'type-note' }, t.note) : null,
        );
      }),
    );
  };

  loadTypesButton.addEventListener('click', async () => {
    loadTypesButton.disabled = true;
    typesStatus.textContent = 'Loading…';
    try {
      const types = await api.invoke('activityTypes:list');
      renderTypes(types);
      const never = types.filter((t) => t.category === 'Task').length;
      typesStatus.textContent = `${types.length} types from Severa${never ? `; ${never} project task type${never === 1 ? '' : 's'} never synced` : ''}.`;
    } catch (error) {
      const e = errorParts(error);
      clear(typesStatus, problemBox(e.message, e.fix));
    } finally {
      loadTypesButton.disabled = false;
    }
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    saveButton.disabled = true;
    clear(saveStatus, 'Saving…');
    try {
      const result = await api.invoke('settings:save', collect());
      if (!result.ok) {
        const unplaced = showIssues(result.issues);
        clear(saveStatus, problemBox(`Not saved: ${result.issues.length === 1 ? 'one field needs' : `${result.issues.length} fields need`} attention.`, unplaced.map((i) => `${i.path}: ${i.message}`).join(' ') || undefined));
        return;
      }
      showIssues([]);
      const secrets: [SecretName, HTMLInputElement][] = [
        ['exchange-delegate-password', f.password.input as HTMLInputElement],
        ['severa-client-secret', f.severaSecret.input as HTMLInputElement],
      ];
      for (const [name, input] of secrets) {
        if (!input.value) continue;
        await api.invoke('secret:set', { name, value: input.value });
        input.value = '';
        secretsStored[name] = true;
      }
      showSecrets();
      fill(result.settings);
      clear(saveStatus, h('span', { class: 'ok-text' }, '✓ Saved'));
    } catch (error) {
      const e = errorParts(error);
      clear(saveStatus, problemBox(e.message, e.fix));
    } finally {
      saveButton.disabled = false;
    }
  });

  testButton.addEventListener('click', async () => {
    testButton.disabled = true;
    clear(checksOut, h('p', { class: 'muted' }, 'Testing the connection to Severa and Exchange…'));
    try {
      const checks = await api.invoke('connection:test');
      renderChecks(checksOut, checks);
    } catch (error) {
      const e = errorParts(error);
      clear(checksOut, problemBox(e.message, e.fix));
    } finally {
      testButton.disabled = false;
    }
  });

  fill(DEFAULT_DRAFT);
  return {
    async refresh() {
      try {
        const view = await api.invoke('settings:get');
        Object.assign(secretsStored, view.secretsStored);
        showSecrets();
        fill(view.settings ?? DEFAULT_DRAFT);
      } catch (error) {
        const e = errorParts(error);
        clear(saveStatus, problemBox(e.message, e.fix));
      }
    },
  };
}

export function renderChecks(target: HTMLElement, checks: CheckView[]): void {
  const failed = checks.filter((c) => !c.ok).length;
  clear(
    target,
    h('p', { class: failed ? 'summary summary-bad' : 'summary summary-good' }, failed ? `${failed} of ${checks.length} checks failed.` : `All ${checks.length} checks passed.`),
    h(
      'ul',
      { class: 'check-list' },
      checks.map((c) =>
        h(
          'li',
          { class: `check ${c.ok ? 'check-ok' : 'check-failed'}`, 'data-check': c.id },
          h('span', { class: 'check-mark', 'aria-hidden': 'true' }, c.ok ? '✓' : '✕'),
          h(
            'div',
            { class: 'check-body' },
            h('p', { class: 'check-title' }, h('span', { class: 'visually-hidden' }, c.ok ? 'Passed: ' : 'Failed: '), c.title),
            h('p', { class: 'check-message' }, c.message),
            c.fix ? h('p', { class: 'check-fix' }, h('strong', {}, 'Fix: '), c.fix) : null,
          ),
        ),
      ),
    ),
  );
}
