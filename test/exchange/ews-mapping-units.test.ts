import { ExchangeVersion, ServiceError, ServiceResponse, ServiceResponseException, SoapFaultDetails } from 'ews-javascript-api';
import { describe, expect, it } from 'vitest';
import { CalendarError } from '../../src-main/exchange/calendar-connector.ts';
import { exchangeVersionFor } from '../../src-main/exchange/ews/ews-calendar-mapping.ts';
import { eventFieldsProblem } from '../../src-main/exchange/ews/ews-event-validation.ts';
import { exceptionKey } from '../../src-main/exchange/ews/ews-recurrence-mapping.ts';
import { ianaTimeZoneFor, windowsIdFromName, windowsTimeZoneFor } from '../../src-main/exchange/ews/ews-time-zone-mapping.ts';
import { translateEwsError } from '../../src-main/exchange/ews/ews-error-translation.ts';
import { escapeXmlAttribute, escapeXmlText } from '../../src-main/exchange/ews/ews-library-quirks.ts';
import type { EventFields } from '../../src-main/sync/calendar-event.ts';

describe('time zone names', () => {
  it('IANA -> Windows, including current names the library table only knows by their former ones', () => {
    expect(windowsTimeZoneFor('Europe/Helsinki').Id).toBe('FLE Standard Time');
    expect(windowsTimeZoneFor('Europe/Kyiv').Id).toBe('FLE Standard Time');
    expect(windowsTimeZoneFor('America/New_York').Id).toBe('Eastern Standard Time');
    expect(windowsTimeZoneFor('Asia/Kolkata').Id).toBe('India Standard Time');
    // The display name goes out unescaped; the XML writer escapes it once.
    expect(windowsTimeZoneFor('America/New_York').DisplayName).toBe('(UTC-05:00) Eastern Time (US & Canada)');
    expect(() => windowsTimeZoneFor('Mars/Olympus')).toThrow(CalendarError);
  });

  it('Windows -> IANA prefers the organization zone when it is the same Windows zone', () => {
    expect(ianaTimeZoneFor('FLE Standard Time', 'Europe/Helsinki')).toBe('Europe/Helsinki');
    expect(ianaTimeZoneFor('FLE Standard Time', 'UTC')).toBe('Europe/Kiev');
    expect(ianaTimeZoneFor('Eastern Standard Time', 'Europe/Helsinki')).toBe('America/New_York');
    expect(ianaTimeZoneFor('No Such Zone', 'Europe/Helsinki')).toBe('Europe/Helsinki');
    expect(ianaTimeZoneFor(null, 'Europe/Helsinki')).toBe('Europe/Helsinki');
  });

  it('Exchange 2007 zone names: an id or a display name from any Windows version', () => {
    expect(windowsIdFromName('Eastern Standard Time')).toBe('Eastern Standard Time');
    expect(windowsIdFromName('(GMT-05:00) Eastern Time (US & Canada)')).toBe('Eastern Standard Time');
    expect(windowsIdFromName('(UTC+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius')).toBe('FLE Standard Time');
    expect(windowsIdFromName('Somewhere Else')).toBeNull();
  });
});

describe('server types', () => {
  it('map to the EWS versions the library sends', () => {
    expect(['Exchange2007_SP1', 'Exchange2010', 'Exchange2013', 'Exchange2016', 'Exchange2019', 'ExchangeServerSE'].map((t) => ExchangeVersion[exchangeVersionFor(t as never)])).toEqual([
      'Exchange2007_SP1',
      'Exchange2010_SP2',
      'Exchange2013_SP1',
      'Exchange2016',
      'Exchange2016',
      'Exchange2016',
    ]);
    expect(() => exchangeVersionFor('Office365')).toThrow(/Graph/);
  });
});

describe('error translation', () => {
  it('ErrorServerBusy as a SoapFaultDetails -> throttled with BackOffMilliseconds', () => {
    const fault = new SoapFaultDetails();
    fault.FaultCode = 'a:ErrorServerBusy';
    fault.ResponseCode = ServiceError.ErrorServerBusy;
    fault.ErrorDetails.Add('BackOffMilliseconds', '2500');
    const error = translateEwsError(fault, 'Reading calendar changes (x@contoso.example)', null);
    expect(error).toMatchObject({ code: 'throttled', retryAfterMs: 2500, serverCode: 'ErrorServerBusy' });
  });

  it.each([
    [ServiceError.ErrorIrresolvableConflict, 'conflict'],
    [ServiceError.ErrorStaleObject, 'conflict'],
    [ServiceError.ErrorItemNotFound, 'not-found'],
    [ServiceError.ErrorInvalidSyncStateData, 'invalid-sync-state'],
    [ServiceError.ErrorImpersonateUserDenied, 'impersonation-denied'],
    [ServiceError.ErrorNonExistentMailbox, 'no-mailbox'],
    [ServiceError.ErrorMailboxStoreUnavailable, 'transient'],
    [ServiceError.ErrorCalendarViewRangeTooBig, 'other'],
  ])('ServiceResponseException %s -> %s', (code, expected) => {
    // The typings hide these constructors; the library builds them exactly so from a response message.
    const response = new (ServiceResponse as unknown as new (code: ServiceError, message: string) => ServiceResponse)(code, 'server says no');
    const exception = new (ServiceResponseException as unknown as new (r: ServiceResponse) => ServiceResponseException)(response);
    const error = translateEwsError(exception, 'Updating', null);
    expect(error.code).toBe(expected);
    expect(error.serverCode).toBe(ServiceError[code]);
  });

  it('a failure the transport classified wins over what the library made of it', () => {
    const transport = new CalendarError('tls', 'Secure connection refused.');
    expect(translateEwsError(new SoapFaultDetails(), 'x', transport)).toBe(transport);
  });
});

describe('what the library is given to write', () => {
  it('text and attributes are escaped, characters XML cannot carry are dropped', () => {
    expect(escapeXmlText('Q&A <b> \u0007bell')).toBe('Q&amp;A &lt;b&gt; bell');
    expect(escapeXmlAttribute('say "hi" & go')).toBe('say &quot;hi&quot; &amp; go');
    expect(escapeXmlText('emoji \u{1F600} ok, lone \uD800 surrogate')).toBe('emoji \u{1F600} ok, lone  surrogate');
  });

  it('fields problems are one sentence each', () => {
    const ok: EventFields = { subject: 's', start: '2026-01-01T10:00:00Z', end: '2026-01-01T11:00:00Z', isAllDay: false, timeZone: 'UTC', location: '', body: '', isPrivate: false, recurrence: null, exceptions: [], attendees: [], organizer: null };
    expect(eventFieldsProblem(ok)).toBeNull();
    expect(eventFieldsProblem({ ...ok, subject: 'x'.repeat(256) })).toMatch(/255/);
    expect(eventFieldsProblem({ ...ok, exceptions: [{ originalStart: '2026-01-02T10:00:00Z', fields: null }] })).toMatch(/no recurrence/);
    expect(eventFieldsProblem({ ...ok, isAllDay: true, start: '2026-01-01', end: '2026-01-01' })).toMatch(/day after/);
    expect(eventFieldsProblem(null as unknown as EventFields)).toMatch(/no fields/);
  });

  it('exception keys: an instant for timed series, the local date for all-day ones', () => {
    expect(exceptionKey('2026-03-30T06:00:00Z', { isAllDay: false, timeZone: 'Europe/Helsinki' })).toBe('2026-03-30T06:00:00.000Z');
    expect(exceptionKey('2026-03-29T21:00:00Z', { isAllDay: true, timeZone: 'Europe/Helsinki' })).toBe('2026-03-30');
  });
});
