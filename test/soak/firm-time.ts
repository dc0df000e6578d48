import { localToUtc, utcToLocal } from '../peers/ews/time-zones.ts';
import { TIME_ZONE } from './sync-world.ts';

/** Wall-clock times in the firm's zone, for the workload and the agreement check. */

const DAY_MS = 86_400_000;

/** The firm's local date `days` after today, as [year, month, day]. */
export function localDay(today: string, days: number): [number, number, number] {
  const d = new Date(`${today}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}

export function dateText([y, m, d]: [number, number, number]): string {
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** UTC ms of a local wall-clock time `days` after today. */
export function localMs(today: string, days: number, hour = 0, minute = 0): number {
  const [y, m, d] = localDay(today, days);
  return localToUtc(TIME_ZONE, y, m, d, hour, minute);
}

/** The local date of an instant, YYYY-MM-DD. */
export function localDateOf(ms: number, zone = TIME_ZONE): string {
  const p = utcToLocal(zone, ms);
  return dateText([p.year, p.month, p.day]);
}

/** Whole local days from today to the instant's local date. */
export function dayOffset(today: string, ms: number): number {
  return Math.round((Date.parse(`${localDateOf(ms)}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / DAY_MS);
}

export const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

export function weekdayOf(ms: number): (typeof WEEKDAY_NAMES)[number] {
  return WEEKDAY_NAMES[utcToLocal(TIME_ZONE, ms).weekday];
}

/** Moves an instant by whole local days, keeping the wall-clock time (across a DST change too). */
export function shiftLocalDays(ms: number, days: number): number {
  const p = utcToLocal(TIME_ZONE, ms);
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day + days));
  return localToUtc(TIME_ZONE, d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), p.hour, p.minute, p.second);
}
