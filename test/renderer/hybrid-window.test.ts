import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetSignIns } from '../../src-main/exchange/graph/graph-sign-in.ts';
import type { SyncRunner } from '../../src-main/runner/sync-runner.ts';
import type { SettingsStore } from '../../src-main/settings/settings-store.ts';
import { DEMO_APP, DEMO_APP_SECRET, DEMO_GRAPH_SEED } from '../exchange/graph-harness.ts';
import { loadEwsSeed, startEwsSimulator } from '../peers/ews/ews-simulator.ts';
import type { EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { loadGraphSeed, startGraphSimulator } from '../peers/graph/graph-simulator.ts';
import type { GraphSimulator } from '../peers/graph/graph-simulator.ts';
import { loadSeveraSeed, startSeveraSimulator } from '../peers/severa/severa-simulator.ts';
import type { SeveraSimulator } from '../peers/severa/severa-simulator.ts';
import { DEMO_TYPES, DEMO_USERS } from '../sync/e2e-harness.ts';
import { MemorySecrets } from './memory-secrets.ts';
import { startWindowOverRunner, type WindowOverRunner } from './window-over-runner.ts';
import type { RendererBridge } from './renderer-bridge.ts';
import { screenshotOf } from './screenshot-folder.ts';

/**
 * A hybrid organization in the real window, over the real runner and both connectors: the demo firm with Aino's and
 * Mikko's mailboxes in Exchange Online (Graph simulator) and everyone else's on the on-premises server (EWS simulator).
 * The admin adds the Exchange Online connection beside the on-premises one and fixes Leena to the on-premises server,
 * turns real time on; Test connection says where each person is synced; the status shows where each mailbox lives and
 * since when, and each person's real-time watch; "Compare both sides" lists the differences with their story and rule.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ONLINE = ['aino.virtanen@contoso.example', 'mikko.lahtinen@contoso.example'];
const AINO = 'aino.virtanen@contoso.example';

let dir: string;
let severa: SeveraSimulator;
let ews: EwsSimulator;
let graph: GraphSimulator;
let bridge: RendererBridge;
let runner: SyncRunner;
let settings: SettingsStore;
let caFile: string;
const secrets = new MemorySecrets();
let harness: WindowOverRunner;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'scs-window-hybrid-'));
  severa = await startSeveraSimulator({ seed: loadSeveraSeed(path.join(repoRoot, 'test/peers/demo/severa-demo.json')), port: 0 });
  // On-premises: everyone but the two whose mailboxes already moved to Exchange Online.
  const ewsSeed = structuredClone(loadEwsSeed(path.join(repoRoot, 'test/peers/demo/ews-demo.json'))) as { mailboxes: Array<{ primarySmtp: string }>; items: Array<{ mailbox: string }> };
  ewsSeed.mailboxes = ewsSeed.mailboxes.filter((m) => !ONLINE.includes(m.primarySmtp));
  ewsSeed.items = ewsSeed.items.filter((i) => !ONLINE.includes(i.mailbox));
  ews = await startEwsSimulator({ seed: ewsSeed as never, port: 0 });
  // Exchange Online: the whole firm is in the directory (directory sync), only Aino and Mikko have mailboxes there.
  const graphSeed = structuredClone(loadGraphSeed(path.join(repoRoot, DEMO_GRAPH_SEED))) as {
    users: Array<Record<string, unknown>>;
    events: Array<{ mailbox: string; attendees?: unknown[] }>;
  };
  for (const u of graphSeed.users) if (!ONLINE.includes(String(u.userPrincipalName))) u.mailboxState = 'none';
  graphSeed.events = graphSeed.events.filter((e) => ONLINE.includes(e.mailbox)).map((e) => ({ ...e, attendees: e.attendees?.filter((a) => ONLINE.includes(String(a))) }));
  forgetSignIns();
  graph = await startGraphSimulator({ seed: graphSeed as never, port: 0 });
  caFile = path.join(dir, 'graph-simulator-ca.pem');
  await writeFile(caFile, graph.caCertificatePem);

  // As main.ts does: the runner's status (real time included) and each report reach the window as pushes.
  harness = await startWindowOverRunner({ dir, secrets, pushRunnerEvents: true, deps: { chooseFile: async () => caFile } });
  ({ bridge, runner, settings } = harness);
  // The organization ran on its on-premises server until now; everyone turned on their sync.
  settings.saveOrg({
    schemaVersion: 1,
    exchange: { serverType: 'Exchange2016', ewsUrl: ews.url, domain: 'CONTOSO', username: 'svc-severa-sync', authMethod: 'ntlm', allowInsecureHttp: false },
    mailboxLocations: {},
    severa: { apiUrl: severa.baseUrl, clientId: 'demo-client-id', allowInsecureHttp: false },
    activityTypesToExchange: [DEMO_TYPES.meeting, DEMO_TYPES.customerVisit, DEMO_TYPES.personal],
    intervalMinutes: 15,
    windowDaysAhead: 60,
    enrollments: DEMO_USERS.map((email) => ({ email, syncStartDate: new Date().toISOString().slice(0, 10), enabledAt: '2026-11-20T08:00:00.000Z', paused: false })),
    network: { proxyMode: 'none', proxyUrl: '', proxyBypass: '', proxyUsername: '' },
    deletionGuard: { maxItems: 10, maxPercent: 20 },
  });
  secrets.values.set('exchange-delegate-password', 'demo-delegate-password');
  secrets.values.set('severa-client-secret', 'demo-client-secret');
});

afterAll(async () => {
  await harness?.close();
  await severa?.close();
  await ews?.close();
  await graph?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a hybrid organization in the settings window (Chromium, real handlers and runner, EWS and Graph simulators)', () => {
  it('admin: adds Exchange Online beside the on-premises server, fixes one person to a connection, and turns real time on', async () => {
    const { page } = bridge;
    await page.goto(`${bridge.url}#admin`);
    const second = page.locator('#second-exchange');
    await expect.poll(() => page.locator('#first-exchange').getByLabel('EWS address').inputValue()).toBe(ews.url);
    // With one connection there is no choice to make per person.
    expect(await second.locator('.places').isVisible()).toBe(false);
    await second.getByLabel('Add a second connection').check();
    // The other kind than the first: Exchange Online beside on-premises Exchange.
    expect(await second.getByLabel('Exchange server').inputValue()).toBe('Office365');
    await second.getByLabel('Tenant', { exact: true }).fill('contoso.onmicrosoft.com');
    await second.getByLabel('Application (client) id').fill(DEMO_APP);
    await second.getByLabel('Credential').selectOption('secret');
    await second.getByLabel('Client secret', { exact: true }).fill(DEMO_APP_SECRET);
    await second.getByLabel('Client secret expires on').fill('2027-06-30');
    await second.locator('details.advanced > summary').click();
    await second.getByLabel('Sign-in address').fill(graph.url);
    await second.getByLabel('Microsoft Graph address').fill(graph.url);
    await second.getByRole('button', { name: 'Choose the CA certificate file for the second connection (Exchange Online)' }).click();
    await expect.poll(() => second.locator('input[name="secondOnlineCaFile"]').inputValue()).toBe(caFile);

    // Each enrolled person, automatic unless the admin chooses; the choices name both connections.
    const leena = second.getByLabel('leena.makela@contoso.example');
    expect(await leena.inputValue()).toBe('auto');
    const host = new URL(ews.url).host;
    expect(await leena.locator('option').allTextContents()).toEqual(['Automatic (where the calendar opens)', `First connection: on-premises Exchange 2016 (${host})`, 'Second connection: Exchange Online (contoso.onmicrosoft.com)']);
    await leena.selectOption('first');
    await page.getByLabel('Sync changes within seconds (real time)').check();
    await page.getByLabel('Exchange Online: read changes every (seconds)').fill('2');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.locator('.actions .ok-text').textContent()).toContain('Saved');
    const org = settings.requireOrg();
    expect(org.secondExchange).toEqual({ serverType: 'Office365', tenantId: 'contoso.onmicrosoft.com', clientId: DEMO_APP, credential: 'secret', secretExpires: '2027-06-30', authorityHost: graph.url, graphUrl: graph.url, caFile });
    expect(org.mailboxLocations).toEqual({ 'leena.makela@contoso.example': 'first' });
    expect(org.realTime).toEqual({ enabled: true, exchangeOnlinePollSeconds: 2, ewsPollSeconds: 15, severaPollSeconds: 3 });
    expect(org.exchange).toMatchObject({ serverType: 'Exchange2016', ewsUrl: ews.url });
    expect(secrets.values.get('graph-client-secret')).toBe(DEMO_APP_SECRET);
    // The on-premises delegate password stays where it was entered; the second connection asks only for its own secret.
    expect(await second.getByLabel('Delegate password').isVisible()).toBe(false);
    await page.reload();
    await expect.poll(() => page.locator('#second-exchange').getByLabel('leena.makela@contoso.example').inputValue()).toBe('first');
    expect(await page.locator('#second-exchange').getByLabel('Tenant', { exact: true }).inputValue()).toBe('contoso.onmicrosoft.com');
    await screenshotOf(page.locator('#second-exchange'), 'admin-hybrid.png');
  });

  it('admin: Test connection checks each connection on its own, then says where each person is synced and why', async () => {
    const { page } = bridge;
    await page.locator('#test-connection').click();
    const summary = page.locator('.checks .summary');
    await expect.poll(() => summary.textContent(), { timeout: 45_000 }).toMatch(/^All \d+ checks passed\.$/);
    const where = (email: string) => page.locator(`[data-check="mailbox-location:${email}"] .check-message`).textContent();
    expect(await where(AINO)).toBe(`${AINO} is synced through Exchange Online (contoso.onmicrosoft.com): its calendar opened there.`);
    expect(await where('s.nieminen@contoso.example')).toBe(`s.nieminen@contoso.example is synced through on-premises Exchange (${new URL(ews.url).host}): its calendar opened there.`);
    expect(await where('leena.makela@contoso.example')).toMatch(/through on-premises Exchange .*: the admin chose it\.$/);
    // Each connection's own checks carry its name.
    const titles = await page.locator('.check-list .check-title').allTextContents();
    expect(titles.some((t) => t.includes('Exchange Online (contoso.onmicrosoft.com): App credential'))).toBe(true);
  });

  it('status: where each mailbox lives and since when, and each person\'s real-time watch', async () => {
    const { page } = bridge;
    await page.getByRole('tab', { name: 'Status' }).click();
    // Automatic sync starts as in the app: the first cycle at once, then real time watches both servers.
    runner.startSchedule();
    const card = (email: string) => page.locator(`[data-user="${email}"]`);
    await expect.poll(() => card(AINO).locator('.mailbox-location').textContent(), { timeout: 30_000 }).toMatch(/^Exchange Online \(contoso\.onmicrosoft\.com\), since \d{1,2} \w{3}, \d{2}:\d{2}$/);
    expect(await card('leena.makela@contoso.example').locator('.mailbox-location').textContent()).toMatch(/^on-premises Exchange \(127\.0\.0\.1:\d+\), since /);
    for (const email of DEMO_USERS) expect(await card(email).locator('.outcome-badge').textContent()).toMatch(/^Synced/);
    // Real time: each person's calendar watched (EWS streaming on-premises, Graph read every 2 s online), Severa polled.
    for (const email of DEMO_USERS) {
      await expect.poll(() => card(email).locator('.live-mode').textContent(), { timeout: 20_000 }).toMatch(/^Live since /);
    }
    expect(await page.locator('.status-card .live-summary').textContent()).toMatch(/^On \(Severa: (Live|Read every few seconds) since /);
    expect(runner.status().live?.on).toBe(true);
    await screenshotOf(page.locator('#panel-status'), 'status-hybrid-live.png');
  });

  it('status: "Compare both sides" lists each difference with its story and the rule that explains it, or none', async () => {
    const { page } = bridge;
    // Nothing syncs meanwhile: real time and the schedule stop while paused.
    await page.getByRole('button', { name: 'Pause until resumed' }).click();
    await expect.poll(() => runner.status().live?.on ?? false).toBe(false);
    // Aino moves her dentist visit in Outlook; in Severa someone renames the Fabrikam kickoff she organised in Outlook.
    const outlook = graph.mailbox(AINO);
    const dentist = outlook.list().find((e) => e.subject === 'Dentist')!;
    outlook.update(dentist.id, { location: 'Hammaslääkäri Oy, Kamppi' });
    const kickoff = severa.activities().find((a) => a.name === 'Fabrikam kickoff')!;
    severa.updateActivity(String(kickoff.guid), { name: 'Fabrikam kickoff (agenda changed)' });

    await page.getByRole('button', { name: 'Compare both sides' }).click();
    const aino = page.locator(`.audit-user[data-user="${AINO}"]`);
    await expect.poll(() => aino.count(), { timeout: 45_000 }).toBe(1);
    const rows = await aino.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    const place = rows.find(([entry, what]) => entry.startsWith('Dentist') && what === 'Place');
    expect(place, JSON.stringify(rows)).toBeDefined();
    expect(place![2]).toBe('Hammaslääkäri Oy');
    expect(place![3]).toBe('Hammaslääkäri Oy, Kamppi');
    expect(place![4]).toMatch(/^last changed in Severa .*, in Exchange .* \(Exchange later\)/);
    expect(place![5]).toBe('No rule explains this.');
    const subject = rows.find(([entry, what]) => entry.startsWith('Fabrikam kickoff') && what === 'Subject');
    expect(subject, JSON.stringify(rows)).toBeDefined();
    expect(subject![2]).toBe('Fabrikam kickoff (agenda changed)');
    expect(subject![5]).toMatch(/^Exchange Online: a meeting with attendees changes only in Outlook/);
    expect(await page.locator('.audit-results .summary').textContent()).toMatch(/^Compared .*: \d+ of \d+ synced entries agree; \d+ differences, \d+ that no rule explains\.$/);
    // People whose entries agree say so.
    expect(await page.locator('.audit-user[data-user="jussi.korhonen@contoso.example"] .badge').textContent()).toMatch(/^(\d+) of \1 entries agree$/);
    await screenshotOf(page.locator('section.audit'), 'status-audit.png');
    await page.getByRole('button', { name: 'Resume auto-sync' }).click();
  });
});
