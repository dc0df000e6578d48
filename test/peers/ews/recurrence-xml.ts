/**
 * Recurrence in CalendarItem XML: reading a Recurrence element (pattern and range, checked as Exchange checks them)
 * and writing one back. Expanding a series into occurrences is recurrence.ts.
 */
import type { DaysOfWeekValue, DayOfWeekIndex, MonthName, SimRecurrence, SimRecurrencePattern, SimRecurrenceRange, Weekday } from './calendar-model.ts';
import { DAY_INDEXES, MONTHS, WEEKDAYS } from './calendar-model.ts';
import type { XmlElement } from './xml-parser.ts';
import { childText } from './xml-parser.ts';
import type { ApiVersion } from './soap-envelope.ts';
import { EwsError, TYPES_NS, el, versionAtLeast } from './soap-envelope.ts';
import { formatDate, parseEwsDate } from './time-zones.ts';
import { int, oneOf, schemaError } from './schema-validation.ts';

const T = TYPES_NS;

export function readRecurrence(e: XmlElement): SimRecurrence {
  let pattern: SimRecurrencePattern | undefined;
  let range: SimRecurrenceRange | undefined;
  for (const c of e.children) {
    if (c.ns !== T) continue;
    const interval = (): number => {
      const v = int(childText(c, T, 'Interval') ?? '', `${c.name}/Interval`);
      if (v < 1 || v > 999) throw new EwsError('ErrorInvalidRecurrence', 'Interval must be between 1 and 999.');
      return v;
    };
    const dayOfMonth = (): number => {
      const v = int(childText(c, T, 'DayOfMonth') ?? '', `${c.name}/DayOfMonth`);
      if (v < 1 || v > 31) throw new EwsError('ErrorInvalidRecurrence', 'DayOfMonth must be between 1 and 31.');
      return v;
    };
    const daysValue = (): DaysOfWeekValue =>
      oneOf(childText(c, T, 'DaysOfWeek') ?? '', [...WEEKDAYS, 'Day', 'Weekday', 'WeekendDay'] as DaysOfWeekValue[], `${c.name}/DaysOfWeek`);
    const index = (): DayOfWeekIndex => oneOf(childText(c, T, 'DayOfWeekIndex') ?? '', DAY_INDEXES, `${c.name}/DayOfWeekIndex`);
    const month = (): MonthName => oneOf(childText(c, T, 'Month') ?? '', MONTHS, `${c.name}/Month`);
    const date = (name: string): string => {
      const raw = childText(c, T, name);
      const d = raw ? parseEwsDate(raw) : null;
      if (!d) throw schemaError(`The value '${raw ?? ''}' is invalid for ${c.name}/${name} (xs:date).`);
      return formatDate(...d);
    };
    switch (c.name) {
      case 'DailyRecurrence':
        pattern = { type: 'Daily', interval: interval() };
        break;
      case 'WeeklyRecurrence': {
        const days = (childText(c, T, 'DaysOfWeek') ?? '').trim().split(/\s+/).filter(Boolean);
        // Exchange keeps a weekly pattern's days as a set of weekdays: a day group (Weekday, WeekendDay, Day) is stored,
        // and read back, as the days it stands for.
        const named = days.map((d) => oneOf(d, [...WEEKDAYS, 'Day', 'Weekday', 'WeekendDay'] as DaysOfWeekValue[], 'WeeklyRecurrence/DaysOfWeek'));
        const daysOfWeek = WEEKDAYS.filter((w, i) =>
          named.some((d) => d === w || d === 'Day' || (d === 'Weekday' && i >= 1 && i <= 5) || (d === 'WeekendDay' && (i === 0 || i === 6))),
        );
        if (!daysOfWeek.length) throw new EwsError('ErrorInvalidRecurrence', 'A weekly recurrence needs DaysOfWeek.');
        const first = childText(c, T, 'FirstDayOfWeek');
        pattern = { type: 'Weekly', interval: interval(), daysOfWeek: daysOfWeek as Weekday[] };
        if (first) pattern.firstDayOfWeek = oneOf(first, WEEKDAYS, 'FirstDayOfWeek');
        break;
      }
      case 'AbsoluteMonthlyRecurrence':
        pattern = { type: 'AbsoluteMonthly', interval: interval(), dayOfMonth: dayOfMonth() };
        break;
      case 'RelativeMonthlyRecurrence':
        pattern = { type: 'RelativeMonthly', interval: interval(), daysOfWeek: daysValue(), dayOfWeekIndex: index() };
        break;
      case 'AbsoluteYearlyRecurrence':
        pattern = { type: 'AbsoluteYearly', dayOfMonth: dayOfMonth(), month: month() };
        break;
      case 'RelativeYearlyRecurrence':
        pattern = { type: 'RelativeYearly', daysOfWeek: daysValue(), dayOfWeekIndex: index(), month: month() };
        break;
      case 'NoEndRecurrence':
        range = { type: 'NoEnd', startDate: date('StartDate') };
        break;
      case 'EndDateRecurrence':
        range = { type: 'EndDate', startDate: date('StartDate'), endDate: date('EndDate') };
        break;
      case 'NumberedRecurrence': {
        const count = int(childText(c, T, 'NumberOfOccurrences') ?? '', 'NumberedRecurrence/NumberOfOccurrences');
        if (count < 1 || count > 999) throw new EwsError('ErrorInvalidRecurrence', 'NumberOfOccurrences must be between 1 and 999.');
        range = { type: 'Numbered', startDate: date('StartDate'), count };
        break;
      }
      default:
        if (/Regeneration$/.test(c.name)) throw new EwsError('ErrorInvalidRecurrence', `${c.name} applies to tasks, not calendar items.`);
        throw schemaError(`The element '${c.name}' is not valid in Recurrence.`);
    }
  }
  if (!pattern || !range) throw new EwsError('ErrorInvalidRecurrence', 'A recurrence needs a pattern and a range.');
  if (range.type === 'EndDate' && range.endDate < range.startDate) {
    throw new EwsError('ErrorInvalidRecurrence', 'The recurrence EndDate is before its StartDate.');
  }
  return { pattern, range };
}

export function recurrenceXml(r: SimRecurrence, version: ApiVersion): string {
  const p = r.pattern;
  let pat: string;
  switch (p.type) {
    case 'Daily':
      pat = `<t:DailyRecurrence>${el('t:Interval', p.interval)}</t:DailyRecurrence>`;
      break;
    case 'Weekly':
      pat =
        `<t:WeeklyRecurrence>${el('t:Interval', p.interval)}${el('t:DaysOfWeek', p.daysOfWeek.join(' '))}` +
        (versionAtLeast(version, 'Exchange2010') ? el('t:FirstDayOfWeek', p.firstDayOfWeek ?? 'Sunday') : '') +
        `</t:WeeklyRecurrence>`;
      break;
    case 'AbsoluteMonthly':
      pat = `<t:AbsoluteMonthlyRecurrence>${el('t:Interval', p.interval)}${el('t:DayOfMonth', p.dayOfMonth)}</t:AbsoluteMonthlyRecurrence>`;
      break;
    case 'RelativeMonthly':
      pat = `<t:RelativeMonthlyRecurrence>${el('t:Interval', p.interval)}${el('t:DaysOfWeek', p.daysOfWeek)}${el('t:DayOfWeekIndex', p.dayOfWeekIndex)}</t:RelativeMonthlyRecurrence>`;
      break;
    case 'AbsoluteYearly':
      pat = `<t:AbsoluteYearlyRecurrence>${el('t:DayOfMonth', p.dayOfMonth)}${el('t:Month', p.month)}</t:AbsoluteYearlyRecurrence>`;
      break;
    case 'RelativeYearly':
      pat = `<t:RelativeYearlyRecurrence>${el('t:DaysOfWeek', p.daysOfWeek)}${el('t:DayOfWeekIndex', p.dayOfWeekIndex)}${el('t:Month', p.month)}</t:RelativeYearlyRecurrence>`;
      break;
  }
  const g = r.range;
  let range: string;
  if (g.type === 'NoEnd') range = `<t:NoEndRecurrence>${el('t:StartDate', g.startDate)}</t:NoEndRecurrence>`;
  else if (g.type === 'EndDate') range = `<t:EndDateRecurrence>${el('t:StartDate', g.startDate)}${el('t:EndDate', g.endDate)}</t:EndDateRecurrence>`;
  else range = `<t:NumberedRecurrence>${el('t:StartDate', g.startDate)}${el('t:NumberOfOccurrences', g.count)}</t:NumberedRecurrence>`;
  return `<t:Recurrence>${pat}${range}</t:Recurrence>`;
}
