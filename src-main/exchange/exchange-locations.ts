/**
 * Names for the places a mailbox can live: one per Exchange connection the organization has (an on-premises server
 * over EWS, Exchange Online over Graph). The id is stable (kept in the sync store per user, so a mailbox that moved is
 * noticed); the label is what people read ("mailbox moved from on-premises Exchange (mail.contoso.com) to Exchange
 * Online (contoso.onmicrosoft.com)").
 */

import { t } from '../common/i18n/i18n.ts';
import type { ExchangeSettings } from '../common/settings-schema.ts';

/** Where a connection's mailboxes live, as the sync store remembers it per user. */
export function connectionLocation(connection: ExchangeSettings): string {
  return connection.serverType === 'Office365' ? graphLocation(connection.tenantId) : ewsLocation(connection.ewsUrl);
}

export function ewsLocation(ewsUrl: string): string {
  const url = new URL(ewsUrl);
  return `ews:${url.host.toLowerCase()}${url.pathname.toLowerCase()}`;
}

export function graphLocation(tenant: string): string {
  return `graph:${tenant.trim().toLowerCase()}`;
}

export function describeLocation(location: string | null | undefined): string {
  if (!location) return t('report.location.unknown');
  if (location.startsWith('ews:')) return t('report.location.onPremises', { host: location.slice(4).split('/')[0] });
  if (location.startsWith('graph:')) return t('report.location.online', { tenant: location.slice(6) });
  return location;
}
