/**
 * Compact JWS (RFC 7515/7519) as the identity platform uses it: RS256 and PS256 with RSA keys. The simulator signs its
 * access and ID tokens with one RSA key (published at the tenant's jwks_uri) and checks the RS256/PS256 client assertions
 * apps sign with their registered certificate's key.
 */
import { constants, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export type JwtAlgorithm = 'RS256' | 'PS256';

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

export class JwtFormatError extends Error {}

/** Splits and parses a compact JWS without checking anything; throws JwtFormatError on a malformed one. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new JwtFormatError('not a compact JWS (three base64url parts)');
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw new JwtFormatError('header or payload is not base64url JSON');
  }
  if (typeof header !== 'object' || header === null || typeof payload !== 'object' || payload === null) throw new JwtFormatError('header or payload is not a JSON object');
  return {
    header: header as Record<string, unknown>,
    payload: payload as Record<string, unknown>,
    signingInput: `${parts[0]}.${parts[1]}`,
    signature: Buffer.from(parts[2], 'base64url'),
  };
}

function signOptions(alg: JwtAlgorithm, key: KeyObject) {
  return alg === 'PS256' ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : { key, padding: constants.RSA_PKCS1_PADDING };
}

export function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject, alg: JwtAlgorithm = 'RS256'): string {
  const input = `${base64url(JSON.stringify({ typ: 'JWT', ...header, alg }))}.${base64url(JSON.stringify(payload))}`;
  return `${input}.${base64url(sign('sha256', Buffer.from(input), signOptions(alg, key)))}`;
}

/** Checks the signature for the header's alg (RS256 or PS256 only). */
export function verifyJwtSignature(jwt: DecodedJwt, key: KeyObject): boolean {
  const alg = jwt.header.alg;
  if (alg !== 'RS256' && alg !== 'PS256') return false;
  if (key.asymmetricKeyType !== 'rsa') return false;
  const opts = alg === 'PS256' ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO } : { key, padding: constants.RSA_PKCS1_PADDING };
  try {
    return verify('sha256', Buffer.from(jwt.signingInput), opts, jwt.signature);
  } catch {
    return false;
  }
}

/** A JWK (RFC 7517) of an RSA public key, with the fields Entra's keys endpoint has. */
export function rsaJwk(key: KeyObject, kid: string, x5c?: string): Record<string, unknown> {
  const jwk = createPublicKey(key).export({ format: 'jwk' }) as { n: string; e: string };
  return { kty: 'RSA', use: 'sig', kid, x5t: kid, n: jwk.n, e: jwk.e, ...(x5c ? { x5c: [x5c] } : {}) };
}
