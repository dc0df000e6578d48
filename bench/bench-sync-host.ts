import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import type { OrgSettings } from '../src-main/common/settings-schema.ts';
import type { CycleReport } from '../src-main/common/sync-report.ts';
import { EwsCalendarConnector } from '../src-main/exchange/ews/ews-calendar-connector.ts';
import { defaultConnectorFactory, ewsConnectorOptions } from '../src-main/runner/connector-factory.ts';
import { EnvSecretSource } from '../src-main/runner/env-secret-source.ts';
import type { ConnectorFactory } from '../src-main/runner/runner-types.ts';
import { SyncRunner } from '../src-main/runner/sync-runner.ts';
import { SeveraClient } from '../src-main/severa/severa-client.ts';

/**
 * The sync process of the benchmark: the product's runner, engine, store and connectors, and nothing of the benchmark
 * but this message loop (forked by run-benchmarks.ts with --expose-gc). Its figures are taken without sampling: CPU from
 * process.cpuUsage() around the cycle, the heap after each major GC during the cycle from v8's GC profiler, the heap
 * after a full GC at the cycle's end, and the process's peak RSS from the OS. EWS requests are counted here by purpose
 * (the connector says which GetItem verifies writes); everything else is counted by the simulators.
 */

export type SyncHostRequest =
  | { type: 'init'; settings: unknown; secrets: Record<string, string>; severaRate: number }
  | { type: 'cycle'; advanceMs: number; snapshots?: { dir: string; label: string } }
  | { type: 'snapshot'; path: string }
  | { type: 'close' };

export interface CycleFigures {
  wallMs: number;
  cpuMs: number;
  /** The largest heap left after a major GC while the cycle ran (MB); the end-of-cycle figure when no major GC ran. */
  maxHeapAfterGcMb: number;
  /** Heap after a full GC at the end of the cycle, with the runner holding the cycle's report (MB). */
  heapAfterGcMb: number;
  peakRssMb: number;
  /** EWS requests by purpose, as the connector reports them (the simulators count every request anyway). */
  ewsVerifyRequests: number;
  summary: ReportSummary;
}

export interface ReportSummary {
  outcome: CycleReport['outcome'];
  users: number;
  created: { exchange: number; severa: number };
  updated: { exchange: number; severa: number };
  deleted: { exchange: number; severa: number };
  errors: number;
  firstErrors: string[];
  /** Problems about writes a server did not store as sent (code 'write-differs'). */
  writeDiffers: number;
  changeLinesKept: number;
}

export type SyncHostReply =
  | { type: 'ready'; heapAfterGcMb: number }
  | { type: 'figures'; figures: CycleFigures }
  | { type: 'done' }
  | { type: 'error'; message: string };

/** Time passes between cycles without waiting for it: Date moves forward with the simulators' clocks. */
let clockAdvanceMs = 0;
function installMovableClock(): void {
  const RealDate = Date;
  class MovableDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + clockAdvanceMs);
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return RealDate.now() + clockAdvanceMs;
    }
  }
  globalThis.Date = MovableDate as DateConstructor;
}

function summarize(report: CycleReport): ReportSummary {
  const sum = (pick: (u: CycleReport['users'][number]) => number) => report.users.reduce((n, u) => n + pick(u), 0);
  const problems = [...report.errors, ...report.users.flatMap((u) => u.errors)];
  return {
    outcome: report.outcome,
    users: report.users.length,
    created: { exchange: sum((u) => u.toExchange.created), severa: sum((u) => u.toSevera.created) },
    updated: { exchange: sum((u) => u.toExchange.updated), severa: sum((u) => u.toSevera.updated) },
    deleted: { exchange: sum((u) => u.toExchange.deleted), severa: sum((u) => u.toSevera.deleted) },
    errors: problems.length,
    firstErrors: problems.slice(0, 3).map((p) => `${p.code}: ${p.message}`),
    writeDiffers: problems.filter((p) => p.code === 'write-differs').length,
    changeLinesKept: sum((u) => u.changes.length),
  };
}

const gc = (globalThis as { gc?: () => void }).gc;
const mb = (bytes: number) => bytes / 2 ** 20;

async function main(): Promise<void> {
  if (!gc) throw new Error('bench-sync-host.ts needs --expose-gc');
  installMovableClock();
  const send = (reply: SyncHostReply) => process.send!(reply);
  const dataDir = mkdtempSync(join(tmpdir(), 'scs-bench-sync-'));
  let runner: SyncRunner | null = null;
  let verifyRequests = 0;

  process.on('message', async (req: SyncHostRequest) => {
    try {
      switch (req.type) {
        case 'init': {
          const settings = req.settings as OrgSettings;
          const secrets = new EnvSecretSource(req.secrets);
          const connectors: ConnectorFactory = {
            async createCalendar(s, sec) {
              if (s.exchange.serverType === 'Office365') return defaultConnectorFactory.createCalendar(s, sec);
              let requests = 0;
              const connector = new EwsCalendarConnector({
                ...(await ewsConnectorOptions(s, sec)),
                onRequest: (info) => {
                  requests++;
                  if ((info as { purpose?: string }).purpose === 'verify') verifyRequests++;
                },
              });
              return Object.assign(connector, { requestCount: () => requests });
            },
            async createSevera(s, sec) {
              return new SeveraClient({ baseUrl: s.severa.apiUrl, clientId: s.severa.clientId, clientSecret: (await sec.get('severa-client-secret'))!, rateLimitPerSecond: req.severaRate });
            },
          };
          runner = new SyncRunner({ loadSettings: () => settings, secrets, dataDir, connectors });
          gc();
          send({ type: 'ready', heapAfterGcMb: mb(process.memoryUsage().heapUsed) });
          break;
        }
        case 'cycle': {
          if (!runner) throw new Error('not initialised');
          clockAdvanceMs += req.advanceMs;
          gc();
          verifyRequests = 0;
          // Heap snapshots (only when asked: writing one stops the cycle for a while, so such a run's figures are not the
          // sync's): one when 95 % of the users are done, one after the cycle with the runner holding its report.
          let taken = false;
          const snap = req.snapshots;
          const unsubscribe = snap
            ? runner.onProgress((p) => {
                if (taken || p.usersTotal === 0 || p.usersDone < Math.ceil(p.usersTotal * 0.95)) return;
                taken = true;
                gc();
                v8.writeHeapSnapshot(join(snap.dir, `${snap.label}-at-95pct.heapsnapshot`));
              })
            : () => undefined;
          const profiler = new v8.GCProfiler();
          profiler.start();
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          const report = await runner.runNow();
          const wallMs = performance.now() - t0;
          const cpu = process.cpuUsage(cpu0);
          const stats = profiler.stop();
          unsubscribe();
          gc();
          if (snap) v8.writeHeapSnapshot(join(snap.dir, `${snap.label}-after.heapsnapshot`));
          const heapAfterGc = process.memoryUsage().heapUsed;
          let maxAfterMajor = 0;
          for (const s of stats?.statistics ?? []) {
            if (s.gcType === 'MarkSweepCompact') maxAfterMajor = Math.max(maxAfterMajor, s.afterGC.heapStatistics.usedHeapSize);
          }
          send({
            type: 'figures',
            figures: {
              wallMs,
              cpuMs: (cpu.user + cpu.system) / 1000,
              maxHeapAfterGcMb: mb(Math.max(maxAfterMajor, heapAfterGc)),
              heapAfterGcMb: mb(heapAfterGc),
              peakRssMb: process.resourceUsage().maxRSS / 1024,
              ewsVerifyRequests: verifyRequests,
              summary: summarize(report),
            },
          });
          break;
        }
        case 'snapshot':
          gc();
          v8.writeHeapSnapshot(req.path);
          send({ type: 'done' });
          break;
        case 'close':
          rmSync(dataDir, { recursive: true, force: true });
          send({ type: 'done' });
          process.exit(0);
      }
    } catch (error) {
      send({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  });
  send({ type: 'done' });
}

main().catch((error: unknown) => {
  process.send?.({ type: 'error', message: (error as Error).message } satisfies SyncHostReply);
  process.exit(1);
});
