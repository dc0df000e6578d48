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

const notProven = (what: 'app' | 'consent' | 'mailbox') => t(`checks.graph.notProven.${what}`);

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
      add({ id: 'graph-app', title: t('checks.graph.titles.app'), ok: true, message: t('checks.graph.appKnown', { clientId: o.clientId, tenant: o.tenant }) });
      add({ id: 'graph-credential', title: t('checks.graph.titles.credential'), ok: true, message: t(o.credential.kind === 'certificate' ? 'checks.graph.signedInCertificate' : 'checks.graph.signedInSecret') });
    } catch (error) {
      const e = error instanceof CalendarError ? error : new CalendarError('other', String(error));
      const code = aadstsCodeOf(e.serverCode ?? e.message);
      const appUnknown = code === 700016 || code === 7000112;
      add({
        id: 'graph-app',
        title: t('checks.graph.titles.app'),
        ok: !appUnknown && code !== null,
        message: appUnknown ? (e.advice?.message ?? e.message) : code !== null ? t('checks.graph.appKnownNoTenant', { clientId: o.clientId }) : notProven('app'),
        fix: appUnknown ? e.advice?.fix : undefined,
      });
      if (!appUnknown) add({ id: 'graph-credential', title: t('checks.graph.titles.credential'), ok: false, message: e.advice?.message ?? e.message, fix: e.advice?.fix ?? t('checks.graph.credentialFix') });
    }
  } else {
    add({ id: 'graph-app', title: t('checks.graph.titles.app'), ok: false, message: notProven('app') });
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
      title: t('checks.graph.titles.consent'),
      ok: calendars,
      message: calendars
        ? t('checks.graph.granted', { roles: granted.join(', ') })
        : granted.length
          ? t('checks.graph.noCalendarsOnly', { roles: granted.join(', ') })
          : t('checks.graph.noCalendars'),
      fix: calendars ? undefined : t('checks.graph.consentFix'),
    });
  } else {
    add({ id: 'graph-consent', title: t('checks.graph.titles.consent'), ok: false, message: notProven('consent') });
  }

  // 6. Each mailbox: found, in Exchange Online, inside the app's scope.
  const connector = new GraphCalendarConnector({ client: o.client, window: { startDate: new Date(now()).toISOString().slice(0, 10), daysAhead: 1 } });
  for (const email of o.mailboxes) {
    const title = t('checks.graph.titles.mailbox', { email });
    if (!token) {
      add({ id: `graph-mailbox:${email}`, title, ok: false, message: notProven('mailbox') });
      continue;
    }
    try {
      const mailbox = await connector.resolveMailbox(email);
      if (!mailbox) {
        add({ id: `graph-mailbox:${email}`, title, ok: false, message: t('checks.graph.noUser', { email }), fix: t('checks.graph.noUserFix') });
        continue;
      }
      await connector.probeMailboxAccess(mailbox);
      add({ id: `graph-mailbox:${email}`, title, ok: true, message: mailbox === email ? t('checks.graph.canOpen', { email }) : t('checks.graph.canOpenOther', { email, mailbox }) });
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
  const title = t('checks.graph.titles.clock');
  if (offset === null) {
    return { id: 'exchange-clock', title, ok: false, message: t('checks.graph.noDate'), fix: t('checks.graph.noDateFix') };
  }
  const seconds = Math.round(Math.abs(offset) / 1000);
  if (Math.abs(offset) > CLOCK_SKEW_LIMIT_MS) {
    return { id: 'exchange-clock', title, ok: false, message: t(offset > 0 ? 'checks.graph.clockBehind' : 'checks.graph.clockAhead', { seconds }), fix: t('engine.clock.severaFix') };
  }
  return { id: 'exchange-clock', title, ok: true, message: t('checks.graph.clockAgrees', { seconds: Math.max(1, seconds) }) };
}

async function checkTenant(o: GraphDiagnosticsOptions, add: (r: GraphCheckResult) => void): Promise<boolean> {
  const title = t('checks.graph.titles.tenant');
  const url = new URL(`${o.authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(o.tenant)}/v2.0/.well-known/openid-configuration`);
  try {
    const response = await o.transport({ method: 'GET', url, headers: { Accept: 'application/json' }, timeoutMs: 20_000, maxResponseBytes: 1_048_576 });
    const body = JSON.parse(response.body.toString('utf8') || '{}') as { issuer?: unknown; error_description?: unknown };
    if (response.status === 200 && typeof body.issuer === 'string') {
      const id = /\/([0-9a-f-]{36})\//i.exec(body.issuer)?.[1];
      add({ id: 'graph-tenant', title, ok: true, message: id && id !== o.tenant ? t('checks.graph.tenantKnownId', { tenant: o.tenant, id }) : t('checks.graph.tenantKnown', { tenant: o.tenant }) });
      return true;
    }
    const description = typeof body.error_description === 'string' ? body.error_description : `HTTP ${response.status}`;
    add({
      id: 'graph-tenant',
      title,
      ok: false,
      message:
        aadstsCodeOf(description) === 90002
          ? t('report.graph.aadsts.noTenant', { tenant: o.tenant })
          : t('checks.graph.tenantUndescribed', { tenant: o.tenant, why: description.split('\n')[0] }),
      fix: t('report.graph.aadsts.noTenantFix'),
    });
  } catch (error) {
    add({ id: 'graph-tenant', title, ok: false, message: t('checks.graph.unreachable', { host: url.host, why: (error as Error).message }), fix: t('checks.graph.unreachableFix') });
  }
  return false;
}

function expiryCheck(o: GraphDiagnosticsOptions, nowMs: number): GraphCheckResult {
  const title = t('checks.graph.titles.expiry');
  let expires: string | undefined;
  if (o.credential.kind === 'certificate') {
    try {
      expires = certificateFacts(o.credential.certificatePem).notAfter;
    } catch (error) {
      return { id: 'graph-expiry', title, ok: false, message: (error as Error).message, fix: t('checks.graph.chooseCertificateAgain') };
    }
  } else if (o.credential.expires) {
    expires = `${o.credential.expires}T00:00:00.000Z`;
  }
  if (!expires) {
    return {
      id: 'graph-expiry',
      title,
      ok: false,
      message: t('checks.graph.secretExpiryUnknown'),
      fix: t('checks.graph.secretExpiryUnknownFix'),
    };
  }
  const days = Math.floor((Date.parse(expires) - nowMs) / DAY);
  const what = o.credential.kind === 'certificate' ? 'certificate' : 'secret';
  const date = expires.slice(0, 10);
  if (days < 0) return { id: 'graph-expiry', title, ok: false, message: t(`checks.graph.${what}.expired`, { date }), fix: t(`checks.graph.${what}.expiredFix`) };
  if (days < EXPIRY_WARNING_DAYS) {
    return { id: 'graph-expiry', title, ok: false, message: t(`checks.graph.${what}.expires`, { days, date }), fix: t(`checks.graph.${what}.expiresFix`) };
  }
  return { id: 'graph-expiry', title, ok: true, message: t(`checks.graph.${what}.valid`, { date }) };
}
