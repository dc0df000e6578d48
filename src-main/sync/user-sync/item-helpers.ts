import type { PairRecord } from '../../store/sync-store.ts';
import type { EventFields, SideEvent } from '../calendar-event.ts';
import { contentHash } from '../event-content-hash.ts';
import { addDays, localToMs } from '../zoned-time.ts';
import { isPlainSingle } from './candidate.ts';

/** Pure helpers of one user's sync: how items are recognised, placed in time, and first paired. */

/** Tag for an Exchange item brought back by a restore: not a Severa guid, so the next cycle syncs it like a new entry. */
export const RESTORED_TAG_PREFIX = 'restored:';

/** Slack around a time when Severa is searched for an activity at that time. */
export const OVERLAP_TOLERANCE_MS = 60_000;

/** Content hash without a series' exceptions. */
export const baseHash = (f: EventFields): string => contentHash({ ...f, exceptions: [] });

export function identityKey(fields: Pick<EventFields, 'subject' | 'start' | 'end' | 'isAllDay'>): string {
  const t = (v: string) => (fields.isAllDay ? v.slice(0, 10) : String(Date.parse(v)));
  return `${fields.subject.replace(/\s+/g, ' ').trim().toLowerCase()}|${fields.isAllDay ? 'd' : 't'}|${t(fields.start)}|${t(fields.end)}`;
}

/** Start and end of an item (a whole series) in ms, for window checks. Over-estimates a series' end rather than cut it. */
export function itemRangeMs(fields: EventFields, timeZone: string): { start: number; end: number } {
  const toMs = (v: string) => (fields.isAllDay ? localToMs(fields.timeZone || timeZone, v.slice(0, 10)) : Date.parse(v));
  const start = toMs(fields.start);
  let end = toMs(fields.end);
  if (Number.isNaN(end) || end < start) end = start;
  const r = fields.recurrence;
  if (r) {
    const duration = end - start;
    if (r.until) end = localToMs(fields.timeZone || timeZone, addDays(r.until.slice(0, 10), 1)) + duration;
    else if (r.count) {
      const periodDays = { Daily: 1, Weekly: 7, Monthly: 31, Yearly: 366 }[r.frequency] * Math.max(1, r.interval || 1);
      end = start + (r.count + 1) * periodDays * 86_400_000 + duration;
    } else end = Number.POSITIVE_INFINITY;
  }
  return { start, end };
}

/** A pair known so far only from its Exchange side: the Severa side is filled in when that side is read or written. */
export function exchangeOnlyPair(event: SideEvent, who: Pick<PairRecord, 'email' | 'mailbox' | 'severaGuid' | 'role' | 'origin'>): PairRecord {
  return {
    ...who,
    exchangeId: event.id,
    uid: event.uid ?? null,
    exchangeVersion: event.version,
    exchangePlainSingle: isPlainSingle(event.id, event.fields),
    exchangeHash: contentHash(event.fields),
    exchangeModified: event.lastModified,
    severaVersion: '',
    severaHash: '',
    severaModified: '',
    subject: event.fields.subject,
    start: event.fields.start,
    end: event.fields.end,
    exchangeGone: false,
    severaGone: false,
  };
}
