/**
 * Wall-clock <-> instant conversion in IANA time zones, on the platform's own tz database (Intl), with no
 * dependency on the EWS library: its DateTime/TimeZoneInfo classes have known DST bugs, so every local-time
 * decision (all-day dates, occurrence dates of a series) is made here instead.
 */

import { isTimeZone, localParts, offsetMs, wallTimeToMs, type LocalParts } from '../../sync/zoned-time.ts';

export type LocalDateTime = LocalParts;

export function isValidTimeZone(timeZone: string): boolean {
  return isTimeZone(timeZone);
}

export function toLocal(instantMs: number, timeZone: string): LocalDateTime {
  return localParts(instantMs, timeZone);
}

/** UTC offset of the zone at that instant, in ms (positive east of Greenwich). */
export function utcOffsetMs(instantMs: number, timeZone: string): number {
  return offsetMs(instantMs, timeZone);
}

/**
 * The instant a wall-clock time denotes. In a DST overlap (the hour that happens twice) the earlier instant wins;
 * in a gap (the hour that does not exist) the time is read with the offset before the change, which lands it
 * after the gap (02:30 on a spring-forward night in New York becomes 03:30 EDT), as calendar clients do.
 */
export function fromLocal(local: LocalDateTime, timeZone: string): number {
  return wallTimeToMs(timeZone, local);
}

// ---- civil dates (YYYY-MM-DD), computed on UTC midnights so no zone can shift them ----

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return formatDate(t) === value;
}

export function parseDate(value: string): number {
  const m = DATE_RE.exec(value);
  if (!m) throw new RangeError(`"${value}" is not a date (expected YYYY-MM-DD).`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

export function formatDate(utcMidnightMs: number): string {
  return new Date(utcMidnightMs).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return formatDate(parseDate(date) + days * 86_400_000);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((parseDate(to) - parseDate(from)) / 86_400_000);
}

/** 0 = Sunday .. 6 = Saturday. */
export function dayOfWeek(date: string): number {
  return new Date(parseDate(date)).getUTCDay();
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function makeDate(year: number, month: number, day: number): string {
  return formatDate(Date.UTC(year, month - 1, day));
}

export function localDateOf(instantMs: number, timeZone: string): string {
  const l = toLocal(instantMs, timeZone);
  return makeDate(l.year, l.month, l.day);
}

/** The instant of local midnight starting `date` in the zone. */
export function startOfLocalDate(date: string, timeZone: string): number {
  const t = parseDate(date);
  const d = new Date(t);
  return fromLocal({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: 0, minute: 0, second: 0 }, timeZone);
}

/** The instant at which `date` shows the given wall-clock time of day in the zone. */
export function atLocalTime(date: string, timeOfDay: { hour: number; minute: number; second: number }, timeZone: string): number {
  const d = new Date(parseDate(date));
  return fromLocal({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), ...timeOfDay }, timeZone);
}

/** Parses an ISO instant; throws RangeError with the value in the message when it is not one. */
export function parseInstant(value: string, what: string): number {
  const t = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) throw new RangeError(`${what} "${String(value)}" is not a date-time with a zone (expected e.g. 2026-03-29T07:00:00Z).`);
  return t;
}
