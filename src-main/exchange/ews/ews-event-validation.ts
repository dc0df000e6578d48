import type { EventFields } from '../../sync/calendar-event.ts';
import { recurrenceRuleProblem } from './recurrence-expansion.ts';
import { isIsoDate, isValidTimeZone, parseInstant } from './time-zone-conversion.ts';

/** Validation of what the engine asks us to write, before any of it reaches Exchange. */

const EMAIL_RE = /^[^\s@<>()"',;:]+@[^\s@<>()"',;:]+\.[^\s@<>()"',;:]+$/;

/** One plain sentence describing why these fields cannot be written, or null when they can. */
export function eventFieldsProblem(fields: EventFields | Omit<EventFields, 'recurrence'>, label = 'The event'): string | null {
  if (!fields || typeof fields !== 'object') return `${label} has no fields.`;
  if (typeof fields.subject !== 'string') return `${label} has no subject text.`;
  if (fields.subject.length > 255) return `${label}'s subject is longer than 255 characters.`;
  if (typeof fields.isAllDay !== 'boolean') return `${label} does not say whether it is all-day.`;
  if (!isValidTimeZone(fields.timeZone)) return `${label}'s time zone "${String(fields.timeZone)}" is not a known IANA zone.`;
  if (fields.isAllDay) {
    if (!isIsoDate(fields.start) || !isIsoDate(fields.end)) return `${label} is all-day, so its start and end must be dates (YYYY-MM-DD), not "${String(fields.start)}" / "${String(fields.end)}".`;
    if (fields.end <= fields.start) return `${label} ends (${fields.end}) before or on the day it starts (${fields.start}); an all-day end is the day after the last day.`;
  } else {
    try {
      const start = parseInstant(fields.start, `${label}'s start`);
      const end = parseInstant(fields.end, `${label}'s end`);
      if (end < start) return `${label} ends (${fields.end}) before it starts (${fields.start}).`;
    } catch (error) {
      return (error as Error).message;
    }
  }
  if (typeof fields.location !== 'string' || typeof fields.body !== 'string') return `${label}'s location and body must be text.`;
  if (typeof fields.isPrivate !== 'boolean') return `${label} does not say whether it is private.`;
  if (!Array.isArray(fields.attendees)) return `${label}'s attendees must be a list.`;
  const bad = fields.attendees.find((a) => typeof a !== 'string' || !EMAIL_RE.test(a.trim()));
  if (bad !== undefined) return `${label} has an attendee "${String(bad)}" that is not an email address.`;
  if ('recurrence' in fields && fields.recurrence) {
    const problem = recurrenceRuleProblem(fields.recurrence);
    if (problem) return problem;
  }
  if (!Array.isArray(fields.exceptions)) return `${label}'s exceptions must be a list.`;
  for (const exception of fields.exceptions) {
    if (!exception || typeof exception.originalStart !== 'string') return `${label} has an exception without an original start.`;
    const keyOk = fields.isAllDay ? isIsoDate(exception.originalStart) : !Number.isNaN(Date.parse(exception.originalStart)) && /T/.test(exception.originalStart);
    if (!keyOk) return `${label} has an exception whose original start "${exception.originalStart}" does not match the series (${fields.isAllDay ? 'a date' : 'a date-time'} expected).`;
    if (exception.fields) {
      const problem = eventFieldsProblem(exception.fields, `The occurrence of ${exception.originalStart}`);
      if (problem) return problem;
    }
  }
  if (fields.exceptions.length > 0 && !('recurrence' in fields && fields.recurrence)) return `${label} has exceptions but no recurrence.`;
  return null;
}
