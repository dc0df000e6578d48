import { createHash } from 'node:crypto';
import type { EventFields, OccurrenceException, RecurrenceRule } from './calendar-event.ts';
import { canonicalRule } from './recurrence-rule.ts';

/**
 * A hash of what the two sides have in common (subject, times, all-day, location, text, private, recurrence and its
 * exceptions), normalised so that formatting differences one side introduces (CRLF, trailing blanks, +03:00 vs Z,
 * order of weekdays) never read as a change. Attendees, organizer and time zone names are not part of it: they do not
 * travel one-to-one between Severa and Exchange.
 *
 * Computed the same way for both sides, so equal hashes mean "nothing to copy" whichever side they come from.
 */

const collapse = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();

function normaliseText(s: string | null | undefined): string {
  return (s ?? '')
    .replace(/\r\n?/g, '\n')
    .replace(/\u00a0/g, ' ')
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/g, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function normaliseTime(value: string, isAllDay: boolean): string {
  if (isAllDay) return value.slice(0, 10);
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

const WEEK_ORDER = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

function normaliseRule(rule: RecurrenceRule | null): unknown {
  if (!rule) return null;
  const r = canonicalRule(rule);
  return {
    f: r.frequency,
    i: r.frequency === 'Yearly' ? 1 : Math.max(1, r.interval || 1),
    d: r.frequency === 'Weekly' ? [...new Set(r.daysOfWeek ?? [])].sort((a, b) => WEEK_ORDER.indexOf(a) - WEEK_ORDER.indexOf(b)) : null,
    dm: r.dayOfMonth ?? null,
    wo: r.weekOrdinal ?? null,
    dw: r.dayOfWeek ?? null,
    m: r.month ?? null,
    s: r.startDate.slice(0, 10),
    c: r.count ?? null,
    u: r.until ? r.until.slice(0, 10) : null,
    // Only where the week start moves dates (canonical rules carry it nowhere else), so older hashes stay valid.
    ...(r.firstDayOfWeek ? { w: r.firstDayOfWeek } : {}),
  };
}

type Flat = Omit<EventFields, 'recurrence'> & { recurrence?: RecurrenceRule | null };

function normaliseFields(f: Flat): Record<string, unknown> {
  return {
    s: collapse(f.subject),
    a: f.isAllDay === true,
    b: normaliseTime(f.start, f.isAllDay),
    e: normaliseTime(f.end, f.isAllDay),
    l: collapse(f.location),
    t: normaliseText(f.body),
    p: f.isPrivate === true,
  };
}

function normaliseExceptions(list: OccurrenceException[], isAllDay: boolean): unknown[] {
  return list
    .map((x) => ({ o: normaliseTime(x.originalStart, isAllDay), f: x.fields ? normaliseFields(x.fields) : null }))
    .sort((a, b) => (a.o < b.o ? -1 : a.o > b.o ? 1 : 0));
}

/** The normalised projection, exposed for tests and diagnostics. */
export function contentProjection(fields: EventFields): Record<string, unknown> {
  return {
    ...normaliseFields(fields),
    r: normaliseRule(fields.recurrence),
    x: fields.recurrence ? normaliseExceptions(fields.exceptions ?? [], fields.isAllDay) : [],
  };
}

export function contentHash(fields: EventFields): string {
  return createHash('sha256').update(JSON.stringify(contentProjection(fields))).digest('base64url').slice(0, 32);
}
