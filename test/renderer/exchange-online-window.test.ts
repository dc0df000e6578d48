import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetSignIns } from '../../src-main/exchange/graph/graph-sign-in.ts';
import type { SettingsStore } from '../../src-main/settings/settings-store.ts';
import { DEMO_APP, DEMO_APP_SECRET, DEMO_GRAPH_SEED } from '../exchange/graph-harness.ts';
import { loadGraphSeed, startGraphSimulator } from '../peers/graph/graph-simulator.ts';
import type { GraphSimulator } from '../peers/graph/graph-simulator.ts';
import { createClientCertificate } from '../peers/graph/test-ca.ts';
import type { IssuedCertificate } from '../peers/graph/test-ca.ts';
import { loadSeveraSeed, startSeveraSimulator } from '../peers/severa/severa-simulator.ts';
import type { SeveraSimulator } from '../peers/severa/severa-simulator.ts';
import { MemorySecrets } from './memory-secrets.ts';
import { startWindowOverRunner, type WindowOverRunner } from './window-over-runner.ts';
import type { RendererBridge } from './renderer-bridge.ts';
import { screenshot, screenshotOf } from './screenshot-folder.ts';
import { startUserBrowser } from './user-browser.ts';
import type { UserBrowser } from './user-browser.ts';

/**
 * Exchange Online in the real window, in headless Chromium, over the real request handlers, runner, Graph connector and
 * msal-node against the Graph simulator (HTTPS, its CA trusted through the settings' CA file, as the product does):
 * the admin's Exchange Online settings (client secret, then a certificate with its private key), Test connection's
 * Exchange Online checks with a mailbox outside the app's scope and the commands that fix it, and "Enable my sync" by
 * signing in with Microsoft in the person's own browser: another account is refused with a sentence, the right one
 * enrolls, and nothing of the sign-in is kept.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const AINO = { login: 'aino.virtanen@contoso.example', password: 'demo-aino-password' };
const MIKKO = { login: 'mikko.lahtinen@contoso.example', password: 'demo-mikko-password' };

let dir: string;
let severa: SeveraSimulator;
let graph: GraphSimulator;
let bridge: RendererBridge;
let settings: SettingsStore;
let userBrowser: UserBrowser;
let appCertificate: IssuedCertificate;
/** What the file dialog picks: the simulator's CA (trusted through the settings), or the app's certificate. */
let caFile: string;
let certificateFile: string;
const secrets = new MemorySecrets();
let harness: WindowOverRunner;
const opened: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'scs-window-online-'));
  severa = await startSeveraSimulator({ seed: loadSeveraSeed(path.join(repoRoot, 'test/peers/demo/severa-demo.json')), port: 0 });
  // The demo tenant, with a certificate uploaded to the sync's app registration besides its client secret.
  appCertificate = createClientCertificate('Severa Calendar Sync (test)', 400);
  const seed = structuredClone(loadGraphSeed(path.join(repoRoot, DEMO_GRAPH_SEED))) as { apps: Array<Record<string, unknown>> };
  seed.apps[0].certificates = [{ pem: appCertificate.certPem }];
  forgetSignIns();
  graph = await startGraphSimulator({ seed: seed as never, port: 0 });
  caFile = path.join(dir, 'graph-simulator-ca.pem');
  await writeFile(caFile, graph.caCertificatePem);
  certificateFile = path.join(dir, 'severa-sync.pem');
  await writeFile(certificateFile, appCertificate.certPem);
  userBrowser = await startUserBrowser(graph);
  harness = await startWindowOverRunner({
    dir,
    secrets,
    peers: { signInTimeoutMs: 45_000 },
    deps: {
      today: () => '2026-11-20',
      chooseFile: async (purpose) => (purpose === 'graph-certificate' ? certificateFile : caFile),
      // shell.openExternal in the app: the person's own browser opens the sign-in page.
      openExternal: async (url) => {
        opened.push(url);
        await userBrowser.openExternal(url);
      },
    },
  });
  ({ bridge, settings } = harness);
});

afterAll(async () => {
  await harness?.close();
  await userBrowser?.close();
  await severa?.close();
  await graph?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Exchange Online in the settings window (Chromium, real handlers, runner, Graph connector and msal against the Graph simulator)', () => {
  it('admin: Office 365 with a client secret and its expiry, the advanced addresses and CA file; the help shows the set-up with the admin\'s own ids', async () => {
    const { page } = bridge;
    await page.goto(`${bridge.url}#admin`);
    const first = page.locator('#first-exchange');
    await first.getByLabel('Exchange server').selectOption('Office365');
    expect(await first.getByLabel('EWS address').isVisible()).toBe(false);
    await first.getByLabel('Tenant', { exact: true }).fill('contoso.onmicrosoft.com');
    await first.getByLabel('Application (client) id').fill('not-a-guid');
    await first.getByLabel('Credential').selectOption('secret');
    expect(await first.getByLabel("Certificate's private key").isVisible()).toBe(false);
    await first.getByLabel('Client secret', { exact: true }).fill(DEMO_APP_SECRET);
    await first.getByLabel('Client secret expires on').fill('2027-06-30');
    await page.getByLabel('Severa API address').fill(severa.baseUrl);
    await page.getByLabel('Severa API client id').fill('demo-client-id');
    await page.getByLabel('Severa API client secret').fill('demo-client-secret');
    // Advanced: the sign-in and Graph addresses (here the simulator's) and the CA file that makes it trusted.
    await first.locator('details.advanced > summary').click();
    await first.getByLabel('Sign-in address').fill(graph.url);
    await first.getByLabel('Microsoft Graph address').fill('http://graph.example');
    await page.getByRole('button', { name: 'Choose the CA certificate file for Exchange Online' }).click();
    await expect.poll(() => first.locator('input[name="onlineCaFile"]').inputValue()).toBe(caFile);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.locator('.actions .callout-message').textContent()).toBe('Not saved: 2 fields need attention.');
    expect(await first.getByLabel('Application (client) id').getAttribute('aria-invalid')).toBe('true');
    expect(await first.getByLabel('Microsoft Graph address').getAttribute('aria-invalid')).toBe('true');
    expect(settings.loadOrg()).toBeNull();

    await first.getByLabel('Application (client) id').fill(DEMO_APP);
    await first.getByLabel('Microsoft Graph address').fill(graph.url);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.locator('.actions .ok-text').textContent()).toContain('Saved');
    expect(settings.loadOrg()!.exchange).toEqual({ serverType: 'Office365', tenantId: 'contoso.onmicrosoft.com', clientId: DEMO_APP, credential: 'secret', secretExpires: '2027-06-30', authorityHost: graph.url, graphUrl: graph.url, caFile });
    expect(secrets.values.get('graph-client-secret')).toBe(DEMO_APP_SECRET);
    expect(await first.getByLabel('Client secret', { exact: true }).inputValue()).toBe('');
    expect(await first.getByLabel('Client secret', { exact: true }).getAttribute('placeholder')).toBe('Stored — type to replace');

    // The step-by-step help, its commands filled in with this tenant's app.
    const help = page.locator('#exchange-online-help');
    await help.locator('summary').click();
    const commands = await help.locator('pre.commands').allTextContents();
    expect(commands.join('\n')).toContain(`New-ManagementRoleAssignment -App ${DEMO_APP} -Role "Application Calendars.ReadWrite" -CustomResourceScope "Severa sync users"`);
    expect(commands.join('\n')).toContain(`New-ApplicationAccessPolicy -AppId ${DEMO_APP} -PolicyScopeGroupId`);
    expect(await help.textContent()).toContain('Calendars.ReadWrite and User.Read.All');
    expect(await help.textContent()).toContain('redirect URI http://localhost');
    await page.reload();
    await expect.poll(() => page.locator('#first-exchange').getByLabel('Tenant', { exact: true }).inputValue()).toBe('contoso.onmicrosoft.com');
    expect(await page.locator('#first-exchange details.advanced').getAttribute('open')).not.toBeNull();
    expect(await page.content()).not.toContain(DEMO_APP_SECRET);
    await page.locator('#exchange-online-help summary').click();
    await screenshotOf(page.locator('#first-exchange'), 'admin-exchange-online.png');
  });

  it('admin: Test connection runs the Exchange Online checks live; a mailbox outside the app\'s scope fails with its fix and the commands for that mailbox; then all pass', async () => {
    const { page } = bridge;
    // Two colleagues turned on their sync from their own desktops; the app may open Aino's mailbox only.
    const org = settings.requireOrg();
    settings.saveOrg({
      ...org,
      enrollments: ['s.nieminen@contoso.example', 'mikko.lahtinen@contoso.example'].map((email) => ({ email, syncStartDate: '2026-11-20', enabledAt: '2026-11-20T08:00:00.000Z', paused: false })),
    });
    graph.setMailboxAccess(DEMO_APP, ['aino.virtanen@contoso.example', 'sara.nieminen@contoso.example']);
    await page.reload();
    await page.locator('#test-connection').click();
    const summary = page.locator('.checks .summary');
    await expect.poll(() => summary.textContent(), { timeout: 30_000 }).toMatch(/^1 of \d+ checks failed\.$/);
    const ids = await page.locator('.check-list [data-check]').evaluateAll((items) => items.map((i) => `${i.getAttribute('data-check')} ${i.classList.contains('check-ok') ? 'ok' : 'failed'}`));
    expect(ids).toEqual(expect.arrayContaining(['graph-tenant ok', 'graph-app ok', 'graph-credential ok', 'graph-expiry ok', 'graph-consent ok', 'graph-mailbox:s.nieminen@contoso.example ok', 'graph-mailbox:mikko.lahtinen@contoso.example failed', 'exchange-clock ok']));
    const mikko = page.locator('[data-check="graph-mailbox:mikko.lahtinen@contoso.example"]');
    expect(await mikko.locator('.check-message').textContent()).toMatch(/outside the mailboxes the app is limited to/);
    expect(await mikko.locator('.check-fix').textContent()).toMatch(/^Fix: Add the mailbox to the mail-enabled security group/);
    const commands = await mikko.locator('details.check-help pre').textContent();
    expect(commands).toContain(`Test-ServicePrincipalAuthorization -Identity ${DEMO_APP} -Resource mikko.lahtinen@contoso.example`);
    expect(commands).toContain(`Test-ApplicationAccessPolicy -Identity mikko.lahtinen@contoso.example -AppId ${DEMO_APP}`);
    expect(await mikko.locator('details.check-help').getAttribute('open')).not.toBeNull();
    // A passing check has no help attached.
    expect(await page.locator('[data-check="graph-tenant"] details.check-help').count()).toBe(0);
    await screenshotOf(page.locator('.checks-section'), 'test-connection-exchange-online.png');

    graph.setMailboxAccess(DEMO_APP, null);
    await page.locator('#test-connection').click();
    await expect.poll(() => summary.textContent(), { timeout: 30_000 }).toMatch(/^All \d+ checks passed\.$/);
    expect(await mikko.locator('.check-message').textContent()).toBe('The app can open the calendar of mikko.lahtinen@contoso.example.');
  });

  it('admin: the certificate credential: its file chosen with the file dialog, its private key entered once into the keychain; Test connection signs in with it', async () => {
    const { page } = bridge;
    const first = page.locator('#first-exchange');
    await first.getByLabel('Credential').selectOption('certificate');
    expect(await first.getByLabel('Client secret expires on').isVisible()).toBe(false);
    await page.getByRole('button', { name: "Choose the app's certificate file" }).click();
    await expect.poll(() => first.getByLabel('Certificate file', { exact: true }).inputValue()).toBe(certificateFile);
    await first.getByLabel("Certificate's private key").fill(appCertificate.keyPem);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => secrets.values.get('graph-certificate-key')).toBe(appCertificate.keyPem);
    expect(settings.loadOrg()!.exchange).toMatchObject({ credential: 'certificate', certificateFile });
    // Write-only: emptied, and the page only learns that a key is stored.
    expect(await first.getByLabel("Certificate's private key").inputValue()).toBe('');
    expect(await first.getByLabel("Certificate's private key").getAttribute('placeholder')).toBe('Stored — type to replace');
    await page.locator('#test-connection').click();
    const credential = page.locator('[data-check="graph-credential"]');
    await expect.poll(() => credential.locator('.check-message').textContent(), { timeout: 30_000 }).toBe('The app signed in with its certificate.');
    await expect.poll(() => page.locator('.checks .summary').textContent(), { timeout: 30_000 }).toMatch(/^All \d+ checks passed\.$/);
    expect(await page.locator('[data-check="graph-expiry"] .check-message').textContent()).toMatch(/^The certificate is valid until \d{4}-\d{2}-\d{2}\.$/);
    // No line of the key is anywhere on the page.
    const html = await page.content();
    for (const line of appCertificate.keyPem.split('\n').filter((l) => l.length > 40)) expect(html).not.toContain(line);
  });

  it('my sync: "Sign in with Microsoft" opens the person\'s own browser; another account is refused with a sentence, the right one enrolls, and nothing of the sign-in is kept', async () => {
    const { page } = bridge;
    await page.getByRole('tab', { name: 'My sync' }).click();
    // Exchange Online takes no mailbox password.
    await expect.poll(() => page.getByRole('button', { name: 'Sign in with Microsoft and turn on my sync' }).isVisible()).toBe(true);
    expect(await page.getByLabel('Your mailbox password').count()).toBe(0);
    await page.getByLabel('Your email address').fill('aino.virtanen@contoso.example');
    const secretsBefore = new Map(secrets.values);

    // Aino's browser still has Mikko signed in, and she signs in as him.
    userBrowser.next = MIKKO;
    await page.getByRole('button', { name: 'Sign in with Microsoft and turn on my sync' }).click();
    const alert = page.locator('#panel-personal [role="alert"]');
    await expect.poll(() => alert.locator('.callout-message').textContent(), { timeout: 45_000 }).toBe(
      'You signed in as mikko.lahtinen@contoso.example, whose mailbox does not have the address aino.virtanen@contoso.example that Severa knows you by.',
    );
    expect(await alert.locator('.callout-fix').textContent()).toBe("Fix: Sign in with the Microsoft account of aino.virtanen@contoso.example, or ask the admin to use your mailbox's address in Severa.");
    expect(settings.requireOrg().enrollments.map((e) => e.email)).not.toContain('aino.virtanen@contoso.example');
    expect(await page.getByRole('button', { name: 'Sign in with Microsoft and turn on my sync' }).isEnabled()).toBe(true);
    await userBrowser.settled();
    expect(userBrowser.failures).toEqual([]);
    await screenshot(page, 'personal-microsoft-refused.png');

    // The sign-in the app asked for: the authorization code flow with PKCE, answered on this computer's loopback address.
    const asked = new URL(opened[0]);
    expect(asked.origin + asked.pathname).toBe(`${graph.url}/contoso.onmicrosoft.com/oauth2/v2.0/authorize`);
    expect(Object.fromEntries(['client_id', 'response_type', 'code_challenge_method', 'prompt'].map((k) => [k, asked.searchParams.get(k)]))).toEqual({
      client_id: DEMO_APP,
      response_type: 'code',
      code_challenge_method: 'S256',
      prompt: 'select_account',
    });
    expect(asked.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(asked.searchParams.get('redirect_uri')).toMatch(/^http:\/\/localhost:\d+\/?$/);
    expect(userBrowser.visits[0].landedOn).toMatch(/^http:\/\/localhost:\d+\//);
    expect(userBrowser.visits[0].finalText).toContain('Signed in. Return to Severa Calendar Sync');

    userBrowser.next = AINO;
    await page.getByRole('button', { name: 'Sign in with Microsoft and turn on my sync' }).click();
    await expect.poll(() => page.locator('.enabled-line').textContent(), { timeout: 45_000 }).toContain('aino.virtanen@contoso.example');
    expect(await page.locator('table.identity').textContent()).toContain('Exchange knows this address as the primary address.');
    expect(settings.requireOrg().enrollments.find((e) => e.email === 'aino.virtanen@contoso.example')).toEqual({ email: 'aino.virtanen@contoso.example', syncStartDate: '2026-11-20', enabledAt: expect.any(String), paused: false });
    expect(settings.local().myEmail).toBe('aino.virtanen@contoso.example');
    await userBrowser.settled();
    expect(userBrowser.failures).toEqual([]);
    expect(opened).toHaveLength(2);
    // Nothing of the sign-in is kept: no secret added or changed, no password or token in the settings.
    expect(secrets.values).toEqual(secretsBefore);
    const stored = JSON.stringify({ org: settings.requireOrg(), local: settings.local() });
    for (const word of ['demo-aino-password', 'demo-mikko-password', 'eyJ', 'access_token', 'refresh']) expect(stored).not.toContain(word);
    expect(graph.counters().tokens.authorization_code).toBe(2);
  });
});
