import { TimeZoneInfo } from 'ews-javascript-api';
import { isTimeZone, offsetMs } from '../sync/zoned-time.ts';

/**
 * Windows time zone ids (what Exchange and Microsoft Graph name zones by, e.g. "FLE Standard Time") <-> IANA zones (what
 * the engine works in), for both connectors. The table is the one ews-javascript-api ships (CLDR's windowsZones);
 * zones it does not know are matched by their current offsets.
 */

/** Current IANA names the library's (older) table knows only by their former names. */
const IANA_ALIASES: Record<string, string> = {
  'Europe/Kyiv': 'Europe/Kiev',
  'Asia/Kolkata': 'Asia/Calcutta',
  'Asia/Kathmandu': 'Asia/Katmandu',
  'Asia/Yangon': 'Asia/Rangoon',
  'Asia/Ho_Chi_Minh': 'Asia/Saigon',
  'America/Nuuk': 'America/Godthab',
  'Atlantic/Faroe': 'Atlantic/Faeroe',
  'Pacific/Kanton': 'Pacific/Enderbury',
  'Pacific/Chuuk': 'Pacific/Truk',
  'Pacific/Pohnpei': 'Pacific/Ponape',
  'Etc/UTC': 'Etc/UTC',
  UTC: 'Etc/UTC',
};

/** The library's zone for a Windows id or an IANA name it knows, or null. */
export function libraryTimeZone(name: string): TimeZoneInfo | null {
  try {
    return TimeZoneInfo.FindSystemTimeZoneById(name);
  } catch {
    return null;
  }
}

/** Offsets at the solstices and equinoxes of the next two years: equal samples mean equal current rules. */
function offsetSignature(iana: string): string {
  const year = new Date().getUTCFullYear();
  const samples: number[] = [];
  for (const y of [year, year + 1]) for (const m of [0, 3, 6, 9]) samples.push(offsetMs(Date.UTC(y, m, 15), iana));
  return samples.join(',');
}

let byRulesCache: Map<string, string | null> | null = null;

function windowsIdByRules(iana: string): string | null {
  byRulesCache ??= new Map();
  const signature = offsetSignature(iana);
  if (byRulesCache.has(signature)) return byRulesCache.get(signature) ?? null;
  let found: string | null = null;
  for (const windowsId of TimeZoneInfo.ListWindowsTimeZones()) {
    const zone = libraryTimeZone(windowsId);
    if (zone?.IanaId && isTimeZone(zone.IanaId) && offsetSignature(zone.IanaId) === signature) {
      found = windowsId;
      break;
    }
  }
  byRulesCache.set(signature, found);
  return found;
}

/** The Windows zone id for an IANA zone, or null when no Windows zone keeps the same time. */
export function windowsZoneIdFor(iana: string): string | null {
  if (!isTimeZone(iana)) return null;
  const direct = libraryTimeZone(iana) ?? libraryTimeZone(IANA_ALIASES[iana] ?? '');
  return direct?.Id ?? windowsIdByRules(iana);
}

/**
 * The IANA zone for a zone name the server gave (a Windows id, or an IANA name). `preferred` (the organization's zone)
 * wins whenever it maps to the same Windows zone, so an item written in Europe/Helsinki does not come back as Europe/Kiev.
 */
export function ianaZoneFor(serverName: string | null | undefined, preferred: string): string {
  if (!serverName) return preferred;
  if (windowsZoneIdFor(preferred) === serverName) return preferred;
  const iana = libraryTimeZone(serverName)?.IanaId;
  if (iana && isTimeZone(iana)) return iana === 'Etc/GMT' ? 'UTC' : iana;
  if (isTimeZone(serverName)) return serverName;
  return preferred;
}
