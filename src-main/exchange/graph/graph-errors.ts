import { CalendarError, type CalendarAdvice, type CalendarErrorCode } from '../calendar-connector.ts';
import { TransportFailure } from '../../net/http-transport.ts';
import { t } from '../../common/i18n/i18n.ts';

/**
 * Microsoft Graph and Microsoft Entra (AADSTS) errors turned into CalendarErrors that say, in the admin's words, what is
 * wrong and what to do. Graph errors come as `{ error: { code, message } }` with an HTTP status; sign-in errors come from
 * msal-node as `errorCode` / `errorMessage` with the AADSTS number at the start of the message.
 */

export interface GraphErrorBody {
  code: string;
  message: string;
}

/** The `{ error: { code, message } }` of a Graph answer, or null when the body is not one. */
export function graphErrorOf(body: unknown): GraphErrorBody | null {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (!error || typeof error.code !== 'string') return null;
  return { code: error.code, message: typeof error.message === 'string' ? error.message : '' };
}


function advice(message: string, fix: string): CalendarAdvice {
  return { message, fix };
}

export interface GraphRequestContext {
  /** What was being done, for the message: 'Reading calendar changes'. */
  what: string;
  /** The mailbox the request was about, or null. */
  mailbox: string | null;
  /** The request named one item (event): a 404 then means that item is gone, not the mailbox. */
  aboutItem?: boolean;
  retryAfterMs?: number;
}

/** An error answer from Graph. */
export function graphHttpError(status: number, body: unknown, request: GraphRequestContext): CalendarError {
  const { what: context, mailbox, retryAfterMs } = request;
  const error = graphErrorOf(body);
  const code = error?.code ?? '';
  const detail = error?.message ? `: ${error.message}` : '';
  const where = mailbox ? ` (${mailbox})` : '';
  const make = (kind: CalendarErrorCode, a?: CalendarAdvice) =>
    new CalendarError(kind, t('report.graph.answered', { what: context, where, status, code: code ? ` ${code}` : '', detail }), { serverCode: code || `HTTP ${status}`, retryAfterMs, advice: a });

  if (code === 'MailboxNotEnabledForRESTAPI' || code === 'MailboxNotSupportedForRESTAPI') {
    return make(
      'no-mailbox',
      advice(mailbox ? t('report.graph.noOnlineMailbox', { mailbox }) : t('report.graph.noOnlineMailboxUnnamed'), t('report.graph.noOnlineMailboxFix')),
    );
  }
  if (code === 'ErrorMailboxMoveInProgress' || code === 'ErrorMailboxStoreUnavailable') {
    return make('transient', advice(t('report.graph.moving', { mailbox: mailbox ?? '' }), t('report.graph.tryLaterFix')));
  }
  if (status === 401) {
    return make('auth', advice(t('report.graph.tokenRefused'), t('report.graph.tokenRefusedFix')));
  }
  if (status === 403) {
    if (/OData is disabled|ApplicationAccessPolicy|not in scope|RBAC/i.test(error?.message ?? '')) {
      return make('impersonation-denied', advice(t('report.graph.outOfScope', { mailbox: mailbox ?? '' }), t('report.graph.scopeFix')));
    }
    return make('impersonation-denied', advice(mailbox ? t('report.graph.calendarDenied', { mailbox }) : t('report.graph.calendarDeniedUnnamed'), t('report.graph.permissionFix')));
  }
  if (status === 404) {
    const userUnknown = code === 'ErrorInvalidUser' || code === 'Request_ResourceNotFound' || (code === 'ResourceNotFound' && !request.aboutItem);
    if (!userUnknown) return make('not-found');
    return make(
      'no-mailbox',
      advice(t('report.graph.noUser', { mailbox: mailbox ?? '' }), t('report.graph.noUserFix')),
    );
  }
  if (status === 410 || /syncStateNotFound|SyncStateInvalid|resyncRequired|syncStateInvalid/i.test(code)) return make('invalid-sync-state');
  if (status === 412 || code === 'ErrorIrresolvableConflict' || code === 'PreconditionFailed' || status === 409) return make('conflict');
  if (status === 429) return make('throttled');
  if (status === 503 || status === 504 || status === 502 || status === 500) return make(status === 503 ? 'throttled' : 'transient');
  return make('other');
}

/** A network failure on the way to Graph or the sign-in service. */
export function graphTransportError(failure: TransportFailure, context: string, host: string): CalendarError {
  switch (failure.kind) {
    case 'tls':
      return new CalendarError('tls', t('report.graph.tlsFailed', { what: context, host, why: failure.message }), {
        cause: failure,
        advice: advice(t('report.graph.tls', { host }), t('report.graph.tlsFix')),
      });
    case 'dns':
      return new CalendarError('config', t('report.graph.dnsFailed', { what: context, host }), {
        cause: failure,
        advice: advice(t('report.graph.dns', { host }), t('report.graph.dnsFix')),
      });
    case 'refused':
      return new CalendarError('transient', t('report.graph.refused', { what: context, host }), { cause: failure, serverCode: 'connection refused' });
    case 'proxy':
      // The proxy's own sentence and fix (it names the proxy and what to set); not retried as a passing fault.
      return new CalendarError('config', `${context}: ${failure.message}`, {
        cause: failure,
        advice: advice(failure.message, failure.fix ?? t('report.graph.proxyFix')),
      });
    case 'too-large':
      return new CalendarError('bad-response', t('report.graph.tooLarge', { what: context, host }), { cause: failure });
    default:
      return new CalendarError('transient', t('report.graph.connectionFailed', { what: context, host, why: failure.message }), { cause: failure, serverCode: failure.message });
  }
}

interface AadstsRule {
  code: number;
  kind: CalendarErrorCode;
  message: (ctx: SignInContext) => string;
  fix: () => string;
}

export interface SignInContext {
  tenant: string;
  clientId: string;
  credential: 'secret' | 'certificate';
}

const AADSTS_RULES: AadstsRule[] = [
  { code: 90002, kind: 'config', message: (c) => t('report.graph.aadsts.noTenant', { tenant: c.tenant }), fix: () => t('report.graph.aadsts.noTenantFix') },
  { code: 900023, kind: 'config', message: (c) => t('report.graph.aadsts.notTenant', { tenant: c.tenant }), fix: () => t('report.graph.aadsts.notTenantFix') },
  { code: 700016, kind: 'config', message: (c) => t('report.graph.aadsts.noApp', { clientId: c.clientId }), fix: () => t('report.graph.aadsts.noAppFix') },
  { code: 7000215, kind: 'auth', message: () => t('report.graph.aadsts.secretRefused'), fix: () => t('report.graph.aadsts.secretRefusedFix') },
  { code: 7000222, kind: 'auth', message: () => t('report.graph.aadsts.secretExpired'), fix: () => t('report.graph.aadsts.secretExpiredFix') },
  { code: 700027, kind: 'auth', message: () => t('report.graph.aadsts.unknownCertificate'), fix: () => t('report.graph.aadsts.unknownCertificateFix') },
  { code: 700024, kind: 'auth', message: () => t('report.graph.aadsts.clockWrong'), fix: () => t('engine.clock.severaFix') },
  {
    code: 50012,
    kind: 'auth',
    message: (c) => t(c.credential === 'certificate' ? 'report.graph.aadsts.certificateRefused' : 'report.graph.aadsts.credentialRefused'),
    fix: () => t('report.graph.aadsts.credentialFix'),
  },
  { code: 7000112, kind: 'config', message: () => t('report.graph.aadsts.appDisabled'), fix: () => t('report.graph.aadsts.appDisabledFix') },
  { code: 500011, kind: 'config', message: () => t('report.graph.aadsts.noGraph'), fix: () => t('report.graph.aadsts.noGraphFix') },
  { code: 65001, kind: 'impersonation-denied', message: () => t('report.graph.aadsts.noConsent'), fix: () => t('report.graph.permissionFix') },
  { code: 7000218, kind: 'auth', message: () => t('report.graph.aadsts.noCredential'), fix: () => t('report.graph.aadsts.noCredentialFix') },
];

/** The AADSTS number at the start of an Entra error description, if any. */
export function aadstsCodeOf(text: string): number | null {
  const m = /AADSTS(\d+)/.exec(text);
  return m ? Number(m[1]) : null;
}

/** An error from the sign-in (msal-node's ServerError/ClientAuthError, or the transport under it). */
export function signInError(error: unknown, ctx: SignInContext, host: string): CalendarError {
  if (error instanceof CalendarError) return error;
  const cause = (error as { cause?: unknown } | null)?.cause;
  const step = t('report.graph.steps.signingIn');
  if (cause instanceof TransportFailure) return graphTransportError(cause, step, host);
  if (error instanceof TransportFailure) return graphTransportError(error, step, host);
  const e = (error ?? {}) as { errorCode?: unknown; errorMessage?: unknown; message?: unknown; subError?: unknown };
  const text = `${typeof e.errorMessage === 'string' ? e.errorMessage : ''} ${typeof e.message === 'string' ? e.message : ''}`;
  const number = aadstsCodeOf(text);
  const rule = number !== null ? AADSTS_RULES.find((r) => r.code === number) : undefined;
  const serverCode = number !== null ? `AADSTS${number}` : typeof e.errorCode === 'string' ? e.errorCode : undefined;
  if (rule) {
    return new CalendarError(rule.kind, `${step}: ${serverCode}: ${rule.message(ctx)}`, { serverCode, cause: error, advice: advice(rule.message(ctx), rule.fix()) });
  }
  const firstLine = text.trim().split(/\r?\n/)[0] || String(error);
  if (/endpoints_resolution_error|openid_config_error|untrusted_authority|authority/i.test(`${String(e.errorCode)} ${firstLine}`) && number === null) {
    return new CalendarError('config', `${step}: ${firstLine}`, {
      serverCode,
      cause: error,
      advice: advice(t('report.graph.aadsts.authority', { host, tenant: ctx.tenant }), t('report.graph.aadsts.authorityFix')),
    });
  }
  return new CalendarError(number !== null ? 'auth' : 'other', `${step}: ${firstLine}`, {
    serverCode,
    cause: error,
    advice: advice(t('report.graph.aadsts.failed', { code: serverCode ? ` (${serverCode})` : '', why: firstLine }), t('report.graph.aadsts.failedFix')),
  });
}
