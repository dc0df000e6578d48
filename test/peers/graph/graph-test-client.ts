/**
 * Helpers for tests that talk to the Graph simulator over HTTPS: a fetch that trusts the simulator's test CA (and only
 * adds that CA: TLS checks stay on), an msal-node network client doing the same, a "browser" that signs in through the
 * HTML pages and follows the redirect (query or form_post) to a loopback redirect URI, and a compact test seed.
 */
import { Agent } from 'undici';
import type { GraphSeed } from './graph-seed.ts';

export type TrustingFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** fetch that trusts the given CA in addition to nothing else (Node's default roots are replaced for this agent). */
export function fetchTrusting(caPem: string): TrustingFetch {
  const dispatcher = new Agent({ connect: { ca: caPem } });
  return (url, init = {}) => fetch(url, { ...init, dispatcher } as RequestInit);
}

/** An msal-node INetworkModule (system.networkClient) over a CA-trusting fetch. */
export function msalNetworkClient(caPem: string) {
  const f = fetchTrusting(caPem);
  const call = async <T>(url: string, method: string, options?: { headers?: Record<string, string>; body?: string }) => {
    const res = await f(url, { method, headers: options?.headers, body: method === 'POST' ? (options?.body ?? '') : undefined });
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      headers[k] = v;
    });
    return { headers, body: (await res.json()) as T, status: res.status };
  };
  return {
    sendGetRequestAsync: <T>(url: string, options?: { headers?: Record<string, string> }) => call<T>(url, 'GET', options),
    sendPostRequestAsync: <T>(url: string, options?: { headers?: Record<string, string>; body?: string }) => call<T>(url, 'POST', options),
  };
}

function formOf(html: string): { action: string; fields: Record<string, string> } | null {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return null;
  const unesc = (s: string) => s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const fields: Record<string, string> = {};
  for (const m of form[2].matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields[unesc(m[1])] = unesc(m[2]);
  return { action: unesc(form[1]), fields };
}

/**
 * Plays the browser: opens an authorize URL, fills in the sign-in form, and delivers the answer to the redirect URI
 * (following a 302, or posting a form_post page). Returns the final response from the redirect URI, or the sign-in
 * page's HTML when signing in failed.
 */
export async function browserSignIn(authorizeUrl: string, login: string, password: string, caPem: string): Promise<{ redirectedTo: string | null; page: string }> {
  const f = fetchTrusting(caPem);
  const first = await f(authorizeUrl);
  const html = await first.text();
  const form = formOf(html);
  if (!form) return { redirectedTo: null, page: html };
  const target = new URL(form.action, authorizeUrl);
  const res = await f(target, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...form.fields, login, passwd: password }).toString() });
  if (res.status === 302) {
    const location = res.headers.get('location')!;
    if (location.startsWith('http://')) await fetch(location).catch(() => undefined);
    return { redirectedTo: location, page: '' };
  }
  const body = await res.text();
  const post = formOf(body);
  if (post && /document\.forms\[0\]\.submit/.test(body)) {
    await fetch(post.action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(post.fields).toString() }).catch(() => undefined);
    return { redirectedTo: post.action, page: body };
  }
  return { redirectedTo: null, page: body };
}

export const TENANT_ID = '11111111-2222-4333-8444-555555555555';
export const APP_ID = '0a0a0a0a-0000-4000-8000-000000000001';
export const RESTRICTED_APP_ID = '0a0a0a0a-0000-4000-8000-000000000002';
export const NO_CONSENT_APP_ID = '0a0a0a0a-0000-4000-8000-000000000003';
export const READ_ONLY_APP_ID = '0a0a0a0a-0000-4000-8000-000000000004';
export const SECRET = 'test-secret-value-1234';
export const EXPIRED_SECRET = 'test-secret-expired-5678';

/** A small tenant: three mailbox users, one user without an Exchange Online mailbox, four apps. */
export function testSeed(opts: { certificatePem?: string; events?: GraphSeed['events'] } = {}): GraphSeed {
  return {
    timeZone: 'Europe/Helsinki',
    tenant: { id: TENANT_ID, domains: ['fabrikam.example', 'fabrikam.onmicrosoft.com'], displayName: 'Fabrikam' },
    identity: { deviceCodePollingIntervalSeconds: 1 },
    apps: [
      {
        clientId: APP_ID,
        displayName: 'Sync under test',
        secrets: [{ value: SECRET }, { value: EXPIRED_SECRET, expires: 'today-1' }],
        certificates: opts.certificatePem ? [{ pem: opts.certificatePem }] : [],
        applicationPermissions: ['Calendars.ReadWrite', 'User.Read.All'],
        delegatedPermissions: ['Calendars.ReadWrite', 'User.Read', 'offline_access', 'openid', 'profile'],
        redirectUris: ['http://localhost'],
        publicClient: true,
      },
      { clientId: RESTRICTED_APP_ID, displayName: 'Scoped app', secrets: [{ value: SECRET }], applicationPermissions: ['Calendars.ReadWrite', 'User.Read.All'], mailboxAccess: ['anna@fabrikam.example'] },
      { clientId: NO_CONSENT_APP_ID, displayName: 'Unconsented app', secrets: [{ value: SECRET }], applicationPermissions: ['Calendars.ReadWrite'], adminConsent: false, delegatedPermissions: ['User.Read'], publicClient: true, redirectUris: ['http://localhost'] },
      { clientId: READ_ONLY_APP_ID, displayName: 'Reader', secrets: [{ value: SECRET }], applicationPermissions: ['Calendars.Read'] },
    ],
    users: [
      { id: 'aaaaaaaa-0000-4000-8000-000000000001', userPrincipalName: 'anna@fabrikam.example', aliases: ['a.berg@fabrikam.example'], displayName: 'Anna Berg', password: 'anna-pw' },
      { id: 'aaaaaaaa-0000-4000-8000-000000000002', userPrincipalName: 'ben@fabrikam.example', displayName: 'Ben Carter', password: 'ben-pw' },
      { id: 'aaaaaaaa-0000-4000-8000-000000000003', userPrincipalName: 'cleo@fabrikam.example', mail: 'cleo.diaz@fabrikam.example', displayName: 'Cleo Diaz', password: 'cleo-pw' },
      { id: 'aaaaaaaa-0000-4000-8000-000000000004', userPrincipalName: 'onprem@fabrikam.example', displayName: 'On-premises user', mailbox: false },
    ],
    events: opts.events ?? [],
  };
}

/** A client-credentials token straight from the token endpoint. */
export async function appToken(sim: { url: string; caCertificatePem: string }, clientId = APP_ID, secret = SECRET): Promise<string> {
  const res = await fetchTrusting(sim.caCertificatePem)(`${sim.url}/${TENANT_ID}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope: 'https://graph.microsoft.com/.default' }).toString(),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** A small Graph client over the trusting fetch: JSON in, { status, headers, body } out. */
export function graphCaller(sim: { graphUrl: string; caCertificatePem: string }, token: string) {
  const f = fetchTrusting(sim.caCertificatePem);
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const url = path.startsWith('https://') ? path : `${sim.graphUrl}${path}`;
    const res = await f(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, any>) : null };
  };
}
