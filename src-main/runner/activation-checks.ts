import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { SecretSource } from '../common/secrets-contract.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
import { CalendarError } from '../exchange/calendar-connector.ts';
import type { CalendarConnector } from '../exchange/calendar-connector.ts';
import type { SeveraPort } from '../sync/severa-port.ts';
import { describeError } from './cycle-report-builders.ts';
import type { CheckResult, ConnectorFactory, RunnerLog } from './runner-types.ts';

/**
 * The activation diagnostics: each check is one plain sentence of what is right or wrong and, when wrong, what the admin
 * does about it. Later checks that cannot mean anything after an earlier failure (no login, no impersonation test) are
 * reported as not run rather than as a second failure.
 */

export const CLOCK_SKEW_LIMIT_MS = 60_000;
const CHECK_TIMEOUT_MS = 20_000;

const GRANT_IMPERSONATION =
  'In the Exchange Management Shell: New-ManagementRoleAssignment -Name "severa-sync-impersonation" -Role ApplicationImpersonation -User "<delegate account>" (add -CustomRecipientWriteScope to limit it to the enrolled users).';

export interface ActivationCheckDeps {
  settings: OrgSettings;
  secrets: SecretSource;
  connectors: ConnectorFactory;
  log: RunnerLog;
  now: () => number;
  /** Reachability and TLS of the EWS URL; replaced in tests. */
  probeUrl?: (url: string, caFile: string | undefined) => Promise<UrlProbe>;
}

export type UrlProbe = { ok: true; status: number; authSchemes: string[] } | { ok: false; kind: 'tls' | 'unreachable' | 'config'; detail: string };

/** Optional extras a real Severa client offers beyond the port (token and scopes). */
interface SeveraAuthorizationCheck {
  checkAuthorization(): Promise<unknown>;
}

export async function runActivationChecks(deps: ActivationCheckDeps): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const { settings } = deps;
  const add = (r: CheckResult) => results.push(r);

  // ---------- Severa ----------
  let severa: SeveraPort | null = null;
  const severaSecret = await deps.secrets.get('severa-client-secret');
  if (!severaSecret) {
    add({ id: 'severa-credentials', title: 'Severa API credentials', ok: false, message: 'No Severa API client secret is stored.', fix: 'Enter the client secret in the settings window (it goes to the OS keychain), or set SCS_SEVERA_CLIENT_SECRET for the CLI.' });
  } else {
    try {
      severa = await deps.connectors.createSevera(settings, deps.secrets);
      const port = severa as SeveraPort & Partial<SeveraAuthorizationCheck>;
      const detail = typeof port.checkAuthorization === 'function' ? await withTimeout(port.checkAuthorization(), 'Severa') : await withTimeout(port.listActivityTypes(), 'Severa');
      add({ id: 'severa-credentials', title: 'Severa API credentials', ok: true, message: `Severa accepted client id ${settings.severa.clientId}${describeScopes(detail)}.` });
    } catch (error) {
      severa = null;
      add({ id: 'severa-credentials', title: 'Severa API credentials', ok: false, ...severaProblem(error, settings.severa.clientId) });
    }
  }
  let severaEmails: Set<string> | null = null;
  if (severa) {
    try {
      const users = await withTimeout(severa.listUsers(), 'Severa');
      severaEmails = new Set(users.map((u) => (u.email ?? '').trim().toLowerCase()).filter(Boolean));
    } catch (error) {
      add({ id: 'severa-users', title: 'Severa users', ok: false, message: `The Severa user list could not be read: ${describeError(error)}`, fix: 'Give the API client the users:read scope.' });
    }
  }
  for (const e of settings.enrollments) {
    if (!severaEmails) continue;
    const known = severaEmails.has(e.email);
    add({
      id: `severa-user:${e.email}`,
      title: `Severa user ${e.email}`,
      ok: known,
      message: known ? `${e.email} is a Severa user.` : `No Severa user has the email ${e.email}.`,
      fix: known ? undefined : 'Use the same email address in Severa as in Exchange (Exchange may know it as a secondary address).',
    });
  }

  // ---------- Exchange ----------
  const exchange = settings.exchange;
  if (exchange.serverType === 'Office365') {
    add({
      id: 'exchange-online',
      title: 'Exchange Online (Office 365)',
      ok: false,
      message: 'Exchange Online no longer accepts a delegate user name and password (basic authentication and ApplicationImpersonation were retired), so this sync cannot log in there yet.',
      fix: 'The replacement is a Microsoft Graph app registration (tenant id, client id, secret) with Calendars.ReadWrite; that connector is not built yet. Until then, sync only on-premises Exchange mailboxes.',
    });
    return finishWithClock(results, severa, null);
  }

  const probe = await (deps.probeUrl ?? probeUrl)(exchange.ewsUrl, exchange.caFile);
  if (!probe.ok) {
    add({
      id: 'ews-reachable',
      title: 'Exchange EWS address',
      ok: false,
      message: probe.kind === 'tls' ? `The TLS certificate of ${exchange.ewsUrl} is not trusted: ${probe.detail}` : `${exchange.ewsUrl} cannot be reached: ${probe.detail}`,
      fix:
        probe.kind === 'tls'
          ? 'Install a certificate from a trusted authority on the server, or point "CA file" at the PEM file of your own certificate authority.'
          : 'Check the EWS URL (usually https://<mail server>/EWS/Exchange.asmx), the DNS name and the firewall.',
    });
    add(notRun('ews-login', 'Delegate login', 'the EWS address could not be reached'));
    return finishWithClock(results, severa, null);
  }
  add({ id: 'ews-reachable', title: 'Exchange EWS address', ok: true, message: `${exchange.ewsUrl} answers over ${new URL(exchange.ewsUrl).protocol === 'https:' ? 'a trusted TLS connection' : 'plain HTTP'} (HTTP ${probe.status}).` });
  const wanted = exchange.authMethod === 'ntlm' ? 'ntlm' : 'basic';
  if (probe.authSchemes.length > 0 && !probe.authSchemes.some((s) => s === wanted || (wanted === 'ntlm' && s === 'negotiate'))) {
    add({
      id: 'ews-auth-method',
      title: 'Authentication method',
      ok: false,
      message: `The server offers ${probe.authSchemes.join(', ')} but the settings use ${wanted === 'ntlm' ? 'NTLM' : 'Basic'}.`,
      fix: `Choose ${probe.authSchemes.includes('basic') ? 'Basic' : 'NTLM'} in the settings, or enable ${wanted === 'ntlm' ? 'Windows (NTLM)' : 'Basic'} authentication on the EWS virtual directory.`,
    });
  }

  const password = await deps.secrets.get('exchange-delegate-password');
  if (!password) {
    add({ id: 'ews-login', title: 'Delegate login', ok: false, message: 'No delegate account password is stored.', fix: 'Enter the delegate password in the settings window, or set SCS_EXCHANGE_PASSWORD for the CLI.' });
    return finishWithClock(results, severa, null);
  }
  let calendar: CalendarConnector;
  try {
    calendar = await deps.connectors.createCalendar(settings, deps.secrets);
  } catch (error) {
    add({ id: 'ews-login', title: 'Delegate login', ok: false, message: `The Exchange connection cannot be set up: ${describeError(error)}`, fix: 'Correct the Exchange settings.' });
    return finishWithClock(results, severa, null);
  }
  const account = exchange.domain ? `${exchange.domain}\\${exchange.username}` : exchange.username;
  const firstEmail = settings.enrollments[0]?.email ?? (exchange.username.includes('@') ? exchange.username : null);
  let loggedIn = false;
  try {
    // ResolveNames needs a valid login but no impersonation: the cleanest test of the delegate's credentials.
    if (firstEmail) await withTimeout(calendar.resolveMailbox(firstEmail), 'Exchange');
    else await withTimeout(calendar.resolveMailbox(`${exchange.username}@invalid.example`), 'Exchange');
    loggedIn = true;
    add({ id: 'ews-login', title: 'Delegate login', ok: true, message: `Exchange accepted ${account} (${exchange.authMethod === 'ntlm' ? 'NTLM' : 'Basic'}).` });
  } catch (error) {
    add({ id: 'ews-login', title: 'Delegate login', ok: false, ...exchangeProblem(error, account) });
  }

  for (const e of settings.enrollments) {
    if (!loggedIn) {
      add(notRun(`mailbox:${e.email}`, `Mailbox of ${e.email}`, 'the delegate login failed'));
      continue;
    }
    let mailbox: string | null = null;
    try {
      mailbox = await withTimeout(calendar.resolveMailbox(e.email), 'Exchange');
      add(
        mailbox
          ? { id: `mailbox:${e.email}`, title: `Mailbox of ${e.email}`, ok: true, message: mailbox === e.email ? `${e.email} is a mailbox.` : `${e.email} is a secondary address of the mailbox ${mailbox}.` }
          : { id: `mailbox:${e.email}`, title: `Mailbox of ${e.email}`, ok: false, message: `No Exchange mailbox has the address ${e.email}.`, fix: 'Add the address to the user\'s mailbox as a secondary SMTP address, or change the email in Severa to the mailbox\'s address.' },
      );
    } catch (error) {
      add({ id: `mailbox:${e.email}`, title: `Mailbox of ${e.email}`, ok: false, ...exchangeProblem(error, account) });
    }
    if (!mailbox) {
      add(notRun(`impersonation:${e.email}`, `Impersonation of ${e.email}`, 'the mailbox was not found'));
      continue;
    }
    try {
      // A search for a tag no item carries: one cheap request that only succeeds with impersonation rights.
      await withTimeout(calendar.findByTag(mailbox, '00000000-0000-4000-8000-00000000c0de'), 'Exchange');
      add({ id: `impersonation:${e.email}`, title: `Impersonation of ${e.email}`, ok: true, message: `${account} can open the calendar of ${mailbox}.` });
    } catch (error) {
      add({ id: `impersonation:${e.email}`, title: `Impersonation of ${e.email}`, ok: false, ...exchangeProblem(error, account, mailbox) });
    }
  }
  return finishWithClock(results, severa, calendar);
}

function finishWithClock(results: CheckResult[], severa: SeveraPort | null, calendar: CalendarConnector | null): CheckResult[] {
  const offsets: Array<[string, number | null]> = [
    ['Severa', severa ? severa.clockOffsetMs() : null],
    ['Exchange', calendar ? calendar.clockOffsetMs() : null],
  ];
  for (const [side, offset] of offsets) {
    if (offset === null) continue;
    const seconds = Math.round(Math.abs(offset) / 1000);
    const skewed = Math.abs(offset) > CLOCK_SKEW_LIMIT_MS;
    results.push({
      id: `clock:${side.toLowerCase()}`,
      title: `${side} clock`,
      ok: !skewed,
      message: skewed
        ? `The ${side} server's clock is ${seconds} s ${offset > 0 ? 'ahead of' : 'behind'} this computer's, so collisions (the later change wins) would be decided wrongly.`
        : `The ${side} server's clock agrees with this computer's (within ${seconds} s).`,
      fix: skewed ? `Synchronize the clocks (NTP) of the ${side} server and this computer.` : undefined,
    });
  }
  return results;
}

function notRun(id: string, title: string, because: string): CheckResult {
  return { id, title, ok: false, message: `Not checked, because ${because}.`, fix: 'Fix the check above first.' };
}

function describeScopes(detail: unknown): string {
  const scopes = (detail as { scopes?: unknown } | null)?.scopes;
  if (Array.isArray(scopes) && scopes.length > 0) return ` with the scopes ${scopes.join(', ')}`;
  return '';
}

function severaProblem(error: unknown, clientId: string): { message: string; fix: string } {
  const e = error as { status?: number; code?: string; missingScopes?: string[] };
  if (Array.isArray(e?.missingScopes) && e.missingScopes.length > 0) {
    return { message: `The Severa API client ${clientId} lacks the scopes ${e.missingScopes.join(', ')}.`, fix: 'In Severa, Settings > Integrations > API: give the client these scopes.' };
  }
  if (e?.status === 401 || e?.status === 403 || e?.code === 'auth') {
    return { message: `Severa refused the client id ${clientId} with this secret.`, fix: 'Check the client id and secret under Severa Settings > Integrations > API, and store the secret again.' };
  }
  return { message: `Severa could not be reached or answered wrongly: ${describeError(error)}`, fix: 'Check the Severa API address and the network.' };
}

function exchangeProblem(error: unknown, account: string, mailbox?: string): { message: string; fix: string } {
  const code = error instanceof CalendarError ? error.code : (error as { code?: string })?.code;
  switch (code) {
    case 'auth':
      return { message: `Exchange refused the login of ${account}.`, fix: 'Check the NetBIOS domain, user name, password and authentication method (NTLM or Basic).' };
    case 'impersonation-denied':
      return { message: `${account} may not impersonate ${mailbox ?? 'this mailbox'}.`, fix: GRANT_IMPERSONATION };
    case 'no-mailbox':
      return { message: `Exchange has no mailbox ${mailbox ?? ''}`.trimEnd() + '.', fix: 'Use the address of a mailbox on this Exchange server (the user may be on another server or domain).' };
    case 'tls':
      return { message: `The server's TLS certificate is not trusted: ${describeError(error)}`, fix: 'Point "CA file" at the PEM file of your certificate authority.' };
    case 'throttled':
    case 'transient':
      return { message: `Exchange is busy or unavailable right now: ${describeError(error)}`, fix: 'Try again in a few minutes.' };
    default:
      return { message: `Exchange answered with an error: ${describeError(error)}`, fix: 'Check the EWS URL and the server type, then the Exchange server\'s logs.' };
  }
}

async function withTimeout<T>(promise: Promise<T>, side: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${side} did not answer within ${CHECK_TIMEOUT_MS / 1000} s.`)), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const TLS_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ALTNAME|EPROTO/i;

/** One unauthenticated request: reachable, TLS valid (with the extra CA when given), and which auth schemes are offered. */
export function probeUrl(url: string, caFile: string | undefined): Promise<UrlProbe> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve({ ok: false, kind: 'config', detail: `"${url}" is not a web address.` });
  }
  let ca: string[] | undefined;
  if (caFile) {
    try {
      ca = [...rootCertificates, readFileSync(caFile, 'utf8')];
    } catch (error) {
      return Promise.resolve({ ok: false, kind: 'config', detail: `the CA file ${caFile} cannot be read (${describeError(error)}).` });
    }
  }
  return new Promise((resolve) => {
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method: 'GET', timeout: CHECK_TIMEOUT_MS, ...(ca ? { ca } : {}) }, (res) => {
      res.resume();
      const header = res.headers['www-authenticate'];
      const offered = (Array.isArray(header) ? header : header ? [header] : [])
        .flatMap((h) => h.split(','))
        .map((h) => h.trim().split(/\s+/)[0].toLowerCase())
        .filter((s) => s && !s.includes('='));
      resolve({ ok: true, status: res.statusCode ?? 0, authSchemes: [...new Set(offered)] });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      if (TLS_ERROR.test(code) || TLS_ERROR.test(error.message)) resolve({ ok: false, kind: 'tls', detail: `${error.message}.` });
      else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') resolve({ ok: false, kind: 'unreachable', detail: `the host ${target.hostname} is unknown.` });
      else if (code === 'ECONNREFUSED') resolve({ ok: false, kind: 'unreachable', detail: `nothing listens on ${target.host}.` });
      else resolve({ ok: false, kind: 'unreachable', detail: `${error.message}.` });
    });
    req.end();
  });
}
