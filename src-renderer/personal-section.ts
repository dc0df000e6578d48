import type { IdentityView, MailboxProofKind, PersonalSyncView } from '../src-main/common/ipc-contract.ts';
import { clear, errorParts, h, problemBox } from './dom.ts';
import { when } from './format.ts';
import { renderPreferencesCard } from './preferences-card.ts';
import type { RendererApi } from './renderer-types.ts';

/**
 * "My sync": each person turns on sync for their own calendar, proving the mailbox is theirs: with its password
 * (on-premises Exchange, checked by one login and not kept), or by signing in with Microsoft in their own browser
 * (Exchange Online; nothing of the sign-in is kept). A hybrid organization offers both.
 */

// Every sentence of the section, in one place.
const TEXT = {
  heading: 'My sync',
  lead: 'Each person turns on sync for their own calendar. Nobody can turn it on for someone else.',
  identityCaption: 'The address used on both sides',
  columns: ['System', 'Address', 'Knows it?'],
  severa: 'Severa',
  exchange: 'Exchange',
  yes: 'Yes: ',
  no: 'No: ',
  turnOff: 'Turn off my sync',
  syncOnFor: 'Sync is on for ',
  enabled: 'Enabled',
  itemsFrom: 'Syncs items from',
  email: 'Your email address',
  emailHint: 'The same address in Severa and in Exchange (Exchange may know it as a secondary address).',
  password: 'Your mailbox password',
  passwordHint: 'Asked once to prove the mailbox is yours. It is checked with Exchange and not stored.',
  start: 'Sync items from (optional)',
  startHint: 'Nothing that ends before this date is touched. Default: today.',
  turnOn: 'Turn on my sync',
  microsoft: 'Sign in with Microsoft and turn on my sync',
  microsoftHint:
    'Your browser opens Microsoft\'s sign-in page. Sign in with your own work account: the sync checks that its mailbox has the address above, and keeps nothing from the sign-in.',
  bothOnline: 'Mailbox in Exchange Online',
  bothOnPremises: 'Mailbox on the on-premises Exchange server',
  checkingPassword: 'Checking your mailbox login with Exchange…',
  waitingForBrowser: (email: string) => `Your browser opened Microsoft's sign-in page. Sign in there as ${email || 'yourself'}; this window goes on when you are done.`,
  done: '✓ Sync is on. The first sync starts shortly; its progress shows under Status.',
};

export function renderPersonalSection(panel: HTMLElement, api: RendererApi, onChanged: () => void): { refresh(): Promise<void> } {
  const body = h('div', { class: 'personal-body' });
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const preferences = renderPreferencesCard(api);
  clear(panel, h('h2', { id: 'personal-heading' }, TEXT.heading), h('p', { class: 'lead' }, TEXT.lead), body, status, preferences.element);

  const identityTable = (identity: IdentityView) =>
    h(
      'table',
      { class: 'identity' },
      h('caption', {}, TEXT.identityCaption),
      h('thead', {}, h('tr', {}, TEXT.columns.map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        h('tr', {}, h('th', { scope: 'row' }, TEXT.severa), h('td', {}, identity.email), h('td', {}, known(identity.severa.known, identity.severa.detail))),
        h('tr', {}, h('th', { scope: 'row' }, TEXT.exchange), h('td', {}, identity.exchange.primaryAddress ?? identity.email), h('td', {}, known(identity.exchange.known, identity.exchange.detail))),
      ),
    );

  const enrolledView = (view: PersonalSyncView) => {
    const disable = h('button', { type: 'button', class: 'danger', id: 'disable-sync' }, TEXT.turnOff);
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
      h('p', { class: 'enabled-line' }, h('span', { class: 'dot dot-good', 'aria-hidden': 'true' }), h('span', {}, TEXT.syncOnFor, h('strong', {}, view.email ?? ''), '.')),
      h('dl', { class: 'facts' }, h('dt', {}, TEXT.enabled), h('dd', {}, when(view.enabledAt)), h('dt', {}, TEXT.itemsFrom), h('dd', {}, view.syncStartDate ?? '—')),
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
    const submit = h('button', { type: 'submit', class: 'primary', id: 'enable-sync' }, TEXT.turnOn);
    const microsoft = h('button', { type: 'button', class: proofs[0] === 'microsoft' ? 'primary' : '', id: 'enable-with-microsoft', 'aria-describedby': 'my-microsoft-hint' }, TEXT.microsoft);
    const buttons = [submit, microsoft];

    const passwordPart = proofs.includes('password')
      ? h(
          'div',
          { class: 'proof proof-password' },
          both ? h('h3', {}, TEXT.bothOnPremises) : null,
          h('div', { class: 'field-grid' }, h('div', { class: 'field' }, h('label', { for: 'my-password' }, TEXT.password), password, h('p', { class: 'field-hint', id: 'my-password-hint' }, TEXT.passwordHint))),
          h('div', { class: 'actions' }, submit),
        )
      : null;
    const microsoftPart = proofs.includes('microsoft')
      ? h('div', { class: 'proof proof-microsoft' }, both ? h('h3', {}, TEXT.bothOnline) : null, h('p', { class: 'field-hint', id: 'my-microsoft-hint' }, TEXT.microsoftHint), h('div', { class: 'actions' }, microsoft))
      : null;
    const form = h(
      'form',
      { class: 'card settings-form', novalidate: true },
      h(
        'div',
        { class: 'field-grid' },
        h('div', { class: 'field' }, h('label', { for: 'my-email' }, TEXT.email), email, h('p', { class: 'field-hint', id: 'my-email-hint' }, TEXT.emailHint)),
        h('div', { class: 'field' }, h('label', { for: 'my-start' }, TEXT.start), start, h('p', { class: 'field-hint', id: 'my-start-hint' }, TEXT.startHint)),
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
        clear(status, h('p', { class: 'ok-text' }, TEXT.done));
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
    const withPassword = () => enable(TEXT.checkingPassword, () => api.invoke('personal:enable', { email: email.value, password: password.value, ...startDate() }));
    const withMicrosoft = () => enable(TEXT.waitingForBrowser(email.value.trim()), () => api.invoke('personal:signInWithMicrosoft', { email: email.value, ...startDate() }));
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
  return h('span', { class: yes ? 'known known-yes' : 'known known-no' }, h('span', { 'aria-hidden': 'true' }, yes ? '✓ ' : '✕ '), h('span', { class: 'visually-hidden' }, yes ? TEXT.yes : TEXT.no), detail);
}
