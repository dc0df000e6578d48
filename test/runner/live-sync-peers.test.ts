/**
 * Real time end to end: the runner with its real engine, store and connectors against the EWS simulator (streaming
 * notifications) and the Severa simulator over HTTP. An Outlook edit and a Severa edit each reach the other side in a
 * live cycle of that user alone; a burst of 50 Outlook changes is one sync of that user; a missed-events error, an
 * expired subscription and a dropped streaming connection each end in a resync of the user, with the change that
 * fell into the gap synced all the same (nothing lost, nothing doubled).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgSettings, type OrgSettings } from '../../src-main/common/settings-schema.ts';
import type { CycleReport } from '../../src-main/common/sync-report.ts';
import { EnvSecretSource } from '../../src-main/runner/env-secret-source.ts';
import { SyncRunner } from '../../src-main/runner/sync-runner.ts';
import { startEwsSimulator, type EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { startSeveraSimulator, type SeveraSimulator } from '../peers/severa/severa-simulator.ts';
import { DEMO_SECRETS, ewsSeedFor, firmOf, severaSeedFor, TIME_ZONE, todayInFirm, TYPES, TYPES_TO_EXCHANGE } from '../soak/sync-world.ts';

const people = firmOf(3);
const [aino, mikko, sara] = people;

let ews: EwsSimulator;
let severa: SeveraSimulator;
let dir: string;
let runner: SyncRunner;
const reports: CycleReport[] = [];
const resyncs: Array<{ mailbox: string; reason: string }> = [];

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startIn(days: number, hour: number): number {
  const d = new Date(Date.now() + days * 86_400_000);
  d.setUTCHours(hour, 0, 0, 0);
  return d.getTime();
}

function outlookCreate(mailbox: string, subject: string, days: number, hour = 8): void {
  const start = startIn(days, hour);
  ews.mailbox(mailbox).create({ subject, start: new Date(start).toISOString(), end: new Date(start + 1_800_000).toISOString(), timeZone: TIME_ZONE });
}

const inSevera = (name: string) => severa.activities().filter((a) => a.name === name).length;
const inOutlook = (mailbox: string, subject: string) => ews.mailbox(mailbox).items().filter((i) => i.subject === subject).length;
const liveReportsSince = (n: number) => reports.slice(n).filter((r) => r.trigger === 'live');
const liveSyncsOf = (email: string, since: number) => liveReportsSince(since).filter((r) => r.users.some((u) => u.email === email)).length;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'live-peers-'));
  ews = await startEwsSimulator({ seed: ewsSeedFor(people, DEMO_SECRETS), port: 0 });
  severa = await startSeveraSimulator({ seed: severaSeedFor(people, DEMO_SECRETS), port: 0 });
  const settings: OrgSettings = orgSettings.parse({
    exchange: { serverType: 'Exchange2016', ewsUrl: ews.url, domain: 'CONTOSO', username: 'svc-severa-sync', authMethod: 'ntlm' },
    severa: { apiUrl: severa.baseUrl, clientId: 'demo-client-id' },
    activityTypesToExchange: TYPES_TO_EXCHANGE,
    windowDaysAhead: 60,
    enrollments: people.map((p) => ({ email: p.severaEmail, syncStartDate: todayInFirm(), enabledAt: new Date().toISOString() })),
    realTime: { enabled: true, severaPollSeconds: 1 },
  });
  const log = {
    info: (obj: object, msg?: string) => {
      if (msg === 'real time: resync') resyncs.push(obj as { mailbox: string; reason: string });
    },
    warn: () => {},
    error: () => {},
  };
  runner = new SyncRunner({
    loadSettings: () => settings,
    secrets: new EnvSecretSource({ SCS_EXCHANGE_PASSWORD: DEMO_SECRETS.delegatePassword, SCS_SEVERA_CLIENT_SECRET: DEMO_SECRETS.severaClientSecret }),
    dataDir: dir,
    log,
    scheduler: () => ({ stop() {} }),
  });
  runner.onReport((r) => void reports.push(r));
  const first = await runner.runNow();
  expect(first.outcome).toBe('ok');
  runner.startSchedule();
  await until('every user live', () => {
    const live = runner.status().live;
    return live?.on === true && people.every((p) => live.users[p.severaEmail]?.mode === 'live') && live.severa.mode === 'live';
  });
}, 60_000);

afterAll(async () => {
  runner?.stopSchedule();
  await sleep(200);
  await Promise.all([ews?.close(), severa?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('real time against the simulators', () => {
  it('an Outlook edit reaches Severa, and a Severa edit reaches Outlook, each in a live cycle of that user alone', async () => {
    const n = reports.length;
    outlookCreate(aino.mailbox, 'RT dentist', 3);
    await until('the Outlook entry in Severa', () => inSevera('RT dentist') === 1);
    const start = startIn(4, 9);
    severa.createActivity({ name: 'RT customer call', startDateTime: new Date(start).toISOString(), endDateTime: new Date(start + 3_600_000).toISOString(), activityType: { guid: TYPES.meeting }, ownerUser: { guid: mikko.severaGuid } });
    await until('the Severa entry in Outlook', () => inOutlook(mikko.mailbox, 'RT customer call') === 1);
    await until("the cycle's report", () => liveSyncsOf(mikko.severaEmail, n) >= 1);
    const live = liveReportsSince(n);
    expect(live.length).toBeGreaterThanOrEqual(2);
    expect(live.every((r) => r.users.length === 1)).toBe(true);
    // Only live cycles ran: the schedule's cycle of everyone did not.
    expect(reports.slice(n).every((r) => r.trigger === 'live')).toBe(true);
  });

  it('a burst of 50 Outlook changes to one calendar costs one sync of that user', async () => {
    await sleep(1500);
    const n = reports.length;
    for (let i = 0; i < 50; i++) outlookCreate(sara.mailbox, `RT burst ${i}`, 5 + (i % 20), 7 + (i % 9));
    await until('all 50 in Severa', () => Array.from({ length: 50 }, (_, i) => inSevera(`RT burst ${i}`)).every((c) => c === 1), 30_000);
    // Long enough for an echo of the sync's own writes to come back through either side, had it not been recognised.
    await sleep(3000);
    expect(liveSyncsOf(sara.severaEmail, n)).toBe(1);
  });

  for (const kind of ['missedEvents', 'expiredSubscription', 'dropConnection'] as const) {
    it(`${kind}: the user is resynced and the change whose notification was lost arrives once`, async () => {
      await sleep(1500);
      const n = reports.length;
      const resyncsBefore = resyncs.length;
      ews.setFaults({ streaming: { forceNext: { kind, count: 1 } } });
      const subject = `RT gap ${kind}`;
      outlookCreate(aino.mailbox, subject, 6, 10);
      await until('the resync of Aino', () => resyncs.slice(resyncsBefore).some((r) => r.mailbox === aino.mailbox));
      await until('the change in Severa', () => inSevera(subject) === 1);
      await sleep(1500);
      expect(inSevera(subject)).toBe(1);
      expect(liveSyncsOf(aino.severaEmail, n)).toBeGreaterThanOrEqual(1);
      expect(reports.slice(n).every((r) => r.trigger === 'live' && r.outcome === 'ok')).toBe(true);
      ews.setFaults({});
      await until('live again', () => runner.status().live?.users[aino.severaEmail]?.mode === 'live');
    });
  }
});
