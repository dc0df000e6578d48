/**
 * The simulator's pieces on their own: recurrence expansion, time zones, ids and extended property ids, the OData
 * filter, JWTs and the test CA.
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expandOccurrences, normalizeRecurrence } from './graph-recurrence.ts';
import { formatDateTimeTimeZone, parseDateTimeTimeZone, preferredTimeZone, resolveZone, windowsNameOf } from './graph-time.ts';
import { eventId, normalizePropertyId, occurrenceICalUid, occurrenceId, parseId, sameProperty } from './graph-model.ts';
import { ODataQueryError, evaluateFilter, parseFilter } from './odata-query.ts';
import { decodeJwt, signJwt, verifyJwtSignature } from './jwt.ts';
import { createClientCertificate, createTestCa, describeCertificate } from './test-ca.ts';

const iso = (ms: number) => new Date(ms).toISOString();

describe('recurrence', () => {
  it('a weekly 10:00 Helsinki meeting stays at 10:00 local across the DST change', () => {
    const rec = normalizeRecurrence({ pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'] }, range: { type: 'numbered', startDate: '2030-03-18', numberOfOccurrences: 3 } }, 'Europe/Helsinki');
    const start = Date.parse('2030-03-18T08:00:00Z');
    expect(expandOccurrences(rec, { startMs: start, durationMs: 3600_000, zone: 'Europe/Helsinki' }, 0, 8.64e15).map(iso)).toEqual(['2030-03-18T08:00:00.000Z', '2030-03-25T08:00:00.000Z', '2030-04-01T07:00:00.000Z']);
  });

  it('relative monthly (last friday), absolute monthly on the 31st (last day in short months), every other week', () => {
    const t = { startMs: Date.parse('2030-01-01T09:00:00Z'), durationMs: 0, zone: 'UTC' };
    const last = normalizeRecurrence({ pattern: { type: 'relativeMonthly', interval: 1, daysOfWeek: ['friday'], index: 'last' }, range: { type: 'numbered', startDate: '2030-01-01', numberOfOccurrences: 3 } }, 'UTC');
    expect(expandOccurrences(last, t, 0, 8.64e15).map((x) => iso(x).slice(0, 10))).toEqual(['2030-01-25', '2030-02-22', '2030-03-29']);
    const abs = normalizeRecurrence({ pattern: { type: 'absoluteMonthly', interval: 1, dayOfMonth: 31 }, range: { type: 'endDate', startDate: '2030-01-01', endDate: '2030-04-30' } }, 'UTC');
    expect(expandOccurrences(abs, t, 0, 8.64e15).map((x) => iso(x).slice(0, 10))).toEqual(['2030-01-31', '2030-02-28', '2030-03-31', '2030-04-30']);
    const biweekly = normalizeRecurrence({ pattern: { type: 'weekly', interval: 2, daysOfWeek: ['tuesday'], firstDayOfWeek: 'monday' }, range: { type: 'numbered', startDate: '2030-01-01', numberOfOccurrences: 3 } }, 'UTC');
    expect(expandOccurrences(biweekly, t, 0, 8.64e15).map((x) => iso(x).slice(0, 10))).toEqual(['2030-01-01', '2030-01-15', '2030-01-29']);
  });

  it('refuses patterns Graph refuses', () => {
    expect(() => normalizeRecurrence({ pattern: { type: 'weekly', interval: 1 }, range: { type: 'noEnd', startDate: '2030-01-01' } }, 'UTC')).toThrow(/daysOfWeek/);
    expect(() => normalizeRecurrence({ pattern: { type: 'hourly', interval: 1 }, range: { type: 'noEnd', startDate: '2030-01-01' } }, 'UTC')).toThrow();
    expect(() => normalizeRecurrence({ pattern: { type: 'daily', interval: 1 }, range: { type: 'endDate', startDate: '2030-01-02', endDate: '2030-01-01' } }, 'UTC')).toThrow();
  });
});

describe('time zones', () => {
  it('Windows and IANA names, dateTimeTimeZone both ways, Prefer header parsing', () => {
    expect(resolveZone('fle standard time')).toBe('Europe/Kiev');
    expect(resolveZone('Europe/Helsinki')).toBe('Europe/Helsinki');
    expect(resolveZone('Greenwich Mean Time')).toBeNull();
    expect(windowsNameOf('Europe/Helsinki')).toBe('FLE Standard Time');
    expect(iso(parseDateTimeTimeZone({ dateTime: '2030-07-01T12:00:00.0000000', timeZone: 'Pacific Standard Time' }).utcMs)).toBe('2030-07-01T19:00:00.000Z');
    expect(formatDateTimeTimeZone(Date.parse('2030-07-01T19:00:00Z'), 'Eastern Standard Time')).toEqual({ dateTime: '2030-07-01T15:00:00.0000000', timeZone: 'Eastern Standard Time' });
    expect(preferredTimeZone(['odata.maxpagesize=5, outlook.timezone="W. Europe Standard Time"'])).toBe('W. Europe Standard Time');
  });
});

describe('ids and extended property ids', () => {
  it('event and occurrence ids decode to mailbox, number and original start', () => {
    const guid = 'aaaaaaaa-0000-4000-8000-000000000001';
    expect(parseId(eventId(guid, 7))).toEqual({ kind: 'event', mailboxGuid: guid, number: 7 });
    const t = Date.parse('2030-01-07T07:00:00Z');
    expect(parseId(occurrenceId(guid, 7, t))).toEqual({ kind: 'occurrence', mailboxGuid: guid, number: 7, originalStartMs: t });
    expect(eventId(guid, 7)).toMatch(/^AAMkA/);
    expect(parseId('garbage')).toBeNull();
    expect(occurrenceICalUid('040000008200E00074C5B7101A82E00800000000ABCDEF', t)).toBe('040000008200E00074C5B7101A82E00807EE0107ABCDEF');
  });

  it('type and GUID ignore case, the name does not; tags and ids are normalized', () => {
    expect(normalizePropertyId('string {8B5E2F1C-0D3A-4C1E-9F3B-5A6D7E8F9A0B} name SeveraGuid')).toBe('String {8b5e2f1c-0d3a-4c1e-9f3b-5a6d7e8f9a0b} Name SeveraGuid');
    expect(normalizePropertyId('Integer {00062002-0000-0000-C000-000000000046} Id 0x8205')).toBe('Integer {00062002-0000-0000-c000-000000000046} Id 0x8205');
    expect(normalizePropertyId('String 0x007D')).toBe('String 0x7d');
    expect(sameProperty('String {8b5e2f1c-0d3a-4c1e-9f3b-5a6d7e8f9a0b} Name A', 'String {8b5e2f1c-0d3a-4c1e-9f3b-5a6d7e8f9a0b} Name a')).toBe(false);
    expect(() => normalizePropertyId('Strng 0x1')).toThrow();
  });
});

describe('$filter', () => {
  const user = { mail: 'a@b.example', proxyAddresses: ['SMTP:a@b.example', 'smtp:alias@b.example'], displayName: "O'Brien" };
  const known = (s: string[]) => ['mail', 'proxyAddresses', 'displayName'].includes(s[0]);
  it('lambdas, functions, quotes, and/or/not', () => {
    expect(evaluateFilter(parseFilter("proxyAddresses/any(x:x eq 'SMTP:ALIAS@b.example')"), user, known)).toBe(true);
    expect(evaluateFilter(parseFilter("startswith(displayName,'o''b') and not (mail eq 'c@d')"), user, known)).toBe(true);
    expect(evaluateFilter(parseFilter("mail eq 'x' or proxyAddresses/any()"), user, known)).toBe(true);
  });
  it('a typo in a property or a syntax error is an error, not an empty result', () => {
    expect(() => evaluateFilter(parseFilter("mial eq 'a'"), user, known)).toThrow(ODataQueryError);
    expect(() => parseFilter("mail eq 'a")).toThrow(ODataQueryError);
    expect(() => parseFilter('mail eq')).toThrow(ODataQueryError);
  });
});

describe('JWT and the test CA', () => {
  it('signs and verifies RS256 and PS256', () => {
    const c = createClientCertificate('jwt test', 1, 1024);
    const key = createPrivateKey(c.keyPem);
    for (const alg of ['RS256', 'PS256'] as const) {
      const jwt = decodeJwt(signJwt({ kid: 'k' }, { a: 1 }, key, alg));
      expect(jwt.header.alg).toBe(alg);
      expect(verifyJwtSignature(jwt, createPublicKey(key))).toBe(true);
      expect(verifyJwtSignature({ ...jwt, signingInput: `${jwt.signingInput}x` }, createPublicKey(key))).toBe(false);
    }
  });

  it('issues a server certificate for 127.0.0.1 and localhost that verifies against the CA', () => {
    const ca = createTestCa();
    const server = ca.issueServerCertificate(['127.0.0.1', 'localhost']);
    const x = new X509Certificate(server.certPem);
    const caX = new X509Certificate(ca.certPem);
    expect(x.checkIssued(caX)).toBe(true);
    expect(x.verify(caX.publicKey)).toBe(true);
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(caX.ca).toBe(true);
    expect(describeCertificate(server.certPem).thumbprintSha256).toBe(server.thumbprintSha256);
  });
});
