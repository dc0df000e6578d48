import { CalendarError } from '../calendar-connector.ts';
import type { Transport } from '../../net/http-transport.ts';
import { GraphCalendarConnector } from './graph-calendar-connector.ts';
import type { GraphClient } from './graph-client.ts';
import { aadstsCodeOf } from './graph-errors.ts';
import { certificateFacts, type AppSignIn } from './graph-sign-in.ts';
import { t } from '../../common/i18n/i18n.ts';

/**
 * Test connection for Exchange Online, check by check, each passing only on proof: the tenant (its sign-in metadata
 * answered), the app and its credential (a token was issued), the credential's expiry, the admin's consent (the token
 * carries the Calendars.ReadWrite role), and each enrolled mailbox (found, in Exchange Online, inside the app's scope).
 */

export interface GraphCheckResult {
  id: string;
  title: string;
  ok: boolean;
  message: string;
  fix?: string;
}

export interface GraphDiagnosticsOptions {
  tenant: string;
  clientId: string;
  authorityHost: string;
  credential: { kind: 'secret'; expires?: string } | { kind: 'certificate'; certificatePem: string };
  signIn: AppSignIn;
  client: GraphClient;
  transport: Transport;
  mailboxes: readonly string[];
  now?: () => number;
  onResult?: (result: GraphCheckResult) => void;
}

const EXPIRY_WARNING_DAYS = 30;
const DAY = 86_400_000;

/** The claims of a JWT's payload (the token is not verified here: it is only read for the roles the tenant granted). */
function tokenClaims(token: string): { roles?: unknown; tid?: unknown } {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { roles?: unknown; tid?: unknown };
  } catch {
    return {};
  }
}

const notProven = (what: string) => `Not checked: ${what} can only be proven after the step above succeeds.`;

export async function runGraphDiagnostics(o: GraphDiagnosticsOptions): Promise<GraphCheckResult[]> {
  const results: GraphCheckResult[] = [];
  const now = o.now ?? Date.now;
  const add = (r: GraphCheckResult) => {
    results.push(r);
    o.onResult?.(r);
  };

  // 1. The tenant: Entra ID publishes sign-in metadata only for tenants it has.
  const tenantOk = await checkTenant(o, add);

  // 2-3. The app and its credential: a token proves both.
  let token: string | null = null;
  if (tenantOk) {
    try {
      token = await o.signIn.accessToken(true);
      add({ id: 'graph-app', title: 'App registration', ok: true, message: `Microsoft Entra ID knows the app ${o.clientId} in ${o.tenant}.` });
      add({ id: 'graph-credential', title: 'App credential', ok: true, message: `The app signed in with its ${o.credential.kind === 'certificate' ? 'certificate' : 'client secret'}.` });
    } catch (error) {
      const e = error instanceof CalendarError ? error : new CalendarError('other', String(error));
      const code = aadstsCodeOf(e.serverCode ?? e.message);
      const appUnknown = code === 700016 || code === 7000112;
      add({
        id: 'graph-app',
        title: 'App registration',
        ok: !appUnknown && code !== null,
        message: appUnknown ? (e.advice?.message ?? e.message) : code !== null ? `Microsoft Entra ID knows the app ${o.clientId}.` : notProven('the app'),
        fix: appUnknown ? e.advice?.fix : undefined,
      });
      if (!appUnknown) add({ id: 'graph-credential', title: 'App credential', ok: false, message: e.advice?.message ?? e.message, fix: e.advice?.fix ?? 'Check the credential in the settings.' });
    }
  } else {
    add({ id: 'graph-app', title: 'App registration', ok: false, message: notProven('the app') });
  }

  // 4. Expiry of the credential.
  add(expiryCheck(o, now()));

  // 5. Consent: the roles an admin granted are in the app's token.
  if (token) {
    const roles = tokenClaims(token).roles;
    const granted = Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
    const calendars = granted.includes('Calendars.ReadWrite');
    add({
      id: 'graph-consent',
      title: 'Permission and admin consent',
      ok: calendars,
      message: calendars
        ? `An administrator granted the app ${granted.join(', ')}.`
        : `The app's token carries no Calendars.ReadWrite permission${granted.length ? ` (only ${granted.join(', ')})` : ''}.`,
      fix: calendars
        ? undefined
        : 'In the Entra admin center: the app > API permissions > Add a permission > Microsoft Graph > Application permissions > Calendars.ReadWrite (and User.Read.All), then "Grant admin consent".',
    });
  } else {
    add({ id: 'graph-consent', title: 'Permission and admin consent', ok: false, message: notProven('the consent') });
  }

  // 6. Each mailbox: found, in Exchange Online, inside the app's scope.
  const connector = new GraphCalendarConnector({ client: o.client, window: { startDate: new Date(now()).toISOString().slice(0, 10), daysAhead: 1 } });
  for (const email of o.mailboxes) {
    const title = `Mailbox ${email}`;
    if (!token) {
      add({ id: `graph-mailbox:${email}`, title, ok: false, message: notProven('the mailbox') });
      continue;
    }
    try {
      const mailbox = await connector.resolveMailbox(email);
      if (!mailbox) {
        add({ id: `graph-mailbox:${email}`, title, ok: false, message: `Microsoft Entra ID has no user with the address ${email}, or more than one.`, fix: 'Use the address of the mailbox (primary or an alias) in Severa, or add it to the mailbox as an alias.' });
        continue;
      }
      await connector.probeMailboxAccess(mailbox);
      add({ id: `graph-mailbox:${email}`, title, ok: true, message: mailbox === email ? `The app can open the calendar of ${email}.` : `${email} is the mailbox ${mailbox}; the app can open its calendar.` });
    } catch (error) {
      const e = error instanceof CalendarError ? error : new CalendarError('other', String(error));
      add({ id: `graph-mailbox:${email}`, title, ok: false, message: e.advice?.message ?? e.message, fix: e.advice?.fix });
    }
  }
  // 7. The clock: collisions are decided on last-update times, corrected by the offset read from Graph's Date header.
  if (token) {
    // With no mailbox to ask (nobody enrolled yet, or a hybrid connection checked on its own) Graph has not answered
    // yet: one small directory read brings its Date header (any answer carries one; its outcome is not the point).
    if (o.client.clockOffsetMs() === null) {
      await o.client.request({ method: 'GET', url: '/users?$top=1&$select=id', mailbox: null, what: t('report.graph.steps.readingClock'), operation: 'users/list', accept: [403, 404] }).catch(() => undefined);
    }
    add(clockCheck(o.client.clockOffsetMs()));
  }
  return results;
}

const CLOCK_SKEW_LIMIT_MS = 60_000;

function clockCheck(offset: number | null): GraphCheckResult {
  const title = 'Exchange Online clock';
  if (offset === null) {
    return { id: 'exchange-clock', title, ok: false, message: "Microsoft Graph's answers carried no Date header, so its clock offset is unknown.", fix: 'Check that no proxy removes the Date header.' };
  }
  const seconds = Math.round(Math.abs(offset) / 1000);
  if (Math.abs(offset) > CLOCK_SKEW_LIMIT_MS) {
    return { id: 'exchange-clock', title, ok: false, message: `This computer's clock is ${seconds} s ${offset > 0 ? 'behind' : 'ahead of'} Exchange Online's, so collisions would be decided wrongly.`, fix: "Set this computer's clock to synchronise with a time server." };
  }
  return { id: 'exchange-clock', title, ok: true, message: `Exchange Online's clock agrees with this computer's (within ${Math.max(1, seconds)} s).` };
}

async function checkTenant(o: GraphDiagnosticsOptions, add: (r: GraphCheckResult) => void): Promise<boolean> {
  const title = 'Tenant';
  const url = new URL(`${o.authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(o.tenant)}/v2.0/.well-known/openid-configuration`);
  try {
    const response = await o.transport({ method: 'GET', url, headers: { Accept: 'application/json' }, timeoutMs: 20_000, maxResponseBytes: 1_048_576 });
    const body = JSON.parse(response.body.toString('utf8') || '{}') as { issuer?: unknown; error_description?: unknown };
    if (response.status === 200 && typeof body.issuer === 'string') {
      const id = /\/([0-9a-f-]{36})\//i.exec(body.issuer)?.[1];
      add({ id: 'graph-tenant', title, ok: true, message: `Microsoft Entra ID has the tenant ${o.tenant}${id && id !== o.tenant ? ` (directory id ${id})` : ''}.` });
      return true;
    }
    const description = typeof body.error_description === 'string' ? body.error_description : `HTTP ${response.status}`;
    add({
      id: 'graph-tenant',
      title,
      ok: false,
      message: aadstsCodeOf(description) === 90002 ? `Microsoft Entra ID has no tenant "${o.tenant}".` : `The sign-in service did not describe the tenant "${o.tenant}": ${description.split('\n')[0]}`,
      fix: 'Enter the tenant as its primary domain (contoso.onmicrosoft.com or contoso.com) or its directory (tenant) id.',
    });
  } catch (error) {
    add({ id: 'graph-tenant', title, ok: false, message: `The sign-in service at ${url.host} could not be reached: ${(error as Error).message}.`, fix: 'Check the network (and a proxy or CA file, if one is needed) and the sign-in address.' });
  }
  return false;
}

function expiryCheck(o: GraphDiagnosticsOptions, nowMs: number): GraphCheckResult {
  const title = 'Credential expiry';
  let expires: string | undefined;
  if (o.credential.kind === 'certificate') {
    try {
      expires = certificateFacts(o.credential.certificatePem).notAfter;
    } catch (error) {
      return { id: 'graph-expiry', title, ok: false, message: (error as Error).message, fix: 'Choose the certificate file again.' };
    }
  } else if (o.credential.expires) {
    expires = `${o.credential.expires}T00:00:00.000Z`;
  }
  if (!expires) {
    return {
      id: 'graph-expiry',
      title,
      ok: false,
      message: 'The client secret\'s expiry date is not known, so the sync cannot warn before it stops working.',
      fix: 'Enter the date the Entra admin center shows under Certificates & secrets > Expires.',
    };
  }
  const days = Math.floor((Date.parse(expires) - nowMs) / DAY);
  const what = o.credential.kind === 'certificate' ? 'certificate' : 'client secret';
  if (days < 0) return { id: 'graph-expiry', title, ok: false, message: `The ${what} expired on ${expires.slice(0, 10)}.`, fix: `Make a new ${what}, add it to the app registration, and enter it here.` };
  if (days < EXPIRY_WARNING_DAYS) {
    return { id: 'graph-expiry', title, ok: false, message: `The ${what} expires in ${days} day(s), on ${expires.slice(0, 10)}; the sync stops then.`, fix: `Make a new ${what} now, add it to the app registration, and enter it here.` };
  }
  return { id: 'graph-expiry', title, ok: true, message: `The ${what} is valid until ${expires.slice(0, 10)}.` };
}
