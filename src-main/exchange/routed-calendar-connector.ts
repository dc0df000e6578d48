import type { EventFields, RecurrenceRule, SideEvent } from '../sync/calendar-event.ts';
import {
  CalendarError,
  type CalendarChanges,
  type CalendarConnector,
  type ChangeWatch,
  type ChangeWatchEvents,
  type EventWrite,
  type EventWriteOutcome,
  type MailboxLocation,
  type SyncChangesOptions,
  type UpdateHint,
  type WatchMode,
  type WatchPositions,
  type WriteResult,
} from './calendar-connector.ts';
import { describeLocation } from './exchange-locations.ts';
import { t } from '../common/i18n/i18n.ts';

/**
 * The organization's Exchange as one CalendarConnector, however many connections it has: one (on-premises over EWS, or
 * Exchange Online over Graph), or two in a hybrid organization (or while mailboxes migrate between servers). Each
 * mailbox is served where it lives: the admin's choice, else where it was found last time, else where a calendar
 * request succeeds. When a connection answers that the mailbox is not there (EWS ErrorNonExistentMailbox, Graph
 * MailboxNotEnabledForRESTAPI), the others are asked; a mailbox found elsewhere has moved, and the call fails with
 * 'mailbox-moved' so the engine reads it again in its new place and finds its pairs there (ids change in a move).
 * A mailbox that is being moved answers 'transient' errors and simply waits: nothing here treats that as a move.
 */

export interface ExchangeConnection {
  /** The stable location id (exchange-locations.ts). */
  location: string;
  connector: CalendarConnector & { probeMailboxAccess?(mailbox: string): Promise<void> };
}

export interface RoutedConnectorOptions {
  /** In the order they are tried: the organization's main connection first. */
  connections: ExchangeConnection[];
  /** The admin's choice per user: enrollment email or mailbox address (lower case) -> location id. */
  overrides?: Record<string, string>;
}

export class RoutedCalendarConnector implements CalendarConnector {
  readonly #connections: ExchangeConnection[];
  readonly #overrides: Map<string, string>;
  /** Where each mailbox was found (or decided) in this process. */
  readonly #where = new Map<string, ExchangeConnection>();
  #last: ExchangeConnection;
  /** Batched writes where the mailbox lives: there when every connection has them (the engine writes one by one else). */
  readonly writeEvents?: (mailbox: string, writes: readonly EventWrite[]) => Promise<EventWriteOutcome[]>;

  constructor(options: RoutedConnectorOptions) {
    if (options.connections.length === 0) throw new CalendarError('config', 'No Exchange connection is configured.');
    this.#connections = options.connections;
    this.#overrides = new Map(Object.entries(options.overrides ?? {}).map(([k, v]) => [k.trim().toLowerCase(), v]));
    this.#last = options.connections[0];
    if (options.connections.every((c) => typeof c.connector.writeEvents === 'function')) {
      this.writeEvents = (mailbox, writes) => this.#call(mailbox, (c) => c.writeEvents!(mailbox, writes));
    }
  }

  get connections(): readonly ExchangeConnection[] {
    return this.#connections;
  }

  #byLocation(location: string | null | undefined): ExchangeConnection | undefined {
    return this.#connections.find((c) => c.location === location);
  }

  #override(...keys: Array<string | undefined>): ExchangeConnection | undefined {
    for (const key of keys) {
      const chosen = key ? this.#byLocation(this.#overrides.get(key.toLowerCase())) : undefined;
      if (chosen) return chosen;
    }
    return undefined;
  }

  /** Whether the mailbox is on this connection: a calendar request succeeds (true) or says "not here" (false). */
  async #isOn(c: ExchangeConnection, mailbox: string): Promise<boolean> {
    try {
      if (c.connector.probeMailboxAccess) await c.connector.probeMailboxAccess(mailbox);
      else await c.connector.syncChanges(mailbox, null);
      return true;
    } catch (error) {
      if (error instanceof CalendarError && error.code === 'no-mailbox') return false;
      throw error;
    }
  }

  async #find(mailbox: string): Promise<ExchangeConnection> {
    if (this.#connections.length === 1) return this.#connections[0];
    for (const c of this.#connections) if (await this.#isOn(c, mailbox)) return c;
    throw new CalendarError('no-mailbox', t('report.routing.noConnection', { mailbox }), {
      serverCode: 'ErrorNonExistentMailbox',
      advice: {
        message: t('report.routing.neither', { places: this.#connections.map((c) => describeLocation(c.location)).join(t('report.routing.neitherSeparator')), mailbox }),
        fix: t('report.routing.neitherFix'),
      },
    });
  }

  async locate(mailbox: string, remembered: string | null, email?: string): Promise<MailboxLocation> {
    const key = mailbox.toLowerCase();
    const chosen = this.#override(email, key);
    if (chosen) {
      this.#where.set(key, chosen);
      return { location: chosen.location, label: describeLocation(chosen.location), decidedBy: 'admin' };
    }
    const known = this.#where.get(key) ?? this.#byLocation(remembered);
    if (known) {
      this.#where.set(key, known);
      return { location: known.location, label: describeLocation(known.location), decidedBy: 'remembered' };
    }
    const found = await this.#find(key);
    this.#where.set(key, found);
    return { location: found.location, label: describeLocation(found.location), decidedBy: 'found' };
  }

  async #route(mailbox: string): Promise<ExchangeConnection> {
    const key = mailbox.toLowerCase();
    const known = this.#override(key) ?? this.#where.get(key);
    if (known) return known;
    await this.locate(key, null);
    return this.#where.get(key)!;
  }

  /** Runs one call where the mailbox lives; a "not here" answer looks for the mailbox on the other connections. */
  async #call<T>(mailbox: string, work: (connector: CalendarConnector) => Promise<T>): Promise<T> {
    const key = mailbox.toLowerCase();
    const here = await this.#route(key);
    this.#last = here;
    try {
      return await work(here.connector);
    } catch (error) {
      if (!(error instanceof CalendarError) || error.code !== 'no-mailbox' || this.#connections.length === 1 || this.#override(key)) throw error;
      let there: ExchangeConnection | undefined;
      for (const other of this.#connections) {
        if (other !== here && (await this.#isOn(other, key).catch(() => false))) {
          there = other;
          break;
        }
      }
      if (!there) throw error;
      this.#where.set(key, there);
      const message = t('report.routing.moved', { mailbox: key, from: describeLocation(here.location), to: describeLocation(there.location) });
      throw new CalendarError('mailbox-moved', message, {
        serverCode: error.serverCode,
        cause: error,
        advice: { message, fix: t('report.routing.movedFix') },
      });
    }
  }

  syncChanges(mailbox: string, syncState: string | null, options?: SyncChangesOptions): Promise<CalendarChanges> {
    return this.#call(mailbox, (c) => c.syncChanges(mailbox, syncState, options));
  }

  getEvents(mailbox: string, ids: string[]): Promise<SideEvent[]> {
    return this.#call(mailbox, (c) => c.getEvents(mailbox, ids));
  }

  findByTag(mailbox: string, syncTag: string): Promise<SideEvent[]> {
    return this.#call(mailbox, (c) => c.findByTag(mailbox, syncTag));
  }

  createEvent(mailbox: string, fields: EventFields, syncTag: string): Promise<WriteResult> {
    return this.#call(mailbox, (c) => c.createEvent(mailbox, fields, syncTag));
  }

  updateEvent(mailbox: string, id: string, version: string, fields: EventFields, hint?: UpdateHint): Promise<WriteResult> {
    return this.#call(mailbox, (c) => c.updateEvent(mailbox, id, version, fields, hint));
  }

  deleteEvent(mailbox: string, id: string): Promise<void> {
    return this.#call(mailbox, (c) => c.deleteEvent(mailbox, id));
  }

  /** The address on the first connection that knows it (a hybrid directory knows every address on both sides). */
  async resolveMailbox(email: string): Promise<string | null> {
    let firstError: unknown = null;
    for (const c of this.#connections) {
      try {
        const found = await c.connector.resolveMailbox(email);
        if (found) return found;
      } catch (error) {
        firstError ??= error;
      }
    }
    if (firstError) throw firstError;
    return null;
  }

  /** The clock of the connection used last (each connection measures its own server's). */
  clockOffsetMs(): number | null {
    return this.#last.connector.clockOffsetMs() ?? this.#connections.map((c) => c.connector.clockOffsetMs()).find((o) => o !== null) ?? null;
  }

  clockOffsetUnknownReason(): string | null {
    const c = this.#last.connector as CalendarConnector & { clockOffsetUnknownReason?(): string | null };
    return typeof c.clockOffsetUnknownReason === 'function' ? c.clockOffsetUnknownReason() : null;
  }

  /** A series must be holdable wherever the user's mailbox may go: the strictest connection's answer counts. */
  recurrenceProblem(rule: RecurrenceRule): string | null {
    for (const c of this.#connections) {
      const problem = c.connector.recurrenceProblem?.(rule) ?? null;
      if (typeof problem === 'string') return problem;
    }
    return null;
  }

  async prefetchChanges(requests: ReadonlyArray<{ mailbox: string; syncState: string | null }>): Promise<void> {
    const byConnection = new Map<ExchangeConnection, Array<{ mailbox: string; syncState: string | null }>>();
    for (const r of requests) {
      const c = this.#where.get(r.mailbox.toLowerCase()) ?? (this.#connections.length === 1 ? this.#connections[0] : undefined);
      if (!c?.connector.prefetchChanges) continue;
      byConnection.set(c, [...(byConnection.get(c) ?? []), r]);
    }
    await Promise.all([...byConnection].map(([c, list]) => c.connector.prefetchChanges!(list).catch(() => undefined)));
  }

  /**
   * Watches each mailbox where it lives (the admin's choice, where this process found it, else where the sync store last
   * synced it); a mailbox that moves is watched on its new connection from the next setMailboxes.
   */
  watchChanges(events: ChangeWatchEvents, options: { pollIntervalMs: number; positions?: WatchPositions }): ChangeWatch {
    const watches = new Map<ExchangeConnection, ChangeWatch>();
    for (const c of this.#connections) if (c.connector.watchChanges) watches.set(c, c.connector.watchChanges(events, options));
    let unwatched: string[] = [];
    return {
      setMailboxes: (mailboxes) => {
        const split = new Map<ExchangeConnection, string[]>([...watches.keys()].map((c) => [c, []]));
        unwatched = [];
        for (const m of mailboxes) {
          const key = m.toLowerCase();
          const c = this.#override(key) ?? this.#where.get(key) ?? this.#byLocation(options.positions?.location?.(key)) ?? (this.#connections.length === 1 ? this.#connections[0] : undefined);
          if (c && split.has(c)) split.get(c)!.push(m);
          else unwatched.push(m);
        }
        for (const [c, list] of split) watches.get(c)!.setMailboxes(list);
      },
      modes: () => {
        const out: Record<string, { mode: WatchMode; since: string; reason?: string }> = {};
        for (const w of watches.values()) Object.assign(out, w.modes());
        for (const m of unwatched) out[m] ??= { mode: 'off', since: new Date().toISOString(), reason: 'where the mailbox lives is not known yet' };
        return out;
      },
      stop: async () => {
        await Promise.all([...watches.values()].map((w) => w.stop()));
      },
    };
  }
}
