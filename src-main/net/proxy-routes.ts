import net from 'node:net';

/**
 * Which way an outbound request goes: straight to the server, or through an HTTP proxy (tunnelled with CONNECT). Pure:
 * the answers of a proxy source (Electron's `session.resolveProxy`, PAC and WPAD included; the environment's
 * HTTPS_PROXY / NO_PROXY; a proxy typed into the settings) become a list of routes to try in order.
 */

export type ProxyRoute =
  | { kind: 'direct' }
  | {
      kind: 'proxy';
      /** http://host:port or https://host:port (TLS to the proxy itself); user and password when the source names them. */
      proxy: URL;
      /** Where this proxy comes from, for messages: 'the system proxy settings', 'HTTPS_PROXY', 'the app settings'. */
      source: string;
    };

/** The routes to try for one target, best first. Never rejects: a source that fails answers DIRECT and says why in `note`. */
export type ProxyResolver = (target: URL) => Promise<ProxyRoute[]>;

export const DIRECT: ProxyRoute = { kind: 'direct' };

export const directResolver: ProxyResolver = async () => [DIRECT];

/** A proxy address as typed or found in a variable: "proxy:3128" means http://proxy:3128. Null when unusable. */
export function parseProxyUrl(text: string): URL | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return null;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) return null;
  return url;
}

/** The port a URL talks to (its own or the scheme's default). */
export function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/**
 * A PAC answer ("PROXY a:8080; HTTPS b:443; DIRECT"), as `session.resolveProxy` returns it, as routes. SOCKS entries
 * are skipped (not supported here); an answer with nothing usable left is DIRECT.
 */
export function routesFromPacResult(result: string, source = 'the system proxy settings'): ProxyRoute[] {
  const routes: ProxyRoute[] = [];
  for (const entry of result.split(';')) {
    const [keyword, address] = entry.trim().split(/\s+/, 2);
    const kind = (keyword ?? '').toUpperCase();
    if (kind === 'DIRECT') routes.push(DIRECT);
    else if ((kind === 'PROXY' || kind === 'HTTP' || kind === 'HTTPS') && address) {
      const proxy = parseProxyUrl(`${kind === 'HTTPS' ? 'https' : 'http'}://${address}`);
      if (proxy) routes.push({ kind: 'proxy', proxy, source });
    }
  }
  return routes.length > 0 ? routes : [DIRECT];
}

/** One entry of a bypass list (NO_PROXY, or the settings' "no proxy for"), checked against a target. */
function bypassMatches(entry: string, host: string, port: number): boolean {
  let pattern = entry.trim().toLowerCase();
  if (!pattern) return false;
  if (pattern === '*') return true;
  if (pattern === '<local>') return !host.includes('.') && net.isIP(host) === 0;
  let wantedPort: number | null = null;
  const portMatch = /^(.*[^:]):(\d+)$/.exec(pattern);
  if (portMatch && !pattern.startsWith('[') && net.isIP(pattern) === 0) {
    pattern = portMatch[1];
    wantedPort = Number(portMatch[2]);
  } else if (/^\[.*\]:\d+$/.test(pattern)) {
    const i = pattern.lastIndexOf(':');
    wantedPort = Number(pattern.slice(i + 1));
    pattern = pattern.slice(1, i - 1);
  }
  if (wantedPort !== null && wantedPort !== port) return false;
  pattern = pattern.replace(/^\[|\]$/g, '');
  const bareHost = host.replace(/^\[|\]$/g, '');
  const slash = pattern.indexOf('/');
  if (slash > 0 && net.isIP(bareHost) !== 0) {
    const base = pattern.slice(0, slash);
    const prefix = Number(pattern.slice(slash + 1));
    const family = net.isIP(base);
    if (family === 0 || !Number.isInteger(prefix)) return false;
    const list = new net.BlockList();
    try {
      list.addSubnet(base, prefix, family === 6 ? 'ipv6' : 'ipv4');
    } catch {
      return false;
    }
    return list.check(bareHost, net.isIP(bareHost) === 6 ? 'ipv6' : 'ipv4');
  }
  if (pattern.startsWith('*.')) pattern = pattern.slice(1);
  if (pattern.startsWith('.')) return bareHost.endsWith(pattern) || bareHost === pattern.slice(1);
  // curl and most tools: "example.com" also covers its subdomains.
  return bareHost === pattern || bareHost.endsWith(`.${pattern}`);
}

/** Whether a bypass list (comma- or space-separated) sends this target straight to the server. */
export function bypasses(list: string | undefined, target: URL): boolean {
  if (!list) return false;
  const host = target.hostname.toLowerCase();
  const port = portOf(target);
  return list.split(/[\s,;]+/).some((entry) => bypassMatches(entry, host, port));
}

/**
 * The command line's proxy: HTTPS_PROXY (https targets), HTTP_PROXY (http targets), ALL_PROXY as the fallback for both,
 * NO_PROXY as the bypass list; lower-case names win over upper-case ones, as in curl. Credentials in the proxy URL
 * (http://user:password@proxy:3128) are used for the proxy login.
 */
export function environmentResolver(env: Record<string, string | undefined>): ProxyResolver {
  const read = (name: string): { name: string; value: string } | null => {
    for (const n of [name.toLowerCase(), name.toUpperCase()]) {
      const value = env[n];
      if (value !== undefined && value.trim() !== '') return { name: n, value };
    }
    return null;
  };
  return async (target) => {
    const noProxy = read('no_proxy')?.value;
    if (bypasses(noProxy, target)) return [DIRECT];
    const variable = (target.protocol === 'https:' ? read('https_proxy') : read('http_proxy')) ?? read('all_proxy');
    if (!variable) return [DIRECT];
    const proxy = parseProxyUrl(variable.value);
    if (!proxy) return [DIRECT];
    return [{ kind: 'proxy', proxy, source: variable.name }];
  };
}

/** A proxy typed into the settings, with its bypass list. */
export function manualResolver(proxyUrl: string, bypassList: string | undefined, source = 'the app settings'): ProxyResolver {
  const proxy = parseProxyUrl(proxyUrl);
  return async (target) => {
    if (!proxy || bypasses(bypassList, target)) return [DIRECT];
    return [{ kind: 'proxy', proxy, source }];
  };
}

/** A resolver built on a PAC-style answer per URL (Electron's `session.defaultSession.resolveProxy`). */
export function pacResolver(resolve: (url: string) => Promise<string>, source = 'the system proxy settings'): ProxyResolver {
  return async (target) => {
    try {
      return routesFromPacResult(await resolve(target.href), source);
    } catch {
      // The system could not say (no PAC file reachable): go direct, as browsers do when the PAC script fails.
      return [DIRECT];
    }
  };
}

/** Short text of a route, for the checks and the log: "direct" or "through proxy.corp:8080 (the system proxy settings)". */
export function describeRoute(route: ProxyRoute): string {
  if (route.kind === 'direct') return 'direct';
  return `through the proxy ${route.proxy.host} (${route.source})`;
}
