import { describe, expect, it } from 'vitest';
import type { EventFields, RecurrenceRule } from '../../src-main/sync/calendar-event.ts';
import { contentHash } from '../../src-main/sync/event-content-hash.ts';
import {
  activityPatches,
  activityToFields,
  chooseActivityType,
  fieldsToActivityInput,
  mergeIntoExchangeFields,
  NO_SUBJECT,
  occurrenceKey,
  severaSeriesExceptions,
  recurrencePatches,
  ruleToSeveraRecurrence,
  severaRecurrenceProblem,
  severaRecurrenceToRule,
  severaToExchangeEligibility,
} from '../../src-main/sync/severa-activity-mapping.ts';
import type { SeveraActivity, SeveraActivityType } from '../../src-main/sync/severa-port.ts';
import { TYPE, TYPES } from './fakes/demo-world.ts';

const typesByGuid = new Map(TYPES.map((t) => [t.guid as string, t]));
const HEL = 'Europe/Helsinki';

const activity = (over: Partial<SeveraActivity> = {}): SeveraActivity => ({
  guid: 'S1',
  name: 'Planning',
  startDateTime: '2026-03-02T09:00:00+02:00',
  endDateTime: '2026-03-02T10:30:00+02:00',
  isAllDay: false,
  notes: 'Agenda',
  location: 'Room 1',
  activityType: { guid: TYPE.meeting, name: 'Meeting', category: 'CalendarEntry' },
  ownerUser: { guid: 'U1' },
  recurrence: null,
  recurrenceType: 'None',
  lastUpdatedDateTime: '2026-03-01T10:00:00+02:00',
  ...over,
});

const ev = (over: Partial<EventFields> = {}): EventFields => ({
  subject: 'Planning', start: '2026-03-02T07:00:00.000Z', end: '2026-03-02T08:30:00.000Z', isAllDay: false, timeZone: HEL,
  location: 'Room 1', body: 'Agenda', isPrivate: false, recurrence: null, exceptions: [], attendees: [], organizer: null, ...over,
});

describe('Severa -> neutral', () => {
  it('maps every field of a timed activity', () => {
    const { fields, flattenReason } = activityToFields(activity(), { timeZone: HEL, typesByGuid });
    expect(flattenReason).toBeUndefined();
    expect(fields).toEqual(ev());
  });

  it('private = category Personal (from the activity or the type table)', () => {
    expect(activityToFields(activity({ activityType: { guid: TYPE.personal, category: 'Personal' } }), { timeZone: HEL, typesByGuid }).fields.isPrivate).toBe(true);
    expect(activityToFields(activity({ activityType: { guid: TYPE.personal } }), { timeZone: HEL, typesByGuid }).fields.isPrivate).toBe(true);
    expect(activityToFields(activity({ activityType: { guid: TYPE.vacation } }), { timeZone: HEL, typesByGuid }).fields.isPrivate).toBe(false);
  });

  it('all-day: local dates in the owner zone, end exclusive, from midnight or 23:59 ends', () => {
    const midnight = activityToFields(activity({ isAllDay: true, startDateTime: '2026-03-02T00:00:00+02:00', endDateTime: '2026-03-04T00:00:00+02:00' }), { timeZone: HEL, typesByGuid }).fields;
    expect([midnight.start, midnight.end, midnight.isAllDay]).toEqual(['2026-03-02', '2026-03-04', true]);
    const inclusive = activityToFields(activity({ isAllDay: true, startDateTime: '2026-03-02T00:00:00+02:00', endDateTime: '2026-03-03T23:59:00+02:00' }), { timeZone: HEL, typesByGuid }).fields;
    expect([inclusive.start, inclusive.end]).toEqual(['2026-03-02', '2026-03-04']);
    const utc = activityToFields(activity({ isAllDay: true, startDateTime: '2026-03-01T22:00:00Z', endDateTime: '2026-03-01T22:00:00Z' }), { timeZone: HEL, typesByGuid }).fields;
    expect([utc.start, utc.end]).toEqual(['2026-03-02', '2026-03-03']);
  });

  it('missing end or notes: zero length, empty text; a bad start is a clear error', () => {
    const f = activityToFields(activity({ endDateTime: null, notes: null, location: null }), { timeZone: HEL, typesByGuid }).fields;
    expect([f.end, f.body, f.location]).toEqual([f.start, '', '']);
    expect(() => activityToFields(activity({ startDateTime: 'soon' }), { timeZone: HEL, typesByGuid })).toThrow(/no valid start time/);
  });

  it('a series with a pattern Exchange can carry has a rule; one it cannot gives a flatten reason', () => {
    const weekly = activityToFields(activity({ recurrenceType: 'Series', recurrence: { frequency: 'Weekly', pattern: { weekly: { interval: 1, monday: true, wednesday: true } }, range: { maxOccurrences: 10 } } }), { timeZone: HEL, typesByGuid });
    expect(weekly.fields.recurrence).toEqual({ frequency: 'Weekly', interval: 1, daysOfWeek: ['Monday', 'Wednesday'], startDate: '2026-03-02', count: 10 });
    const lastWeekday = activityToFields(activity({ recurrenceType: 'Series', recurrence: { frequency: 'Monthly', pattern: { monthly: { interval: 1, dayOrdinal: 'Last', dayOrdinalOption: 'WeekDay' } } } }), { timeZone: HEL, typesByGuid });
    expect(lastWeekday.fields.recurrence).toEqual({ frequency: 'Monthly', interval: 1, weekOrdinal: 'Last', dayOfWeek: 'Weekday', startDate: '2026-03-02' });
    expect(lastWeekday.flattenReason).toBeUndefined();
    const unknownDay = activityToFields(activity({ recurrenceType: 'Series', recurrence: { frequency: 'Monthly', pattern: { monthly: { interval: 1, dayOrdinal: 'Last', dayOrdinalOption: 'Holiday' as never } } } }), { timeZone: HEL, typesByGuid });
    expect(unknownDay.fields.recurrence).toBeNull();
    expect(unknownDay.flattenReason).toMatch(/Last Holiday/);
  });
});

describe('recurrence both ways', () => {
  const rules: RecurrenceRule[] = [
    { frequency: 'Daily', interval: 2, startDate: '2026-03-02', count: 5 },
    { frequency: 'Weekly', interval: 2, daysOfWeek: ['Tuesday', 'Thursday'], startDate: '2026-03-03', until: '2026-06-30' },
    { frequency: 'Monthly', interval: 1, dayOfMonth: 15, startDate: '2026-03-15' },
    { frequency: 'Monthly', interval: 3, weekOrdinal: 'Last', dayOfWeek: 'Friday', startDate: '2026-03-27', count: 4 },
    { frequency: 'Yearly', interval: 1, dayOfMonth: 6, month: 12, startDate: '2026-12-06' },
    { frequency: 'Yearly', interval: 1, weekOrdinal: 'First', dayOfWeek: 'Monday', month: 9, startDate: '2026-09-07', until: '2030-12-31' },
    { frequency: 'Monthly', interval: 1, weekOrdinal: 'Last', dayOfWeek: 'Weekday', startDate: '2026-03-31', count: 12 },
    { frequency: 'Monthly', interval: 2, weekOrdinal: 'First', dayOfWeek: 'WeekendDay', startDate: '2026-03-01' },
    { frequency: 'Yearly', interval: 1, weekOrdinal: 'Second', dayOfWeek: 'Day', month: 1, startDate: '2027-01-02' },
    { frequency: 'Weekly', interval: 1, daysOfWeek: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'], startDate: '2026-03-02', count: 20 },
    // Sunday and Wednesday every second week, weeks starting on Monday: the week start is part of the rule.
    { frequency: 'Weekly', interval: 2, daysOfWeek: ['Wednesday', 'Sunday'], startDate: '2026-03-04', count: 6, firstDayOfWeek: 'Monday' },
  ];
  for (const rule of rules) {
    it(`${rule.frequency} ${rule.weekOrdinal ?? ''} survives the round trip`, () => {
      const back = severaRecurrenceToRule(ruleToSeveraRecurrence(rule), rule.startDate, HEL);
      expect(back.rule).toEqual(rule);
    });
  }
  it('Severa "every weekday" is a weekly Monday-to-Friday rule', () => {
    expect(severaRecurrenceToRule({ frequency: 'Daily', pattern: { daily: { everyWeekday: true } } }, '2026-03-02', HEL).rule)
      .toEqual({ frequency: 'Weekly', interval: 1, daysOfWeek: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'], startDate: '2026-03-02' });
  });
  it('day groups travel as Severa spells them; weekly Monday-Friday every week is written as "every weekday"', () => {
    expect(ruleToSeveraRecurrence({ frequency: 'Monthly', interval: 1, weekOrdinal: 'Last', dayOfWeek: 'Weekday', startDate: '2026-03-31' }).pattern?.monthly)
      .toMatchObject({ dayOrdinal: 'Last', dayOrdinalOption: 'WeekDay', dayOfMonth: null });
    expect(ruleToSeveraRecurrence({ frequency: 'Yearly', interval: 1, month: 5, weekOrdinal: 'First', dayOfWeek: 'WeekendDay', startDate: '2026-05-02' }).pattern?.yearly)
      .toMatchObject({ month: 'May', dayOrdinal: 'First', dayOrdinalOption: 'WeekendDay' });
    expect(ruleToSeveraRecurrence({ frequency: 'Weekly', interval: 1, daysOfWeek: ['Friday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday'], startDate: '2026-03-02', count: 5 }))
      .toEqual({ frequency: 'Daily', pattern: { daily: { everyWeekday: true, interval: 1 } }, range: { maxOccurrences: 5, recursUntilDate: null } });
    // Every second week Monday-Friday is a weekly pattern, not "every weekday".
    expect(ruleToSeveraRecurrence({ frequency: 'Weekly', interval: 2, daysOfWeek: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'], startDate: '2026-03-02' }).frequency).toBe('Weekly');
  });
  it('Severa weeks start on Monday: a week start that moves dates is kept, one that does not is dropped', () => {
    const sundayAndWednesday = severaRecurrenceToRule({ frequency: 'Weekly', pattern: { weekly: { interval: 2, sunday: true, wednesday: true } } }, '2026-03-04', HEL).rule;
    expect(sundayAndWednesday?.firstDayOfWeek).toBe('Monday');
    const tuesdays = severaRecurrenceToRule({ frequency: 'Weekly', pattern: { weekly: { interval: 2, tuesday: true } } }, '2026-03-03', HEL).rule;
    expect(tuesdays).toEqual({ frequency: 'Weekly', interval: 2, daysOfWeek: ['Tuesday'], startDate: '2026-03-03' });
  });
  it('names what Severa cannot hold: "every 2 weeks" counted in weeks that start on Sunday, where that moves dates', () => {
    // 2026-03-04 is a Wednesday. Weeks from Sunday: Wed 4, Sun 15, Wed 18...; weeks from Monday: Wed 4, Sun 8, Wed 18...
    const sundayWeeks: RecurrenceRule = { frequency: 'Weekly', interval: 2, daysOfWeek: ['Sunday', 'Wednesday'], startDate: '2026-03-04' };
    expect(severaRecurrenceProblem(sundayWeeks)).toMatch(/weeks that start on Monday.*Sunday/);
    expect(severaRecurrenceProblem({ ...sundayWeeks, firstDayOfWeek: 'Monday' })).toBeNull();
    expect(severaRecurrenceProblem({ ...sundayWeeks, daysOfWeek: ['Tuesday', 'Thursday'] })).toBeNull();
    expect(severaRecurrenceProblem({ ...sundayWeeks, interval: 1 })).toBeNull();
    expect(severaRecurrenceProblem({ frequency: 'Monthly', interval: 1, weekOrdinal: 'Last', dayOfWeek: 'Weekday', startDate: '2026-03-31' })).toBeNull();
  });
  it('a series end given only as the last occurrence becomes an until date', () => {
    expect(severaRecurrenceToRule({ frequency: 'Daily', pattern: { daily: { interval: 1 } }, lastOccurrenceDateTime: '2026-03-09T09:00:00+02:00' }, '2026-03-02', HEL).rule?.until).toBe('2026-03-09');
  });
  it('recurrence patches spell out every field and switch off other pattern kinds', () => {
    const ops = recurrencePatches(ruleToSeveraRecurrence({ frequency: 'Weekly', interval: 1, daysOfWeek: ['Friday'], startDate: '2026-03-06', count: 3 }));
    expect(ops).toContainEqual({ path: '/recurrence/frequency', value: 'Weekly' });
    expect(ops).toContainEqual({ path: '/recurrence/pattern/weekly/friday', value: true });
    expect(ops).toContainEqual({ path: '/recurrence/pattern/weekly/monday', value: false });
    expect(ops).toContainEqual({ path: '/recurrence/pattern/daily', value: null });
    expect(ops).toContainEqual({ path: '/recurrence/range/maxOccurrences', value: 3 });
    expect(recurrencePatches(null)).toEqual([{ path: '/recurrence', value: null }]);
  });
});

describe('neutral -> Severa', () => {
  it('creates with the owner, type and offsets of the owner zone', () => {
    const input = fieldsToActivityInput(ev({ location: '  ', body: '' }), { ownerGuid: 'U1', activityTypeGuid: TYPE.meeting, timeZone: HEL });
    expect(input).toEqual({
      name: 'Planning', startDateTime: '2026-03-02T09:00:00+02:00', endDateTime: '2026-03-02T10:30:00+02:00', isAllDay: false,
      notes: null, location: null, activityType: { guid: TYPE.meeting }, ownerUser: { guid: 'U1' },
    });
  });
  it('an empty subject gets a name (Severa requires one); a long location is cut to 1000', () => {
    const input = fieldsToActivityInput(ev({ subject: '  ', location: 'x'.repeat(1200) }), { ownerGuid: 'U1', activityTypeGuid: TYPE.meeting, timeZone: HEL });
    expect(input.name).toBe(NO_SUBJECT);
    expect(input.location).toHaveLength(1000);
  });
  it('all-day entries start and end at local midnight, across a DST change', () => {
    const input = fieldsToActivityInput(ev({ isAllDay: true, start: '2026-03-28', end: '2026-03-30' }), { ownerGuid: 'U1', activityTypeGuid: TYPE.meeting, timeZone: HEL });
    expect([input.startDateTime, input.endDateTime]).toEqual(['2026-03-28T00:00:00+02:00', '2026-03-30T00:00:00+03:00']);
    const back = activityToFields({ ...activity(), ...input, activityType: { guid: TYPE.meeting } }, { timeZone: HEL, typesByGuid }).fields;
    expect([back.start, back.end]).toEqual(['2026-03-28', '2026-03-30']);
  });
  it('a series carries its recurrence', () => {
    const rule: RecurrenceRule = { frequency: 'Weekly', interval: 1, daysOfWeek: ['Monday'], startDate: '2026-03-02', count: 4 };
    expect(fieldsToActivityInput(ev({ recurrence: rule }), { ownerGuid: 'U1', activityTypeGuid: TYPE.meeting, timeZone: HEL }).recurrence).toEqual(ruleToSeveraRecurrence(rule));
  });
  it('patches only what differs, the type only when asked', () => {
    expect(activityPatches(activity(), ev(), { timeZone: HEL })).toEqual([]);
    expect(activityPatches(activity(), ev({ subject: 'Planning v2', end: '2026-03-02T09:00:00.000Z', body: 'New\nagenda' }), { timeZone: HEL, activityTypeGuid: TYPE.personal })).toEqual([
      { path: '/name', value: 'Planning v2' },
      { path: '/endDateTime', value: '2026-03-02T11:00:00+02:00' },
      { path: '/notes', value: 'New\nagenda' },
      { path: '/activityType/guid', value: TYPE.personal },
    ]);
  });
  it('keeps Exchange-only fields (attendees, organizer) when Severa changes an item', () => {
    const merged = mergeIntoExchangeFields(ev({ attendees: ['a@x.example'], organizer: 'o@x.example' }), ev({ subject: 'New' }));
    expect(merged).toMatchObject({ subject: 'New', attendees: ['a@x.example'], organizer: 'o@x.example' });
  });
});

describe('which entries travel', () => {
  const selected = new Set([TYPE.meeting, TYPE.task]);
  it('Severa -> Exchange: selected types only, project tasks never', () => {
    expect(severaToExchangeEligibility(activity(), selected, typesByGuid)).toEqual({ ok: true });
    expect(severaToExchangeEligibility(activity({ activityType: { guid: TYPE.salesCall } }), selected, typesByGuid)).toMatchObject({ ok: false, reason: /not selected/ });
    expect(severaToExchangeEligibility(activity({ activityType: { guid: TYPE.task } }), selected, typesByGuid)).toMatchObject({ ok: false, reason: /never/ });
  });
  it('Exchange -> Severa: private -> "Personal"; otherwise the user default, else the org default', () => {
    const user = { guid: 'U1', defaultActivityType: { guid: TYPE.customerVisit } };
    expect(chooseActivityType(true, user, TYPES)?.guid).toBe(TYPE.personal);
    expect(chooseActivityType(false, user, TYPES)?.guid).toBe(TYPE.customerVisit);
    expect(chooseActivityType(false, { guid: 'U2' }, TYPES)?.guid).toBe(TYPE.meeting);
  });
  it('private without an active "Personal" type falls back to the user default, then the org default', () => {
    const noPersonal: SeveraActivityType[] = TYPES.map((t) => (t.guid === TYPE.personal ? { ...t, isActive: false } : t));
    expect(chooseActivityType(true, { guid: 'U1', defaultActivityType: { guid: TYPE.customerVisit } }, noPersonal)?.guid).toBe(TYPE.customerVisit);
    expect(chooseActivityType(true, { guid: 'U2' }, noPersonal)?.guid).toBe(TYPE.meeting);
  });
  it('an inactive or task user default is skipped; no usable type at all gives null', () => {
    expect(chooseActivityType(false, { guid: 'U1', defaultActivityType: { guid: TYPE.old } }, TYPES)?.guid).toBe(TYPE.meeting);
    expect(chooseActivityType(false, { guid: 'U1', defaultActivityType: { guid: TYPE.task } }, TYPES)?.guid).toBe(TYPE.meeting);
    expect(chooseActivityType(false, undefined, TYPES.map((t) => ({ ...t, isDefault: false })))).toBeNull();
  });
});

describe('content hash', () => {
  it('ignores formatting differences', () => {
    const a = ev({ body: 'Line one\r\nLine two  \r\n\r\n\r\n', start: '2026-03-02T09:00:00+02:00', subject: 'Planning  meeting' });
    const b = ev({ body: 'Line one\nLine two', start: '2026-03-02T07:00:00.000Z', subject: 'Planning meeting', attendees: ['x@y.example'], timeZone: 'UTC' });
    expect(contentHash(a)).toBe(contentHash(b));
  });
  it('sees real changes', () => {
    const base = contentHash(ev());
    for (const change of [{ subject: 'Other' }, { location: 'Room 2' }, { body: 'x' }, { isPrivate: true }, { end: '2026-03-02T09:00:00.000Z' }] as Partial<EventFields>[]) {
      expect(contentHash(ev(change))).not.toBe(base);
    }
  });
  it('orders weekdays and exceptions the same way', () => {
    const r1: RecurrenceRule = { frequency: 'Weekly', interval: 1, daysOfWeek: ['Friday', 'Monday'], startDate: '2026-03-02' };
    const r2: RecurrenceRule = { ...r1, daysOfWeek: ['Monday', 'Friday'] };
    const x1 = { originalStart: '2026-03-06T07:00:00.000Z', fields: null };
    const x2 = { originalStart: '2026-03-09T09:00:00+02:00', fields: null };
    expect(contentHash(ev({ recurrence: r1, exceptions: [x2, x1] }))).toBe(contentHash(ev({ recurrence: r2, exceptions: [x1, x2] })));
  });
});

describe('Severa series exceptions', () => {
  const master = activity({
    recurrenceType: 'Series',
    startDateTime: '2026-03-02T09:00:00+02:00',
    endDateTime: '2026-03-02T10:00:00+02:00',
    recurrence: {
      frequency: 'Weekly', pattern: { weekly: { interval: 1, monday: true } }, range: { maxOccurrences: 6 },
      exceptions: ['2026-03-09T09:00:00+02:00', '2026-03-16T09:00:00+02:00', '2026-03-23T09:00:00+02:00'],
    },
  });
  it('matches each Exception activity to the nearest listed original start; the others are deleted occurrences', () => {
    const moved = activity({ guid: 'E1', recurrenceType: 'Exception', recurrenceParentActivityGuid: 'S1', name: 'Moved', startDateTime: '2026-03-16T13:00:00+02:00', endDateTime: '2026-03-16T14:00:00+02:00' });
    const renamed = activity({ guid: 'E2', recurrenceType: 'Exception', recurrenceParentActivityGuid: 'S1', name: 'Renamed', startDateTime: '2026-03-23T09:00:00+02:00', endDateTime: '2026-03-23T10:00:00+02:00' });
    const { exceptions, rowGuidByKey } = severaSeriesExceptions(master, [renamed, moved], { timeZone: HEL, typesByGuid });
    expect(exceptions.map((x) => [x.originalStart, x.fields?.subject ?? null])).toEqual([
      ['2026-03-09T07:00:00.000Z', null],
      ['2026-03-16T07:00:00.000Z', 'Moved'],
      ['2026-03-23T07:00:00.000Z', 'Renamed'],
    ]);
    expect(exceptions[1].fields).toMatchObject({ start: '2026-03-16T11:00:00.000Z', end: '2026-03-16T12:00:00.000Z' });
    expect([...rowGuidByKey.entries()]).toEqual([['2026-03-16T07:00:00.000Z', 'E1'], ['2026-03-23T07:00:00.000Z', 'E2']]);
    const fields = activityToFields(master, { timeZone: HEL, typesByGuid, exceptions }).fields;
    expect(fields.exceptions).toHaveLength(3);
  });
  it('all-day series key their occurrences by local date', () => {
    expect(occurrenceKey('2026-03-09T00:00:00+02:00', true, HEL)).toBe('2026-03-09');
    expect(occurrenceKey('2026-03-09', true, HEL)).toBe('2026-03-09');
    expect(occurrenceKey('2026-03-09T09:00:00+02:00', false, HEL)).toBe('2026-03-09T07:00:00.000Z');
  });
});
