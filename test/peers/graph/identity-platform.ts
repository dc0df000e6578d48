/**
 * A stand-in for the Microsoft identity platform (Entra ID v2.0 endpoints) of one tenant: OpenID configuration,
 * instance discovery, signing keys, and the token endpoint for client credentials (secret, or a certificate-signed
 * client assertion), authorization code with PKCE, device code and refresh tokens. Access tokens are signed JWTs shaped
 * like Entra's v1 tokens for Microsoft Graph (aud https://graph.microsoft.com, tid, oid, roles or scp, upn); the sign-in
 * pages are in identity-pages.ts.
 */
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { AppRegistration, DirectoryUser, Directory, Tenant } from './graph-directory.ts';
import { AAD, AadstsError } from './identity-errors.ts';
import { JwtFormatError, decodeJwt, signJwt, verifyJwtSignature } from './jwt.ts';

export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

export interface IdentitySettings {
  accessTokenLifetimeSeconds: number;
  refreshTokenLifetimeSeconds: number;
  authorizationCodeLifetimeSeconds: number;
  deviceCodeLifetimeSeconds: number;
  deviceCodePollingIntervalSeconds: number;
}

export const DEFAULT_IDENTITY_SETTINGS: IdentitySettings = {
  accessTokenLifetimeSeconds: 3599,
  refreshTokenLifetimeSeconds: 86_400,
  authorizationCodeLifetimeSeconds: 600,
  deviceCodeLifetimeSeconds: 900,
  deviceCodePollingIntervalSeconds: 5,
};

/** What Graph needs to know about a caller, read from a verified access token. */
export interface Caller {
  kind: 'app' | 'user';
  appId: string;
  app: AppRegistration;
  /** Application roles (app tokens) or delegated scopes (user tokens). */
  permissions: string[];
  user: DirectoryUser | null;
}

export interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  user: DirectoryUser;
  codeChallenge: string | null;
  codeChallengeMethod: string | null;
  nonce: string | null;
  expiresMs: number;
}

export interface DeviceAuthorization {
  clientId: string;
  scopes: string[];
  userCode: string;
  expiresMs: number;
  user: DirectoryUser | null;
  declined: boolean;
}

interface RefreshGrant {
  clientId: string;
  userId: string;
  scopes: string[];
  expiresMs: number;
}

export type Form = Record<string, string>;

const b64url = (s: string): string => Buffer.from(s).toString('base64url');
const hashGuid = (seed: string): string => {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export class IdentityPlatform {
  readonly codes = new Map<string, PendingAuthorization>();
  readonly deviceCodes = new Map<string, DeviceAuthorization>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();
  /** Tokens issued, for tests: count by grant type. */
  readonly issued: Record<string, number> = {};
  private readonly directory: Directory;
  settings: IdentitySettings;
  private readonly signingKey: KeyObject;
  readonly kid: string;
  private readonly origin: () => string;
  private readonly now: () => number;

  constructor(directory: Directory, settings: IdentitySettings, signingKey: KeyObject, kid: string, origin: () => string, now: () => number = Date.now) {
    this.directory = directory;
    this.settings = settings;
    this.signingKey = signingKey;
    this.kid = kid;
    this.origin = origin;
    this.now = now;
  }

  tenantOrThrow(name: string): Tenant {
    if (['common', 'organizations'].includes(name.toLowerCase())) return this.directory.tenant;
    const t = this.directory.findTenant(name);
    if (!t) throw AAD.tenantNotFound(name);
    return t;
  }

  appOrThrow(clientId: string | undefined, tenant: Tenant): AppRegistration {
    if (!clientId) throw AAD.missingParameter('client_id');
    const app = this.directory.findApp(clientId);
    if (!app) throw AAD.appNotFound(clientId, tenant.displayName);
    return app;
  }

  /** /{tenant}/v2.0/.well-known/openid-configuration, in Entra's shape. */
  openIdConfiguration(tenantName: string): Record<string, unknown> {
    const generic = ['common', 'organizations'].includes(tenantName.toLowerCase());
    const t = generic ? tenantName.toLowerCase() : this.tenantOrThrow(tenantName).id;
    const base = `${this.origin()}/${t}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${this.origin()}/${t}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${this.origin()}/${generic ? '{tenantid}' : t}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${this.origin()}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  }

  /** /common/discovery/instance: cloud instance discovery, naming only this host. */
  instanceDiscovery(): Record<string, unknown> {
    const host = new URL(this.origin()).host;
    return {
      tenant_discovery_endpoint: `${this.origin()}/common/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    };
  }

  // ---- tokens -----------------------------------------------------------------------------------------------------

  private baseClaims(tenant: Tenant, app: AppRegistration, nowS: number): Record<string, unknown> {
    return {
      aud: GRAPH_RESOURCE,
      iss: `https://sts.windows.net/${tenant.id}/`,
      iat: nowS,
      nbf: nowS,
      exp: nowS + this.settings.accessTokenLifetimeSeconds,
      aio: randomBytes(24).toString('base64'),
      app_displayname: app.displayName,
      appid: app.clientId,
      idp: `https://sts.windows.net/${tenant.id}/`,
      rh: '0.simulator.',
      tenant_region_scope: 'EU',
      tid: tenant.id,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
      xms_tcdt: 1600000000,
    };
  }

  private sign(claims: Record<string, unknown>): string {
    return signJwt({ kid: this.kid, x5t: this.kid }, claims, this.signingKey, 'RS256');
  }

  private tokenResponse(accessToken: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const life = this.settings.accessTokenLifetimeSeconds;
    return { token_type: 'Bearer', expires_in: life, ext_expires_in: life, access_token: accessToken, ...extra };
  }

  appToken(tenant: Tenant, app: AppRegistration, credential: 'secret' | 'certificate'): Record<string, unknown> {
    const nowS = Math.floor(this.now() / 1000);
    const sp = hashGuid(`sp|${app.clientId}`);
    const claims: Record<string, unknown> = { ...this.baseClaims(tenant, app, nowS), appidacr: credential === 'secret' ? '1' : '2', idtyp: 'app', oid: sp, sub: sp };
    if (app.adminConsent && app.applicationPermissions.length) claims.roles = [...app.applicationPermissions];
    this.issued.client_credentials = (this.issued.client_credentials ?? 0) + 1;
    return this.tokenResponse(this.sign(claims));
  }

  /** A delegated token set: access token (scp), ID token, refresh token with offline_access, client_info. */
  userTokens(tenant: Tenant, app: AppRegistration, user: DirectoryUser, scopes: string[], grant: string, nonce: string | null = null): Record<string, unknown> {
    const nowS = Math.floor(this.now() / 1000);
    const graphScopes = scopes.filter((s) => !OIDC_SCOPES.includes(s));
    const scp = [...new Set([...graphScopes, ...scopes.filter((s) => s !== 'offline_access')])];
    const access = {
      ...this.baseClaims(tenant, app, nowS),
      acct: 0,
      acr: '1',
      amr: ['pwd'],
      appidacr: '0',
      family_name: user.surname ?? undefined,
      given_name: user.givenName ?? undefined,
      idtyp: 'user',
      ipaddr: '127.0.0.1',
      name: user.displayName,
      oid: user.id,
      platf: '3',
      scp: scp.join(' '),
      sub: hashGuid(`sub|${user.id}|${app.clientId}`),
      unique_name: user.userPrincipalName,
      upn: user.userPrincipalName,
      preferred_username: user.userPrincipalName,
    };
    const id = {
      aud: app.clientId,
      iss: `${this.origin()}/${tenant.id}/v2.0`,
      iat: nowS,
      nbf: nowS,
      exp: nowS + 3600,
      name: user.displayName,
      ...(nonce ? { nonce } : {}),
      oid: user.id,
      preferred_username: user.userPrincipalName,
      rh: '0.simulator.',
      sub: hashGuid(`sub|${user.id}|${app.clientId}`),
      tid: tenant.id,
      uti: randomBytes(16).toString('base64url'),
      ver: '2.0',
    };
    const extra: Record<string, unknown> = {
      scope: graphScopes.map((s) => `${GRAPH_RESOURCE}/${s}`).concat(scopes.filter((s) => OIDC_SCOPES.includes(s) && s !== 'offline_access')).join(' '),
      id_token: this.sign(id),
      client_info: b64url(JSON.stringify({ uid: user.id, utid: tenant.id })),
    };
    if (scopes.includes('offline_access')) {
      const rt = `1.${randomBytes(48).toString('base64url')}`;
      this.refreshTokens.set(rt, { clientId: app.clientId, userId: user.id, scopes, expiresMs: this.now() + this.settings.refreshTokenLifetimeSeconds * 1000 });
      extra.refresh_token = rt;
    }
    this.issued[grant] = (this.issued[grant] ?? 0) + 1;
    return this.tokenResponse(this.sign(access), extra);
  }

  /**
   * Scopes of a delegated request: `https://graph.microsoft.com/X` or `X`; `.default` means everything consented.
   * Throws AADSTS65001 when one is not consented for the tenant.
   */
  delegatedScopes(app: AppRegistration, requested: string): string[] {
    const out: string[] = [];
    for (const raw of requested.split(/\s+/).filter(Boolean)) {
      const s = raw.replace(/^https:\/\/graph\.microsoft\.com\//i, '').replace(/^00000003-0000-0000-c000-000000000000\//i, '');
      if (s === '.default') out.push(...app.delegatedPermissions);
      else if (OIDC_SCOPES.includes(s.toLowerCase())) out.push(s.toLowerCase());
      else {
        const granted = app.delegatedPermissions.find((p) => p.toLowerCase() === s.toLowerCase());
        if (!granted) throw AAD.consentMissing(app.clientId, app.displayName);
        out.push(granted);
      }
    }
    return [...new Set(out)];
  }

  /** Client authentication at the token endpoint: secret (post or basic) or a client assertion. */
  authenticateClient(tenant: Tenant, app: AppRegistration, form: Form, basic: { id: string; secret: string } | null, tokenEndpoints: string[]): 'secret' | 'certificate' {
    const secret = form.client_secret ?? basic?.secret;
    if (secret !== undefined) {
      const nowMs = this.now();
      const match = app.secrets.find((s) => s.value === secret);
      if (!match) throw AAD.wrongSecret(app.clientId);
      if (match.expiresMs !== null && match.expiresMs <= nowMs) throw AAD.expiredSecret(app.clientId);
      return 'secret';
    }
    if (form.client_assertion !== undefined) {
      if (form.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') throw AAD.missingParameter('client_assertion_type');
      this.checkAssertion(tenant, app, form.client_assertion, tokenEndpoints);
      return 'certificate';
    }
    throw AAD.credentialMissing();
  }

  private checkAssertion(tenant: Tenant, app: AppRegistration, assertion: string, tokenEndpoints: string[]): void {
    let jwt;
    try {
      jwt = decodeJwt(assertion);
    } catch (e) {
      if (e instanceof JwtFormatError) throw AAD.assertionMalformed();
      throw e;
    }
    const x5t = typeof jwt.header.x5t === 'string' ? Buffer.from(jwt.header.x5t, 'base64url').toString('hex').toUpperCase() : null;
    const x5t256 = typeof jwt.header['x5t#S256'] === 'string' ? Buffer.from(jwt.header['x5t#S256'] as string, 'base64url').toString('hex').toUpperCase() : null;
    const thumb = x5t256 ?? x5t ?? '';
    const cert = app.certificates.find((c) => (x5t256 !== null && c.thumbprintSha256 === x5t256) || (x5t !== null && c.thumbprintSha1 === x5t));
    if (!cert) throw AAD.assertionKeyNotFound(thumb, app.clientId);
    const nowMs = this.now();
    if (cert.notAfterMs <= nowMs) throw AAD.assertionKeyExpired(thumb);
    if (!verifyJwtSignature(jwt, cert.publicKey)) throw AAD.assertionBadSignature(thumb);
    const p = jwt.payload;
    const aud = typeof p.aud === 'string' ? p.aud : '';
    const audiences = [...tokenEndpoints, `${this.origin()}/${tenant.id}/v2.0`];
    if (!audiences.some((a) => a.toLowerCase() === aud.toLowerCase())) throw AAD.assertionAudience(aud);
    if (String(p.iss).toLowerCase() !== app.clientId || String(p.sub).toLowerCase() !== app.clientId) throw AAD.assertionSubject();
    const nowS = Math.floor(nowMs / 1000);
    const skew = 300;
    if (typeof p.exp !== 'number' || p.exp + skew < nowS || (typeof p.nbf === 'number' && p.nbf - skew > nowS)) throw AAD.assertionTime(nowS, p.nbf, p.exp);
  }

  /** Client credentials: the scope must be Graph's /.default. */
  clientCredentials(tenant: Tenant, app: AppRegistration, form: Form, credential: 'secret' | 'certificate'): Record<string, unknown> {
    const scope = form.scope;
    if (!scope) throw AAD.missingParameter('scope');
    const scopes = scope.split(/\s+/).filter(Boolean);
    for (const s of scopes) {
      if (!s.endsWith('/.default')) throw AAD.scopeNotDefault(s);
      const resource = s.slice(0, -'/.default'.length).replace(/\/$/, '');
      if (resource.toLowerCase() !== GRAPH_RESOURCE && resource.toLowerCase() !== GRAPH_APP_ID) throw AAD.resourceNotFound(resource, tenant.displayName);
    }
    return this.appToken(tenant, app, credential);
  }

  newAuthorizationCode(p: PendingAuthorization): string {
    const code = `1.${randomBytes(48).toString('base64url')}`;
    this.codes.set(code, p);
    return code;
  }

  redeemCode(tenant: Tenant, app: AppRegistration, form: Form): Record<string, unknown> {
    const code = form.code;
    if (!code) throw AAD.missingParameter('code');
    const p = this.codes.get(code);
    this.codes.delete(code);
    if (!p || p.clientId !== app.clientId || p.expiresMs <= this.now()) throw AAD.badCode();
    if ((form.redirect_uri ?? '') !== p.redirectUri) throw AAD.redirectMismatch(form.redirect_uri ?? '', app.clientId);
    if (p.codeChallenge !== null) {
      const verifier = form.code_verifier;
      if (!verifier) throw AAD.pkceMissing();
      const computed = p.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (computed !== p.codeChallenge) throw AAD.pkceMismatch();
    }
    return this.userTokens(tenant, app, p.user, p.scopes, 'authorization_code', p.nonce);
  }

  refresh(tenant: Tenant, app: AppRegistration, form: Form): Record<string, unknown> {
    const g = this.refreshTokens.get(form.refresh_token ?? '');
    if (!g || g.clientId !== app.clientId) throw AAD.badRefreshToken();
    if (g.expiresMs <= this.now()) throw AAD.expiredRefreshToken();
    this.refreshTokens.delete(form.refresh_token!);
    const user = this.directory.userById(g.userId);
    if (!user) throw AAD.badRefreshToken();
    const scopes = form.scope ? this.delegatedScopes(app, form.scope) : g.scopes;
    return this.userTokens(tenant, app, user, [...new Set([...scopes, 'offline_access'])], 'refresh_token');
  }

  /** POST /{tenant}/oauth2/v2.0/devicecode. */
  startDeviceCode(app: AppRegistration, scope: string): Record<string, unknown> {
    const scopes = scope.split(/\s+/).filter(Boolean);
    const deviceCode = randomBytes(48).toString('base64url');
    const userCode = randomBytes(6).toString('hex').toUpperCase().slice(0, 9);
    const life = this.settings.deviceCodeLifetimeSeconds;
    this.deviceCodes.set(deviceCode, { clientId: app.clientId, scopes, userCode, expiresMs: this.now() + life * 1000, user: null, declined: false });
    const uri = `${this.origin()}/devicelogin`;
    return {
      user_code: userCode,
      device_code: deviceCode,
      verification_uri: uri,
      expires_in: life,
      interval: this.settings.deviceCodePollingIntervalSeconds,
      message: `To sign in, use a web browser to open the page ${uri} and enter the code ${userCode} to authenticate.`,
    };
  }

  /** The device login page (or a test) signs a user in for a user code; throws AADSTS errors for bad input. */
  approveDeviceCode(userCode: string, user: DirectoryUser): DeviceAuthorization {
    const entry = [...this.deviceCodes.values()].find((d) => d.userCode === userCode.trim().toUpperCase());
    if (!entry || entry.expiresMs <= this.now()) throw AAD.deviceCodeUnknown();
    entry.user = user;
    return entry;
  }

  pollDeviceCode(tenant: Tenant, app: AppRegistration, form: Form): Record<string, unknown> {
    const code = form.device_code;
    if (!code) throw AAD.missingParameter('device_code');
    const d = this.deviceCodes.get(code);
    if (!d || d.clientId !== app.clientId) throw AAD.deviceCodeUnknown();
    if (d.expiresMs <= this.now()) throw AAD.deviceCodeExpired();
    if (!app.publicClient && form.client_secret === undefined && form.client_assertion === undefined) throw AAD.publicFlowsDisabled();
    if (!d.user) throw AAD.pending();
    this.deviceCodes.delete(code);
    return this.userTokens(tenant, app, d.user, this.delegatedScopes(app, d.scopes.join(' ')), 'device_code');
  }

  // ---- Graph's side -----------------------------------------------------------------------------------------------

  /**
   * Checks a bearer token as Microsoft Graph does: signature, audience, lifetime, tenant. Returns the caller or a
   * reason (InvalidAuthenticationToken).
   */
  verifyAccessToken(token: string): Caller | string {
    let jwt;
    try {
      jwt = decodeJwt(token);
    } catch {
      return 'IDX14100: JWT is not well formed, there are no dots (.).';
    }
    if (jwt.header.kid !== this.kid) return 'Access token validation failure. Invalid signing key.';
    if (!verifyJwtSignature(jwt, this.signingKey)) return 'Access token validation failure. Invalid signature.';
    const p = jwt.payload;
    const aud = String(p.aud ?? '').replace(/\/$/, '').toLowerCase();
    if (aud !== GRAPH_RESOURCE && aud !== GRAPH_APP_ID) return 'Access token validation failure. Invalid audience.';
    const nowS = Math.floor(this.now() / 1000);
    if (typeof p.exp !== 'number' || p.exp <= nowS) return 'Lifetime validation failed, the token is expired.';
    if (p.tid !== this.directory.tenant.id) return 'Access token validation failure. Invalid issuer.';
    const app = this.directory.findApp(String(p.appid ?? ''));
    if (!app) return 'Access token validation failure. The application was not found.';
    if (p.idtyp === 'user') {
      const user = this.directory.userById(String(p.oid ?? ''));
      if (!user) return 'Access token validation failure. The user was not found.';
      return { kind: 'user', appId: app.clientId, app, permissions: String(p.scp ?? '').split(' ').filter(Boolean), user };
    }
    return { kind: 'app', appId: app.clientId, app, permissions: Array.isArray(p.roles) ? (p.roles as string[]) : [], user: null };
  }

  /** For tests: an access token for an app without going through the token endpoint. */
  mintAppToken(clientId: string, overrides: Record<string, unknown> = {}): string {
    const app = this.directory.findApp(clientId);
    if (!app) throw new Error(`No app ${clientId}`);
    const nowS = Math.floor(this.now() / 1000);
    const sp = hashGuid(`sp|${app.clientId}`);
    return this.sign({ ...this.baseClaims(this.directory.tenant, app, nowS), appidacr: '1', idtyp: 'app', oid: sp, sub: sp, roles: app.adminConsent ? app.applicationPermissions : [], ...overrides });
  }
}

/** A stable kid for a signing key (its SPKI hash, base64url, as Entra's kids look). */
export function kidOf(publicKey: KeyObject): string {
  return createHmac('sha1', 'kid').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url').slice(0, 27);
}

export { AadstsError, randomUUID };
