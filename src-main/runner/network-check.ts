import type { SecretSource } from '../common/secrets-contract.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
import { describeRoute, DIRECT } from '../net/proxy-routes.ts';
import { networkForSettings } from '../net/settings-network.ts';
import type { CheckResult } from './runner-types.ts';

/**
 * The first line of Test connection when a proxy is involved: which way Severa and Exchange are reached (the checks
 * after it then prove that way works). Said only when some server goes through a proxy; a direct network needs no line.
 */

// Every sentence this module says, in one place.
const TEXT = {
  title: 'Network path',
  route: (route: string) => (route === 'direct' ? 'directly' : route),
  message: (severa: string, exchange: string) => `Severa is reached ${severa}; Exchange ${exchange}.`,
};

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
  return { id: 'network', title: TEXT.title, ok: true, message: TEXT.message(TEXT.route(describeRoute(severa)), TEXT.route(describeRoute(exchange))) };
}
