/**
 * Microsoft identity platform error answers: `error`, `error_description` beginning `AADSTSnnnnn: ` and ending with the
 * trace id, correlation id and timestamp lines, `error_codes`, `timestamp` ("2026-12-03 10:15:00Z"), `trace_id`,
 * `correlation_id`, `error_uri`. The wording follows the messages Entra ID gives for these codes.
 */
import { randomUUID } from 'node:crypto';

export class AadstsError extends Error {
  readonly status: number;
  readonly error: string;
  readonly aadsts: number;
  constructor(status: number, error: string, aadsts: number, message: string) {
    super(message);
    this.status = status;
    this.error = error;
    this.aadsts = aadsts;
  }
}

export function aadstsBody(e: AadstsError, correlationId: string | null, nowMs: number): Record<string, unknown> {
  const trace = randomUUID();
  const corr = correlationId ?? randomUUID();
  const stamp = new Date(nowMs).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
  return {
    error: e.error,
    error_description: `AADSTS${e.aadsts}: ${e.message} Trace ID: ${trace} Correlation ID: ${corr} Timestamp: ${stamp}`,
    error_codes: [e.aadsts],
    timestamp: stamp,
    trace_id: trace,
    correlation_id: corr,
    error_uri: `https://login.microsoftonline.com/error?code=${e.aadsts}`,
  };
}

export const AAD = {
  tenantNotFound: (t: string) =>
    new AadstsError(400, 'invalid_tenant', 90002, `Tenant '${t}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`),
  appNotFound: (id: string, tenantName: string) =>
    new AadstsError(400, 'unauthorized_client', 700016, `Application with identifier '${id}' was not found in the directory '${tenantName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`),
  wrongSecret: (appId: string) =>
    new AadstsError(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.`),
  expiredSecret: (appId: string) =>
    new AadstsError(401, 'invalid_client', 7000222, `The provided client secret keys for app '${appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`),
  credentialMissing: () => new AadstsError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."),
  assertionMalformed: () => new AadstsError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.'),
  assertionKeyNotFound: (thumb: string, appId: string) =>
    new AadstsError(401, 'invalid_client', 700027, `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${thumb}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${appId}'.]`),
  assertionBadSignature: (thumb: string) =>
    new AadstsError(401, 'invalid_client', 700027, `Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '${thumb}', Found key 'Start=..., End=...']`),
  assertionKeyExpired: (thumb: string) =>
    new AadstsError(401, 'invalid_client', 700027, `Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '${thumb}']`),
  assertionAudience: (aud: string) => new AadstsError(401, 'invalid_client', 50012, `Client assertion audience claim does not match Realm issuer. Audience: '${aud}'.`),
  assertionSubject: () => new AadstsError(401, 'invalid_client', 700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials ."),
  assertionTime: (nowS: number, nbf: unknown, exp: unknown) =>
    new AadstsError(401, 'invalid_client', 700024, `Client assertion is not within its valid time range. Current time: ${new Date(nowS * 1000).toISOString()}, assertion valid from ${typeof nbf === 'number' ? new Date(nbf * 1000).toISOString() : 'unset'}, expiry time of assertion ${typeof exp === 'number' ? new Date(exp * 1000).toISOString() : 'unset'}. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .`),
  scopeNotDefault: (scope: string) =>
    new AadstsError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`),
  resourceNotFound: (resource: string, tenantName: string) =>
    new AadstsError(400, 'invalid_resource', 500011, `The resource principal named ${resource} was not found in the tenant named ${tenantName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`),
  consentMissing: (appId: string, appName: string) =>
    new AadstsError(400, 'invalid_grant', 65001, `The user or administrator has not consented to use the application with ID '${appId}' named '${appName}'. Send an interactive authorization request for this user and resource.`),
  unsupportedGrant: (g: string) => new AadstsError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${g}'.`),
  missingParameter: (p: string) => new AadstsError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${p}'.`),
  badCode: () => new AadstsError(400, 'invalid_grant', 70000, 'The provided value for the input parameter \'code\' is not valid. The code has expired or was already redeemed.'),
  redirectMismatch: (uri: string, appId: string) =>
    new AadstsError(400, 'invalid_request', 50011, `The redirect URI '${uri}' specified in the request does not match the redirect URIs configured for the application '${appId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.`),
  pkceMismatch: () => new AadstsError(400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.'),
  pkceMissing: () => new AadstsError(400, 'invalid_request', 50148, 'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.'),
  badRefreshToken: () => new AadstsError(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid: the refresh token is not valid.'),
  expiredRefreshToken: () => new AadstsError(400, 'invalid_grant', 700082, 'The refresh token has expired due to inactivity.'),
  pending: () => new AadstsError(400, 'authorization_pending', 70016, 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.'),
  deviceCodeExpired: () => new AadstsError(400, 'expired_token', 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired."),
  deviceCodeUnknown: () => new AadstsError(400, 'invalid_grant', 70019, 'Verification code expired or not valid.'),
  wrongPassword: () => new AadstsError(400, 'invalid_grant', 50126, 'Error validating credentials due to invalid username or password.'),
  userNotFound: (u: string) => new AadstsError(400, 'invalid_grant', 50034, `The user account ${u} does not exist in the directory. To sign into this application, the account must be added to the directory.`),
  accountDisabled: () => new AadstsError(400, 'invalid_grant', 50057, 'The user account is disabled.'),
  publicFlowsDisabled: () => new AadstsError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."),
};
