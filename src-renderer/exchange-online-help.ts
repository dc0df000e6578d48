import type { CheckView } from '../src-main/common/ipc-contract.ts';
import { t } from '../src-main/common/i18n/i18n.ts';
import { clear, h } from './dom.ts';

/**
 * What the admin does in Microsoft Entra ID and Exchange Online PowerShell for the sync, step by step as of today
 * (docs/exchange-online.md), with their own tenant, application (client) id and mailboxes filled into the commands.
 * Shown beside the Exchange Online fields, and attached to a failing check of Test connection that one of the steps
 * fixes (consent, a mailbox outside the app's scope).
 */

export interface OnlineIds {
  tenant: string;
  clientId: string;
  /** Enrolled addresses, for the commands that test one. */
  mailboxes: string[];
}


const or = (value: string, placeholder: string) => (value.trim() ? value.trim() : placeholder);

export function certificateCommand(): string {
  return 'openssl req -x509 -newkey rsa:2048 -nodes -days 730 -subj "/CN=Severa Calendar Sync" -keyout severa-sync.key -out severa-sync.pem';
}

/** RBAC for Applications, filled in. */
export function scopeCommands(ids: OnlineIds): string {
  const app = or(ids.clientId, t('forms.onlineHelp.clientId'));
  const mailbox = ids.mailboxes[0] ?? t('forms.onlineHelp.mailbox');
  return [
    'Connect-ExchangeOnline',
    `New-ServicePrincipal -AppId ${app} -ObjectId ${t('forms.onlineHelp.objectId')} -DisplayName "Severa Calendar Sync"`,
    `New-ManagementScope -Name "Severa sync users" -RecipientRestrictionFilter "MemberOfGroup -eq '${t('forms.onlineHelp.groupDn')}'"`,
    `New-ManagementRoleAssignment -App ${app} -Role "Application Calendars.ReadWrite" -CustomResourceScope "Severa sync users"`,
    `Test-ServicePrincipalAuthorization -Identity ${app} -Resource ${mailbox}   # InScope: True`,
  ].join('\n');
}

/** The application access policy, filled in. */
export function policyCommands(ids: OnlineIds): string {
  const app = or(ids.clientId, t('forms.onlineHelp.clientId'));
  const mailbox = ids.mailboxes[0] ?? t('forms.onlineHelp.mailbox');
  return [
    `New-ApplicationAccessPolicy -AppId ${app} -PolicyScopeGroupId ${t('forms.onlineHelp.group')} -AccessRight RestrictAccess -Description "Severa Calendar Sync"`,
    `Test-ApplicationAccessPolicy -Identity ${mailbox} -AppId ${app}   # AccessCheckResult: Granted`,
  ].join('\n');
}

/** For one mailbox the app may not open: add it to the group, then test both kinds of limit. */
export function mailboxScopeCommands(ids: OnlineIds, mailbox: string): string {
  const app = or(ids.clientId, t('forms.onlineHelp.clientId'));
  return [
    'Connect-ExchangeOnline',
    `Add-DistributionGroupMember -Identity ${t('forms.onlineHelp.group')} -Member ${mailbox}`,
    `Test-ServicePrincipalAuthorization -Identity ${app} -Resource ${mailbox}   # RBAC for Applications: InScope True`,
    `Test-ApplicationAccessPolicy -Identity ${mailbox} -AppId ${app}   # application access policy: Granted`,
  ].join('\n');
}

const commands = (text: string) => h('pre', { class: 'commands', tabindex: '0' }, h('code', {}, text));

function step(title: string, text: string, ...more: (Node | null)[]) {
  return h('li', {}, h('p', { class: 'help-step-title' }, title), h('p', { class: 'help-step-text' }, text), ...more);
}

/** The step-by-step help; `update` fills the commands in as the ids are typed. */
export function createOnlineHelp(): { element: HTMLDetailsElement; update(ids: OnlineIds): void } {
  const body = h('div', { class: 'help-body' });
  const element = h('details', { class: 'help-box', id: 'exchange-online-help' }, h('summary', {}, t('forms.onlineHelp.summary')), body);
  return {
    element,
    update(ids) {
      clear(
        body,
        h('p', { class: 'muted' }, t('forms.onlineHelp.intro')),
        h(
          'ol',
          { class: 'help-steps' },
          step(t('forms.onlineHelp.registerTitle'), t('forms.onlineHelp.registerText')),
          step(t('forms.onlineHelp.permissionsTitle'), t('forms.onlineHelp.permissionsText')),
          step(t('forms.onlineHelp.credentialTitle'), t('forms.onlineHelp.credentialText'), commands(certificateCommand())),
          step(
            t('forms.onlineHelp.scopeTitle'),
            t('forms.onlineHelp.scopeText'),
            commands(scopeCommands(ids)),
            h('p', { class: 'help-step-text' }, t('forms.onlineHelp.scopeAfter')),
            h('p', { class: 'help-step-text' }, t('forms.onlineHelp.policy')),
            commands(policyCommands(ids)),
          ),
          step(t('forms.onlineHelp.signInTitle'), t('forms.onlineHelp.signInText')),
        ),
      );
    },
  };
}

/** The failing check's own step, with the commands filled in, or null when no step of the set-up fixes it. */
export function onlineCheckHelp(check: CheckView, ids: OnlineIds): HTMLElement | null {
  if (check.ok) return null;
  // In a hybrid organization each connection's checks carry its location before a '|'.
  const id = check.id.slice(check.id.lastIndexOf('|') + 1);
  if (id.startsWith('graph-mailbox:') && /limited to|scope/i.test(`${check.message} ${check.fix ?? ''}`)) {
    const mailbox = id.slice('graph-mailbox:'.length);
    return h('details', { class: 'check-help', open: true }, h('summary', {}, t('forms.onlineHelp.checkScope', { mailbox })), commands(mailboxScopeCommands(ids, mailbox)));
  }
  if (id === 'graph-consent') {
    return h('details', { class: 'check-help', open: true }, h('summary', {}, t('forms.onlineHelp.checkConsent')), h('p', { class: 'help-step-text' }, t('forms.onlineHelp.permissionsText')));
  }
  return null;
}
