import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import type { UserReport } from '../../src-main/common/sync-report.ts';
import { MIGRATIONS } from '../../src-main/store/store-migrations.ts';
import { SyncStore, SyncStoreError, type PairRecord } from '../../src-main/store/sync-store.ts';

const pair = (over: Partial<PairRecord> = {}): PairRecord => ({
  email: 'aino.virtanen@contoso.example',
  mailbox: 'aino.virtanen@contoso.example',
  exchangeId: 'X1',
  severaGuid: 'S1',
  role: 'owner',
  origin: 'severa',
  uid: null,
  exchangeVersion: 'ck1',
  exchangeHash: 'h',
  exchangeModified: '2026-03-01T10:00:00.000Z',
  severaVersion: '2026-03-01T10:00:00Z',
  severaHash: 'h',
  severaModified: '2026-03-01T10:00:00Z',
  subject: 'Planning',
  start: '2026-03-02T08:00:00.000Z',
  end: '2026-03-02T09:00:00.000Z',
  exchangeGone: false,
  severaGone: false,
  ...over,
});

const report = (email: string): UserReport => ({
  email, outcome: 'ok', toSevera: { created: 1, updated: 0, deleted: 0 }, toExchange: { created: 0, updated: 0, deleted: 0 },
  conflicts: 0, heldDeletions: 0, changes: [], errors: [], notes: [], firstSync: true,
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SyncStore', () => {
  it('creates the schema and reports its version', () => {
    const store = SyncStore.open(':memory:');
    expect(store.schemaVersion()).toBe(MIGRATIONS.length);
    store.close();
  });

  it('commits a user\'s work atomically: pairs, state, status', () => {
    const store = SyncStore.open(':memory:');
    store.commitUserWork({
      email: 'Aino.Virtanen@contoso.example',
      user: { mailbox: 'aino.virtanen@contoso.example', exchangeSyncState: 'state-1', severaCursor: '2026-03-01T10:00:00Z' },
      upsertPairs: [pair(), pair({ exchangeId: 'X2', severaGuid: 'S2', uid: 'UID-1' })],
      status: report('aino.virtanen@contoso.example'),
      statusAt: '2026-03-01T10:00:01Z',
    });
    const user = store.getUser('aino.virtanen@contoso.example');
    expect(user).toMatchObject({ mailbox: 'aino.virtanen@contoso.example', exchangeSyncState: 'state-1', severaCursor: '2026-03-01T10:00:00Z', firstSyncedAt: null });
    const pairs = store.pairsForUser('aino.virtanen@contoso.example');
    expect(pairs.map((p) => p.exchangeId)).toEqual(['X1', 'X2']);
    expect(store.pairsByUid('UID-1')).toHaveLength(1);
    expect(store.pairsBySeveraGuid('S1')[0]).toMatchObject({ ...pair(), id: pairs[0].id });
    expect(store.lastStatus('aino.virtanen@contoso.example')).toEqual({ report: report('aino.virtanen@contoso.example'), at: '2026-03-01T10:00:01Z' });
    store.close();
  });

  it('a failing piece of work leaves the previous state untouched', () => {
    const store = SyncStore.open(':memory:');
    store.commitUserWork({ email: 'a@contoso.example', user: { exchangeSyncState: 'old' }, upsertPairs: [pair({ email: 'a@contoso.example' })] });
    expect(() => store.commitUserWork({
      email: 'a@contoso.example',
      user: { exchangeSyncState: 'new' },
      deletePairIds: [store.pairsForUser('a@contoso.example')[0].id!],
      upsertPairs: [pair({ email: 'someone.else@contoso.example' })],
    })).toThrow(SyncStoreError);
    expect(store.getUser('a@contoso.example')?.exchangeSyncState).toBe('old');
    expect(store.pairsForUser('a@contoso.example')).toHaveLength(1);
    store.close();
  });

  it('updates a pair by id and supersedes rows that hold the same ids', () => {
    const store = SyncStore.open(':memory:');
    const email = 'aino.virtanen@contoso.example';
    store.commitUserWork({ email, upsertPairs: [pair()] });
    const stored = store.pairsForUser(email)[0];
    store.commitUserWork({ email, upsertPairs: [{ ...stored, exchangeVersion: 'ck2', exchangeGone: true }] });
    expect(store.pairsForUser(email)).toEqual([{ ...stored, exchangeVersion: 'ck2', exchangeGone: true }]);
    // The Exchange item was re-created: a new pair for the same activity replaces the old row.
    store.commitUserWork({ email, upsertPairs: [pair({ exchangeId: 'X9' })] });
    expect(store.pairsForUser(email).map((p) => [p.exchangeId, p.severaGuid])).toEqual([['X9', 'S1']]);
    // The same activity in another user's calendar is another pair.
    store.commitUserWork({ email: 'mikko.lahtinen@contoso.example', upsertPairs: [pair({ email: 'mikko.lahtinen@contoso.example', role: 'participant' })] });
    expect(store.pairsBySeveraGuid('S1').map((p) => p.role)).toEqual(['owner', 'participant']);
    expect(store.countPairs()).toBe(2);
    expect(store.countPairs(email)).toBe(1);
    store.close();
  });

  it("keeps each side's series base with the pair, on insert and on update; none for a single item", () => {
    const store = SyncStore.open(':memory:');
    const email = 'aino.virtanen@contoso.example';
    store.commitUserWork({ email, upsertPairs: [pair({ severaSeriesBase: '{"series":"s1","occurrences":{}}', exchangeSeriesBase: '{"series":"e1","occurrences":{}}' })] });
    const stored = store.pairsForUser(email)[0];
    expect([stored.severaSeriesBase, stored.exchangeSeriesBase]).toEqual(['{"series":"s1","occurrences":{}}', '{"series":"e1","occurrences":{}}']);
    store.commitUserWork({ email, upsertPairs: [{ ...stored, exchangeSeriesBase: '{"series":"e2","occurrences":{}}' }] });
    expect(store.pairsForUser(email)[0].exchangeSeriesBase).toBe('{"series":"e2","occurrences":{}}');
    store.commitUserWork({ email, upsertPairs: [pair({ exchangeId: 'X2', severaGuid: 'S2' })] });
    expect(store.pairsForUser(email).find((p) => p.exchangeId === 'X2')).toMatchObject({ severaSeriesBase: null, exchangeSeriesBase: null });
    store.close();
  });

  it('brings a schema 1 store forward, its pairs intact and without series bases', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-store-'));
    dirs.push(dir);
    const file = join(dir, 'old.db');
    const db = new DatabaseSync(file);
    db.exec(MIGRATIONS[0]);
    db.exec('PRAGMA user_version = 1');
    db.prepare(`INSERT INTO pairs (email, mailbox, exchange_id, severa_guid, role, origin, exchange_version, exchange_hash, exchange_modified,
      severa_version, severa_hash, severa_modified, subject, start_at, end_at) VALUES ('a@contoso.example', 'a@contoso.example', 'X1', 'S1',
      'owner', 'severa', 'ck1', 'h', '2026-03-01T10:00:00.000Z', 't', 'h', 't', 'Planning', '2026-03-02T08:00:00.000Z', '2026-03-02T09:00:00.000Z')`).run();
    db.close();
    const store = SyncStore.open(file);
    expect(store.schemaVersion()).toBe(MIGRATIONS.length);
    expect(store.pairsForUser('a@contoso.example')).toEqual([expect.objectContaining({ exchangeId: 'X1', severaGuid: 'S1', severaSeriesBase: null, exchangeSeriesBase: null })]);
    store.close();
  });

  it('brings a schema 4 store forward: its pairs read "plain single: not known" (null), and the flag is kept on insert and update', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-store-'));
    dirs.push(dir);
    const file = join(dir, 'schema4.db');
    const db = new DatabaseSync(file);
    for (const m of MIGRATIONS.slice(0, 4)) db.exec(m);
    db.exec('PRAGMA user_version = 4');
    db.prepare(`INSERT INTO pairs (email, mailbox, exchange_id, severa_guid, role, origin, exchange_version, exchange_hash, exchange_modified,
      severa_version, severa_hash, severa_modified, subject, start_at, end_at) VALUES ('a@contoso.example', 'a@contoso.example', 'X1', 'S1',
      'owner', 'severa', 'ck1', 'h', '2026-03-01T10:00:00.000Z', 't', 'h', 't', 'Planning', '2026-03-02T08:00:00.000Z', '2026-03-02T09:00:00.000Z')`).run();
    db.close();
    const store = SyncStore.open(file);
    expect(store.schemaVersion()).toBe(5);
    const [old] = store.pairsForUser('a@contoso.example');
    expect(old.exchangePlainSingle).toBeNull();
    const email = 'a@contoso.example';
    store.commitUserWork({ email, upsertPairs: [{ ...old, exchangePlainSingle: true }, pair({ email, exchangeId: 'X2', severaGuid: 'S2', exchangePlainSingle: false }), pair({ email, exchangeId: 'X3', severaGuid: 'S3' })] });
    const flags = () => Object.fromEntries(store.pairsForUser(email).map((p) => [p.exchangeId, p.exchangePlainSingle]));
    expect(flags()).toEqual({ X1: true, X2: false, X3: null });
    const x1 = store.pairsForUser(email).find((p) => p.exchangeId === 'X1')!;
    store.commitUserWork({ email, upsertPairs: [{ ...x1, exchangeVersion: 'ck2', exchangePlainSingle: null }] });
    expect(flags().X1).toBeNull();
    store.close();
  });

  it('keeps intents until the work that fulfils them commits', () => {
    const store = SyncStore.open(':memory:');
    store.addIntent({ id: 'i1', email: 'A@contoso.example', kind: 'create-exchange', payload: { tag: 'S1' }, createdAt: '2026-03-01T10:00:00Z' });
    expect(store.intentsForUser('a@contoso.example')).toEqual([{ id: 'i1', email: 'a@contoso.example', kind: 'create-exchange', payload: { tag: 'S1' }, createdAt: '2026-03-01T10:00:00Z' }]);
    store.commitUserWork({ email: 'a@contoso.example', removeIntentIds: ['i1'] });
    expect(store.intentsForUser('a@contoso.example')).toEqual([]);
    store.close();
  });

  it('journals deletions, lists newest first and marks restores', () => {
    const store = SyncStore.open(':memory:');
    const first = store.journalDeletion({ email: 'a@contoso.example', side: 'exchange', kind: 'item', itemId: 'X1', subject: 'One', start: '2026-03-02T08:00:00Z', reason: 'deleted in Severa', item: { subject: 'One' }, deletedAt: '2026-03-01T10:00:00Z' });
    const second = store.journalDeletion({ email: 'b@contoso.example', side: 'severa', kind: 'item', itemId: 'S2', subject: 'Two', start: '2026-03-03T08:00:00Z', reason: 'deleted in Exchange', item: { name: 'Two' }, deletedAt: '2026-03-01T10:00:01Z' });
    expect(store.listJournal().map((j) => j.id)).toEqual([second, first]);
    expect(store.listJournal({ email: 'a@contoso.example' }).map((j) => j.itemId)).toEqual(['X1']);
    store.markRestored(first, 'X1-again', '2026-03-01T11:00:00Z');
    expect(store.listJournal().map((j) => j.id)).toEqual([second]);
    expect(store.getJournalEntry(first)).toMatchObject({ restoredId: 'X1-again', item: { subject: 'One' } });
    store.unjournal(second);
    expect(store.getJournalEntry(second)).toBeNull();
    store.close();
  });

  it('keeps deferred items and finds those entering the window', () => {
    const store = SyncStore.open(':memory:');
    store.commitUserWork({ email: 'a@contoso.example', addDeferred: [
      { email: 'a@contoso.example', side: 'exchange', itemId: 'X1', startsAt: '2027-05-01T00:00:00.000Z' },
      { email: 'a@contoso.example', side: 'exchange', itemId: 'X2', startsAt: '2027-09-01T00:00:00.000Z' },
    ] });
    expect(store.deferredStartingBefore('a@contoso.example', '2027-06-01T00:00:00.000Z').map((d) => d.itemId)).toEqual(['X1']);
    store.commitUserWork({ email: 'a@contoso.example', removeDeferred: [{ side: 'exchange', itemId: 'X1' }] });
    expect(store.deferredStartingBefore('a@contoso.example', '2028-01-01T00:00:00.000Z').map((d) => d.itemId)).toEqual(['X2']);
    store.close();
  });

  it('persists to a file (WAL) and reopens with everything in place', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-store-'));
    dirs.push(dir);
    const file = join(dir, 'sync.db');
    const store = SyncStore.open(file);
    store.commitUserWork({ email: 'a@contoso.example', user: { exchangeSyncState: 's1' }, upsertPairs: [pair({ email: 'a@contoso.example' })] });
    store.setOrgValue('reconcile', { next: 3 });
    store.close();
    const again = SyncStore.open(file);
    expect(again.getUser('a@contoso.example')?.exchangeSyncState).toBe('s1');
    expect(again.pairsForUser('a@contoso.example')).toHaveLength(1);
    expect(again.getOrgValue('reconcile')).toEqual({ next: 3 });
    const db = new DatabaseSync(file);
    expect((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode).toBe('wal');
    db.close();
    again.close();
  });

  it('refuses a store written by a newer schema, and a path that cannot be opened, with a clear error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-store-'));
    dirs.push(dir);
    const file = join(dir, 'future.db');
    const db = new DatabaseSync(file);
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length + 5}`);
    db.close();
    expect(() => SyncStore.open(file)).toThrow(/newer version/);
    expect(() => SyncStore.open(join(dir, 'missing-dir', 'x.db'))).toThrow(SyncStoreError);
    expect(() => SyncStore.open('')).toThrow(/No path/);
  });

  it('keeps a cycle history, newest first', () => {
    const store = SyncStore.open(':memory:');
    for (const n of [1, 2, 3]) {
      store.recordCycle({ startedAt: `2026-03-01T10:0${n}:00Z`, finishedAt: `2026-03-01T10:0${n}:01Z`, dryRun: false, outcome: 'ok', users: [], errors: [],
        requests: { severa: n, exchange: n }, clockOffsetMs: { severa: null, exchange: null }, severaDeletionLatencyCycles: 1 });
    }
    expect(store.cycleHistory(2).map((c) => c.requests.severa)).toEqual([3, 2]);
    store.close();
  });

  it('stores a status on its own and lists all statuses', () => {
    const store = SyncStore.open(':memory:');
    store.setStatus('b@contoso.example', report('b@contoso.example'), '2026-03-01T10:00:00Z');
    store.setStatus('a@contoso.example', report('a@contoso.example'), '2026-03-01T10:00:00Z');
    expect(store.allStatuses().map((s) => s.email)).toEqual(['a@contoso.example', 'b@contoso.example']);
    store.forgetUser('a@contoso.example');
    expect(store.allStatuses().map((s) => s.email)).toEqual(['b@contoso.example']);
    store.close();
  });

  it('marks every other user\'s pair of a deleted activity as gone on the Severa side, in the same transaction', () => {
    const store = SyncStore.open(':memory:');
    store.commitUserWork({ email: 'a@contoso.example', upsertPairs: [pair({ email: 'a@contoso.example' })] });
    store.commitUserWork({ email: 'b@contoso.example', upsertPairs: [pair({ email: 'b@contoso.example', role: 'participant' })] });
    const [mine] = store.pairsForUser('a@contoso.example');
    store.commitUserWork({ email: 'a@contoso.example', deletePairIds: [mine.id!], markSeveraGone: ['S1'] });
    expect(store.pairsForUser('a@contoso.example')).toEqual([]);
    expect(store.pairsForUser('b@contoso.example')[0].severaGone).toBe(true);
    store.close();
  });

  it("remembers a meeting UID's activity after its pair moves to another UID, while any pair holds the activity", () => {
    const store = SyncStore.open(':memory:');
    store.commitUserWork({ email: 'a@contoso.example', upsertPairs: [pair({ email: 'a@contoso.example', uid: 'meeting-1' })] });
    const [mine] = store.pairsForUser('a@contoso.example');
    // The pair now holds the sync's own copy, a UID of its own: the meeting's UID still names the activity.
    store.commitUserWork({ email: 'a@contoso.example', upsertPairs: [{ ...mine, exchangeId: 'X2', uid: 'copy-1' }] });
    expect(store.pairsByUid('meeting-1')).toEqual([]);
    store.pruneMeetingActivities();
    expect([store.activityOfMeeting('meeting-1'), store.activityOfMeeting('copy-1'), store.activityOfMeeting('other')]).toEqual(['S1', 'S1', null]);
    // No pair holds the activity any more: forgotten at the next prune.
    store.commitUserWork({ email: 'a@contoso.example', deletePairIds: [mine.id!] });
    store.pruneMeetingActivities();
    expect(store.activityOfMeeting('meeting-1')).toBeNull();
    // A deleted activity is forgotten at once.
    store.commitUserWork({ email: 'b@contoso.example', upsertPairs: [pair({ email: 'b@contoso.example', uid: 'meeting-2', severaGuid: 'S2' })] });
    store.commitUserWork({ email: 'a@contoso.example', markSeveraGone: ['S2'] });
    expect(store.activityOfMeeting('meeting-2')).toBeNull();
    store.close();
  });
});
