import { describe, expect, it } from 'vitest';
import type { EventFields, OccurrenceException } from '../../src-main/sync/calendar-event.ts';
import { decodeSeriesBase, encodeSeriesBase, keptSeveraOccurrences, mergeSeries, seriesBaseOf, type SeriesBase } from '../../src-main/sync/series-merge.ts';
import { fields } from './fakes/fake-calendar.ts';

/** A weekly series on Mondays 09:00-10:00 Helsinki, five occurrences from 2026-03-02 (UTC+2 until 29 March 2026, so `week(4)`, 07:00Z on 30 March, is 10:00 local: off the pattern, which mergeSeries never checks). */
const week = (n: number, hh = 7) => `2026-03-${String(2 + 7 * n).padStart(2, '0')}T${String(hh).padStart(2, '0')}:00:00.000Z`;
const series = (over: Partial<EventFields> = {}): EventFields =>
  fields({
    subject: 'Weekly sync',
    start: week(0),
    end: week(0, 8),
    recurrence: { frequency: 'Weekly', interval: 1, daysOfWeek: ['Monday'], startDate: '2026-03-02', count: 5 },
    ...over,
  });
const moved = (n: number, hh: number, subject = 'Weekly sync'): OccurrenceException => ({
  originalStart: week(n),
  fields: { ...fields({ subject, start: week(n, hh), end: week(n, hh + 1) }), exceptions: [] } as OccurrenceException['fields'],
});
const deleted = (n: number): OccurrenceException => ({ originalStart: week(n), fields: null });
const at = (e: EventFields) => e.exceptions.map((x) => [x.originalStart, x.fields ? x.fields.start : null]);

const EARLY = '2026-03-01T10:00:00.000Z';
const LATE = '2026-03-01T10:05:00.000Z';

function merge(s: EventFields, e: EventFields, base: EventFields, times: { severa?: string; exchange?: string } = {}) {
  const b = seriesBaseOf(base)!;
  return mergeSeries({ severa: s, exchange: e, severaBase: b, exchangeBase: b, severaModified: times.severa ?? EARLY, exchangeModified: times.exchange ?? LATE });
}

describe('series merge: occurrence by occurrence', () => {
  it('different occurrences changed on each side: both changes go to both sides, no conflict', () => {
    const base = series({ exceptions: [moved(4, 12)] });
    const s = series({ exceptions: [deleted(2), moved(4, 12)] });
    const e = series({ exceptions: [moved(1, 8), moved(4, 12)] });
    const m = merge(s, e, base);
    expect(m.conflicts).toBe(0);
    expect(m.wholeFrom).toBeNull();
    expect(at(m.severa)).toEqual([[week(1), week(1, 8)], [week(2), null], [week(4), week(4, 12)]]);
    expect(at(m.exchange)).toEqual(at(m.severa));
    expect(m.toSevera).toBe(true);
    expect(m.toExchange).toBe(true);
  });

  it('the same occurrence changed differently on both sides: the later side has it, either way', () => {
    const base = series();
    const s = series({ exceptions: [moved(3, 10)] });
    const e = series({ exceptions: [moved(3, 13)] });
    const exchangeLater = merge(s, e, base, { severa: EARLY, exchange: LATE });
    expect(exchangeLater.conflicts).toBe(1);
    expect(at(exchangeLater.severa)).toEqual([[week(3), week(3, 13)]]);
    expect(exchangeLater.toExchange).toBe(false);
    const severaLater = merge(s, e, base, { severa: LATE, exchange: EARLY });
    expect(at(severaLater.exchange)).toEqual([[week(3), week(3, 10)]]);
    expect(severaLater.toSevera).toBe(false);
  });

  it('the same change on both sides is no conflict and needs no write', () => {
    const m = merge(series({ exceptions: [deleted(2)] }), series({ exceptions: [deleted(2)] }), series());
    expect(m).toMatchObject({ conflicts: 0, toSevera: false, toExchange: false });
  });

  it('an occurrence made regular again on one side is regular on both', () => {
    const base = series({ exceptions: [moved(1, 12)] });
    const m = merge(series({ exceptions: [moved(1, 12), deleted(3)] }), series(), base);
    expect(at(m.severa)).toEqual([[week(3), null]]);
    expect(at(m.exchange)).toEqual([[week(3), null]]);
  });

  it("the series' own fields changed on one side travel with the other side's occurrence changes", () => {
    const base = series();
    const s = series({ subject: 'Weekly sync v2', location: 'Room Koli' });
    const e = series({ exceptions: [deleted(1)] });
    const m = merge(s, e, base, { severa: EARLY, exchange: LATE });
    expect(m.conflicts).toBe(0);
    expect(m.exchange).toMatchObject({ subject: 'Weekly sync v2', location: 'Room Koli' });
    expect(at(m.exchange)).toEqual([[week(1), null]]);
    expect(m.severa).toMatchObject({ subject: 'Weekly sync v2', location: 'Room Koli' });
    expect(at(m.severa)).toEqual([[week(1), null]]);
  });

  it("the series' own fields changed on both sides: the later side's, with both sides' occurrence changes", () => {
    const base = series();
    const m = merge(series({ subject: 'From Severa', exceptions: [deleted(2)] }), series({ subject: 'From Exchange', exceptions: [deleted(3)] }), base, { severa: LATE, exchange: EARLY });
    expect(m.conflicts).toBe(1);
    expect(m.exchange.subject).toBe('From Severa');
    expect(at(m.exchange)).toEqual([[week(2), null], [week(3), null]]);
  });

  it('a side that moved the whole series wins whole: the other side\'s occurrences no longer line up', () => {
    const base = series();
    const later = series({ start: week(0, 9), end: week(0, 10) });
    const m = merge(later, series({ exceptions: [deleted(2)] }), base, { severa: EARLY, exchange: LATE });
    expect(m.wholeFrom).toBe('severa');
    expect(m.exchange.start).toBe(week(0, 9));
    expect(m.exchange.exceptions).toEqual([]);
    expect(m.toSevera).toBe(false);
  });

  it('keeps what the other side holds but cannot change (attendees, organizer) on each side', () => {
    const e = series({ attendees: ['mikko.lahtinen@contoso.example'], organizer: 'aino.virtanen@contoso.example' });
    const m = merge(series({ subject: 'Renamed' }), e, series());
    expect(m.exchange).toMatchObject({ subject: 'Renamed', attendees: ['mikko.lahtinen@contoso.example'], organizer: 'aino.virtanen@contoso.example' });
  });
});

describe('series base', () => {
  it('is null for a single entry and round-trips through its stored text', () => {
    expect(seriesBaseOf(fields({ subject: 'One-off', start: week(0), end: week(0, 8) }))).toBeNull();
    const base = seriesBaseOf(series({ exceptions: [deleted(2), moved(1, 12)] }))!;
    expect(Object.keys(base.occurrences).sort()).toEqual([week(1), week(2)]);
    expect(base.occurrences[week(2)]).toBeNull();
    expect(decodeSeriesBase(encodeSeriesBase(base))).toEqual(base);
  });

  it('a damaged or foreign stored text reads as no base (the series is then decided whole)', () => {
    for (const text of [null, '', 'not json', '[]', '{"series":1,"occurrences":{}}', '{"series":"x","occurrences":{"k":3}}', '{"series":"x","occurrences":[]}']) {
      expect(decodeSeriesBase(text)).toBeNull();
    }
    const ok: SeriesBase = { series: 'x', occurrences: { k: null } };
    expect(decodeSeriesBase(JSON.stringify(ok))).toEqual(ok);
  });
});

describe('keptSeveraOccurrences', () => {
  it('an occurrence Severa kept changed where wanted has it regular goes to the Exchange series', () => {
    const exchange = series();
    const r = keptSeveraOccurrences({ wanted: series(), severa: series({ exceptions: [moved(2, 12)] }), exchange });
    expect(r).toEqual({ exchange: { ...exchange, exceptions: [{ originalStart: week(2), fields: moved(2, 12).fields }] }, toExchange: true, unplaced: [], deletionsKept: [] });
    expect(exchange.exceptions).toEqual([]);
  });

  it('an occurrence Severa kept deleted where wanted has it regular is deleted in the Exchange series', () => {
    const exchange = series();
    const r = keptSeveraOccurrences({ wanted: series(), severa: series({ exceptions: [deleted(3)] }), exchange });
    expect(r).toEqual({ exchange: { ...exchange, exceptions: [{ originalStart: week(3), fields: null }] }, toExchange: true, unplaced: [], deletionsKept: [] });
  });

  it('an occurrence wanted itself changed is not written back: the Exchange series is returned as it is', () => {
    const exchange = series();
    const r = keptSeveraOccurrences({ wanted: series({ exceptions: [moved(1, 12), deleted(3)] }), severa: series({ exceptions: [moved(1, 12), deleted(3)] }), exchange });
    expect(r.toExchange).toBe(false);
    expect(r.exchange).toBe(exchange);
    expect(r.unplaced).toEqual([]);
  });

  it('wanted and Severa name the same occurrence in different forms of its original start: still wanted, not written', () => {
    const exchange = series();
    const wanted = series({ exceptions: [{ originalStart: '2026-03-16T09:00:00+02:00', fields: null }] });
    const r = keptSeveraOccurrences({ wanted, severa: series({ exceptions: [deleted(2)] }), exchange });
    expect(r).toEqual({ exchange, toExchange: false, unplaced: [], deletionsKept: [] });
    expect(r.exchange).toBe(exchange);
  });

  it('Exchange already holding the same change for that occurrence: nothing to write', () => {
    const exchange = series({ exceptions: [moved(2, 12), deleted(3)] });
    const r = keptSeveraOccurrences({ wanted: series(), severa: series({ exceptions: [moved(2, 12), deleted(3)] }), exchange });
    expect(r.toExchange).toBe(false);
    expect(r.exchange).toBe(exchange);
    expect(r.unplaced).toEqual([]);
  });

  it("Exchange holding a different change for that occurrence: Severa's kept change replaces it", () => {
    const exchange = series({ exceptions: [moved(2, 13), moved(3, 14)] });
    const r = keptSeveraOccurrences({ wanted: series(), severa: series({ exceptions: [moved(2, 12, 'Moved in Severa'), deleted(3)] }), exchange });
    expect(r.toExchange).toBe(true);
    expect(r.unplaced).toEqual([]);
    expect(r.exchange).toEqual({
      ...exchange,
      exceptions: [
        { originalStart: week(2), fields: moved(2, 12, 'Moved in Severa').fields },
        { originalStart: week(3), fields: null },
      ],
    });
    expect(at(r.exchange)).toEqual([[week(2), week(2, 12)], [week(3), null]]);
  });

  it('an occurrence Severa holds deleted where a change was wanted (changed in Outlook after): the deletion stands on both sides, and is named', () => {
    const exchange = series({ exceptions: [moved(2, 12, 'Changed in Outlook')] });
    const r = keptSeveraOccurrences({ wanted: exchange, severa: series({ exceptions: [deleted(2)] }), exchange });
    expect(r).toEqual({ exchange: { ...exchange, exceptions: [{ originalStart: week(2), fields: null }] }, toExchange: true, unplaced: [], deletionsKept: [deleted(2)] });
    // A change Severa holds where another change was wanted is still not written back (the write made it Severa's).
    const changed = keptSeveraOccurrences({ wanted: exchange, severa: series({ exceptions: [moved(2, 13)] }), exchange });
    expect(changed).toEqual({ exchange, toExchange: false, unplaced: [], deletionsKept: [] });
  });

  it("a kept occurrence the Exchange series has no occurrence for (moved to Tuesdays) is unplaced, not added", () => {
    const tuesday = (n: number, hh: number) => `2026-03-${String(3 + 7 * n).padStart(2, '0')}T${String(hh).padStart(2, '0')}:00:00.000Z`;
    const exchange = series({
      start: tuesday(0, 7),
      end: tuesday(0, 8),
      recurrence: { frequency: 'Weekly', interval: 1, daysOfWeek: ['Tuesday'], startDate: '2026-03-03', count: 5 },
    });
    const r = keptSeveraOccurrences({ wanted: series(), severa: series({ exceptions: [moved(1, 12), deleted(2)] }), exchange });
    expect(r).toEqual({ exchange, toExchange: false, unplaced: [moved(1, 12), deleted(2)], deletionsKept: [] });
    expect(r.exchange).toBe(exchange);
  });

  it('a series moved to another time of day: an occurrence Severa kept under its old start stands for that day\'s occurrence (soak K73)', () => {
    // Severa keeps a changed occurrence's old original start (09:00 local) when the whole series moves to 10:00.
    const exchange = series({ start: week(0, 8), end: week(0, 9) });
    const r = keptSeveraOccurrences({ wanted: series({ start: week(0, 8), end: week(0, 9) }), severa: series({ start: week(0, 8), end: week(0, 9), exceptions: [moved(2, 12), deleted(3)] }), exchange });
    expect(r.unplaced).toEqual([]);
    expect(r.toExchange).toBe(true);
    expect(at(r.exchange)).toEqual([[week(2, 8), week(2, 12)], [week(3, 8), null]]);
  });

  it('only the kept occurrences beyond a shorter Exchange series are unplaced; the others are added', () => {
    const exchange = series({ recurrence: { frequency: 'Weekly', interval: 1, daysOfWeek: ['Monday'], startDate: '2026-03-02', count: 3 } });
    const r = keptSeveraOccurrences({ wanted: series(), severa: series({ exceptions: [deleted(1), moved(3, 12)] }), exchange });
    expect(r.toExchange).toBe(true);
    expect(r.unplaced).toEqual([moved(3, 12)]);
    expect(r.exchange).toEqual({ ...exchange, exceptions: [{ originalStart: week(1), fields: null }] });
  });

  it('an Exchange item that is not a series: every kept occurrence is unplaced', () => {
    const exchange = fields({ subject: 'Weekly sync', start: week(0), end: week(0, 8) });
    const r = keptSeveraOccurrences({ wanted: series(), severa: series({ exceptions: [moved(1, 12), deleted(3)] }), exchange });
    expect(r).toEqual({ exchange, toExchange: false, unplaced: [moved(1, 12), deleted(3)], deletionsKept: [] });
    expect(r.exchange).toBe(exchange);
  });

  it("the returned Exchange series' exceptions are in original-start order, its own and the kept ones together", () => {
    const exchange = series({ exceptions: [moved(3, 12), deleted(0)] });
    const r = keptSeveraOccurrences({ wanted: series(), severa: series({ exceptions: [deleted(2), moved(1, 8)] }), exchange });
    expect(r.toExchange).toBe(true);
    expect(r.unplaced).toEqual([]);
    expect(at(r.exchange)).toEqual([[week(0), null], [week(1), week(1, 8)], [week(2), null], [week(3), week(3, 12)]]);
  });
});
