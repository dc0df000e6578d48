import type { IdentityView, MailboxProofKind, PersonalSyncView } from '../src-main/common/ipc-contract.ts';
import { t } from '../src-main/common/i18n/i18n.ts';
import { clear, errorParts, h, problemBox } from './dom.ts';
import { when } from './format.ts';
import { renderPreferencesCard } from './preferences-card.ts';
import type { RendererApi } from './renderer-types.ts';

/**
 * "My sync": each person turns on sync for their own calendar, proving the mailbox is theirs: with its password
 * (on-premises Exchange, checked by one login and not kept), or by signing in with Microsoft in their own browser
 * (Exchange Online; nothing of the sign-in is kept). A hybrid organization offers both.
 */


const MARK = '\u0000';
/** A sentence with one value in bold: the translation keeps its own word order around it. */
const withStrong = (sentence: string, value: string) => {
  const [before, after = ''] = sentence.split(MARK);
  return [before, h('strong', {}, value), after];
};

export function renderPersonalSection(panel: HTMLElement, api: RendererApi, onChanged: () => void, onLanguage: () => void): { refresh(): Promise<void> } {
  const body = h('div', { class: 'personal-body' });
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const preferences = renderPreferencesCard(api, onLanguage);
  clear(panel, h('h2', { id: 'personal-heading' }, t('forms.personal.heading')), h('p', { class: 'lead' }, t('forms.personal.lead')), body, status, preferences.element);

  const identityTable = (identity: IdentityView) =>
    h(
      'table',
      { class: 'identity' },
      h('caption', {}, t('forms.personal.identityCaption')),
      h('thead', {}, h('tr', {}, (['system', 'address', 'knows'] as const).map((c) => h('th', { scope: 'col' }, t(`forms.personal.columns.${c}`))))),
      h(
        'tbody',
        {},
        h('tr', {}, h('th', { scope: 'row' }, 'Severa'), h('td', {}, identity.email), h('td', {}, known(identity.severa.known, identity.severa.detail))),
        h('tr', {}, h('th', { scope: 'row' }, 'Exchange'), h('td', {}, identity.exchange.primaryAddress ?? identity.email), h('td', {}, known(identity.exchange.known, identity.exchange.detail))),
      ),
    );

  const enrolledView = (view: PersonalSyncView) => {
    const disable = h('button', { type: 'button', class: 'danger', id: 'disable-sync' }, t('forms.personal.turnOff'));
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
      h('p', { class: 'enabled-line' }, h('span', { class: 'dot dot-good', 'aria-hidden': 'true' }), h('span', {}, ...withStrong(t('forms.personal.syncOnFor', { email: MARK }), view.email ?? ''))),
      h('dl', { class: 'facts' }, h('dt', {}, t('forms.personal.enabled')), h('dd', {}, when(view.enabledAt)), h('dt', {}, t('forms.personal.itemsFrom')), h('dd', {}, view.syncStartDate ?? '—')),
      view.identity ? identityTable(view.identity) : null,
      h('div', { class: 'actions' }, disable),
    );
  };

  const enableForm = (view: PersonalSyncView) => {
    const proofs: MailboxProofKind[] = view.proofs?.length ? view.proofs : ['password'];
    const both = proofs.length > 1;
    const email = h('input', { type: 'email', id: 'my-email', name: 'email', autocomplete: 'email', required: true, value: view.email ?? '', 'aria-describedby': 'my-email-hint' });
    const start = h('input', { type: 'date', id: 'my-start', name: 'syncStartDate', 'aria-describedby': 'my-start-hint' });
    const password = h('input', { type: 'password', id: 'my-password', name: 'password', autocomplete: 'current-password', 'aria-describedby': 'my-password-hint' });
    const submit = h('button', { type: 'submit', class: 'primary', id: 'enable-sync' }, t('forms.personal.turnOn'));
    const microsoft = h('button', { type: 'button', class: proofs[0] === 'microsoft' ? 'primary' : '', id: 'enable-with-microsoft', 'aria-describedby': 'my-microsoft-hint' }, t('forms.personal.microsoft'));
    const buttons = [submit, microsoft];

    const passwordPart = proofs.includes('password')
      ? h(
          'div',
          { class: 'proof proof-password' },
          both ? h('h3', {}, t('forms.personal.bothOnPremises')) : null,
          h('div', { class: 'field-grid' }, h('div', { class: 'field' }, h('label', { for: 'my-password' }, t('forms.personal.password')), password, h('p', { class: 'field-hint', id: 'my-password-hint' }, t('forms.personal.passwordHint')))),
          h('div', { class: 'actions' }, submit),
        )
      : null;
    const microsoftPart = proofs.includes('microsoft')
      ? h('div', { class: 'proof proof-microsoft' }, both ? h('h3', {}, t('forms.personal.bothOnline')) : null, h('p', { class: 'field-hint', id: 'my-microsoft-hint' }, t('forms.personal.microsoftHint')), h('div', { class: 'actions' }, microsoft))
      : null;
    const form = h(
      'form',
      { class: 'card settings-form', novalidate: true },
      h(
        'div',
        { class: 'field-grid' },
        h('div', { class: 'field' }, h('label', { for: 'my-email' }, t('forms.personal.email')), email, h('p', { class: 'field-hint', id: 'my-email-hint' }, t('forms.personal.emailHint'))),
        h('div', { class: 'field' }, h('label', { for: 'my-start' }, t('forms.personal.start')), start, h('p', { class: 'field-hint', id: 'my-start-hint' }, t('forms.personal.startHint'))),
      ),
      // The main connection's way first.
      proofs[0] === 'microsoft' ? [microsoftPart, passwordPart] : [passwordPart, microsoftPart],
    );

    const enable = async (waiting: string, request: () => Promise<PersonalSyncView>) => {
      for (const b of buttons) b.disabled = true;
      clear(status, h('p', { class: 'muted' }, waiting));
      try {
        const result = await request();
        show(result);
        clear(status, h('p', { class: 'ok-text' }, t('forms.personal.done')));
        onChanged();
      } catch (error) {
        const e = errorParts(error);
        clear(status, problemBox(e.message, e.fix));
        for (const b of buttons) b.disabled = false;
      } finally {
        password.value = '';
      }
    };
    const startDate = () => (start.value ? { syncStartDate: start.value } : {});
    const withPassword = () => enable(t('forms.personal.checkingPassword'), () => api.invoke('personal:enable', { email: email.value, password: password.value, ...startDate() }));
    const withMicrosoft = () => enable(t('forms.personal.waitingForBrowser', { email: email.value.trim() || t('forms.personal.yourself') }), () => api.invoke('personal:signInWithMicrosoft', { email: email.value, ...startDate() }));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void (proofs.includes('password') ? withPassword() : withMicrosoft());
    });
    microsoft.addEventListener('click', () => void withMicrosoft());
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
  return h('span', { class: yes ? 'known known-yes' : 'known known-no' }, h('span', { 'aria-hidden': 'true' }, yes ? '✓ ' : '✕ '), h('span', { class: 'visually-hidden' }, yes ? t('forms.personal.yes') : t('forms.personal.no')), detail);
}
