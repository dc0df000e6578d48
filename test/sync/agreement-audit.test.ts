import { describe, expect, it } from 'vitest';
import { RoutedCalendarConnector } from '../../src-main/exchange/routed-calendar-connector.ts';
import { auditAgreement, compareFields } from '../../src-main/sync/agreement-audit.ts';
import { fields } from './fakes/fake-calendar.ts';
import { AINO, at, MIKKO, TYPE, World } from './fakes/demo-world.ts';

/** The standing audit on the fakes: agreement is silent, each difference is named field by field with its story and rule. */

const audit = (w: World) =>
  auditAgreement({ severa: w.severa, calendar: w.connector ?? w.calendar, store: w.store, now: () => new Date(w.clock) }, { users: w.options.users, activityTypesToExchange: w.options.activityTypesToExchange });

describe('agreement audit', () => {
  it('finds nothing to say when both sides agree, and reads only (no write anywhere)', async () => {
    const w = new World({ enrol: [AINO] });
    w.calendar.userCreate(AINO.email, fields({ subject: 'From Outlook', start: at(2, '09:00'), end: at(2, '10:00'), location: 'Room 1' }));
    w.severa.userCreate({ name: 'From Severa', startDateTime: at(3, '09:00'), endDateTime: at(3, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    await w.cycle();
    w.resetCalls();
    const report = await audit(w);
    expect(report.users).toEqual([{ email: AINO.email, pairs: 2, agreeing: 2, differences: [] }]);
    expect(w.writes()).toBe(0);
  });

  it('names each field that differs, on which side it is what, when each side last changed and who wrote it; no rule explains it', async () => {
    const w = new World({ enrol: [AINO] });
    const x = w.calendar.userCreate(AINO.email, fields({ subject: 'Workshop', start: at(2, '09:00'), end: at(2, '10:00'), location: 'Room 1' }));
    await w.cycle();
    w.tick(3_600_000);
    w.calendar.userUpdate(AINO.email, x.id, { location: 'Room 2', body: 'Bring laptops' });
    const report = await audit(w);
    const diffs = report.users[0].differences;
    expect(diffs.map((d) => [d.what, d.severa, d.exchange])).toEqual([
      ['location', 'Room 1', 'Room 2'],
      ['body', '', 'Bring laptops'],
    ]);
    expect(diffs[0].story).toMatch(/last changed in Severa .*, in Exchange .* \(Exchange later\); the sync last wrote it to Severa on .* \(new in Exchange\)/);
    expect(diffs[0].rule).toBeNull();
    // The next cycle brings them in line, and the audit says so.
    await w.cycle();
    expect((await audit(w)).users[0].differences).toEqual([]);
  });

  it('reports a missing side', async () => {
    const w = new World({ enrol: [AINO] });
    const s = w.severa.userCreate({ name: 'Planning', startDateTime: at(3, '09:00'), endDateTime: at(3, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    await w.cycle();
    w.severa.userDelete(s.guid!);
    const diffs = (await audit(w)).users[0].differences;
    expect(diffs.map((d) => [d.what, d.exchange])).toEqual([['missing in Severa', 'Planning']]);
  });

  it('explains a difference an Exchange Online rule calls for: a meeting with attendees changed in Severa stays in Severa', async () => {
    const w = new World({ enrol: [AINO] });
    w.calendar.refuseNotifyingWrites = true;
    w.connector = new RoutedCalendarConnector({ connections: [{ location: 'graph:contoso.onmicrosoft.com', connector: w.calendar }] });
    w.calendar.userMeeting(AINO.email, [MIKKO.email], fields({ subject: 'Steering group', start: at(4, '10:00'), end: at(4, '11:00'), location: 'Room 1' }));
    await w.cycle();
    w.severa.userUpdate(w.severa.byName('Steering group')[0].guid!, { location: 'Room 9' });
    await w.cycle();
    const [d] = (await audit(w)).users[0].differences;
    expect([d.what, d.severa, d.exchange]).toEqual(['location', 'Room 9', 'Room 1']);
    expect(d.rule).toMatch(/Exchange Online: a meeting with attendees changes only in Outlook/);
  });

  it('compares series by rule and by their changed and deleted occurrences', () => {
    const base = fields({ subject: 'Stand-up', start: '2026-03-02T07:00:00.000Z', end: '2026-03-02T07:15:00.000Z', recurrence: { frequency: 'Daily', interval: 1, startDate: '2026-03-02', count: 5 } });
    const exchange = { ...base, exceptions: [{ originalStart: '2026-03-03T07:00:00.000Z', fields: null }] };
    expect(compareFields(base, exchange)).toEqual([{ what: 'occurrences', severa: 'none', exchange: '2026-03-03T07:00:00.000Z:deleted' }]);
    expect(compareFields(base, { ...base, recurrence: { ...base.recurrence!, count: 6 } }).map((d) => d.what)).toEqual(['recurrence']);
    // A pattern that starts on an earlier day but gives the same occurrences is the same series.
    const weekly = { ...base, recurrence: { frequency: 'Weekly' as const, interval: 1, daysOfWeek: ['Monday' as const], startDate: '2026-03-02', count: 4 } };
    expect(compareFields(weekly, { ...weekly, recurrence: { ...weekly.recurrence, startDate: '2026-02-26' } })).toEqual([]);
  });
});
