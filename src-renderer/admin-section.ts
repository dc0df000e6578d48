import type { ActivityTypeView, AdminSettingsDraft, FieldIssue, SetupView } from '../src-main/common/ipc-contract.ts';
import type { ExchangeServerType } from '../src-main/common/settings-schema.ts';
import { SECRET_NAMES, type SecretName } from '../src-main/common/secrets-contract.ts';
import { createNetworkFields } from './admin-network-fields.ts';
import { createCheckList } from './check-list.ts';
import { clear, errorParts, h, problemBox } from './dom.ts';
import { field, textInput } from './form-fields.ts';
import type { Field } from './form-fields.ts';
import type { RendererApi } from './renderer-types.ts';
import { createSetupGuide } from './setup-guide.ts';

const SERVER_TYPE_LABELS = {
  Exchange2007_SP1: 'Exchange 2007 SP1',
  Exchange2010: 'Exchange 2010',
  Exchange2013: 'Exchange 2013',
  Exchange2016: 'Exchange 2016',
  Exchange2019: 'Exchange 2019',
  ExchangeServerSE: 'Exchange Server SE',
  Office365: 'Office 365 (Exchange Online)',
} satisfies Record<ExchangeServerType, string>;

// Every sentence of the admin section, in one place.
const TEXT = {
  heading: 'Admin settings',
  lead: 'One set of settings for the whole organization. Passwords and secrets go to the system keychain; this window can replace them but never read them back.',
  exchange: 'Microsoft Exchange',
  severa: 'Visma Severa',
  network: 'Network',
  networkLead: 'How this computer reaches Severa and Exchange, and which certificate authorities it trusts besides the system.',
  types: 'Activity types that go to Exchange',
  typesHint: 'Everything in Exchange comes to Severa. From Severa, only the types chosen here go to Exchange. Project tasks are never synced.',
  typesNotLoaded: 'Load the activity types from Severa to choose which go to Exchange.',
  typesLoading: 'Loading…',
  typesLoaded: (n: number, tasks: number) => `${n} types from Severa${tasks ? `; ${tasks} project task type${tasks === 1 ? '' : 's'} never synced` : ''}.`,
  schedule: 'Schedule and safety',
  save: 'Save settings',
  saving: 'Saving…',
  saved: '✓ Saved',
  test: 'Test connection',
  load: 'Load from Severa',
  checksHeading: 'Connection test',
  notSaved: (fields: number) => `Not saved: ${fields === 1 ? 'one field needs' : `${fields} fields need`} attention.`,
  secretStored: 'Stored — type to replace',
  secretNotStored: 'Not stored yet',
  office365: {
    message: 'Exchange Online no longer accepts a delegate user name and password: Microsoft switched off basic authentication and removed the ApplicationImpersonation role (February 2025).',
    fix: 'What replaces it is an app registration in Microsoft Entra ID with app-only OAuth (Microsoft Graph, Calendars.ReadWrite limited to the synced mailboxes). Enter its ids below; the Exchange Online connector comes as a separate update.',
  },
};

const DEFAULT_DRAFT: AdminSettingsDraft = {
  exchange: { serverType: 'Exchange2019', ewsUrl: '', domain: '', username: '', authMethod: 'ntlm', allowInsecureHttp: false },
  severa: { apiUrl: 'https://api.severa.visma.com/rest-api', clientId: '', allowInsecureHttp: false },
  network: { proxyMode: 'system', proxyUrl: '', proxyBypass: '', proxyUsername: '' },
  activityTypesToExchange: [],
  intervalMinutes: 15,
  windowDaysAhead: 365,
  deletionGuard: { maxItems: 10, maxPercent: 20 },
};

export function renderAdminSection(panel: HTMLElement, api: RendererApi, navigate: (section: 'personal') => void): { refresh(): Promise<void>; showSetup(setup: SetupView): void } {
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
  const net = createNetworkFields(api);
  const n = net.fields;
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
    ...net.byPath,
  };
  const allFields: Field[] = [...Object.values(f), ...Object.values(n)];

  const office365Note = problemBox(TEXT.office365.message, TEXT.office365.fix, 'info');
  // Addresses are long: they get two columns where the window is wide enough (styles.css .field-wide).
  f.ewsUrl.row.classList.add('field-wide');
  f.severaUrl.row.classList.add('field-wide');
  const onPremFields = h('div', { class: 'field-grid' }, f.ewsUrl.row, f.authMethod.row, f.domain.row, f.username.row, f.password.row, n.exchangeCa.row, n.exchangeHttp.row);
  const onlineFields = h('div', { class: 'field-grid' }, f.tenantId.row, f.appClientId.row);

  const typesList = h('div', { class: 'type-list', role: 'group', 'aria-label': TEXT.types });
  const typesStatus = h('div', { class: 'types-status', 'aria-live': 'polite' }, TEXT.typesNotLoaded);
  let selectedTypes = new Set<string>();

  const saveStatus = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const checksOut = h('div', { class: 'checks' });
  const checks = createCheckList(checksOut);
  const secretsStored = Object.fromEntries(SECRET_NAMES.map((name) => [name, false])) as Record<SecretName, boolean>;

  const saveButton = h('button', { type: 'submit', class: 'primary', id: 'save-admin' }, TEXT.save);
  const testButton = h('button', { type: 'button', id: 'test-connection' }, TEXT.test);
  const loadTypesButton = h('button', { type: 'button', id: 'load-types' }, TEXT.load);
  const guide = createSetupGuide({ test: () => testButton.click(), enable: () => navigate('personal') });

  const form = h(
    'form',
    { class: 'settings-form', 'aria-labelledby': 'admin-heading', novalidate: true },
    h('h2', { id: 'admin-heading' }, TEXT.heading),
    h('p', { class: 'lead' }, TEXT.lead),
    guide.element,
    h('fieldset', {}, h('legend', {}, TEXT.exchange), h('div', { class: 'field-grid' }, f.serverType.row), office365Note, onPremFields, onlineFields),
    h('fieldset', {}, h('legend', {}, TEXT.severa), h('div', { class: 'field-grid' }, f.severaUrl.row, f.severaClientId.row, f.severaSecret.row, n.severaCa.row, n.severaHttp.row)),
    h(
      'fieldset',
      { id: 'network-settings' },
      h('legend', {}, TEXT.network),
      h('p', { class: 'field-hint' }, TEXT.networkLead),
      h('div', { class: 'field-grid' }, n.proxyMode.row, n.proxyUrl.row, n.proxyBypass.row, n.proxyUser.row, n.proxyPassword.row),
    ),
    h('fieldset', {}, h('legend', {}, TEXT.types), h('p', { class: 'field-hint' }, TEXT.typesHint), h('div', { class: 'row' }, loadTypesButton, typesStatus), typesList),
    h('fieldset', {}, h('legend', {}, TEXT.schedule), h('div', { class: 'field-grid' }, f.interval.row, f.window.row, n.maxItems.row, n.maxPercent.row)),
    h('div', { class: 'actions' }, saveButton, testButton, saveStatus),
    h('section', { class: 'checks-section', 'aria-labelledby': 'checks-heading' }, h('h3', { id: 'checks-heading' }, TEXT.checksHeading), checksOut),
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
  // Results of an earlier test say nothing about settings typed since: they go as soon as a field changes.
  const outdate = (event: Event) => {
    // Choosing activity types changes nothing about the connection.
    if (!(event.target as Element | null)?.closest('.type-list')) checks.outdate();
  };
  form.addEventListener('input', outdate);
  form.addEventListener('change', outdate);

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
    net.fill(draft);
    selectedTypes = new Set(draft.activityTypesToExchange);
    for (const box of typesList.querySelectorAll<HTMLInputElement>('input[type=checkbox]')) box.checked = selectedTypes.has(box.value);
    showServerFields();
  };

  const collect = (): AdminSettingsDraft => {
    const more = net.collect();
    const serverType = f.serverType.input.value as ExchangeServerType;
    const exchange: AdminSettingsDraft['exchange'] =
      serverType === 'Office365'
        ? { serverType, tenantId: f.tenantId.input.value, clientId: f.appClientId.input.value }
        : {
            serverType,
            ewsUrl: f.ewsUrl.input.value,
            domain: f.domain.input.value,
            username: f.username.input.value,
            authMethod: f.authMethod.input.value as 'ntlm' | 'basic',
            allowInsecureHttp: more.exchangeHttp,
            caFile: more.exchangeCa,
          };
    const boxes = [...typesList.querySelectorAll<HTMLInputElement>('input[type=checkbox]')];
    const types = boxes.length ? boxes.filter((b) => b.checked && !b.disabled).map((b) => b.value) : [...selectedTypes];
    return {
      exchange,
      severa: { apiUrl: f.severaUrl.input.value, clientId: f.severaClientId.input.value, allowInsecureHttp: more.severaHttp, caFile: more.severaCa },
      network: more.network,
      activityTypesToExchange: types,
      intervalMinutes: Number(f.interval.input.value),
      windowDaysAhead: Number(f.window.input.value),
      deletionGuard: more.deletionGuard,
    };
  };

  /** Marks each field with its problems; returns how many fields were marked and the problems no field shows. */
  const showIssues = (issues: FieldIssue[]) => {
    for (const fl of allFields) {
      fl.error.textContent = '';
      fl.input.removeAttribute('aria-invalid');
    }
    const unplaced: FieldIssue[] = [];
    const marked = new Set<Field>();
    for (const issue of issues) {
      const target = byPath[issue.path];
      if (!target) {
        unplaced.push(issue);
        continue;
      }
      // A field with two problems shows both, not only the last.
      target.error.textContent = marked.has(target) ? `${target.error.textContent} ${issue.message}` : issue.message;
      target.input.setAttribute('aria-invalid', 'true');
      marked.add(target);
    }
    const first = issues.map((i) => byPath[i.path]).find(Boolean);
    first?.input.focus();
    return { marked: marked.size, unplaced };
  };

  const showSecrets = () => {
    const placeholder = (stored: boolean) => (stored ? TEXT.secretStored : TEXT.secretNotStored);
    f.password.input.setAttribute('placeholder', placeholder(secretsStored['exchange-delegate-password']));
    f.severaSecret.input.setAttribute('placeholder', placeholder(secretsStored['severa-client-secret']));
    n.proxyPassword.input.setAttribute('placeholder', placeholder(secretsStored['proxy-password']));
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
    typesStatus.textContent = TEXT.typesLoading;
    try {
      const types = await api.invoke('activityTypes:list');
      renderTypes(types);
      typesStatus.textContent = TEXT.typesLoaded(types.length, types.filter((t) => t.category === 'Task').length);
    } catch (error) {
      const e = errorParts(error);
      clear(typesStatus, problemBox(e.message, e.fix));
    } finally {
      loadTypesButton.disabled = false;
    }
  });

  const refreshSetup = async () => {
    try {
      guide.show((await api.invoke('status:get')).setup);
    } catch {
      // The guide stays as it was; the status section says what is wrong.
    }
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    saveButton.disabled = true;
    clear(saveStatus, TEXT.saving);
    try {
      const result = await api.invoke('settings:save', collect());
      if (!result.ok) {
        const { marked, unplaced } = showIssues(result.issues);
        clear(saveStatus, problemBox(TEXT.notSaved(marked + unplaced.length), unplaced.map((i) => `${i.path}: ${i.message}`).join(' ') || undefined));
        return;
      }
      showIssues([]);
      const secrets: [SecretName, HTMLInputElement][] = [
        ['exchange-delegate-password', f.password.input as HTMLInputElement],
        ['severa-client-secret', f.severaSecret.input as HTMLInputElement],
        ['proxy-password', n.proxyPassword.input as HTMLInputElement],
      ];
      for (const [name, input] of secrets) {
        if (!input.value) continue;
        await api.invoke('secret:set', { name, value: input.value });
        input.value = '';
        secretsStored[name] = true;
      }
      showSecrets();
      fill(result.settings);
      clear(saveStatus, h('span', { class: 'ok-text' }, TEXT.saved));
      await refreshSetup();
    } catch (error) {
      const e = errorParts(error);
      clear(saveStatus, problemBox(e.message, e.fix));
    } finally {
      saveButton.disabled = false;
    }
  });

  // Each check arrives as it completes, tagged with the run it belongs to; pushes of any other run are ignored.
  api.on('connection:check', (event) => checks.add(event));
  testButton.addEventListener('click', async () => {
    testButton.disabled = true;
    const runId = newRunId();
    checks.start(runId);
    try {
      checks.finish(runId, await api.invoke('connection:test', { runId }));
      await refreshSetup();
    } catch (error) {
      const e = errorParts(error);
      checks.fail(runId, e.message, e.fix);
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
        await refreshSetup();
      } catch (error) {
        const e = errorParts(error);
        clear(saveStatus, problemBox(e.message, e.fix));
      }
    },
    showSetup: (setup) => guide.show(setup),
  };
}

const newRunId = () => (typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `run-${Date.now()}-${Math.floor(Math.random() * 1e9)}`);
