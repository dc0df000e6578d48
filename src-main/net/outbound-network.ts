import http from 'node:http';
import { createHash } from 'node:crypto';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { DIRECT, describeRoute, directResolver, environmentResolver, portOf } from './proxy-routes.ts';
import type { ProxyResolver, ProxyRoute } from './proxy-routes.ts';
import { ProxyError, credentialsInUrl, openTunnel } from './proxy-tunnel.ts';
import type { ProxyAuthScheme, ProxyCredentials } from './proxy-tunnel.ts';

/**
 * The one way the product's outbound connections are made (Severa, Microsoft Graph and its sign-in, EWS): node:http(s)
 * agents whose every new connection first asks the proxy resolver how to reach the target (direct, or a CONNECT tunnel
 * through a proxy, logging in to it when it asks) and then connects that way. Keep-alive pools and single-socket agents
 * (EWS's NTLM binding) work as with plain agents: one tunnel per connection.
 */

export interface AgentOptions {
  /** Trusted CA certificates (PEM) for TLS to the servers, replacing the defaults (pass the roots too to add). */
  ca?: string[];
  keepAlive?: boolean;
  maxSockets?: number;
}

export interface AgentPair {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  destroy(): void;
}

export interface OutboundNetwork {
  /** A pair of agents that reach every target the way the resolver says. */
  agents(options?: AgentOptions): AgentPair;
  /** The routes for a target, best first (for checks and messages). */
  routes(target: URL): Promise<ProxyRoute[]>;
}

export interface OutboundNetworkOptions {
  resolver: ProxyResolver;
  /** The proxy login for proxies whose URL carries none (the settings' user name and the keychain's password). */
  credentials?: () => Promise<ProxyCredentials | undefined>;
  /** How long opening a tunnel may take (default 30 s, or the request's own timeout). */
  tunnelTimeoutMs?: number;
}

type ConnectOptions = http.ClientRequestArgs & tls.ConnectionOptions & { timeout?: number };
type Callback = (err: Error | null, stream: Duplex) => void;

/** Opens one connection (plain or TLS) to the target the options name, through the first route that works. */
function connector(options: OutboundNetworkOptions, knownSchemes: Map<string, ProxyAuthScheme>) {
  let credentials: Promise<ProxyCredentials | undefined> | null = null;
  const loadCredentials = () => (credentials ??= (options.credentials?.() ?? Promise.resolve(undefined)).catch(() => undefined));

  return async (connect: ConnectOptions, secure: boolean, direct: () => Duplex): Promise<Duplex> => {
    const host = String(connect.host ?? connect.hostname ?? 'localhost');
    const port = Number(connect.port ?? (secure ? 443 : 80));
    const target = new URL(`${secure ? 'https' : 'http'}://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}/`);
    let routes: ProxyRoute[];
    try {
      routes = await options.resolver(target);
    } catch {
      routes = [DIRECT];
    }
    let lastError: unknown = null;
    for (const route of routes.length > 0 ? routes : [DIRECT]) {
      if (route.kind === 'direct') return direct();
      const proxyKey = route.proxy.host;
      try {
        const tunnel = await openTunnel({
          proxy: route.proxy,
          host,
          port,
          credentials: credentialsInUrl(route.proxy) ?? (await loadCredentials()),
          knownScheme: knownSchemes.get(proxyKey),
          timeoutMs: options.tunnelTimeoutMs ?? connect.timeout ?? 30_000,
          ...(connect.ca ? { ca: ([] as string[]).concat(connect.ca as string | string[]) } : {}),
        });
        if (tunnel.scheme) knownSchemes.set(proxyKey, tunnel.scheme);
        // The tunnel comes paused (nothing may be lost between the proxy's answer and the next reader); the server says
        // nothing before the request is written, by which time the HTTP client listens.
        if (!secure) return tunnel.socket.resume();
        return tls.connect({ ...connect, socket: tunnel.socket, servername: connect.servername ?? (/^[\d.:[\]]+$/.test(host) ? undefined : host) });
      } catch (error) {
        lastError = error;
        // An unreachable proxy gives way to the next route the system named (PAC failover); any other answer stands.
        if (!(error instanceof ProxyError && error.code === 'EPROXYCONNECT')) throw error;
      }
    }
    throw lastError ?? new Error('no route');
  };
}

const caDigests = new WeakMap<object, string>();

/** A short digest of a list of trusted certificates (or one), computed once per list. */
function caDigest(ca: NonNullable<https.RequestOptions['ca']>): string {
  const list = typeof ca === 'object' && !Buffer.isBuffer(ca) ? ca : null;
  const known = list ? caDigests.get(list) : undefined;
  if (known) return known;
  const hash = createHash('sha256');
  for (const cert of list ?? [ca]) hash.update(typeof cert === 'string' ? cert : Buffer.isBuffer(cert) ? cert : JSON.stringify(cert)).update('\0');
  const digest = hash.digest('base64url').slice(0, 22);
  if (list) caDigests.set(list, digest);
  return digest;
}

function once(callback: Callback): Callback {
  let called = false;
  return (err, stream) => {
    if (called) return;
    called = true;
    callback(err, stream);
  };
}

export function createOutboundNetwork(options: OutboundNetworkOptions): OutboundNetwork {
  const knownSchemes = new Map<string, ProxyAuthScheme>();
  const open = connector(options, knownSchemes);

  class RoutedHttpAgent extends http.Agent {
    override createConnection(connect: http.ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
      const done = once(callback ?? (() => {}));
      open(connect as ConnectOptions, false, () => super.createConnection(connect) as Duplex).then(
        (socket) => done(null, socket),
        (error: Error) => done(error, undefined as unknown as Duplex),
      );
      return undefined;
    }
  }
  class RoutedHttpsAgent extends https.Agent {
    /**
     * The key under which the agent pools connections. Node's own appends the trusted certificates as text: with the
     * system's roots and an added CA that is some 200 kB built and hashed on every request (a tenth of the sync's CPU
     * in the bench). The same key with the certificates named by a digest, computed once per list.
     */
    override getName(options?: https.RequestOptions): string {
      if (!options?.ca) return super.getName(options);
      const { ca, ...rest } = options;
      return `${super.getName(rest)}:ca-${caDigest(ca)}`;
    }

    override createConnection(connect: http.ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
      const done = once(callback ?? (() => {}));
      open(connect as ConnectOptions, true, () => super.createConnection(connect) as Duplex).then(
        (socket) => done(null, socket),
        (error: Error) => done(error, undefined as unknown as Duplex),
      );
      return undefined;
    }
  }

  return {
    agents(agentOptions = {}) {
      // Idle kept connections close after a minute: the app runs for weeks and makes new agents each cycle.
      const keepAlive = agentOptions.keepAlive ?? true;
      const common = { keepAlive, ...(keepAlive ? { timeout: 60_000 } : {}), ...(agentOptions.maxSockets ? { maxSockets: agentOptions.maxSockets } : {}) };
      const httpAgent = new RoutedHttpAgent(common);
      const httpsAgent = new RoutedHttpsAgent({ ...common, ...(agentOptions.ca ? { ca: agentOptions.ca } : {}) });
      return {
        httpAgent,
        httpsAgent,
        destroy() {
          httpAgent.destroy();
          httpsAgent.destroy();
        },
      };
    },
    async routes(target) {
      try {
        const routes = await options.resolver(target);
        return routes.length > 0 ? routes : [DIRECT];
      } catch {
        return [DIRECT];
      }
    },
  };
}

/** No proxy at all. */
export const directNetwork: OutboundNetwork = createOutboundNetwork({ resolver: directResolver });

/** The command line's network: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY from the environment. */
export function environmentNetwork(env: Record<string, string | undefined> = process.env, credentials?: OutboundNetworkOptions['credentials']): OutboundNetwork {
  return createOutboundNetwork({ resolver: environmentResolver(env), ...(credentials ? { credentials } : {}) });
}

/** How a target is reached, in words: "direct" or "through the proxy proxy.corp:8080 (HTTPS_PROXY)". */
export async function describeRouteTo(network: OutboundNetwork, target: URL): Promise<string> {
  const [first] = await network.routes(new URL(`${target.protocol}//${target.host}/`));
  return describeRoute(first ?? DIRECT);
}

export { portOf };
