import type { EwsSimulator } from '../peers/ews/ews-simulator.ts';
import type { GraphSimulator } from '../peers/graph/graph-simulator.ts';
import { startMailboxMove, type MailboxMove, type MoveEnd } from '../peers/mailbox-move.ts';
import type { ExchangeKind, OutlookBackDoor } from '../sync/outlook-back-door.ts';
import type { Person } from './sync-world.ts';

/**
 * A hybrid organization's Exchange for the soak: on-premises Exchange (the EWS simulator, the settings' `exchange`) and
 * Exchange Online (the Graph simulator, `secondExchange`), every mailbox on premises at the start, and the moves
 * between them (test/peers/mailbox-move.ts). "The user in Outlook" reaches each mailbox where it lives: while a move
 * runs, on its source (Outlook keeps working there; the move copies what it holds), and from the move's end on its new
 * server. While a move completes (the source's final copy), the user cannot edit the mailbox at all.
 */

export type MoveDirection = 'ews->graph' | 'graph->ews';

export interface MoveTally {
  /** Moves finished, by direction. */
  finished: Record<MoveDirection, number>;
  /** Cycles run while a mailbox was being moved (source: ErrorMailboxMoveInProgress / Graph "not yet enabled"), one per mailbox and cycle. */
  inProgressMet: number;
  /** Cycles run while a move completed (EWS source: ErrorMailboxStoreUnavailable), one per mailbox and cycle. */
  completingMet: number;
}

interface Running {
  person: Person;
  from: ExchangeKind;
  to: ExchangeKind;
  move: MailboxMove;
}

export class HybridExchange {
  readonly ews: EwsSimulator;
  readonly graph: GraphSimulator;
  readonly outlook: OutlookBackDoor;
  readonly tally: MoveTally = { finished: { 'ews->graph': 0, 'graph->ews': 0 }, inProgressMet: 0, completingMet: 0 };
  /** Where each mailbox lives (its source while it moves), by primary address. */
  readonly #home = new Map<string, ExchangeKind>();
  readonly #running = new Map<string, Running>();
  readonly #doors: Record<ExchangeKind, OutlookBackDoor>;

  constructor(opts: { ews: EwsSimulator; graph: GraphSimulator; ewsDoor: OutlookBackDoor; graphDoor: OutlookBackDoor; people: Person[] }) {
    this.ews = opts.ews;
    this.graph = opts.graph;
    this.#doors = { ews: opts.ewsDoor, graph: opts.graphDoor };
    for (const p of opts.people) this.#home.set(p.mailbox.toLowerCase(), 'ews');
    const door = (mailbox: string) => this.#doors[this.whereIs(mailbox)];
    const both = Object.values(this.#doors);
    this.outlook = {
      kind: 'ews',
      items: (m) => door(m).items(m),
      item: (m, id) => door(m).item(m, id),
      view: (m, from, to) => door(m).view(m, from, to),
      create: (m, input) => door(m).create(m, input),
      update: (m, id, patch) => door(m).update(m, id, patch),
      delete: (m, id) => door(m).delete(m, id),
      updateOccurrence: (m, id, start, patch) => door(m).updateOccurrence(m, id, start, patch),
      cancelOccurrence: (m, id, start) => door(m).cancelOccurrence(m, id, start),
      counters: () => {
        const byOperation: Record<string, number> = {};
        let writes = 0;
        for (const d of both) {
          const c = d.counters();
          writes += c.writes;
          for (const [k, n] of Object.entries(c.byOperation)) byOperation[k] = (byOperation[k] ?? 0) + n;
        }
        return { byOperation, writes };
      },
      resetCounters: () => both.forEach((d) => d.resetCounters()),
      mailsSentBySync: () => this.#doors.graph.mailsSentBySync(),
      setClockSkewMs: (ms) => both.forEach((d) => d.setClockSkewMs(ms)),
    };
  }

  /** Where the mailbox lives now (while it moves: still its source). */
  whereIs(mailbox: string): ExchangeKind {
    return this.#home.get(mailbox.toLowerCase()) ?? 'ews';
  }

  /** The move of this person's mailbox that runs, if any, and its phase. */
  moving(person: Person): { from: ExchangeKind; to: ExchangeKind; phase: MailboxMove['phase'] } | null {
    const r = this.#running.get(person.mailbox.toLowerCase());
    return r ? { from: r.from, to: r.to, phase: r.move.phase } : null;
  }

  /** Whether the user can edit the mailbox in Outlook now (not while its move completes). */
  editable(person: Person): boolean {
    return this.#running.get(person.mailbox.toLowerCase())?.move.phase !== 'completing';
  }

  #end(kind: ExchangeKind): MoveEnd {
    return kind === 'ews' ? { kind: 'ews', sim: this.ews } : { kind: 'graph', sim: this.graph };
  }

  /** Starts moving the person's mailbox to the other server: its source answers that it is being moved. */
  start(person: Person): Running {
    const key = person.mailbox.toLowerCase();
    if (this.#running.has(key)) throw new Error(`${person.mailbox} is already being moved`);
    const from = this.whereIs(key);
    const to: ExchangeKind = from === 'ews' ? 'graph' : 'ews';
    const move = startMailboxMove({ from: this.#end(from), to: this.#end(to), address: person.mailbox });
    const running = { person, from, to, move };
    this.#running.set(key, running);
    return running;
  }

  /** The final phase: the calendar is copied, then the source is locked (EWS: ErrorMailboxStoreUnavailable). */
  complete(person: Person): void {
    this.#running.get(person.mailbox.toLowerCase())!.move.complete();
  }

  /** The move ends: the mailbox lives on the target from now on. */
  finish(person: Person): void {
    const key = person.mailbox.toLowerCase();
    const r = this.#running.get(key);
    if (!r) throw new Error(`${person.mailbox} is not being moved`);
    if (r.move.phase === 'started') r.move.copy();
    r.move.finish();
    this.#running.delete(key);
    this.#home.set(key, r.to);
    this.tally.finished[`${r.from}->${r.to}` as MoveDirection]++;
  }

  /** Moves running now. */
  running(): Array<{ person: Person; from: ExchangeKind; to: ExchangeKind; phase: MailboxMove['phase'] }> {
    return [...this.#running.values()].map((r) => ({ person: r.person, from: r.from, to: r.to, phase: r.move.phase }));
  }

  /** Counts the moves a cycle is about to meet. */
  noteCycle(): void {
    for (const r of this.#running.values()) {
      if (r.move.phase === 'completing') this.tally.completingMet++;
      else this.tally.inProgressMet++;
    }
  }
}
