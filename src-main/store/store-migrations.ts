/**
 * Schema of the sync store, as an append-only list of migrations. `PRAGMA user_version` holds how many have run, so an
 * older database is brought forward on open and a newer one (written by a later release) is refused rather than damaged.
 * Never edit a migration that has shipped: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the first schema.
  `
  CREATE TABLE users (
    email TEXT PRIMARY KEY,
    mailbox TEXT,
    severa_user_guid TEXT,
    exchange_sync_state TEXT,
    severa_cursor TEXT,
    first_synced_at TEXT,
    last_status TEXT,
    last_status_at TEXT
  );
  CREATE TABLE pairs (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    exchange_id TEXT NOT NULL,
    severa_guid TEXT NOT NULL,
    role TEXT NOT NULL,
    origin TEXT NOT NULL,
    uid TEXT,
    exchange_version TEXT NOT NULL,
    exchange_hash TEXT NOT NULL,
    exchange_modified TEXT NOT NULL,
    severa_version TEXT NOT NULL,
    severa_hash TEXT NOT NULL,
    severa_modified TEXT NOT NULL,
    subject TEXT NOT NULL,
    start_at TEXT NOT NULL,
    end_at TEXT NOT NULL,
    exchange_gone INTEGER NOT NULL DEFAULT 0,
    severa_gone INTEGER NOT NULL DEFAULT 0,
    UNIQUE (email, exchange_id),
    UNIQUE (email, severa_guid)
  );
  CREATE INDEX pairs_by_guid ON pairs (severa_guid);
  CREATE INDEX pairs_by_uid ON pairs (uid) WHERE uid IS NOT NULL;
  CREATE TABLE org_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE intents (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX intents_by_email ON intents (email);
  CREATE TABLE journal (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    side TEXT NOT NULL,
    kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    start_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    item TEXT NOT NULL,
    deleted_at TEXT NOT NULL,
    restored_at TEXT,
    restored_id TEXT
  );
  CREATE INDEX journal_by_email ON journal (email, id);
  CREATE TABLE deferred (
    email TEXT NOT NULL,
    side TEXT NOT NULL,
    item_id TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    PRIMARY KEY (email, side, item_id)
  );
  CREATE INDEX deferred_by_start ON deferred (email, starts_at);
  CREATE TABLE cycles (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    dry_run INTEGER NOT NULL,
    report TEXT NOT NULL
  );
  `,
  // 2: per side, a series' own fields and changed occurrences as last synced, so a series changed on both sides can be
  // merged occurrence by occurrence (opaque JSON written by the engine; NULL for anything that is not a series).
  `
  ALTER TABLE pairs ADD COLUMN severa_series_base TEXT;
  ALTER TABLE pairs ADD COLUMN exchange_series_base TEXT;
  `,
  // 3: where each user's mailbox lives (which Exchange connection serves it, opaque to the store) and since when, so a
  // mailbox that moves (or an organization re-pointed at another Exchange) is noticed and its pairs found again.
  `
  ALTER TABLE users ADD COLUMN exchange_location TEXT;
  ALTER TABLE users ADD COLUMN exchange_location_since TEXT;
  `,
  // 4: the activity of each meeting UID a pair has held, kept while any pair holds that activity: a meeting's UID can
  // leave every pair (the attendees' pairs turned into the sync's own copies, with UIDs of their own, while the
  // organizer's syncs failed), and the organizer's meeting, or the meeting delivered again, must still find its activity.
  `
  CREATE TABLE meeting_activities (
    uid TEXT PRIMARY KEY,
    severa_guid TEXT NOT NULL
  );
  CREATE INDEX meeting_activities_by_guid ON meeting_activities (severa_guid);
  INSERT OR IGNORE INTO meeting_activities (uid, severa_guid) SELECT uid, severa_guid FROM pairs WHERE uid IS NOT NULL;
  `,
  // 5: whether the Exchange item was, at exchange_version (as last read or written), a single item with no attendees
  // and no recurrence: 1 yes, 0 no, NULL not known (pairs stored before). An update at that version then needs no read
  // first (the write's If-Match holds it to that version).
  `
  ALTER TABLE pairs ADD COLUMN exchange_plain_single INTEGER;
  `,
];
