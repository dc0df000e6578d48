import { describe, expect, it } from 'vitest';
import type { RecurrenceRule } from '../../src-main/sync/calendar-event.ts';
import { occurrenceDates, occurrenceIndexOf, recurrenceRuleProblem } from '../../src-main/exchange/ews/recurrence-expansion.ts';
import { fromLocal, localDateOf, startOfLocalDate, toLocal, utcOffsetMs } from '../../src-main/exchange/ews/time-zone-conversion.ts';
import { htmlToText } from '../../src-main/exchange/ews/html-to-text.ts';

const take = (rule: RecurrenceRule, n: number) => {
  const out: string[] = [];
  for (const d of occurrenceDates(rule)) {
    out.push(d);
    if (out.length >= n) break;
  }
  return out;
};

describe('wall clock <-> instant across DST', () => {
  it('Helsinki: 09:00 is 07:00Z in winter time and 06:00Z in summer time (change on 2026-03-29)', () => {
    expect(new Date(fromLocal({ year: 2026, month: 3, day: 28, hour: 9, minute: 0, second: 0 }, 'Europe/Helsinki')).toISOString()).toBe('2026-03-28T07:00:00.000Z');
    expect(new Date(fromLocal({ year: 2026, month: 3, day: 30, hour: 9, minute: 0, second: 0 }, 'Europe/Helsinki')).toISOString()).toBe('2026-03-30T06:00:00.000Z');
  });

  it('New York: a time in the spring-forward gap lands after it; the repeated autumn hour takes the first instant', () => {
    // 2026-03-08 02:30 does not exist in New York: read with EST it is 07:30Z = 03:30 EDT.
    const gap = fromLocal({ year: 2026, month: 3, day: 8, hour: 2, minute: 30, second: 0 }, 'America/New_York');
    expect(new Date(gap).toISOString()).toBe('2026-03-08T07:30:00.000Z');
    expect(toLocal(gap, 'America/New_York')).toMatchObject({ hour: 3, minute: 30 });
    // 2026-11-01 01:30 happens twice (EDT then EST): the first is 05:30Z.
    const overlap = fromLocal({ year: 2026, month: 11, day: 1, hour: 1, minute: 30, second: 0 }, 'America/New_York');
    expect(new Date(overlap).toISOString()).toBe('2026-11-01T05:30:00.000Z');
  });

  it('local dates and midnights', () => {
    expect(localDateOf(Date.parse('2026-03-28T22:30:00Z'), 'Europe/Helsinki')).toBe('2026-03-29');
    expect(new Date(startOfLocalDate('2026-03-29', 'Europe/Helsinki')).toISOString()).toBe('2026-03-28T22:00:00.000Z');
    expect(new Date(startOfLocalDate('2026-03-30', 'Europe/Helsinki')).toISOString()).toBe('2026-03-29T21:00:00.000Z');
    expect(utcOffsetMs(Date.parse('2026-07-01T00:00:00Z'), 'America/New_York')).toBe(-4 * 3600_000);
  });
});

describe('recurrence expansion (EWS occurrence positions)', () => {
  it('weekly every 2 weeks on Mon+Wed counts whole weeks from the start week', () => {
    const rule: RecurrenceRule = { frequency: 'Weekly', interval: 2, daysOfWeek: ['Monday', 'Wednesday'], startDate: '2026-03-04', count: 5 };
    expect(take(rule, 10)).toEqual(['2026-03-04', '2026-03-16', '2026-03-18', '2026-03-30', '2026-04-01']);
    expect(occurrenceIndexOf(rule, '2026-03-18')).toBe(3);
    expect(occurrenceIndexOf(rule, '2026-03-09')).toBeNull();
    expect(occurrenceIndexOf(rule, '2026-04-13')).toBeNull(); // beyond the count
  });

  it('monthly on the 31st falls on the last day of shorter months; relative "last Friday"; yearly', () => {
    expect(take({ frequency: 'Monthly', interval: 1, dayOfMonth: 31, startDate: '2026-01-31' }, 3)).toEqual(['2026-01-31', '2026-02-28', '2026-03-31']);
    expect(take({ frequency: 'Monthly', interval: 1, weekOrdinal: 'Last', dayOfWeek: 'Friday', startDate: '2026-01-01' }, 3)).toEqual(['2026-01-30', '2026-02-27', '2026-03-27']);
    expect(take({ frequency: 'Yearly', interval: 1, month: 2, dayOfMonth: 29, startDate: '2028-02-29' }, 2)).toEqual(['2028-02-29', '2029-02-28']);
    expect(take({ frequency: 'Yearly', interval: 1, month: 11, weekOrdinal: 'Fourth', dayOfWeek: 'Thursday', startDate: '2026-01-01', until: '2027-12-31' }, 5)).toEqual(['2026-11-26', '2027-11-25']);
  });

  it('daily with an end date is inclusive', () => {
    expect(take({ frequency: 'Daily', interval: 3, startDate: '2026-03-01', until: '2026-03-07' }, 10)).toEqual(['2026-03-01', '2026-03-04', '2026-03-07']);
  });

  it('names what is wrong with a rule', () => {
    expect(recurrenceRuleProblem({ frequency: 'Weekly', interval: 1, startDate: '2026-03-01' })).toMatch(/at least one day/);
    expect(recurrenceRuleProblem({ frequency: 'Daily', interval: 0, startDate: '2026-03-01' })).toMatch(/interval/);
    expect(recurrenceRuleProblem({ frequency: 'Daily', interval: 1, startDate: '2026-02-30' })).toMatch(/not a date/);
    expect(recurrenceRuleProblem({ frequency: 'Daily', interval: 1, startDate: '2026-03-01', count: 3, until: '2026-04-01' })).toMatch(/not both/);
    expect(recurrenceRuleProblem({ frequency: 'Daily', interval: 1, startDate: '2026-03-01', count: 3 })).toBeNull();
  });
});

describe('HTML bodies to text', () => {
  it('keeps paragraphs and line breaks, drops markup, styles and comments, decodes entities', () => {
    const html = '<html><head><style>p{color:red}</style></head><body><p class=MsoNormal>Agenda:<o:p></o:p></p><p>1. Budget &amp; plan<br>2. Next&nbsp;steps</p><!-- hidden --><ul><li>one</li><li>two</li></ul><p>Caf&#233; &lt;b&gt;</p></body></html>';
    expect(htmlToText(html)).toBe('Agenda:\n1. Budget & plan\n2. Next steps\n- one\n- two\nCafé <b>');
  });

  it('leaves an empty body empty', () => {
    expect(htmlToText('')).toBe('');
    expect(htmlToText('<html><body></body></html>')).toBe('');
  });
});
