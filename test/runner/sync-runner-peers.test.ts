import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgSettings } from '../../src-main/common/settings-schema.ts';
import type { OrgSettings } from '../../src-main/common/settings-schema.ts';
import { EnvSecretSource } from '../../src-main/runner/env-secret-source.ts';
import { SyncRunner } from '../../src-main/runner/sync-runner.ts';
import { loadEwsSeed, startEwsSimulator } from '../peers/ews/ews-simulator.ts';
import type { EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { loadSeveraSeed, startSeveraSimulator } from '../peers/severa/severa-simulator.ts';
import type { SeveraSimulator } from '../peers/severa/severa-simulator.ts';

/** The runner with its real connectors and engine against both simulators over HTTP. */

const demo = (name: string) => join(import.meta.dirname, '..', 'peers', 'demo', name);

let ews: EwsSimulator;
let severa: SeveraSimulator;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'runner-peers-'));
  const ewsSeed = loadEwsSeed(demo('ews-demo.json'));
  // Jussi's mailbox is left out of the delegate's impersonation rights, as an admin might forget to add him.
  ewsSeed.delegates = ewsSeed.delegates!.map((d) => ({
    ...d,
    impersonation: ['aino.virtanen@contoso.example', 'mikko.lahtinen@contoso.example', 'sara.nieminen@contoso.example', 'leena.makela@contoso.example'],
  }));
  ews = await startEwsSimulator({ seed: ewsSeed, port: 0 });
  severa = await startSeveraSimulator({ seed: loadSeveraSeed(demo('severa-demo.json')), port: 0 });
});
afterAll(async () => {
  await Promise.all([ews?.close(), severa?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const settingsFor = (emails: string[]): OrgSettings =>
  orgSettings.parse({
    exchange: { serverType: 'Exchange2016', ewsUrl: ews.url, domain: 'CONTOSO', username: 'svc-severa-sync', authMethod: 'ntlm' },
    severa: { apiUrl: severa.baseUrl, clientId: 'demo-client-id' },
    activityTypesToExchange: ['00000000-0000-4000-8000-0000000000b1'],
    enrollments: emails.map((email) => ({ email, syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' })),
  });

const secrets = (severaSecret: string) => new EnvSecretSource({ SCS_EXCHANGE_PASSWORD: 'demo-delegate-password', SCS_SEVERA_CLIENT_SECRET: severaSecret });

describe('SyncRunner.check against the simulators', () => {
  it('passes every check for users the delegate may impersonate, found by primary or secondary address', async () => {
    const runner = new SyncRunner({ loadSettings: () => settingsFor(['aino.virtanen@contoso.example', 's.nieminen@contoso.example']), secrets: secrets('demo-client-secret'), dataDir: join(dir, 'a') });
    const results = await runner.check();
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const ids = results.map((r) => r.id);
    for (const id of ['severa-credentials', 'severa-user:s.nieminen@contoso.example', 'ews-url', 'delegate-login', 'mailbox:s.nieminen@contoso.example', 'impersonation:s.nieminen@contoso.example', 'clock', 'severa-clock']) {
      expect(ids).toContain(id);
    }
    expect(results.find((r) => r.id === 'mailbox:s.nieminen@contoso.example')?.message).toContain('sara.nieminen@contoso.example');
  });

  it("reports each check as it completes, in order: Severa's come before Exchange is asked, each Exchange check after its requests", async () => {
    const runner = new SyncRunner({ loadSettings: () => settingsFor(['aino.virtanen@contoso.example', 'jussi.korhonen@contoso.example']), secrets: secrets('demo-client-secret'), dataDir: join(dir, 'c') });
    const before = ews.counters().total;
    let resolved = false;
    const seen: { id: string; index: number; ewsRequests: number; afterResolve: boolean }[] = [];
    const results = await runner
      .check({ onResult: (r, index) => seen.push({ id: r.id, index, ewsRequests: ews.counters().total - before, afterResolve: resolved }) })
      .finally(() => (resolved = true));
    // Every result exactly once, in the order of the final list, all before check() resolved.
    expect(seen.map((s) => s.id)).toEqual(results.map((r) => r.id));
    expect(seen.map((s) => s.index)).toEqual(results.map((_, i) => i));
    expect(seen.some((s) => s.afterResolve)).toBe(false);
    // One by one, not all at the end: when Severa's first check arrived Exchange had not been asked anything yet,
    // and the Exchange requests seen grow along the list.
    const at = (id: string) => seen.find((s) => s.id === id)!.ewsRequests;
    expect(at('severa-credentials')).toBe(0);
    expect(at('severa-user:jussi.korhonen@contoso.example')).toBe(0);
    expect(at('delegate-login')).toBeGreaterThan(0);
    expect(at('impersonation:jussi.korhonen@contoso.example')).toBeGreaterThan(at('delegate-login'));
    expect(seen.map((s) => s.ewsRequests)).toEqual([...seen.map((s) => s.ewsRequests)].sort((a, b) => a - b));
    expect(results.find((r) => r.id === 'impersonation:jussi.korhonen@contoso.example')?.ok).toBe(false);
  });

  it('fails with the reason and the fix for a wrong Severa secret and a mailbox without impersonation rights', async () => {
    const runner = new SyncRunner({ loadSettings: () => settingsFor(['jussi.korhonen@contoso.example']), secrets: secrets('wrong-secret'), dataDir: join(dir, 'b') });
    const results = await runner.check();
    const failed = Object.fromEntries(results.filter((r) => !r.ok).map((r) => [r.id, r]));
    expect(Object.keys(failed).sort()).toEqual(['impersonation:jussi.korhonen@contoso.example', 'severa-credentials']);
    expect(failed['severa-credentials'].message).toBe('Severa refused the client id demo-client-id with this secret.');
    expect(failed['impersonation:jussi.korhonen@contoso.example'].fix).toContain('New-ManagementRoleAssignment');
  });
});

describe('SyncRunner cycles against the simulators', () => {
  /** The mailboxes of a cycle's EWS calendar requests, in the order they came (consecutive repeats folded). */
  async function mailboxOrder(usersAtOnce: number | undefined, sub: string): Promise<string[]> {
    const order: string[] = [];
    const own = await startEwsSimulator({
      seed: loadEwsSeed(demo('ews-demo.json')),
      port: 0,
      onRequest: (e) => {
        if (e.mailbox && e.operation && /^(FindItem|GetItem|SyncFolderItems|CreateItem|UpdateItem|DeleteItem)$/.test(e.operation)) order.push(e.mailbox.toLowerCase());
      },
    });
    try {
      const emails = ['aino.virtanen@contoso.example', 'mikko.lahtinen@contoso.example', 's.nieminen@contoso.example', 'leena.makela@contoso.example'];
      const base = settingsFor(emails);
      const settings = orgSettings.parse({ ...base, exchange: { ...base.exchange, ewsUrl: own.url }, ...(usersAtOnce ? { usersAtOnce } : {}) });
      const runner = new SyncRunner({ loadSettings: () => settings, secrets: secrets('demo-client-secret'), dataDir: join(dir, sub) });
      const report = await runner.runNow();
      expect(report.users.map((u) => [u.outcome, u.errors.map((e) => e.message)])).toEqual(emails.map(() => ['ok', []]));
    } finally {
      await own.close();
    }
    return order.filter((m, i) => i === 0 || order[i - 1] !== m);
  }

  it('usersAtOnce 1 syncs the users one after the other: each mailbox is asked in one unbroken run, in enrollment order', { timeout: 60_000 }, async () => {
    const runs = await mailboxOrder(1, 'one-at-a-time');
    expect(runs).toEqual(['aino.virtanen@contoso.example', 'mikko.lahtinen@contoso.example', 'sara.nieminen@contoso.example', 'leena.makela@contoso.example']);
  });

  it('without usersAtOnce the users read side by side (each mailbox asked in more than one run)', { timeout: 60_000 }, async () => {
    const runs = await mailboxOrder(undefined, 'side-by-side');
    expect(new Set(runs).size).toBe(4);
    expect(runs.length).toBeGreaterThan(4);
  });

  it('refuses usersAtOnce outside 1-27', () => {
    for (const bad of [0, 28, 1.5]) expect(orgSettings.safeParse({ ...settingsFor([]), usersAtOnce: bad }).success).toBe(false);
  });
});
