import { SECRET_ENV_VARS, SECRET_FIELDS } from '../common/secrets-contract.ts';
import type { SecretName, SecretSource } from '../common/secrets-contract.ts';
import type { OnPremisesExchangeSettings, OrgSettings } from '../common/settings-schema.ts';
import { runEwsDiagnostics } from '../exchange/ews/ews-diagnostics.ts';
import type { SeveraPort } from '../sync/severa-port.ts';
import { CalendarError } from '../exchange/calendar-connector.ts';
import { runGraphDiagnostics } from '../exchange/graph/graph-diagnostics.ts';
import { connectionLocation, describeLocation } from '../exchange/exchange-locations.ts';
import { ewsConnectorOptions, exchangeConnections, graphConnection } from './connector-factory.ts';
import { describeError } from './cycle-report-builders.ts';
import type { CheckResult, ConnectorFactory, CountedSevera, RunnerLog } from './runner-types.ts';

/**
 * The activation diagnostics, all in one list: Severa credentials, scopes, users and clock (here); the EWS address, TLS,
 * delegate login, each mailbox and its impersonation, and Exchange's clock (ews-diagnostics.ts). Each check is one plain
 * sentence of what is right or wrong and, when wrong, what the admin does about it. A check passes only on proof (an
 * answer that needed the login, a clock actually read); one that could not prove its point fails and says what.
 */

export const CLOCK_SKEW_LIMIT_MS = 60_000;

/** Where a missing secret goes: the field of the settings window by name, or its variable on the command line. */
const secretFix = (name: SecretName) => `Enter it in the settings window (${SECRET_FIELDS[name]}); it is kept in the system keychain. On the command line, set ${SECRET_ENV_VARS[name]}.`;
const CHECK_TIMEOUT_MS = 20_000;

export interface ActivationCheckDeps {
  settings: OrgSettings;
  secrets: SecretSource;
  connectors: ConnectorFactory;
  log: RunnerLog;
  now: () => number;
  /**
   * The Exchange side's checks; default: the EWS diagnostics over the configured server. They may report each result
   * through `onResult` as it comes; results they only return are reported when they return.
   */
  exchangeChecks?: (settings: OrgSettings, secrets: SecretSource, onResult?: (result: CheckResult) => void) => Promise<CheckResult[]>;
  /** Called with each result as soon as it is known, in the order of the returned list. */
  onResult?: (result: CheckResult) => void;
}

export async function runActivationChecks(deps: ActivationCheckDeps): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const { settings } = deps;
  const add = (r: CheckResult) => {
    results.push(r);
    deps.onResult?.(r);
  };

  // ---------- Severa ----------
  let severa: CountedSevera | null = null;
  const severaSecret = await deps.secrets.get('severa-client-secret');
  if (!severaSecret) {
    add({ id: 'severa-credentials', title: 'Severa API credentials', ok: false, message: 'No Severa API client secret is stored.', fix: secretFix('severa-client-secret') });
  } else {
    try {
      severa = await deps.connectors.createSevera(settings, deps.secrets, 'check');
      // The real client logs in afresh and compares the granted scopes; other ports prove the login with a read.
      const detail = severa.checkAuthorization ? await withTimeout(severa.checkAuthorization(), 'Severa') : await withTimeout(severa.listActivityTypes(), 'Severa');
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
  const connections = exchangeConnections(settings);
  const hybrid = connections.length > 1;
  for (const connection of connections) {
    // In a hybrid organization each connection is checked on its own (its address, login, app...), and each user's
    // mailbox afterwards, once, where it lives.
    const scoped: OrgSettings = hybrid ? { ...settings, exchange: connection, enrollments: [] } : settings;
    const label = (r: CheckResult): CheckResult => (hybrid ? { ...r, id: `${connectionLocation(connection)}|${r.id}`, title: `${describeLocation(connectionLocation(connection))}: ${r.title}` } : r);
    await exchangeConnectionChecks(deps, scoped, (r) => add(label(r)));
  }
  if (hybrid) await mailboxLocationChecks(deps, add);
  return finishWithClock(results, add, severa);
}

/** One Exchange connection's checks (with the enrolled mailboxes of `settings`), reported through `add`. */
async function exchangeConnectionChecks(deps: ActivationCheckDeps, settings: OrgSettings, add: (r: CheckResult) => void): Promise<void> {
  const online = settings.exchange.serverType === 'Office365';
  if (!online && !(await deps.secrets.get('exchange-delegate-password'))) {
    add({ id: 'delegate-login', title: 'Delegate login', ok: false, message: 'No delegate account password is stored.', fix: secretFix('exchange-delegate-password') });
    return;
  }
  let reported = 0;
  try {
    const exchangeResults = await (deps.exchangeChecks ?? (online ? exchangeOnlineChecks : ewsChecks))(settings, deps.secrets, (r) => {
      add(r);
      reported++;
    });
    for (const r of exchangeResults.slice(reported)) add(r);
  } catch (error) {
    const advice = error instanceof CalendarError ? error.advice : undefined;
    add({
      id: online ? 'graph-connection' : 'delegate-login',
      title: online ? 'Exchange Online connection' : 'Delegate login',
      ok: false,
      message: advice?.message ?? `The Exchange connection cannot be set up: ${describeError(error)}`,
      fix: advice?.fix ?? 'Correct the Exchange settings.',
    });
  }
}

/** Hybrid: which connection would serve each enrolled user, and why (the admin's choice, or where the calendar opened). */
async function mailboxLocationChecks(deps: ActivationCheckDeps, add: (r: CheckResult) => void): Promise<void> {
  let calendar;
  try {
    calendar = await deps.connectors.createCalendar(deps.settings, deps.secrets);
  } catch {
    return; // The connection checks above already say what is wrong.
  }
  for (const e of deps.settings.enrollments) {
    const id = `mailbox-location:${e.email}`;
    const title = `Where ${e.email} is synced`;
    try {
      const mailbox = (await withTimeout(calendar.resolveMailbox(e.email), 'Exchange')) ?? e.email;
      if (!calendar.locate) continue;
      const where = await withTimeout(calendar.locate(mailbox, null, e.email), 'Exchange');
      const why = where.decidedBy === 'admin' ? 'the admin chose it' : 'its calendar opened there';
      add({ id, title, ok: true, message: `${e.email} is synced through ${where.label}: ${why}.` });
    } catch (error) {
      const advice = error instanceof CalendarError ? error.advice : undefined;
      add({ id, title, ok: false, message: advice?.message ?? `Where the mailbox of ${e.email} lives could not be found: ${describeError(error)}`, fix: advice?.fix ?? 'Check the address and both connections.' });
    }
  }
}

/** The EWS side: address, TLS, delegate login, each mailbox and its impersonation, the clock (ews-diagnostics.ts). */
async function ewsChecks(settings: OrgSettings, secrets: SecretSource, onResult?: (result: CheckResult) => void): Promise<CheckResult[]> {
  const exchange = settings.exchange as OnPremisesExchangeSettings;
  return runEwsDiagnostics({
    connector: await ewsConnectorOptions(settings, secrets),
    emails: settings.enrollments.map((e) => e.email),
    allowInsecureHttp: exchange.allowInsecureHttp,
    timeoutMs: CHECK_TIMEOUT_MS,
    ...(onResult ? { onResult } : {}),
  });
}

/** The Exchange Online side: tenant, app, credential and its expiry, consent, each mailbox, the clock (graph-diagnostics.ts). */
async function exchangeOnlineChecks(settings: OrgSettings, secrets: SecretSource, onResult?: (result: CheckResult) => void): Promise<CheckResult[]> {
  const connection = await graphConnection(settings, secrets);
  const { online, credential } = connection;
  return runGraphDiagnostics({
    tenant: online.tenantId,
    clientId: online.clientId,
    authorityHost: online.authorityHost,
    credential: credential.kind === 'certificate' ? { kind: 'certificate', certificatePem: credential.certificatePem } : { kind: 'secret', expires: online.secretExpires },
    signIn: connection.signIn,
    client: connection.client,
    transport: connection.transport,
    mailboxes: settings.enrollments.map((e) => e.email),
    ...(onResult ? { onResult } : {}),
  });
}

function finishWithClock(results: CheckResult[], add: (r: CheckResult) => void, severa: SeveraPort | null): CheckResult[] {
  // The Exchange clock is checked by the EWS diagnostics; Severa's is checked here (no login, nothing to compare).
  if (!severa) return results;
  const offset = severa.clockOffsetMs();
  if (offset === null) {
    add({
      id: 'severa-clock',
      title: 'Severa clock',
      ok: false,
      message: "Severa's answers carried no Date header, so its clock offset is unknown; collisions are decided on uncorrected clocks.",
      fix: "Check that no proxy between this computer and Severa removes the Date header, and keep this computer's clock synchronised with a time server.",
    });
    return results;
  }
  const seconds = Math.round(Math.abs(offset) / 1000);
  const skewed = Math.abs(offset) > CLOCK_SKEW_LIMIT_MS;
  add({
    id: 'severa-clock',
    title: 'Severa clock',
    ok: !skewed,
    message: skewed
      ? `Severa's clock is ${seconds} s ${offset > 0 ? 'ahead of' : 'behind'} this computer's, so collisions (the later change wins) would be decided wrongly.`
      : `Severa's clock agrees with this computer's (within ${Math.max(1, seconds)} s).`,
    fix: skewed ? "Set this computer's clock to synchronise with a time server." : undefined,
  });
  return results;
}

function describeScopes(detail: unknown): string {
  const d = detail as { scopes?: unknown; grantedScopes?: unknown } | null;
  const scopes = d?.grantedScopes ?? d?.scopes;
  if (Array.isArray(scopes) && scopes.length > 0) return ` with the scopes ${scopes.join(', ')}`;
  return '';
}

function severaProblem(error: unknown, clientId: string): { message: string; fix: string } {
  const e = error as { status?: number; code?: string; missingScopes?: string[] };
  if (Array.isArray(e?.missingScopes) && e.missingScopes.length > 0) {
    return { message: `The Severa API client ${clientId} lacks the scope${e.missingScopes.length > 1 ? 's' : ''} ${e.missingScopes.join(', ')}.`, fix: "In Severa's REST API settings, give the client these scopes." };
  }
  if (e?.status === 401 || e?.code === 'auth') {
    return { message: `Severa refused the client id ${clientId} with this secret.`, fix: "Check the client id and secret in Severa's REST API settings, and store the secret again." };
  }
  if (e?.code === 'tls') return { message: describeError(error), fix: 'Check the Severa API address; a company proxy may need its CA certificate trusted.' };
  return { message: `Severa could not be reached or answered wrongly: ${describeError(error)}`, fix: 'Check the Severa API address and the network, then try again.' };
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
