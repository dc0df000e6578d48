import https from 'node:https';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeTransport, TransportFailure } from '../../src-main/net/http-transport.ts';
import type { TransportRequest } from '../../src-main/net/http-transport.ts';
import { createOutboundNetwork, environmentNetwork } from '../../src-main/net/outbound-network.ts';
import { manualResolver, pacResolver } from '../../src-main/net/proxy-routes.ts';
import { createTestCa } from '../peers/graph/test-ca.ts';
import { startCountingProxy } from './counting-proxy.ts';
import type { CountingProxy } from './counting-proxy.ts';

/**
 * The outbound network against a real TLS server with its own CA, through the loopback counting proxy: tunnels, keep-alive
 * reuse, the proxy logins (Basic, NTLM, none given, Negotiate only), the bypass list and PAC failover. The server's host
 * name exists only in the proxy (`api.proxy-only.test`), so an answer proves the request went through the proxy.
 */

const ca = createTestCa('outbound-network test CA');
let server: https.Server;
let plain: http.Server;
let port: number;
let plainPort: number;
const proxies: CountingProxy[] = [];

beforeAll(async () => {
  const cert = ca.issueServerCertificate(['api.proxy-only.test', '127.0.0.1']);
  server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => res.end(`hello ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  plain = http.createServer((req, res) => res.end(`plain ${req.url}`));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  plainPort = (plain.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const p of proxies) await p.close();
  server.closeAllConnections();
  plain.closeAllConnections();
  await new Promise((r) => server.close(r));
  await new Promise((r) => plain.close(r));
});

async function proxy(options: Parameters<typeof startCountingProxy>[0] = {}): Promise<CountingProxy> {
  const p = await startCountingProxy({ hosts: { 'api.proxy-only.test': '127.0.0.1' }, ...options });
  proxies.push(p);
  return p;
}

const get = (url: string): TransportRequest => ({ method: 'GET', url: new URL(url), headers: {}, timeoutMs: 10_000, maxResponseBytes: 1_000_000 });

describe('trusted certificates', () => {
  it('pools connections under a short key that names the trusted certificates by digest: the same list, the same key; another list, another', () => {
    const network = createOutboundNetwork({ resolver: async () => [{ kind: 'direct' }] });
    const other = createTestCa('another test CA');
    const name = (agent: https.Agent) => agent.getName({ host: 'mail.contoso.example', port: 443 });
    const a = network.agents({ ca: [ca.certPem] }).httpsAgent;
    const b = network.agents({ ca: [ca.certPem] }).httpsAgent;
    const c = network.agents({ ca: [other.certPem] }).httpsAgent;
    const merged = (agent: https.Agent) => agent.getName({ host: 'mail.contoso.example', port: 443, ...(agent.options as https.RequestOptions) });
    expect(merged(a)).toBe(merged(b));
    expect(merged(a)).not.toBe(merged(c));
    expect(merged(a).length).toBeLessThan(200);
    expect(merged(a)).not.toContain('BEGIN CERTIFICATE');
    expect(name(a)).toBe(name(network.agents({}).httpsAgent));
  });

  it('a server whose certificate no trusted CA signed is refused (the extra CA is needed, not merely allowed)', async () => {
    const send = nodeTransport(undefined, createOutboundNetwork({ resolver: async () => [{ kind: 'direct' }] }));
    await expect(send(get(`https://127.0.0.1:${port}/`))).rejects.toMatchObject({ kind: 'tls' });
    const trusting = nodeTransport(ca.certPem, createOutboundNetwork({ resolver: async () => [{ kind: 'direct' }] }));
    expect((await trusting(get(`https://127.0.0.1:${port}/x`))).body.toString()).toBe('hello /x');
  });
});

describe('outbound network through a loopback proxy', () => {
  it('tunnels https with CONNECT, trusts the extra CA, and keeps one tunnel for a keep-alive connection', async () => {
    const p = await proxy();
    const send = nodeTransport(ca.certPem, createOutboundNetwork({ resolver: manualResolver(p.url, '') }));
    for (const path of ['/a', '/b', '/c']) {
      const res = await send(get(`https://api.proxy-only.test:${port}${path}`));
      expect(res.body.toString()).toBe(`hello ${path}`);
    }
    expect(p.countFor('api.proxy-only.test')).toBe(1);
  });

  it('the host does not resolve without the proxy (so the answers above came through it)', async () => {
    const send = nodeTransport(ca.certPem, createOutboundNetwork({ resolver: async () => [{ kind: 'direct' }] }));
    await expect(send(get(`https://api.proxy-only.test:${port}/`))).rejects.toMatchObject({ kind: 'dns' });
  });

  it('plain http targets go through a tunnel as well', async () => {
    const p = await proxy({ hosts: { 'plain.proxy-only.test': '127.0.0.1' } });
    const send = nodeTransport(undefined, createOutboundNetwork({ resolver: manualResolver(p.url, '') }));
    expect((await send(get(`http://plain.proxy-only.test:${plainPort}/x`))).body.toString()).toBe('plain /x');
    expect(p.countFor('plain.proxy-only.test')).toBe(1);
  });

  it('HTTPS_PROXY and NO_PROXY from the environment (the command line)', async () => {
    const p = await proxy();
    const viaEnv = nodeTransport(ca.certPem, environmentNetwork({ HTTPS_PROXY: p.url }));
    expect((await viaEnv(get(`https://api.proxy-only.test:${port}/env`))).status).toBe(200);
    expect(p.countFor('api.proxy-only.test')).toBe(1);
    const bypassed = nodeTransport(ca.certPem, environmentNetwork({ HTTPS_PROXY: p.url, NO_PROXY: '127.0.0.1' }));
    expect((await bypassed(get(`https://127.0.0.1:${port}/direct`))).body.toString()).toBe('hello /direct');
    expect(p.total()).toBe(1);
  });

  it('Basic proxy login: none given is named with the fix; the user and password in the proxy URL log in; wrong ones are refused', async () => {
    const p = await proxy({ login: { kind: 'basic', username: 'aino', password: 'proxy-pass' } });
    const noLogin = nodeTransport(ca.certPem, createOutboundNetwork({ resolver: manualResolver(p.url, '') }));
    const failure = await noLogin(get(`https://api.proxy-only.test:${port}/`)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TransportFailure);
    expect(failure).toMatchObject({ kind: 'proxy', message: `The proxy 127.0.0.1:${p.port} asks for a login (it offers Basic), and none is set.` });
    expect((failure as TransportFailure).fix).toMatch(/proxy user name and password in the settings \(Network\)/);

    const withLogin = nodeTransport(ca.certPem, createOutboundNetwork({ resolver: manualResolver(`http://aino:proxy-pass@127.0.0.1:${p.port}`, '') }));
    expect((await withLogin(get(`https://api.proxy-only.test:${port}/in`))).body.toString()).toBe('hello /in');

    const wrong = nodeTransport(ca.certPem, createOutboundNetwork({ resolver: manualResolver(p.url, ''), credentials: async () => ({ username: 'aino', password: 'nope' }) }));
    await expect(wrong(get(`https://api.proxy-only.test:${port}/`))).rejects.toMatchObject({ kind: 'proxy', message: `The proxy 127.0.0.1:${p.port} refused the proxy user name and password.` });
  });

  it('NTLM proxy login (DOMAIN\\user): negotiate and authenticate on one connection; later tunnels log in at once', async () => {
    const p = await proxy({ login: { kind: 'ntlm', domain: 'CONTOSO', username: 'aino', password: 'proxy-pass' } });
    const network = createOutboundNetwork({ resolver: manualResolver(p.url, ''), credentials: async () => ({ username: 'CONTOSO\\aino', password: 'proxy-pass' }) });
    const first = nodeTransport(ca.certPem, network);
    expect((await first(get(`https://api.proxy-only.test:${port}/ntlm`))).body.toString()).toBe('hello /ntlm');
    // The first tunnel asked without a login, then with NTLM's negotiate message.
    expect(p.challenged).toEqual(['', 'ntlm']);
    const second = nodeTransport(ca.certPem, network);
    expect((await second(get(`https://api.proxy-only.test:${port}/again`))).status).toBe(200);
    // Known to want NTLM: the negotiate message goes with the first CONNECT.
    expect(p.challenged).toEqual(['', 'ntlm', 'ntlm']);
    expect(p.countFor('api.proxy-only.test')).toBe(2);
  });

  it('a proxy that accepts only Negotiate (Kerberos) is named as such', async () => {
    const p = await proxy({ login: { kind: 'negotiate-only' } });
    const send = nodeTransport(ca.certPem, createOutboundNetwork({ resolver: manualResolver(p.url, ''), credentials: async () => ({ username: 'aino', password: 'x' }) }));
    const failure = (await send(get(`https://api.proxy-only.test:${port}/`)).catch((e: unknown) => e)) as TransportFailure;
    expect(failure.message).toBe(`The proxy 127.0.0.1:${p.port} accepts only Negotiate (Kerberos) logins, which this app cannot make.`);
    expect(failure.fix).toMatch(/Basic or NTLM proxy login/);
  });

  it('PAC failover: an unreachable first proxy gives way to the next one', async () => {
    const p = await proxy();
    const dead = await proxy();
    await dead.close();
    const send = nodeTransport(ca.certPem, createOutboundNetwork({ resolver: pacResolver(async () => `PROXY 127.0.0.1:${dead.port}; PROXY 127.0.0.1:${p.port}`) }));
    expect((await send(get(`https://api.proxy-only.test:${port}/pac`))).status).toBe(200);
    expect(p.countFor('api.proxy-only.test')).toBe(1);
  });

  it('an unreachable proxy (and nothing after it) says which proxy and what to check', async () => {
    const dead = await proxy();
    await dead.close();
    const send = nodeTransport(ca.certPem, createOutboundNetwork({ resolver: manualResolver(dead.url, '') }));
    await expect(send(get(`https://api.proxy-only.test:${port}/`))).rejects.toMatchObject({ kind: 'proxy', message: `The proxy 127.0.0.1:${dead.port} cannot be reached (connection refused).` });
  });
});
