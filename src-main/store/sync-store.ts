import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { SideName, UserReport, CycleReport } from '../common/sync-report.ts';
import { MIGRATIONS } from './store-migrations.ts';

/**
 * The sync's memory between cycles, in one SQLite file (node:sqlite, built into Node 24 and Electron: no native rebuild):
 * per-user sync state, the pairs (which Exchange item is which Severa activity, and what each side looked like after the
 * last cycle), intents written before side effects, the deletion journal, per-user last status and the cycle history.
 *
 * Each user's work of a cycle is committed in ONE transaction (`commitUserWork`), so a failed or killed cycle leaves that
 * user's previous state intact and the next cycle replays it. Intents and journal entries are the exception: they are
 * committed at once, before the side effect they describe, because they exist to survive a crash.
 *
 * No secret is ever stored here: only ids, versions, hashes, item contents and reports.
 */

export type PairRole = 'owner' | 'participant';

export interface PairRecord {
  /** Row id; absent for a pair not stored yet. */
  id?: number;
  /** Enrollment email, lower-cased: the user the pair belongs to. */
  email: string;
  /** The primary SMTP address the email resolved to. */
  mailbox: string;
  exchangeId: string;
  severaGuid: string;
  /** The user's part in the Severa activity: its owner, or a participant. */
  role: PairRole;
  /** Which side the item was first seen on. */
  origin: SideName;
  /** iCalendar UID of the Exchange item (meetings shared by several mailboxes carry the same one). */
  uid: string | null;
  exchangeVersion: string;
  exchangeHash: string;
  exchangeModified: string;
  severaVersion: string;
  severaHash: string;
  severaModified: string;
  /** For reports, the journal and window checks: the item as last synced. */
  subject: string;
  start: string;
  end: string;
  /** Seen deleted on that side while the deletion guard held the deletion on the other side. */
  exchangeGone: boolean;
  severaGone: boolean;
  /**
   * A series: what each side held as last synced, per occurrence (opaque to the store: the engine's JSON, see
   * series-merge.ts). Absent or null for single items and pairs stored before schema 2.
   */
  severaSeriesBase?: string | null;
  exchangeSeriesBase?: string | null;
  /**
   * The Exchange item was, at `exchangeVersion` (as last read or written), a single item with no attendees and no
   * recurrence. Absent or null: not known (pairs stored before schema 5), so an update reads the item first.
   */
  exchangePlainSingle?: boolean | null;
}

export interface UserSyncState {
  email: string;
  mailbox: string | null;
  severaUserGuid: string | null;
  /** Opaque Exchange sync state (SyncFolderItems), null: start from the beginning. */
  exchangeSyncState: string | null;
  /** Severa changedSince position this user has fully consumed; null before the first sync. */
  severaCursor: string | null;
  firstSyncedAt: string | null;
  /** The Exchange connection that serves the mailbox (the connector's location id); null before it was known. */
  exchangeLocation: string | null;
  /** When the mailbox was first seen there (ISO). */
  exchangeLocationSince: string | null;
}

export interface IntentRecord<P = unknown> {
  id: string;
  email: string;
  kind: string;
  payload: P;
  createdAt: string;
}

export interface JournalEntry<I = unknown> {
  id: number;
  email: string;
  /** Side the deletion was made on. */
  side: SideName;
  /** 'item': the item was deleted; 'participation': the user was removed from a Severa activity's participants. */
  kind: 'item' | 'participation';
  itemId: string;
  subject: string;
  start: string;
  reason: string;
  /** The full item as it was just before the deletion, enough to re-create it. */
  item: I;
  deletedAt: string;
  restoredAt: string | null;
  restoredId: string | null;
}

export interface DeferredItem {
  email: string;
  side: SideName;
  itemId: string;
  startsAt: string;
}

/** Everything one user's cycle changes in the store, applied atomically by `commitUserWork`. */
export interface UserWork {
  email: string;
  user?: Partial<Omit<UserSyncState, 'email'>>;
  /** Pairs to insert or replace. A pair without id replaces any row with the same (email, exchangeId) or (email, severaGuid). */
  upsertPairs?: PairRecord[];
  deletePairIds?: number[];
  /** Intents fulfilled (or found obsolete) by this work. */
  removeIntentIds?: string[];
  addDeferred?: DeferredItem[];
  removeDeferred?: Array<{ side: SideName; itemId: string }>;
  /** Severa activities this work deleted: every other user's pair of them is marked gone on the Severa side. */
  markSeveraGone?: string[];
  /** Organization-wide values to set with this work (null removes the key), e.g. what a user's writes left differing. */
  orgValues?: Array<{ key: string; value: unknown }>;
  status?: UserReport;
  statusAt?: string;
}

export class SyncStoreError extends Error {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, opts);
    this.name = 'SyncStoreError';
  }
}

type Row = Record<string, unknown>;

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function rowToIntent(r: Row): IntentRecord {
  return { id: str(r.id), email: str(r.email), kind: str(r.kind), payload: parseJson(r.payload, 'intent'), createdAt: str(r.created_at) };
}

function rowToPair(r: Row): PairRecord {
  return {
    id: Number(r.id),
    email: str(r.email),
    mailbox: str(r.mailbox),
    exchangeId: str(r.exchange_id),
    severaGuid: str(r.severa_guid),
    role: r.role === 'participant' ? 'participant' : 'owner',
    origin: r.origin === 'exchange' ? 'exchange' : 'severa',
    uid: strOrNull(r.uid),
    exchangeVersion: str(r.exchange_version),
    exchangeHash: str(r.exchange_hash),
    exchangeModified: str(r.exchange_modified),
    severaVersion: str(r.severa_version),
    severaHash: str(r.severa_hash),
    severaModified: str(r.severa_modified),
    subject: str(r.subject),
    start: str(r.start_at),
    end: str(r.end_at),
    exchangeGone: Number(r.exchange_gone) === 1,
    severaGone: Number(r.severa_gone) === 1,
    severaSeriesBase: strOrNull(r.severa_series_base),
    exchangeSeriesBase: strOrNull(r.exchange_series_base),
    exchangePlainSingle: r.exchange_plain_single === null || r.exchange_plain_single === undefined ? null : Number(r.exchange_plain_single) === 1,
  };
}

function rowToUser(r: Row): UserSyncState {
  return {
    email: str(r.email),
    mailbox: strOrNull(r.mailbox),
    severaUserGuid: strOrNull(r.severa_user_guid),
    exchangeSyncState: strOrNull(r.exchange_sync_state),
    severaCursor: strOrNull(r.severa_cursor),
    firstSyncedAt: strOrNull(r.first_synced_at),
    exchangeLocation: strOrNull(r.exchange_location),
    exchangeLocationSince: strOrNull(r.exchange_location_since),
  };
}

function parseJson(text: unknown, what: string): unknown {
  try {
    return JSON.parse(str(text));
  } catch (cause) {
    throw new SyncStoreError(`The sync store holds a damaged ${what}; it cannot be read.`, { cause });
  }
}

function rowToJournal(r: Row): JournalEntry {
  return {
    id: Number(r.id),
    email: str(r.email),
    side: r.side === 'exchange' ? 'exchange' : 'severa',
    kind: r.kind === 'participation' ? 'participation' : 'item',
    itemId: str(r.item_id),
    subject: str(r.subject),
    start: str(r.start_at),
    reason: str(r.reason),
    item: parseJson(r.item, 'journal entry'),
    deletedAt: str(r.deleted_at),
    restoredAt: strOrNull(r.restored_at),
    restoredId: strOrNull(r.restored_id),
  };
}

const CYCLE_HISTORY_KEPT = 500;

export class SyncStore {
  readonly path: string;
  private readonly db: DatabaseSync;
  private closed = false;
  /** Statements of fixed SQL, compiled once: the intents and pairs are written and read many times a cycle. */
  private readonly statements = new Map<string, StatementSync>();

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.db = db;
  }

  /** Opens (creating if needed) the store at `path`; ':memory:' for tests. Runs pending migrations. */
  static open(path: string): SyncStore {
    if (typeof path !== 'string' || path.trim() === '') throw new SyncStoreError('No path was given for the sync store.');
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
    } catch (cause) {
      throw new SyncStoreError(`The sync store at ${path} cannot be opened: ${(cause as Error).message}`, { cause });
    }
    try {
      db.exec('PRAGMA busy_timeout = 5000');
      if (path !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
      db.exec('PRAGMA foreign_keys = ON');
      SyncStore.migrate(db, path);
    } catch (cause) {
      db.close();
      if (cause instanceof SyncStoreError) throw cause;
      throw new SyncStoreError(`The sync store at ${path} is not usable: ${(cause as Error).message}`, { cause });
    }
    return new SyncStore(path, db);
  }

  private static migrate(db: DatabaseSync, path: string): void {
    const version = Number((db.prepare('PRAGMA user_version').get() as Row).user_version);
    if (version > MIGRATIONS.length) {
      throw new SyncStoreError(`The sync store at ${path} was written by a newer version of this app (schema ${version}); update the app.`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec('BEGIN IMMEDIATE');
      try {
        db.exec(MIGRATIONS[v]);
        db.exec(`PRAGMA user_version = ${v + 1}`);
        db.exec('COMMIT');
      } catch (cause) {
        db.exec('ROLLBACK');
        throw new SyncStoreError(`Upgrading the sync store to schema ${v + 1} failed: ${(cause as Error).message}`, { cause });
      }
    }
  }

  schemaVersion(): number {
    return Number((this.statement('PRAGMA user_version').get() as Row).user_version);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  // ---- users -------------------------------------------------------------------------------------------------------

  getUser(email: string): UserSyncState | null {
    const row = this.statement('SELECT * FROM users WHERE email = ?').get(email.toLowerCase()) as Row | undefined;
    return row ? rowToUser(row) : null;
  }

  listUsers(): UserSyncState[] {
    return (this.statement('SELECT * FROM users ORDER BY email').all() as Row[]).map(rowToUser);
  }

  /** Forgets the Exchange sync state (after ErrorInvalidSyncStateData) while keeping every pair. */
  dropExchangeSyncState(email: string): void {
    this.statement('UPDATE users SET exchange_sync_state = NULL WHERE email = ?').run(email.toLowerCase());
  }

  /** Removes a user and everything the store knows about them except the journal (unenrolment). */
  forgetUser(email: string): void {
    const e = email.toLowerCase();
    this.transaction(() => {
      for (const table of ['pairs', 'intents', 'deferred', 'users']) this.db.prepare(`DELETE FROM ${table} WHERE email = ?`).run(e);
    });
  }

  // ---- pairs -------------------------------------------------------------------------------------------------------

  pairsForUser(email: string): PairRecord[] {
    return (this.statement('SELECT * FROM pairs WHERE email = ? ORDER BY id').all(email.toLowerCase()) as Row[]).map(rowToPair);
  }

  pairsBySeveraGuid(guid: string): PairRecord[] {
    return (this.statement('SELECT * FROM pairs WHERE severa_guid = ? ORDER BY id').all(guid) as Row[]).map(rowToPair);
  }

  /** Every pair of these activities, by activity guid (one query per 500 guids). */
  pairsBySeveraGuids(guids: readonly string[]): Map<string, PairRecord[]> {
    const out = new Map<string, PairRecord[]>();
    const unique = [...new Set(guids)];
    for (let i = 0; i < unique.length; i += 500) {
      const part = unique.slice(i, i + 500);
      const rows = this.db.prepare(`SELECT * FROM pairs WHERE severa_guid IN (${part.map(() => '?').join(',')}) ORDER BY id`).all(...part) as Row[];
      for (const r of rows) {
        const p = rowToPair(r);
        const list = out.get(p.severaGuid);
        if (list) list.push(p);
        else out.set(p.severaGuid, [p]);
      }
    }
    return out;
  }

  pairsByUid(uid: string): PairRecord[] {
    return (this.statement('SELECT * FROM pairs WHERE uid = ? ORDER BY id').all(uid) as Row[]).map(rowToPair);
  }

  /** The activity a pair last held for this meeting UID, while some pair still holds that activity (schema 4). */
  activityOfMeeting(uid: string): string | null {
    const row = this.statement('SELECT severa_guid FROM meeting_activities WHERE uid = ?').get(uid) as Row | undefined;
    return row ? String(row.severa_guid) : null;
  }

  /** Forgets the meeting UIDs of activities no pair holds any more (once a cycle). */
  pruneMeetingActivities(): void {
    this.statement('DELETE FROM meeting_activities WHERE severa_guid NOT IN (SELECT severa_guid FROM pairs)').run();
  }

  countPairs(email?: string): number {
    const row = email === undefined
      ? (this.statement('SELECT COUNT(*) AS n FROM pairs').get() as Row)
      : (this.statement('SELECT COUNT(*) AS n FROM pairs WHERE email = ?').get(email.toLowerCase()) as Row);
    return Number(row.n);
  }

  // ---- organization-wide values --------------------------------------------------------------------------------------

  getOrgValue<T>(key: string): T | null {
    const row = this.statement('SELECT value FROM org_state WHERE key = ?').get(key) as Row | undefined;
    return row ? (parseJson(row.value, `value "${key}"`) as T) : null;
  }

  setOrgValue(key: string, value: unknown): void {
    this.statement('INSERT INTO org_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(key, JSON.stringify(value));
  }

  // ---- intents (committed at once, before the side effect) --------------------------------------------------------

  addIntent(intent: IntentRecord): void {
    this.statement('INSERT OR REPLACE INTO intents (id, email, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(intent.id, intent.email.toLowerCase(), intent.kind, JSON.stringify(intent.payload), intent.createdAt);
  }

  /** Several intents in one transaction (a batch of writes announces all of them before its request). */
  addIntents(intents: readonly IntentRecord[]): void {
    if (intents.length === 0) return;
    this.transaction(() => {
      const insert = this.statement('INSERT OR REPLACE INTO intents (id, email, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)');
      for (const intent of intents) insert.run(intent.id, intent.email.toLowerCase(), intent.kind, JSON.stringify(intent.payload), intent.createdAt);
    });
  }

  intentsForUser(email: string): IntentRecord[] {
    return (this.statement('SELECT * FROM intents WHERE email = ? ORDER BY created_at, id').all(email.toLowerCase()) as Row[]).map(rowToIntent);
  }

  /** Every user's pending intents, by user and then in the order they were written. */
  allIntents(): IntentRecord[] {
    return (this.statement('SELECT * FROM intents ORDER BY email, created_at, id').all() as Row[]).map(rowToIntent);
  }

  removeIntent(id: string): void {
    this.statement('DELETE FROM intents WHERE id = ?').run(id);
  }

  // ---- deletion journal (committed at once, before the deletion) --------------------------------------------------

  journalDeletion(entry: Omit<JournalEntry, 'id' | 'restoredAt' | 'restoredId'>): number {
    const result = this.db.prepare(
      'INSERT INTO journal (email, side, kind, item_id, subject, start_at, reason, item, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(entry.email.toLowerCase(), entry.side, entry.kind, entry.itemId, entry.subject, entry.start, entry.reason, JSON.stringify(entry.item), entry.deletedAt);
    return Number(result.lastInsertRowid);
  }

  /** Drops a journal entry whose deletion did not happen after all (the delete call failed). */
  unjournal(id: number): void {
    this.statement('DELETE FROM journal WHERE id = ? AND restored_at IS NULL').run(id);
  }

  /** Newest first. */
  listJournal(filter: { email?: string; limit?: number; includeRestored?: boolean } = {}): JournalEntry[] {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (filter.email) {
      where.push('email = ?');
      params.push(filter.email.toLowerCase());
    }
    if (!filter.includeRestored) where.push('restored_at IS NULL');
    const limit = Math.max(1, Math.min(filter.limit ?? 200, 10_000));
    const sql = `SELECT * FROM journal ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit}`;
    return (this.db.prepare(sql).all(...params) as Row[]).map(rowToJournal);
  }

  getJournalEntry(id: number): JournalEntry | null {
    const row = this.statement('SELECT * FROM journal WHERE id = ?').get(id) as Row | undefined;
    return row ? rowToJournal(row) : null;
  }

  markRestored(id: number, restoredId: string, at: string): void {
    this.statement('UPDATE journal SET restored_at = ?, restored_id = ? WHERE id = ?').run(at, restoredId, id);
  }

  // ---- items waiting to enter the window ----------------------------------------------------------------------------

  deferredStartingBefore(email: string, before: string): DeferredItem[] {
    return (this.statement('SELECT * FROM deferred WHERE email = ? AND starts_at < ? ORDER BY starts_at').all(email.toLowerCase(), before) as Row[])
      .map((r) => ({ email: str(r.email), side: r.side === 'exchange' ? 'exchange' : 'severa', itemId: str(r.item_id), startsAt: str(r.starts_at) }));
  }

  // ---- status and history -------------------------------------------------------------------------------------------

  lastStatus(email: string): { report: UserReport; at: string } | null {
    const row = this.statement('SELECT last_status, last_status_at FROM users WHERE email = ?').get(email.toLowerCase()) as Row | undefined;
    if (!row || row.last_status === null || row.last_status === undefined) return null;
    return { report: parseJson(row.last_status, 'status') as UserReport, at: str(row.last_status_at) };
  }

  allStatuses(): Array<{ email: string; report: UserReport; at: string }> {
    return (this.statement('SELECT email, last_status, last_status_at FROM users WHERE last_status IS NOT NULL ORDER BY email').all() as Row[])
      .map((r) => ({ email: str(r.email), report: parseJson(r.last_status, 'status') as UserReport, at: str(r.last_status_at) }));
  }

  /** Stores a user's status on its own, e.g. when the user failed and no other work is committed. */
  setStatus(email: string, report: UserReport, at: string): void {
    this.transaction(() => {
      this.ensureUser(email.toLowerCase());
      this.statement('UPDATE users SET last_status = ?, last_status_at = ? WHERE email = ?').run(JSON.stringify(report), at, email.toLowerCase());
    });
  }

  recordCycle(report: CycleReport): number {
    return this.transaction(() => {
      const result = this.statement('INSERT INTO cycles (started_at, finished_at, outcome, dry_run, report) VALUES (?, ?, ?, ?, ?)')
        .run(report.startedAt, report.finishedAt, report.outcome, report.dryRun ? 1 : 0, JSON.stringify(report));
      this.db.prepare(`DELETE FROM cycles WHERE id <= (SELECT MAX(id) FROM cycles) - ${CYCLE_HISTORY_KEPT}`).run();
      return Number(result.lastInsertRowid);
    });
  }

  /** Newest first. */
  cycleHistory(limit = 20): CycleReport[] {
    const n = Math.max(1, Math.min(limit, CYCLE_HISTORY_KEPT));
    return (this.db.prepare(`SELECT report FROM cycles ORDER BY id DESC LIMIT ${n}`).all() as Row[]).map((r) => parseJson(r.report, 'cycle report') as CycleReport);
  }

  // ---- the per-user transaction ---------------------------------------------------------------------------------------

  private ensureUser(email: string): void {
    this.statement('INSERT INTO users (email) VALUES (?) ON CONFLICT (email) DO NOTHING').run(email);
  }

  /** Applies one user's cycle in a single transaction: all of it or, on any failure, none of it. */
  commitUserWork(work: UserWork): void {
    const email = work.email.toLowerCase();
    this.transaction(() => {
      this.ensureUser(email);
      if (work.user) {
        const columns: Record<keyof Omit<UserSyncState, 'email'>, string> = {
          mailbox: 'mailbox',
          severaUserGuid: 'severa_user_guid',
          exchangeSyncState: 'exchange_sync_state',
          severaCursor: 'severa_cursor',
          firstSyncedAt: 'first_synced_at',
          exchangeLocation: 'exchange_location',
          exchangeLocationSince: 'exchange_location_since',
        };
        for (const [key, column] of Object.entries(columns)) {
          if (key in work.user) {
            const value = work.user[key as keyof typeof columns];
            this.db.prepare(`UPDATE users SET ${column} = ? WHERE email = ?`).run(value ?? null, email);
          }
        }
      }
      const deletePair = this.statement('DELETE FROM pairs WHERE id = ? AND email = ?');
      for (const id of work.deletePairIds ?? []) deletePair.run(id, email);
      const update = this.db.prepare(`UPDATE pairs SET mailbox = $mailbox, exchange_id = $exchangeId, severa_guid = $severaGuid, role = $role,
        origin = $origin, uid = $uid, exchange_version = $exchangeVersion, exchange_hash = $exchangeHash, exchange_modified = $exchangeModified,
        severa_version = $severaVersion, severa_hash = $severaHash, severa_modified = $severaModified, subject = $subject, start_at = $start,
        end_at = $end, exchange_gone = $exchangeGone, severa_gone = $severaGone, severa_series_base = $severaSeriesBase,
        exchange_series_base = $exchangeSeriesBase, exchange_plain_single = $exchangePlainSingle WHERE id = $id AND email = $email`);
      const clear = this.statement('DELETE FROM pairs WHERE email = ? AND (exchange_id = ? OR severa_guid = ?) AND id IS NOT ?');
      const insert = this.db.prepare(`INSERT INTO pairs (email, mailbox, exchange_id, severa_guid, role, origin, uid, exchange_version, exchange_hash,
        exchange_modified, severa_version, severa_hash, severa_modified, subject, start_at, end_at, exchange_gone, severa_gone,
        severa_series_base, exchange_series_base, exchange_plain_single)
        VALUES ($email, $mailbox, $exchangeId, $severaGuid, $role, $origin, $uid, $exchangeVersion, $exchangeHash, $exchangeModified,
        $severaVersion, $severaHash, $severaModified, $subject, $start, $end, $exchangeGone, $severaGone, $severaSeriesBase, $exchangeSeriesBase,
        $exchangePlainSingle)`);
      const rememberMeeting = this.statement('INSERT INTO meeting_activities (uid, severa_guid) VALUES (?, ?) ON CONFLICT (uid) DO UPDATE SET severa_guid = excluded.severa_guid');
      for (const pair of work.upsertPairs ?? []) {
        if (pair.email.toLowerCase() !== email) throw new SyncStoreError(`A pair of ${pair.email} was staged in the work of ${email}.`);
        const params = {
          $email: email,
          $mailbox: pair.mailbox,
          $exchangeId: pair.exchangeId,
          $severaGuid: pair.severaGuid,
          $role: pair.role,
          $origin: pair.origin,
          $uid: pair.uid,
          $exchangeVersion: pair.exchangeVersion,
          $exchangeHash: pair.exchangeHash,
          $exchangeModified: pair.exchangeModified,
          $severaVersion: pair.severaVersion,
          $severaHash: pair.severaHash,
          $severaModified: pair.severaModified,
          $subject: pair.subject,
          $start: pair.start,
          $end: pair.end,
          $exchangeGone: pair.exchangeGone ? 1 : 0,
          $severaGone: pair.severaGone ? 1 : 0,
          $severaSeriesBase: pair.severaSeriesBase ?? null,
          $exchangeSeriesBase: pair.exchangeSeriesBase ?? null,
          $exchangePlainSingle: pair.exchangePlainSingle === true ? 1 : pair.exchangePlainSingle === false ? 0 : null,
        };
        if (pair.uid) rememberMeeting.run(pair.uid, pair.severaGuid);
        // Another row holding either id (an item re-created on one side) would break the unique keys: it is superseded.
        clear.run(email, pair.exchangeId, pair.severaGuid, pair.id ?? null);
        if (pair.id !== undefined) {
          const changes = Number(update.run({ ...params, $id: pair.id }).changes);
          if (changes === 0) insert.run(params);
        } else {
          insert.run(params);
        }
      }
      const removeIntent = this.statement('DELETE FROM intents WHERE id = ?');
      for (const id of work.removeIntentIds ?? []) removeIntent.run(id);
      const addDeferred = this.statement('INSERT OR REPLACE INTO deferred (email, side, item_id, starts_at) VALUES (?, ?, ?, ?)');
      for (const d of work.addDeferred ?? []) addDeferred.run(email, d.side, d.itemId, d.startsAt);
      const removeDeferred = this.statement('DELETE FROM deferred WHERE email = ? AND side = ? AND item_id = ?');
      for (const d of work.removeDeferred ?? []) removeDeferred.run(email, d.side, d.itemId);
      const gone = this.statement('UPDATE pairs SET severa_gone = 1 WHERE severa_guid = ? AND email <> ?');
      const forgetMeeting = this.statement('DELETE FROM meeting_activities WHERE severa_guid = ?');
      for (const guid of work.markSeveraGone ?? []) {
        gone.run(guid, email);
        forgetMeeting.run(guid);
      }
      for (const { key, value } of work.orgValues ?? []) {
        if (value === null || value === undefined) this.statement('DELETE FROM org_state WHERE key = ?').run(key);
        else this.setOrgValue(key, value);
      }
      if (work.status) {
        this.statement('UPDATE users SET last_status = ?, last_status_at = ? WHERE email = ?')
          .run(JSON.stringify(work.status), work.statusAt ?? new Date().toISOString(), email);
      }
    });
  }
}
