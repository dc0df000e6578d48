import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { ConfidentialClientApplication, LogLevel, type Configuration, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import { CalendarError } from '../calendar-connector.ts';
import type { Transport } from '../../net/http-transport.ts';
import { signInError, type SignInContext } from './graph-errors.ts';
import { t } from '../../common/i18n/i18n.ts';

/**
 * App-only sign-in to Microsoft Entra ID (client credentials) with @azure/msal-node: a certificate (preferred) or a
 * client secret. One ConfidentialClientApplication per app and credential per process, so msal's in-memory token cache
 * serves every request until the token is near expiry. msal's HTTP goes through the product's own transport, so the
 * CA setting (and later the proxy) apply to the sign-in exactly as to Graph.
 */

export const MICROSOFT_SIGN_IN_HOST = 'https://login.microsoftonline.com';
export const MICROSOFT_GRAPH_HOST = 'https://graph.microsoft.com';

/** Microsoft's own sign-in hosts (public and national clouds): msal discovers these itself. */
const MICROSOFT_AUTHORITY_HOSTS = new Set(['login.microsoftonline.com', 'login.microsoftonline.us', 'login.partner.microsoftonline.cn', 'login.chinacloudapi.cn']);
/** Graph hosts of the national clouds, whose token scope is their own origin. */
const NATIONAL_GRAPH_HOSTS = new Set(['graph.microsoft.us', 'dod-graph.microsoft.us', 'microsoftgraph.chinacloudapi.cn']);

export type AppCredential =
  | { kind: 'secret'; secret: string }
  | { kind: 'certificate'; certificatePem: string; privateKeyPem: string };

export interface AppSignInOptions {
  /** Tenant domain (contoso.onmicrosoft.com) or directory id. */
  tenant: string;
  clientId: string;
  credential: AppCredential;
  /** https://login.microsoftonline.com unless a national cloud (or a test stand-in). */
  authorityHost?: string;
  /** https://graph.microsoft.com unless a national cloud (or a test stand-in). */
  graphHost?: string;
  transport: Transport;
  timeoutMs?: number;
}

export interface CertificateFacts {
  thumbprintSha256: string;
  /** When the certificate stops being valid (ISO). */
  notAfter: string;
  subject: string;
}

/** Reads the facts the sign-in and the checks need from a PEM certificate, with a plain error when it is not one. */
export function certificateFacts(certificatePem: string): CertificateFacts {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificatePem);
  } catch {
    throw new CalendarError('config', t('report.graph.certNotPem'), {
      advice: { message: t('report.graph.certNotPemAdvice'), fix: t('report.graph.certNotPemFix') },
    });
  }
  return { thumbprintSha256: createHash('sha256').update(cert.raw).digest('hex').toUpperCase(), notAfter: new Date(cert.validTo).toISOString(), subject: cert.subject };
}

function checkPrivateKey(privateKeyPem: string, certificatePem: string): void {
  let key;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    throw new CalendarError('config', t('report.graph.keyNotPem'), {
      advice: { message: t('report.graph.keyNotPemAdvice'), fix: t('report.graph.keyNotPemFix') },
    });
  }
  const cert = new X509Certificate(certificatePem);
  if (!cert.checkPrivateKey(key)) {
    throw new CalendarError('config', t('report.graph.keyMismatch'), {
      advice: { message: t('report.graph.keyMismatchAdvice'), fix: t('report.graph.keyMismatchFix') },
    });
  }
}

/** The token scope for app-only Graph access: `<graph origin>/.default`. */
export function graphScopeFor(graphHost: string): string {
  const host = new URL(graphHost).host;
  return NATIONAL_GRAPH_HOSTS.has(host) ? `${new URL(graphHost).origin}/.default` : `${MICROSOFT_GRAPH_HOST}/.default`;
}

/** msal's HTTP over the product's transport. */
export function msalNetworkModule(transport: Transport, timeoutMs: number): INetworkModule {
  const send = async <T>(method: string, url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> => {
    const response = await transport({ method, url: new URL(url), headers: options?.headers ?? {}, body: options?.body, timeoutMs, maxResponseBytes: 1_048_576 });
    let body: unknown = {};
    try {
      body = response.body.length > 0 ? JSON.parse(response.body.toString('utf8')) : {};
    } catch {
      body = { error: 'invalid_response', error_description: `The sign-in service answered HTTP ${response.status} with something that is not JSON.` };
    }
    return { status: response.status, headers: response.headers, body: body as T };
  };
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}

/** msal's authority for a tenant: Microsoft's own hosts are discovered by msal; any other (a test stand-in) is trusted as given. */
export function msalAuthorityOptions(authorityHost: string, tenant: string): { authority: string; knownAuthorities?: string[] } {
  const base = authorityHost.replace(/\/+$/, '');
  const host = new URL(base).host;
  return { authority: `${base}/${tenant}`, ...(MICROSOFT_AUTHORITY_HOSTS.has(host) ? {} : { knownAuthorities: [host] }) };
}

const applications = new Map<string, ConfidentialClientApplication>();

function applicationKey(o: AppSignInOptions): string {
  const credential = o.credential.kind === 'secret' ? o.credential.secret : `${o.credential.certificatePem}\n${o.credential.privateKeyPem}`;
  return createHash('sha256').update(JSON.stringify([o.authorityHost ?? MICROSOFT_SIGN_IN_HOST, o.tenant, o.clientId, o.credential.kind, credential])).digest('hex');
}

/** Gets app-only tokens for Microsoft Graph. */
export class AppSignIn {
  readonly context: SignInContext;
  readonly #app: ConfidentialClientApplication;
  readonly #scope: string;
  readonly #authorityHost: string;
  readonly #transport: Transport;

  constructor(options: AppSignInOptions) {
    this.#transport = options.transport;
    const tenant = options.tenant.trim();
    if (!/^[A-Za-z0-9.-]+$/.test(tenant)) {
      throw new CalendarError('config', t('report.graph.aadsts.notTenant', { tenant }), {
        advice: { message: t('report.graph.aadsts.notTenant', { tenant }), fix: t('report.graph.badTenantFix') },
      });
    }
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(options.clientId.trim())) {
      throw new CalendarError('config', t('report.graph.badClientId', { clientId: options.clientId }), {
        advice: { message: t('report.graph.badClientId', { clientId: options.clientId }), fix: t('report.graph.badClientIdFix') },
      });
    }
    this.#authorityHost = (options.authorityHost ?? MICROSOFT_SIGN_IN_HOST).replace(/\/+$/, '');
    this.context = { tenant, clientId: options.clientId.trim(), credential: options.credential.kind };
    this.#scope = graphScopeFor(options.graphHost ?? MICROSOFT_GRAPH_HOST);
    const key = applicationKey(options);
    const existing = applications.get(key);
    if (existing) {
      this.#app = existing;
      return;
    }
    const auth: Configuration['auth'] = { clientId: this.context.clientId, ...msalAuthorityOptions(this.#authorityHost, tenant) };
    if (options.credential.kind === 'secret') {
      if (!options.credential.secret) throw new CalendarError('config', 'The client secret is empty.');
      auth.clientSecret = options.credential.secret;
    } else {
      const facts = certificateFacts(options.credential.certificatePem);
      checkPrivateKey(options.credential.privateKeyPem, options.credential.certificatePem);
      auth.clientCertificate = { thumbprintSha256: facts.thumbprintSha256, privateKey: options.credential.privateKeyPem, x5c: options.credential.certificatePem };
    }
    this.#app = new ConfidentialClientApplication({
      auth,
      system: {
        networkClient: msalNetworkModule(options.transport, options.timeoutMs ?? 30_000),
        loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => undefined },
      },
    });
    applications.set(key, this.#app);
  }

  /** A token for Graph: from msal's cache while it is valid; `fresh` asks Entra ID for a new one (after a 401). */
  async accessToken(fresh = false): Promise<string> {
    try {
      const result = await this.#app.acquireTokenByClientCredential({ scopes: [this.#scope], skipCache: fresh });
      if (!result?.accessToken) throw new CalendarError('auth', 'Microsoft Entra ID answered the sign-in without an access token.');
      return result.accessToken;
    } catch (error) {
      throw signInError(await this.#whyDiscoveryFailed(error), this.context, new URL(this.#authorityHost).host);
    }
  }

  /**
   * msal reports a tenant it could not look up only as "endpoints_resolution_error"; Entra ID's own answer (e.g.
   * AADSTS90002, no such tenant) is in the tenant's metadata document, so it is read to say which.
   */
  async #whyDiscoveryFailed(error: unknown): Promise<unknown> {
    const code = (error as { errorCode?: unknown } | null)?.errorCode;
    if (code !== 'endpoints_resolution_error' && code !== 'openid_config_error') return error;
    try {
      const url = new URL(`${this.#authorityHost}/${encodeURIComponent(this.context.tenant)}/v2.0/.well-known/openid-configuration`);
      const answer = await this.#transport({ method: 'GET', url, headers: { Accept: 'application/json' }, timeoutMs: 30_000, maxResponseBytes: 1_048_576 });
      const description = (JSON.parse(answer.body.toString('utf8') || '{}') as { error_description?: unknown }).error_description;
      return typeof description === 'string' ? { errorCode: code, errorMessage: description } : error;
    } catch (cause) {
      return cause;
    }
  }
}

/** Forgets every cached application and token (tests; settings changed). */
export function forgetSignIns(): void {
  applications.clear();
}
