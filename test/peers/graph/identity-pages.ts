/**
 * The identity platform's HTTP side: which path is which endpoint, form and Basic parsing for the token endpoint, and
 * the HTML sign-in pages for the authorization code flow (/{tenant}/oauth2/v2.0/authorize: a user name and password form
 * for the tenant's users, then a redirect to the app's loopback redirect_uri with the code) and the device code flow
 * (/devicelogin: enter the code, sign in). Everything answers in Entra's shapes, errors as AADSTS JSON (or an error
 * page where a browser is talking).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AppRegistration, Directory, DirectoryUser, Tenant } from './graph-directory.ts';
import { AAD, AadstsError, aadstsBody } from './identity-errors.ts';
import type { Form, IdentityPlatform } from './identity-platform.ts';
import { rsaJwk } from './jwt.ts';
import type { KeyObject } from 'node:crypto';

export interface IdentityRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** For logs and counters: which endpoint answered. */
  endpoint: string;
  note?: string;
}

const json = (status: number, body: unknown, endpoint: string, note?: string): HttpAnswer => ({
  status,
  headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' },
  body: JSON.stringify(body),
  endpoint,
  note,
});

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function page(title: string, inner: string, status = 200, endpoint = 'page'): HttpAnswer {
  const body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${inner}</body></html>`;
  return { status, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body, endpoint };
}

export function parseForm(body: string): Form {
  const out: Form = {};
  for (const [k, v] of new URLSearchParams(body)) out[k] = v;
  return out;
}

function basicAuth(headers: IncomingHttpHeaders): { id: string; secret: string } | null {
  const h = headers.authorization;
  if (!h || !/^basic /i.test(h)) return null;
  const raw = Buffer.from(h.slice(6), 'base64').toString('utf8');
  const i = raw.indexOf(':');
  if (i < 0) return null;
  return { id: decodeURIComponent(raw.slice(0, i)), secret: decodeURIComponent(raw.slice(i + 1)) };
}

/** Loopback redirect URIs match whatever the port (as Entra treats http://localhost registrations). */
export function redirectAllowed(app: AppRegistration, uri: string): boolean {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return false;
  }
  const loop = (h: string) => h === 'localhost' || h === '127.0.0.1' || h === '[::1]';
  return app.redirectUris.some((r) => {
    const reg = new URL(r);
    if (loop(reg.hostname) && loop(u.hostname) && reg.protocol === u.protocol) return reg.pathname.replace(/\/$/, '') === u.pathname.replace(/\/$/, '');
    return r === uri;
  });
}

function signInForm(action: string, hidden: Record<string, string>, error: string | null, title: string, withCode = false): HttpAnswer {
  const fields = Object.entries(hidden)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('');
  const err = error ? `<p id="error" role="alert">${esc(error)}</p>` : '';
  const code = withCode ? '<label>Code <input name="otc" autocomplete="off"></label><br>' : '';
  return page(title, `${err}<form method="post" action="${esc(action)}">${fields}${code}<label>Email, phone, or Skype <input name="login" type="email"></label><br><label>Password <input name="passwd" type="password"></label><br><button type="submit" id="idSIButton9">Sign in</button></form>`);
}

export class IdentityEndpoints {
  private readonly idp: IdentityPlatform;
  private readonly directory: Directory;
  private readonly signingPublicKey: KeyObject;

  constructor(idp: IdentityPlatform, directory: Directory, signingPublicKey: KeyObject) {
    this.idp = idp;
    this.directory = directory;
    this.signingPublicKey = signingPublicKey;
  }

  /** Answers an identity path, or returns null when the path is not one (Graph's, or unknown). */
  handle(req: IdentityRequest, nowMs: number): HttpAnswer | null {
    const path = req.url.pathname;
    const corr = (req.headers['client-request-id'] as string | undefined) ?? null;
    const fail = (e: unknown, endpoint: string): HttpAnswer => {
      if (e instanceof AadstsError) return json(e.status, aadstsBody(e, corr, nowMs), endpoint, `AADSTS${e.aadsts}`);
      throw e;
    };
    if (/^\/common\/discovery\/instance\/?$/i.test(path)) return json(200, this.idp.instanceDiscovery(), 'instance discovery');
    if (/^\/devicelogin\/?$/i.test(path)) return this.deviceLogin(req);
    const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|\.well-known\/openid-configuration|discovery\/v2\.0\/keys|discovery\/keys|oauth2\/v2\.0\/(token|authorize|devicecode|logout))\/?$/i.exec(path);
    if (!m) return null;
    const tenantName = decodeURIComponent(m[1]);
    const what = m[2].toLowerCase();
    if (what.endsWith('openid-configuration')) {
      try {
        return json(200, this.idp.openIdConfiguration(tenantName), 'openid-configuration');
      } catch (e) {
        return fail(e, 'openid-configuration');
      }
    }
    if (what.includes('keys')) return json(200, { keys: [rsaJwk(this.signingPublicKey, this.idp.kid)] }, 'keys');
    if (what.endsWith('logout')) return page('You signed out of your account', '<p>It\'s a good idea to close all browser windows.</p>', 200, 'logout');
    if (what.endsWith('authorize')) return this.authorize(req, tenantName, nowMs);
    if (req.method !== 'POST') return json(405, { error: 'invalid_request', error_description: 'AADSTS900561: The endpoint only accepts POST requests.' }, what);
    const form = parseForm(req.body);
    try {
      const tenant = this.idp.tenantOrThrow(tenantName);
      if (what.endsWith('devicecode')) {
        const app = this.idp.appOrThrow(form.client_id, tenant);
        if (!form.scope) throw AAD.missingParameter('scope');
        this.idp.delegatedScopes(app, form.scope);
        return json(200, this.idp.startDeviceCode(app, form.scope), 'devicecode');
      }
      return json(200, this.token(req, tenant, tenantName, form), 'token');
    } catch (e) {
      return fail(e, what.endsWith('devicecode') ? 'devicecode' : 'token');
    }
  }

  private token(req: IdentityRequest, tenant: Tenant, tenantName: string, form: Form): Record<string, unknown> {
    const basic = basicAuth(req.headers);
    const app = this.idp.appOrThrow(form.client_id ?? basic?.id, tenant);
    const origin = req.url.origin;
    const endpoints = [tenantName, tenant.id, ...tenant.domains].map((t) => `${origin}/${t}/oauth2/v2.0/token`);
    const grant = form.grant_type;
    if (!grant) throw AAD.missingParameter('grant_type');
    const hasCredential = form.client_secret !== undefined || form.client_assertion !== undefined || basic !== null;
    switch (grant) {
      case 'client_credentials': {
        const credential = this.idp.authenticateClient(tenant, app, form, basic, endpoints);
        return this.idp.clientCredentials(tenant, app, form, credential);
      }
      case 'authorization_code':
        if (hasCredential || !app.publicClient) this.idp.authenticateClient(tenant, app, form, basic, endpoints);
        return this.idp.redeemCode(tenant, app, form);
      case 'refresh_token':
        if (hasCredential || !app.publicClient) this.idp.authenticateClient(tenant, app, form, basic, endpoints);
        return this.idp.refresh(tenant, app, form);
      case 'urn:ietf:params:oauth:grant-type:device_code':
      case 'device_code':
        if (hasCredential) this.idp.authenticateClient(tenant, app, form, basic, endpoints);
        return this.idp.pollDeviceCode(tenant, app, form);
      default:
        throw AAD.unsupportedGrant(grant);
    }
  }

  private signIn(login: string, password: string): DirectoryUser {
    const user = this.directory.userByAnyAddress(login.trim());
    if (!user) throw AAD.userNotFound(login);
    if (!user.accountEnabled) throw AAD.accountDisabled();
    if (user.password === null || user.password !== password) throw AAD.wrongPassword();
    return user;
  }

  /** GET shows the sign-in form; POST checks the password and redirects to redirect_uri with a code (or an error). */
  private authorize(req: IdentityRequest, tenantName: string, nowMs: number): HttpAnswer {
    const params = req.method === 'POST' ? parseForm(req.body) : Object.fromEntries(req.url.searchParams);
    const errorPage = (e: AadstsError): HttpAnswer => page('Sign in', `<p id="error">AADSTS${e.aadsts}: ${esc(e.message)}</p>`, e.status, 'authorize');
    let tenant: Tenant;
    let app: AppRegistration;
    try {
      tenant = this.idp.tenantOrThrow(tenantName);
      app = this.idp.appOrThrow(params.client_id, tenant);
    } catch (e) {
      if (e instanceof AadstsError) return errorPage(e);
      throw e;
    }
    const redirectUri = params.redirect_uri ?? '';
    if (!redirectAllowed(app, redirectUri)) return errorPage(AAD.redirectMismatch(redirectUri, app.clientId));
    const back = (q: Record<string, string>): HttpAnswer => {
      const target = new URL(redirectUri);
      const all = { ...q, ...(params.state !== undefined ? { state: params.state } : {}) };
      if (params.response_mode === 'form_post') {
        const inputs = Object.entries(all).map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');
        return page('Working...', `<form method="post" action="${esc(redirectUri)}">${inputs}<noscript><button>Continue</button></noscript></form><script>document.forms[0].submit()</script>`, 200, 'authorize');
      }
      for (const [k, v] of Object.entries(all)) target.searchParams.set(k, v);
      return { status: 302, headers: { Location: target.toString(), 'Content-Type': 'text/html; charset=utf-8' }, body: '', endpoint: 'authorize' };
    };
    if (params.response_type !== 'code') return back({ error: 'unsupported_response_type', error_description: 'AADSTS700054: response_type \'id_token\' is not enabled for the application.' });
    const hidden = { ...params };
    delete hidden.login;
    delete hidden.passwd;
    if (req.method !== 'POST' || params.login === undefined) return signInForm(req.url.pathname, hidden, null, 'Sign in to your account');
    let user: DirectoryUser;
    try {
      user = this.signIn(params.login, params.passwd ?? '');
    } catch (e) {
      if (e instanceof AadstsError) return signInForm(req.url.pathname, hidden, `AADSTS${e.aadsts}: ${e.message}`, 'Sign in to your account');
      throw e;
    }
    let scopes: string[];
    try {
      scopes = this.idp.delegatedScopes(app, params.scope ?? 'openid profile');
    } catch (e) {
      if (e instanceof AadstsError) return back({ error: 'consent_required', error_description: `AADSTS${e.aadsts}: ${e.message}`, error_codes: `[${e.aadsts}]` });
      throw e;
    }
    const code = this.idp.newAuthorizationCode({
      clientId: app.clientId,
      redirectUri,
      scopes,
      user,
      codeChallenge: params.code_challenge ?? null,
      codeChallengeMethod: params.code_challenge_method ?? (params.code_challenge ? 'plain' : null),
      nonce: params.nonce ?? null,
      expiresMs: nowMs + this.idp.settings.authorizationCodeLifetimeSeconds * 1000,
    });
    return back({ code, client_info: Buffer.from(JSON.stringify({ uid: user.id, utid: tenant.id })).toString('base64url'), session_state: user.id });
  }

  /** The page a device-code user opens: the code, then user name and password. */
  private deviceLogin(req: IdentityRequest): HttpAnswer {
    const form = req.method === 'POST' ? parseForm(req.body) : {};
    if (req.method !== 'POST') return signInForm(req.url.pathname, {}, null, 'Enter code', true);
    try {
      const user = this.signIn(form.login ?? '', form.passwd ?? '');
      const entry = this.idp.approveDeviceCode(form.otc ?? '', user);
      const app = this.directory.findApp(entry.clientId);
      return page('You have signed in', `<p>You have signed in to the ${esc(app?.displayName ?? entry.clientId)} application on your device. You may now close this window.</p>`, 200, 'devicelogin');
    } catch (e) {
      if (e instanceof AadstsError) return signInForm(req.url.pathname, {}, `AADSTS${e.aadsts}: ${e.message}`, 'Enter code', true);
      throw e;
    }
  }
}
