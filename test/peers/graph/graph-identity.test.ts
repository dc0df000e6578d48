/**
 * The identity platform stand-in, over HTTPS: discovery documents, client credentials with a secret and with a
 * certificate, AADSTS errors in Entra's shape, and msal-node (the product's own dependency, a client nobody here
 * wrote) through client credentials, auth code + PKCE (interactive, via the sign-in page), device code and refresh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfidentialClientApplication, PublicClientApplication } from '@azure/msal-node';
import { startGraphSimulator } from './graph-simulator.ts';
import type { GraphSimulator } from './graph-simulator.ts';
import { createClientCertificate } from './test-ca.ts';
import type { IssuedCertificate } from './test-ca.ts';
import { decodeJwt, signJwt } from './jwt.ts';
import { createPrivateKey } from 'node:crypto';
import { APP_ID, EXPIRED_SECRET, NO_CONSENT_APP_ID, SECRET, TENANT_ID, browserSignIn, fetchTrusting, graphCaller, msalNetworkClient, testSeed } from './graph-test-client.ts';

let sim: GraphSimulator;
let cert: IssuedCertificate;
let f: ReturnType<typeof fetchTrusting>;

beforeAll(async () => {
  cert = createClientCertificate();
  sim = await startGraphSimulator({ seed: testSeed({ certificatePem: cert.certPem }) });
  f = fetchTrusting(sim.caCertificatePem);
});
afterAll(async () => {
  expect(sim.contractViolations()).toEqual([]);
  await sim.close();
});

const tokenRequest = (form: Record<string, string>, tenant = TENANT_ID) =>
  f(`${sim.url}/${tenant}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'client-request-id': 'corr-1' }, body: new URLSearchParams(form).toString() });
const cc = (extra: Record<string, string>) => ({ grant_type: 'client_credentials', client_id: APP_ID, scope: 'https://graph.microsoft.com/.default', ...extra });

describe('discovery', () => {
  it('serves the OpenID configuration by tenant GUID or domain, with this host in every endpoint', async () => {
    for (const t of [TENANT_ID, 'fabrikam.example', 'FABRIKAM.onmicrosoft.com']) {
      const r = await f(`${sim.url}/${t}/v2.0/.well-known/openid-configuration`);
      expect(r.status).toBe(200);
      const c = (await r.json()) as Record<string, string>;
      expect(c.issuer).toBe(`${sim.url}/${TENANT_ID}/v2.0`);
      expect(c.token_endpoint).toBe(`${sim.url}/${TENANT_ID}/oauth2/v2.0/token`);
      expect(c.device_authorization_endpoint).toContain('/oauth2/v2.0/devicecode');
    }
    const keys = (await (await f(`${sim.url}/${TENANT_ID}/discovery/v2.0/keys`)).json()) as { keys: Array<{ kty: string; kid: string }> };
    expect(keys.keys[0].kty).toBe('RSA');
    const inst = (await (await f(`${sim.url}/common/discovery/instance?api-version=1.1&authorization_endpoint=x`)).json()) as { metadata: Array<{ aliases: string[] }> };
    expect(inst.metadata[0].aliases).toEqual([new URL(sim.url).host]);
  });

  it('an unknown tenant is AADSTS90002 with the full error shape', async () => {
    const r = await f(`${sim.url}/nosuch.example/v2.0/.well-known/openid-configuration`);
    expect(r.status).toBe(400);
    const e = (await r.json()) as Record<string, unknown>;
    expect(e.error).toBe('invalid_tenant');
    expect(String(e.error_description)).toMatch(/^AADSTS90002: Tenant 'nosuch.example' not found\./);
    expect(e.error_codes).toEqual([90002]);
    expect(e.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(e.trace_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('client credentials (raw HTTP)', () => {
  it('a secret gives an app token shaped like Entra v1 tokens for Graph', async () => {
    const r = await tokenRequest(cc({ client_secret: SECRET }));
    expect(r.status).toBe(200);
    const t = (await r.json()) as Record<string, unknown>;
    expect(t.token_type).toBe('Bearer');
    expect(t.expires_in).toBe(3599);
    const jwt = decodeJwt(String(t.access_token));
    expect(jwt.header.alg).toBe('RS256');
    expect(jwt.payload).toMatchObject({ aud: 'https://graph.microsoft.com', tid: TENANT_ID, appid: APP_ID, idtyp: 'app', roles: ['Calendars.ReadWrite', 'User.Read.All'], appidacr: '1', ver: '1.0' });
  });

  it.each([
    ['a wrong secret', cc({ client_secret: 'nope' }), 401, 'invalid_client', 7000215],
    ['an expired secret', cc({ client_secret: EXPIRED_SECRET }), 401, 'invalid_client', 7000222],
    ['an unknown app', { ...cc({ client_secret: SECRET }), client_id: '99999999-9999-4999-8999-999999999999' }, 400, 'unauthorized_client', 700016],
    ['no credential', cc({}), 401, 'invalid_client', 7000218],
    ['a scope without /.default', cc({ client_secret: SECRET, scope: 'https://graph.microsoft.com/Calendars.ReadWrite' }), 400, 'invalid_scope', 1002012],
    ['another resource', cc({ client_secret: SECRET, scope: 'https://outlook.office365.com/.default' }), 400, 'invalid_resource', 500011],
  ])('%s is refused with Entra\'s code', async (_name, form, status, error, code) => {
    const r = await tokenRequest(form as Record<string, string>);
    expect(r.status).toBe(status);
    const e = (await r.json()) as Record<string, unknown>;
    expect(e.error).toBe(error);
    expect(String(e.error_description)).toMatch(new RegExp(`^AADSTS${code}: `));
    expect(e.error_codes).toEqual([code]);
    expect(e.correlation_id).toBe('corr-1');
  });

  it('an unknown tenant at the token endpoint is AADSTS90002', async () => {
    const r = await tokenRequest(cc({ client_secret: SECRET }), 'other.example');
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error_codes: number[] }).error_codes).toEqual([90002]);
  });

  const assertion = (over: { key?: string; header?: Record<string, unknown>; payload?: Record<string, unknown>; alg?: 'RS256' | 'PS256' } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const payload = { aud: `${sim.url}/${TENANT_ID}/oauth2/v2.0/token`, iss: APP_ID, sub: APP_ID, jti: 'j1', nbf: now, exp: now + 600, ...over.payload };
    return signJwt({ 'x5t#S256': Buffer.from(cert.thumbprintSha256, 'hex').toString('base64url'), ...over.header }, payload, createPrivateKey(over.key ?? cert.keyPem), over.alg ?? 'PS256');
  };
  const withAssertion = (jwt: string) => cc({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt });

  it('a certificate assertion (PS256, x5t#S256; RS256, x5t) gives an app token with appidacr 2', async () => {
    for (const jwt of [assertion(), assertion({ alg: 'RS256', header: { 'x5t#S256': undefined, x5t: Buffer.from(cert.thumbprintSha1, 'hex').toString('base64url') } })]) {
      const r = await tokenRequest(withAssertion(jwt));
      expect(r.status).toBe(200);
      expect(decodeJwt(String(((await r.json()) as Record<string, unknown>).access_token)).payload.appidacr).toBe('2');
    }
  });

  it.each([
    ['signed with another key', () => assertion({ key: createClientCertificate('other', 1, 1024).keyPem }), 700027],
    ['naming an unregistered thumbprint', () => assertion({ header: { 'x5t#S256': Buffer.alloc(32, 1).toString('base64url') } }), 700027],
    ['for another audience', () => assertion({ payload: { aud: 'https://login.microsoftonline.com/x/oauth2/v2.0/token' } }), 50012],
    ['issued by another app', () => assertion({ payload: { iss: NO_CONSENT_APP_ID, sub: NO_CONSENT_APP_ID } }), 700021],
    ['expired', () => assertion({ payload: { exp: Math.floor(Date.now() / 1000) - 3600, nbf: Math.floor(Date.now() / 1000) - 7200 } }), 700024],
    ['not a JWT', () => 'not.a.jwt!', 50027],
  ])('an assertion %s is refused', async (_n, make, code) => {
    const r = await tokenRequest(withAssertion(make()));
    expect(r.status).toBe(401);
    expect(((await r.json()) as { error_codes: number[] }).error_codes).toEqual([code]);
  });
});

describe('msal-node (the product\'s library) against the simulator', () => {
  const authorityConfig = (viaNetwork: boolean) => {
    const a = sim.msalAuthority('fabrikam.example');
    return viaNetwork ? { authority: a.authority, knownAuthorities: a.knownAuthorities } : a;
  };

  it.each([
    ['discovering over the network (knownAuthorities only)', true],
    ['with authorityMetadata and cloudDiscoveryMetadata (no discovery calls)', false],
  ])('client credentials with a secret, %s; the token is cached', async (_n, viaNetwork) => {
    const app = new ConfidentialClientApplication({
      auth: { clientId: APP_ID, clientSecret: SECRET, ...authorityConfig(viaNetwork) },
      system: { networkClient: msalNetworkClient(sim.caCertificatePem) },
    });
    sim.resetCounters();
    const r1 = await app.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
    const r2 = await app.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
    expect(r1?.accessToken).toBeTruthy();
    expect(r2?.accessToken).toBe(r1?.accessToken);
    expect(sim.counters().tokens.client_credentials).toBe(1);
    const call = graphCaller(sim, r1!.accessToken);
    expect((await call('GET', '/users/anna@fabrikam.example')).body?.displayName).toBe('Anna Berg');
  });

  it('client credentials with a certificate: SHA-256 thumbprint (PS256) and SHA-1 thumbprint (RS256)', async () => {
    for (const certificate of [{ thumbprintSha256: cert.thumbprintSha256, privateKey: cert.keyPem }, { thumbprint: cert.thumbprintSha1, privateKey: cert.keyPem }]) {
      const app = new ConfidentialClientApplication({ auth: { clientId: APP_ID, clientCertificate: certificate, ...authorityConfig(true) }, system: { networkClient: msalNetworkClient(sim.caCertificatePem) } });
      const r = await app.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
      expect(decodeJwt(r!.accessToken).payload.appidacr).toBe('2');
    }
  });

  it('a wrong secret surfaces as msal\'s ServerError with the AADSTS code', async () => {
    const app = new ConfidentialClientApplication({ auth: { clientId: APP_ID, clientSecret: 'wrong', ...authorityConfig(false) }, system: { networkClient: msalNetworkClient(sim.caCertificatePem) } });
    await expect(app.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] })).rejects.toMatchObject({ errorCode: 'invalid_client', errorMessage: expect.stringContaining('AADSTS7000215: Invalid client secret provided.') });
  });

  const publicApp = (clientId = APP_ID) => new PublicClientApplication({ auth: { clientId, ...authorityConfig(true) }, system: { networkClient: msalNetworkClient(sim.caCertificatePem) } });

  it('interactive sign-in (auth code + PKCE, form_post to msal\'s loopback server) gives a delegated token for the user; refresh works', async () => {
    sim.setTokenLifetimes({ accessTokenLifetimeSeconds: 60 });
    const app = publicApp();
    const r = await app.acquireTokenInteractive({
      scopes: ['Calendars.ReadWrite', 'offline_access'],
      openBrowser: async (url) => {
        void browserSignIn(url, 'anna@fabrikam.example', 'anna-pw', sim.caCertificatePem);
      },
    });
    expect(r.account?.username).toBe('anna@fabrikam.example');
    expect(r.account?.tenantId).toBe(TENANT_ID);
    const claims = decodeJwt(r.accessToken).payload;
    expect(claims).toMatchObject({ idtyp: 'user', upn: 'anna@fabrikam.example', tid: TENANT_ID, oid: 'aaaaaaaa-0000-4000-8000-000000000001' });
    expect(String(claims.scp).split(' ')).toContain('Calendars.ReadWrite');
    // A 60 s token is inside msal's renewal margin, so silent acquisition redeems the refresh token.
    const again = await app.acquireTokenSilent({ account: r.account!, scopes: ['Calendars.ReadWrite'], forceRefresh: true });
    expect(again.accessToken).not.toBe(r.accessToken);
    expect(sim.counters().tokens.refresh_token).toBeGreaterThanOrEqual(1);
    const me = graphCaller(sim, again.accessToken);
    expect((await me('GET', '/me/events')).status).toBe(200);
    expect((await me('GET', '/users/ben@fabrikam.example/events')).body?.error.code).toBe('ErrorAccessDenied');
    sim.setTokenLifetimes({ accessTokenLifetimeSeconds: 3599 });
  });

  it('the sign-in page refuses a wrong password (AADSTS50126) and the token endpoint a wrong PKCE verifier (AADSTS501481)', async () => {
    const app = publicApp();
    const url = await app.getAuthCodeUrl({ scopes: ['User.Read'], redirectUri: 'http://localhost:1/', codeChallenge: 'x'.repeat(43), codeChallengeMethod: 'S256' });
    const wrong = await browserSignIn(url, 'anna@fabrikam.example', 'bad', sim.caCertificatePem);
    expect(wrong.redirectedTo).toBeNull();
    expect(wrong.page).toContain('AADSTS50126');
    const ok = await browserSignIn(url.replace('response_mode=form_post', 'response_mode=query'), 'anna@fabrikam.example', 'anna-pw', sim.caCertificatePem);
    const code = new URL(ok.redirectedTo!).searchParams.get('code')!;
    await expect(app.acquireTokenByCode({ code, scopes: ['User.Read'], redirectUri: 'http://localhost:1/', codeVerifier: 'y'.repeat(43) })).rejects.toMatchObject({ errorMessage: expect.stringContaining('AADSTS501481: ') });
  });

  it('a redirect URI that is not registered is refused on the page (AADSTS50011)', async () => {
    const r = await f(`${sim.url}/${TENANT_ID}/oauth2/v2.0/authorize?client_id=${APP_ID}&response_type=code&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&scope=User.Read`);
    expect(r.status).toBe(400);
    expect(await r.text()).toContain('AADSTS50011');
  });

  it('device code: authorization_pending while nobody has signed in, then the token for who signed in on /devicelogin', async () => {
    const app = publicApp();
    const r = await app.acquireTokenByDeviceCode({
      scopes: ['Calendars.ReadWrite'],
      deviceCodeCallback: (d) => {
        expect(d.message).toContain(d.userCode);
        setTimeout(() => {
          void f(d.verificationUri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ otc: d.userCode, login: 'ben@fabrikam.example', passwd: 'ben-pw' }).toString() });
        }, 1200);
      },
    });
    expect(r?.account?.username).toBe('ben@fabrikam.example');
    expect(sim.counters().byStatus['400']).toBeGreaterThanOrEqual(1); // the authorization_pending polls
  });

  it('consent missing: the delegated scope was never consented (AADSTS65001), and an app without admin consent gets a token without roles that Graph refuses', async () => {
    const app = publicApp(NO_CONSENT_APP_ID);
    const url = await app.getAuthCodeUrl({ scopes: ['Calendars.ReadWrite'], redirectUri: 'http://localhost:1/', responseMode: 'query' as never });
    const res = await browserSignIn(url, 'anna@fabrikam.example', 'anna-pw', sim.caCertificatePem);
    const back = new URL(res.redirectedTo!);
    expect(back.searchParams.get('error')).toBe('consent_required');
    expect(back.searchParams.get('error_description')).toMatch(/^AADSTS65001: /);
    const t = await tokenRequest({ ...cc({ client_secret: SECRET }), client_id: NO_CONSENT_APP_ID });
    const token = String(((await t.json()) as Record<string, unknown>).access_token);
    expect(decodeJwt(token).payload.roles).toBeUndefined();
    const r = await graphCaller(sim, token)('GET', '/users/anna@fabrikam.example/events');
    expect(r.status).toBe(403);
    expect(r.body?.error.code).toBe('ErrorAccessDenied');
  });
});
