import type { AdminSettingsDraft, ExchangeDraft } from '../src-main/common/ipc-contract.ts';
import type { SecretName } from '../src-main/common/secrets-contract.ts';
import { t } from '../src-main/common/i18n/i18n.ts';
import { clear, h } from './dom.ts';
import { createConnectionFields, SERVER_TYPE_LABELS } from './exchange-connection-fields.ts';
import type { ConnectionFields } from './exchange-connection-fields.ts';
import { checkboxField, field } from './form-fields.ts';
import type { Field } from './form-fields.ts';
import type { RendererApi } from './renderer-types.ts';

/**
 * A hybrid organization (docs/hybrid.md): a second Exchange connection beside the first (on-premises Exchange beside
 * Exchange Online, or a second on-premises server while mailboxes move), and per enrolled person the admin's choice of
 * connection: automatic (where the calendar opens, the default) or always the first or the second.
 */

type Choice = 'auto' | 'first' | 'second';


/** A connection as people name it: "Exchange Online (contoso.onmicrosoft.com)", "on-premises Exchange 2016 (mail.contoso.com)". */
export function describeConnection(ex: ExchangeDraft): string {
  if (ex.serverType === 'Office365') return ex.tenantId?.trim() ? t('forms.hybrid.onlineAt', { tenant: ex.tenantId.trim() }) : t('forms.hybrid.online');
  const host = ex.ewsUrl && URL.canParse(ex.ewsUrl) ? new URL(ex.ewsUrl).host : '';
  return host ? t('forms.hybrid.onPremisesAt', { type: SERVER_TYPE_LABELS[ex.serverType], host }) : t('forms.hybrid.onPremises', { type: SERVER_TYPE_LABELS[ex.serverType] });
}

export interface HybridFields {
  element: HTMLElement;
  byPath(): Record<string, Field>;
  all(): Field[];
  fill(draft: AdminSettingsDraft, enrolled: string[]): void;
  collect(): Pick<AdminSettingsDraft, 'secondExchange' | 'mailboxLocations'>;
  secrets(): Array<[SecretName, HTMLInputElement | HTMLTextAreaElement]>;
  showSecrets(stored: Record<SecretName, boolean>): void;
  /** The second connection when it is switched on. */
  connection(): ConnectionFields | null;
  /** The first connection changed: the choices' names and the shared secrets follow. */
  refresh(): void;
}

export function createHybridFields(api: RendererApi, first: ConnectionFields): HybridFields {
  const enabled = checkboxField(t('forms.hybrid.enable'), 'secondEnabled', t('forms.hybrid.enableHint'));
  const enabledBox = enabled.input as HTMLInputElement;
  const slot = h('div', { class: 'second-connection' });
  const places = h('div', { class: 'mailbox-places' });
  // Only with two connections is there a choice to make.
  const placesPart = h('div', { class: 'places' }, h('h4', { class: 'places-heading' }, t('forms.hybrid.placesHeading')), h('p', { class: 'field-hint' }, t('forms.hybrid.placesHint')), places);
  const element = h('fieldset', { id: 'second-exchange' }, h('legend', {}, t('forms.hybrid.legend')), h('p', { class: 'field-hint' }, t('forms.hybrid.lead')), h('div', { class: 'field-grid' }, enabled.row), slot, placesPart);
  // Built when first needed, so a form without a second connection has one set of Exchange fields only.
  let second: ConnectionFields | null = null;
  let choices: Record<string, Field> = {};
  /** Stored choices of people not listed here (no longer enrolled): kept as they are. */
  let otherChoices: Record<string, 'first' | 'second'> = {};
  let stored: Record<SecretName, boolean> | null = null;

  const ensureSecond = (): ConnectionFields => {
    if (!second) {
      second = createConnectionFields(api, 'secondExchange', t('forms.hybrid.connectionLabel'));
      second.serverTypeInput.addEventListener('change', refresh);
      // A new second connection is of the other kind than the first: the usual hybrid (a stored one is filled in after).
      second.fill({ serverType: first.isOnline() ? 'Exchange2019' : 'Office365' });
      slot.append(second.element);
      if (stored) second.showSecrets(stored);
    }
    return second;
  };

  const refresh = () => {
    const on = enabledBox.checked;
    slot.hidden = !on;
    placesPart.hidden = !on;
    if (on) ensureSecond().shareSecretsWith(first.isOnline());
    const firstName = t('forms.hybrid.first', { what: describeConnection(first.collect()) });
    const secondName = on && second ? t('forms.hybrid.second', { what: describeConnection(second.collect()) }) : t('forms.hybrid.noSecond');
    for (const f of Object.values(choices)) {
      const options = (f.input as HTMLSelectElement).options;
      options[1].textContent = firstName;
      options[2].textContent = secondName;
    }
  };
  enabledBox.addEventListener('change', refresh);

  const renderPlaces = (enrolled: string[], current: Record<string, 'first' | 'second'>) => {
    choices = {};
    otherChoices = Object.fromEntries(Object.entries(current).filter(([email]) => !enrolled.includes(email)));
    if (enrolled.length === 0) {
      clear(places, h('p', { class: 'muted empty' }, t('forms.hybrid.nobody')));
      return;
    }
    const rows = enrolled.map((email) => {
      const select = h('select', { name: `mailboxLocation-${email}`, 'data-user': email }, h('option', { value: 'auto' }, t('forms.hybrid.auto')), h('option', { value: 'first' }), h('option', { value: 'second' }));
      select.value = current[email] ?? 'auto';
      const f = field(email, select);
      choices[email] = f;
      return f.row;
    });
    clear(places, h('div', { class: 'field-grid' }, rows));
  };

  return {
    element,
    connection: () => (enabledBox.checked ? second : null),
    byPath() {
      const out: Record<string, Field> = { secondExchange: enabled };
      if (enabledBox.checked && second) Object.assign(out, second.byPath());
      for (const [email, f] of Object.entries(choices)) out[`mailboxLocations.${email}`] = f;
      return out;
    },
    all: () => [enabled, ...(second ? second.all() : []), ...Object.values(choices)],
    fill(draft, enrolled) {
      enabledBox.checked = Boolean(draft.secondExchange);
      if (draft.secondExchange) ensureSecond().fill(draft.secondExchange);
      renderPlaces(enrolled, draft.mailboxLocations ?? {});
      refresh();
    },
    collect() {
      const mailboxLocations: Record<string, 'first' | 'second'> = { ...otherChoices };
      for (const [email, f] of Object.entries(choices)) {
        const choice = f.input.value as Choice;
        if (choice !== 'auto') mailboxLocations[email] = choice;
      }
      return { secondExchange: enabledBox.checked && second ? second.collect() : null, mailboxLocations };
    },
    secrets: () => (enabledBox.checked && second ? second.secrets() : []),
    showSecrets(s) {
      stored = s;
      second?.showSecrets(s);
    },
    refresh,
  };
}
