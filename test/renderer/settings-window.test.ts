import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startupDialog } from '../../src-main/electron/startup-problems.ts';
import { CONTENT_SECURITY_POLICY } from '../../src-main/electron/window-security.ts';
import type { SyncRunner } from '../../src-main/runner/sync-runner.ts';
import type { SettingsStore } from '../../src-main/settings/settings-store.ts';
import { loadSeveraSeed, startSeveraSimulator } from '../peers/severa/severa-simulator.ts';
import type { SeveraSimulator } from '../peers/severa/severa-simulator.ts';
import { loadEwsSeed, startEwsSimulator } from '../peers/ews/ews-simulator.ts';
import type { EwsSimulator } from '../peers/ews/ews-simulator.ts';
import type { RendererBridge } from './renderer-bridge.ts';
import { startRequestGateProxy } from './request-gate-proxy.ts';
import { MemorySecrets } from './memory-secrets.ts';
import { startWindowOverRunner, type WindowOverRunner } from './window-over-runner.ts';
import { screenshot, screenshotFolder } from './screenshot-folder.ts';
import type { RequestGateProxy } from './request-gate-proxy.ts';
import { startupDialogPage } from './startup-dialog-page.ts';
import { startCountingProxy } from '../net/counting-proxy.ts';
import type { CountingProxy } from '../net/counting-proxy.ts';
import { createTestCa } from '../peers/graph/test-ca.ts';
import { writeFile } from 'node:fs/promises';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const screenshots = screenshotFolder();

let dir: string;
let severa: SeveraSimulator;
let ews: EwsSimulator;
/** The window talks to Exchange through this pass-through, which can hold one request back while the test looks. */
let ewsGate: RequestGateProxy;
let ewsUrl: string;
let bridge: RendererBridge;
let runner: SyncRunner;
let settings: SettingsStore;
const secrets = new MemorySecrets();
let harness: WindowOverRunner;
/** The company proxy in front of both servers (on loopback), counting what it relays; it wants a Basic login. */
let proxy: CountingProxy;
/** A CA certificate file, as the Choose… button's file dialog picks it. */
let caFile: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'scs-window-'));
  severa = await startSeveraSimulator({ seed: loadSeveraSeed(path.join(repoRoot, 'test/peers/demo/severa-demo.json')), port: 0 });
  // The demo firm, except that the delegate may not impersonate Jussi: his sync fails with a fix to show.
  const ewsSeed = loadEwsSeed(path.join(repoRoot, 'test/peers/demo/ews-demo.json'));
  ewsSeed.delegates![0].impersonation = ewsSeed.mailboxes.map((m) => m.primarySmtp).filter((a) => a !== 'jussi.korhonen@contoso.example');
  ews = await startEwsSimulator({ seed: ewsSeed, port: 0 });
  ewsGate = await startRequestGateProxy(Number(new URL(ews.url).port));
  ewsUrl = ews.url.replace(/:\d+\//, `:${ewsGate.port}/`);
  proxy = await startCountingProxy({ login: { kind: 'basic', username: 'svc-proxy', password: 'proxy-password-1' } });
  caFile = path.join(dir, 'contoso-proxy-ca.pem');
  await writeFile(caFile, createTestCa('Contoso proxy CA (test)').certPem);
  harness = await startWindowOverRunner({
    dir,
    secrets,
    deps: {
      // Where Electron keeps an app's logs on Linux (the window only shows the path; this test writes no log).
      logPath: '/home/aino/.config/Severa Calendar Sync/logs/severa-calendar-sync.log',
      exportLog: async () => path.join(dir, 'exported.log'),
      today: () => '2026-11-20',
      chooseFile: async () => caFile,
    },
  });
  ({ bridge, runner, settings } = harness);
});

afterAll(async () => {
  await harness?.close();
  await ewsGate?.close();
  await proxy?.close();
  await severa?.close();
  await ews?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('settings window in headless Chromium over the real request handlers and runner', () => {
  it('first run is a guided welcome: setting up (not an error, not green), Sync now waits, three steps; opens the admin section by keyboard', async () => {
    const { page } = bridge;
    const response = await page.goto(`${bridge.url}#status`);
    expect(response?.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    await expect.poll(() => page.locator('#state-pill').textContent()).toBe('Setting up');
    expect(await page.locator('#state-pill').getAttribute('class')).toBe('state-pill pill-setup');
    expect(await page.locator('.status-card .state').getAttribute('class')).toBe('state state-setup');
    expect(await page.locator('.status-card .state-hint').textContent()).toBe('Automatic sync starts once the admin settings are saved (Admin).');
    expect(await page.locator('#sync-now').isDisabled()).toBe(true);
    // Nothing on the page is an error: no alert, no red problem box.
    expect(await page.locator('#panel-status [role="alert"]').count()).toBe(0);
    const steps = page.locator('#panel-status .setup-step');
    expect(await steps.evaluateAll((items) => items.map((i) => `${i.getAttribute('data-step')} ${i.querySelector('.step-state')?.textContent}`))).toEqual(['settings Next', 'test Later', 'enable Later']);
    await screenshot(page, 'first-run-status.png');

    await page.getByRole('tab', { name: 'Status' }).focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => page.getByRole('tab', { name: 'Admin' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.getByRole('heading', { name: 'Admin settings' }).isVisible()).toBe(true);
    await expect.poll(() => page.locator('#panel-admin .setup-guide').isVisible()).toBe(true);
    expect(await page.locator('#panel-admin .step-current .step-title').textContent()).toBe('Fill in the Exchange and Severa settings, then save');
    await screenshot(page, 'first-run.png');
  });

  it('admin: saving the empty form counts the fields it marks, and an empty address is "Enter the address."', async () => {
    const { page } = bridge;
    await page.getByLabel('Severa API address').fill('');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const status = page.locator('.actions .callout-error .callout-message');
    await expect.poll(() => status.textContent()).toMatch(/^Not saved: \d+ fields need attention\.$/);
    const marked = await page.locator('#panel-admin [aria-invalid="true"]').count();
    expect(await status.textContent()).toBe(`Not saved: ${marked} fields need attention.`);
    expect(marked).toBe(4);
    const ewsError = page.locator('#' + (await page.getByLabel('EWS address').getAttribute('id')) + '-error');
    expect(await ewsError.textContent()).toBe('Enter the address.');
    expect(settings.loadOrg()).toBeNull();
    await page.getByLabel('Severa API address').fill('https://api.severa.visma.com/rest-api');
  });

  it('admin: shows field problems, explains Office 365, then saves settings and secrets write-only', async () => {
    const { page } = bridge;
    await page.getByLabel('Exchange server').selectOption('Office365');
    const note = page.locator('#first-exchange .callout-info');
    await expect.poll(() => note.isVisible()).toBe(true);
    expect(await note.textContent()).toMatch(/signs in as an app registered in Microsoft Entra ID.*No delegate account and no user password/s);
    expect(await page.getByLabel('Delegate password').isVisible()).toBe(false);
    expect(await page.getByLabel('Tenant', { exact: true }).isVisible()).toBe(true);
    await page.getByLabel('Exchange server').selectOption('Exchange2019');

    await page.getByLabel('EWS address').fill('ftp://mail.contoso.example/EWS/Exchange.asmx');
    await page.getByLabel('Delegate user name').fill('svc-severa-sync@contoso.example');
    await page.getByLabel('Severa API address').fill(severa.baseUrl);
    await page.getByLabel('Severa API client id').fill('demo-client-id');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const ewsError = page.locator('#' + (await page.getByLabel('EWS address').getAttribute('id')) + '-error');
    await expect.poll(() => ewsError.textContent()).toMatch(/Only https:\/\/ addresses/);
    expect(await page.getByLabel('EWS address').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('.actions .callout-message').textContent()).toBe('Not saved: one field needs attention.');
    expect(settings.loadOrg()).toBeNull();

    await page.getByLabel('EWS address').fill(ewsUrl);
    // A UPN as the user name: no NetBIOS domain needed.
    await page.getByLabel('NetBIOS domain').fill('');
    await page.getByLabel('Delegate password').fill('not-the-delegate-password');
    await page.getByLabel('Severa API client secret').fill('demo-client-secret');
    await page.getByLabel('Sync every (minutes)').fill('10');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.locator('.actions .ok-text').textContent()).toContain('Saved');

    expect(settings.loadOrg()).toMatchObject({ exchange: { serverType: 'Exchange2019', ewsUrl, domain: '', username: 'svc-severa-sync@contoso.example' }, severa: { apiUrl: severa.baseUrl, clientId: 'demo-client-id' }, intervalMinutes: 10 });
    expect(secrets.values.get('exchange-delegate-password')).toBe('not-the-delegate-password');
    expect(secrets.values.get('severa-client-secret')).toBe('demo-client-secret');
    // Write-only: the fields are emptied, the page only learns that a value is stored.
    expect(await page.getByLabel('Delegate password').inputValue()).toBe('');
    expect(await page.getByLabel('Delegate password').getAttribute('placeholder')).toBe('Stored — type to replace');
    // The guide moves on: settings done, Test connection next.
    await expect.poll(() => page.locator('#panel-admin .setup-step[data-step="settings"] .step-state').textContent()).toBe('Done');
    expect(await page.locator('#panel-admin .setup-step[data-step="test"] .step-state').textContent()).toBe('Next');
    await page.reload();
    await expect.poll(() => page.getByLabel('Severa API client id').inputValue()).toBe('demo-client-id');
    const html = await page.content();
    for (const secret of secrets.values.values()) expect(html).not.toContain(secret);
    await screenshot(page, 'admin.png');
  });

  it('admin: Test connection shows each check as it completes: a failing check with its fix (wrong delegate password), and after the fix every check passes', async () => {
    const { page } = bridge;
    const login = page.locator('[data-check="delegate-login"]');
    const summary = page.locator('.checks .summary');
    expect(await summary.textContent()).toMatch(/^Not run yet/);
    await page.getByRole('button', { name: 'Test connection' }).first().click();
    await expect.poll(() => login.getAttribute('class'), { timeout: 30_000 }).toContain('check-failed');
    expect(await login.locator('.check-fix').textContent()).toMatch(/^Fix: \S/);
    expect(await page.locator('[data-check="severa-credentials"]').getAttribute('class')).toContain('check-ok');
    await expect.poll(() => summary.textContent()).toBe('1 of 5 checks failed.');
    expect(await page.locator('.check-running').count()).toBe(0);
    await page.locator('.checks').scrollIntoViewIfNeeded();
    await screenshot(page, 'test-connection.png');
    await expect.poll(() => page.locator('#panel-admin .setup-step[data-step="test"] .step-state').textContent()).toBe('Failed: see the fixes below');

    // A changed setting: the old results say nothing about it any more, so they go.
    await page.getByLabel('Delegate password').fill('demo-delegate-password');
    await expect.poll(() => summary.textContent()).toBe('The settings changed since the last test. Save them, then test again.');
    expect(await page.locator('.check-list [data-check]').count()).toBe(0);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => secrets.values.get('exchange-delegate-password')).toBe('demo-delegate-password');

    // The delegate login (EWS ResolveNames) is held at the gate: the checks before it are on screen, it is still running.
    const held = ewsGate.hold('ResolveNames');
    await page.locator('#test-connection').click();
    await held;
    const shownIds = () => page.locator('.check-list [data-check]').evaluateAll((items) => items.map((i) => `${i.getAttribute('data-check')} ${i.classList.contains('check-ok') ? 'ok' : 'failed'}`));
    await expect.poll(shownIds).toEqual(['severa-credentials ok', 'ews-url ok', 'tls ok']);
    expect(await page.locator('.check-list .check-running').isVisible()).toBe(true);
    expect(await page.locator('.check-list .check-running').textContent()).toContain('Checking…');
    expect(await summary.textContent()).toBe('Testing the connection to Severa and Exchange…');
    expect(await page.locator('#test-connection').isDisabled()).toBe(true);
    // The list is a polite live region announcing additions; the running row is not read out.
    expect(await page.locator('.check-list').getAttribute('aria-live')).toBe('polite');
    expect(await page.locator('.check-list').getAttribute('aria-relevant')).toBe('additions');
    expect(await page.locator('.check-running').getAttribute('aria-hidden')).toBe('true');
    await page.locator('.checks').scrollIntoViewIfNeeded();
    await screenshot(page, 'test-connection-running.png');

    ewsGate.release();
    await expect.poll(() => login.getAttribute('class'), { timeout: 30_000 }).toContain('check-ok');
    await expect.poll(() => summary.textContent()).toMatch(/^All \d+ checks passed\.$/);
    expect(await login.textContent()).toContain('svc-severa-sync@contoso.example');
    expect(await shownIds()).toEqual(['severa-credentials ok', 'ews-url ok', 'tls ok', 'delegate-login ok', 'clock ok', 'severa-clock ok']);
    expect(await page.locator('.check-running').count()).toBe(0);
    expect(await page.locator('#test-connection').isEnabled()).toBe(true);
    await screenshot(page, 'test-connection-passed.png');
    await expect.poll(() => page.locator('#panel-admin .setup-step[data-step="enable"] .step-state').textContent()).toBe('Next');
  });

  it('admin: the proxy, its login and a CA certificate file are set in the window; Test connection proves the path through the proxy on loopback', async () => {
    const { page } = bridge;
    await page.getByLabel('Proxy', { exact: true }).selectOption('manual');
    await page.getByLabel('Proxy address').fill(proxy.url);
    await page.getByLabel('Proxy user name (optional)').fill('svc-proxy');
    await page.getByLabel('Proxy password').fill('proxy-password-1');
    await page.getByRole('button', { name: 'Choose the CA certificate file for Severa' }).click();
    const severaCa = page.locator('input[name="severaCaFile"]');
    await expect.poll(() => severaCa.inputValue()).toBe(caFile);
    expect(await page.getByLabel('Allow http:// (unencrypted) for Severa').isChecked()).toBe(false);
    expect(await page.getByLabel('Hold deletions above (entries)').inputValue()).toBe('10');
    await page.getByLabel('Hold deletions above (entries)').fill('25');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => settings.loadOrg()?.network).toEqual({ proxyMode: 'manual', proxyUrl: proxy.url, proxyBypass: '', proxyUsername: 'svc-proxy' });
    expect(settings.loadOrg()).toMatchObject({ severa: { caFile }, deletionGuard: { maxItems: 25, maxPercent: 20 } });
    await expect.poll(() => secrets.values.get('proxy-password')).toBe('proxy-password-1');

    const before = proxy.total();
    await page.locator('#test-connection').click();
    const summary = page.locator('.checks .summary');
    await expect.poll(() => summary.textContent(), { timeout: 30_000 }).toMatch(/^All \d+ checks passed\.$/);
    expect(await page.locator('[data-check="network"] .check-message').textContent()).toBe(
      `Severa is reached through the proxy 127.0.0.1:${proxy.port} (the app settings); Exchange through the proxy 127.0.0.1:${proxy.port} (the app settings).`,
    );
    expect(proxy.countFor(Number(new URL(severa.baseUrl).port))).toBeGreaterThan(0);
    expect(proxy.countFor(ewsGate.port)).toBeGreaterThan(0);
    expect(proxy.total()).toBeGreaterThan(before);
    await page.locator('#network-settings').scrollIntoViewIfNeeded();
    await screenshot(page, 'admin-network.png');
  });

  it('admin: activity types come from Severa, project tasks and inactive types cannot be chosen', async () => {
    const { page } = bridge;
    await page.getByRole('button', { name: 'Load from Severa' }).click();
    const task = page.getByLabel('Project task');
    await expect.poll(() => task.count()).toBe(1);
    expect(await task.isDisabled()).toBe(true);
    expect(await page.locator('.type-item', { hasText: 'Project task' }).textContent()).toContain('never synced');
    expect(await page.getByLabel('Old type').isDisabled()).toBe(true);
    await page.getByLabel('Meeting').check();
    await page.getByLabel('Customer visit').check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => settings.loadOrg()?.activityTypesToExchange.sort()).toEqual(['00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b2']);
    await page.locator('.type-list').scrollIntoViewIfNeeded();
    await screenshot(page, 'admin-activity-types.png');
  });

  it('my sync: a wrong mailbox password is refused with the fix; the right one enables sync without keeping it', async () => {
    const { page } = bridge;
    await page.getByRole('tab', { name: 'My sync' }).click();
    await page.getByLabel('Your email address').fill('s.nieminen@contoso.example');
    await page.getByLabel('Your mailbox password').fill('not-my-password');
    await page.getByRole('button', { name: 'Turn on my sync' }).click();
    const alert = page.locator('#panel-personal [role="alert"]');
    await expect.poll(() => alert.textContent()).toMatch(/did not accept this address and password/);
    expect(await alert.textContent()).toContain('Fix:');
    expect(settings.loadOrg()!.enrollments).toEqual([]);

    await page.getByLabel('Your mailbox password').fill('demo-sara-password');
    await page.getByRole('button', { name: 'Turn on my sync' }).click();
    await expect.poll(() => page.locator('.enabled-line').textContent()).toContain('s.nieminen@contoso.example');
    const identity = await page.locator('table.identity').textContent();
    expect(identity).toContain('Severa knows this address');
    expect(identity).toContain('secondary address of sara.nieminen@contoso.example');
    expect(settings.loadOrg()!.enrollments).toEqual([expect.objectContaining({ email: 's.nieminen@contoso.example', syncStartDate: '2026-11-20', paused: false })]);
    expect(settings.local().myEmail).toBe('s.nieminen@contoso.example');
    expect(JSON.stringify(settings.loadOrg())).not.toContain('demo-sara-password');
    expect([...secrets.values.values()]).not.toContain('demo-sara-password');
    // This computer's preferences: kept as soon as they are changed.
    expect(await page.getByLabel('Problems only').isChecked()).toBe(true);
    await page.getByLabel('Everything').check();
    await expect.poll(() => settings.local().notifications).toBe('all');
    await page.getByLabel('Problems only').check();
    await expect.poll(() => settings.local().notifications).toBe('errors');
    expect(await page.locator('#start-delay').isDisabled()).toBe(true);
    await screenshot(page, 'personal.png');
  });

  it('status: Sync now runs a real cycle; the status shows each person and an error with its fix; pause and resume', async () => {
    const { page } = bridge;
    // Jussi turned his sync on from his own desktop; the delegate may not open his mailbox (see the EWS seed above).
    const org = settings.requireOrg();
    settings.saveOrg({ ...org, enrollments: [...org.enrollments, { email: 'jussi.korhonen@contoso.example', syncStartDate: '2026-11-20', enabledAt: '2026-11-20T08:00:00.000Z', paused: false }] });
    await page.getByRole('tab', { name: 'Status' }).click();
    // Automatic sync starts as in the app (its first cycle is due at once); Sync now joins that cycle, never a second one.
    runner.startSchedule();
    await page.getByRole('button', { name: 'Sync now' }).click();
    const card = page.locator('[data-user="s.nieminen@contoso.example"]');
    await expect.poll(() => card.count()).toBe(1);
    const jussi = page.locator('[data-user="jussi.korhonen@contoso.example"]');
    await expect.poll(() => jussi.locator('[data-code="impersonation-denied"]').count(), { timeout: 30_000 }).toBe(1);
    expect(await jussi.locator('.outcome-badge').textContent()).toBe('Failed');
    expect(await jussi.locator('[data-code="impersonation-denied"] .callout-fix').textContent()).toMatch(/^Fix: .*ApplicationImpersonation/);
    expect(await card.locator('.outcome-badge').textContent()).toMatch(/^Synced/);
    expect(await card.locator('dd').nth(1).textContent()).toMatch(/\d+ new|no changes/);
    await expect.poll(() => page.locator('#sync-now').isEnabled()).toBe(true);
    // The schedule put the next cycle one interval (10 minutes) after this one.
    expect(runner.status().nextRunAt).toBeDefined();
    expect(await page.locator('.status-card .facts dd').nth(1).textContent()).toMatch(/^\d{1,2} \w{3}, \d{2}:\d{2}$/);
    await screenshot(page, 'status-with-error.png');

    // The per-entry report: each entry the sync created, updated or deleted, by name, date, direction and reason.
    const report = card.locator('details.change-report');
    expect(await report.locator('summary').textContent()).toMatch(/^Changed entries \(\d+\)$/);
    await report.locator('summary').click();
    const rows = report.locator('tbody tr');
    expect(await rows.count()).toBeGreaterThan(0);
    const sara = settings.requireOrg().enrollments.find((e) => e.email === 's.nieminen@contoso.example')!;
    expect(sara).toBeTruthy();
    const texts = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    for (const [subject, date, what, why] of texts) {
      expect(subject).toMatch(/\S/);
      expect(date).toMatch(/\d/);
      expect(what).toMatch(/^(Created|Updated) in (Exchange \(from Severa\)|Severa \(from Exchange\))$|^Deleted in (Exchange|Severa)$/);
      expect(why).toMatch(/\S/);
    }
    expect(texts.some(([, , what]) => what.startsWith('Created in Exchange (from Severa)'))).toBe(true);
    expect(texts.some(([, , what]) => what.startsWith('Created in Severa (from Exchange)'))).toBe(true);
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'status-changes.png');
    await report.locator('summary').click();

    await page.getByRole('button', { name: 'Pause until resumed' }).click();
    await expect.poll(() => page.locator('#state-pill').textContent()).toContain('Paused until resumed');
    await page.getByRole('button', { name: 'Resume auto-sync' }).click();
    await expect.poll(() => page.locator('#state-pill').textContent()).not.toContain('Paused');
  });

  it('status: an item deleted in Exchange is deleted in Severa by the sync, listed under "Deleted by the sync", and restored from there', async () => {
    const { page } = bridge;
    const severaNames = new Set(severa.activities().map((a) => String(a.name)));
    const sara = ews.mailbox('sara.nieminen@contoso.example');
    const victim = sara.items().find((i) => severaNames.has(i.subject) && !('recurrence' in i && (i as { recurrence?: unknown }).recurrence));
    expect(victim, 'a paired single item in Sara\'s calendar').toBeTruthy();
    sara.delete(victim!.id);
    await page.getByRole('button', { name: 'Sync now' }).click();
    const row = page.locator('.journal-table tbody tr', { hasText: victim!.subject });
    await expect.poll(() => row.count(), { timeout: 30_000 }).toBe(1);
    expect(await row.textContent()).toContain('Severa');
    expect(severa.activities().some((a) => a.name === victim!.subject)).toBe(false);
    await page.locator('.journal').scrollIntoViewIfNeeded();
    await screenshot(page, 'status-journal.png');
    await row.getByRole('button', { name: 'Restore' }).click();
    await expect.poll(() => row.getByRole('button').textContent()).toBe('Restored');
    expect(severa.activities().some((a) => a.name === victim!.subject)).toBe(true);
  });

  it('a notification click (navigate push) opens the status; progress pushes show', async () => {
    const { page } = bridge;
    await page.getByRole('tab', { name: 'Admin' }).click();
    await bridge.push('navigate', { section: 'status' });
    await expect.poll(() => page.getByRole('tab', { name: 'Status' }).getAttribute('aria-selected')).toBe('true');
    await bridge.push('status', { state: 'syncing', consecutiveFailures: 0, progress: { usersDone: 1, usersTotal: 3, currentUser: 'aino.virtanen@contoso.example', entriesDone: 1240, secondsLeft: 400, startedAt: '2026-11-20T08:00:00Z' } });
    await expect.poll(() => page.locator('#sync-progress').count()).toBe(1);
    // A long first sync: people done, entries written so far, and the time left.
    expect(await page.locator('.progress-detail').textContent()).toBe('1/3 people (33%) · 1,240 entries written · about 7 min left');
    expect(await page.locator('#sync-progress').getAttribute('aria-valuetext')).toBe('1 of 3 people done, about 7 min left');
    await bridge.push('status', { state: 'idle', consecutiveFailures: 0 });
  });

  it('a damaged settings file at start: the dialog the app shows (its content rendered as a page)', async () => {
    const model = startupDialog({
      kind: 'settings-corrupt',
      file: '/home/aino/.config/Severa Calendar Sync/settings.json',
      reason: "it is not valid JSON (Expected ',' or '}' after property value in JSON at position 412)",
      copy: '/home/aino/.config/Severa Calendar Sync/settings.broken-2026-11-20T08-15-00.json',
    });
    const page = await bridge.page.context().newPage();
    await page.setViewportSize({ width: 620, height: 420 });
    await page.setContent(startupDialogPage(model));
    expect(await page.getByRole('alertdialog').textContent()).toContain('The settings file is damaged, so the app cannot read its settings.');
    expect(await page.locator('.buttons button').allTextContents()).toEqual(['Start from the defaults', 'Quit']);
    await page.screenshot({ path: path.join(screenshots, 'startup-settings-damaged.png') });
    await page.close();
  });

  it('a page from any other origin is refused by the sender check', async () => {
    const other = await bridge.page.context().newPage();
    await other.setContent('<p>not the app</p>');
    const outcome = await other.evaluate(async () => {
      try {
        await (window as unknown as { severaSync: { invoke(c: string): Promise<unknown> } }).severaSync.invoke('status:get');
        return 'answered';
      } catch (error) {
        return (error as { code?: string }).code;
      }
    });
    expect(outcome).toBe('untrusted-sender');
    await other.close();
  });
});
