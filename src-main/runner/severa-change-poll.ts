import type { WatchMode } from '../exchange/calendar-connector.ts';
import type { SeveraActivity, SeveraPort } from '../sync/severa-port.ts';
import { t } from '../common/i18n/i18n.ts';

/**
 * Near real time for Severa: one `changedSince` listing for the whole organization every few seconds (one request when
 * little changed: at 3 s, 3 % of Severa's 10 requests/s), feeding only the users whose activities changed.
 *
 * Severa has no change feed of its own and reports no deletions (those reach Exchange through the scheduled cycle's
 * rolling reconciliation). The listing is the default one (single activities, and the occurrences and exceptions of a
 * changed series), inside the sync window. Each listing reaches `overlapMs` back past the previous one, so a write
 * stamped while a listing ran is never missed; what was already seen (activity + its lastUpdatedDateTime) is not
 * reported twice.
 *
 * Who a change concerns: the users whose sync paired the activity (or its series) and whose pair does not already hold
 * this version (the sync's own writes, read back, concern no one), and the owner when enrolled. An activity no one has
 * paired yet is also asked for its participants (one request each, at most `participantLookups` per listing).
 * A sync stores its pairs when it ends, so while a user's sync runs its own writes look like anyone's: a change that
 * concerns a user being synced (`busy`) is looked at again after that sync, when its pair tells.
 */

export interface SeveraPollDirectory {
  /** The enrolled, already synced user with this Severa user guid (email), or null. */
  emailOfUser(userGuid: string): string | null;
  /** Every user's pair of this activity (a series: of the master), with the Severa version the sync last saw. */
  pairsOf(activityGuid: string): Array<{ email: string; severaVersion: string | null }>;
  /** The user's sync runs now (its pairs are not stored yet). */
  busy?(email: string): boolean;
}

interface Deferred {
  row: SeveraActivity;
  parent: string | null;
  stamp: string;
  email: string;
}

export interface SeveraChangePollOptions {
  severa: Pick<SeveraPort, 'listActivities' | 'listParticipants' | 'clockOffsetMs'>;
  intervalMs: number;
  /** The sync window of the listing. */
  range: () => { startDateTime: string; endDateTime: string };
  directory: SeveraPollDirectory;
  /** These users' activities changed: sync them. */
  onChanged: (emails: string[]) => void;
  /**
   * The first listing reaches this far back (default: `overlapMs`). What changed while real time was off is the
   * scheduled cycle's, which runs at once when one is due.
   */
  lookbackMs?: number;
  /** Each listing reaches this far back past the previous one's start (default 10 s). */
  overlapMs?: number;
  participantLookups?: number;
  /** Failed listings in a row after which the mode shows 'off' (default 3). */
  failuresBeforeOff?: number;
  now?: () => number;
  onError?: (error: unknown) => void;
}

const MAX_BACKOFF_MS = 60_000;

export class SeveraChangePoll {
  readonly #o: SeveraChangePollOptions;
  readonly #now: () => number;
  /** Server time the next listing starts from (ISO); null before the first. */
  #cursor: string | null = null;
  /** Seen (activity or series guid + lastUpdatedDateTime) -> its stamp in ms, forgotten once before the cursor. */
  readonly #seen = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #stopped = true;
  #failures = 0;
  /** Changes that concerned a user whose sync was running, to look at again. */
  #deferred: Deferred[] = [];
  #mode: { mode: WatchMode; since: string; reason?: string };
  /** Listings made (for tests and the benchmark). */
  listings = 0;

  constructor(options: SeveraChangePollOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#mode = { mode: 'off', since: this.#iso(), reason: t('engine.watch.severaNotStarted') };
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#setMode('live');
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#setMode('off', t('engine.watch.severaStopped'));
  }

  mode(): { mode: WatchMode; since: string; reason?: string } {
    return { ...this.#mode };
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.pollOnce().finally(() => {
        const wait = this.#failures === 0 ? this.#o.intervalMs : Math.min(MAX_BACKOFF_MS, this.#o.intervalMs * 2 ** this.#failures);
        this.#schedule(wait);
      });
    }, delayMs);
    this.#timer.unref?.();
  }

  /** One listing; what it found goes to onChanged. Public for tests. */
  async pollOnce(): Promise<void> {
    const emails = new Set<string>();
    const deferred = this.#deferred;
    this.#deferred = [];
    for (const d of deferred) {
      if (!this.#stillConcerns(d)) continue;
      if (this.#o.directory.busy?.(d.email)) this.#deferred.push(d);
      else emails.add(d.email);
    }
    await this.#list(emails);
    if (emails.size > 0) this.#o.onChanged([...emails]);
  }

  async #list(emails: Set<string>): Promise<void> {
    const serverNow = this.#now() + (this.#o.severa.clockOffsetMs() ?? 0);
    const since = this.#cursor ?? new Date(serverNow - (this.#o.lookbackMs ?? this.#o.overlapMs ?? 10_000)).toISOString();
    let rows: SeveraActivity[];
    try {
      this.listings++;
      rows = await this.#o.severa.listActivities({ changedSince: since, ...this.#o.range() });
    } catch (error) {
      this.#failures++;
      this.#o.onError?.(error);
      if (this.#failures >= (this.#o.failuresBeforeOff ?? 3)) this.#setMode('off', t('engine.watch.severaFailing', { why: error instanceof Error ? error.message : String(error) }));
      return;
    }
    if (this.#stopped) return;
    this.#failures = 0;
    this.#setMode('live');
    const nextCursorMs = serverNow - (this.#o.overlapMs ?? 10_000);
    this.#cursor = new Date(nextCursorMs).toISOString();
    let lookups = this.#o.participantLookups ?? 20;
    for (const row of rows) {
      if (!row.guid) continue;
      const stamp = row.lastUpdatedDateTime ?? row.createdDateTime ?? '';
      const parent = (row.recurrenceType === 'Occurrence' || row.recurrenceType === 'Exception') && row.recurrenceParentActivityGuid ? row.recurrenceParentActivityGuid : null;
      // A changed series comes as its occurrences, all with its stamp: one look per series and version.
      const key = `${parent ?? row.guid}|${row.recurrenceType === 'Exception' ? row.guid : ''}|${stamp}`;
      if (this.#seen.has(key)) continue;
      const stampMs = Date.parse(stamp);
      this.#seen.set(key, Number.isNaN(stampMs) ? serverNow : stampMs);
      const concerned = await this.#concerned(row, parent, stamp, () => lookups-- > 0);
      for (const email of concerned) {
        const d = { row, parent, stamp, email };
        // Looked at again now, after the awaits above: a sync may have stored its pairs meanwhile.
        if (this.#o.directory.busy?.(email)) this.#deferred.push(d);
        else if (this.#stillConcerns(d)) emails.add(email);
      }
    }
    for (const [key, stampMs] of this.#seen) if (stampMs < nextCursorMs - 60_000) this.#seen.delete(key);
  }

  /** A change that concerned a user while their sync ran: does it still, now that the sync stored its pairs? */
  #stillConcerns(d: Deferred): boolean {
    const single = d.parent === null && (d.row.recurrenceType === undefined || d.row.recurrenceType === 'None');
    if (!single) return true;
    const mine = [...this.#o.directory.pairsOf(d.row.guid!)].filter((p) => p.email === d.email);
    return !mine.some((p) => p.severaVersion === d.stamp);
  }

  async #concerned(row: SeveraActivity, parent: string | null, stamp: string, mayLookUp: () => boolean): Promise<string[]> {
    const d = this.#o.directory;
    const pairs = [...d.pairsOf(row.guid!), ...(parent ? d.pairsOf(parent) : [])];
    const out = new Set<string>();
    const single = parent === null && (row.recurrenceType === undefined || row.recurrenceType === 'None');
    for (const p of pairs) {
      // A single activity whose pair holds this very version is the sync's own write read back (or already synced).
      if (single && p.severaVersion === stamp) continue;
      out.add(p.email);
    }
    const owner = row.ownerUser?.guid ? d.emailOfUser(row.ownerUser.guid) : null;
    if (owner && !(single && pairs.some((p) => p.email === owner && p.severaVersion === stamp))) out.add(owner);
    if (pairs.length === 0 && mayLookUp()) {
      try {
        for (const p of await this.#o.severa.listParticipants(parent ?? row.guid!)) {
          const email = p.participantGuid && (p.type === undefined || p.type === 'User') ? d.emailOfUser(p.participantGuid) : null;
          if (email) out.add(email);
        }
      } catch (error) {
        // The owner (if enrolled) is synced anyway, and the sync reads the participants itself.
        this.#o.onError?.(error);
      }
    }
    return [...out];
  }

  #setMode(mode: WatchMode, reason?: string): void {
    if (this.#mode.mode === mode && this.#mode.reason === reason) return;
    this.#mode = reason === undefined ? { mode, since: this.#iso() } : { mode, since: this.#iso(), reason };
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }
}
