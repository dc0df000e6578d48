/**
 * Real time in the runner (live-sync.ts), with the cycle and the peers faked: watch events and Severa changes become
 * small live cycles of just the users concerned, a burst is one sync, users due while a cycle runs go together into the
 * next one and never run twice at once, a full cycle asked for meanwhile follows, and live cycles leave the schedule
 * and the status' last cycle alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orgSettings, type OrgSettings } from '../../src-main/common/settings-schema.ts';
import type { CycleReport } from '../../src-main/common/sync-report.ts';
import type { ChangeWatchEvents, WatchChangesOptions } from '../../src-main/exchange/calendar-connector.ts';
import { EnvSecretSource } from '../../src-main/runner/env-secret-source.ts';
import type { ConnectorFactory, CountedCalendar, CountedSevera, CycleRequest } from '../../src-main/runner/runner-types.ts';
import { SyncRunner } from '../../src-main/runner/sync-runner.ts';
import type { SeveraActivity } from '../../src-main/sync/severa-port.ts';
import { SyncStore } from '../../src-main/store/sync-store.ts';

const AINO = 'aino.virtanen@contoso.example';
const MIKKO = 'mikko.lahtinen@contoso.example';
const GUID: Record<string, string> = { [AINO]: '00000000-0000-4000-8000-0000000000a1', [MIKKO]: '00000000-0000-4000-8000-0000000000a2' };

const settingsWith = (realTime: Record<string, unknown> = { enabled: true, severaPollSeconds: 1 }): OrgSettings =>
  orgSettings.parse({
    exchange: { serverType: 'Exchange2016', ewsUrl: 'https://mail.contoso.example/EWS/Exchange.asmx', domain: 'CONTOSO', username: 'svc-severa-sync' },
    severa: { clientId: 'demo-client-id' },
    enrollments: [AINO, MIKKO].map((email) => ({ email, syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' })),
    realTime,
  });

function reportFor(request: CycleRequest): CycleReport {
  const at = new Date().toISOString();
  return {
    startedAt: at,
    finishedAt: at,
    dryRun: false,
    outcome: 'ok',
    users: request.users.map((u) => ({ email: u.email, outcome: 'ok', toSevera: { created: 0, updated: 0, deleted: 0 }, toExchange: { created: 0, updated: 0, deleted: 0 }, conflicts: 0, heldDeletions: 0, changes: [], errors: [], notes: [], firstSync: false })),
    errors: [],
    requests: { severa: 0, exchange: 0 },
    clockOffsetMs: { severa: 0, exchange: 0 },
    severaDeletionLatencyCycles: 1,
  };
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let runner: SyncRunner;
let events: ChangeWatchEvents | null;
let watched: string[];
let severaRows: SeveraActivity[];
let listings: number;
let calls: Array<{ users: string[]; live: boolean }>;
let running: number;
let maxRunning: number;
let gate: Promise<void> | null;
let settings: OrgSettings;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'live-queue-'));
  // Both users synced once: real time knows their mailboxes and Severa user guids from the store.
  const store = SyncStore.open(join(dir, 'sync-store.sqlite'));
  for (const email of [AINO, MIKKO]) store.commitUserWork({ email, user: { mailbox: email, severaUserGuid: GUID[email], severaCursor: '2026-01-01T00:00:00.000Z', exchangeSyncState: `state-of-${email}` } });
  store.close();
  events = null;
  watched = [];
  severaRows = [];
  listings = 0;
  calls = [];
  running = 0;
  maxRunning = 0;
  gate = null;
  settings = settingsWith();
  const calendar = {
    watchChanges(e: ChangeWatchEvents, options: WatchChangesOptions) {
      events = e;
      expect(options.positions?.position(AINO)).toBe(`state-of-${AINO}`);
      return {
        setMailboxes: (m: readonly string[]) => void (watched = [...m]),
        modes: () => Object.fromEntries(watched.map((m) => [m, { mode: 'live' as const, since: '2026-01-01T00:00:00.000Z' }])),
        stop: async () => undefined,
      };
    },
  } as unknown as CountedCalendar;
  const severa = {
    listActivities: async () => {
      listings++;
      const rows = severaRows;
      severaRows = [];
      return rows;
    },
    listParticipants: async () => [],
    clockOffsetMs: () => 0,
  } as unknown as CountedSevera;
  const connectors: ConnectorFactory = { createCalendar: async () => calendar, createSevera: async () => severa };
  runner = new SyncRunner({
    loadSettings: () => settings,
    secrets: new EnvSecretSource({}),
    dataDir: dir,
    connectors,
    scheduler: () => ({ stop() {} }),
    cycle: async (request) => {
      calls.push({ users: request.users.map((u) => u.email), live: request.live === true });
      running++;
      maxRunning = Math.max(maxRunning, running);
      try {
        if (gate) await gate;
        return reportFor(request);
      } finally {
        running--;
      }
    },
  });
});

afterEach(async () => {
  runner.stopSchedule();
  await sleep(20);
  rmSync(dir, { recursive: true, force: true });
});

/** A scheduled cycle ran just now (so the schedule starts with nothing due), then the schedule and real time start. */
async function startLive(): Promise<void> {
  await runner.runNow();
  calls = [];
  runner.startSchedule();
  await until('real time on', () => runner.status().live?.on === true && events !== null && watched.length === 2);
}

describe('real time in the runner', () => {
  it('a burst of 50 change events for one mailbox is one live sync of that user', async () => {
    await startLive();
    for (let i = 0; i < 50; i++) {
      events!.changed(AINO);
      await sleep(3);
    }
    await until('the live sync', () => calls.length === 1);
    await sleep(800);
    expect(calls).toEqual([{ users: [AINO], live: true }]);
  });

  it('users due while a cycle runs go together into the next small cycle, and no user is synced twice at once', async () => {
    await startLive();
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    events!.changed(AINO);
    await until('the first live cycle', () => calls.length === 1);
    events!.changed(AINO);
    events!.changed(MIKKO);
    await sleep(700);
    expect(calls).toHaveLength(1);
    gate = null;
    open();
    await until('the second live cycle', () => calls.length === 2);
    expect(calls.map((c) => [...c.users].sort())).toEqual([[AINO], [AINO, MIKKO]]);
    expect(maxRunning).toBe(1);
  });

  it('a resync from the watch syncs that user, and a Severa change syncs the users it concerns', async () => {
    await startLive();
    events!.resync(MIKKO, 'missed notifications');
    await until('the resync', () => calls.length === 1);
    expect(calls[0]).toEqual({ users: [MIKKO], live: true });
    // Mikko owns a changed activity; Aino is not concerned.
    const before = listings;
    severaRows = [{ guid: '00000000-0000-4000-8000-00000000c001', name: 'Review', ownerUser: { guid: GUID[MIKKO] }, recurrenceType: 'None', lastUpdatedDateTime: new Date().toISOString() }];
    await until('the Severa change', () => calls.length === 2, 4000);
    expect(calls[1]).toEqual({ users: [MIKKO], live: true });
    expect(listings - before).toBeLessThanOrEqual(3);
  });

  it('live cycles leave the schedule and the last cycle of the status alone; a full cycle asked for meanwhile follows the live one', async () => {
    await startLive();
    const before = runner.status();
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    events!.changed(AINO);
    await until('the live cycle', () => calls.length === 1);
    const full = runner.runNow();
    await sleep(50);
    expect(calls).toHaveLength(1);
    gate = null;
    open();
    const report = await full;
    expect(report.trigger).toBeUndefined();
    expect(calls).toEqual([
      { users: [AINO], live: true },
      { users: [AINO, MIKKO], live: false },
    ]);
    expect(maxRunning).toBe(1);
    // The full cycle is the last one; the live one never was.
    const after = runner.status();
    expect(after.lastReport?.users.map((u) => u.email).sort()).toEqual([AINO, MIKKO]);
    expect(Date.parse(after.nextRunAt!)).toBeGreaterThanOrEqual(Date.parse(before.nextRunAt!));
  });

  it('shows each user live, and turns off with the setting (no watch, no listings)', async () => {
    await startLive();
    const live = runner.status().live!;
    expect(live.users[AINO].mode).toBe('live');
    expect(live.severa.mode).toBe('live');
    settings = settingsWith({ enabled: false });
    runner.tick();
    await until('real time off', () => runner.status().live?.on === false);
    expect(runner.status().live?.reason).toContain('off in the settings');
    const before = listings;
    events!.changed(AINO);
    await sleep(1500);
    expect(calls).toEqual([]);
    expect(listings).toBe(before);
  });
});
