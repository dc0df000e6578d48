/**
 * The little wall-clock arithmetic the sync needs (all-day dates, series start dates, window edges, recurrence
 * expansion for flattening), on the platform's own tz database (Intl). No library: each connector keeps its own
 * conversions at its edge; this one serves the pure sync code.
 */

export interface LocalParts {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isTimeZone(timeZone: unknown): timeZone is string {
  if (typeof timeZone !== 'string' || timeZone === '') return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** A usable zone: the given one when valid, else the fallback. */
export function zoneOr(timeZone: string | null | undefined, fallback: string): string {
  return isTimeZone(timeZone) ? timeZone : fallback;
}

export function localParts(ms: number, timeZone: string): LocalParts {
  const parts = formatterFor(timeZone).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  // Intl counts years before 1 CE backwards within the BC era (DateTime.MinValue in a zone west of Greenwich lands there).
  const year = parts.find((p) => p.type === 'era')?.value === 'BC' ? 1 - get('year') : get('year');
  return { year, month: get('month'), day: get('day'), hour: get('hour') % 24, minute: get('minute'), second: get('second') };
}

/** Milliseconds of a wall time read as UTC; unlike Date.UTC, years 0..99 stay themselves. */
function wallAsUtcMs(l: LocalParts): number {
  const t = new Date(0);
  t.setUTCFullYear(l.year, l.month - 1, l.day);
  t.setUTCHours(l.hour, l.minute, l.second, 0);
  return t.getTime();
}

/** Offset of the zone at an instant, ms (local = utc + offset). */
export function offsetMs(ms: number, timeZone: string): number {
  return wallAsUtcMs(localParts(ms, timeZone)) - Math.floor(ms / 1000) * 1000;
}

/** The instant of a local wall time; a time in a spring-forward gap moves forward, an ambiguous one takes the earlier instant. */
export function wallTimeToMs(timeZone: string, wall: LocalParts): number {
  const naive = wallAsUtcMs(wall);
  const candidates = [naive - offsetMs(naive - 36 * 3600_000, timeZone), naive - offsetMs(naive + 36 * 3600_000, timeZone)].sort((a, b) => a - b);
  for (const c of candidates) {
    const l = localParts(c, timeZone);
    if (l.year === wall.year && l.month === wall.month && l.day === wall.day && l.hour === wall.hour && l.minute === wall.minute && l.second === wall.second) return c;
  }
  return candidates[1];
}

/** The instant of a local wall time on a YYYY-MM-DD date (see wallTimeToMs). */
export function localToMs(timeZone: string, date: string, hour = 0, minute = 0, second = 0): number {
  const [year, month, day] = date.split('-').map(Number);
  return wallTimeToMs(timeZone, { year, month, day, hour, minute, second });
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function formatDate(year: number, month: number, day: number): string {
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/** The local calendar date (YYYY-MM-DD) of an instant in a zone. */
export function localDate(ms: number, timeZone: string): string {
  const l = localParts(ms, timeZone);
  return formatDate(l.year, l.month, l.day);
}

/** An instant written with the zone's offset, as Severa writes date-times: 2026-03-29T09:00:00+03:00. */
export function formatWithOffset(ms: number, timeZone: string): string {
  const l = localParts(ms, timeZone);
  const off = Math.round(offsetMs(ms, timeZone) / 60_000);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${formatDate(l.year, l.month, l.day)}T${pad(l.hour)}:${pad(l.minute)}:${pad(l.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return formatDate(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/** 0 = Sunday .. 6 = Saturday. */
export function weekdayOf(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

export function isDate(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const [y, m, d] = value.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** Milliseconds of an ISO date-time, or NaN. */
export function instantMs(value: string | null | undefined): number {
  if (!value) return Number.NaN;
  return Date.parse(value);
}
