import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { buildType2, parseType1, parseType3, verifyNtlmV2 } from '../peers/ews/ntlm.ts';
import type { NtlmChallengeState } from '../peers/ews/ntlm.ts';

/**
 * A small HTTP proxy for the tests, on loopback: CONNECT tunnels (what the product uses for every request) and plain
 * forwarding of absolute-form requests, each counted per target. It can ask for a proxy login (Basic, NTLM verified
 * with NTLMv2, or Negotiate only, which the product cannot make), and it resolves host names of its own
 * (`hosts`: e.g. severa.proxy-only.test -> 127.0.0.1) that nothing else can: a client that reaches such a host proves
 * it went through this proxy.
 */

export type ProxyLogin =
  | { kind: 'none' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'ntlm'; domain: string; username: string; password: string }
  | { kind: 'negotiate-only' };

export interface CountingProxy {
  port: number;
  url: string;
  /** Tunnels opened (CONNECT answered 200) and requests forwarded, per "host:port" as the client named it. */
  relayed: Map<string, number>;
  /** CONNECT requests refused with 407, with the Proxy-Authorization scheme they carried ('' when none). */
  challenged: string[];
  /** Total tunnels + forwarded requests. */
  total(): number;
  /** Relays to targets whose host name or port matches. */
  countFor(match: string | number): number;
  close(): Promise<void>;
}

export async function startCountingProxy(options: { login?: ProxyLogin; hosts?: Record<string, string> } = {}): Promise<CountingProxy> {
  const login = options.login ?? { kind: 'none' };
  const relayed = new Map<string, number>();
  const challenged: string[] = [];
  const sockets = new Set<net.Socket>();
  const count = (target: string) => relayed.set(target, (relayed.get(target) ?? 0) + 1);
  const mapHost = (host: string) => options.hosts?.[host.toLowerCase()] ?? host;

  /** Whether this connection's Proxy-Authorization is accepted; answers 407 (with a challenge) when not. */
  const authorize = (socket: net.Socket & { ntlmState?: NtlmChallengeState }, header: string | undefined): 'ok' | 'challenged' => {
    if (login.kind === 'none') return 'ok';
    const [scheme = '', token = ''] = (header ?? '').split(/\s+/, 2);
    const deny = (authenticate: string[]) => {
      challenged.push(scheme.toLowerCase());
      const lines = ['HTTP/1.1 407 Proxy Authentication Required', ...authenticate.map((a) => `Proxy-Authenticate: ${a}`), 'Content-Length: 0', 'Proxy-Connection: keep-alive'];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      return 'challenged' as const;
    };
    if (login.kind === 'negotiate-only') return deny(['Negotiate']);
    if (login.kind === 'basic') {
      if (scheme.toLowerCase() === 'basic' && Buffer.from(token, 'base64').toString('utf8') === `${login.username}:${login.password}`) return 'ok';
      return deny(['Basic realm="test proxy"']);
    }
    if (scheme.toLowerCase() !== 'ntlm' || !token) return deny(['NTLM', 'Basic realm="test proxy"']);
    try {
      const bytes = Buffer.from(token, 'base64');
      const type = bytes.readUInt32LE(8);
      if (type === 1) {
        const { token: type2, state } = buildType2(parseType1(bytes).flags, { netbiosDomain: login.domain, dnsDomain: 'proxy.test', netbiosComputer: 'PROXY' });
        socket.ntlmState = state;
        return deny([`NTLM ${type2.toString('base64')}`]);
      }
      const type3 = parseType3(bytes);
      const ok = socket.ntlmState && type3.user.toLowerCase() === login.username.toLowerCase() && type3.domain.toUpperCase() === login.domain.toUpperCase() && verifyNtlmV2(type3, socket.ntlmState, login.password);
      return ok ? 'ok' : deny(['NTLM']);
    } catch {
      return deny(['NTLM']);
    }
  };

  const server = net.createServer((client: net.Socket & { ntlmState?: NtlmChallengeState }) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString('latin1');
      const rest = buffer.subarray(end + 4);
      buffer = Buffer.alloc(0);
      const [requestLine, ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const [method, target] = requestLine.split(' ');
      if (authorize(client, headers['proxy-authorization']) === 'challenged') return;
      client.off('data', onData);
      if (method === 'CONNECT') {
        const i = target.lastIndexOf(':');
        const host = target.slice(0, i).replace(/^\[|\]$/g, '');
        const upstream = net.connect(Number(target.slice(i + 1)), mapHost(host));
        sockets.add(upstream);
        upstream.on('close', () => sockets.delete(upstream));
        upstream.once('connect', () => {
          count(target);
          client.write('HTTP/1.1 200 Connection established\r\n\r\n');
          if (rest.length) upstream.write(rest);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        upstream.on('error', () => {
          if (!client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
        });
        client.on('close', () => upstream.destroy());
        return;
      }
      // Forwarding: an absolute-form request for a plain http:// target.
      const url = new URL(target);
      const { 'proxy-authorization': _auth, 'proxy-connection': _pc, ...forwarded } = headers;
      const upstream = http.request({ host: mapHost(url.hostname), port: url.port || 80, method, path: `${url.pathname}${url.search}`, headers: forwarded }, (res) => {
        count(url.host);
        client.write(`HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n${Object.entries(res.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\nConnection: close\r\n\r\n`);
        res.pipe(client);
      });
      upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
      upstream.end(rest);
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    relayed,
    challenged,
    total: () => [...relayed.values()].reduce((a, b) => a + b, 0),
    countFor: (match) => [...relayed.entries()].filter(([target]) => (typeof match === 'number' ? target.endsWith(`:${match}`) : target.startsWith(`${match}:`) || target === match)).reduce((n, [, c]) => n + c, 0),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
