import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CycleReport } from '../../src-main/common/sync-report.ts';
import { startEwsSimulator, type EwsSeed, type EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { EwsService } from '../peers/ews/ews-service.ts';
import { validateEwsSeed } from '../peers/ews/seed.ts';
import { loadGraphSeed, startGraphSimulator, type GraphSeed, type GraphSimulator } from '../peers/graph/graph-simulator.ts';
import { neutralFromEwsItems } from '../peers/graph/neutral-mailbox.ts';
import { createTestCa } from '../peers/graph/test-ca.ts';
import { startSeveraSimulator, type SeveraSeed, type SeveraSimulator } from '../peers/severa/severa-simulator.ts';
import { ewsOutlook, graphOutlook, type ExchangeKind, type OutlookBackDoor } from '../sync/outlook-back-door.ts';
import { HybridExchange } from './hybrid-exchange.ts';
import { InterposerControl, startInterposingProxy, type InterposedRequest, type InterposerHooks, type InterposingProxy, type RequestVerdict, type ResponseVerdict } from './interposing-proxy.ts';

/**
 * A firm on both simulators, the product's real CLI run as a child process against them (through interposing proxies),
 * and the means to kill that child at an exact request. The simulators live in this process, so their state survives
 * every kill; the sync state lives in the child's data dir, as on a real server. Exchange is on-premises (the EWS
 * simulator, NTLM) or Exchange Online (the Graph simulator: the app signs in with its client secret, HTTPS through a
 * proxy with a test CA of its own that the settings' CA file trusts).
 */

export const CLI_PATH = fileURLToPath(new URL('../../src-main/cli.ts', import.meta.url));
export const TIME_ZONE = 'Europe/Helsinki';

export const TYPES = {
  meeting: '00000000-0000-4000-8000-0000000000b1',
  customerVisit: '00000000-0000-4000-8000-0000000000b2',
  personal: '00000000-0000-4000-8000-0000000000b3',
  salesCall: '00000000-0000-4000-8000-0000000000b4',
  vacation: '00000000-0000-4000-8000-0000000000b5',
  projectTask: '00000000-0000-4000-8000-0000000000b6',
  oldType: '00000000-0000-4000-8000-0000000000b7',
} as const;

/** What the admin selected for Exchange: every active type but the project task (which never goes anyway). */
export const TYPES_TO_EXCHANGE = [TYPES.meeting, TYPES.customerVisit, TYPES.personal, TYPES.salesCall, TYPES.vacation];

export interface Person {
  first: string;
  last: string;
  severaGuid: string;
  /** The email Severa knows (Sara's is her mailbox's secondary address) and the enrollment uses. */
  severaEmail: string;
  /** Primary SMTP address of the mailbox. */
  mailbox: string;
  aliases: string[];
  defaultTypeGuid: string | null;
}

const DEMO_PEOPLE: Person[] = [
  { first: 'Aino', last: 'Virtanen', severaGuid: '00000000-0000-4000-8000-0000000000a1', severaEmail: 'aino.virtanen@contoso.example', mailbox: 'aino.virtanen@contoso.example', aliases: ['aino@contoso.example'], defaultTypeGuid: null },
  { first: 'Mikko', last: 'Lahtinen', severaGuid: '00000000-0000-4000-8000-0000000000a2', severaEmail: 'mikko.lahtinen@contoso.example', mailbox: 'mikko.lahtinen@contoso.example', aliases: [], defaultTypeGuid: null },
  { first: 'Sara', last: 'Nieminen', severaGuid: '00000000-0000-4000-8000-0000000000a3', severaEmail: 's.nieminen@contoso.example', mailbox: 'sara.nieminen@contoso.example', aliases: ['s.nieminen@contoso.example'], defaultTypeGuid: null },
  { first: 'Jussi', last: 'Korhonen', severaGuid: '00000000-0000-4000-8000-0000000000a4', severaEmail: 'jussi.korhonen@contoso.example', mailbox: 'jussi.korhonen@contoso.example', aliases: [], defaultTypeGuid: null },
  { first: 'Leena', last: 'Makela', severaGuid: '00000000-0000-4000-8000-0000000000a5', severaEmail: 'leena.makela@contoso.example', mailbox: 'leena.makela@contoso.example', aliases: [], defaultTypeGuid: TYPES.salesCall },
];
const EXTRA_FIRST = ['Eero', 'Helmi', 'Oskari', 'Venla', 'Ilmari', 'Aada', 'Lauri', 'Siiri', 'Veikko', 'Kerttu', 'Toivo', 'Iida'];
const EXTRA_LAST = ['Salonen', 'Heikkinen', 'Koskinen', 'Laine', 'Jarvinen', 'Lehtonen', 'Saarinen', 'Niemi', 'Kallio', 'Hamalainen', 'Mattila', 'Rantanen'];

/** The demo firm's five first, then made-up colleagues. */
export function firmOf(size: number): Person[] {
  if (!Number.isInteger(size) || size < 1 || size > 200) throw new RangeError(`A firm of 1 to 200 people, not ${String(size)}.`);
  const people = DEMO_PEOPLE.slice(0, size);
  for (let n = DEMO_PEOPLE.length; n < size; n++) {
    const i = n - DEMO_PEOPLE.length;
    const first = EXTRA_FIRST[i % EXTRA_FIRST.length];
    const last = EXTRA_LAST[Math.floor(i / EXTRA_FIRST.length) % EXTRA_LAST.length] + (i >= EXTRA_FIRST.length * EXTRA_LAST.length ? String(i) : '');
    const email = `${first}.${last}`.toLowerCase() + '@contoso.example';
    people.push({ first, last, severaGuid: `00000000-0000-4000-8000-5000000${String(n).padStart(5, '0')}`, severaEmail: email, mailbox: email, aliases: [], defaultTypeGuid: null });
  }
  return people;
}

export interface WorldSecrets {
  delegatePassword: string;
  severaClientSecret: string;
  /** Each user's own mailbox password by primary address (default demo-<firstname>-password). */
  mailboxPasswords?: Record<string, string>;
}

export const DEMO_SECRETS: WorldSecrets = { delegatePassword: 'demo-delegate-password', severaClientSecret: 'demo-client-secret' };

export function ewsSeedFor(people: Person[], secrets: WorldSecrets, items: EwsSeed['items'] = []): EwsSeed {
  return {
    comment: 'Generated by test/soak/sync-world.ts',
    timeZone: TIME_ZONE,
    server: { netbiosDomain: 'CONTOSO', dnsDomain: 'contoso.example', computerName: 'EXCH01', version: 'Exchange2016', authMethods: ['Negotiate', 'NTLM', 'Basic'] },
    delegates: [{ username: 'svc-severa-sync', upn: 'svc-severa-sync@contoso.example', password: secrets.delegatePassword, displayName: 'Severa Sync Service', impersonation: 'all' }],
    mailboxes: people.map((p) => ({
      primarySmtp: p.mailbox,
      aliases: p.aliases,
      displayName: `${p.first} ${p.last}`,
      username: p.mailbox.split('@')[0],
      password: secrets.mailboxPasswords?.[p.mailbox] ?? `demo-${p.first.toLowerCase()}-password`,
    })),
    items,
  };
}

export function severaSeedFor(people: Person[], secrets: WorldSecrets, activities: SeveraSeed['activities'] = []): SeveraSeed {
  return {
    timeZone: TIME_ZONE,
    apiClients: [{ clientId: 'demo-client-id', clientSecret: secrets.severaClientSecret }],
    activityTypes: [
      { guid: TYPES.meeting, name: 'Meeting', category: 'CalendarEntry', isDefault: true },
      { guid: TYPES.customerVisit, name: 'Customer visit', category: 'CalendarEntry' },
      { guid: TYPES.personal, name: 'Personal', category: 'Personal' },
      { guid: TYPES.salesCall, name: 'Sales call', category: 'SalesEvent' },
      { guid: TYPES.vacation, name: 'Vacation', category: 'Absences' },
      { guid: TYPES.projectTask, name: 'Project task', category: 'Task' },
      { guid: TYPES.oldType, name: 'Old type', category: 'CalendarEntry', isActive: false },
    ],
    users: people.map((p) => ({ guid: p.severaGuid, firstName: p.first, lastName: p.last, email: p.severaEmail, defaultActivityTypeGuid: p.defaultTypeGuid, timeZone: TIME_ZONE })),
    activities,
  };
}

/** The Entra app the sync signs in as (the Graph demo's registration and its client secret). */
export const GRAPH_APP = { tenant: 'contoso.onmicrosoft.com', clientId: '00000000-0000-4000-8000-0000000c0a01', secret: 'demo-graph-client-secret-not-a-real-one' };

/** The firm in Exchange Online: the Graph demo's tenant and app, a user with a mailbox per person, no events. */
export function graphSeedFor(people: Person[]): GraphSeed {
  const demo = loadGraphSeed('test/peers/demo/graph-demo.json');
  return {
    ...demo,
    comment: 'Generated by test/soak/sync-world.ts',
    timeZone: TIME_ZONE,
    users: people.map((p, n) => ({
      id: `00000000-0000-4000-8000-6000000${String(n).padStart(5, '0')}`,
      userPrincipalName: p.mailbox,
      mail: p.mailbox,
      aliases: p.aliases,
      displayName: `${p.first} ${p.last}`,
      givenName: p.first,
      surname: p.last,
      password: `demo-${p.first.toLowerCase()}-password`,
    })),
    events: [],
  };
}

/** The Exchange side of a world: the simulator, the proxy in front of it, and the settings that reach it. */
interface ExchangeSide {
  ews: EwsSimulator | null;
  graph: GraphSimulator | null;
  outlook: OutlookBackDoor;
  settings: Record<string, unknown>;
  /** A hybrid organization's second connection (Exchange Online). */
  secondSettings?: Record<string, unknown>;
  hybrid?: HybridExchange;
  env: Record<string, string>;
}

async function startExchangeSide(
  exchange: ExchangeKind | 'hybrid',
  opts: { people: Person[]; secrets: WorldSecrets; items: EwsSeed['items']; root: string; control: InterposerControl; noMailboxes?: boolean },
  startOrUndo: <T extends { close(): Promise<void> }>(start: () => Promise<T>) => Promise<T>,
): Promise<ExchangeSide> {
  const ewsSeed = ewsSeedFor(opts.people, opts.secrets, opts.items);
  if (exchange === 'hybrid') {
    // On-premises Exchange holds every mailbox; Exchange Online's tenant knows every user (directory sync), none has a
    // mailbox there yet. Moves (hybrid-exchange.ts) take them across and back.
    const onPrem = await startExchangeSide('ews', opts, startOrUndo);
    const online = await startExchangeSide('graph', { ...opts, items: [], noMailboxes: true }, startOrUndo);
    const hybrid = new HybridExchange({ ews: onPrem.ews!, graph: online.graph!, ewsDoor: onPrem.outlook, graphDoor: online.outlook, people: opts.people });
    return { ews: onPrem.ews, graph: online.graph, outlook: hybrid.outlook, settings: onPrem.settings, secondSettings: online.settings, hybrid, env: { ...onPrem.env, ...online.env } };
  }
  if (exchange === 'ews') {
    const ews = await startOrUndo(() => startEwsSimulator({ seed: ewsSeed, port: 0 }));
    const proxy = await startOrUndo(() => startInterposingProxy({ side: 'exchange', target: new URL(ews.url).origin, control: opts.control }));
    return {
      ews,
      graph: null,
      outlook: ewsOutlook(ews),
      settings: { serverType: 'Exchange2016', ewsUrl: `${proxy.origin}/EWS/Exchange.asmx`, domain: 'CONTOSO', username: 'svc-severa-sync', authMethod: 'ntlm' },
      env: { SCS_EXCHANGE_PASSWORD: opts.secrets.delegatePassword },
    };
  }
  const graphSeed = graphSeedFor(opts.people);
  if (opts.noMailboxes) graphSeed.users = graphSeed.users.map((u) => ({ ...u, mailboxState: 'none' as const }));
  const graph = await startOrUndo(() => startGraphSimulator({ seed: graphSeed, port: 0 }));
  // Items given in EWS terms are moved in through the simulators' neutral mailbox format.
  if (opts.items?.length) {
    const service = new EwsService(validateEwsSeed(ewsSeed));
    for (const p of opts.people) {
      const items = service.backDoor(p.mailbox).items();
      if (items.length) graph.importMailbox(p.mailbox, neutralFromEwsItems({ address: p.mailbox, displayName: `${p.first} ${p.last}` }, items as never));
    }
  }
  const ca = createTestCa('Soak interposing proxy test CA (throwaway)');
  const caFile = join(opts.root, 'exchange-online-ca.pem');
  writeFileSync(caFile, ca.certPem);
  const tls = ca.issueServerCertificate(['127.0.0.1', 'localhost']);
  const proxy = await startOrUndo(() => startInterposingProxy({ side: 'exchange', protocol: 'graph', target: graph.url, targetCa: graph.caCertificatePem, tls, control: opts.control }));
  return {
    ews: null,
    graph,
    outlook: graphOutlook(graph),
    settings: { serverType: 'Office365', tenantId: GRAPH_APP.tenant, clientId: GRAPH_APP.clientId, credential: 'secret', authorityHost: proxy.origin, graphUrl: proxy.origin, caFile },
    env: { SCS_GRAPH_CLIENT_SECRET: GRAPH_APP.secret },
  };
}

/** Today's date in the firm's zone, YYYY-MM-DD. */
export function todayInFirm(now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

export interface KillPlan {
  /** Count every request of the cycle, or only the writes (EWS CreateItem/UpdateItem/DeleteItem, Severa POST/PATCH/DELETE). */
  count: 'request' | 'write';
  /** Kill at the n-th counted request of the cycle (1-based). */
  n: number;
  /** before-server: the request never reaches the simulator; after-server: the simulator carries it out, the answer never arrives. */
  mode: 'before-server' | 'after-server';
}

export interface CycleRun {
  killed: boolean;
  /** Where the kill struck. */
  killedAt?: { operation: string; side: string; mode: KillPlan['mode']; seq: number };
  timedOut: boolean;
  exitCode: number | null;
  report: CycleReport | null;
  /** `sync --watch --json`: every report it printed (one a line), scheduled and live cycles alike; else empty. */
  reports: CycleReport[];
  stdout: string;
  stderr: string;
  requests: number;
  writes: number;
}

export interface RunCycleOptions {
  kill?: KillPlan;
  confirmDeletions?: boolean;
  dryRun?: boolean;
  timeoutMs?: number;
  /** Extra CLI arguments (e.g. a restore command instead of sync). */
  args?: string[];
  /** Environment variables to add or replace for this run (e.g. a wrong password). */
  env?: Record<string, string>;
  /** A command that keeps running (sync --watch) is asked to stop (SIGTERM) after this long, unless killed first. */
  stopAfterMs?: number;
  /**
   * With stopAfterMs: count it from the first whole line the command prints (`sync --watch --json`: the report of its
   * first cycle, scheduled or live) instead of from the start, so a slow first cycle on a loaded machine does not eat
   * the time meant for what follows it. A command that prints no line within three times stopAfterMs is stopped then.
   */
  stopAfterFirstLine?: boolean;
}

export interface SyncWorld {
  people: Person[];
  exchange: ExchangeKind;
  /** The EWS simulator; a world on Exchange Online throws when asked for it (use `outlook`, or `graph`). */
  ews: EwsSimulator;
  /** The Graph simulator of a world on Exchange Online (or a hybrid one), else null. */
  graph: GraphSimulator | null;
  /**
   * A hybrid organization (WorldOptions.hybrid): on-premises Exchange and Exchange Online, mailboxes moving between them;
   * `outlook` reaches each mailbox where it lives. Null otherwise.
   */
  hybrid: HybridExchange | null;
  /** "The user in Outlook", the same on both Exchanges. */
  outlook: OutlookBackDoor;
  severa: SeveraSimulator;
  control: InterposerControl;
  /** Hooks consulted before the kill logic on every request of every cycle (chaos, mid-cycle edits). */
  chaos: InterposerHooks;
  dataDir: string;
  configPath: string;
  today: string;
  /** The environment the child gets (secrets included), for tests that search for leaks. */
  childEnv: Record<string, string>;
  runCycle(options?: RunCycleOptions): Promise<CycleRun>;
  /** Runs the CLI with any arguments (same config, data dir and secrets). */
  runCli(args: string[], options?: Omit<RunCycleOptions, 'args'>): Promise<CycleRun>;
  /** Rewrites the settings so exactly these people have sync enabled (as when a user enables it later). */
  enroll(people: Person[]): void;
  close(): Promise<void>;
}

export interface WorldOptions {
  people: Person[];
  /** Default 'ews' (on-premises); 'graph': Exchange Online. */
  exchange?: ExchangeKind;
  /**
   * A hybrid organization: on-premises Exchange (`exchange`, every mailbox there at the start) and Exchange Online
   * (`secondExchange`, the users known but without mailboxes), with moves between them (world.hybrid). `exchange` is
   * then 'ews', the main connection.
   */
  hybrid?: boolean;
  secrets?: WorldSecrets;
  ewsItems?: EwsSeed['items'];
  severaActivities?: SeveraSeed['activities'];
  /** Severa simulator's 429 limit per second (0: none). */
  severaRateLimitPerSecond?: number;
  windowDaysAhead?: number;
  deletionGuard?: { maxItems: number; maxPercent: number };
  /** Default: a new temporary dir, removed by close(). */
  dataDir?: string;
  /** Extra settings merged into the config file. */
  settings?: Record<string, unknown>;
  /** Who has enabled sync at the start (default: everyone). */
  enrolled?: Person[];
}

export async function startSyncWorld(opts: WorldOptions): Promise<SyncWorld> {
  const secrets = opts.secrets ?? DEMO_SECRETS;
  const ownDir = opts.dataDir === undefined;
  const root = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'scs-world-'));
  const dataDir = join(root, 'data');
  mkdirSync(dataDir, { recursive: true });
  // Whatever started is stopped again if a later step fails, so a bad seed leaves no server behind.
  const started: Array<{ close(): Promise<void> }> = [];
  const startOrUndo = async <T extends { close(): Promise<void> }>(start: () => Promise<T>): Promise<T> => {
    try {
      const peer = await start();
      started.push(peer);
      return peer;
    } catch (error) {
      for (const s of started.reverse()) await s.close();
      if (ownDir) rmSync(root, { recursive: true, force: true });
      throw error;
    }
  };
  const exchange = opts.hybrid ? 'ews' : (opts.exchange ?? 'ews');
  const control = new InterposerControl();
  const side = await startExchangeSide(opts.hybrid ? 'hybrid' : exchange, { people: opts.people, secrets, items: opts.ewsItems, root, control }, startOrUndo);
  const severa = await startOrUndo(() => startSeveraSimulator({ seed: severaSeedFor(opts.people, secrets, opts.severaActivities), port: 0, rateLimitPerSecond: opts.severaRateLimitPerSecond ?? 0 }));
  const severaProxy: InterposingProxy = await startOrUndo(() => startInterposingProxy({ side: 'severa', target: new URL(severa.baseUrl).origin, control }));

  const today = todayInFirm();
  const configPath = join(root, 'config.json');
  const enrollmentsOf = (people: Person[]) => people.map((p) => ({ email: p.severaEmail, syncStartDate: today, enabledAt: new Date().toISOString(), paused: false }));
  const settingsWith = (people: Person[]) =>
    JSON.stringify(
      {
        schemaVersion: 1,
        exchange: side.settings,
        ...(side.secondSettings ? { secondExchange: side.secondSettings } : {}),
        severa: { apiUrl: `${severaProxy.origin}/rest-api`, clientId: 'demo-client-id' },
        activityTypesToExchange: TYPES_TO_EXCHANGE,
        intervalMinutes: 15,
        windowDaysAhead: opts.windowDaysAhead ?? 60,
        enrollments: enrollmentsOf(people),
        deletionGuard: opts.deletionGuard ?? { maxItems: 10, maxPercent: 20 },
        ...opts.settings,
      },
      null,
      2,
    );
  writeFileSync(configPath, settingsWith(opts.enrolled ?? opts.people));
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? root,
    LANG: 'C.UTF-8',
    TZ: TIME_ZONE,
    SCS_NO_KEYCHAIN: '1',
    ...side.env,
    SCS_SEVERA_CLIENT_SECRET: secrets.severaClientSecret,
  };

  const chaos: InterposerHooks = {};
  let running = false;

  const runCli = async (args: string[], run: Omit<RunCycleOptions, 'args'> = {}): Promise<CycleRun> => {
    if (running) throw new Error('One CLI process at a time: the previous one is still running.');
    running = true;
    let requests = 0;
    let writes = 0;
    let killedAt: CycleRun['killedAt'];
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env: { ...childEnv, ...run.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    // The request the kill waits for, once it has been seen (after-server: its answer is the moment).
    let target: InterposedRequest | null = null;
    const strikes = (r: InterposedRequest): boolean => {
      const plan = run.kill;
      if (!plan || target) return false;
      return plan.count === 'write' ? r.isWrite && writes === plan.n : requests === plan.n;
    };
    control.hooks = {
      onRequest: async (r): Promise<RequestVerdict> => {
        requests++;
        if (r.isWrite) writes++;
        if (killedAt) return 'hold';
        if (strikes(r)) {
          target = r;
          if (run.kill!.mode === 'before-server') {
            killedAt = { operation: r.operation, side: r.side, mode: 'before-server', seq: requests };
            kill();
            return 'hold';
          }
        }
        return (await chaos.onRequest?.(r)) ?? 'forward';
      },
      onResponse: async (r, status): Promise<ResponseVerdict> => {
        if (killedAt) return 'hold';
        if (target && r.seq === target.seq) {
          killedAt = { operation: r.operation, side: r.side, mode: 'after-server', seq: requests };
          kill();
          return 'hold';
        }
        return (await chaos.onResponse?.(r, status)) ?? 'deliver';
      },
    };
    let stdout = '';
    let stderr = '';
    let stopTimer: NodeJS.Timeout | null = null;
    const startStopTimer = (): void => {
      if (run.stopAfterMs === undefined || stopTimer) return;
      stopTimer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      }, run.stopAfterMs);
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (run.stopAfterFirstLine && stdout.includes('\n')) startStopTimer();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, run.timeoutMs ?? 180_000);
    if (!run.stopAfterFirstLine) startStopTimer();
    // Nothing printed for long (a watch whose first scheduled cycle is not due yet and saw no change): stopped anyway.
    const silentTimer =
      run.stopAfterFirstLine && run.stopAfterMs !== undefined
        ? setTimeout(() => {
            if (!stopTimer && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          }, 3 * run.stopAfterMs)
        : null;
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    clearTimeout(timer);
    if (stopTimer) clearTimeout(stopTimer);
    if (silentTimer) clearTimeout(silentTimer);
    control.hooks = {};
    running = false;
    let report: CycleReport | null = null;
    const reports: CycleReport[] = [];
    if (args.includes('--watch')) {
      // One report a line, as they came; a killed run's last line may be cut off.
      for (const line of stdout.split('\n')) {
        try {
          if (line.trim()) reports.push(JSON.parse(line) as CycleReport);
        } catch {
          // the line the kill cut off
        }
      }
      report = reports.at(-1) ?? null;
    } else if (!killedAt && !timedOut) {
      try {
        report = JSON.parse(stdout) as CycleReport;
      } catch {
        report = null;
      }
    }
    return { killed: killedAt !== undefined, killedAt, timedOut, exitCode, report, reports, stdout, stderr, requests, writes };
  };

  return {
    people: opts.people,
    exchange,
    get ews(): EwsSimulator {
      if (!side.ews) throw new Error('This world runs on Exchange Online: use world.outlook (or world.graph).');
      return side.ews;
    },
    graph: side.graph,
    hybrid: side.hybrid ?? null,
    outlook: side.outlook,
    severa,
    control,
    chaos,
    dataDir,
    configPath,
    today,
    childEnv,
    runCli,
    enroll: (people) => writeFileSync(configPath, settingsWith(people)),
    runCycle: (run = {}) => {
      const args = run.args ?? ['sync', '--once', '--json', '--config', configPath, '--data-dir', dataDir, ...(run.confirmDeletions ? ['--confirm-deletions'] : []), ...(run.dryRun ? ['--dry-run'] : [])];
      return runCli(args, run);
    },
    close: async () => {
      for (const peer of started.reverse()) await peer.close();
      if (ownDir) rmSync(root, { recursive: true, force: true });
    },
  };
}
