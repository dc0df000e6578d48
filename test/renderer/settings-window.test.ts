import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Conf from 'conf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretName, SecretSink, SecretSource } from '../../src-main/common/secrets-contract.ts';
import { SECRET_NAMES } from '../../src-main/common/secrets-contract.ts';
import type { OrgSettings } from '../../src-main/common/settings-schema.ts';
import { createPeerLookups } from '../../src-main/electron/peer-lookups.ts';
import { recordCycle } from '../../src-main/electron/user-status-book.ts';
import type { UserStatusBook } from '../../src-main/electron/user-status-book.ts';
import { createWindowRequestHandlers } from '../../src-main/electron/window-requests.ts';
import { CONTENT_SECURITY_POLICY } from '../../src-main/electron/window-security.ts';
import { SyncRunner } from '../../src-main/runner/sync-runner.ts';
import { SettingsStore } from '../../src-main/settings/settings-store.ts';
import { loadSeveraSeed, startSeveraSimulator } from '../peers/severa/severa-simulator.ts';
import type { SeveraSimulator } from '../peers/severa/severa-simulator.ts';
import { loadEwsSeed, startEwsSimulator } from '../peers/ews/ews-simulator.ts';
import type { EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { buildRenderer, startRendererBridge } from './renderer-bridge.ts';
import type { RendererBridge } from './renderer-bridge.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const screenshots = path.join(repoRoot, 'docs', 'screenshots');

/** The keychain's stand-in for this test (the real keychain is tested in test/secrets): same read and write contracts. */
class MemorySecrets implements SecretSource, SecretSink {
  readonly values = new Map<SecretName, string>();
  async get(name: SecretName) {
    return this.values.get(name) ?? null;
  }
  async set(name: SecretName, value: string) {
    this.values.set(name, value);
  }
  async delete(name: SecretName) {
    this.values.delete(name);
  }
  async has(name: SecretName) {
    return this.values.has(name);
  }
  async stored() {
    return Object.fromEntries(SECRET_NAMES.map((n) => [n, this.values.has(n)])) as Record<SecretName, boolean>;
  }
}

let dir: string;
let severa: SeveraSimulator;
let ews: EwsSimulator;
let bridge: RendererBridge;
let settings: SettingsStore;
const secrets = new MemorySecrets();
let book: UserStatusBook = {};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'scs-window-'));
  await mkdir(screenshots, { recursive: true });
  await buildRenderer(path.join(dir, 'renderer'));
  severa = await startSeveraSimulator({ seed: loadSeveraSeed(path.join(repoRoot, 'test/peers/demo/severa-demo.json')), port: 0 });
  // The demo firm, except that the delegate may not impersonate Jussi: his sync fails with a fix to show.
  const ewsSeed = loadEwsSeed(path.join(repoRoot, 'test/peers/demo/ews-demo.json'));
  ewsSeed.delegates![0].impersonation = ewsSeed.mailboxes.map((m) => m.primarySmtp).filter((a) => a !== 'jussi.korhonen@contoso.example');
  ews = await startEwsSimulator({ seed: ewsSeed, port: 0 });
  settings = new SettingsStore(new Conf<Record<string, unknown>>({ cwd: dir, configName: 'settings', projectName: 'severa-calendar-sync-test' }));
  // The runner and the lookups use the product's own connector factory: the real Severa client and EWS connector.
  const runner = new SyncRunner({ loadSettings: () => settings.requireOrg(), secrets, dataDir: path.join(dir, 'data') });
  runner.onReport((report) => (book = recordCycle(book, report)));
  const handlers = createWindowRequestHandlers({
    settings,
    secrets,
    runner,
    peers: createPeerLookups({ secrets }),
    userStatus: () => book,
    logPath: path.join(dir, 'severa-calendar-sync.log'),
    exportLog: async () => path.join(dir, 'exported.log'),
    openLog: async () => false,
    today: () => '2026-11-20',
  });
  bridge = await startRendererBridge({ rendererDir: path.join(dir, 'renderer'), handlers, knownSecrets: async () => [...secrets.values.values()] });
});

afterAll(async () => {
  await bridge?.close();
  await severa?.close();
  await ews?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('settings window in headless Chromium over the real request handlers and runner', () => {
  it('is served with the strict CSP and opens the admin section by keyboard', async () => {
    const { page } = bridge;
    const response = await page.goto(`${bridge.url}#status`);
    expect(response?.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    await page.getByRole('tab', { name: 'Status' }).focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => page.getByRole('tab', { name: 'Admin' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.getByRole('heading', { name: 'Admin settings' }).isVisible()).toBe(true);
  });

  it('admin: shows field problems, explains Office 365, then saves settings and secrets write-only', async () => {
    const { page } = bridge;
    await page.getByLabel('Exchange server').selectOption('Office365');
    const note = page.locator('.callout-info');
    await expect.poll(() => note.isVisible()).toBe(true);
    expect(await note.textContent()).toMatch(/no longer accepts a delegate user name and password.*app registration in Microsoft Entra ID with app-only OAuth/s);
    expect(await page.getByLabel('Delegate password').isVisible()).toBe(false);
    await page.getByLabel('Exchange server').selectOption('Exchange2019');

    await page.getByLabel('EWS address').fill('ftp://mail.contoso.example/EWS/Exchange.asmx');
    await page.getByLabel('Delegate user name').fill('svc-severa-sync@contoso.example');
    await page.getByLabel('Severa API address').fill(severa.baseUrl);
    await page.getByLabel('Severa API client id').fill('demo-client-id');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const ewsError = page.locator('#' + (await page.getByLabel('EWS address').getAttribute('id')) + '-error');
    await expect.poll(() => ewsError.textContent()).toMatch(/Only https:\/\/ addresses/);
    expect(await page.getByLabel('EWS address').getAttribute('aria-invalid')).toBe('true');
    expect(settings.loadOrg()).toBeNull();

    await page.getByLabel('EWS address').fill(ews.url);
    // A UPN as the user name: no NetBIOS domain needed.
    await page.getByLabel('NetBIOS domain').fill('');
    await page.getByLabel('Delegate password').fill('not-the-delegate-password');
    await page.getByLabel('Severa API client secret').fill('demo-client-secret');
    await page.getByLabel('Sync every (minutes)').fill('10');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.locator('.actions .ok-text').textContent()).toContain('Saved');

    expect(settings.loadOrg()).toMatchObject({ exchange: { serverType: 'Exchange2019', ewsUrl: ews.url, domain: '', username: 'svc-severa-sync@contoso.example' }, severa: { apiUrl: severa.baseUrl, clientId: 'demo-client-id' }, intervalMinutes: 10 });
    expect(secrets.values.get('exchange-delegate-password')).toBe('not-the-delegate-password');
    expect(secrets.values.get('severa-client-secret')).toBe('demo-client-secret');
    // Write-only: the fields are emptied, the page only learns that a value is stored.
    expect(await page.getByLabel('Delegate password').inputValue()).toBe('');
    expect(await page.getByLabel('Delegate password').getAttribute('placeholder')).toMatch(/Stored in the keychain/);
    await page.reload();
    await expect.poll(() => page.getByLabel('Severa API client id').inputValue()).toBe('demo-client-id');
    const html = await page.content();
    for (const secret of secrets.values.values()) expect(html).not.toContain(secret);
    await page.screenshot({ path: path.join(screenshots, 'admin.png'), fullPage: true });
  });

  it('admin: Test connection shows a failing check with its fix (wrong delegate password), and after the fix every check passes', async () => {
    const { page } = bridge;
    const login = page.locator('[data-check="delegate-login"]');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => login.getAttribute('class'), { timeout: 30_000 }).toContain('check-failed');
    expect(await login.locator('.check-fix').textContent()).toMatch(/^Fix: \S/);
    expect(await page.locator('[data-check="severa-credentials"]').getAttribute('class')).toContain('check-ok');
    await page.locator('.checks').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(screenshots, 'test-connection.png'), fullPage: true });

    await page.getByLabel('Delegate password').fill('demo-delegate-password');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => secrets.values.get('exchange-delegate-password')).toBe('demo-delegate-password');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => login.getAttribute('class'), { timeout: 30_000 }).toContain('check-ok');
    expect(await login.textContent()).toContain('svc-severa-sync@contoso.example');
    const failed = await page.locator('.check-failed').allTextContents();
    expect(failed).toEqual([]);
    expect(await page.locator('.checks .summary').textContent()).toMatch(/^All \d+ checks passed\.$/);
    await page.screenshot({ path: path.join(screenshots, 'test-connection-passed.png'), fullPage: true });
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
    await page.screenshot({ path: path.join(screenshots, 'admin-activity-types.png'), fullPage: true });
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
    await page.screenshot({ path: path.join(screenshots, 'personal.png'), fullPage: true });
  });

  it('status: Sync now runs a real cycle; the status shows each person and an error with its fix; pause and resume', async () => {
    const { page } = bridge;
    // Jussi turned his sync on from his own desktop; the delegate may not open his mailbox (see the EWS seed above).
    const org = settings.requireOrg();
    settings.saveOrg({ ...org, enrollments: [...org.enrollments, { email: 'jussi.korhonen@contoso.example', syncStartDate: '2026-11-20', enabledAt: '2026-11-20T08:00:00.000Z', paused: false }] });
    await page.getByRole('tab', { name: 'Status' }).click();
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
    await page.screenshot({ path: path.join(screenshots, 'status-with-error.png'), fullPage: true });

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
    await page.screenshot({ path: path.join(screenshots, 'status-journal.png'), fullPage: true });
    await row.getByRole('button', { name: 'Restore' }).click();
    await expect.poll(() => row.getByRole('button').textContent()).toBe('Restored');
    expect(severa.activities().some((a) => a.name === victim!.subject)).toBe(true);
  });

  it('a notification click (navigate push) opens the status; progress pushes show', async () => {
    const { page } = bridge;
    await page.getByRole('tab', { name: 'Admin' }).click();
    await bridge.push('navigate', { section: 'status' });
    await expect.poll(() => page.getByRole('tab', { name: 'Status' }).getAttribute('aria-selected')).toBe('true');
    await bridge.push('status', { state: 'syncing', consecutiveFailures: 0, progress: { usersDone: 1, usersTotal: 3, currentUser: 'aino.virtanen@contoso.example', phase: 'reading Exchange changes' } });
    await expect.poll(() => page.locator('#sync-progress').count()).toBe(1);
    expect(await page.locator('.progress-area').textContent()).toContain('1/3 people');
    await bridge.push('status', { state: 'idle', consecutiveFailures: 0 });
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
