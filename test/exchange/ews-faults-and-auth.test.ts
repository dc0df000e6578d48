import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEwsSimulator, type EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { CalendarError } from '../../src-main/exchange/calendar-connector.ts';
import { EwsCalendarConnector } from '../../src-main/exchange/ews/ews-calendar-connector.ts';
import type { EwsConnectorOptions } from '../../src-main/exchange/ews/ews-connector-options.ts';
import { ewsTestSeed } from './fixtures/ews-test-seed.ts';

const AINO = 'aino.virtanen@contoso.example';

let sim: EwsSimulator;

function connector(overrides: Partial<EwsConnectorOptions> = {}, url = sim.url): EwsCalendarConnector {
  return new EwsCalendarConnector({
    ewsUrl: url,
    serverType: 'Exchange2016',
    domain: 'CONTOSO',
    username: 'svc-severa-sync',
    password: 'demo-delegate-password',
    authMethod: 'ntlm',
    defaultTimeZone: 'Europe/Helsinki',
    timeoutMs: 5_000,
    ...overrides,
  });
}

async function rejection(promise: Promise<unknown>): Promise<CalendarError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CalendarError);
    return error as CalendarError;
  }
  throw new Error('expected a CalendarError, the call succeeded');
}

beforeAll(async () => {
  sim = await startEwsSimulator({ seed: ewsTestSeed() });
});

afterAll(async () => {
  await sim?.close();
});

describe('server trouble becomes a CalendarError for that mailbox', () => {
  it('ErrorServerBusy -> throttled with the server-given back-off', async () => {
    sim.setFaults({ serverBusyBackOffMs: 3_500, forceNext: { kind: 'serverBusy', count: 1 } });
    const error = await rejection(connector().syncChanges(AINO, null));
    expect(error).toMatchObject({ code: 'throttled', retryAfterMs: 3_500, serverCode: 'ErrorServerBusy' });
    expect(error.message).toContain(AINO);
    // The next request goes through.
    await expect(connector().syncChanges(AINO, null)).resolves.toHaveProperty('syncState');
  });

  it('HTTP 503 -> throttled, with Retry-After', async () => {
    sim.setFaults({ forceNext: { kind: 'http503', count: 1 } });
    const error = await rejection(connector().syncChanges(AINO, null));
    expect(error).toMatchObject({ code: 'throttled', retryAfterMs: 5_000 });
  });

  it('HTTP 500 with an HTML page -> bad-response, and this process carries on', async () => {
    sim.setFaults({ forceNext: { kind: 'nonSoap500', count: 1 } });
    const error = await rejection(connector().syncChanges(AINO, null));
    expect(error.code).toBe('bad-response');
    expect(error.message).toMatch(/HTTP 500/);
    await expect(connector().resolveMailbox(AINO)).resolves.toBe(AINO);
  });

  it('a dropped connection and a server slower than the deadline -> transient', async () => {
    sim.setFaults({ forceNext: { kind: 'dropConnection', count: 1 } });
    expect((await rejection(connector().syncChanges(AINO, null))).code).toBe('transient');
    sim.setFaults({ slowMs: 3_000, forceNext: { kind: 'slow', count: 1 } });
    const slow = await rejection(connector({ timeoutMs: 500 }).syncChanges(AINO, null));
    expect(slow.code).toBe('transient');
    expect(slow.message).toMatch(/did not answer within/);
    sim.setFaults({});
  });

  it('a mailbox being moved -> transient', async () => {
    sim.setFaults({ forceNext: { kind: 'mailboxMove', count: 1 } });
    const error = await rejection(connector().syncChanges(AINO, null));
    expect(error).toMatchObject({ code: 'transient', serverCode: 'ErrorMailboxMoveInProgress' });
  });

  it('nothing listening -> transient; an unknown host -> config', async () => {
    const refused = await rejection(connector({}, 'http://127.0.0.1:1/EWS/Exchange.asmx').syncChanges(AINO, null));
    expect(refused.code).toBe('transient');
    const unknown = await rejection(connector({}, 'http://no-such-host.invalid/EWS/Exchange.asmx').syncChanges(AINO, null));
    expect(unknown.code).toBe('config');
  });

  it('a wrong path -> config (HTTP 404)', async () => {
    const error = await rejection(connector({}, sim.url.replace('/EWS/Exchange.asmx', '/owa/')).syncChanges(AINO, null));
    expect(error.code).toBe('config');
    expect(error.message).toMatch(/404/);
  });
});

describe('clock offset', () => {
  it('is null before any answer and follows the Date header', async () => {
    const c = connector();
    expect(c.clockOffsetMs()).toBeNull();
    sim.setClockSkewMs(5 * 60_000);
    await c.resolveMailbox(AINO);
    expect(Math.abs((c.clockOffsetMs() as number) - 5 * 60_000)).toBeLessThan(2_000);
    sim.setClockSkewMs(-90_000);
    await c.resolveMailbox(AINO);
    expect(Math.abs((c.clockOffsetMs() as number) + 90_000)).toBeLessThan(2_000);
    sim.setClockSkewMs(0);
  });
});

describe('login', () => {
  it('NTLM with DOMAIN\\user and with a UPN; Basic with DOMAIN\\user', async () => {
    await expect(connector().resolveMailbox(AINO)).resolves.toBe(AINO);
    await expect(connector({ domain: '', username: 'svc-severa-sync@contoso.example' }).resolveMailbox(AINO)).resolves.toBe(AINO);
    await expect(connector({ authMethod: 'basic' }).syncChanges(AINO, null)).resolves.toHaveProperty('syncState');
  });

  it('a wrong password is auth with either method, and says what the server offers', async () => {
    const ntlm = await rejection(connector({ password: 'wrong' }).resolveMailbox(AINO));
    expect(ntlm.code).toBe('auth');
    const basic = await rejection(connector({ password: 'wrong', authMethod: 'basic' }).resolveMailbox(AINO));
    expect(basic.code).toBe('auth');
    expect(basic.message).toMatch(/NTLM/);
  });

  it('Basic against a server that only offers NTLM is auth, naming the offered methods', async () => {
    const ntlmOnly = await startEwsSimulator({ seed: ewsTestSeed({ authMethods: ['Negotiate', 'NTLM'] }) });
    try {
      const error = await rejection(connector({ authMethod: 'basic' }, ntlmOnly.url).resolveMailbox(AINO));
      expect(error.code).toBe('auth');
      expect(error.message).toContain('Exchange does not offer Basic logins (HTTP 401). The server offers NTLM only; set the authentication method to NTLM.');
      expect(error.message).not.toMatch(/Basic realm/);
    } finally {
      await ntlmOnly.close();
    }
  });

  it('settings that cannot work are refused when the connector is built', () => {
    const build = (o: Partial<EwsConnectorOptions>) => () => connector(o);
    expect(build({ serverType: 'Office365' })).toThrow(/Graph/);
    expect(build({ ewsUrl: 'mail.contoso.example' })).toThrow(/not a web address/);
    expect(build({ ewsUrl: 'ftp://mail.contoso.example/EWS' })).toThrow(/https/);
    expect(build({ password: '' })).toThrow(/password/);
    expect(build({ caCertificates: 'not a pem' })).toThrow(/PEM/);
  });
});

describe('server versions', () => {
  it.each(['Exchange2010', 'Exchange2013', 'Exchange2019', 'ExchangeServerSE'] as const)('%s: create and read back', async (serverType) => {
    const c = connector({ serverType });
    const input = {
      subject: `On ${serverType}`,
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
    };
    const written = await c.createEvent(AINO, input, `c0000000-0000-4000-8000-${serverType.length.toString().padStart(12, '0')}`);
    expect((await c.getEvents(AINO, [written.id]))[0].fields).toEqual(input);
  });

  it('Exchange2007_SP1: the zone travels as MeetingTimeZone and comes back', async () => {
    const old = await startEwsSimulator({ seed: ewsTestSeed({ version: 'Exchange2007_SP1' }) });
    try {
      const c = connector({ serverType: 'Exchange2007_SP1', defaultTimeZone: 'UTC' }, old.url);
      const input = {
        subject: 'On Exchange 2007',
        start: '2026-03-05T13:30:00.000Z',
        end: '2026-03-05T14:00:00.000Z',
        isAllDay: false,
        timeZone: 'America/New_York',
        location: '',
        body: '',
        isPrivate: false,
        recurrence: { frequency: 'Weekly' as const, interval: 1, daysOfWeek: ['Thursday' as const], startDate: '2026-03-05', count: 3 },
        exceptions: [],
        attendees: [],
        organizer: AINO,
      };
      const written = await c.createEvent(AINO, input, 'c0000000-0000-4000-8000-000000002007');
      expect((await c.getEvents(AINO, [written.id]))[0].fields).toEqual(input);
    } finally {
      await old.close();
    }
  });

  it('a version newer than the server -> config', async () => {
    const old = await startEwsSimulator({ seed: ewsTestSeed({ version: 'Exchange2010_SP2' }) });
    try {
      const error = await rejection(connector({ serverType: 'Exchange2016' }, old.url).syncChanges(AINO, null));
      expect(error).toMatchObject({ code: 'config', serverCode: 'ErrorInvalidServerVersion' });
    } finally {
      await old.close();
    }
  });
});

describe('secrets stay out of errors', () => {
  it('no error, however deep its causes, holds the password or the Basic header', async () => {
    const { inspect } = await import('node:util');
    const password = 'demo-delegate-password';
    const basic = Buffer.from(`CONTOSO\\svc-severa-sync:${password}`).toString('base64');
    const errors: unknown[] = [];
    const kinds = ['dropConnection', 'http503', 'nonSoap500', 'serverBusy', 'mailboxMove'] as const;
    for (const authMethod of ['basic', 'ntlm'] as const) {
      for (const kind of kinds) {
        sim.setFaults({ forceNext: { kind, count: 1 } });
        errors.push(await rejection(connector({ authMethod }).syncChanges(AINO, null)));
      }
      sim.setFaults({ slowMs: 2_000, forceNext: { kind: 'slow', count: 1 } });
      errors.push(await rejection(connector({ authMethod, timeoutMs: 300 }).syncChanges(AINO, null)));
      errors.push(await rejection(connector({ authMethod }, 'http://127.0.0.1:1/EWS/Exchange.asmx').syncChanges(AINO, null)));
    }
    sim.setFaults({});
    errors.push(await rejection(connector({ authMethod: 'basic', password: 'wrong-demo-password' }).syncChanges(AINO, null)));
    expect(errors).toHaveLength(15);
    for (const error of errors) {
      const text = inspect(error, { depth: 20, showHidden: true }) + JSON.stringify(error);
      expect(text).not.toContain(password);
      expect(text).not.toContain(basic);
      expect(text).not.toContain('wrong-demo-password');
    }
  });
});
