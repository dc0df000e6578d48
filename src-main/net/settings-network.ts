import type { SecretSource } from '../common/secrets-contract.ts';
import type { NetworkSettings } from '../common/settings-schema.ts';
import { createOutboundNetwork } from './outbound-network.ts';
import type { OutboundNetwork } from './outbound-network.ts';
import { directResolver, environmentResolver, manualResolver } from './proxy-routes.ts';
import type { ProxyResolver } from './proxy-routes.ts';

/**
 * The outbound network the settings ask for. 'system' means the host's own proxy source: in the tray app Electron's
 * `session.defaultSession.resolveProxy` (PAC, WPAD, the OS settings), registered once at start by the electron layer;
 * elsewhere (the command line) HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment.
 */

let systemResolver: ProxyResolver | null = null;

/** The host's proxy source for 'system' mode; null goes back to the environment's variables. */
export function useSystemProxyResolver(resolver: ProxyResolver | null): void {
  systemResolver = resolver;
}

/** The environment's proxy variables, read when a network is made (so a test or a host may change them). */
function environment(): ProxyResolver {
  return environmentResolver(process.env);
}

const DEFAULT_NETWORK: NetworkSettings = { proxyMode: 'system', proxyUrl: '', proxyBypass: '', proxyUsername: '' };

export function resolverForSettings(network: NetworkSettings | undefined): ProxyResolver {
  const n = network ?? DEFAULT_NETWORK;
  if (n.proxyMode === 'none') return directResolver;
  if (n.proxyMode === 'manual') return manualResolver(n.proxyUrl, n.proxyBypass);
  return systemResolver ?? environment();
}

/**
 * One network for a set of connectors (one cycle, one check run): the proxy password is read from the secrets when a
 * proxy first needs it, and at most once.
 */
export function networkForSettings(settings: { network?: NetworkSettings }, secrets: SecretSource): OutboundNetwork {
  const username = settings.network?.proxyUsername ?? '';
  return createOutboundNetwork({
    resolver: resolverForSettings(settings.network),
    ...(username ? { credentials: async () => ({ username, password: (await secrets.get('proxy-password')) ?? '' }) } : {}),
  });
}
