/**
 * Unit tests of the simulator's building blocks: the XML reader, NTLM against the MS-NLMP test vectors, recurrence
 * expansion, time zones, seed validation and relative dates, and the command line.
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SimRecurrence } from './calendar-model.ts';
import { buildType2, ntHash, parseType1, verifyNtlmV2 } from './ntlm.ts';
import type { NtlmType3 } from './ntlm.ts';
import { expandSeries, firstOccurrence, lastOccurrence, occurrenceByIndex } from './recurrence.ts';
import { SeedError, resolveSeedDate, resolveSeedDateTime, validateEwsSeed } from './seed.ts';
import { localToUtc, parseEwsDateTime, windowsZoneFor, zoneRules } from './time-zones.ts';
import { XmlParseError, child, parseXml } from './xml-parser.ts';
import { readRecurrence } from './recurrence-xml.ts';

describe('XML reader', () => {
  it('resolves namespaces whatever the prefixes, including default and redeclared ones', () => {
    const doc = parseXml('<a:x xmlns:a="urn:A" xmlns="urn:D"><y/><a:z xmlns:a="urn:B" k="v &amp; w"/><b:w xmlns:b="urn:A">t&lt;1&#x41;<![CDATA[<raw>]]></b:w></a:x>');
    expect([doc.ns, doc.name]).toEqual(['urn:A', 'x']);
    expect(doc.children.map((c) => [c.ns, c.name])).toEqual([
      ['urn:D', 'y'],
      ['urn:B', 'z'],
      ['urn:A', 'w'],
    ]);
    expect(doc.children[1].attrs.k).toBe('v & w');
    expect(child(doc, 'urn:A', 'w')?.text).toBe('t<1A<raw>');
  });

  it('refuses DTDs, undeclared entities and prefixes, and says where', () => {
    expect(() => parseXml('<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>')).toThrow(/DTD is prohibited/);
    expect(() => parseXml('<x>&e;</x>')).toThrow(/undeclared entity/);
    expect(() => parseXml('<p:x/>')).toThrow(/Undeclared namespace prefix/);
    try {
      parseXml('<x>\n  <y>\n</x>');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(XmlParseError);
      expect((e as XmlParseError).line).toBe(3);
    }
  });

  it('limits depth and element count', () => {
    expect(() => parseXml('<a>'.repeat(100) + '</a>'.repeat(100))).toThrow(/nested too deeply/);
    expect(() => parseXml(`<a>${'<b/>'.repeat(50)}</a>`, { maxDepth: 10, maxElements: 20 })).toThrow(/Too many elements/);
  });
});

describe('NTLM', () => {
  it('verifies the NTLMv2 response of the MS-NLMP example (User / Domain / Password)', () => {
    const u16 = (s: string): Buffer => Buffer.from(s, 'utf16le');
    const av = (id: number, v: Buffer): Buffer => {
      const h = Buffer.alloc(4);
      h.writeUInt16LE(id, 0);
      h.writeUInt16LE(v.length, 2);
      return Buffer.concat([h, v]);
    };
    const info = Buffer.concat([av(2, u16('Domain')), av(1, u16('Server')), av(0, Buffer.alloc(0))]);
    const blob = Buffer.concat([Buffer.from('0101000000000000', 'hex'), Buffer.alloc(8), Buffer.from('aaaaaaaaaaaaaaaa', 'hex'), Buffer.alloc(4), info, Buffer.alloc(4)]);
    // NTProofStr from MS-NLMP 4.2.4.2.2.
    const nt = Buffer.concat([Buffer.from('68cd0ab851e51c96aabc927bebef6a1c', 'hex'), blob]);
    const type3: NtlmType3 = { flags: 0, domain: 'Domain', user: 'User', workstation: 'COMPUTER', lmResponse: Buffer.alloc(24), ntResponse: nt };
    const state = { serverChallenge: Buffer.from('0123456789abcdef', 'hex'), flags: 0 };
    expect(ntHash('Password').toString('hex')).toBe('a4f49c406510bdcab6824ee7c30fd852');
    expect(verifyNtlmV2(type3, state, 'Password')).toBe(true);
    expect(verifyNtlmV2(type3, state, 'password')).toBe(false);
    expect(verifyNtlmV2({ ...type3, user: 'Other' }, state, 'Password')).toBe(false);
    expect(() => verifyNtlmV2({ ...type3, ntResponse: Buffer.alloc(24) }, state, 'Password')).toThrow(/NTLMv1/);
  });

  it('answers a negotiate with a challenge carrying the domain, the server names and the client\'s encoding', () => {
    const t1 = Buffer.alloc(16);
    t1.write('NTLMSSP\0', 0, 'latin1');
    t1.writeUInt32LE(1, 8);
    t1.writeUInt32LE(0x00000002 | 0x00080000, 12); // OEM + extended session security, like @ewsjs/ntlm-client
    const { token, state } = buildType2(parseType1(t1).flags, { netbiosDomain: 'CONTOSO', dnsDomain: 'contoso.example', netbiosComputer: 'EXCH01' });
    const flags = token.readUInt32LE(20);
    expect(flags & 0x00000002).toBeTruthy(); // OEM strings, as asked
    expect(flags & 0x00080000).toBeTruthy(); // extended session security: the client then answers NTLMv2
    expect(token.toString('latin1', token.readUInt32LE(16), token.readUInt32LE(16) + token.readUInt16LE(12))).toBe('CONTOSO');
    expect(token.subarray(24, 32).equals(state.serverChallenge)).toBe(true);
    const info = token.subarray(token.readUInt32LE(44), token.readUInt32LE(44) + token.readUInt16LE(40)).toString('utf16le');
    expect(info).toContain('exch01.contoso.example');
  });

  it('computes NTOWFv2 as the spec does (a check of the helper the client side of the tests uses)', () => {
    const ntowf = createHmac('md5', ntHash('Password')).update(Buffer.from('USERDomain', 'utf16le')).digest('hex');
    expect(ntowf).toBe('0c868a403bfd7a93a3001ef22ef02e3f');
  });
});

describe('recurrence', () => {
  const H = 'Europe/Helsinki';
  const at = (y: number, m: number, d: number, h: number, mi = 0): number => localToUtc(H, y, m, d, h, mi);
  const starts = (r: SimRecurrence, from: number, n = 20): string[] => {
    const out: string[] = [];
    for (const o of expandSeries({ startMs: from, endMs: from + 1_800_000, isAllDay: false, timeZone: H, recurrence: r }, Infinity, n)) out.push(new Date(o.startMs).toISOString().slice(0, 16));
    return out;
  };

  it('keeps the wall-clock time across DST and counts Numbered ranges', () => {
    const r: SimRecurrence = { pattern: { type: 'Weekly', interval: 1, daysOfWeek: ['Monday'] }, range: { type: 'Numbered', startDate: '2026-03-16', count: 3 } };
    expect(starts(r, at(2026, 3, 16, 9))).toEqual(['2026-03-16T07:00', '2026-03-23T07:00', '2026-03-30T06:00']);
  });

  it('expands weekly patterns on several days with an interval, from the range start', () => {
    const r: SimRecurrence = { pattern: { type: 'Weekly', interval: 2, daysOfWeek: ['Tuesday', 'Thursday'], firstDayOfWeek: 'Monday' }, range: { type: 'EndDate', startDate: '2026-06-04', endDate: '2026-06-30' } };
    expect(starts(r, at(2026, 6, 4, 12)).map((s) => s.slice(0, 10))).toEqual(['2026-06-04', '2026-06-16', '2026-06-18', '2026-06-30']);
  });

  it('puts "the 31st" on the last day of shorter months and finds relative days', () => {
    const abs: SimRecurrence = { pattern: { type: 'AbsoluteMonthly', interval: 1, dayOfMonth: 31 }, range: { type: 'Numbered', startDate: '2026-01-01', count: 4 } };
    expect(starts(abs, at(2026, 1, 31, 10)).map((s) => s.slice(0, 10))).toEqual(['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30']);
    const lastFri: SimRecurrence = { pattern: { type: 'RelativeMonthly', interval: 1, daysOfWeek: 'Friday', dayOfWeekIndex: 'Last' }, range: { type: 'Numbered', startDate: '2026-01-01', count: 3 } };
    expect(starts(lastFri, at(2026, 1, 30, 10)).map((s) => s.slice(0, 10))).toEqual(['2026-01-30', '2026-02-27', '2026-03-27']);
    const firstWeekday: SimRecurrence = { pattern: { type: 'RelativeYearly', daysOfWeek: 'Weekday', dayOfWeekIndex: 'First', month: 'August' }, range: { type: 'Numbered', startDate: '2026-01-01', count: 2 } };
    expect(starts(firstWeekday, at(2026, 8, 3, 10)).map((s) => s.slice(0, 10))).toEqual(['2026-08-03', '2027-08-02']);
    const yearly: SimRecurrence = { pattern: { type: 'AbsoluteYearly', dayOfMonth: 29, month: 'February' }, range: { type: 'Numbered', startDate: '2027-01-01', count: 2 } };
    expect(starts(yearly, at(2027, 2, 28, 10)).map((s) => s.slice(0, 10))).toEqual(['2027-02-28', '2028-02-29']);
  });

  it('reads a weekly DaysOfWeek day group as its days, and a week start that decides which weeks "every 2 weeks" skips', () => {
    const T = 'http://schemas.microsoft.com/exchange/services/2006/types';
    const read = (pattern: string) =>
      readRecurrence(parseXml(`<t:Recurrence xmlns:t="${T}">${pattern}<t:NumberedRecurrence><t:StartDate>2026-03-04</t:StartDate><t:NumberOfOccurrences>4</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>`));
    expect(read('<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Weekday</t:DaysOfWeek></t:WeeklyRecurrence>').pattern)
      .toEqual({ type: 'Weekly', interval: 1, daysOfWeek: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'] });
    expect(read('<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>WeekendDay Monday</t:DaysOfWeek></t:WeeklyRecurrence>').pattern)
      .toEqual({ type: 'Weekly', interval: 1, daysOfWeek: ['Sunday', 'Monday', 'Saturday'] });
    const fromSunday = read('<t:WeeklyRecurrence><t:Interval>2</t:Interval><t:DaysOfWeek>Sunday Wednesday</t:DaysOfWeek><t:FirstDayOfWeek>Sunday</t:FirstDayOfWeek></t:WeeklyRecurrence>');
    const fromMonday = read('<t:WeeklyRecurrence><t:Interval>2</t:Interval><t:DaysOfWeek>Sunday Wednesday</t:DaysOfWeek><t:FirstDayOfWeek>Monday</t:FirstDayOfWeek></t:WeeklyRecurrence>');
    expect(starts(fromSunday, at(2026, 3, 4, 12)).map((s) => s.slice(0, 10))).toEqual(['2026-03-04', '2026-03-15', '2026-03-18', '2026-03-29']);
    expect(starts(fromMonday, at(2026, 3, 4, 12)).map((s) => s.slice(0, 10))).toEqual(['2026-03-04', '2026-03-08', '2026-03-18', '2026-03-22']);
    expect(() => read('<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Someday</t:DaysOfWeek></t:WeeklyRecurrence>')).toThrow(/DaysOfWeek/);
  });

  it('finds the first, the last and the n-th occurrence, and stops a NoEnd series where asked', () => {
    const r: SimRecurrence = { pattern: { type: 'Daily', interval: 3 }, range: { type: 'NoEnd', startDate: '2026-05-02' } };
    const timing = { startMs: at(2026, 5, 1, 8), endMs: at(2026, 5, 1, 9), isAllDay: false, timeZone: H, recurrence: r };
    expect(new Date(firstOccurrence(timing)!.startMs).toISOString()).toBe('2026-05-02T05:00:00.000Z');
    expect(lastOccurrence(timing)).toBeNull();
    expect(new Date(occurrenceByIndex(timing, 4)!.startMs).toISOString()).toBe('2026-05-11T05:00:00.000Z');
    expect([...expandSeries(timing, at(2026, 5, 12, 0))]).toHaveLength(4);
    // Counting without computing: after a skipped stretch the occurrences and their indexes are the same.
    const all = [...expandSeries(timing, at(2026, 9, 1, 0))];
    const late = [...expandSeries(timing, at(2026, 9, 1, 0), Infinity, at(2026, 8, 20, 0))];
    expect(late.length).toBeLessThan(all.length);
    expect(late[0].startMs).toBeGreaterThan(at(2026, 8, 15, 0));
    expect(late).toEqual(all.filter((o) => o.index >= late[0].index));
  });
});

describe('time zones', () => {
  it('maps IANA zones to Windows ids and derives their DST rules', () => {
    expect(windowsZoneFor('Europe/Helsinki').id).toBe('FLE Standard Time');
    expect(windowsZoneFor('America/New_York').id).toBe('Eastern Standard Time');
    expect(zoneRules('Europe/Helsinki')).toMatchObject({
      standardOffset: 120,
      daylightOffset: 180,
      toDaylight: { month: 3, weekday: 0, occurrence: -1, localMinutes: 180 },
      toStandard: { month: 10, weekday: 0, occurrence: -1, localMinutes: 240 },
    });
    expect(zoneRules('Asia/Tokyo').daylightOffset).toBeNull();
  });

  it('reads date-times with Z, an offset, or none (local in the given zone), and skips over a DST gap', () => {
    expect(new Date(parseEwsDateTime('2026-07-01T12:00:00Z', 'Europe/Helsinki')).toISOString()).toBe('2026-07-01T12:00:00.000Z');
    expect(new Date(parseEwsDateTime('2026-07-01T12:00:00+02:00', 'UTC')).toISOString()).toBe('2026-07-01T10:00:00.000Z');
    expect(new Date(parseEwsDateTime('2026-07-01T12:00:00', 'Europe/Helsinki')).toISOString()).toBe('2026-07-01T09:00:00.000Z');
    expect(new Date(localToUtc('Europe/Helsinki', 2026, 3, 29, 3, 30)).toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(parseEwsDateTime('2026-02-30T10:00:00Z', 'UTC')).toBeNaN();
  });
});

describe('seed', () => {
  const base = { timeZone: 'Europe/Helsinki', mailboxes: [{ primarySmtp: 'a@x.example', displayName: 'A', username: 'a', password: 'p' }] };

  it('resolves relative dates in the seed zone', () => {
    const now = Date.UTC(2026, 5, 30, 22, 30); // 1 July 01:30 in Helsinki
    expect(resolveSeedDate('today+3', 'Europe/Helsinki', now)).toBe('2026-07-04');
    expect(new Date(resolveSeedDateTime('today-1T13:30', 'Europe/Helsinki', now)).toISOString()).toBe('2026-06-30T10:30:00.000Z');
    expect(new Date(resolveSeedDateTime('today', 'Europe/Helsinki', now)).toISOString()).toBe('2026-06-30T21:00:00.000Z');
    expect(() => resolveSeedDateTime('tomorrow', 'Europe/Helsinki', now)).toThrow(SeedError);
    expect(() => resolveSeedDate('today+1T10:00', 'Europe/Helsinki', now)).toThrow(/must be a date/);
  });

  it('names what is wrong in a bad seed', () => {
    expect(() => validateEwsSeed({ ...base, timeZone: 'Mars/Olympus' })).toThrow(/IANA time zone/);
    expect(() => validateEwsSeed({ ...base, mailboxes: [{ ...base.mailboxes[0], primarySmtp: 'not-an-address' }] })).toThrow(/SMTP address/);
    expect(() => validateEwsSeed({ ...base, items: [{ mailbox: 'a@x.example', subject: 's', start: 'x', end: 'y', colour: 'red' }] })).toThrow(/colour/);
  });
});

describe('command line', () => {
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
  const demo = fileURLToPath(new URL('../demo/ews-demo.json', import.meta.url));
  const run = (args: string[]): Promise<{ code: number | null; out: string; err: string }> =>
    new Promise((resolve) => {
      const p = spawn(process.execPath, [cli, ...args]);
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('EWS endpoint')) p.kill('SIGTERM');
      });
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('close', (code) => resolve({ code, out, err }));
    });

  it('prints the listening line with the demo data, and usage for bad arguments', async () => {
    const ok = await run(['--port', '0', '--data', demo]);
    expect(ok.out).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+\n/);
    const missing = await run(['--port', '0']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('give either --data <seed.json> or --state <state.json>');
    const both = await run(['--data', demo, '--state', demo]);
    expect(both.code).toBe(2);
    const notAState = await run(['--state', demo]);
    expect(notAState.code).toBe(2);
    expect(notAState.err).toMatch(/is not an EWS simulator state snapshot/);
    const badFile = await run(['--data', '/nonexistent/seed.json']);
    expect(badFile.code).toBe(2);
    expect(badFile.err).toContain('Cannot read EWS seed file');
  });
});
