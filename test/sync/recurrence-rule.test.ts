import { describe, expect, it } from 'vitest';
import type { EventFields, RecurrenceRule } from '../../src-main/sync/calendar-event.ts';
import { contentHash } from '../../src-main/sync/event-content-hash.ts';
import {
  canonicalRule,
  exceptionsOnPatternDays,
  firstOccurrenceFrom,
  occurrenceAt,
  occurrenceDates,
  occurrenceIndexOf,
  occurrencesInWindow,
  sameDatesWithWeekStart,
} from '../../src-main/sync/recurrence-rule.ts';
import { occurrenceEvent, occurrenceItemId, parseOccurrenceItemId, seriesWithOccurrence, serverItemId } from '../../src-main/sync/series-flattening.ts';

const HEL = 'Europe/Helsinki';
const take = (rule: RecurrenceRule, n = 50) => {
  const out: string[] = [];
  for (const d of occurrenceDates(rule)) {
    out.push(d);
    if (out.length >= n) break;
  }
  return out;
};

const series = (over: Partial<EventFields> = {}): EventFields => ({
  subject: 'Fortnightly',
  // Wednesday 4 March 2026, 12:00-13:00 Helsinki (UTC+2 until 29 March, +3 after).
  start: '2026-03-04T10:00:00.000Z',
  end: '2026-03-04T11:00:00.000Z',
  isAllDay: false,
  timeZone: HEL,
  location: 'Room',
  body: '',
  isPrivate: false,
  recurrence: { frequency: 'Weekly', interval: 2, daysOfWeek: ['Sunday', 'Wednesday'], startDate: '2026-03-04', count: 8 },
  exceptions: [],
  attendees: [],
  organizer: null,
  ...over,
});

describe('day groups in relative patterns', () => {
  it('the last weekday, the first weekend day and the second day of a month', () => {
    // May 2026 ends on a Sunday: its last weekday is Friday 29 May. August 2026 starts on a Saturday.
    expect(take({ frequency: 'Monthly', interval: 1, weekOrdinal: 'Last', dayOfWeek: 'Weekday', startDate: '2026-04-01', count: 3 })).toEqual(['2026-04-30', '2026-05-29', '2026-06-30']);
    expect(take({ frequency: 'Monthly', interval: 1, weekOrdinal: 'First', dayOfWeek: 'WeekendDay', startDate: '2026-07-01', count: 3 })).toEqual(['2026-07-04', '2026-08-01', '2026-09-05']);
    expect(take({ frequency: 'Yearly', interval: 1, month: 1, weekOrdinal: 'Second', dayOfWeek: 'Day', startDate: '2026-01-01', count: 2 })).toEqual(['2026-01-02', '2027-01-02']);
    expect(take({ frequency: 'Monthly', interval: 1, weekOrdinal: 'Fourth', dayOfWeek: 'Weekday', startDate: '2026-02-01', count: 1 })).toEqual(['2026-02-05']);
  });
});

describe('week starts', () => {
  it('"every 2 weeks" on Sunday and Wednesday: weeks from Sunday and from Monday give different dates', () => {
    const sunday = { frequency: 'Weekly', interval: 2, daysOfWeek: ['Sunday', 'Wednesday'], startDate: '2026-03-04', count: 4 } as RecurrenceRule;
    expect(take(sunday)).toEqual(['2026-03-04', '2026-03-15', '2026-03-18', '2026-03-29']);
    expect(take({ ...sunday, firstDayOfWeek: 'Monday' })).toEqual(['2026-03-04', '2026-03-08', '2026-03-18', '2026-03-22']);
    expect(occurrenceIndexOf({ ...sunday, firstDayOfWeek: 'Monday' }, '2026-03-22')).toBe(4);
    expect(occurrenceIndexOf(sunday, '2026-03-22')).toBeNull();
    expect(sameDatesWithWeekStart(sunday, 'Monday')).toBe(false);
    expect(sameDatesWithWeekStart({ ...sunday, daysOfWeek: ['Tuesday', 'Thursday'] }, 'Monday')).toBe(true);
  });

  it('the canonical rule keeps a week start only where it moves dates', () => {
    const rule: RecurrenceRule = { frequency: 'Weekly', interval: 2, daysOfWeek: ['Sunday', 'Wednesday'], startDate: '2026-03-04', firstDayOfWeek: 'Monday' };
    expect(canonicalRule(rule)).toEqual(rule);
    expect(canonicalRule({ ...rule, daysOfWeek: ['Wednesday'] })).toEqual({ frequency: 'Weekly', interval: 2, daysOfWeek: ['Wednesday'], startDate: '2026-03-04' });
    expect(canonicalRule({ ...rule, interval: 1 }).firstDayOfWeek).toBeUndefined();
    expect(canonicalRule({ ...rule, firstDayOfWeek: 'Sunday' }).firstDayOfWeek).toBeUndefined();
    // The content hash sees the week start only where it matters.
    const base = series({ recurrence: { ...rule, daysOfWeek: ['Wednesday'] } });
    expect(contentHash(base)).toBe(contentHash({ ...base, recurrence: { ...base.recurrence!, firstDayOfWeek: undefined } }));
    expect(contentHash(series({ recurrence: rule }))).not.toBe(contentHash(series({ recurrence: { ...rule, firstDayOfWeek: undefined } })));
  });
});

describe('a series as single occurrences inside a window', () => {
  it('keeps wall-clock time across DST, leaves deleted occurrences out and uses changed ones', () => {
    const moved = { ...series(), subject: 'Fortnightly (moved)', start: '2026-03-19T12:00:00.000Z', end: '2026-03-19T13:00:00.000Z', recurrence: undefined, exceptions: [] };
    const { recurrence: _r, ...movedFields } = moved;
    const s = series({
      exceptions: [
        { originalStart: '2026-03-15T10:00:00.000Z', fields: null },
        { originalStart: '2026-03-18T10:00:00.000Z', fields: movedFields },
      ],
    });
    const from = Date.parse('2026-03-10T00:00:00Z');
    const to = Date.parse('2026-04-10T00:00:00Z');
    const got = occurrencesInWindow(s, from, to).map((o) => [o.key, o.fields.subject, o.fields.start, o.fields.recurrence]);
    expect(got).toEqual([
      ['2026-03-18T10:00:00.000Z', 'Fortnightly (moved)', '2026-03-19T12:00:00.000Z', null],
      // 29 March is the DST change: 12:00 local is 09:00Z from then on.
      ['2026-03-29T09:00:00.000Z', 'Fortnightly', '2026-03-29T09:00:00.000Z', null],
      ['2026-04-01T09:00:00.000Z', 'Fortnightly', '2026-04-01T09:00:00.000Z', null],
    ]);
    expect(occurrenceAt(s, '2026-03-15T10:00:00.000Z')).toBeNull();
    expect(occurrenceAt(s, '2026-03-16T10:00:00.000Z')).toBeUndefined();
    expect(occurrenceAt(s, '2026-03-29T09:00:00Z')?.start).toBe('2026-03-29T09:00:00.000Z');
    expect(new Date(firstOccurrenceFrom(s, to)!).toISOString()).toBe('2026-04-12T09:00:00.000Z');
    expect(firstOccurrenceFrom(s, Date.parse('2027-01-01T00:00:00Z'))).toBeNull();
  });

  it('an all-day series keys its occurrences by local date', () => {
    const s = series({ isAllDay: true, start: '2026-03-02', end: '2026-03-03', recurrence: { frequency: 'Monthly', interval: 1, weekOrdinal: 'Last', dayOfWeek: 'Weekday', startDate: '2026-03-02', count: 3 } });
    const got = occurrencesInWindow(s, Date.parse('2026-03-01T00:00:00Z'), Date.parse('2026-12-01T00:00:00Z')).map((o) => [o.key, o.fields.start, o.fields.end]);
    expect(got).toEqual([['2026-03-31', '2026-03-31', '2026-04-01'], ['2026-04-30', '2026-04-30', '2026-05-01'], ['2026-05-29', '2026-05-29', '2026-05-30']]);
  });

  it('occurrence ids name their series; one occurrence changed or deleted is an exception of the series', () => {
    const id = occurrenceItemId('AAMkAD+x/y==', '2026-03-29T09:00:00.000Z');
    expect(parseOccurrenceItemId(id)).toEqual({ seriesId: 'AAMkAD+x/y==', key: '2026-03-29T09:00:00.000Z' });
    expect(serverItemId(id)).toBe('AAMkAD+x/y==');
    expect(parseOccurrenceItemId('AAMkAD+x/y==')).toBeNull();

    const s = series();
    const event = occurrenceEvent({ id: 'S1', version: 'ck1', lastModified: '2026-03-01T00:00:00.000Z', fields: s, uid: 'U1' }, occurrencesInWindow(s, Date.parse('2026-03-20T00:00:00Z'), Date.parse('2026-03-30T00:00:00Z'))[0]);
    expect(event).toMatchObject({ id: 'S1#occurrence:2026-03-29T09:00:00.000Z', uid: 'U1#occurrence:2026-03-29T09:00:00.000Z', version: contentHash(event.fields) });

    const { recurrence: _r, exceptions: _x, ...occ } = { ...event.fields, location: 'Elsewhere' };
    const changed = seriesWithOccurrence(s, '2026-03-29T09:00:00Z', occ);
    expect(changed.exceptions).toEqual([{ originalStart: '2026-03-29T09:00:00.000Z', fields: { ...occ, exceptions: [] } }]);
    expect(changed.recurrence).toEqual(s.recurrence);
    const deleted = seriesWithOccurrence(changed, '2026-03-29T09:00:00.000Z', null);
    expect(deleted.exceptions).toEqual([{ originalStart: '2026-03-29T09:00:00.000Z', fields: null }]);
    // Changed back to what the pattern gives: no exception at all.
    const { recurrence: _r2, exceptions: _x2, ...plain } = event.fields;
    expect(seriesWithOccurrence(changed, '2026-03-29T09:00:00.000Z', plain).exceptions).toEqual([]);
  });
});

describe('a series moved to another time of day', () => {
  it('puts occurrences kept under their old starts on that day\'s occurrence, leaves the others and a taken day alone', () => {
    // Fortnightly Wednesdays and Sundays (weeks from Sunday: 4, 15, 18, 29 March, 1 April...), moved from 12:00 to 14:00 Helsinki; Severa
    // kept a change of 18 March and a deletion of 15 March at 12:00 (10:00Z).
    const moved = series({ start: '2026-03-04T12:00:00.000Z', end: '2026-03-04T13:00:00.000Z' });
    const change = { ...series({ subject: 'Moved one', start: '2026-03-18T13:00:00.000Z', end: '2026-03-18T14:00:00.000Z' }), recurrence: null, exceptions: [] };
    const { fields, moved: rekeyed } = exceptionsOnPatternDays({
      ...moved,
      exceptions: [
        { originalStart: '2026-03-18T10:00:00.000Z', fields: change },
        { originalStart: '2026-03-15T10:00:00.000Z', fields: null },
        // Already on the pattern (29 March, after the clocks changed): stays.
        { originalStart: '2026-03-29T11:00:00.000Z', fields: null },
        // 1 April is 14:00 Helsinki after the clocks changed (11:00Z): on the pattern, stays.
        { originalStart: '2026-04-01T11:00:00.000Z', fields: null },
        // Not a day of the pattern at all (11 March is in the week off): stays where it is.
        { originalStart: '2026-03-11T10:00:00.000Z', fields: null },
      ],
    });
    expect(fields.exceptions.map((x) => x.originalStart)).toEqual(['2026-03-11T10:00:00.000Z', '2026-03-15T12:00:00.000Z', '2026-03-18T12:00:00.000Z', '2026-03-29T11:00:00.000Z', '2026-04-01T11:00:00.000Z']);
    expect(fields.exceptions.find((x) => x.originalStart === '2026-03-18T12:00:00.000Z')?.fields).toEqual(change);
    expect([...rekeyed]).toEqual([
      ['2026-03-18T10:00:00.000Z', '2026-03-18T12:00:00.000Z'],
      ['2026-03-15T10:00:00.000Z', '2026-03-15T12:00:00.000Z'],
    ]);
    // Nothing off the pattern: the same object back.
    const plain = { ...moved, exceptions: [{ originalStart: '2026-03-29T11:00:00.000Z', fields: null }] };
    expect(exceptionsOnPatternDays(plain).fields).toBe(plain);
    // The day's occurrence already has an exception of its own: the old one is not put on top of it.
    const both = exceptionsOnPatternDays({ ...moved, exceptions: [{ originalStart: '2026-03-18T10:00:00.000Z', fields: null }, { originalStart: '2026-03-18T12:00:00.000Z', fields: change }] });
    expect(both.moved.size).toBe(0);
  });
});
