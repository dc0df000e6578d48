import type { CalendarConnector } from '../../../src-main/exchange/calendar-connector.ts';
import { SyncStore } from '../../../src-main/store/sync-store.ts';
import type { SeveraActivityType, SeveraUser } from '../../../src-main/sync/severa-port.ts';
import { syncOrganization, type SyncOptions } from '../../../src-main/sync/sync-engine.ts';
import { FakeCalendar } from './fake-calendar.ts';
import { FakeSevera } from './fake-severa.ts';
import { FaultPlan } from './fault-plan.ts';

/** The demo firm (see the project brief) on in-memory fakes of both sides, with a clock the test moves. */

export const AINO = { email: 'aino.virtanen@contoso.example', guid: '00000000-0000-4000-8000-0000000000a1' };
export const MIKKO = { email: 'mikko.lahtinen@contoso.example', guid: '00000000-0000-4000-8000-0000000000a2' };
export const SARA = { email: 's.nieminen@contoso.example', primary: 'sara.nieminen@contoso.example', guid: '00000000-0000-4000-8000-0000000000a3' };
export const JUSSI = { email: 'jussi.korhonen@contoso.example', guid: '00000000-0000-4000-8000-0000000000a4' };

export const TYPE = {
  meeting: '00000000-0000-4000-8000-0000000000b1',
  customerVisit: '00000000-0000-4000-8000-0000000000b2',
  personal: '00000000-0000-4000-8000-0000000000b3',
  salesCall: '00000000-0000-4000-8000-0000000000b4',
  vacation: '00000000-0000-4000-8000-0000000000b5',
  task: '00000000-0000-4000-8000-0000000000b6',
  old: '00000000-0000-4000-8000-0000000000b7',
};

export const TYPES: SeveraActivityType[] = [
  { guid: TYPE.meeting, name: 'Meeting', category: 'CalendarEntry', isActive: true, isDefault: true },
  { guid: TYPE.customerVisit, name: 'Customer visit', category: 'CalendarEntry', isActive: true, isDefault: false },
  { guid: TYPE.personal, name: 'Personal', category: 'Personal', isActive: true, isDefault: false },
  { guid: TYPE.salesCall, name: 'Sales call', category: 'SalesEvent', isActive: true, isDefault: false },
  { guid: TYPE.vacation, name: 'Vacation', category: 'Absences', isActive: true, isDefault: false },
  { guid: TYPE.task, name: 'Project task', category: 'Task', isActive: true, isDefault: false },
  { guid: TYPE.old, name: 'Old type', category: 'CalendarEntry', isActive: false, isDefault: false },
];

const user = (guid: string, email: string, first: string, last: string): SeveraUser => ({
  guid, email, firstName: first, lastName: last, isActive: true, timezone: { ianaName: 'Europe/Helsinki' },
});

export const USERS: SeveraUser[] = [
  user(AINO.guid, AINO.email, 'Aino', 'Virtanen'),
  user(MIKKO.guid, MIKKO.email, 'Mikko', 'Lahtinen'),
  user(SARA.guid, SARA.email, 'Sara', 'Nieminen'),
  user(JUSSI.guid, JUSSI.email, 'Jussi', 'Korhonen'),
  user('00000000-0000-4000-8000-0000000000a5', 'leena.makela@contoso.example', 'Leena', 'Mäkelä'),
];

/** 2026-03-02 is a Monday; the clock starts at 08:00 Helsinki time. */
export const T0 = Date.parse('2026-03-02T06:00:00.000Z');

export const at = (dayOffset: number, hhmm: string): string => {
  const [h, m] = hhmm.split(':').map(Number);
  // Helsinki is UTC+2 until 2026-03-29.
  return new Date(T0 - 6 * 3600_000 + dayOffset * 86_400_000 + (h - 2) * 3600_000 + m * 60_000).toISOString();
};

export class World {
  clock = T0;
  readonly faults = new FaultPlan();
  readonly severa: FakeSevera;
  readonly calendar: FakeCalendar;
  store: SyncStore;
  options: SyncOptions;
  /** What the engine talks to, when not `calendar` itself (e.g. a router over several fake servers). */
  connector: CalendarConnector | null = null;
  private idSeq = 0;

  constructor(opts: { enrol?: Array<{ email: string }>; storePath?: string } = {}) {
    const now = () => new Date(this.clock);
    this.severa = new FakeSevera({ users: structuredClone(USERS), types: structuredClone(TYPES), now, faults: this.faults });
    this.calendar = new FakeCalendar({
      mailboxes: [
        { primary: AINO.email, aliases: ['aino@contoso.example'] },
        { primary: MIKKO.email },
        { primary: SARA.primary, aliases: [SARA.email] },
        { primary: JUSSI.email },
      ],
      now,
      faults: this.faults,
    });
    this.store = SyncStore.open(opts.storePath ?? ':memory:');
    this.options = {
      users: (opts.enrol ?? [AINO, MIKKO]).map((u) => ({ email: u.email, syncStartDate: '2026-03-01' })),
      activityTypesToExchange: [TYPE.meeting, TYPE.customerVisit, TYPE.personal, TYPE.task],
      windowDaysAhead: 30,
      reconcileSliceSize: 10,
    };
  }

  tick(ms = 60_000): void {
    this.clock += ms;
  }

  async cycle(over: Partial<SyncOptions> = {}) {
    this.tick();
    return syncOrganization(
      { severa: this.severa, calendar: this.connector ?? this.calendar, store: this.store, now: () => new Date(this.clock), newId: () => `intent-${++this.idSeq}` },
      { ...this.options, ...over },
    );
  }

  resetCalls(): void {
    this.severa.resetCalls();
    this.calendar.resetCalls();
  }

  writes(): number {
    return this.severa.writeCalls() + this.calendar.writeCalls();
  }
}
