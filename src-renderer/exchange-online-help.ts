import type { CheckView } from '../src-main/common/ipc-contract.ts';
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

// Every sentence of the help, in one place. Angle brackets mark what the admin still fills in themselves.
const TEXT = {
  summary: 'How to set up the app in Microsoft Entra ID and Exchange Online (step by step, with your ids)',
  intro: 'You need an account that may register apps and grant admin consent (Application Administrator), and one that may run Exchange Online PowerShell (Exchange Administrator).',
  tenant: '<tenant>',
  clientId: '<application (client) id>',
  mailbox: '<address of a person who syncs>',
  group: '<address of the mail-enabled security group of the people who sync>',
  groupDn: '<distinguished name of that group>',
  objectId: "<object id of the app's enterprise application>",
  steps: {
    register: [
      'Register the app.',
      'Entra admin center > Identity > Applications > App registrations > New registration. Name it "Severa Calendar Sync", Accounts in this organizational directory only. Copy its Application (client) ID and Directory (tenant) ID into the fields above.',
    ],
    permissions: [
      'Give it its permissions.',
      'The app > API permissions > Add a permission > Microsoft Graph > Application permissions: Calendars.ReadWrite and User.Read.All. Then "Grant admin consent for" your organization.',
    ],
    credential: [
      'Give it a credential.',
      'The app > Certificates & secrets. A certificate (recommended): make a key pair, upload the certificate (.pem), choose that file above and paste its private key once. Or a client secret: copy its Value and its expiry date above.',
    ],
    scope: [
      'Limit the app to the mailboxes it syncs.',
      'An application permission reaches every mailbox of the tenant until Exchange Online limits it. Put the people who sync in a mail-enabled security group, then in Exchange Online PowerShell (RBAC for Applications, the current way):',
    ],
    scopeAfter: "Then remove the tenant-wide Calendars.ReadWrite grant of step 2 (keep User.Read.All): with RBAC for Applications the scope adds to what Entra granted. Changes can take an hour or more to reach Microsoft Graph.",
    policy: 'Or the older application access policy (still honoured):',
    signIn: [
      'For "Enable my sync".',
      'The app > Authentication > Add a platform > Mobile and desktop applications > redirect URI http://localhost, and Allow public client flows: Yes. Each person then proves their mailbox is theirs by signing in with Microsoft; the sync keeps nothing from that sign-in.',
    ],
  },
  checkScope: (mailbox: string) => `Commands for ${mailbox} (Exchange Online PowerShell)`,
  checkConsent: 'Where to grant the permission',
};

const or = (value: string, placeholder: string) => (value.trim() ? value.trim() : placeholder);

export function certificateCommand(): string {
  return 'openssl req -x509 -newkey rsa:2048 -nodes -days 730 -subj "/CN=Severa Calendar Sync" -keyout severa-sync.key -out severa-sync.pem';
}

/** RBAC for Applications, filled in. */
export function scopeCommands(ids: OnlineIds): string {
  const app = or(ids.clientId, TEXT.clientId);
  const mailbox = ids.mailboxes[0] ?? TEXT.mailbox;
  return [
    'Connect-ExchangeOnline',
    `New-ServicePrincipal -AppId ${app} -ObjectId ${TEXT.objectId} -DisplayName "Severa Calendar Sync"`,
    `New-ManagementScope -Name "Severa sync users" -RecipientRestrictionFilter "MemberOfGroup -eq '${TEXT.groupDn}'"`,
    `New-ManagementRoleAssignment -App ${app} -Role "Application Calendars.ReadWrite" -CustomResourceScope "Severa sync users"`,
    `Test-ServicePrincipalAuthorization -Identity ${app} -Resource ${mailbox}   # InScope: True`,
  ].join('\n');
}

/** The application access policy, filled in. */
export function policyCommands(ids: OnlineIds): string {
  const app = or(ids.clientId, TEXT.clientId);
  const mailbox = ids.mailboxes[0] ?? TEXT.mailbox;
  return [
    `New-ApplicationAccessPolicy -AppId ${app} -PolicyScopeGroupId ${TEXT.group} -AccessRight RestrictAccess -Description "Severa Calendar Sync"`,
    `Test-ApplicationAccessPolicy -Identity ${mailbox} -AppId ${app}   # AccessCheckResult: Granted`,
  ].join('\n');
}

/** For one mailbox the app may not open: add it to the group, then test both kinds of limit. */
export function mailboxScopeCommands(ids: OnlineIds, mailbox: string): string {
  const app = or(ids.clientId, TEXT.clientId);
  return [
    'Connect-ExchangeOnline',
    `Add-DistributionGroupMember -Identity ${TEXT.group} -Member ${mailbox}`,
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
  const element = h('details', { class: 'help-box', id: 'exchange-online-help' }, h('summary', {}, TEXT.summary), body);
  const s = TEXT.steps;
  return {
    element,
    update(ids) {
      clear(
        body,
        h('p', { class: 'muted' }, TEXT.intro),
        h(
          'ol',
          { class: 'help-steps' },
          step(s.register[0], s.register[1]),
          step(s.permissions[0], s.permissions[1]),
          step(s.credential[0], s.credential[1], commands(certificateCommand())),
          step(s.scope[0], s.scope[1], commands(scopeCommands(ids)), h('p', { class: 'help-step-text' }, s.scopeAfter), h('p', { class: 'help-step-text' }, s.policy), commands(policyCommands(ids))),
          step(s.signIn[0], s.signIn[1]),
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
    return h('details', { class: 'check-help', open: true }, h('summary', {}, TEXT.checkScope(mailbox)), commands(mailboxScopeCommands(ids, mailbox)));
  }
  if (id === 'graph-consent') {
    return h('details', { class: 'check-help', open: true }, h('summary', {}, TEXT.checkConsent), h('p', { class: 'help-step-text' }, TEXT.steps.permissions[1]));
  }
  return null;
}
