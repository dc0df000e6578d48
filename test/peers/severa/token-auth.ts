import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { JsonRecord } from './activity-records.ts';
import { HttpError, type ClientState, type RouteAdder, type TokenGrant } from './http-routing.ts';
import type { SeveraOperation } from './severa-operations.ts';
import type { ApiClientState } from './severa-state.ts';

/**
 * OAuth2 client credentials as the Severa API has them: the token and refresh-token routes, the heartbeat, and the check
 * of every other request's Client_Id and Bearer token against the operation's scopes. Access tokens expire after
 * `tokenLifetimeMs` on the server clock, refresh tokens after `refreshLifetimeMs` and work once.
 */

const ALL_SCOPE_NAMES = new Set([
  'activities:read', 'activities:write', 'activities:delete', 'customers:read', 'customers:write', 'customers:delete', 'fees:read', 'fees:write',
  'fees:delete', 'files:read', 'files:write', 'files:delete', 'hours:read', 'hours:write', 'hours:delete', 'invoices:read', 'invoices:write',
  'invoices:delete', 'organization:read', 'organization:write', 'projects:read', 'projects:write', 'projects:delete', 'resourceallocations:read',
  'resourceallocations:write', 'resourceallocations:delete', 'settings:read', 'settings:write', 'settings:delete', 'travels:read', 'travels:write',
  'travels:delete', 'users:read', 'users:write', 'users:delete',
]);

export interface TokenAuth {
  /** Adds the token, refresh-token and heartbeat routes. */
  addRoutes(route: RouteAdder): void;
  /** The grant of a request's token for `op`; throws 401 or 403 (HttpError) when it has none that will do. */
  authenticate(req: IncomingMessage, op: SeveraOperation): TokenGrant;
}

export function createTokenAuth(apiClients: ApiClientState[], serverNow: () => number, tokenLifetimeMs: number, refreshLifetimeMs: number): TokenAuth {
  const clients = new Map<string, ClientState>(
    apiClients.map((c) => [c.clientId, { clientId: c.clientId, clientSecret: c.clientSecret, scopes: new Set(c.scopes), actAsUserGuid: c.actAsUserGuid ?? null }]),
  );
  const accessTokens = new Map<string, TokenGrant>();
  const refreshTokens = new Map<string, TokenGrant>();

  function issueTokens(client: ClientState, scopes: Set<string>): JsonRecord {
    const access = randomBytes(24).toString('base64url');
    const refresh = randomBytes(24).toString('base64url');
    const now = serverNow();
    accessTokens.set(access, { client, scopes, expiresMs: now + tokenLifetimeMs });
    refreshTokens.set(refresh, { client, scopes, expiresMs: now + refreshLifetimeMs });
    return {
      access_token: access,
      access_token_type: 'Bearer',
      access_token_expires_in: Math.round(tokenLifetimeMs / 1000),
      access_token_expires_utc: new Date(now + tokenLifetimeMs).toISOString(),
      refresh_token: refresh,
      refresh_token_expires_in: Math.round(refreshLifetimeMs / 1000),
      refresh_token_expires_utc: new Date(now + refreshLifetimeMs).toISOString(),
      scope: [...scopes].join(' '),
    };
  }

  function addRoutes(route: RouteAdder): void {
    route('PublicBearerAuthentication_GetLoginToken', (ctx) => {
      const body = ctx.body as { client_id?: unknown; client_secret?: unknown; scope?: string | null } | null;
      if (!body || typeof body.client_id !== 'string' || typeof body.client_secret !== 'string') {
        throw new HttpError(400, 'InvalidRequest', 'The request body must hold client_id, client_secret and scope.');
      }
      const client = clients.get(body.client_id ?? '');
      if (!client || client.clientSecret !== body.client_secret) throw new HttpError(401, 'AuthenticationRequired', 'The client id or client secret is not valid.');
      const header = ctx.req.headers['client_id'];
      if (header !== undefined && header !== client.clientId) throw new HttpError(401, 'AuthenticationRequired', 'The Client_Id header does not match client_id.');
      const requested = (body.scope ?? '').split(/\s+/).filter(Boolean);
      const unknown = requested.filter((s) => !ALL_SCOPE_NAMES.has(s));
      if (unknown.length) throw new HttpError(400, 'InvalidParameter', `Unknown scope: ${unknown.join(', ')}.`);
      const granted = new Set(requested.length ? requested.filter((s) => client.scopes.has(s)) : client.scopes);
      return { status: 200, body: issueTokens(client, granted) };
    }, true);

    route('PublicBearerAuthentication_GetAccessTokenTokenFromRefreshToken', (ctx) => {
      if (typeof ctx.body !== 'string' || !ctx.body) throw new HttpError(400, 'InvalidRequest', 'The request body must be the refresh token as a JSON string.');
      const grant = refreshTokens.get(ctx.body);
      if (!grant || grant.expiresMs <= serverNow()) {
        refreshTokens.delete(ctx.body);
        throw new HttpError(401, 'AuthenticationRequired', 'The refresh token is not valid or has expired; log in again.');
      }
      const header = ctx.req.headers['client_id'];
      if (header !== grant.client.clientId) throw new HttpError(401, 'AuthenticationRequired', 'The Client_Id header is missing or does not match the refresh token.');
      refreshTokens.delete(ctx.body); // one use only
      return { status: 200, body: issueTokens(grant.client, grant.scopes) };
    }, true);

    route('HeartBeat_GetAuthorization', () => ({ status: 204 }));
  }

  function authenticate(req: IncomingMessage, op: SeveraOperation): TokenGrant {
    const clientId = req.headers['client_id'];
    const auth = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    if (typeof clientId !== 'string' || !clientId) throw new HttpError(401, 'AuthenticationRequired', 'The Client_Id header is missing.');
    if (!bearer) throw new HttpError(401, 'AuthenticationRequired', 'The Authorization header must carry a Bearer access token.');
    const found = accessTokens.get(bearer);
    if (!found) throw new HttpError(401, 'AuthenticationRequired', 'The access token is not valid.');
    if (found.expiresMs <= serverNow()) {
      accessTokens.delete(bearer);
      throw new HttpError(401, 'AuthenticationRequired', 'The access token has expired; refresh it.');
    }
    if (found.client.clientId !== clientId) throw new HttpError(401, 'AuthenticationRequired', 'The Client_Id header does not belong to the access token.');
    const missing = op.scopes.filter((s) => !found.scopes.has(s));
    if (missing.length) throw new HttpError(403, 'InsufficientApiScope', `The access token lacks the scope ${missing.join(', ')} this operation needs.`);
    return found;
  }

  return { addRoutes, authenticate };
}
