/**
 * Graph's dateTimeTimeZone: `{ dateTime: "2026-12-01T10:00:00.0000000", timeZone: "FLE Standard Time" }`, a wall time
 * without offset plus a zone named the Windows way or the IANA way (Graph takes both). Read into UTC instants, and
 * written back in the zone the client asks for with `Prefer: outlook.timezone="..."` (UTC when absent).
 */
import { assertTimeZone, wallTime, wallToUtc, zoneOffsetMs } from '../common/zoned-time.ts';

/** Windows zone id -> IANA (the CLDR "001" territory mapping), for the zones a Nordic/European/US firm meets. */
export const WINDOWS_TO_IANA: Record<string, string> = {
  UTC: 'UTC',
  'Coordinated Universal Time': 'UTC',
  'GMT Standard Time': 'Europe/London',
  'Greenwich Standard Time': 'Atlantic/Reykjavik',
  'W. Europe Standard Time': 'Europe/Berlin',
  'Central Europe Standard Time': 'Europe/Budapest',
  'Central European Standard Time': 'Europe/Warsaw',
  'Romance Standard Time': 'Europe/Paris',
  'FLE Standard Time': 'Europe/Kiev',
  'E. Europe Standard Time': 'Europe/Chisinau',
  'GTB Standard Time': 'Europe/Bucharest',
  'Russian Standard Time': 'Europe/Moscow',
  'Turkey Standard Time': 'Europe/Istanbul',
  'Israel Standard Time': 'Asia/Jerusalem',
  'South Africa Standard Time': 'Africa/Johannesburg',
  'Arabian Standard Time': 'Asia/Dubai',
  'India Standard Time': 'Asia/Calcutta',
  'China Standard Time': 'Asia/Shanghai',
  'Singapore Standard Time': 'Asia/Singapore',
  'Tokyo Standard Time': 'Asia/Tokyo',
  'AUS Eastern Standard Time': 'Australia/Sydney',
  'New Zealand Standard Time': 'Pacific/Auckland',
  'Eastern Standard Time': 'America/New_York',
  'Central Standard Time': 'America/Chicago',
  'Mountain Standard Time': 'America/Denver',
  'US Mountain Standard Time': 'America/Phoenix',
  'Pacific Standard Time': 'America/Los_Angeles',
  'Alaskan Standard Time': 'America/Anchorage',
  'Hawaiian Standard Time': 'Pacific/Honolulu',
  'Atlantic Standard Time': 'America/Halifax',
  'SA Pacific Standard Time': 'America/Bogota',
  'E. South America Standard Time': 'America/Sao_Paulo',
};

/** IANA zones that are aliases of a Windows zone's representative (Helsinki is FLE Standard Time, as in Outlook). */
const IANA_TO_WINDOWS: Record<string, string> = {
  'Europe/Helsinki': 'FLE Standard Time',
  'Europe/Tallinn': 'FLE Standard Time',
  'Europe/Riga': 'FLE Standard Time',
  'Europe/Vilnius': 'FLE Standard Time',
  'Europe/Kyiv': 'FLE Standard Time',
  'Europe/Stockholm': 'W. Europe Standard Time',
  'Europe/Oslo': 'W. Europe Standard Time',
  'Europe/Amsterdam': 'W. Europe Standard Time',
  'Europe/Copenhagen': 'Romance Standard Time',
  'Europe/Madrid': 'Romance Standard Time',
  'Europe/Brussels': 'Romance Standard Time',
  'Europe/Prague': 'Central Europe Standard Time',
  'Etc/UTC': 'UTC',
};
for (const [win, iana] of Object.entries(WINDOWS_TO_IANA)) IANA_TO_WINDOWS[iana] ??= win;

export class TimeZoneError extends Error {}

const ianaCache = new Map<string, string | null>();

/** The IANA zone for a Windows or IANA name (case-insensitive for Windows names), or null when unknown. */
export function resolveZone(name: string): string | null {
  const key = name.trim();
  if (ianaCache.has(key)) return ianaCache.get(key)!;
  let result: string | null = null;
  const win = Object.keys(WINDOWS_TO_IANA).find((w) => w.toLowerCase() === key.toLowerCase());
  if (win) result = WINDOWS_TO_IANA[win];
  else if (/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)+$|^UTC$|^GMT$/.test(key)) {
    try {
      assertTimeZone(key);
      result = key;
    } catch {
      result = null;
    }
  }
  ianaCache.set(key, result);
  return result;
}

/** The Windows name Outlook would record for an IANA zone (originalStartTimeZone), or the name itself. */
export function windowsNameOf(zoneName: string): string {
  const iana = resolveZone(zoneName);
  if (!iana) return zoneName;
  if (Object.keys(WINDOWS_TO_IANA).some((w) => w.toLowerCase() === zoneName.toLowerCase())) return zoneName;
  return IANA_TO_WINDOWS[iana] ?? zoneName;
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?$/;

/**
 * A dateTimeTimeZone to a UTC instant (ms). The dateTime is a wall time in the zone; Graph also tolerates an explicit
 * offset or Z on it (then the zone only labels it). Throws TimeZoneError for an unknown zone, RangeError for a bad time.
 */
export function parseDateTimeTimeZone(v: { dateTime?: unknown; timeZone?: unknown }): { utcMs: number; zone: string; zoneName: string } {
  if (typeof v.dateTime !== 'string') throw new RangeError('dateTime is missing');
  const zoneName = typeof v.timeZone === 'string' && v.timeZone.trim() ? v.timeZone.trim() : 'UTC';
  const zone = resolveZone(zoneName);
  if (!zone) throw new TimeZoneError(zoneName);
  const m = LOCAL.exec(v.dateTime);
  if (m) {
    const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1, 7);
    if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) throw new RangeError(`${v.dateTime} is not a date-time`);
    const frac = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
    return { utcMs: wallToUtc(zone, Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)) + frac, zone, zoneName };
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v.dateTime)) {
    const ms = Date.parse(v.dateTime);
    if (!Number.isNaN(ms)) return { utcMs: ms, zone, zoneName };
  }
  throw new RangeError(`${v.dateTime} is not a date-time`);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A UTC instant as Graph writes dateTime in a zone: 2026-12-01T10:00:00.0000000 (seven fraction digits, no offset). */
export function formatDateTimeTimeZone(utcMs: number, zoneName: string): { dateTime: string; timeZone: string } {
  const zone = resolveZone(zoneName) ?? 'UTC';
  const w = wallTime(utcMs, zone);
  const ms = ((utcMs % 1000) + 1000) % 1000;
  return {
    dateTime: `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}.${pad(ms, 3)}0000`,
    timeZone: zoneName,
  };
}

/** Is this instant a local midnight in the zone? (isAllDay events must start and end at midnight.) */
export function isLocalMidnight(utcMs: number, zone: string): boolean {
  const w = wallTime(utcMs, zone);
  return w.hour === 0 && w.minute === 0 && w.second === 0 && utcMs % 1000 === 0;
}

/** UTC timestamp as Graph writes createdDateTime and friends: 2026-12-01T10:00:00.1234567Z. */
export function graphTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** originalStart is written without fraction: 2026-12-01T08:00:00Z. */
export function isoSecondsZ(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The value of `Prefer: outlook.timezone="..."` (quotes optional), checked; null when the header does not name one.
 * Several Prefer headers or comma-separated preferences are all looked at.
 */
export function preferredTimeZone(prefer: string | string[] | undefined): string | null {
  for (const p of splitPrefer(prefer)) {
    const m = /^outlook\.timezone\s*=\s*"?([^"]*)"?$/i.exec(p);
    if (m) return m[1].trim();
  }
  return null;
}

export function preferredMaxPageSize(prefer: string | string[] | undefined): number | null {
  for (const p of splitPrefer(prefer)) {
    const m = /^odata\.maxpagesize\s*=\s*"?(\d+)"?$/i.exec(p);
    if (m) return Number(m[1]);
  }
  return null;
}

export function preferBodyType(prefer: string | string[] | undefined): 'text' | 'html' | null {
  for (const p of splitPrefer(prefer)) {
    const m = /^outlook\.body-content-type\s*=\s*"?(text|html)"?$/i.exec(p);
    if (m) return m[1].toLowerCase() as 'text' | 'html';
  }
  return null;
}

function splitPrefer(prefer: string | string[] | undefined): string[] {
  const all = Array.isArray(prefer) ? prefer : prefer ? [prefer] : [];
  return all.flatMap((h) => h.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)).map((s) => s.trim()).filter(Boolean);
}

/** Offset of a zone at an instant in minutes (for tests and messages). */
export function offsetMinutes(utcMs: number, zone: string): number {
  return Math.round(zoneOffsetMs(utcMs, zone) / 60_000);
}
