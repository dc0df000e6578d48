import { describe, expect, it } from 'vitest';
import { classifySide, decide, laterSide, type DecisionInput, type SideNow } from '../../src-main/sync/sync-decision.ts';

const base = (over: Partial<DecisionInput>): DecisionInput => ({
  paired: true,
  severa: 'unchanged',
  exchange: 'unchanged',
  sameContent: false,
  severaEligible: true,
  exchangeEligible: true,
  ...over,
});

const EARLY = '2026-03-01T10:00:00.000Z';
const LATE = '2026-03-01T10:00:05.000Z';

describe('decision table: no stored pair', () => {
  it('both absent: nothing', () => {
    expect(decide(base({ paired: false, severa: 'absent', exchange: 'absent' })).action).toBe('none');
  });
  it('only in Severa, eligible: create in Exchange', () => {
    expect(decide(base({ paired: false, severa: 'changed', exchange: 'absent' }))).toMatchObject({ action: 'create', side: 'exchange', conflict: false });
  });
  it('only in Severa, not eligible (type not selected, task, outside window): nothing', () => {
    expect(decide(base({ paired: false, severa: 'changed', exchange: 'absent', severaEligible: false })).action).toBe('none');
  });
  it('only in Exchange, eligible: create in Severa', () => {
    expect(decide(base({ paired: false, severa: 'absent', exchange: 'changed' }))).toMatchObject({ action: 'create', side: 'severa', conflict: false });
  });
  it('only in Exchange, outside the window: nothing', () => {
    expect(decide(base({ paired: false, severa: 'absent', exchange: 'changed', exchangeEligible: false })).action).toBe('none');
  });
  it('on both sides with the same content: record the pair, write nothing', () => {
    expect(decide(base({ paired: false, severa: 'changed', exchange: 'changed', sameContent: true })).action).toBe('record');
  });
  it('on both sides with different content: later wins (Exchange later)', () => {
    expect(decide(base({ paired: false, severa: 'changed', exchange: 'changed', severaModified: EARLY, exchangeModified: LATE })))
      .toMatchObject({ action: 'update', side: 'severa', conflict: true });
  });
  it('on both sides with different content: later wins (Severa later)', () => {
    expect(decide(base({ paired: false, severa: 'changed', exchange: 'changed', severaModified: LATE, exchangeModified: EARLY })))
      .toMatchObject({ action: 'update', side: 'exchange', conflict: true });
  });
});

describe('decision table: stored pair', () => {
  const cells: Array<[SideNow, SideNow, boolean, object]> = [
    ['unchanged', 'unchanged', false, { action: 'none' }],
    ['unchanged', 'unchanged', true, { action: 'none' }],
    ['changed', 'unchanged', false, { action: 'update', side: 'exchange', conflict: false, reason: 'changed in Severa' }],
    ['changed', 'unchanged', true, { action: 'record' }],
    ['unchanged', 'changed', false, { action: 'update', side: 'severa', conflict: false, reason: 'changed in Exchange' }],
    ['unchanged', 'changed', true, { action: 'record' }],
    ['changed', 'changed', true, { action: 'record' }],
    ['absent', 'unchanged', false, { action: 'delete', side: 'exchange', reason: 'deleted in Severa' }],
    ['unchanged', 'absent', false, { action: 'delete', side: 'severa', reason: 'deleted in Exchange' }],
    ['absent', 'changed', false, { action: 'create', side: 'severa', conflict: true }],
    ['changed', 'absent', false, { action: 'create', side: 'exchange', conflict: true }],
    ['absent', 'absent', false, { action: 'forget' }],
  ];
  for (const [s, e, same, expected] of cells) {
    it(`Severa ${s}, Exchange ${e}${same ? ', same content' : ''}`, () => {
      expect(decide(base({ severa: s, exchange: e, sameContent: same }))).toMatchObject(expected);
    });
  }
  it('both changed, different content, Exchange later: Exchange wins', () => {
    expect(decide(base({ severa: 'changed', exchange: 'changed', severaModified: EARLY, exchangeModified: LATE })))
      .toMatchObject({ action: 'update', side: 'severa', conflict: true, reason: 'conflict: Exchange changed later' });
  });
  it('both changed, different content, Severa later: Severa wins', () => {
    expect(decide(base({ severa: 'changed', exchange: 'changed', severaModified: LATE, exchangeModified: EARLY })))
      .toMatchObject({ action: 'update', side: 'exchange', conflict: true, reason: 'conflict: Severa changed later' });
  });
  it('both changed at the same instant: the tie goes to Severa', () => {
    expect(decide(base({ severa: 'changed', exchange: 'changed', severaModified: EARLY, exchangeModified: EARLY })))
      .toMatchObject({ action: 'update', side: 'exchange', conflict: true });
  });
  it('both changed, a series with a per-occurrence base on both sides: merged part by part, whatever the times', () => {
    for (const [s, e] of [[LATE, EARLY], [EARLY, LATE]]) {
      expect(decide(base({ severa: 'changed', exchange: 'changed', severaModified: s, exchangeModified: e, mergeable: true })))
        .toMatchObject({ action: 'merge', cell: 'paired: changed/changed, series' });
    }
  });
  it('mergeable changes nothing where only one side changed, the content is the same, or there is no pair', () => {
    expect(decide(base({ severa: 'changed', exchange: 'unchanged', mergeable: true }))).toMatchObject({ action: 'update', side: 'exchange' });
    expect(decide(base({ severa: 'changed', exchange: 'changed', sameContent: true, mergeable: true }))).toMatchObject({ action: 'record' });
    expect(decide(base({ paired: false, severa: 'changed', exchange: 'changed', mergeable: true, severaModified: LATE, exchangeModified: EARLY }))).toMatchObject({ action: 'update', side: 'exchange', conflict: true });
  });
  it('eligibility does not matter for paired items (changes of paired items always flow)', () => {
    expect(decide(base({ severa: 'changed', exchange: 'unchanged', severaEligible: false })))
      .toMatchObject({ action: 'update', side: 'exchange' });
  });
});

describe('laterSide', () => {
  it('compares instants, not strings', () => {
    expect(laterSide('2026-03-01T12:00:00+03:00', '2026-03-01T09:30:00Z')).toBe('exchange');
    expect(laterSide('2026-03-01T12:00:00+01:00', '2026-03-01T09:30:00Z')).toBe('severa');
  });
  it('a side with a time beats a side without one; neither: Severa', () => {
    expect(laterSide(undefined, EARLY)).toBe('exchange');
    expect(laterSide(EARLY, undefined)).toBe('severa');
    expect(laterSide(undefined, undefined)).toBe('severa');
  });
});

describe('classifySide', () => {
  it('absent when there is nothing now', () => {
    expect(classifySide({ version: 'v1', hash: 'h1' }, null)).toBe('absent');
  });
  it('changed when nothing was stored', () => {
    expect(classifySide(null, { version: 'v1', hash: 'h1' })).toBe('changed');
  });
  it('unchanged on the same version', () => {
    expect(classifySide({ version: 'v1', hash: 'h1' }, { version: 'v1', hash: 'h2' })).toBe('unchanged');
  });
  it('unchanged on a new version with the same content', () => {
    expect(classifySide({ version: 'v1', hash: 'h1' }, { version: 'v2', hash: 'h1' })).toBe('unchanged');
  });
  it('a coarse version (a timestamp) is only a hint: the content decides', () => {
    expect(classifySide({ version: 't1', hash: 'h1' }, { version: 't1', hash: 'h2' }, false)).toBe('changed');
    expect(classifySide({ version: 't1', hash: 'h1' }, { version: 't2', hash: 'h1' }, false)).toBe('unchanged');
  });
  it('changed on a new version with new content', () => {
    expect(classifySide({ version: 'v1', hash: 'h1' }, { version: 'v2', hash: 'h2' })).toBe('changed');
  });
});
