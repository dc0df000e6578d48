import { describe, expect, it } from 'vitest';
import { formatInZone, parseSeedDate, parseSeedDateTime, wallToUtc, zoneOffsetMs } from '../common/zoned-time.ts';
import { lastOccurrenceStart, occurrenceStarts, recurrenceProblems, toRRule, type RecurrenceSpec } from './recurrence-expansion.ts';

const HEL = 'Europe/Helsinki';
const list = (spec: RecurrenceSpec, start: string, limit = 20) => {
  const out: string[] = [];
  for (const s of occurrenceStarts(spec, Date.parse(start), HEL, Number.MAX_SAFE_INTEGER)) {
    out.push(formatInZone(s, HEL));
    if (out.length === limit) break;
  }
  return out;
};

describe('zoned time', () => {
  it('knows Helsinki offsets on both sides of the DST changes', () => {
    expect(zoneOffsetMs(Date.parse('2030-03-31T00:59:59Z'), HEL)).toBe(2 * 3600_000);
    expect(zoneOffsetMs(Date.parse('2030-03-31T01:00:00Z'), HEL)).toBe(3 * 3600_000);
    expect(zoneOffsetMs(Date.parse('2030-10-27T00:59:59Z'), HEL)).toBe(3 * 3600_000);
    expect(zoneOffsetMs(Date.parse('2030-10-27T01:00:00Z'), HEL)).toBe(2 * 3600_000);
    expect(zoneOffsetMs(Date.parse('2030-06-01T12:00:00Z'), 'America/St_Johns')).toBe(-2.5 * 3600_000);
  });

  it('maps wall times to instants, moving a time in the spring gap forward and taking the earlier of an ambiguous one', () => {
    expect(new Date(wallToUtc(HEL, 2030, 1, 15, 9, 0)).toISOString()).toBe('2030-01-15T07:00:00.000Z');
    expect(new Date(wallToUtc(HEL, 2030, 3, 31, 3, 30)).toISOString()).toBe('2030-03-31T01:30:00.000Z'); // 03:30 does not exist
    expect(new Date(wallToUtc(HEL, 2030, 10, 27, 3, 30)).toISOString()).toBe('2030-10-27T00:30:00.000Z'); // 03:30 happens twice
  });

  it('formats with the offset in force', () => {
    expect(formatInZone(Date.parse('2030-01-15T07:00:00Z'), HEL)).toBe('2030-01-15T09:00:00+02:00');
    expect(formatInZone(Date.parse('2030-07-15T06:00:00Z'), HEL)).toBe('2030-07-15T09:00:00+03:00');
    expect(formatInZone(Date.parse('2030-07-15T06:00:00Z'), 'America/St_Johns')).toBe('2030-07-15T03:30:00-02:30');
  });

  it('reads relative and absolute seed dates', () => {
    const now = Date.parse('2030-03-30T22:30:00Z'); // already 31 March in Helsinki
    expect(formatInZone(parseSeedDateTime('today+1T09:00', HEL, now), HEL)).toBe('2030-04-01T09:00:00+03:00');
    expect(formatInZone(parseSeedDateTime('today-1T13:30', HEL, now), HEL)).toBe('2030-03-30T13:30:00+02:00');
    expect(formatInZone(parseSeedDateTime('today', HEL, now), HEL)).toBe('2030-03-31T00:00:00+02:00');
    expect(formatInZone(parseSeedDateTime('2030-05-02T10:00', HEL, now), HEL)).toBe('2030-05-02T10:00:00+03:00');
    expect(parseSeedDateTime('2030-05-02T10:00:00Z', HEL, now)).toBe(Date.parse('2030-05-02T10:00:00Z'));
    expect(parseSeedDate('today+3', HEL, now)).toBe('2030-04-03');
    expect(() => parseSeedDateTime('next tuesday', HEL, now)).toThrow(/not a date-time/);
    expect(() => parseSeedDate('today+1T09:00', HEL, now)).toThrow(/not a date/);
  });
});

describe('recurrence expansion', () => {
  it('daily every N days and every weekday', () => {
    expect(list({ frequency: 'Daily', pattern: { daily: { interval: 3 } }, range: { maxOccurrences: 3 } }, '2030-01-01T08:00:00+02:00')).toEqual([
      '2030-01-01T08:00:00+02:00',
      '2030-01-04T08:00:00+02:00',
      '2030-01-07T08:00:00+02:00',
    ]);
    // 2030-01-04 is a Friday.
    expect(list({ frequency: 'Daily', pattern: { daily: { everyWeekday: true } }, range: { maxOccurrences: 3 } }, '2030-01-04T08:00:00+02:00')).toEqual([
      '2030-01-04T08:00:00+02:00',
      '2030-01-07T08:00:00+02:00',
      '2030-01-08T08:00:00+02:00',
    ]);
  });

  it('weekly on several days every other week, until a date', () => {
    // 2030-01-02 is a Wednesday: the Monday of that week is before the start and is skipped.
    expect(list({ frequency: 'Weekly', pattern: { weekly: { interval: 2, monday: true, friday: true } }, range: { recursUntilDate: '2030-01-28' } }, '2030-01-02T10:00:00+02:00')).toEqual([
      '2030-01-04T10:00:00+02:00',
      '2030-01-14T10:00:00+02:00',
      '2030-01-18T10:00:00+02:00',
      '2030-01-28T10:00:00+02:00',
    ]);
  });

  it('keeps the local time across DST', () => {
    const spec: RecurrenceSpec = { frequency: 'Weekly', pattern: { weekly: { interval: 1, friday: true } }, range: { maxOccurrences: 3 } };
    expect(list(spec, '2030-03-22T09:00:00+02:00')).toEqual(['2030-03-22T09:00:00+02:00', '2030-03-29T09:00:00+02:00', '2030-04-05T09:00:00+03:00']);
  });

  it('monthly by day of month (clamped to short months) and by ordinal', () => {
    expect(list({ frequency: 'Monthly', pattern: { monthly: { interval: 1, dayOfMonth: 31 } }, range: { maxOccurrences: 3 } }, '2030-01-31T12:00:00+02:00')).toEqual([
      '2030-01-31T12:00:00+02:00',
      '2030-02-28T12:00:00+02:00',
      '2030-03-31T12:00:00+03:00',
    ]);
    expect(list({ frequency: 'Monthly', pattern: { monthly: { interval: 2, dayOrdinal: 'Second', dayOrdinalOption: 'Tuesday' } }, range: { maxOccurrences: 3 } }, '2030-01-01T12:00:00+02:00')).toEqual([
      '2030-01-08T12:00:00+02:00',
      '2030-03-12T12:00:00+02:00',
      '2030-05-14T12:00:00+03:00',
    ]);
    expect(list({ frequency: 'Monthly', pattern: { monthly: { interval: 1, dayOrdinal: 'Last', dayOrdinalOption: 'WeekDay' } }, range: { maxOccurrences: 2 } }, '2030-08-01T12:00:00+03:00')).toEqual([
      '2030-08-30T12:00:00+03:00',
      '2030-09-30T12:00:00+03:00',
    ]);
  });

  it('yearly on a month and day, starting next year when this year\'s date has passed', () => {
    expect(list({ frequency: 'Yearly', pattern: { yearly: { month: 'March', dayOfMonth: 15 } }, range: { maxOccurrences: 2 } }, '2030-06-01T09:00:00+03:00')).toEqual([
      '2031-03-15T09:00:00+02:00',
      '2032-03-15T09:00:00+02:00',
    ]);
    expect(list({ frequency: 'Yearly', pattern: { yearly: { month: 'May', dayOrdinal: 'First', dayOrdinalOption: 'Monday' } }, range: { maxOccurrences: 2 } }, '2030-01-01T09:00:00+02:00')).toEqual([
      '2030-05-06T09:00:00+03:00',
      '2031-05-05T09:00:00+03:00',
    ]);
  });

  it('ends an open series at the horizon and knows the last occurrence of a bounded one', () => {
    const open: RecurrenceSpec = { frequency: 'Daily', pattern: { daily: { interval: 1 } }, range: null };
    const all = [...occurrenceStarts(open, Date.parse('2030-01-01T08:00:00+02:00'), HEL, Number.MAX_SAFE_INTEGER)];
    expect(all.length).toBeGreaterThan(700);
    expect(all.length).toBeLessThan(740);
    expect(lastOccurrenceStart(open, Date.parse('2030-01-01T08:00:00+02:00'), HEL)).toBeNull();
    const bounded: RecurrenceSpec = { frequency: 'Weekly', pattern: { weekly: { interval: 1, monday: true } }, range: { maxOccurrences: 4 } };
    expect(formatInZone(lastOccurrenceStart(bounded, Date.parse('2030-01-07T08:00:00+02:00'), HEL)!, HEL)).toBe('2030-01-28T08:00:00+02:00');
  });

  it('writes an RRULE and names bad patterns', () => {
    expect(toRRule({ frequency: 'Weekly', pattern: { weekly: { interval: 2, monday: true, thursday: true } }, range: { maxOccurrences: 5 } }, null)).toBe('FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=5');
    expect(toRRule({ frequency: 'Monthly', pattern: { monthly: { interval: 1, dayOrdinal: 'Last', dayOrdinalOption: 'Friday' } }, range: null }, null)).toBe('FREQ=MONTHLY;INTERVAL=1;BYDAY=-1FR');
    expect(recurrenceProblems({ frequency: 'Daily', pattern: { daily: { interval: 0 } }, range: { maxOccurrences: -1 } })).toHaveLength(2);
    expect(recurrenceProblems({ frequency: 'Monthly', pattern: { monthly: { dayOfMonth: 32 } }, range: null })).toEqual(['recurrence.pattern.monthly.dayOfMonth must be from 1 to 31.']);
  });
});
