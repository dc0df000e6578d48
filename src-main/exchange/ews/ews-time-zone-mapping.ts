import { TimeSpan, TimeZoneInfo } from 'ews-javascript-api';
import { CalendarError } from '../calendar-connector.ts';
import { isValidTimeZone, utcOffsetMs } from './time-zone-conversion.ts';

/**
 * Time zones between the neutral fields (IANA names) and EWS (Windows zone ids, through the library's zone table):
 * the zone to write for an IANA name, and the IANA name for a zone the server named.
 */

/** Current IANA names the library's (older) Windows-zone table knows only by their former names. */
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

function libraryZone(name: string): TimeZoneInfo | null {
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
  for (const y of [year, year + 1]) for (const m of [0, 3, 6, 9]) samples.push(utcOffsetMs(Date.UTC(y, m, 15), iana));
  return samples.join(',');
}

let windowsZoneCache: Map<string, string> | null = null;

function windowsIdByRules(iana: string): string | null {
  if (!windowsZoneCache) windowsZoneCache = new Map();
  const signature = offsetSignature(iana);
  if (windowsZoneCache.has(signature)) return windowsZoneCache.get(signature) ?? null;
  for (const windowsId of TimeZoneInfo.ListWindowsTimeZones()) {
    const zone = libraryZone(windowsId);
    if (!zone?.IanaId || !isValidTimeZone(zone.IanaId)) continue;
    if (offsetSignature(zone.IanaId) === signature) {
      windowsZoneCache.set(signature, windowsId);
      return windowsId;
    }
  }
  return null;
}

function decodeXmlText(text: string): string {
  return text.replace(/&amp;/g, '&');
}

/** The Windows time zone EWS should be told for an IANA zone, as a library TimeZoneInfo ready to write. */
export function windowsTimeZoneFor(iana: string): TimeZoneInfo {
  if (!isValidTimeZone(iana)) throw new CalendarError('other', `"${iana}" is not a known time zone.`);
  const direct = libraryZone(iana) ?? libraryZone(IANA_ALIASES[iana] ?? '');
  const windowsId = direct?.Id ?? windowsIdByRules(iana);
  if (!windowsId) throw new CalendarError('other', `The time zone "${iana}" has no Windows equivalent Exchange would understand.`);
  const zone = libraryZone(windowsId);
  // Rebuilt so the display name is not XML-escaped twice on the way out (the library's table holds "&amp;").
  return TimeZoneInfo.CreateCustomTimeZone(
    windowsId,
    zone ? zone.BaseUtcOffset : TimeSpan.Zero,
    decodeXmlText(zone?.DisplayName ?? windowsId),
    decodeXmlText(zone?.StandardName || windowsId),
  );
}

/**
 * The IANA zone for a Windows zone id the server named. `preferred` (the organization's zone) wins whenever it maps to
 * the same Windows zone, so an item written in Europe/Helsinki does not come back as Europe/Kiev.
 */
export function ianaTimeZoneFor(windowsId: string | null | undefined, preferred: string): string {
  if (!windowsId) return preferred;
  try {
    if (windowsTimeZoneFor(preferred).Id === windowsId) return preferred;
  } catch {
    // fall through to the table
  }
  const zone = libraryZone(windowsId);
  const iana = zone?.IanaId;
  if (iana && isValidTimeZone(iana)) return iana === 'Etc/GMT' ? 'UTC' : iana;
  if (isValidTimeZone(windowsId)) return windowsId;
  return preferred;
}

/** Text of a zone's display name without its "(UTC+02:00) " / "(GMT+02:00) " prefix, for matching across Windows versions. */
function displayKey(name: string): string {
  return decodeXmlText(name).replace(/^\((UTC|GMT)[^)]*\)\s*/i, '').trim().toLowerCase();
}

/** A Windows zone id from what Exchange 2007 puts in MeetingTimeZone/@TimeZoneName: an id, or a display name. */
export function windowsIdFromName(name: string | null | undefined): string | null {
  if (!name) return null;
  if (libraryZone(name)) return name;
  const key = displayKey(name);
  for (const id of TimeZoneInfo.ListWindowsTimeZones()) {
    const zone = libraryZone(id);
    if (zone && displayKey(zone.DisplayName) === key) return id;
  }
  return null;
}
