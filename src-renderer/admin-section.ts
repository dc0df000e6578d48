import type { ActivityTypeView, AdminSettingsDraft, FieldIssue, SetupView } from '../src-main/common/ipc-contract.ts';
import { SECRET_NAMES, type SecretName } from '../src-main/common/secrets-contract.ts';
import { t } from '../src-main/common/i18n/i18n.ts';
import { createHybridFields } from './admin-hybrid-fields.ts';
import { createNetworkFields } from './admin-network-fields.ts';
import { createRealTimeFields, REAL_TIME_FORM_DEFAULTS } from './admin-realtime-fields.ts';
import { createCheckList } from './check-list.ts';
import { clear, errorParts, h, problemBox } from './dom.ts';
import { createConnectionFields } from './exchange-connection-fields.ts';
import { createOnlineHelp, onlineCheckHelp } from './exchange-online-help.ts';
import type { OnlineIds } from './exchange-online-help.ts';
import { field, textInput } from './form-fields.ts';
import type { Field } from './form-fields.ts';
import type { RendererApi } from './renderer-types.ts';
import { createSetupGuide } from './setup-guide.ts';


const typesLoaded = (n: number, tasks: number) =>
  tasks ? t('forms.admin.typesLoadedTasks', { types: t('forms.admin.typesFromSevera', { count: n }), count: tasks }) : t('forms.admin.typesLoaded', { count: n });

const CATEGORIES = ['Personal', 'Absences', 'CalendarEntry', 'SalesEvent', 'Task'] as const;
/** Severa's category of an activity type in words; one this window does not know stays as Severa names it. */
const categoryLabel = (category: string) =>
  (CATEGORIES as readonly string[]).includes(category) ? t(`forms.admin.categories.${category as (typeof CATEGORIES)[number]}`) : category;

const DEFAULT_DRAFT: AdminSettingsDraft = {
  exchange: { serverType: 'Exchange2019', ewsUrl: '', domain: '', username: '', authMethod: 'ntlm', allowInsecureHttp: false },
  severa: { apiUrl: 'https://api.severa.visma.com/rest-api', clientId: '', allowInsecureHttp: false },
  network: { proxyMode: 'system', proxyUrl: '', proxyBypass: '', proxyUsername: '' },
  activityTypesToExchange: [],
  intervalMinutes: 15,
  windowDaysAhead: 365,
  deletionGuard: { maxItems: 10, maxPercent: 20 },
  secondExchange: null,
  mailboxLocations: {},
  realTime: REAL_TIME_FORM_DEFAULTS,
};

export function renderAdminSection(panel: HTMLElement, api: RendererApi, navigate: (section: 'personal') => void): { refresh(): Promise<void>; showSetup(setup: SetupView): void } {
  const f = {
    severaUrl: field(t('forms.admin.severaUrl'), textInput('severaUrl', { inputmode: 'url' })),
    severaClientId: field(t('forms.admin.severaClientId'), textInput('severaClientId')),
    severaSecret: field(t('forms.admin.severaSecret'), h('input', { type: 'password', name: 'severaSecret', autocomplete: 'new-password' })),
    interval: field(t('forms.admin.interval'), h('input', { type: 'number', name: 'intervalMinutes', min: '1', max: '1440', step: '1' })),
    window: field(t('forms.admin.window'), h('input', { type: 'number', name: 'windowDaysAhead', min: '1', max: '730', step: '1' })),
  };
  const exchange = createConnectionFields(api, 'exchange', t('forms.admin.firstConnection'));
  const hybrid = createHybridFields(api, exchange);
  const realTime = createRealTimeFields();
  const net = createNetworkFields(api);
  const n = net.fields;
  const help = createOnlineHelp();
  let enrolled: string[] = [];
  const byPath = (): Record<string, Field> => ({
    ...exchange.byPath(),
    ...hybrid.byPath(),
    'severa.apiUrl': f.severaUrl,
    'severa.clientId': f.severaClientId,
    intervalMinutes: f.interval,
    windowDaysAhead: f.window,
    ...net.byPath,
    ...realTime.byPath,
  });
  const allFields = (): Field[] => [...Object.values(f), ...exchange.all(), ...hybrid.all(), ...Object.values(n), ...realTime.all];

  // Addresses are long: they get two columns where the window is wide enough (styles.css .field-wide).
  f.severaUrl.row.classList.add('field-wide');

  /** The Exchange Online connection's ids as typed (first or second connection), for the help's commands. */
  const onlineIds = (): OnlineIds | null => {
    const online = exchange.isOnline() ? exchange : hybrid.connection()?.isOnline() ? hybrid.connection() : null;
    return online ? { ...online.onlineIds(), mailboxes: enrolled } : null;
  };
  const showHelp = () => {
    const ids = onlineIds();
    help.element.hidden = ids === null;
    if (ids) help.update(ids);
  };

  const typesList = h('div', { class: 'type-list', role: 'group', 'aria-label': t('forms.admin.types') });
  const typesStatus = h('div', { class: 'types-status', 'aria-live': 'polite' }, t('forms.admin.typesNotLoaded'));
  let selectedTypes = new Set<string>();

  const saveStatus = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const checksOut = h('div', { class: 'checks' });
  // A failing Exchange Online check that a set-up step fixes shows that step's commands, with the admin's ids.
  const checks = createCheckList(checksOut, (check) => {
    const ids = onlineIds();
    return ids ? onlineCheckHelp(check, ids) : null;
  });
  const secretsStored = Object.fromEntries(SECRET_NAMES.map((name) => [name, false])) as Record<SecretName, boolean>;

  const saveButton = h('button', { type: 'submit', class: 'primary', id: 'save-admin' }, t('forms.admin.save'));
  const testButton = h('button', { type: 'button', id: 'test-connection' }, t('forms.admin.test'));
  const loadTypesButton = h('button', { type: 'button', id: 'load-types' }, t('forms.admin.load'));
  const guide = createSetupGuide({ test: () => testButton.click(), enable: () => navigate('personal') });

  const form = h(
    'form',
    { class: 'settings-form', 'aria-labelledby': 'admin-heading', novalidate: true },
    h('h2', { id: 'admin-heading' }, t('forms.admin.heading')),
    h('p', { class: 'lead' }, t('forms.admin.lead')),
    guide.element,
    h('fieldset', { id: 'first-exchange' }, h('legend', {}, t('forms.admin.exchange')), exchange.element, help.element),
    hybrid.element,
    h('fieldset', {}, h('legend', {}, t('forms.admin.severa')), h('div', { class: 'field-grid' }, f.severaUrl.row, f.severaClientId.row, f.severaSecret.row, n.severaCa.row, n.severaHttp.row)),
    h(
      'fieldset',
      { id: 'network-settings' },
      h('legend', {}, t('forms.admin.network')),
      h('p', { class: 'field-hint' }, t('forms.admin.networkLead')),
      h('div', { class: 'field-grid' }, n.proxyMode.row, n.proxyUrl.row, n.proxyBypass.row, n.proxyUser.row, n.proxyPassword.row),
    ),
    h('fieldset', {}, h('legend', {}, t('forms.admin.types')), h('p', { class: 'field-hint' }, t('forms.admin.typesHint')), h('div', { class: 'row' }, loadTypesButton, typesStatus), typesList),
    h('fieldset', {}, h('legend', {}, t('forms.admin.schedule')), h('div', { class: 'field-grid' }, f.interval.row, f.window.row, n.maxItems.row, n.maxPercent.row)),
    realTime.element,
    h('div', { class: 'actions' }, saveButton, testButton, saveStatus),
    h('section', { class: 'checks-section', 'aria-labelledby': 'checks-heading' }, h('h3', { id: 'checks-heading' }, t('forms.admin.checksHeading')), checksOut),
  );
  clear(panel, form);

  // The choices name the connections, and the help fills in the ids, as they are typed.
  form.addEventListener('input', () => {
    hybrid.refresh();
    showHelp();
  });
  form.addEventListener('change', () => {
    hybrid.refresh();
    showHelp();
  });
  // Results of an earlier test say nothing about settings typed since: they go as soon as a field changes.
  const outdate = (event: Event) => {
    // Choosing activity types changes nothing about the connection.
    if (!(event.target as Element | null)?.closest('.type-list')) checks.outdate();
  };
  form.addEventListener('input', outdate);
  form.addEventListener('change', outdate);

  const fill = (draft: AdminSettingsDraft) => {
    exchange.fill(draft.exchange);
    hybrid.fill(draft, enrolled);
    realTime.fill(draft);
    f.severaUrl.input.value = draft.severa.apiUrl;
    f.severaClientId.input.value = draft.severa.clientId;
    f.interval.input.value = String(draft.intervalMinutes);
    f.window.input.value = String(draft.windowDaysAhead);
    net.fill(draft);
    selectedTypes = new Set(draft.activityTypesToExchange);
    for (const box of typesList.querySelectorAll<HTMLInputElement>('input[type=checkbox]')) box.checked = selectedTypes.has(box.value);
    showHelp();
  };

  const collect = (): AdminSettingsDraft => {
    const more = net.collect();
    const boxes = [...typesList.querySelectorAll<HTMLInputElement>('input[type=checkbox]')];
    const types = boxes.length ? boxes.filter((b) => b.checked && !b.disabled).map((b) => b.value) : [...selectedTypes];
    return {
      exchange: exchange.collect(),
      ...hybrid.collect(),
      severa: { apiUrl: f.severaUrl.input.value, clientId: f.severaClientId.input.value, allowInsecureHttp: more.severaHttp, caFile: more.severaCa },
      network: more.network,
      activityTypesToExchange: types,
      intervalMinutes: Number(f.interval.input.value),
      windowDaysAhead: Number(f.window.input.value),
      deletionGuard: more.deletionGuard,
      realTime: realTime.collect(),
    };
  };

  /** Marks each field with its problems; returns how many fields were marked and the problems no field shows. */
  const showIssues = (issues: FieldIssue[]) => {
    const fields = byPath();
    for (const fl of allFields()) {
      fl.error.textContent = '';
      fl.input.removeAttribute('aria-invalid');
    }
    const unplaced: FieldIssue[] = [];
    const marked = new Set<Field>();
    for (const issue of issues) {
      const target = fields[issue.path];
      if (!target) {
        unplaced.push(issue);
        continue;
      }
      // A field with two problems shows both, not only the last.
      target.error.textContent = marked.has(target) ? `${target.error.textContent} ${issue.message}` : issue.message;
      target.input.setAttribute('aria-invalid', 'true');
      // A field inside a closed disclosure (the advanced addresses) opens it, so the problem is seen.
      target.row.closest('details')?.setAttribute('open', '');
      marked.add(target);
    }
    const first = issues.map((i) => fields[i.path]).find(Boolean);
    first?.input.focus();
    return { marked: marked.size, unplaced };
  };

  const showSecrets = () => {
    const placeholder = (stored: boolean) => (stored ? t('window.common.secretStored') : t('window.common.secretNotStored'));
    exchange.showSecrets(secretsStored);
    hybrid.showSecrets(secretsStored);
    f.severaSecret.input.setAttribute('placeholder', placeholder(secretsStored['severa-client-secret']));
    n.proxyPassword.input.setAttribute('placeholder', placeholder(secretsStored['proxy-password']));
  };

  const renderTypes = (types: ActivityTypeView[]) => {
    clear(
      typesList,
      types.map((type) => {
        const id = `type-${type.guid}`;
        const box = h('input', { type: 'checkbox', id, value: type.guid, disabled: !type.syncable });
        box.checked = type.syncable && selectedTypes.has(type.guid);
        box.addEventListener('change', () => (box.checked ? selectedTypes.add(type.guid) : selectedTypes.delete(type.guid)));
        return h(
          'div',
          { class: `type-item${type.syncable ? '' : ' type-disabled'}` },
          box,
          h('label', { for: id }, type.name, type.isDefault ? h('span', { class: 'badge' }, t('forms.admin.defaultType')) : null),
          h('span', { class: 'type-category' }, categoryLabel(type.category)),
          type.note ? h('span', { class: 'type-note' }, type.note) : null,
        );
      }),
    );
  };

  loadTypesButton.addEventListener('click', async () => {
    loadTypesButton.disabled = true;
    typesStatus.textContent = t('forms.admin.typesLoading');
    try {
      const types = await api.invoke('activityTypes:list');
      renderTypes(types);
      typesStatus.textContent = typesLoaded(types.length, types.filter((type) => type.category === 'Task').length);
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
    clear(saveStatus, t('forms.admin.saving'));
    try {
      const result = await api.invoke('settings:save', collect());
      if (!result.ok) {
        const { marked, unplaced } = showIssues(result.issues);
        clear(saveStatus, problemBox(t('forms.admin.notSaved', { count: marked + unplaced.length }), unplaced.map((i) => `${i.path}: ${i.message}`).join(' ') || undefined));
        return;
      }
      showIssues([]);
      // Only the secrets of the kinds of connection chosen now; each goes to the keychain and its field is emptied.
      const secrets: [SecretName, HTMLInputElement | HTMLTextAreaElement][] = [
        ...exchange.secrets(),
        ...hybrid.secrets(),
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
      clear(saveStatus, h('span', { class: 'ok-text' }, t('window.common.saved')));
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
        enrolled = view.enrolledUsers;
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
