import type { ActivityTypeView, AdminSettingsDraft, CheckProgressView, CheckView, FieldIssue } from '../src-main/common/ipc-contract.ts';
import type { ExchangeServerType } from '../src-main/common/settings-schema.ts';
import { SECRET_NAMES, type SecretName } from '../src-main/common/secrets-contract.ts';
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
  // Addresses are long: they get two columns where the window is wide enough (styles.css .field-wide).
  f.ewsUrl.row.classList.add('field-wide');
  f.severaUrl.row.classList.add('field-wide');
  const onPremFields = h('div', { class: 'field-grid' }, f.ewsUrl.row, f.authMethod.row, f.domain.row, f.username.row, f.password.row);
  const onlineFields = h('div', { class: 'field-grid' }, f.tenantId.row, f.appClientId.row);

  const typesList = h('div', { class: 'type-list', role: 'group', 'aria-label': 'Activity types that go to Exchange' });
  const typesStatus = h('div', { class: 'types-status', 'aria-live': 'polite' }, 'Load the activity types from Severa to choose which go to Exchange.');
  let selectedTypes = new Set<string>();

  const saveStatus = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const checksOut = h('div', { class: 'checks' });
  const checks = createCheckList(checksOut);
  const secretsStored = Object.fromEntries(SECRET_NAMES.map((name) => [name, false])) as Record<SecretName, boolean>;

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

  // Short enough to be read whole in the field; the lead paragraph says where secrets are kept.
  const secretPlaceholder = (stored: boolean) => (stored ? 'Stored — type to replace' : 'Not stored yet');

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

  // Each check arrives as it completes, tagged with the run it belongs to; pushes of any other run are ignored.
  api.on('connection:check', (event) => checks.add(event));
  testButton.addEventListener('click', async () => {
    testButton.disabled = true;
    const runId = newRunId();
    checks.start(runId);
    try {
      checks.finish(runId, await api.invoke('connection:test', { runId }));
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
      } catch (error) {
        const e = errorParts(error);
        clear(saveStatus, problemBox(e.message, e.fix));
      }
    },
  };
}

const newRunId = () => (typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `run-${Date.now()}-${Math.floor(Math.random() * 1e9)}`);

const NOT_RUN_HINT = 'Not run yet. Test connection checks the saved settings with Severa and Exchange, one step after another, and shows how to fix what fails.';

function checkItem(c: CheckView): HTMLLIElement {
  return h(
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
  );
}

const sameCheck = (a: CheckView, b: CheckView) => a.id === b.id && a.title === b.title && a.ok === b.ok && a.message === b.message && a.fix === b.fix;

const summaryText = (checks: CheckView[]) => {
  const failed = checks.filter((c) => !c.ok).length;
  return failed ? `${failed} of ${checks.length} checks failed.` : `All ${checks.length} checks passed.`;
};

/**
 * The connection test's list, filled while the test runs: each check appears (passed or failed, with its fix) as it
 * completes, in order, above a "checking" row that stays until the last one. The list is a polite live region that
 * announces additions only, so a screen reader reads each new check once; the summary line is a status that speaks
 * at the start and at the end. The final reply is the authority: the list is made to match it.
 */
export function createCheckList(target: HTMLElement) {
  const summary = h('p', { class: 'summary muted', role: 'status' }, NOT_RUN_HINT);
  const list = h('ul', { class: 'check-list', 'aria-live': 'polite', 'aria-relevant': 'additions', hidden: true });
  const running = h(
    'li',
    { class: 'check check-running', 'aria-hidden': 'true' },
    h('span', { class: 'check-mark' }),
    h('div', { class: 'check-body' }, h('p', { class: 'check-title' }, 'Checking…'), h('p', { class: 'check-message' }, 'The next result appears here as soon as it is known.')),
  );
  const problem = h('div', { class: 'checks-problem' });
  clear(target, summary, problem, list);
  let runId: string | null = null;
  let shown: CheckView[] = [];

  const showSummary = (text: string, kind: 'muted' | 'summary-good' | 'summary-bad') => {
    summary.className = `summary ${kind}`;
    summary.textContent = text;
  };

  return {
    start(id: string) {
      runId = id;
      shown = [];
      clear(list, running);
      clear(problem);
      list.hidden = false;
      showSummary('Testing the connection to Severa and Exchange…', 'muted');
    },
    /** One pushed result; only the running test's, and only the next one in order (a gap waits for the reply). */
    add(event: CheckProgressView) {
      if (event.runId !== runId || event.index !== shown.length) return;
      shown.push(event.check);
      list.insertBefore(checkItem(event.check), running);
    },
    finish(id: string, checks: CheckView[]) {
      if (id !== runId) return;
      runId = null;
      running.remove();
      // Normally every check is already shown; if a push was lost, the reply's list replaces what is there.
      const same = shown.length === checks.length && shown.every((c, i) => sameCheck(c, checks[i]));
      if (!same) clear(list, checks.map(checkItem));
      shown = checks;
      showSummary(summaryText(checks), checks.some((c) => !c.ok) ? 'summary-bad' : 'summary-good');
    },
    fail(id: string, message: string, fix?: string) {
      if (id !== runId) return;
      runId = null;
      running.remove();
      list.hidden = shown.length === 0;
      clear(problem, problemBox(`The connection test stopped: ${message}`, fix));
      showSummary(shown.length ? `${shown.length} checks finished before the test stopped.` : 'The connection test could not run.', 'summary-bad');
    },
  };
}
