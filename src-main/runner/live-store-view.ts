import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { WatchPositions } from '../exchange/calendar-connector.ts';
import { SyncStore } from '../store/sync-store.ts';
import type { SeveraPollDirectory } from './severa-change-poll.ts';

/**
 * What real time reads of the sync store between cycles (one connection of its own, open while real time runs):
 * who is synced, with which mailbox and Severa user; the engine's stored Exchange positions (for a watch that reads
 * changes since them, e.g. Graph delta); which users paired a Severa activity, at which version.
 *
 * It writes one thing only: `renew`, the compare-and-set that puts an equivalent, fresh Exchange position in place of the
 * stored one after a read found nothing since it (node:sqlite is synchronous and one process holds the data dir, so the
 * read and the write cannot interleave with a cycle's per-user transaction).
 */

const STORE_FILE = 'sync-store.sqlite';

interface Synced {
  email: string;
  mailbox: string;
  severaUserGuid: string | null;
  position: string | null;
}

export class LiveStoreView implements WatchPositions, SeveraPollDirectory {
  readonly #store: SyncStore;
  readonly #byEmail = new Map<string, Synced>();
  readonly #byMailbox = new Map<string, Synced>();
  readonly #bySeveraUser = new Map<string, Synced>();
  /** Positions renewed (for the status and tests). */
  renewals = 0;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.#store = SyncStore.open(join(dataDir, STORE_FILE));
  }

  /** Reads every synced user again (after a full cycle), or only these (after a live cycle). */
  refresh(emails?: readonly string[]): void {
    const states = emails ? emails.map((e) => this.#store.getUser(e)).filter((u) => u !== null) : this.#store.listUsers();
    if (!emails) {
      this.#byEmail.clear();
      this.#byMailbox.clear();
      this.#bySeveraUser.clear();
    }
    for (const u of states) {
      const old = this.#byEmail.get(u.email);
      if (old) {
        this.#byMailbox.delete(old.mailbox);
        if (old.severaUserGuid) this.#bySeveraUser.delete(old.severaUserGuid);
        this.#byEmail.delete(u.email);
      }
      if (!u.mailbox || !u.severaCursor) continue;
      const s: Synced = { email: u.email, mailbox: u.mailbox.toLowerCase(), severaUserGuid: u.severaUserGuid, position: u.exchangeSyncState };
      this.#byEmail.set(s.email, s);
      this.#byMailbox.set(s.mailbox, s);
      if (s.severaUserGuid) this.#bySeveraUser.set(s.severaUserGuid, s);
    }
  }

  /** The mailbox of a user synced at least once, else null. */
  mailboxOf(email: string): string | null {
    return this.#byEmail.get(email.toLowerCase())?.mailbox ?? null;
  }

  emailOfMailbox(mailbox: string): string | null {
    return this.#byMailbox.get(mailbox.toLowerCase())?.email ?? null;
  }

  // ---- WatchPositions ----

  position(mailbox: string): string | null {
    return this.#byMailbox.get(mailbox.toLowerCase())?.position ?? null;
  }

  renew(mailbox: string, current: string, next: string): boolean {
    const s = this.#byMailbox.get(mailbox.toLowerCase());
    if (!s || s.position !== current) return false;
    const stored = this.#store.getUser(s.email);
    if (stored?.exchangeSyncState !== current) {
      // A cycle stored a newer position: take that one.
      s.position = stored?.exchangeSyncState ?? null;
      return false;
    }
    this.#store.commitUserWork({ email: s.email, user: { exchangeSyncState: next } });
    s.position = next;
    this.renewals++;
    return true;
  }

  location(mailbox: string): string | null {
    const s = this.#byMailbox.get(mailbox.toLowerCase());
    return s ? (this.#store.getUser(s.email)?.exchangeLocation ?? null) : null;
  }

  settled(mailbox: string, items: ReadonlyArray<{ id: string; version: string }>): boolean {
    const s = this.#byMailbox.get(mailbox.toLowerCase());
    if (!s || items.length === 0) return false;
    const held = new Map(this.#store.pairsForUser(s.email).map((p) => [p.exchangeId, p.exchangeVersion]));
    return items.every((i) => held.get(i.id) === i.version);
  }

  // ---- SeveraPollDirectory ----

  emailOfUser(userGuid: string): string | null {
    return this.#bySeveraUser.get(userGuid)?.email ?? null;
  }

  pairsOf(activityGuid: string): Array<{ email: string; severaVersion: string | null }> {
    return this.#store.pairsBySeveraGuid(activityGuid).map((p) => ({ email: p.email, severaVersion: p.severaVersion }));
  }

  close(): void {
    this.#store.close();
  }
}
