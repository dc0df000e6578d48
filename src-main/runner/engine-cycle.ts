import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SecretSource } from '../common/secrets-contract.ts';
import type { CycleReport, UserProblem } from '../common/sync-report.ts';
import { SyncStore } from '../store/sync-store.ts';
import { syncOrganization } from '../sync/sync-engine.ts';
import { describeError, failedCycleReport } from './cycle-report-builders.ts';
import type { CycleFunction } from './sync-runner-options.ts';
import type { ConnectorFactory, CountedCalendar, CycleRequest, CountedSevera, RunnerLog } from './runner-types.ts';
import { t } from '../common/i18n/i18n.ts';

/**
 * Why the peers could not be opened, as the connector says it (its own sentence and fix: a missing secret names its
 * field, Exchange Online names its own settings), else the error with a general fix.
 */
function connectorProblem(error: unknown): UserProblem {
  const advice = (error as { advice?: { message: string; fix?: string } } | null)?.advice;
  if (advice) return { code: 'connector-config', message: advice.message, ...(advice.fix ? { fix: advice.fix } : {}) };
  return { code: 'connector-config', message: describeError(error), fix: t('engine.connectors.configFix') };
}

/** The sync store's file in the data dir: pairs, sync states, intents, the deletion journal. */
export const SYNC_STORE_FILE = 'sync-store.sqlite';

export interface EngineCycleDeps {
  dataDir: string;
  secrets: SecretSource;
  connectors: ConnectorFactory;
  log: RunnerLog;
  now: () => number;
}

/** Opens the store in the data dir for one piece of work and always closes it (the tray app runs for weeks). */
export function withSyncStore<T>(dataDir: string, work: (store: SyncStore) => Promise<T>): Promise<T> {
  mkdirSync(dataDir, { recursive: true });
  const store = SyncStore.open(join(dataDir, SYNC_STORE_FILE));
  return work(store).finally(() => store.close());
}

/** The peers of one cycle, with their own request counters when they keep them. */
export async function openPeers(deps: Pick<EngineCycleDeps, 'secrets' | 'connectors'>, settings: Parameters<ConnectorFactory['createSevera']>[0]): Promise<{ severa: CountedSevera; calendar: CountedCalendar }> {
  const severa = await deps.connectors.createSevera(settings, deps.secrets);
  const calendar = await deps.connectors.createCalendar(settings, deps.secrets);
  return { severa, calendar };
}

/** Port calls that write an entry (create, change, delete, join or leave): what "entries done" counts. */
const WRITES = new Set(['createEvent', 'updateEvent', 'deleteEvent', 'writeEvents', 'createActivity', 'patchActivity', 'deleteActivity', 'addParticipant', 'removeParticipant']);

/** The port with every finished write counted (the port's own fields, e.g. requestCount, pass through). */
function countingWrites<T extends object>(port: T, onWrite: () => void): T {
  return new Proxy(port, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      // Called on the port itself, never on this wrapper: ports may keep #private fields.
      if (!WRITES.has(String(prop))) return (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args);
      return async (...args: unknown[]) => {
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        // A batch of writes (writeEvents) counts each entry it wrote.
        const written = prop === 'writeEvents' && Array.isArray(result) ? result.filter((o: { ok?: boolean }) => o?.ok).length : 1;
        for (let i = 0; i < written; i++) onWrite();
        return result;
      };
    },
  });
}

/**
 * Peers kept between real-time cycles, per data dir: a small cycle every few seconds would otherwise log in to Severa
 * (and Entra) each time. Made again when the settings change, after a failed cycle, and every 10 minutes (a changed
 * secret is picked up then, and by every scheduled cycle, which always opens its own).
 */
const livePeers = new Map<string, { key: string; atMs: number; peers: { severa: CountedSevera; calendar: CountedCalendar } }>();
const LIVE_PEERS_MS = 10 * 60_000;

async function peersFor(deps: EngineCycleDeps, request: Parameters<CycleFunction>[0]): Promise<{ severa: CountedSevera; calendar: CountedCalendar }> {
  if (!request.live) return openPeers(deps, request.settings);
  const key = JSON.stringify(request.settings);
  const kept = livePeers.get(deps.dataDir);
  if (kept && kept.key === key && deps.now() - kept.atMs < LIVE_PEERS_MS) return kept.peers;
  const peers = await openPeers(deps, request.settings);
  livePeers.set(deps.dataDir, { key, atMs: deps.now(), peers });
  return peers;
}

/** How often, at most, the count of entries written is reported while a person's sync runs. */
const ENTRY_PROGRESS_EVERY_MS = 1000;

/** The enrolled users a full cycle would sync that this one does not (a live cycle or `sync --user`). */
function enrolledBesides(request: CycleRequest): string[] {
  const here = new Set(request.users.map((u) => u.email.toLowerCase()));
  return request.settings.enrollments.filter((e) => !e.paused && !here.has(e.email.toLowerCase())).map((e) => e.email);
}

/** The default cycle: the sync engine over the configured peers and the store in the data dir. */
export function createEngineCycle(deps: EngineCycleDeps): CycleFunction {
  return async (request) => {
    const startedAt = new Date(deps.now()).toISOString();
    let peers: { severa: CountedSevera; calendar: CountedCalendar };
    try {
      peers = await peersFor(deps, request);
    } catch (error) {
      return failedCycleReport({
        startedAt,
        finishedAt: new Date(deps.now()).toISOString(),
        dryRun: request.dryRun,
        problem: connectorProblem(error),
      });
    }
    // Entries written so far, reported at most once a second while a long (first) sync runs, and at each person's end.
    let entriesDone = 0;
    let lastPosition = { usersDone: 0, usersTotal: request.users.length, currentUser: undefined as string | undefined, phase: undefined as string | undefined };
    let lastSentMs = 0;
    const report = () => request.onProgress({ ...lastPosition, entriesDone });
    const onWrite = () => {
      entriesDone++;
      if (deps.now() - lastSentMs >= ENTRY_PROGRESS_EVERY_MS) {
        lastSentMs = deps.now();
        report();
      }
    };
    const severa = countingWrites(peers.severa, onWrite);
    const calendar = countingWrites(peers.calendar, onWrite);
    const counts =
      typeof peers.severa.requestCount === 'function' && typeof peers.calendar.requestCount === 'function'
        ? () => ({ severa: peers.severa.requestCount!(), exchange: peers.calendar.requestCount!() })
        : undefined;
    const cycleReport = await withSyncStore(deps.dataDir, (store): Promise<CycleReport> =>
      syncOrganization(
        { severa, calendar, store, now: () => new Date(deps.now()), log: deps.log, requestCounts: counts },
        {
          users: request.users,
          activityTypesToExchange: request.settings.activityTypesToExchange,
          windowDaysAhead: request.settings.windowDaysAhead,
          ...(request.settings.usersAtOnce ? { concurrency: request.settings.usersAtOnce } : {}),
          dryRun: request.dryRun,
          confirmDeletions: request.confirmDeletions,
          deletionGuard: request.settings.deletionGuard,
          ...(request.live ? { reconcile: false, live: true } : {}),
          enrolledElsewhere: enrolledBesides(request),
          onProgress: (p) => {
            lastPosition = {
              usersDone: p.done,
              usersTotal: p.total,
              currentUser: p.phase === 'start' ? p.email : undefined,
              phase: p.phase === 'start' ? `syncing ${p.email}` : undefined,
            };
            lastSentMs = deps.now();
            report();
          },
        },
      ),
    );
    if (request.live && cycleReport.outcome === 'failed') livePeers.delete(deps.dataDir);
    return cycleReport;
  };
}
