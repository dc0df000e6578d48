import net from 'node:net';
import tls from 'node:tls';
import ntlmClient from '@ewsjs/ntlm-client';

/**
 * A tunnel through an HTTP proxy: `CONNECT host:port`, answered 200, then the socket carries the connection to the
 * server (TLS on top for https). One tunnel per connection, so a login bound to a connection (NTLM to Exchange) stays
 * bound to it. The proxy's own login is handled here: Basic, or NTLM (negotiate and authenticate on the same
 * connection); a proxy that wants a login nobody gave, or a scheme this cannot do (Negotiate/Kerberos only), is a
 * ProxyError that says so and what to do.
 */

export interface ProxyCredentials {
  username: string;
  password: string;
}

export type ProxyAuthScheme = 'basic' | 'ntlm';

/** What went wrong on the way through a proxy: one sentence of what, one of what to do. */
export class ProxyError extends Error {
  readonly code: 'EPROXYCONNECT' | 'EPROXYAUTH' | 'EPROXYREFUSED' | 'EPROXYPROTOCOL';
  readonly fix: string;
  readonly proxyHost: string;
  constructor(code: ProxyError['code'], message: string, fix: string, proxyHost: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyError';
    this.code = code;
    this.fix = fix;
    this.proxyHost = proxyHost;
  }
}

// Every sentence the proxy tunnel says, in one place.
const TEXT = {
  unreachable: (proxy: string, why: string) => `The proxy ${proxy} cannot be reached (${why}).`,
  unreachableFix: 'Check the proxy address in the settings (Network) or the system proxy settings, or ask IT whether the proxy is running.',
  loginNeeded: (proxy: string, offered: string) => `The proxy ${proxy} asks for a login${offered ? ` (it offers ${offered})` : ''}, and none is set.`,
  loginNeededFix: 'Enter the proxy user name and password in the settings (Network); on the command line put them in the proxy variable: HTTPS_PROXY=http://user:password@proxy:port.',
  loginRefused: (proxy: string) => `The proxy ${proxy} refused the proxy user name and password.`,
  loginRefusedFix: 'Check the proxy user name and password in the settings (Network), or in HTTPS_PROXY on the command line.',
  schemeUnsupported: (proxy: string, offered: string) => `The proxy ${proxy} accepts only ${offered} logins, which this app cannot make.`,
  schemeUnsupportedFix: 'Ask IT for a Basic or NTLM proxy login for this computer, or for Severa and Exchange to be reachable without the proxy (add them to the bypass list).',
  refused: (proxy: string, target: string, status: number, reason: string) => `The proxy ${proxy} refused to connect to ${target} (HTTP ${status}${reason ? ` ${reason}` : ''}).`,
  refusedFix: 'Ask IT to allow this address through the proxy, or add it to the bypass list in the settings (Network) if it is reachable without the proxy.',
  garbled: (proxy: string) => `The proxy ${proxy} answered something that is not HTTP.`,
  garbledFix: 'Check the proxy address and port; it may point at another kind of service (a SOCKS proxy is not supported).',
  timeout: (proxy: string, seconds: number) => `The proxy ${proxy} did not open the connection within ${seconds} s.`,
};

interface ProxyAnswer {
  status: number;
  reason: string;
  headers: Record<string, string[]>;
  /** Bytes after the answer that belong to the tunnel. */
  rest: Buffer;
}

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 256 * 1024;

/** Reads one HTTP answer (head, and its body when it says how long it is) from a socket; resolves when complete. */
function readAnswer(socket: net.Socket, proxyName: string): Promise<ProxyAnswer> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    let head: { status: number; reason: string; headers: Record<string, string[]>; bodyStart: number } | null = null;
    const cleanup = () => {
      // Paused until the next reader (TLS, the HTTP client, another answer) takes over, so no byte is lost meanwhile.
      socket.pause();
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
    };
    const done = (answer: ProxyAnswer) => {
      cleanup();
      resolve(answer);
    };
    const fail = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onError = (error: Error) => fail(error);
    const onEnd = () => {
      if (head) done({ ...head, rest: Buffer.alloc(0) });
      else fail(new ProxyError('EPROXYPROTOCOL', TEXT.garbled(proxyName), TEXT.garbledFix, proxyName));
    };
    const tryBody = () => {
      if (!head) return;
      const length = Number(head.headers['content-length']?.[0] ?? (head.status === 200 ? 0 : NaN));
      if (Number.isFinite(length)) {
        if (buffer.length - head.bodyStart >= length) done({ status: head.status, reason: head.reason, headers: head.headers, rest: buffer.subarray(head.bodyStart + length) });
        return;
      }
      if ((head.headers['transfer-encoding']?.[0] ?? '').toLowerCase().includes('chunked')) {
        const end = buffer.indexOf('\r\n0\r\n\r\n', Math.max(0, head.bodyStart - 2));
        const empty = buffer.subarray(head.bodyStart, head.bodyStart + 5).toString('latin1') === '0\r\n\r\n';
        if (empty) done({ status: head.status, reason: head.reason, headers: head.headers, rest: buffer.subarray(head.bodyStart + 5) });
        else if (end >= 0) done({ status: head.status, reason: head.reason, headers: head.headers, rest: buffer.subarray(end + 7) });
        return;
      }
      // No length: the body runs until the proxy closes the connection (onEnd).
      if (buffer.length - head.bodyStart > MAX_BODY_BYTES) done({ status: head.status, reason: head.reason, headers: head.headers, rest: Buffer.alloc(0) });
    };
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!head) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buffer.length > MAX_HEAD_BYTES) fail(new ProxyError('EPROXYPROTOCOL', TEXT.garbled(proxyName), TEXT.garbledFix, proxyName));
          return;
        }
        const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
        const statusLine = /^HTTP\/\d(?:\.\d)?\s+(\d{3})\s*(.*)$/.exec(lines[0] ?? '');
        if (!statusLine) {
          fail(new ProxyError('EPROXYPROTOCOL', TEXT.garbled(proxyName), TEXT.garbledFix, proxyName));
          return;
        }
        const headers: Record<string, string[]> = {};
        for (const line of lines.slice(1)) {
          const i = line.indexOf(':');
          if (i <= 0) continue;
          const name = line.slice(0, i).trim().toLowerCase();
          (headers[name] ??= []).push(line.slice(i + 1).trim());
        }
        head = { status: Number(statusLine[1]), reason: statusLine[2].trim(), headers, bodyStart: end + 4 };
        if (head.status === 200) {
          done({ status: 200, reason: head.reason, headers, rest: buffer.subarray(head.bodyStart) });
          return;
        }
      }
      tryBody();
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.resume();
  });
}

/** The login schemes a 407 offers, e.g. ['ntlm', 'negotiate', 'basic'], and the NTLM challenge when there is one. */
function offeredSchemes(answer: ProxyAnswer): { schemes: string[]; ntlmChallenge: string | null } {
  const values = (answer.headers['proxy-authenticate'] ?? []).flatMap((v) => v.split(/,\s*(?=[A-Za-z-]+(?:\s|$))/));
  const schemes = values.map((v) => v.trim().split(/\s+/)[0].toLowerCase()).filter(Boolean);
  const ntlm = values.map((v) => v.trim()).find((v) => /^NTLM\s+\S+/i.test(v)) ?? null;
  return { schemes: [...new Set(schemes)], ntlmChallenge: ntlm };
}

const schemeNames = (schemes: string[]) => schemes.map((s) => ({ ntlm: 'NTLM', negotiate: 'Negotiate (Kerberos)', basic: 'Basic', digest: 'Digest' })[s] ?? s).join(', ');

export interface TunnelRequest {
  proxy: URL;
  /** The server the tunnel leads to. */
  host: string;
  port: number;
  credentials?: ProxyCredentials;
  /** Scheme that worked for this proxy before: sent at once, saving a round trip. */
  knownScheme?: ProxyAuthScheme;
  timeoutMs: number;
  /** Extra CA certificates for an https:// proxy. */
  ca?: string[];
}

export interface Tunnel {
  socket: net.Socket;
  /** The login scheme the proxy accepted, if it asked for one. */
  scheme?: ProxyAuthScheme;
}

/** NTLM account parts of a proxy user: DOMAIN\user or user@domain or user. */
function ntlmAccount(username: string): { domain: string; user: string } {
  const backslash = username.indexOf('\\');
  if (backslash > 0) return { domain: username.slice(0, backslash).toUpperCase(), user: username.slice(backslash + 1) };
  return { domain: '', user: username };
}

const WORKSTATION = 'SEVERA-SYNC';

/** Opens a CONNECT tunnel to host:port through the proxy, logging in to the proxy when it asks. */
export async function openTunnel(request: TunnelRequest): Promise<Tunnel> {
  const proxyName = request.proxy.host;
  const deadline = Date.now() + request.timeoutMs;
  const target = `${request.host.includes(':') && !request.host.startsWith('[') ? `[${request.host}]` : request.host}:${request.port}`;
  const creds = request.credentials ?? credentialsInUrl(request.proxy);

  const attempt = async (authorization: string | null, socket?: net.Socket): Promise<{ socket: net.Socket; answer: ProxyAnswer }> => {
    const s = socket ?? (await connectToProxy(request, Math.max(1, deadline - Date.now())));
    const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`, 'Proxy-Connection: keep-alive', 'Connection: keep-alive'];
    if (authorization) lines.push(`Proxy-Authorization: ${authorization}`);
    s.write(`${lines.join('\r\n')}\r\n\r\n`);
    const answer = await withDeadline(readAnswer(s, proxyName), deadline, () => {
      s.destroy();
      return new ProxyError('EPROXYCONNECT', TEXT.timeout(proxyName, Math.round(request.timeoutMs / 1000)), TEXT.unreachableFix, proxyName);
    });
    return { socket: s, answer };
  };
  const opened = (socket: net.Socket, answer: ProxyAnswer, scheme?: ProxyAuthScheme): Tunnel => {
    if (answer.rest.length > 0) socket.unshift(answer.rest);
    return { socket, ...(scheme ? { scheme } : {}) };
  };
  const refused = (socket: net.Socket, answer: ProxyAnswer): never => {
    socket.destroy();
    throw new ProxyError('EPROXYREFUSED', TEXT.refused(proxyName, target, answer.status, answer.reason), TEXT.refusedFix, proxyName);
  };

  const ntlm = async (socket?: net.Socket): Promise<Tunnel> => {
    const { domain, user } = ntlmAccount(creds!.username);
    const first = await attempt(ntlmClient.createType1Message(WORKSTATION, domain), socket);
    if (first.answer.status === 200) return opened(first.socket, first.answer, 'ntlm');
    const challenge = offeredSchemes(first.answer).ntlmChallenge;
    if (first.answer.status !== 407 || !challenge) {
      if (first.answer.status === 407) {
        first.socket.destroy();
        throw new ProxyError('EPROXYAUTH', TEXT.loginRefused(proxyName), TEXT.loginRefusedFix, proxyName);
      }
      return refused(first.socket, first.answer);
    }
    const type3 = ntlmClient.createType3Message(ntlmClient.decodeType2Message(challenge), user, creds!.password, WORKSTATION, domain);
    // The answer to the challenge must travel on the connection that received it.
    const reuse = !first.socket.destroyed && (first.answer.headers['proxy-connection'] ?? first.answer.headers.connection ?? [])[0]?.toLowerCase() !== 'close';
    const second = await attempt(type3, reuse ? first.socket : undefined);
    if (second.answer.status === 200) return opened(second.socket, second.answer, 'ntlm');
    if (second.answer.status === 407) {
      second.socket.destroy();
      throw new ProxyError('EPROXYAUTH', TEXT.loginRefused(proxyName), TEXT.loginRefusedFix, proxyName);
    }
    return refused(second.socket, second.answer);
  };
  const basic = async (): Promise<Tunnel> => {
    const token = Buffer.from(`${creds!.username}:${creds!.password}`, 'utf8').toString('base64');
    const { socket, answer } = await attempt(`Basic ${token}`);
    if (answer.status === 200) return opened(socket, answer, 'basic');
    if (answer.status === 407) {
      socket.destroy();
      throw new ProxyError('EPROXYAUTH', TEXT.loginRefused(proxyName), TEXT.loginRefusedFix, proxyName);
    }
    return refused(socket, answer);
  };

  if (creds && request.knownScheme === 'basic') return basic();
  if (creds && request.knownScheme === 'ntlm') return ntlm();

  const { socket, answer } = await attempt(null);
  if (answer.status === 200) return opened(socket, answer);
  if (answer.status !== 407) return refused(socket, answer);
  const { schemes } = offeredSchemes(answer);
  const keepAlive = (answer.headers['proxy-connection'] ?? answer.headers.connection ?? [])[0]?.toLowerCase() !== 'close';
  if (!creds) {
    socket.destroy();
    throw new ProxyError('EPROXYAUTH', TEXT.loginNeeded(proxyName, schemeNames(schemes)), TEXT.loginNeededFix, proxyName);
  }
  if (schemes.includes('ntlm')) return ntlm(keepAlive && !socket.destroyed ? socket : undefined);
  socket.destroy();
  if (schemes.includes('basic') || schemes.length === 0) return basic();
  throw new ProxyError('EPROXYAUTH', TEXT.schemeUnsupported(proxyName, schemeNames(schemes)), TEXT.schemeUnsupportedFix, proxyName);
}

/** User and password written into the proxy URL (http://user:password@proxy:3128), percent-decoded. */
export function credentialsInUrl(proxy: URL): ProxyCredentials | undefined {
  if (!proxy.username) return undefined;
  return { username: decodeURIComponent(proxy.username), password: decodeURIComponent(proxy.password) };
}

function connectToProxy(request: TunnelRequest, timeoutMs: number): Promise<net.Socket> {
  const proxyName = request.proxy.host;
  const host = request.proxy.hostname.replace(/^\[|\]$/g, '');
  const port = request.proxy.port ? Number(request.proxy.port) : request.proxy.protocol === 'https:' ? 443 : 80;
  return new Promise((resolve, reject) => {
    const secure = request.proxy.protocol === 'https:';
    const socket = secure
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...(request.ca ? { ca: request.ca } : {}) })
      : net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ProxyError('EPROXYCONNECT', TEXT.timeout(proxyName, Math.round(timeoutMs / 1000)), TEXT.unreachableFix, proxyName));
    }, timeoutMs);
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = error.code === 'ECONNREFUSED' ? 'connection refused' : error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN' ? 'host name not found' : (error.code ?? error.message);
      reject(new ProxyError('EPROXYCONNECT', TEXT.unreachable(proxyName, why), TEXT.unreachableFix, proxyName, { cause: error }));
    });
  });
}

function withDeadline<T>(work: Promise<T>, deadline: number, onTimeout: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), Math.max(1, deadline - Date.now()));
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
