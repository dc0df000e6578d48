/**
 * Moves a mailbox between the simulators, for tests: on-premises Exchange to Exchange Online (EWS -> Graph), back
 * (Graph -> EWS, offboarding) and between two Exchange versions (EWS -> EWS). A move runs in phases, as Exchange's
 * Mailbox Replication Service does: start (the source answers that the mailbox is being moved, the target does not
 * have it yet), copy (the calendar exported from the source and imported into the target under new ids), complete
 * (EWS source: the mailbox is locked for the final copy, ErrorMailboxStoreUnavailable) and finish (the source answers
 * that the mailbox is not there, the target serves it). What each simulator answers in each phase: README.md,
 * "Moving mailboxes". Nothing is mailed: imports invite no one.
 */
import { randomUUID } from 'node:crypto';
import type { NeutralMailbox } from './common/neutral-mailbox.ts';
import type { EwsSeedMailbox, EwsSimulator } from './ews/ews-simulator.ts';
import type { GraphSeedUser, GraphSimulator } from './graph/graph-simulator.ts';

/** One end of a move. EWS: `impersonatedBy` (delegates granted the mailbox when it is added to the target) and `mailbox`
 * (overrides for the added mailbox: username, password...). Graph: `user` (overrides for a user added to the tenant). */
export type MoveEnd =
  | { kind: 'ews'; sim: EwsSimulator; impersonatedBy?: string[]; mailbox?: Partial<EwsSeedMailbox> }
  | { kind: 'graph'; sim: GraphSimulator; user?: Partial<GraphSeedUser> };

export interface MailboxMoveOptions {
  from: MoveEnd;
  to: MoveEnd;
  /** Any address of the mailbox (primary or alias) that both ends know. */
  address: string;
}

export type MovePhase = 'started' | 'copied' | 'completing' | 'finished';

export interface MailboxMove {
  readonly address: string;
  readonly phase: MovePhase;
  /** Source item id -> target item id (series masters and single items), filled by copy(). */
  readonly idMap: Map<string, string>;
  /** The calendar as it was copied (ids are the source's). */
  readonly copied: NeutralMailbox | null;
  /** Exports the source's calendar and imports it into the target under new ids; returns how many items. */
  copy(): number;
  /** The final phase: an EWS source answers ErrorMailboxStoreUnavailable (a Graph source stays as while moving). */
  complete(): void;
  /** The source forgets the mailbox (it answers as a mail user's), the target serves it. Copies first if not done. */
  finish(): void;
}

interface Identity {
  primary: string;
  aliases: string[];
  displayName: string;
  upn: string;
  password: string | null;
}

function identityAt(end: MoveEnd, address: string): Identity {
  const a = address.toLowerCase();
  if (end.kind === 'ews') {
    const m = end.sim.exportState().config.mailboxes.find((x) => [x.primarySmtp, ...(x.aliases ?? [])].some((y) => y.toLowerCase() === a));
    if (!m) throw new Error(`The source EWS simulator has no mailbox ${address}`);
    return { primary: m.primarySmtp.toLowerCase(), aliases: m.aliases ?? [], displayName: m.displayName, upn: m.upn ?? m.primarySmtp, password: m.password };
  }
  const u = end.sim.exportState().config.users.find((x) => [x.userPrincipalName, x.mail ?? '', ...(x.aliases ?? [])].some((y) => y.toLowerCase() === a));
  if (!u) throw new Error(`The source Graph simulator has no user ${address}`);
  return { primary: (u.mail ?? u.userPrincipalName).toLowerCase(), aliases: u.aliases ?? [], displayName: u.displayName, upn: u.userPrincipalName, password: u.password ?? null };
}

function knows(end: MoveEnd, address: string): boolean {
  try {
    end.sim.mailboxState(address);
    return true;
  } catch {
    return false;
  }
}

/** Prepares the target: a mailbox (EWS) or user (Graph) that exists but does not serve the mailbox yet. */
function prepareTarget(to: MoveEnd, address: string, who: Identity): void {
  if (knows(to, address)) {
    if (to.sim.mailboxState(address) === 'active') throw new Error(`The target already serves a mailbox for ${address}`);
    // Graph: calls answer "not yet enabled" meanwhile; EWS: the account is a mail user here until the move completes.
    to.sim.setMailboxState(address, to.kind === 'graph' ? 'moving' : 'moved-away');
    return;
  }
  if (to.kind === 'ews') {
    // A new mailbox store: a new GUID, so none of the source's ItemIds can name an item here.
    to.sim.addMailbox(
      { guid: randomUUID(), primarySmtp: who.primary, aliases: who.aliases, displayName: who.displayName, username: who.upn.split('@')[0], upn: who.upn, password: who.password ?? randomUUID(), ...to.mailbox },
      { state: 'moved-away', impersonatedBy: to.impersonatedBy },
    );
    return;
  }
  to.sim.addUser({ id: randomUUID(), userPrincipalName: who.upn, mail: who.primary, aliases: who.aliases, displayName: who.displayName, ...(who.password ? { password: who.password } : {}), ...to.user, mailboxState: 'moving' });
}

/** Starts a move: the source answers "being moved", the target has the mailbox's account but not yet its mailbox. */
export function startMailboxMove(o: MailboxMoveOptions): MailboxMove {
  const { from, to, address } = o;
  if (from.sim === (to.sim as unknown)) throw new Error('A move needs two different simulators');
  if (from.sim.mailboxState(address) !== 'active') throw new Error(`${address} is not active on the source (${from.sim.mailboxState(address)})`);
  const who = identityAt(from, address);
  prepareTarget(to, address, who);
  from.sim.setMailboxState(address, 'moving');

  let phase: MovePhase = 'started';
  let copied: NeutralMailbox | null = null;
  const idMap = new Map<string, string>();
  const exportFrom = (end: MoveEnd): NeutralMailbox => end.sim.exportMailbox(address);
  const move: MailboxMove = {
    address,
    get phase() {
      return phase;
    },
    idMap,
    get copied() {
      return copied;
    },
    copy() {
      if (phase !== 'started') throw new Error(`copy() comes right after the start (the move is ${phase})`);
      const data = exportFrom(from);
      const before = new Set(exportFrom(to).items.map((i) => i.id));
      const count = to.sim.importMailbox(address, data);
      const added = exportFrom(to).items.filter((i) => !before.has(i.id));
      for (const item of data.items) {
        const twin = added.find((x) => x.uid === item.uid);
        if (item.id && twin?.id) idMap.set(item.id, twin.id);
      }
      copied = data;
      phase = 'copied';
      return count;
    },
    complete() {
      if (phase === 'started') move.copy();
      if (phase !== 'copied') throw new Error(`complete() comes after copy() (the move is ${phase})`);
      if (from.kind === 'ews') from.sim.setMailboxState(address, 'completing');
      phase = 'completing';
    },
    finish() {
      if (phase === 'started') move.copy();
      if (phase === 'finished') throw new Error('The move is already finished');
      from.sim.setMailboxState(address, 'moved-away');
      to.sim.setMailboxState(address, 'active');
      phase = 'finished';
    },
  };
  return move;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface AutomaticMoveOptions extends MailboxMoveOptions {
  /** How long the source answers that the mailbox is being moved before the copy (default 0). */
  inProgressMs?: number;
  /** How long the final phase lasts (EWS source: ErrorMailboxStoreUnavailable), default 0. */
  completingMs?: number;
  /** Awaited as each phase begins (started, copied, completing, finished): a test looks at both ends there. */
  onPhase?: (phase: MovePhase, move: MailboxMove) => void | Promise<void>;
}

/**
 * A whole move: start, `inProgressMs` of the source answering that the mailbox is being moved, copy, complete,
 * `completingMs` of the final phase, finish. Returns the finished move (its idMap maps old ids to new).
 */
export async function moveMailbox(o: AutomaticMoveOptions): Promise<MailboxMove> {
  const move = startMailboxMove(o);
  const reached = async (): Promise<void> => {
    await o.onPhase?.(move.phase, move);
  };
  await Promise.all([sleep(o.inProgressMs ?? 0), reached()]);
  move.copy();
  await reached();
  move.complete();
  await Promise.all([sleep(o.completingMs ?? 0), reached()]);
  move.finish();
  await reached();
  return move;
}
