import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLanguage } from '../../src-main/common/i18n/i18n.ts';
import type { Language } from '../../src-main/common/i18n/i18n.ts';
import type { SettingsStore } from '../../src-main/settings/settings-store.ts';
import { loadEwsSeed, startEwsSimulator } from '../peers/ews/ews-simulator.ts';
import type { EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { loadSeveraSeed, startSeveraSimulator } from '../peers/severa/severa-simulator.ts';
import type { SeveraSimulator } from '../peers/severa/severa-simulator.ts';
import { englishLeftovers } from './english-leftovers.ts';
import { MemorySecrets } from './memory-secrets.ts';
import { startWindowOverRunner, type WindowOverRunner } from './window-over-runner.ts';
import type { RendererBridge } from './renderer-bridge.ts';
import { screenshot } from './screenshot-folder.ts';

/**
 * The window in Finnish, then in Swedish, over the real request handlers, runner, Severa client and EWS connector (both
 * simulators): a computer whose system language is Finnish gets the window, the main process's messages and the sync's
 * reports in Finnish; choosing "svenska" under My sync > This computer turns everything Swedish at once. At every state
 * the window tests reach (first run, field problems, Exchange Online's fields and set-up help, the hybrid settings, the
 * proxy, real time, Test connection failing and passing, activity types, My sync refused and enabled, the status with a
 * person's error, the change report, pause, progress, the deletion journal and Restore, Compare both sides), the page
 * (its text, labels, placeholders, titles and options) must hold no sentence of the English catalog.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const JUSSI = 'jussi.korhonen@contoso.example';
const SARA = 's.nieminen@contoso.example';

let dir: string;
let severa: SeveraSimulator;
let ews: EwsSimulator;
let bridge: RendererBridge;
let settings: SettingsStore;
const secrets = new MemorySecrets();
let harness: WindowOverRunner;
/** Names that come from the servers (activity types, entries): data, in whatever language the firm wrote them. */
let dataTexts: Set<string>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'scs-window-languages-'));
  const severaSeedFile = path.join(repoRoot, 'test/peers/demo/severa-demo.json');
  severa = await startSeveraSimulator({ seed: loadSeveraSeed(severaSeedFile), port: 0 });
  const ewsSeed = loadEwsSeed(path.join(repoRoot, 'test/peers/demo/ews-demo.json'));
  // The delegate may not open Jussi's mailbox: his sync fails with a problem and its fix, to be read in Finnish.
  ewsSeed.delegates![0].impersonation = ewsSeed.mailboxes.map((m) => m.primarySmtp).filter((a) => a !== JUSSI);
  ews = await startEwsSimulator({ seed: ewsSeed, port: 0 });
  const seedText = JSON.parse(await readFile(severaSeedFile, 'utf8')) as { activityTypes?: { name: string }[] };
  dataTexts = new Set((seedText.activityTypes ?? []).map((t) => t.name));

  // What main.ts does at start: the main process speaks the system's language.
  setLanguage('fi');
  harness = await startWindowOverRunner({
    dir,
    secrets,
    deps: {
      logPath: '/home/aino/.config/Severa Calendar Sync/logs/severa-calendar-sync.log',
      exportLog: async () => path.join(dir, 'exported.log'),
      today: () => '2026-11-20',
      chooseFile: async () => null,
      // This computer's system speaks Finnish first.
      systemLocales: () => ['fi-FI', 'en-US'],
    },
  });
  ({ bridge, settings } = harness);
});

afterAll(async () => {
  setLanguage('en');
  await harness?.close();
  await severa?.close();
  await ews?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Fails with every English catalog sentence still on the page, and where. */
async function expectNoEnglish(page: Page, language: Language, state: string): Promise<void> {
  const found = await englishLeftovers(page, language, dataTexts);
  expect(found, `English on the ${state} page`).toEqual([]);
}

// Each state's check for English leftovers matches every text, label and option (time zones included) against some
// 1,200 English catalog sentences: a test walking many states needs minutes on a busy 2-core machine.
describe('the window in Finnish and Swedish, over the real handlers and runner', { timeout: 300_000 }, () => {
  it('Finnish from the system: first run, the admin form with its problems, Exchange Online and its help, hybrid, proxy and real time', async () => {
    const { page } = bridge;
    await page.goto(`${bridge.url}#status`);
    await expect.poll(() => page.locator('#state-pill').textContent()).toBe('Käyttöönotto kesken');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('fi');
    expect(await page.getByRole('tab').allTextContents()).toEqual(['Ylläpito', 'Oma synkronointi', 'Tila']);
    await expectNoEnglish(page, 'fi', 'first-run status');

    await page.getByRole('tab', { name: 'Ylläpito' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Ylläpidon asetukset' }).isVisible()).toBe(true);
    // The empty form: the schema's field problems, in Finnish.
    await page.getByLabel('Severan API-osoite').fill('');
    await page.getByRole('button', { name: 'Tallenna asetukset' }).click();
    await expect.poll(() => page.locator('.actions .callout-error .callout-message').textContent()).toMatch(/^Ei tallennettu: \d+ kenttää vaatii huomiota\.$/);
    await expectNoEnglish(page, 'fi', 'admin with field problems');

    // Exchange Online's fields and its set-up help, opened; a second connection with its choices; a proxy; real time.
    await page.locator('select[name="serverType"]').selectOption('Office365');
    await page.locator('#exchange-online-help summary').click();
    await page.locator('#first-exchange details.advanced summary').click();
    await page.getByLabel('Lisää toinen yhteys').check();
    await page.getByLabel('Välityspalvelin', { exact: true }).selectOption('manual');
    await page.getByLabel('Synkronoi muutokset sekunneissa (reaaliaikainen)').check();
    await expectNoEnglish(page, 'fi', 'admin with Exchange Online, hybrid, proxy and real time');
    await page.getByLabel('Lisää toinen yhteys').uncheck();
    await page.getByLabel('Välityspalvelin', { exact: true }).selectOption('system');
    await page.getByLabel('Synkronoi muutokset sekunneissa (reaaliaikainen)').uncheck();
    await page.locator('select[name="serverType"]').selectOption('Exchange2019');

    await page.locator('#first-exchange').getByLabel('EWS-osoite').fill(ews.url);
    await page.locator('#first-exchange').getByLabel('NetBIOS-toimialue').fill('');
    await page.locator('#first-exchange').getByLabel('Palvelutilin käyttäjänimi').fill('svc-severa-sync@contoso.example');
    await page.locator('#first-exchange').getByLabel('Palvelutilin salasana').fill('not-the-delegate-password');
    await page.getByLabel('Severan API-osoite').fill(severa.baseUrl);
    await page.getByLabel('Severan API-asiakkaan tunnus').fill('demo-client-id');
    await page.getByLabel('Severan API-asiakkaan salasana').fill('demo-client-secret');
    await page.getByRole('button', { name: 'Tallenna asetukset' }).click();
    await expect.poll(() => page.locator('.actions .ok-text').textContent()).toBe('✓ Tallennettu');
    expect(await page.locator('#first-exchange').getByLabel('Palvelutilin salasana').getAttribute('placeholder')).toBe('Tallennettu – kirjoita korvataksesi');
    await expectNoEnglish(page, 'fi', 'admin saved');
  });

  it('Finnish: Test connection failing with its fix, then passing; activity types from Severa', async () => {
    const { page } = bridge;
    const summary = page.locator('.checks .summary');
    await page.locator('#test-connection').click();
    await expect.poll(() => summary.textContent(), { timeout: 30_000 }).toMatch(/^1\/\d+ tarkistuksesta epäonnistui\.$/);
    expect(await page.locator('[data-check="delegate-login"] .check-fix').textContent()).toMatch(/^Korjaus: \S/);
    await expectNoEnglish(page, 'fi', 'Test connection failing');

    await page.locator('#first-exchange').getByLabel('Palvelutilin salasana').fill('demo-delegate-password');
    await expect.poll(() => summary.textContent()).toBe('Asetukset ovat muuttuneet edellisen testin jälkeen. Tallenna ne ja testaa uudelleen.');
    await page.getByRole('button', { name: 'Tallenna asetukset' }).click();
    await expect.poll(() => secrets.values.get('exchange-delegate-password')).toBe('demo-delegate-password');
    await page.locator('#test-connection').click();
    await expect.poll(() => summary.textContent(), { timeout: 30_000 }).toMatch(/^Kaikki \d+ tarkistusta onnistuivat\.$/);

    await page.getByRole('button', { name: 'Lataa Severasta' }).click();
    await expect.poll(() => page.locator('.type-item').count()).toBeGreaterThan(0);
    expect(await page.locator('.type-item', { hasText: 'Project task' }).textContent()).toContain('Projektitehtävä: ei synkronoida koskaan');
    await page.getByLabel('Meeting').check();
    await page.getByLabel('Customer visit').check();
    await page.getByRole('button', { name: 'Tallenna asetukset' }).click();
    await expect.poll(() => settings.loadOrg()?.activityTypesToExchange.length).toBe(2);
    await expectNoEnglish(page, 'fi', 'Test connection passed, activity types');
    await screenshot(page, 'admin-fi.png');
  });

  it('Finnish: My sync refuses a wrong password with its fix, then turns on; this computer\'s preferences', async () => {
    const { page } = bridge;
    await page.getByRole('tab', { name: 'Oma synkronointi' }).click();
    await page.getByLabel('Sähköpostiosoitteesi').fill(SARA);
    await page.getByLabel('Postilaatikkosi salasana').fill('not-my-password');
    await page.getByRole('button', { name: 'Ota oma synkronointi käyttöön' }).click();
    const alert = page.locator('#panel-personal [role="alert"]');
    await expect.poll(() => alert.textContent()).toContain('Korjaus:');
    await expectNoEnglish(page, 'fi', 'My sync refused');

    await page.getByLabel('Postilaatikkosi salasana').fill('demo-sara-password');
    await page.getByRole('button', { name: 'Ota oma synkronointi käyttöön' }).click();
    await expect.poll(() => page.locator('.enabled-line').textContent()).toBe(`Synkronointi on käytössä osoitteelle ${SARA}.`);
    expect(await page.locator('.enabled-line strong').textContent()).toBe(SARA);
    await expect.poll(() => page.locator('table.identity').textContent()).toContain('Severa tuntee tämän osoitteen');
    // The language choice: "as the system (suomi)" first, each language by its own name.
    expect(await page.locator('#language option').allTextContents()).toEqual(['Kuten järjestelmässä (suomi)', 'English', 'suomi', 'svenska']);
    await expectNoEnglish(page, 'fi', 'My sync enabled');
  });

  it('Finnish: the status of a real cycle with a person\'s error and its fix, the change report, pause, progress, deletions and Restore, Compare both sides', async () => {
    const { page } = bridge;
    const org = settings.requireOrg();
    settings.saveOrg({ ...org, enrollments: [...org.enrollments, { email: JUSSI, syncStartDate: '2026-11-20', enabledAt: '2026-11-20T08:00:00.000Z', paused: false }] });
    await page.getByRole('tab', { name: 'Tila' }).click();
    await page.getByRole('button', { name: 'Synkronoi nyt' }).click();
    const jussi = page.locator(`[data-user="${JUSSI}"]`);
    await expect.poll(() => jussi.locator('[data-code="impersonation-denied"]').count(), { timeout: 30_000 }).toBe(1);
    expect(await jussi.locator('.outcome-badge').textContent()).toBe('Epäonnistui');
    const sara = page.locator(`[data-user="${SARA}"]`);
    await expect.poll(() => sara.locator('.outcome-badge').textContent()).toMatch(/^Synkronoitu/);
    await sara.locator('details.change-report summary').click();
    expect(await sara.locator('details.change-report summary').textContent()).toMatch(/^Muuttuneet merkinnät \(\d+\)$/);
    await expectNoEnglish(page, 'fi', 'status after a cycle');
    await screenshot(page, 'status-fi.png');

    // A deletion made in Exchange reaches Severa; the journal lists it and Restore brings it back.
    const severaNames = new Set(severa.activities().map((a) => String(a.name)));
    const mailbox = ews.mailbox('sara.nieminen@contoso.example');
    const victim = mailbox.items().find((i) => severaNames.has(i.subject) && !('recurrence' in i && (i as { recurrence?: unknown }).recurrence));
    mailbox.delete(victim!.id);
    await page.getByRole('button', { name: 'Synkronoi nyt' }).click();
    const row = page.locator('.journal-table tbody tr', { hasText: victim!.subject });
    await expect.poll(() => row.count(), { timeout: 30_000 }).toBe(1);
    await row.getByRole('button', { name: 'Palauta' }).click();
    await expect.poll(() => row.getByRole('button').textContent()).toBe('Palautettu');

    await page.getByRole('button', { name: 'Keskeytä toistaiseksi' }).click();
    await expect.poll(() => page.locator('#state-pill').textContent()).toBe('Keskeytetty toistaiseksi');
    await expectNoEnglish(page, 'fi', 'status paused, journal restored');
    await page.getByRole('button', { name: 'Jatka automaattista synkronointia' }).click();

    await bridge.push('status', { state: 'syncing', consecutiveFailures: 0, progress: { usersDone: 1, usersTotal: 3, currentUser: SARA, entriesDone: 1240, secondsLeft: 400, startedAt: '2026-11-20T08:00:00Z' } });
    // Finnish groups thousands with a no-break space; which one (U+00A0 or U+202F) depends on Chromium's ICU.
    const spaced = (text: string | null) => text?.replace(/[\u00a0\u202f]/g, ' ');
    await expect.poll(async () => spaced(await page.locator('.progress-detail').textContent())).toBe('1/3 henkilöä (33 %) · 1 240 merkintää kirjoitettu · noin 7 min jäljellä');
    expect(await page.locator('#sync-progress').getAttribute('aria-valuetext')).toBe('1/3 henkilöä valmiina, noin 7 min jäljellä');
    await expectNoEnglish(page, 'fi', 'status with progress');
    await bridge.push('status', { state: 'idle', consecutiveFailures: 0 });

    // The last automatic comparison: its line in the status card, its differences and who was not compared below.
    // (The audit's own story and rule sentences are made by src-main/sync/agreement-audit.ts in the main process's
    // language (test/sync/engine-languages.test.ts): neutral stand-ins here, so this checks what the window itself says.)
    const story = 'Severa 2026-11-20 06:22 UTC, Exchange 2026-11-20 07:01 UTC';
    await bridge.push('status', {
      state: 'idle',
      consecutiveFailures: 0,
      audit: {
        everyHours: 24,
        running: false,
        nextAfter: '2026-11-21T06:00:00.000Z',
        last: {
          at: '2026-11-20T06:05:00.000Z', users: 1, pairs: 7, agreeing: 5, explained: 1, unexplained: 1,
          differences: [
            { email: SARA, subject: 'Workshop', start: '2026-11-23T07:00:00Z', what: 'location', severa: 'Room 1', exchange: 'Room 2', story, rule: null },
            { email: SARA, subject: 'Board', start: '2026-11-24T07:00:00Z', what: 'missing in Exchange', severa: 'Board', exchange: null, story, rule: 'a deletion waits' },
          ],
          failedUsers: [{ email: JUSSI, error: 'The mailbox could not be opened.' }],
        },
      },
    });
    const auditLine = /^Verrattu .+: 5\/7 synkronoidusta merkinnästä täsmää; 2 eroa, joista 1 ei selity millään säännöllä\. 1 henkilö jäi vertaamatta\.$/;
    await expect.poll(() => page.locator('.last-audit-line').textContent()).toMatch(auditLine);
    expect(await page.locator('.last-audit .last-audit-summary').textContent()).toMatch(auditLine);
    expect(await page.locator(`.last-audit [data-audit-user="${SARA}"] .audit-unexplained .audit-what`).textContent()).toBe('Paikka');
    expect(await page.locator(`.last-audit [data-audit-user="${JUSSI}"]`).textContent()).toContain('Ei verrattu: The mailbox could not be opened.');
    await expectNoEnglish(page, 'fi', 'status with the last automatic comparison');

    await page.getByRole('button', { name: 'Vertaa molempia puolia' }).click();
    await expect.poll(() => page.locator('.audit-results .summary').textContent(), { timeout: 30_000 }).toMatch(/^Verrattu /);
    await expectNoEnglish(page, 'fi', 'Compare both sides');
  });

  it('choosing "svenska" under This computer turns the window, and what the main process says next, Swedish', async () => {
    const { page } = bridge;
    await page.getByRole('tab', { name: 'Oma synkronointi' }).click();
    await page.locator('#language').selectOption('sv');
    await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe('sv');
    expect(settings.local().language).toBe('sv');
    await expect.poll(() => page.getByRole('tab').allTextContents()).toEqual(['Administration', 'Min synkronisering', 'Status']);
    await expect.poll(() => page.locator('.enabled-line').textContent()).toBe(`Synkroniseringen är på för ${SARA}.`);
    await expectNoEnglish(page, 'sv', 'My sync');
    await screenshot(page, 'personal-sv.png');

    await page.getByRole('tab', { name: 'Status' }).click();
    await page.getByRole('button', { name: 'Synkronisera nu' }).click();
    const jussi = page.locator(`[data-user="${JUSSI}"]`);
    await expect.poll(() => jussi.locator('.outcome-badge').textContent(), { timeout: 30_000 }).toBe('Misslyckades');
    await expectNoEnglish(page, 'sv', 'status');

    await page.getByRole('tab', { name: 'Administration' }).click();
    await page.locator('#test-connection').click();
    await expect.poll(() => page.locator('.checks .summary').textContent(), { timeout: 30_000 }).toMatch(/^1 av \d+ kontroller misslyckades\.$/); // Jussi's mailbox is closed to the delegate
    await page.locator('select[name="serverType"]').selectOption('Office365');
    await page.locator('#exchange-online-help summary').click();
    await expectNoEnglish(page, 'sv', 'admin');
    await page.locator('select[name="serverType"]').selectOption('Exchange2019');
  });
});
