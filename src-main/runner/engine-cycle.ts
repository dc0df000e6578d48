import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SecretSource } from '../common/secrets-contract.ts';
import type { CycleReport } from '../common/sync-report.ts';
import { SyncStore } from '../store/sync-store.ts';
import { syncOrganization } from '../sync/sync-engine.ts';
import { describeError, failedCycleReport } from './cycle-report-builders.ts';
import type { CycleFunction } from './sync-runner.ts';
import type { ConnectorFactory, CountedCalendar, CountedSevera, RunnerLog } from './runner-types.ts';

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

/** The default cycle: the sync engine over the configured peers and the store in the data dir. */
export function createEngineCycle(deps: EngineCycleDeps): CycleFunction {
  return async (request) => {
    const startedAt = new Date(deps.now()).toISOString();
    let peers: { severa: CountedSevera; calendar: CountedCalendar };
    try {
      peers = await openPeers(deps, request.settings);
    } catch (error) {
      return failedCycleReport({
        startedAt,
        finishedAt: new Date(deps.now()).toISOString(),
        dryRun: request.dryRun,
        problem: { code: 'connector-config', message: describeError(error), fix: 'Correct the settings or store the missing secret, then run "check".' },
      });
    }
    const { severa, calendar } = peers;
    const counts =
      typeof severa.requestCount === 'function' && typeof calendar.requestCount === 'function'
        ? () => ({ severa: severa.requestCount!(), exchange: calendar.requestCount!() })
        : undefined;
    return withSyncStore(deps.dataDir, (store): Promise<CycleReport> =>
      syncOrganization(
        { severa, calendar, store, now: () => new Date(deps.now()), log: deps.log, requestCounts: counts },
        {
          users: request.users,
          activityTypesToExchange: request.settings.activityTypesToExchange,
          windowDaysAhead: request.settings.windowDaysAhead,
          dryRun: request.dryRun,
          confirmDeletions: request.confirmDeletions,
          deletionGuard: request.settings.deletionGuard,
          onProgress: (p) =>
            request.onProgress({
              usersDone: p.phase === 'done' ? p.index + 1 : p.index,
              usersTotal: p.total,
              currentUser: p.phase === 'start' ? p.email : undefined,
              phase: p.phase === 'start' ? `syncing ${p.email}` : undefined,
            }),
        },
      ),
    );
  };
}
