import { LogLevel, PublicClientApplication, type AuthenticationResult } from '@azure/msal-node';
import { CalendarError } from '../calendar-connector.ts';
import type { Transport } from '../../net/http-transport.ts';
import type { GraphClient } from './graph-client.ts';
import { signInError } from './graph-errors.ts';
import { msalNetworkModule, msalAuthorityOptions } from './graph-sign-in.ts';
import { t } from '../../common/i18n/i18n.ts';

/**
 * "Enable my sync" on Exchange Online: the user signs in with Microsoft as themselves (the system browser, authorization
 * code + PKCE with a loopback redirect; or the device-code flow on the command line), and is enrolled only when the
 * signed-in account's mailbox has the address Severa knows (primary or an alias). The comparison is made by the app's own
 * directory lookup, not by trusting what the sign-in says of itself. Nothing from the sign-in is kept beyond the proof:
 * the token cache is emptied and the token never leaves this function.
 */

export interface MailboxProofOptions {
  tenant: string;
  clientId: string;
  authorityHost: string;
  transport: Transport;
  /** The app-only Graph client, for looking the signed-in user up in the directory. */
  directory: GraphClient;
  /** The address Severa knows for this user. */
  email: string;
  /** 'browser': opens the sign-in page with `openBrowser`; 'device': tells the user a code with `onDeviceCode`. */
  mode: 'browser' | 'device';
  openBrowser?: (url: string) => Promise<void>;
  onDeviceCode?: (message: string) => void;
  /** The page shown in the browser after the sign-in (the window tells the rest). */
  successPage?: string;
  timeoutMs?: number;
}

export type MailboxProof = { ok: true; mailbox: string; signedInAs: string } | { ok: false; message: string; fix?: string };

const SIGN_IN_SCOPES = ['User.Read'];

/** The directory object of the signed-in account: every address its mailbox answers to. */
async function addressesOf(directory: GraphClient, userId: string): Promise<{ mail: string | null; addresses: Set<string> }> {
  const user = await directory.request<{ mail?: string | null; userPrincipalName?: string; proxyAddresses?: string[] }>({
    method: 'GET',
    url: `/users/${encodeURIComponent(userId)}?$select=id,mail,userPrincipalName,proxyAddresses`,
    mailbox: null,
    what: t('report.graph.steps.lookingUpAccount'),
    operation: 'users/get',
  });
  const addresses = new Set<string>();
  const mail = user.body?.mail?.toLowerCase() ?? null;
  if (mail) addresses.add(mail);
  for (const p of user.body?.proxyAddresses ?? []) if (/^smtp:/i.test(p)) addresses.add(p.slice(5).toLowerCase());
  return { mail, addresses };
}

export async function proveMailboxOwnership(o: MailboxProofOptions): Promise<MailboxProof> {
  const email = o.email.trim().toLowerCase();
  const app = new PublicClientApplication({
    auth: { clientId: o.clientId, ...msalAuthorityOptions(o.authorityHost, o.tenant) },
    system: { networkClient: msalNetworkModule(o.transport, 30_000), loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => undefined } },
  });
  let result: AuthenticationResult | null;
  try {
    result = await withTimeout(
      o.mode === 'browser'
        ? app.acquireTokenInteractive({
            scopes: SIGN_IN_SCOPES,
            loginHint: email,
            prompt: 'select_account',
            openBrowser: o.openBrowser ?? (async () => {
              throw new CalendarError('config', 'No browser can be opened here; use the device code instead.');
            }),
            successTemplate: o.successPage ?? '<p>Signed in. You can close this tab and return to Severa Calendar Sync.</p>',
            errorTemplate: '<p>The sign-in did not finish: {{error}}. Return to Severa Calendar Sync.</p>',
          })
        : app.acquireTokenByDeviceCode({ scopes: SIGN_IN_SCOPES, deviceCodeCallback: (r) => o.onDeviceCode?.(r.message) }),
      o.timeoutMs ?? 5 * 60_000,
    );
  } catch (error) {
    const e = signInError(error, { tenant: o.tenant, clientId: o.clientId, credential: 'secret' }, new URL(o.authorityHost).host);
    return { ok: false, message: e.advice?.message ?? e.message, fix: e.advice?.fix ?? t('report.graph.proof.tryAgain') };
  } finally {
    // Nothing of the sign-in is kept: the proof is all the sync needs.
    const cache = app.getTokenCache();
    for (const account of await cache.getAllAccounts().catch(() => [])) await cache.removeAccount(account).catch(() => undefined);
  }
  const claims = (result?.idTokenClaims ?? {}) as { oid?: unknown; preferred_username?: unknown; tid?: unknown };
  const signedInAs = typeof claims.preferred_username === 'string' ? claims.preferred_username : (result?.account?.username ?? '');
  if (typeof claims.oid !== 'string') return { ok: false, message: t('report.graph.proof.noOid'), fix: t('report.graph.proof.tryAgain') };
  const { mail, addresses } = await addressesOf(o.directory, claims.oid);
  if (!addresses.has(email)) {
    return {
      ok: false,
      message: t('report.graph.proof.wrongAccount', { account: signedInAs || t('report.graph.proof.anotherAccount'), email }),
      fix: t('report.graph.proof.wrongAccountFix', { email }),
    };
  }
  return { ok: true, mailbox: mail ?? email, signedInAs };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CalendarError('transient', `The sign-in did not finish within ${Math.round(ms / 60_000)} minutes.`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
