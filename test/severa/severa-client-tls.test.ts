import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeveraClient, SeveraError } from '../../src-main/severa/severa-client.ts';

/** openssl makes a throw-away self-signed certificate for 127.0.0.1; without it there is nothing to test TLS with. */
function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasOpenssl())('SeveraClient over TLS (skipped only where openssl is missing)', () => {
  let dir: string;
  let cert: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'severa-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (req.url?.endsWith('/v1/token')) res.end(JSON.stringify({ access_token: 'tls-access', access_token_expires_in: 3600 }));
      else res.end(JSON.stringify([{ guid: 'u1', firstName: 'Aino', lastName: 'Virtanen', email: 'aino.virtanen@contoso.example' }]));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}/rest-api`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a certificate nobody vouches for, with a tls error that says what to do', async () => {
    const client = new SeveraClient({ baseUrl: base, clientId: 'x', clientSecret: 'demo-secret', maxRetries: 1, backoffBaseMs: 5 });
    const error = await client.listUsers().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SeveraError);
    expect((error as SeveraError).code).toBe('tls');
    expect((error as SeveraError).message).toMatch(/CA certificate/);
  });

  it('trusts the server once its CA certificate is configured', async () => {
    const client = new SeveraClient({ baseUrl: base, clientId: 'x', clientSecret: 'demo-secret', caCertificates: cert });
    const users = await client.listUsers();
    expect(users.map((u) => u.email)).toEqual(['aino.virtanen@contoso.example']);
  });

  it('will not combine extra CA certificates with a custom fetch', () => {
    expect(() => new SeveraClient({ baseUrl: base, clientId: 'x', clientSecret: 'y', caCertificates: cert, fetch })).toThrow(/CA certificates/);
  });
});
