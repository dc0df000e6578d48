import { t } from '../common/i18n/i18n.ts';
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
const secretFix = (name: SecretName) => t('checks.secretFix', { field: SECRET_FIELDS[name], variable: SECRET_ENV_VARS[name] });
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
    add({ id: 'severa-credentials', title: t('checks.titles.severaCredentials'), ok: false, message: t('checks.noSeveraSecret'), fix: secretFix('severa-client-secret') });
  } else {
    try {
      severa = await deps.connectors.createSevera(settings, deps.secrets, 'check');
      // The real client logs in afresh and compares the granted scopes; other ports prove the login with a read.
      const detail = severa.checkAuthorization ? await withTimeout(severa.checkAuthorization(), 'Severa') : await withTimeout(severa.listActivityTypes(), 'Severa');
      add({ id: 'severa-credentials', title: t('checks.titles.severaCredentials'), ok: true, message: describeAccepted(settings.severa.clientId, detail) });
    } catch (error) {
      severa = null;
      add({ id: 'severa-credentials', title: t('checks.titles.severaCredentials'), ok: false, ...severaProblem(error, settings.severa.clientId) });
    }
  }
  let severaEmails: Set<string> | null = null;
  if (severa) {
    try {
      const users = await withTimeout(severa.listUsers(), 'Severa');
      severaEmails = new Set(users.map((u) => (u.email ?? '').trim().toLowerCase()).filter(Boolean));
    } catch (error) {
      add({ id: 'severa-users', title: t('checks.titles.severaUsers'), ok: false, message: t('checks.severaUsersUnreadable', { why: describeError(error) }), fix: t('checks.severaUsersFix') });
    }
  }
  for (const e of settings.enrollments) {
    if (!severaEmails) continue;
    const known = severaEmails.has(e.email);
    add({
      id: `severa-user:${e.email}`,
      title: t('checks.titles.severaUser', { email: e.email }),
      ok: known,
      message: known ? t('checks.isSeveraUser', { email: e.email }) : t('checks.noSeveraUser', { email: e.email }),
      fix: known ? undefined : t('checks.noSeveraUserFix'),
    });
  }

  // ---------- Exchange ----------
  const connections = exchangeConnections(settings);
  const hybrid = connections.length > 1;
  for (const connection of connections) {
    // In a hybrid organization each connection is checked on its own (its address, login, app...), and each user's
    // mailbox afterwards, once, where it lives.
    const scoped: OrgSettings = hybrid ? { ...settings, exchange: connection, enrollments: [] } : settings;
    const label = (r: CheckResult): CheckResult => (hybrid ? { ...r, id: `${connectionLocation(connection)}|${r.id}`, title: t('checks.titles.inConnection', { connection: describeLocation(connectionLocation(connection)), title: r.title }) } : r);
    await exchangeConnectionChecks(deps, scoped, (r) => add(label(r)));
  }
  if (hybrid) await mailboxLocationChecks(deps, add);
  return finishWithClock(results, add, severa);
}

/** One Exchange connection's checks (with the enrolled mailboxes of `settings`), reported through `add`. */
async function exchangeConnectionChecks(deps: ActivationCheckDeps, settings: OrgSettings, add: (r: CheckResult) => void): Promise<void> {
  const online = settings.exchange.serverType === 'Office365';
  if (!online && !(await deps.secrets.get('exchange-delegate-password'))) {
    add({ id: 'delegate-login', title: t('checks.titles.delegateLogin'), ok: false, message: t('checks.noDelegatePassword'), fix: secretFix('exchange-delegate-password') });
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
      title: online ? t('checks.titles.onlineConnection') : t('checks.titles.delegateLogin'),
      ok: false,
      message: advice?.message ?? t('checks.connectionNotSetUp', { why: describeError(error) }),
      fix: advice?.fix ?? t('checks.correctExchange'),
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
    const title = t('checks.titles.whereSynced', { email: e.email });
    try {
      const mailbox = (await withTimeout(calendar.resolveMailbox(e.email), 'Exchange')) ?? e.email;
      if (!calendar.locate) continue;
      const where = await withTimeout(calendar.locate(mailbox, null, e.email), 'Exchange');
      const why = where.decidedBy === 'admin' ? t('checks.adminChose') : t('checks.calendarOpened');
      add({ id, title, ok: true, message: t('checks.syncedThrough', { email: e.email, label: where.label, why }) });
    } catch (error) {
      const advice = error instanceof CalendarError ? error.advice : undefined;
      add({ id, title, ok: false, message: advice?.message ?? t('checks.locationUnknown', { email: e.email, why: describeError(error) }), fix: advice?.fix ?? t('checks.locationFix') });
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
      title: t('checks.titles.severaClock'),
      ok: false,
      message: t('checks.severaNoDate'),
      fix: t('checks.severaNoDateFix'),
    });
    return results;
  }
  const seconds = Math.round(Math.abs(offset) / 1000);
  const skewed = Math.abs(offset) > CLOCK_SKEW_LIMIT_MS;
  add({
    id: 'severa-clock',
    title: t('checks.titles.severaClock'),
    ok: !skewed,
    message: skewed
      ? t(offset > 0 ? 'checks.severaClockAhead' : 'checks.severaClockBehind', { seconds })
      : t('checks.severaClockAgrees', { seconds: Math.max(1, seconds) }),
    fix: skewed ? t('checks.severaClockFix') : undefined,
  });
  return results;
}

function describeAccepted(clientId: string, detail: unknown): string {
  const d = detail as { scopes?: unknown; grantedScopes?: unknown } | null;
  const scopes = d?.grantedScopes ?? d?.scopes;
  if (Array.isArray(scopes) && scopes.length > 0) return t('checks.severaAcceptedScopes', { clientId, scopes: scopes.join(', ') });
  return t('checks.severaAccepted', { clientId });
}

function severaProblem(error: unknown, clientId: string): { message: string; fix: string } {
  const e = error as { status?: number; code?: string; missingScopes?: string[] };
  if (Array.isArray(e?.missingScopes) && e.missingScopes.length > 0) {
    return { message: t('checks.missingScopes', { count: e.missingScopes.length, clientId, scopes: e.missingScopes.join(', ') }), fix: t('checks.missingScopesFix') };
  }
  if (e?.status === 401 || e?.code === 'auth') {
    return { message: t('checks.severaRefused', { clientId }), fix: t('checks.severaRefusedFix') };
  }
  if (e?.code === 'tls') return { message: describeError(error), fix: t('checks.severaTlsFix') };
  return { message: t('checks.severaUnreachable', { why: describeError(error) }), fix: t('checks.severaUnreachableFix') };
}

async function withTimeout<T>(promise: Promise<T>, side: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(t('checks.noAnswer', { side, seconds: CHECK_TIMEOUT_MS / 1000 }))), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
