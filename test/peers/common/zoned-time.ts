/**
 * Wall-clock arithmetic in an IANA time zone, for the simulator: relative seed dates ("today+2T09:00"), recurrence
 * expansion (a weekly 09:00 meeting stays at 09:00 across a DST change) and date-times rendered with the zone's offset,
 * as Severa renders them in the organization's time zone.
 */

export interface WallTime {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday .. 6 = Saturday */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Throws a readable error for a zone name Intl does not know. */
export function assertTimeZone(zone: string): void {
  try {
    formatterFor(zone);
  } catch {
    throw new Error(`"${zone}" is not an IANA time zone name (expected e.g. Europe/Helsinki).`);
  }
}

/** Offsets change at most on quarter-hour boundaries, so one Intl call per zone and quarter hour is enough. */
const QUARTER_HOUR = 900_000;
const offsetCache = new Map<string, Map<number, number>>();

/** Zone offset in ms at an instant (local = utc + offset). */
export function zoneOffsetMs(utcMs: number, zone: string): number {
  let byBucket = offsetCache.get(zone);
  if (!byBucket) offsetCache.set(zone, (byBucket = new Map()));
  const bucket = Math.floor(utcMs / QUARTER_HOUR);
  let offset = byBucket.get(bucket);
  if (offset === undefined) {
    const at = bucket * QUARTER_HOUR;
    const w = intlWallTime(at, zone);
    offset = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - at;
    if (byBucket.size > 200_000) byBucket.clear();
    byBucket.set(bucket, offset);
  }
  return offset;
}

export function wallTime(utcMs: number, zone: string): WallTime {
  const d = new Date(utcMs + zoneOffsetMs(utcMs, zone));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
  };
}

function intlWallTime(utcMs: number, zone: string): WallTime {
  const parts = formatterFor(zone).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const year = get('year');
  const month = get('month');
  const day = get('day');
  return {
    year,
    month,
    day,
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
    weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay(),
  };
}

/**
 * The instant of a local wall time. A time that does not exist (spring-forward gap) moves forward by the gap; an
 * ambiguous one (fall-back) takes the earlier instant, as calendar servers do.
 */
export function wallToUtc(zone: string, year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const naive = Date.UTC(year, month - 1, day, hour, minute, second);
  const offsetBefore = zoneOffsetMs(naive - 36 * 3600_000, zone);
  const offsetAfter = zoneOffsetMs(naive + 36 * 3600_000, zone);
  const candidates = [naive - offsetBefore, naive - offsetAfter].sort((a, b) => a - b);
  for (const c of candidates) {
    if (c + zoneOffsetMs(c, zone) === naive) return c;
  }
  // In the gap: neither reading maps back; use the offset from before the change.
  return naive - offsetBefore;
}

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/** ISO 8601 with the zone's offset, second precision: 2026-03-29T09:00:00+03:00. */
export function formatInZone(utcMs: number, zone: string): string {
  const w = wallTime(utcMs, zone);
  const offsetMin = Math.round(zoneOffsetMs(utcMs, zone) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${sign}${pad(Math.trunc(offsetMin / 60))}:${pad(offsetMin % 60)}`;
}

export function localDateString(utcMs: number, zone: string): string {
  const w = wallTime(utcMs, zone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}`;
}

/** Adds whole days to a civil date (no zone involved). */
export function addDays(year: number, month: number, day: number, days: number): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(year, month - 1, day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

const RELATIVE = /^today(?:([+-]\d{1,5}))?(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/;
const ABSOLUTE_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ABSOLUTE_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * A seed date-time: absolute ISO 8601 (an offset-less value is local to `zone`), a date (local midnight), or relative
 * `today+N[THH:MM[:SS]]` against `nowMs` in `zone`. Returns UTC ms.
 */
export function parseSeedDateTime(value: string, zone: string, nowMs: number): number {
  const rel = RELATIVE.exec(value);
  if (rel) {
    const today = wallTime(nowMs, zone);
    const d = addDays(today.year, today.month, today.day, Number(rel[1] ?? 0));
    return wallToUtc(zone, d.year, d.month, d.day, Number(rel[2] ?? 0), Number(rel[3] ?? 0), Number(rel[4] ?? 0));
  }
  if (ABSOLUTE_DATE.test(value)) {
    const [y, m, d] = value.split('-').map(Number);
    return wallToUtc(zone, y, m, d);
  }
  const local = LOCAL_DATE_TIME.exec(value);
  if (local) {
    return wallToUtc(zone, Number(local[1]), Number(local[2]), Number(local[3]), Number(local[4]), Number(local[5]), Number(local[6] ?? 0));
  }
  if (ABSOLUTE_DATE_TIME.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new Error(`"${value}" is not a date-time (expected ISO 8601 like 2026-03-29T09:00:00+03:00, or today+2T09:00).`);
}

/** A seed date (YYYY-MM-DD or today+N) as a civil date string. */
export function parseSeedDate(value: string, zone: string, nowMs: number): string {
  const rel = RELATIVE.exec(value);
  if (rel && rel[2] === undefined) {
    const today = wallTime(nowMs, zone);
    const d = addDays(today.year, today.month, today.day, Number(rel[1] ?? 0));
    return `${d.year}-${pad(d.month)}-${pad(d.day)}`;
  }
  if (ABSOLUTE_DATE.test(value) && !Number.isNaN(Date.parse(value))) return value;
  throw new Error(`"${value}" is not a date (expected YYYY-MM-DD or today+N).`);
}
