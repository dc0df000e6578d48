import { CalendarError, type CalendarAdvice, type CalendarErrorCode } from '../calendar-connector.ts';
import { TransportFailure } from '../../net/http-transport.ts';

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

const PERMISSION_FIX =
  'In the Entra admin center, give the app the application permission Calendars.ReadWrite (and User.Read.All) of Microsoft Graph, then "Grant admin consent".';
const SCOPE_FIX =
  'Add the mailbox to the mail-enabled security group the app is limited to (Exchange Online PowerShell: Test-ApplicationAccessPolicy -Identity <mailbox> -AppId <client id>, ' +
  'or for RBAC for Applications: Test-ServicePrincipalAuthorization -Identity <app> -Resource <mailbox>). Changes can take an hour to reach Graph.';

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
    new CalendarError(kind, `${context}${where}: Microsoft Graph answered HTTP ${status}${code ? ` ${code}` : ''}${detail}`, { serverCode: code || `HTTP ${status}`, retryAfterMs, advice: a });

  if (code === 'MailboxNotEnabledForRESTAPI' || code === 'MailboxNotSupportedForRESTAPI') {
    return make(
      'no-mailbox',
      advice(
        `${mailbox ?? 'The mailbox'} has no mailbox in Exchange Online (it may still be on-premises, be unlicensed, inactive or soft-deleted).`,
        'If the mailbox is on-premises, add the on-premises connection (hybrid); otherwise give the user an Exchange Online licence.',
      ),
    );
  }
  if (code === 'ErrorMailboxMoveInProgress' || code === 'ErrorMailboxStoreUnavailable') {
    return make('transient', advice(`The mailbox ${mailbox ?? ''} is being moved or is briefly unavailable.`, 'Nothing to do: the sync tries again later.'));
  }
  if (status === 401) {
    return make('auth', advice('Microsoft Graph refused the app\'s access token.', 'Check the tenant, application (client) id and credential in the settings; Test connection tells which.'));
  }
  if (status === 403) {
    if (/OData is disabled|ApplicationAccessPolicy|not in scope|RBAC/i.test(error?.message ?? '')) {
      return make('impersonation-denied', advice(`The app may not open the mailbox ${mailbox ?? ''}: it is outside the mailboxes the app is limited to.`, SCOPE_FIX));
    }
    return make('impersonation-denied', advice(`The app may not read or write the calendar of ${mailbox ?? 'this mailbox'}.`, PERMISSION_FIX));
  }
  if (status === 404) {
    const userUnknown = code === 'ErrorInvalidUser' || code === 'Request_ResourceNotFound' || (code === 'ResourceNotFound' && !request.aboutItem);
    if (!userUnknown) return make('not-found');
    return make(
      'no-mailbox',
      advice(`Microsoft Entra ID has no user ${mailbox ?? ''}.`, "Use the address of the user's mailbox (primary or an alias) in Severa, or correct it."),
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
      return new CalendarError('tls', `${context}: the certificate of ${host} is not trusted (${failure.message}).`, {
        cause: failure,
        advice: advice(`The certificate of ${host} is not trusted.`, 'If a proxy inspects TLS on this network, add its CA certificate (CA file) in the Exchange Online settings.'),
      });
    case 'dns':
      return new CalendarError('config', `${context}: the host ${host} was not found.`, {
        cause: failure,
        advice: advice(`The host ${host} was not found.`, 'Check the network (and a proxy, if one is needed) and the sign-in and Graph addresses in the settings.'),
      });
    case 'refused':
      return new CalendarError('transient', `${context}: ${host} refused the connection.`, { cause: failure, serverCode: 'connection refused' });
    case 'proxy':
      // The proxy's own sentence and fix (it names the proxy and what to set); not retried as a passing fault.
      return new CalendarError('config', `${context}: ${failure.message}`, {
        cause: failure,
        advice: advice(failure.message, failure.fix ?? 'Check the proxy settings (Admin > Network).'),
      });
    case 'too-large':
      return new CalendarError('bad-response', `${context}: ${host} answered with more than the sync accepts.`, { cause: failure });
    default:
      return new CalendarError('transient', `${context}: the connection to ${host} failed (${failure.message}).`, { cause: failure, serverCode: failure.message });
  }
}

interface AadstsRule {
  code: number;
  kind: CalendarErrorCode;
  message: (ctx: SignInContext) => string;
  fix: string;
}

export interface SignInContext {
  tenant: string;
  clientId: string;
  credential: 'secret' | 'certificate';
}

const AADSTS_RULES: AadstsRule[] = [
  { code: 90002, kind: 'config', message: (c) => `Microsoft Entra ID has no tenant "${c.tenant}".`, fix: 'Enter the tenant as its primary domain (contoso.onmicrosoft.com or contoso.com) or its directory (tenant) id.' },
  { code: 900023, kind: 'config', message: (c) => `"${c.tenant}" is not a tenant domain or id.`, fix: 'Enter the tenant as its primary domain or its directory (tenant) id.' },
  {
    code: 700016,
    kind: 'config',
    message: (c) => `The tenant has no app with the application (client) id ${c.clientId}.`,
    fix: 'Copy the Application (client) ID from the app registration\'s overview page in the Entra admin center; the app must be registered in this tenant.',
  },
  { code: 7000215, kind: 'auth', message: () => 'Microsoft Entra ID refused the client secret.', fix: 'Create a new client secret under Certificates & secrets and enter its Value (not its Secret ID).' },
  { code: 7000222, kind: 'auth', message: () => 'The client secret has expired.', fix: 'Create a new client secret under Certificates & secrets, enter its Value, and note when it expires.' },
  {
    code: 700027,
    kind: 'auth',
    message: () => 'Microsoft Entra ID does not know the certificate the app signed in with.',
    fix: 'Upload the certificate (.cer or .pem, public part) under Certificates & secrets of the app registration, and keep its private key in the settings.',
  },
  { code: 700024, kind: 'auth', message: () => "The sign-in was refused because this computer's clock is wrong.", fix: "Set this computer's clock to synchronise with a time server." },
  { code: 50012, kind: 'auth', message: (c) => `Microsoft Entra ID refused the app's ${c.credential === 'certificate' ? 'certificate' : 'credential'}.`, fix: 'Check the credential in the settings; Test connection tells which part is wrong.' },
  { code: 7000112, kind: 'config', message: () => 'The app is disabled in Microsoft Entra ID.', fix: 'Enable the app (Enterprise applications > the app > Properties > Enabled for users to sign in).' },
  { code: 500011, kind: 'config', message: () => 'Microsoft Graph is not available to this tenant at that address.', fix: 'Check the Graph address in the settings (national clouds have their own).' },
  { code: 65001, kind: 'impersonation-denied', message: () => 'An administrator has not consented to the app\'s permissions.', fix: PERMISSION_FIX },
  { code: 7000218, kind: 'auth', message: () => 'The sign-in carried no client secret or certificate.', fix: 'Enter the client secret or the certificate\'s private key in the settings.' },
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
  if (cause instanceof TransportFailure) return graphTransportError(cause, 'Signing in to Microsoft Entra ID', host);
  if (error instanceof TransportFailure) return graphTransportError(error, 'Signing in to Microsoft Entra ID', host);
  const e = (error ?? {}) as { errorCode?: unknown; errorMessage?: unknown; message?: unknown; subError?: unknown };
  const text = `${typeof e.errorMessage === 'string' ? e.errorMessage : ''} ${typeof e.message === 'string' ? e.message : ''}`;
  const number = aadstsCodeOf(text);
  const rule = number !== null ? AADSTS_RULES.find((r) => r.code === number) : undefined;
  const serverCode = number !== null ? `AADSTS${number}` : typeof e.errorCode === 'string' ? e.errorCode : undefined;
  if (rule) {
    return new CalendarError(rule.kind, `Signing in to Microsoft Entra ID: ${serverCode}: ${rule.message(ctx)}`, { serverCode, cause: error, advice: advice(rule.message(ctx), rule.fix) });
  }
  const firstLine = text.trim().split(/\r?\n/)[0] || String(error);
  if (/endpoints_resolution_error|openid_config_error|untrusted_authority|authority/i.test(`${String(e.errorCode)} ${firstLine}`) && number === null) {
    return new CalendarError('config', `Signing in to Microsoft Entra ID: ${firstLine}`, {
      serverCode,
      cause: error,
      advice: advice(`The sign-in service at ${host} could not be used for the tenant "${ctx.tenant}".`, 'Check the tenant and the sign-in address in the settings, and the network.'),
    });
  }
  return new CalendarError(number !== null ? 'auth' : 'other', `Signing in to Microsoft Entra ID: ${firstLine}`, {
    serverCode,
    cause: error,
    advice: advice(`The sign-in to Microsoft Entra ID failed${serverCode ? ` (${serverCode})` : ''}: ${firstLine}`, 'Check the tenant, application (client) id and credential in the settings.'),
  });
}
