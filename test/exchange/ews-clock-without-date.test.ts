import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadEwsSeed, startEwsSimulator, type EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { loadSeveraSeed, startSeveraSimulator, type SeveraSimulator } from '../peers/severa/severa-simulator.ts';
import { EwsCalendarConnector } from '../../src-main/exchange/ews/ews-calendar-connector.ts';
import type { EwsConnectorOptions } from '../../src-main/exchange/ews/ews-connector-options.ts';
import { EwsClock, forgetClockEstimates, MAX_WRITE_ESTIMATE_UNCERTAINTY_MS, NO_DATE_HEADER_SENTENCE, REMEMBER_ESTIMATE_MS } from '../../src-main/exchange/ews/ews-clock.ts';
import { runEwsDiagnostics } from '../../src-main/exchange/ews/ews-diagnostics.ts';
import { SeveraClient } from '../../src-main/severa/severa-client.ts';
import { SyncStore } from '../../src-main/store/sync-store.ts';
import { syncOrganization } from '../../src-main/sync/sync-engine.ts';
import { ewsTestSeed } from './fixtures/ews-test-seed.ts';

/**
 * Exchange without an HTTP Date header: its clock offset is estimated from the LastModifiedTime of the sync's own
 * writes, bounded by the time the write took; without any write it is reported unknown, with what that means.
 */

const AINO = 'aino.virtanen@contoso.example';
const SKEW_MS = 120_000;

const record = (serverDateMs: number | null, receivedAtMs = 10_000) => ({ operation: 'GetItem', status: 200, serverDateMs, receivedAtMs, wwwAuthenticate: null });

afterEach(() => forgetClockEstimates());

describe('EwsClock', () => {
  it('estimates the offset from a write: the middle of what the round trip allows, with half its width as uncertainty', () => {
    const clock = new EwsClock('https://a/EWS/Exchange.asmx');
    // Sent at local 1 000 ms, read back at 1 400 ms; the server stamped 121 s (whole seconds: really 121.000..121.999).
    const estimate = clock.recordWrite(new Date(121_000).toISOString(), 1_000, 1_400);
    expect(estimate).toEqual({ offsetMs: 120_300, uncertaintyMs: 700, measuredAtMs: 1_400 });
    expect(clock.offsetMs()).toBe(120_300);
    // A stamp with milliseconds is not rounded a second up.
    expect(new EwsClock('x').recordWrite(new Date(121_250).toISOString(), 1_000, 1_400)).toEqual({ offsetMs: 120_051, uncertaintyMs: 201, measuredAtMs: 1_400 });
  });

  it('prefers the Date header, keeps the tighter write estimate, and drops writes too slow to say anything', () => {
    const clock = new EwsClock('https://b/EWS/Exchange.asmx');
    expect(clock.recordWrite(new Date(130_000).toISOString(), 0, 2 * MAX_WRITE_ESTIMATE_UNCERTAINTY_MS + 1)).toBeNull();
    expect(clock.offsetMs()).toBeNull();
    clock.recordWrite(new Date(121_000).toISOString(), 1_000, 3_000);
    clock.recordWrite(new Date(221_000).toISOString(), 100_900, 101_000);
    expect(clock.offsetMs()).toBe(120_550);
    clock.recordWrite(new Date(321_000).toISOString(), 199_000, 203_000);
    expect(clock.offsetMs()).toBe(120_550);
    clock.recordResponse(record(70_000, 10_000));
    expect(clock.offsetMs()).toBe(60_500);
    expect(clock.source()).toEqual({ kind: 'date-header' });
  });

  it('says why the offset is unknown only after answers without a Date header, and not once a write gave it', () => {
    const clock = new EwsClock('https://c/EWS/Exchange.asmx');
    expect(clock.unknownReason()).toBeNull();
    clock.recordResponse({ ...record(null), status: null });
    expect(clock.unknownReason()).toBeNull();
    clock.recordResponse(record(null));
    expect(clock.unknownReason()).toBe(NO_DATE_HEADER_SENTENCE);
    expect(NO_DATE_HEADER_SENTENCE).toBe('Exchange sends no Date header, so its clock offset is unknown; collisions are decided on uncorrected clocks.');
    clock.recordWrite(new Date(121_000).toISOString(), 1_000, 1_400);
    expect(clock.unknownReason()).toBeNull();
  });

  it('remembers a write estimate for later connectors to the same server, for a day', () => {
    let now = 1_400;
    new EwsClock('https://d/EWS/Exchange.asmx', () => now).recordWrite(new Date(121_000).toISOString(), 1_000, 1_400);
    const later = new EwsClock('https://d/EWS/Exchange.asmx', () => now);
    expect(later.offsetMs()).toBe(120_300);
    expect(new EwsClock('https://other/EWS/Exchange.asmx', () => now).offsetMs()).toBeNull();
    now += REMEMBER_ESTIMATE_MS + 1;
    expect(later.offsetMs()).toBeNull();
  });
});

describe('over HTTP: a server that sends no Date header and runs two minutes ahead', () => {
  let sim: EwsSimulator;
  const settings = (overrides: Partial<EwsConnectorOptions> = {}): EwsConnectorOptions => ({
    ewsUrl: sim.url,
    serverType: 'Exchange2016',
    domain: 'CONTOSO',
    username: 'svc-severa-sync',
    password: 'demo-delegate-password',
    authMethod: 'ntlm',
    defaultTimeZone: 'Europe/Helsinki',
    timeoutMs: 5_000,
    ...overrides,
  });
  const fields = (subject: string) => ({
    subject,
    start: '2026-06-02T08:00:00.000Z',
    end: '2026-06-02T09:00:00.000Z',
    isAllDay: false,
    timeZone: 'Europe/Helsinki',
    location: '',
    body: '',
    isPrivate: false,
    recurrence: null,
    exceptions: [],
    attendees: [],
    organizer: AINO,
  });

  beforeAll(async () => {
    sim = await startEwsSimulator({ seed: ewsTestSeed({ sendDateHeader: false }), clockSkewMs: SKEW_MS });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('is unknown after reads, with the reason; a create and an update each measure it within their round trip', async () => {
    const c = new EwsCalendarConnector(settings());
    await c.syncChanges(AINO, null);
    expect(c.clockOffsetMs()).toBeNull();
    expect(c.clockOffsetUnknownReason()).toBe(NO_DATE_HEADER_SENTENCE);

    const created = await c.createEvent(AINO, fields('Measured'), 'c0000000-0000-4000-8000-00000000c10c');
    const afterCreate = c.clockOffsetSource();
    expect(afterCreate?.kind).toBe('write');
    const estimate = afterCreate?.kind === 'write' ? afterCreate.estimate : null;
    expect(Math.abs((c.clockOffsetMs() as number) - SKEW_MS)).toBeLessThanOrEqual(estimate!.uncertaintyMs + 50);
    expect(estimate!.uncertaintyMs).toBeLessThan(2_000);
    expect(c.clockOffsetUnknownReason()).toBeNull();

    const fresh = new EwsCalendarConnector(settings());
    forgetClockEstimates();
    await fresh.updateEvent(AINO, created.id, created.version, { ...fields('Measured again'), location: 'Room 2' });
    expect(Math.abs((fresh.clockOffsetMs() as number) - SKEW_MS)).toBeLessThan(2_000);
  });

  it('an update that changes nothing measures nothing (its LastModifiedTime is old)', async () => {
    const c = new EwsCalendarConnector(settings());
    const created = await c.createEvent(AINO, fields('Unchanged'), 'c0000000-0000-4000-8000-00000000c10d');
    forgetClockEstimates();
    const again = new EwsCalendarConnector(settings());
    await again.updateEvent(AINO, created.id, created.version, fields('Unchanged'));
    expect(again.clockOffsetMs()).toBeNull();
    expect(again.clockOffsetUnknownReason()).toBe(NO_DATE_HEADER_SENTENCE);
  });

  it('check: the clock check fails with the sentence when nothing measured it, and passes on a remembered estimate', async () => {
    const unknown = await runEwsDiagnostics({ connector: settings(), emails: [AINO] });
    const clock = unknown.find((c) => c.id === 'clock');
    expect(clock).toMatchObject({ ok: false, message: NO_DATE_HEADER_SENTENCE });
    expect(clock?.fix).toMatch(/^Let the server \(or the proxy in front of it\) send the HTTP Date header/);
    expect(unknown.filter((c) => c.id !== 'clock').every((c) => c.ok)).toBe(true);

    await new EwsCalendarConnector(settings()).createEvent(AINO, fields('For the check'), 'c0000000-0000-4000-8000-00000000c10e');
    const measured = (await runEwsDiagnostics({ connector: settings(), emails: [AINO] })).find((c) => c.id === 'clock');
    // Two minutes is more than the 60 s a collision tolerates: the estimate is used, and it fails for the skew itself.
    expect(measured).toMatchObject({ ok: false, message: expect.stringMatching(/^Exchange's clock is (1 min 5\d|2 min [0-2]) s ahead of this computer's\.$/) });
    sim.setClockSkewMs(5_000);
    forgetClockEstimates();
    await new EwsCalendarConnector(settings()).createEvent(AINO, fields('For the check, near'), 'c0000000-0000-4000-8000-00000000c10f');
    const near = (await runEwsDiagnostics({ connector: settings(), emails: [AINO] })).find((c) => c.id === 'clock');
    expect(near?.ok).toBe(true);
    expect(near?.message).toMatch(/estimated from the sync's own writes, ± \d+ s: Exchange sends no Date header/);
    sim.setClockSkewMs(SKEW_MS);
  });
});

describe('the cycle report (engine over both simulators)', () => {
  let ews: EwsSimulator;
  let severaSim: SeveraSimulator;
  let store: SyncStore;
  beforeAll(async () => {
    const seed = loadEwsSeed('test/peers/demo/ews-demo.json');
    ews = await startEwsSimulator({ seed, clockSkewMs: SKEW_MS });
    ews.setSendDateHeader(false);
    severaSim = await startSeveraSimulator({ seed: loadSeveraSeed('test/peers/demo/severa-demo.json') as never, port: 0, rateLimitPerSecond: 0 });
    store = SyncStore.open(':memory:');
  });
  afterAll(async () => {
    store?.close();
    await ews?.close();
    await severaSim?.close();
  });

  const cycle = (dryRun: boolean) => {
    // A connector per cycle, as the runner makes them.
    const calendar = new EwsCalendarConnector({
      ewsUrl: ews.url, serverType: 'Exchange2016', domain: 'CONTOSO', username: 'svc-severa-sync', password: 'demo-delegate-password', authMethod: 'ntlm', defaultTimeZone: 'Europe/Helsinki',
    });
    const severa = new SeveraClient({ baseUrl: severaSim.baseUrl, clientId: 'demo-client-id', clientSecret: 'demo-client-secret', rateLimitPerSecond: 0 });
    return syncOrganization(
      { severa, calendar, store, now: () => new Date() },
      {
        users: [{ email: AINO, syncStartDate: new Date().toISOString().slice(0, 10) }],
        activityTypesToExchange: ['00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b2', '00000000-0000-4000-8000-0000000000b3'],
        windowDaysAhead: 60,
        dryRun,
      },
    );
  };

  it('says the offset is unknown after a cycle that only read; after one that wrote, it has the estimate (and its skew)', async () => {
    const reading = await cycle(true);
    expect(reading.clockOffsetMs.exchange).toBeNull();
    expect(reading.errors).toContainEqual(expect.objectContaining({ code: 'clock-unknown', message: NO_DATE_HEADER_SENTENCE }));

    const writing = await cycle(false);
    expect(writing.users[0].toExchange.created).toBeGreaterThan(0);
    expect(Math.abs((writing.clockOffsetMs.exchange as number) - SKEW_MS)).toBeLessThan(3_000);
    expect(writing.errors.map((e) => e.code)).not.toContain('clock-unknown');
    expect(writing.errors).toContainEqual(expect.objectContaining({ code: 'clock-skew' }));

    // The next cycle's new connector starts from the remembered estimate, even without writing.
    const next = await cycle(true);
    expect(Math.abs((next.clockOffsetMs.exchange as number) - SKEW_MS)).toBeLessThan(3_000);
    expect(next.errors.map((e) => e.code)).not.toContain('clock-unknown');
  });
});
