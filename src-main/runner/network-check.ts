import type { SecretSource } from '../common/secrets-contract.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
import { t } from '../common/i18n/i18n.ts';
import { DIRECT } from '../net/proxy-routes.ts';
import type { ProxyRoute } from '../net/proxy-routes.ts';
import { networkForSettings } from '../net/settings-network.ts';
import type { CheckResult } from './runner-types.ts';

/**
 * The first line of Test connection when a proxy is involved: which way Severa and Exchange are reached (the checks
 * after it then prove that way works). Said only when some server goes through a proxy; a direct network needs no line.
 */

/** A way to a server in words: directly, or through which proxy, named by where it was set. */
function routeText(route: ProxyRoute): string {
  if (route.kind === 'direct') return t('checks.directly');
  const source = route.source === 'the app settings' ? t('checks.sourceApp') : route.source === 'the system proxy settings' ? t('checks.sourceSystem') : route.source;
  return t('checks.throughProxy', { proxy: route.proxy.host, source });
}

export function exchangeUrlOf(settings: OrgSettings): string {
  return settings.exchange.serverType === 'Office365' ? settings.exchange.graphUrl : settings.exchange.ewsUrl;
}

export async function networkCheck(settings: OrgSettings, secrets: SecretSource): Promise<CheckResult | null> {
  const network = networkForSettings(settings, secrets);
  const routeOf = async (address: string) => {
    if (!URL.canParse(address)) return DIRECT;
    return (await network.routes(new URL(address)))[0] ?? DIRECT;
  };
  const [severa, exchange] = await Promise.all([routeOf(settings.severa.apiUrl), routeOf(exchangeUrlOf(settings))]);
  if (severa.kind === 'direct' && exchange.kind === 'direct') return null;
  return { id: 'network', title: t('checks.titles.network'), ok: true, message: t('checks.network', { severa: routeText(severa), exchange: routeText(exchange) }) };
}
