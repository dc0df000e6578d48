/**
 * Time zones as EWS names them (Windows ids such as "FLE Standard Time") and as the simulator computes with them
 * (IANA names through Intl). Instants are stored in UTC; a zone matters for all-day items, for local times a client
 * sends without an offset, and for expanding a recurring series at the same wall-clock time across DST changes.
 */

import { wallTime, zoneOffsetMs, type WallTime } from '../common/zoned-time.ts';

/** Windows zone id -> [IANA zone, display name]. The common zones from the CLDR windowsZones table. */
const WINDOWS_ZONES: Record<string, [string, string]> = {
  'Dateline Standard Time': ['Etc/GMT+12', '(UTC-12:00) International Date Line West'],
  'UTC-11': ['Etc/GMT+11', '(UTC-11:00) Coordinated Universal Time-11'],
  'Hawaiian Standard Time': ['Pacific/Honolulu', '(UTC-10:00) Hawaii'],
  'Alaskan Standard Time': ['America/Anchorage', '(UTC-09:00) Alaska'],
  'Pacific Standard Time': ['America/Los_Angeles', '(UTC-08:00) Pacific Time (US & Canada)'],
  'US Mountain Standard Time': ['America/Phoenix', '(UTC-07:00) Arizona'],
  'Mountain Standard Time': ['America/Denver', '(UTC-07:00) Mountain Time (US & Canada)'],
  'Central Standard Time': ['America/Chicago', '(UTC-06:00) Central Time (US & Canada)'],
  'Central Standard Time (Mexico)': ['America/Mexico_City', '(UTC-06:00) Guadalajara, Mexico City, Monterrey'],
  'Canada Central Standard Time': ['America/Regina', '(UTC-06:00) Saskatchewan'],
  'Eastern Standard Time': ['America/New_York', '(UTC-05:00) Eastern Time (US & Canada)'],
  'SA Pacific Standard Time': ['America/Bogota', '(UTC-05:00) Bogota, Lima, Quito, Rio Branco'],
  'Atlantic Standard Time': ['America/Halifax', '(UTC-04:00) Atlantic Time (Canada)'],
  'Newfoundland Standard Time': ['America/St_Johns', '(UTC-03:30) Newfoundland'],
  'E. South America Standard Time': ['America/Sao_Paulo', '(UTC-03:00) Brasilia'],
  'Argentina Standard Time': ['America/Buenos_Aires', '(UTC-03:00) City of Buenos Aires'],
  'Greenland Standard Time': ['America/Godthab', '(UTC-03:00) Greenland'],
  'Azores Standard Time': ['Atlantic/Azores', '(UTC-01:00) Azores'],
  UTC: ['Etc/UTC', '(UTC) Coordinated Universal Time'],
  'GMT Standard Time': ['Europe/London', '(UTC+00:00) Dublin, Edinburgh, Lisbon, London'],
  'Greenwich Standard Time': ['Atlantic/Reykjavik', '(UTC+00:00) Monrovia, Reykjavik'],
  'W. Europe Standard Time': ['Europe/Berlin', '(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna'],
  'Central Europe Standard Time': ['Europe/Budapest', '(UTC+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague'],
  'Romance Standard Time': ['Europe/Paris', '(UTC+01:00) Brussels, Copenhagen, Madrid, Paris'],
  'Central European Standard Time': ['Europe/Warsaw', '(UTC+01:00) Sarajevo, Skopje, Warsaw, Zagreb'],
  'W. Central Africa Standard Time': ['Africa/Lagos', '(UTC+01:00) West Central Africa'],
  'FLE Standard Time': ['Europe/Kiev', '(UTC+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius'],
  'GTB Standard Time': ['Europe/Bucharest', '(UTC+02:00) Athens, Bucharest'],
  'E. Europe Standard Time': ['Europe/Chisinau', '(UTC+02:00) Chisinau'],
  'Egypt Standard Time': ['Africa/Cairo', '(UTC+02:00) Cairo'],
  'South Africa Standard Time': ['Africa/Johannesburg', '(UTC+02:00) Harare, Pretoria'],
  'Israel Standard Time': ['Asia/Jerusalem', '(UTC+02:00) Jerusalem'],
  'Turkey Standard Time': ['Europe/Istanbul', '(UTC+03:00) Istanbul'],
  'Russian Standard Time': ['Europe/Moscow', '(UTC+03:00) Moscow, St. Petersburg'],
  'Arab Standard Time': ['Asia/Riyadh', '(UTC+03:00) Kuwait, Riyadh'],
  'Iran Standard Time': ['Asia/Tehran', '(UTC+03:30) Tehran'],
  'Arabian Standard Time': ['Asia/Dubai', '(UTC+04:00) Abu Dhabi, Muscat'],
  'Pakistan Standard Time': ['Asia/Karachi', '(UTC+05:00) Islamabad, Karachi'],
  'India Standard Time': ['Asia/Calcutta', '(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi'],
  'Nepal Standard Time': ['Asia/Katmandu', '(UTC+05:45) Kathmandu'],
  'Bangladesh Standard Time': ['Asia/Dhaka', '(UTC+06:00) Dhaka'],
  'SE Asia Standard Time': ['Asia/Bangkok', '(UTC+07:00) Bangkok, Hanoi, Jakarta'],
  'China Standard Time': ['Asia/Shanghai', '(UTC+08:00) Beijing, Chongqing, Hong Kong, Urumqi'],
  'Singapore Standard Time': ['Asia/Singapore', '(UTC+08:00) Kuala Lumpur, Singapore'],
  'Taipei Standard Time': ['Asia/Taipei', '(UTC+08:00) Taipei'],
  'W. Australia Standard Time': ['Australia/Perth', '(UTC+08:00) Perth'],
  'Tokyo Standard Time': ['Asia/Tokyo', '(UTC+09:00) Osaka, Sapporo, Tokyo'],
  'Korea Standard Time': ['Asia/Seoul', '(UTC+09:00) Seoul'],
  'Cen. Australia Standard Time': ['Australia/Adelaide', '(UTC+09:30) Adelaide'],
  'AUS Central Standard Time': ['Australia/Darwin', '(UTC+09:30) Darwin'],
  'E. Australia Standard Time': ['Australia/Brisbane', '(UTC+10:00) Brisbane'],
  'AUS Eastern Standard Time': ['Australia/Sydney', '(UTC+10:00) Canberra, Melbourne, Sydney'],
  'New Zealand Standard Time': ['Pacific/Auckland', '(UTC+12:00) Auckland, Wellington'],
};

/** IANA names that CLDR maps onto a Windows zone whose representative is another city. */
const IANA_ALIASES: Record<string, string> = {
  'Europe/Helsinki': 'FLE Standard Time',
  'Europe/Kyiv': 'FLE Standard Time',
  'Europe/Riga': 'FLE Standard Time',
  'Europe/Tallinn': 'FLE Standard Time',
  'Europe/Vilnius': 'FLE Standard Time',
  'Europe/Sofia': 'FLE Standard Time',
  'Europe/Mariehamn': 'FLE Standard Time',
  'Europe/Athens': 'GTB Standard Time',
  'Europe/Stockholm': 'W. Europe Standard Time',
  'Europe/Oslo': 'W. Europe Standard Time',
  'Europe/Amsterdam': 'W. Europe Standard Time',
  'Europe/Rome': 'W. Europe Standard Time',
  'Europe/Vienna': 'W. Europe Standard Time',
  'Europe/Zurich': 'W. Europe Standard Time',
  'Europe/Copenhagen': 'Romance Standard Time',
  'Europe/Madrid': 'Romance Standard Time',
  'Europe/Brussels': 'Romance Standard Time',
  'Europe/Prague': 'Central Europe Standard Time',
  'Europe/Dublin': 'GMT Standard Time',
  'Europe/Lisbon': 'GMT Standard Time',
  'Asia/Kolkata': 'India Standard Time',
  'Asia/Kathmandu': 'Nepal Standard Time',
  'Asia/Hong_Kong': 'China Standard Time',
  'Australia/Melbourne': 'AUS Eastern Standard Time',
  'America/Toronto': 'Eastern Standard Time',
  'America/Vancouver': 'Pacific Standard Time',
  'America/Argentina/Buenos_Aires': 'Argentina Standard Time',
  'America/Nuuk': 'Greenland Standard Time',
  UTC: 'UTC',
  'Etc/GMT': 'UTC',
  GMT: 'UTC',
};

const IANA_TO_WINDOWS = new Map<string, string>();
for (const [win, [iana]] of Object.entries(WINDOWS_ZONES)) IANA_TO_WINDOWS.set(iana, win);
for (const [iana, win] of Object.entries(IANA_ALIASES)) IANA_TO_WINDOWS.set(iana, win);

const WINDOWS_LOWER = new Map<string, string>(Object.keys(WINDOWS_ZONES).map((k) => [k.toLowerCase(), k]));

/** IANA zone for a Windows id (case-insensitive), or for an IANA name a client sent as the id; undefined if unknown. */
export function ianaForWindowsId(id: string): string | undefined {
  const win = WINDOWS_LOWER.get(id.trim().toLowerCase());
  if (win) return WINDOWS_ZONES[win][0];
  if (isValidIana(id.trim())) return id.trim();
  return undefined;
}

/** Windows id and display name for an IANA zone (UTC when the zone has no Windows equivalent here). */
export function windowsZoneFor(iana: string): { id: string; name: string } {
  let id = IANA_TO_WINDOWS.get(iana);
  if (!id) {
    // Pick a Windows zone with the same offsets over the year as a fallback.
    const jan = offsetMinutes(iana, Date.UTC(2026, 0, 15));
    const jul = offsetMinutes(iana, Date.UTC(2026, 6, 15));
    id =
      Object.keys(WINDOWS_ZONES).find((w) => {
        const z = WINDOWS_ZONES[w][0];
        return offsetMinutes(z, Date.UTC(2026, 0, 15)) === jan && offsetMinutes(z, Date.UTC(2026, 6, 15)) === jul;
      }) ?? 'UTC';
  }
  return { id, name: WINDOWS_ZONES[id]?.[1] ?? id };
}

const validity = new Map<string, boolean>();
export function isValidIana(name: string): boolean {
  let ok = validity.get(name);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: name });
      ok = name.length > 0;
    } catch {
      ok = false;
    }
    validity.set(name, ok);
  }
  return ok;
}

/** Offset of `zone` from UTC in minutes at the instant `utcMs` (positive east of Greenwich). */
export function offsetMinutes(zone: string, utcMs: number): number {
  return Math.round(zoneOffsetMs(utcMs, zone) / 60_000);
}

export type LocalParts = WallTime;

export function utcToLocal(zone: string, utcMs: number): LocalParts {
  return wallTime(utcMs, zone);
}

/**
 * The UTC instant of a wall-clock time in `zone`. A time skipped by a spring-forward transition moves forward by
 * the gap; an ambiguous autumn time takes the first (daylight) instant, as Windows does.
 */
export function localToUtc(zone: string, year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const o1 = offsetMinutes(zone, wall - 14 * 3_600_000);
  const o2 = offsetMinutes(zone, wall + 14 * 3_600_000);
  const candidates = [wall - Math.max(o1, o2) * 60_000, wall - Math.min(o1, o2) * 60_000];
  for (const c of candidates) if (c + offsetMinutes(zone, c) * 60_000 === wall) return c;
  // In a gap: use the offset before the transition.
  return wall - o1 * 60_000;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$/;

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/**
 * Parses an xs:dateTime as EWS clients send it. Without an offset, the value is local time in `zone`
 * (the item's or the request's TimeZoneContext zone). Returns NaN when the text is not a date-time.
 */
export function parseEwsDateTime(text: string, zone: string): number {
  const t = text.trim();
  const m = DATE_TIME.exec(t);
  if (!m) {
    const d = DATE_ONLY.exec(t);
    if (!d) return NaN;
    if (!validDate(+d[1], +d[2], +d[3])) return NaN;
    return localToUtc(zone, +d[1], +d[2], +d[3]);
  }
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  if (!validDate(+y, +mo, +d) || +h > 24 || +mi > 59 || +(s ?? 0) > 60) return NaN;
  const ms = frac ? Math.round(Number(frac) * 1000) : 0;
  if (!tz) return localToUtc(zone, +y, +mo, +d, +h, +mi, +(s ?? 0)) + ms;
  const base = Date.UTC(+y, +mo - 1, +d, +h, +mi, +(s ?? 0), ms);
  if (tz === 'Z') return base;
  const sign = tz[0] === '-' ? -1 : 1;
  return base - sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60_000;
}

/** Parses an xs:date (`2026-03-02`, possibly with an offset Exchange ignores) to [year, month, day]. */
export function parseEwsDate(text: string): [number, number, number] | null {
  const d = DATE_ONLY.exec(text.trim()) ?? /^(\d{4})-(\d{2})-(\d{2})T/.exec(text.trim());
  if (!d) return null;
  if (!validDate(+d[1], +d[2], +d[3])) return null;
  return [+d[1], +d[2], +d[3]];
}

export function formatDate(y: number, m: number, d: number): string {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** Fixed-offset zone for a legacy (Exchange 2007) definition that names no known zone: Etc/GMT works in whole hours. */
export function fixedOffsetZone(offsetMinutesEast: number): string | undefined {
  if (offsetMinutesEast % 60 !== 0) return undefined;
  const h = offsetMinutesEast / 60;
  if (h === 0) return 'Etc/UTC';
  // Etc/GMT signs are inverted (POSIX).
  return `Etc/GMT${h > 0 ? '-' : '+'}${Math.abs(h)}`;
}

export interface DstTransitionRule {
  month: number; // 1..12
  weekday: number; // 0 = Sunday
  /** 1..4, or -1 for the last such weekday of the month. */
  occurrence: number;
  /** Wall-clock minutes after midnight, in the offset before the transition. */
  localMinutes: number;
}

export interface ZoneRules {
  standardOffset: number;
  daylightOffset: number | null;
  toDaylight: DstTransitionRule | null;
  toStandard: DstTransitionRule | null;
}

const rulesCache = new Map<string, ZoneRules>();

/** The zone's yearly DST rule as Windows describes it (observed in 2026 through Intl). */
export function zoneRules(zone: string): ZoneRules {
  const cached = rulesCache.get(zone);
  if (cached) return cached;
  const year = 2026;
  const transitions: Array<{ atMs: number; from: number; to: number }> = [];
  let prev = offsetMinutes(zone, Date.UTC(year, 0, 1));
  for (let day = 1; day <= 366; day++) {
    const t = Date.UTC(year, 0, 1) + day * 86_400_000;
    const off = offsetMinutes(zone, t);
    if (off !== prev) {
      let lo = t - 86_400_000;
      let hi = t;
      while (hi - lo > 900_000) {
        const mid = lo + Math.floor((hi - lo) / 1_800_000) * 900_000;
        if (offsetMinutes(zone, mid) === prev) lo = mid;
        else hi = mid;
      }
      transitions.push({ atMs: hi, from: prev, to: off });
      prev = off;
    }
  }
  const rule = (tr: { atMs: number; from: number }): DstTransitionRule => {
    const local = new Date(tr.atMs + tr.from * 60_000);
    const d = local.getUTCDate();
    const dim = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth() + 1, 0)).getUTCDate();
    return {
      month: local.getUTCMonth() + 1,
      weekday: local.getUTCDay(),
      occurrence: d + 7 > dim ? -1 : Math.ceil(d / 7),
      localMinutes: local.getUTCHours() * 60 + local.getUTCMinutes(),
    };
  };
  let r: ZoneRules;
  if (transitions.length >= 2) {
    const std = Math.min(transitions[0].from, transitions[0].to);
    const dst = Math.max(transitions[0].from, transitions[0].to);
    const toDst = transitions.find((t) => t.to === dst)!;
    const toStd = transitions.find((t) => t.to === std)!;
    r = { standardOffset: std, daylightOffset: dst, toDaylight: rule(toDst), toStandard: rule(toStd) };
  } else {
    r = { standardOffset: prev, daylightOffset: null, toDaylight: null, toStandard: null };
  }
  rulesCache.set(zone, r);
  return r;
}
