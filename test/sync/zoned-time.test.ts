import { describe, expect, it } from 'vitest';
import { localParts, localToMs, offsetMs, wallTimeToMs } from '../../src-main/sync/zoned-time.ts';

describe('zoned time', () => {
  it('keeps years below 100 and before 1 CE (EWS DateTime.MinValue seen west of Greenwich)', () => {
    const minValue = Date.parse('0001-01-01T00:00:00Z');
    const ny = localParts(minValue, 'America/New_York');
    expect(ny.year).toBe(0); // 1 BC, in astronomical numbering
    expect(ny.month).toBe(12);
    expect(wallTimeToMs('America/New_York', ny)).toBe(minValue);
    const helsinki = localParts(minValue, 'Europe/Helsinki');
    expect(helsinki).toMatchObject({ year: 1, month: 1, day: 1 });
    expect(localToMs('Europe/Helsinki', '0001-01-01', helsinki.hour, helsinki.minute, helsinki.second)).toBe(minValue);
  });

  it('reads a spring-forward gap after the gap and an autumn overlap as the earlier instant', () => {
    // 2026-03-08 02:30 does not exist in New York: read with the offset before the change -> 03:30 EDT = 07:30Z.
    expect(new Date(localToMs('America/New_York', '2026-03-08', 2, 30)).toISOString()).toBe('2026-03-08T07:30:00.000Z');
    // 2026-10-25 03:30 happens twice in Helsinki: the earlier is EEST (+03:00).
    expect(new Date(localToMs('Europe/Helsinki', '2026-10-25', 3, 30)).toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(offsetMs(Date.parse('2026-07-01T00:00:00Z'), 'Europe/Helsinki')).toBe(3 * 3_600_000);
  });
});
