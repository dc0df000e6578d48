import type { CycleReport } from '../../src-main/common/sync-report.ts';
import type { ExchangeKind } from '../sync/outlook-back-door.ts';
import { checkAgreement, type AgreementReport } from './agreement-check.ts';
import { SeededRandom } from './seeded-random.ts';
import { SoakWorkload, tokenOf, type EditKind } from './soak-workload.ts';
import type { InterposedRequest } from './interposing-proxy.ts';
import { firmOf, startSyncWorld, type CycleRun, type KillPlan, type Person, type SyncWorld } from './sync-world.ts';

/**
 * The chaos soak: users edit both sides between (and during) sync cycles, both simulators inject faults, and the sync
 * process, a child running the real CLI, is killed at a random request in a share of the cycles. Then the faults stop,
 * the users stop, cycles run until nothing changes, and both sides are checked against each other and against what the
 * users did: duplicates and lost entries are counted, never assumed. Exchange is on-premises (EWS) or Exchange Online
 * (Graph), with the faults each one has.
 */

export interface SoakOptions {
  seed: number;
  /** Default 'ews'. */
  exchange?: ExchangeKind;
  /**
   * Real time on (settings `realTime`, short intervals): each chaos cycle is a window of `sync --watch` (killed at a
   * random request in a share of them, else stopped) while users edit every second or so; its scheduled and live
   * cycles are tallied one by one. The settle cycles at the end stay `sync --once`.
   */
  realTime?: {
    /**
     * How long each window runs after the watch's first cycle reported (however long that one took; a watch whose
     * scheduled cycle is not due yet starts with a live one), or three times that if no cycle reports.
     */
    windowMs: number;
  };
  /**
   * Mailbox moves: the world is a hybrid organization (on-premises Exchange over EWS, every mailbox there at the start,
   * and Exchange Online over Graph as the settings' second connection), and between chaos cycles a seeded share of them
   * starts moving one user's mailbox to the other side (on-premises -> Exchange Online, and back), sometimes with the
   * move still in progress (or completing) while one or two cycles run. Users keep editing both sides, in Outlook
   * wherever the mailbox lives (on the source while it moves; not while the move completes). Outlook meetings with
   * attendees are left out (no mail travels between the simulators). Every move has ended before the settle cycles.
   */
  moves?: boolean;
  /**
   * Users the sync runs side by side (settings `usersAtOnce`; default: the product's 8). 1: every cycle sends its
   * requests in the same order, so the seeded edits during cycles and the kills land on the same requests every run and
   * a failure repeats (CI's bounded soak); more: the interleavings of users vary with timing (the long soak explores them).
   */
  usersAtOnce?: number;
  /** Cycles with chaos (edits, faults, kills); the quiet cycles at the end come on top. */
  cycles: number;
  users: number;
  /** Share of chaos cycles in which the sync process is killed (default 0.35). */
  killShare?: number;
  /** Fault injection on both simulators (default true). */
  faults?: boolean;
  /** Recurring series with changed and deleted occurrences in the workload (default true). */
  series?: boolean;
  /** Chance per request that a user edits something while the cycle runs (default 0.02). */
  midCycleEditRate?: number;
  /** Chance that a write's answer is lost after the server carried it out (default 0.04). */
  lostAnswerRate?: number;
  /**
   * Severa simulator's own request limit per second before 429 (default 0: off). Its 429s depend on timing, so runs with
   * it are not repeatable; the soak's 429s come from the proxy instead (`severa429Rate`), seeded.
   */
  severaRateLimitPerSecond?: number;
  /** Chance per Severa request of a 429 with Retry-After: 1, answered by the proxy in the server's place (default 0.03). */
  severa429Rate?: number;
  /** At most this many cycles to become quiet after the chaos (default 12). */
  maxSettleCycles?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Keep the world's files here instead of a temporary dir (kept after the run). */
  dataDir?: string;
  /** Called after every cycle (diagnostics: look at the simulators or the run). */
  onCycle?: (label: string, run: CycleRun, world: SyncWorld) => void;
}

export interface SoakResult {
  seed: number;
  exchange: ExchangeKind;
  users: number;
  /** Chaos cycles run. */
  cycles: number;
  /** Cycles run after the chaos until quiet. */
  settleCycles: number;
  /** Whether a run of cycles with no change and no error was reached. */
  quiet: boolean;
  /** When not quiet: what the last settle cycle still did (each user's changes, errors and notes), so the cause can be read. */
  notQuietBecause: string[];
  kills: number;
  /** Kills planned at a request the cycle never reached (it ended first). */
  killsMissed: number;
  killsAfterServer: number;
  /** Faults by kind: ews.<kind> or graph.<kind>, severa.<kind>, severa.http429, proxy.answerLostAfterWrite. */
  faults: Record<string, number>;
  faultsTotal: number;
  edits: number;
  midCycleEdits: number;
  editsByKind: Partial<Record<EditKind, number>>;
  outcomes: { ok: number; partial: number; failed: number; killed: number; noReport: number };
  items: { severa: number; exchange: number };
  duplicates: number;
  losses: number;
  mismatches: number;
  tasksInExchange: number;
  untracked: number;
  /** Exchange Online: differences its rules call for (a meeting with attendees left as Outlook has it). */
  accepted: number;
  details: AgreementReport['details'] & { accepted: string[] };
  /** Child runs that ended without a report and were not killed (crashes), with their stderr tail. */
  crashes: string[];
  durationMs: number;
  /** With real time: live cycles run, and the entries they changed. */
  live?: { cycles: number; changes: number };
  /** With mailbox moves (a hybrid organization). */
  moves?: {
    /** Moves finished, by direction. */
    ewsToGraph: number;
    graphToEws: number;
    /** Mailbox-cycles run while a move was in progress (source: ErrorMailboxMoveInProgress / Graph's "not yet enabled"). */
    inProgressMet: number;
    /** Mailbox-cycles run while a move completed (EWS source: ErrorMailboxStoreUnavailable). */
    completingMet: number;
    /** Users the sync found in a new place (its "The mailbox moved from ..." note). */
    relocations: number;
    /** Where the mailboxes live at the end. */
    atTheEnd: { ews: number; graph: number };
  };
}

type SeveraFaultKind = 'serverError' | 'dropConnection' | 'slow' | 'none';

/** The Exchange simulator's faults for one chaos cycle (seeded), or none; a hybrid organization's on both of them. */
function setExchangeFaults(world: SyncWorld, seed: number | null): void {
  if (world.hybrid) {
    setEwsFaults(world, seed);
    setGraphFaults(world, seed === null ? null : seed + 1);
    return;
  }
  if (world.exchange === 'ews') setEwsFaults(world, seed);
  else setGraphFaults(world, seed);
}

function setEwsFaults(world: SyncWorld, seed: number | null): void {
  world.ews.setFaults(
    seed === null
      ? {}
      : { seed, serverBusyRate: 0.02, serverBusyBackOffMs: 200, http503Rate: 0.015, nonSoap500Rate: 0.015, dropConnectionRate: 0.015, slowRate: 0.03, slowMs: 300, mailboxMoveRate: 0.01 },
  );
}

function setGraphFaults(world: SyncWorld, seed: number | null): void {
  // Exchange Online: 503 and 504, throttling (429 with Retry-After), dropped connections, slow answers, delta rounds
  // that repeat an instance or list one twice, and a new event's change key drifting after the create.
  world.graph!.setFaults(
    seed === null
      ? {}
      : { seed, http503Rate: 0.015, http504Rate: 0.01, throttleRate: 0.015, retryAfterSeconds: 1, dropConnectionRate: 0.015, slowRate: 0.03, slowMs: 300, deltaReplayRate: 0.05, deltaDuplicateRate: 0.02, changeKeyDriftRate: 0.05, changeKeyDriftMs: 1500 },
  );
}

/** Faults injected so far by kind, ews.<kind> and graph.<kind>. */
function exchangeFaultsInjected(world: SyncWorld): Record<string, number> {
  const prefixed = (side: string, counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).map(([k, n]) => [`${side}.${k}`, n]));
  if (world.hybrid) return { ...prefixed('ews', world.ews.faultsInjected()), ...prefixed('graph', world.graph!.faultsInjected()) };
  return world.exchange === 'ews' ? prefixed('ews', world.ews.faultsInjected()) : prefixed('graph', world.graph!.faultsInjected());
}

function changes(report: CycleReport): number {
  return report.users.reduce((n, u) => n + u.toSevera.created + u.toSevera.updated + u.toSevera.deleted + u.toExchange.created + u.toExchange.updated + u.toExchange.deleted + u.heldDeletions, 0);
}

/** What a cycle changed or met, one line per change, error or note (what keeps a settle cycle from being quiet). */
function whatACycleDid(run: CycleRun): string[] {
  if (!run.report) return [`no report (exit ${String(run.exitCode)}): ${run.stderr.slice(-300)}`];
  const lines = run.report.errors.map((e) => `organization: ${e.code}: ${e.message}`);
  for (const u of run.report.users) {
    const who = u.email.split('@')[0];
    for (const c of u.changes) lines.push(`${who}: ${c.action} in ${c.side} "${c.subject}" ${c.start}${c.reason ? ` (${c.reason})` : ''}`);
    if (u.changesOmitted) lines.push(`${who}: ${u.changesOmitted} more changes`);
    if (u.heldDeletions) lines.push(`${who}: ${u.heldDeletions} deletions held`);
    for (const e of u.errors) lines.push(`${who}: ${e.code}: ${e.message}`);
    for (const n of u.notes) lines.push(`${who}: note: ${n}`);
  }
  return lines;
}

/** A cycle that changed nothing and met no problem. */
export function isQuiet(report: CycleReport | null): boolean {
  return report !== null && report.outcome === 'ok' && report.users.every((u) => u.outcome === 'ok' && u.errors.length === 0) && changes(report) === 0;
}

/**
 * Runs cycles until enough quiet ones follow each other (as many as a Severa deletion may take to be noticed), or
 * `maxCycles` ran. Returns the runs and whether it got quiet.
 */
export async function settle(world: SyncWorld, maxCycles: number, workload?: SoakWorkload): Promise<{ quiet: boolean; runs: CycleRun[] }> {
  const runs: CycleRun[] = [];
  let quietRun = 0;
  while (runs.length < maxCycles) {
    const run = await world.runCycle();
    runs.push(run);
    workload?.observeCycle(run.report);
    quietRun = isQuiet(run.report) ? quietRun + 1 : 0;
    if (quietRun >= (run.report?.severaDeletionLatencyCycles ?? 1)) return { quiet: true, runs };
  }
  return { quiet: false, runs };
}

/** What a cycle's report says went wrong, one line per problem (for failure messages). */
export function problemsOf(run: CycleRun): string[] {
  if (!run.report) return [`no report (exit ${String(run.exitCode)}${run.killed ? ', killed' : ''}): ${run.stderr.slice(-800)}`];
  return [...run.report.errors.map((e) => `${e.code}: ${e.message}`), ...run.report.users.flatMap((u) => u.errors.map((e) => `${u.email}: ${e.code}: ${e.message}`))];
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const rng = new SeededRandom(options.seed);
  const faultRng = rng.fork('faults');
  const killRng = rng.fork('kills');
  const editRng = rng.fork('edits');
  const exchange = options.exchange ?? 'ews';
  const realTimeSettings = { realTime: { enabled: true, exchangeOnlinePollSeconds: 1, ewsPollSeconds: 2, severaPollSeconds: 1 } };
  const world: SyncWorld = await startSyncWorld({
    exchange,
    ...(options.moves ? { hybrid: true } : {}),
    people: firmOf(options.users),
    severaRateLimitPerSecond: options.severaRateLimitPerSecond ?? 0,
    dataDir: options.dataDir,
    settings: { ...(options.realTime ? realTimeSettings : {}), ...(options.usersAtOnce ? { usersAtOnce: options.usersAtOnce } : {}) },
  });
  const live = { cycles: 0, changes: 0 };
  const hybrid = world.hybrid;
  const workload = new SoakWorkload(world, editRng, { series: options.series ?? true, ...(hybrid ? { outlookMeetings: false, outlookEditable: (p: Person) => hybrid.editable(p) } : {}) });
  const moveRng = rng.fork('moves');
  let relocations = 0;
  const faults: Record<string, number> = {};
  const add = (kind: string, n: number) => {
    if (n > 0) faults[kind] = (faults[kind] ?? 0) + n;
  };
  const outcomes = { ok: 0, partial: 0, failed: 0, killed: 0, noReport: 0 };
  const crashes: string[] = [];
  let kills = 0;
  let killsAfterServer = 0;
  let edits = 0;
  let midCycleEdits = 0;
  // Kill points are drawn within the size of the last cycle that ran to its end, so most planned kills strike.
  let lastRequests = 30;
  let plannedKills = 0;

  let cycleLabel = 'c1';
  // The writes sent this cycle (or watch window) that name an entry (its token in the subject or name: creates above
  // all), by whom: a killed cycle has no report, so these are all its story can tell of what it did.
  const sentWrites: Array<{ label: string; token: string; line: string }> = [];
  const noteSentWrite = (r: InterposedRequest): void => {
    const token = r.isWrite ? tokenOf(r.body) : null;
    if (!token) return;
    const smtp = /PrimarySmtpAddress>([^<]+)</.exec(r.body)?.[1] ?? /\/users\/([^/?]+)/.exec(decodeURIComponent(r.path))?.[1];
    const ownerGuid = /"ownerUser"\s*:\s*\{\s*"guid"\s*:\s*"([^"]+)"/.exec(r.body)?.[1];
    const who = smtp ? smtp.split('@')[0] : ownerGuid ? `owner ${world.people.find((p) => p.severaGuid === ownerGuid)?.first ?? ownerGuid}` : '';
    sentWrites.push({ label: cycleLabel, token, line: `${r.side} ${r.operation}${who ? ` for ${who}` : ''}` });
  };
  // What the sync did to each entry, in its history, so a disagreement at the end can be read as a story.
  const trace = (run: CycleRun): void => {
    if (run.killed) {
      const sent = sentWrites.splice(0);
      for (const e of workload.entries.values()) if (!e.deletedByUser) e.history.push(`${cycleLabel}: (cycle killed at ${run.killedAt?.side} ${run.killedAt?.operation}, ${run.killedAt?.mode})`);
      for (const w of sent) workload.entries.get(w.token)?.history.push(`${w.label}: (in the killed cycle) sent ${w.line}`);
      return;
    }
    for (const u of run.report?.users ?? []) {
      for (const c of u.changes) {
        const token = tokenOf(c.subject);
        const entry = token ? workload.entries.get(token) : undefined;
        entry?.history.push(`${cycleLabel}: sync for ${u.email.split('@')[0]}: ${c.action} in ${c.side}${c.reason ? ` (${c.reason})` : ''}`);
      }
      for (const e of u.errors) {
        const token = tokenOf(e.message);
        const entry = token ? workload.entries.get(token) : undefined;
        entry?.history.push(`${cycleLabel}: sync for ${u.email.split('@')[0]}: error ${e.code}: ${e.message}`);
      }
      for (const n of u.notes) {
        const token = tokenOf(n);
        const entry = token ? workload.entries.get(token) : undefined;
        entry?.history.push(`${cycleLabel}: sync for ${u.email.split('@')[0]}: note: ${n}`);
      }
    }
  };

  const tally = (run: CycleRun): void => {
    trace(run);
    for (const u of run.report?.users ?? []) relocations += u.notes.filter((n) => /^The mailbox moved from /.test(n)).length;
    workload.observeCycle(run.report);
    options.onCycle?.(cycleLabel, run, world);
    if (run.killed) outcomes.killed++;
    else if (!run.report) {
      outcomes.noReport++;
      crashes.push(`exit ${String(run.exitCode)}${run.timedOut ? ' (timed out)' : ''}: ${run.stderr.slice(-1500)}`);
    } else outcomes[run.report.outcome]++;
  };

  // Mailbox moves (hybrid): for each running move, cycles it stays in progress, and whether its completion spans a cycle.
  const movePlans = new Map<Person, { inProgress: number; completeSpans: boolean }>();
  const place = (kind: 'ews' | 'graph') => (kind === 'ews' ? 'on-premises Exchange' : 'Exchange Online');
  const noteMove = (person: Person, line: string): void => {
    log(`  ${cycleLabel}: ${line}`);
    for (const e of workload.entries.values()) if (e.owner === person || e.members.has(person)) e.history.push(`${cycleLabel}: ${line}`);
  };
  const endMove = (person: Person): void => {
    const m = hybrid!.moving(person)!;
    hybrid!.finish(person);
    movePlans.delete(person);
    noteMove(person, `${person.first}'s mailbox has moved to ${place(m.to)}`);
  };
  /** One move step: a move in progress goes on, completes (its lock spanning the next cycle) or ends. */
  const advanceMove = (person: Person): void => {
    const m = hybrid!.moving(person)!;
    const plan = movePlans.get(person)!;
    if (m.phase === 'completing') return endMove(person);
    if (plan.inProgress > 0) {
      plan.inProgress--;
      return;
    }
    if (plan.completeSpans) {
      hybrid!.complete(person);
      noteMove(person, `${person.first}'s mailbox move completes (the source is locked for the final copy)`);
    } else endMove(person);
  };
  /** Before a chaos cycle: running moves go on; now and then another user's mailbox starts moving (seeded). */
  const moveMailboxes = (cycle: number): void => {
    for (const m of hybrid!.running()) advanceMove(m.person);
    if (cycle < 2 || !moveRng.chance(0.35)) return;
    const candidates = world.people.filter((p) => !hybrid!.moving(p));
    if (!candidates.length) return;
    const person = moveRng.pick(candidates);
    const from = hybrid!.whereIs(person.mailbox);
    // The final phase locks an on-premises source (ErrorMailboxStoreUnavailable); Exchange Online's stays as while moving.
    const plan = { inProgress: moveRng.pick([0, 0, 1, 1, 2]), completeSpans: from === 'ews' && moveRng.chance(0.3) };
    movePlans.set(person, plan);
    hybrid!.start(person);
    noteMove(person, `${person.first}'s mailbox starts moving from ${place(from)} to ${place(from === 'ews' ? 'graph' : 'ews')} (in progress for ${plan.inProgress} cycle(s)${plan.completeSpans ? ', then completing for one' : ''})`);
    if (plan.inProgress === 0) advanceMove(person);
    else plan.inProgress--;
  };

  try {
    // Before the first sync: the same entry typed on both sides by some users, and a few entries on either side.
    for (let i = 0; i < Math.max(1, Math.ceil(options.users / 2)); i++) workload.edit('both.twin');
    edits += workload.step(options.users * 2).length + Math.max(1, Math.ceil(options.users / 2));

    const chaosOn = options.faults ?? true;
    const midRate = options.midCycleEditRate ?? 0.02;
    const lostRate = options.lostAnswerRate ?? 0.04;
    const rate429 = chaosOn ? (options.severa429Rate ?? 0.03) : 0;
    world.chaos.onRequest = (r) => {
      if (midRate > 0 && !r.isWrite && editRng.chance(midRate)) {
        workload.moment = `during ${cycleLabel}`;
        if (workload.edit()) midCycleEdits++;
      }
      if (r.side === 'severa' && rate429 > 0 && faultRng.chance(rate429)) {
        add('severa.http429', 1);
        return { status: 429, headers: { 'content-type': 'application/json', 'retry-after': '1' }, body: JSON.stringify({ error: { httpStatusCode: 429, type: 'InvalidOperation', details: [{ message: 'Too many requests.' }], stack: null } }) };
      }
      noteSentWrite(r);
      return 'forward';
    };
    world.chaos.onResponse = (r, status) => {
      if (chaosOn && lostRate > 0 && r.isWrite && status < 300 && faultRng.chance(lostRate)) {
        add('proxy.answerLostAfterWrite', 1);
        return 'drop';
      }
      return 'deliver';
    };

    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      cycleLabel = `c${cycle}`;
      sentWrites.length = 0;
      workload.moment = `before ${cycleLabel}`;
      if (cycle > 1) edits += workload.step(editRng.int(1, Math.max(2, options.users * 2))).length;
      let severaKind: SeveraFaultKind = 'none';
      if (chaosOn) {
        setExchangeFaults(world, faultRng.int(1, 1_000_000));
        severaKind = faultRng.pick<SeveraFaultKind>(['serverError', 'dropConnection', 'slow', 'none']);
        const rate = { serverError: { serverErrorRate: 0.06 }, dropConnection: { dropConnectionRate: 0.04 }, slow: { slowRate: 0.1, slowMs: 300 }, none: {} }[severaKind];
        world.severa.setFaults({ seed: faultRng.int(1, 1_000_000), ...rate });
      }
      const exchangeBefore = exchangeFaultsInjected(world);
      const severaBefore = world.severa.counters();
      const kill: KillPlan | undefined = killRng.chance(options.killShare ?? 0.35)
        ? { count: 'request', n: killRng.int(1, Math.max(2, lastRequests - 1)), mode: killRng.chance(0.5) ? 'after-server' : 'before-server' }
        : undefined;
      if (kill) plannedKills++;
      if (hybrid) {
        moveMailboxes(cycle);
        hybrid.noteCycle();
      }
      let run: CycleRun;
      if (options.realTime) {
        // Users keep editing while the watch runs: real time has to bring it over.
        const editing = setInterval(() => {
          workload.moment = `during ${cycleLabel}`;
          if (workload.edit()) midCycleEdits++;
        }, 1000);
        try {
          run = await world.runCli(['sync', '--watch', '--json', '--config', world.configPath, '--data-dir', world.dataDir], { kill, stopAfterMs: options.realTime.windowMs, stopAfterFirstLine: true });
        } finally {
          clearInterval(editing);
        }
      } else run = await world.runCycle({ kill });
      for (const [kind, n] of Object.entries(exchangeFaultsInjected(world))) add(kind, n - (exchangeBefore[kind] ?? 0));
      const severaAfter = world.severa.counters();
      if (severaKind !== 'none') add(`severa.${severaKind}`, severaAfter.faultsInjected - severaBefore.faultsInjected);
      add('severa.rateLimit429', severaAfter.rateLimited - severaBefore.rateLimited);
      if (options.realTime) {
        // Each cycle the watch ran, one by one; a window that neither was killed nor ended as asked is a crash.
        for (const report of run.reports) {
          tally({ ...run, killed: false, report });
          if (report.trigger === 'live') {
            live.cycles++;
            live.changes += changes(report);
          }
        }
        if (run.killed) {
          trace(run);
          outcomes.killed++;
        } else if (run.exitCode !== 0 && run.exitCode !== 1) crashes.push(`exit ${String(run.exitCode)}${run.timedOut ? ' (timed out)' : ''}: ${run.stderr.slice(-1500)}`);
      } else tally(run);
      if (run.killed) {
        kills++;
        if (run.killedAt?.mode === 'after-server') killsAfterServer++;
        log(`cycle ${cycle}: killed at request ${run.killedAt?.seq} (${run.killedAt?.side} ${run.killedAt?.operation}, ${run.killedAt?.mode})`);
      } else {
        lastRequests = run.requests;
        log(`cycle ${cycle}: ${run.report ? `${run.report.outcome}, ${changes(run.report)} changes` : `no report (exit ${String(run.exitCode)})`}, ${run.requests} requests${run.report ? usersInError(run.report) : ''}`);
      }
    }

    // Every move ends before the settle cycles, so each calendar is checked where it lives for good.
    if (hybrid) {
      cycleLabel = 'settle';
      for (const m of hybrid.running()) endMove(m.person);
    }

    // Settle: no more faults, lost answers, kills or edits; cycles until nothing changes for as long as a deletion in
    // Severa can take to be noticed (the rolling reconciliation).
    setExchangeFaults(world, null);
    world.severa.setFaults({});
    world.chaos.onRequest = undefined;
    world.chaos.onResponse = undefined;
    let settleCycles = 0;
    let quietRun = 0;
    let quiet = false;
    let lastSettleDid: string[] = [];
    const maxSettle = options.maxSettleCycles ?? 12;
    while (settleCycles < maxSettle) {
      settleCycles++;
      cycleLabel = `s${settleCycles}`;
      const before = world.severa.counters().rateLimited;
      const run = await world.runCycle();
      add('severa.rateLimit429', world.severa.counters().rateLimited - before);
      tally(run);
      const needed = run.report?.severaDeletionLatencyCycles ?? 1;
      quietRun = isQuiet(run.report) ? quietRun + 1 : 0;
      lastSettleDid = whatACycleDid(run);
      log(`settle ${settleCycles}: ${run.report ? `${run.report.outcome}, ${changes(run.report)} changes${run.report.users.some((u) => u.errors.length) ? `, errors: ${run.report.users.flatMap((u) => u.errors.map((e) => `${u.email}: ${e.message}`)).join(' / ')}` : ''}` : `no report (exit ${String(run.exitCode)})`}`);
      if (quietRun >= needed) {
        quiet = true;
        break;
      }
    }

    const agreement = checkAgreement(world, workload.entries);
    const result: SoakResult = {
      seed: options.seed,
      exchange,
      users: options.users,
      cycles: options.cycles,
      settleCycles,
      quiet,
      notQuietBecause: quiet ? [] : lastSettleDid,
      kills,
      killsMissed: plannedKills - kills,
      killsAfterServer,
      faults,
      faultsTotal: Object.values(faults).reduce((a, b) => a + b, 0),
      edits: edits + midCycleEdits,
      midCycleEdits,
      editsByKind: { ...workload.done },
      outcomes,
      items: agreement.itemsPerSide,
      duplicates: agreement.duplicates,
      losses: agreement.losses,
      mismatches: agreement.mismatches,
      tasksInExchange: agreement.tasksInExchange,
      untracked: agreement.untracked,
      accepted: agreement.accepted.length,
      details: { ...agreement.details, accepted: agreement.accepted },
      crashes,
      durationMs: Date.now() - started,
      ...(options.realTime ? { live } : {}),
      ...(hybrid
        ? {
            moves: {
              ewsToGraph: hybrid.tally.finished['ews->graph'],
              graphToEws: hybrid.tally.finished['graph->ews'],
              inProgressMet: hybrid.tally.inProgressMet,
              completingMet: hybrid.tally.completingMet,
              relocations,
              atTheEnd: {
                ews: world.people.filter((p) => hybrid.whereIs(p.mailbox) === 'ews').length,
                graph: world.people.filter((p) => hybrid.whereIs(p.mailbox) === 'graph').length,
              },
            },
          }
        : {}),
    };
    return result;
  } finally {
    await world.close();
  }
}

/** The figures as lines of text (what `npm run soak` prints). */
/** "; failed: jussi.korhonen (severa-server), ..." for the users whose sync ended in error: a story can then be read per user. */
function usersInError(report: CycleReport): string {
  const failed = report.users.filter((u) => u.errors.length > 0).map((u) => `${u.email.split('@')[0]} (${[...new Set(u.errors.map((e) => e.code))].join(', ')})`);
  return failed.length ? `; errors for ${failed.join(', ')}` : '';
}

export function formatSoakResult(r: SoakResult): string {
  const lines = [
    `Chaos soak on ${r.moves ? 'a hybrid organization (on-premises Exchange over EWS + Exchange Online over Graph) with mailbox moves' : r.exchange === 'ews' ? 'on-premises Exchange (EWS)' : 'Exchange Online (Graph)'}: seed ${r.seed}, ${r.users} users, ${r.cycles} chaos cycles + ${r.settleCycles} settle cycles (${r.quiet ? 'quiet at the end' : 'NOT quiet at the end'}), ${(r.durationMs / 1000).toFixed(1)} s`,
    `  cycles: ${r.outcomes.ok} ok, ${r.outcomes.partial} partial, ${r.outcomes.failed} failed, ${r.outcomes.killed} killed (${r.killsAfterServer} after the server carried out the request; ${r.killsMissed} planned kills came after the cycle's end), ${r.outcomes.noReport} without a report`,
    `  edits by users: ${r.edits} (${r.midCycleEdits} while a cycle ran): ${Object.entries(r.editsByKind).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    ...(r.live ? [`  real time: ${r.live.cycles} live cycles changed ${r.live.changes} entries`] : []),
    ...(r.moves
      ? [
          `  mailbox moves: ${r.moves.ewsToGraph + r.moves.graphToEws} (on-premises -> Exchange Online ${r.moves.ewsToGraph}, Exchange Online -> on-premises ${r.moves.graphToEws}); the sync found ${r.moves.relocations} moved mailboxes in their new place; at the end ${r.moves.atTheEnd.ews} on premises, ${r.moves.atTheEnd.graph} in Exchange Online`,
          `  moves met by cycles: ${r.moves.inProgressMet} times in progress, ${r.moves.completingMet} times completing (per mailbox and cycle)`,
        ]
      : []),
    `  faults injected: ${r.faultsTotal}: ${Object.entries(r.faults).sort().map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
    `  items at the end: Severa ${r.items.severa}, Exchange ${r.items.exchange}`,
    `  duplicates: ${r.duplicates}`,
    `  losses: ${r.losses}`,
    `  other disagreements: ${r.mismatches} (project tasks in Exchange: ${r.tasksInExchange}, untracked items: ${r.untracked})`,
    ...(r.exchange === 'graph' ? [`  accepted differences (meetings with attendees left as Outlook has them): ${r.accepted}`] : []),
  ];
  for (const [what, list] of Object.entries(r.details)) for (const d of list.slice(0, 20)) lines.push(`    ${what}: ${d}`);
  for (const c of r.crashes.slice(0, 5)) lines.push(`    crash: ${c}`);
  for (const d of r.notQuietBecause.slice(0, 20)) lines.push(`    the last settle cycle still did: ${d}`);
  return lines.join('\n');
}
