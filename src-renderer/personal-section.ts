import type { IdentityView, PersonalSyncView } from '../src-main/common/ipc-contract.ts';
import { clear, errorParts, h, problemBox } from './dom.ts';
import { when } from './format.ts';
import { renderPreferencesCard } from './preferences-card.ts';
import type { RendererApi } from './renderer-types.ts';

export function renderPersonalSection(panel: HTMLElement, api: RendererApi, onChanged: () => void): { refresh(): Promise<void> } {
  const body = h('div', { class: 'personal-body' });
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const preferences = renderPreferencesCard(api);
  clear(
    panel,
    h('h2', { id: 'personal-heading' }, 'My sync'),
    h('p', { class: 'lead' }, 'Each person turns on sync for their own calendar. Nobody can turn it on for someone else.'),
    body,
    status,
    preferences.element,
  );

  const identityTable = (identity: IdentityView) =>
    h(
      'table',
      { class: 'identity' },
      h('caption', {}, 'The address used on both sides'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'System'), h('th', { scope: 'col' }, 'Address'), h('th', { scope: 'col' }, 'Knows it?'))),
      h(
        'tbody',
        {},
        h('tr', {}, h('th', { scope: 'row' }, 'Severa'), h('td', {}, identity.email), h('td', {}, known(identity.severa.known, identity.severa.detail))),
        h('tr', {}, h('th', { scope: 'row' }, 'Exchange'), h('td', {}, identity.exchange.primaryAddress ?? identity.email), h('td', {}, known(identity.exchange.known, identity.exchange.detail))),
      ),
    );

  const enrolledView = (view: PersonalSyncView) => {
    const disable = h('button', { type: 'button', class: 'danger', id: 'disable-sync' }, 'Turn off my sync');
    disable.addEventListener('click', async () => {
      disable.disabled = true;
      try {
        show(await api.invoke('personal:disable'));
        onChanged();
      } catch (error) {
        const e = errorParts(error);
        clear(status, problemBox(e.message, e.fix));
        disable.disabled = false;
      }
    });
    return h(
      'div',
      { class: 'card' },
      h('p', { class: 'enabled-line' }, h('span', { class: 'dot dot-good', 'aria-hidden': 'true' }), h('span', {}, 'Sync is on for ', h('strong', {}, view.email ?? ''), '.')),
      h('dl', { class: 'facts' }, h('dt', {}, 'Enabled'), h('dd', {}, when(view.enabledAt)), h('dt', {}, 'Syncs items from'), h('dd', {}, view.syncStartDate ?? '—')),
      view.identity ? identityTable(view.identity) : null,
      h('div', { class: 'actions' }, disable),
    );
  };

  const enableForm = (view: PersonalSyncView) => {
    const email = h('input', { type: 'email', id: 'my-email', name: 'email', autocomplete: 'email', required: true, value: view.email ?? '', 'aria-describedby': 'my-email-hint' });
    const password = h('input', { type: 'password', id: 'my-password', name: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'my-password-hint' });
    const start = h('input', { type: 'date', id: 'my-start', name: 'syncStartDate', 'aria-describedby': 'my-start-hint' });
    const submit = h('button', { type: 'submit', class: 'primary', id: 'enable-sync' }, 'Turn on my sync');
    const form = h(
      'form',
      { class: 'card settings-form', novalidate: true },
      h(
        'div',
        { class: 'field-grid' },
        h('div', { class: 'field' }, h('label', { for: 'my-email' }, 'Your email address'), email, h('p', { class: 'field-hint', id: 'my-email-hint' }, 'The same address in Severa and in Exchange (Exchange may know it as a secondary address).')),
        h('div', { class: 'field' }, h('label', { for: 'my-password' }, 'Your mailbox password'), password, h('p', { class: 'field-hint', id: 'my-password-hint' }, 'Asked once to prove the mailbox is yours. It is checked with Exchange and not stored.')),
        h('div', { class: 'field' }, h('label', { for: 'my-start' }, 'Sync items from (optional)'), start, h('p', { class: 'field-hint', id: 'my-start-hint' }, 'Nothing that ends before this date is touched. Default: today.')),
      ),
      h('div', { class: 'actions' }, submit),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      submit.disabled = true;
      clear(status, h('p', { class: 'muted' }, 'Checking your mailbox login with Exchange…'));
      try {
        const payload = { email: email.value, password: password.value, ...(start.value ? { syncStartDate: start.value } : {}) };
        const result = await api.invoke('personal:enable', payload);
        password.value = '';
        show(result);
        clear(status, h('p', { class: 'ok-text' }, '✓ Sync is on. The first sync starts shortly; its progress shows under Status.'));
        onChanged();
      } catch (error) {
        password.value = '';
        const e = errorParts(error);
        clear(status, problemBox(e.message, e.fix));
        submit.disabled = false;
      }
    });
    return form;
  };

  const show = (view: PersonalSyncView) => clear(body, view.enrolled ? enrolledView(view) : enableForm(view));

  return {
    async refresh() {
      void preferences.refresh();
      try {
        show(await api.invoke('personal:get'));
      } catch (error) {
        const e = errorParts(error);
        clear(status, problemBox(e.message, e.fix));
      }
    },
  };
}

function known(yes: boolean, detail: string) {
  return h('span', { class: yes ? 'known known-yes' : 'known known-no' }, h('span', { 'aria-hidden': 'true' }, yes ? '✓ ' : '✕ '), h('span', { class: 'visually-hidden' }, yes ? 'Yes: ' : 'No: '), detail);
}
