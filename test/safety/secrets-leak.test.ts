import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Conf from 'conf';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SECRET_NAMES, type SecretName } from '../../src-main/common/secrets-contract.ts';
import { dispatchRequest } from '../../src-main/electron/ipc-router.ts';
import { createPeerLookups } from '../../src-main/electron/peer-lookups.ts';
import { readUserStatusBook, recordCycle, writeUserStatusBook } from '../../src-main/electron/user-status-book.ts';
import { createWindowRequestHandlers } from '../../src-main/electron/window-requests.ts';
import { SyncRunner } from '../../src-main/runner/sync-runner.ts';
import { SettingsStore } from '../../src-main/settings/settings-store.ts';
import { SoakWorkload } from '../soak/soak-workload.ts';
import { SeededRandom } from '../soak/seeded-random.ts';
import { firmOf, startSyncWorld, TYPES_TO_EXCHANGE, type CycleRun, type SyncWorld } from '../soak/sync-world.ts';
import { filesUnder, findLeaks, secretForms, type Haystack } from './secret-search.ts';
import { startThrowawayKeyring } from './throwaway-keyring.ts';

/**
 * Known secrets go in through every path the product has (settings window, keychain stand-in, CLI environment, a
 * sync, failed logins with wrong secrets, logs, a killed process), and then every file the product wrote, every line
 * it printed or logged and every payload the window could receive is searched for them, in every form they could
 * leak in (see secret-search.ts).
 */

const DELEGATE = 'Dlg-9f3Kq-secret-pw-A71';
const SEVERA = 'Sev-4xTz8-client-secret-B52';
const GRAPH = 'Grf-7mNp2-client-secret-C93';
const OWN_MAILBOX = 'Own-2Rb7n-mailbox-pw-D14';
const WRONG_DELEGATE = 'Wrong-5Hq2x-delegate-pw-E25';
const WRONG_SEVERA = 'Wrong-8Lm3v-client-secret-F36';
const WRONG_OWN = 'Wrong-3Ct6w-mailbox-pw-G47';

const BASIC_USERS = ['CONTOSO\\svc-severa-sync', 'svc-severa-sync', 'svc-severa-sync@contoso.example', 'aino.virtanen@contoso.example', 'CONTOSO\\aino.virtanen', 'aino.virtanen', 'demo-client-id'];
const ALL_SECRETS = [
  secretForms('delegate password', DELEGATE, BASIC_USERS),
  secretForms('Severa client secret', SEVERA, BASIC_USERS),
  secretForms('Graph client secret', GRAPH, BASIC_USERS),
  secretForms('own mailbox password', OWN_MAILBOX, BASIC_USERS),
  secretForms('wrong delegate password', WRONG_DELEGATE, BASIC_USERS),
  secretForms('wrong Severa client secret', WRONG_SEVERA, BASIC_USERS),
  secretForms('wrong own mailbox password', WRONG_OWN, BASIC_USERS),
];

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function worldWithWork(): Promise<SyncWorld> {
  const people = firmOf(2);
  const world = await startSyncWorld({
    people,
    secrets: { delegatePassword: DELEGATE, severaClientSecret: SEVERA, mailboxPasswords: { [people[0].mailbox]: OWN_MAILBOX } },
  });
  cleanups.push(() => world.close());
  // Entries on both sides, so a cycle reads, creates, updates and deletes.
  const workload = new SoakWorkload(world, new SeededRandom(7), { series: true });
  workload.edit('both.twin');
  for (const kind of ['ex.create', 'ex.meeting', 'sv.create', 'sv.participants', 'sv.series'] as const) workload.edit(kind);
  return world;
}

function outputsOf(label: string, run: CycleRun): Haystack[] {
  return [
    { where: `${label} stdout`, content: run.stdout },
    { where: `${label} stderr`, content: run.stderr },
  ];
}

describe('secrets never leak', () => {
  it('the search finds a secret in each form it looks for (so the tests below can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scs-leak-probe-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'basic.txt'), `Authorization: Basic ${Buffer.from(`CONTOSO\\svc-severa-sync:${DELEGATE}`).toString('base64')}`);
    writeFileSync(join(dir, 'utf16.bin'), Buffer.from(`xx${SEVERA}xx`, 'utf16le'));
    writeFileSync(join(dir, 'embedded-base64.txt'), Buffer.from(`{"token":"a${OWN_MAILBOX}b"}`).toString('base64'));
    writeFileSync(join(dir, 'escaped.json'), JSON.stringify({ url: `https://x/?s=${encodeURIComponent('p&' + WRONG_SEVERA)}` }));
    const leaks = findLeaks(filesUnder(dir), ALL_SECRETS);
    expect(leaks.some((l) => l.startsWith('delegate password (Basic credential of CONTOSO\\svc-severa-sync)'))).toBe(true);
    expect(leaks.some((l) => l.startsWith('Severa client secret (UTF-16)'))).toBe(true);
    expect(leaks.some((l) => l.startsWith('own mailbox password (base64'))).toBe(true);
    expect(leaks.some((l) => l.startsWith('wrong Severa client secret'))).toBe(true);
    expect(findLeaks([{ where: 'clean', content: 'nothing to see' }], ALL_SECRETS)).toEqual([]);
  });

  it('the command line: secrets from the environment through sync, dry run, check, status, journal, a kill, wrong secrets, Basic auth and a secret typed into the settings file', async () => {
    const world = await worldWithWork();
    const env = { SCS_GRAPH_CLIENT_SECRET: GRAPH };
    const haystacks: Haystack[] = [];
    const common = ['--config', world.configPath, '--data-dir', world.dataDir];

    const first = await world.runCycle({ env });
    expect(first.report, first.stderr).not.toBeNull();
    haystacks.push(...outputsOf('sync', first));
    haystacks.push(...outputsOf('sync --dry-run', await world.runCycle({ env, dryRun: true })));
    haystacks.push(...outputsOf('check', await world.runCli(['check', '--json', ...common], { env })));
    haystacks.push(...outputsOf('check (text)', await world.runCli(['check', ...common], { env })));
    haystacks.push(...outputsOf('status', await world.runCli(['status', '--json', ...common], { env })));
    haystacks.push(...outputsOf('restore --list', await world.runCli(['restore', '--list', '--json', ...common], { env })));

    // Killed in the middle of a cycle, after the server carried out a request.
    const killed = await world.runCycle({ env, kill: { count: 'request', n: 6, mode: 'after-server' } });
    expect(killed.killed).toBe(true);
    haystacks.push(...outputsOf('killed sync', killed));

    // Wrong secrets: the failed logins must not echo what was tried.
    const wrongDelegate = await world.runCycle({ env: { ...env, SCS_EXCHANGE_PASSWORD: WRONG_DELEGATE } });
    expect(wrongDelegate.exitCode).toBe(1);
    haystacks.push(...outputsOf('sync, wrong delegate password', wrongDelegate));
    haystacks.push(...outputsOf('check, wrong delegate password', await world.runCli(['check', ...common], { env: { ...env, SCS_EXCHANGE_PASSWORD: WRONG_DELEGATE } })));
    const wrongSevera = await world.runCycle({ env: { ...env, SCS_SEVERA_CLIENT_SECRET: WRONG_SEVERA } });
    expect(wrongSevera.exitCode).toBe(1);
    haystacks.push(...outputsOf('sync, wrong Severa secret', wrongSevera));
    haystacks.push(...outputsOf('check, wrong Severa secret', await world.runCli(['check', '--json', ...common], { env: { ...env, SCS_SEVERA_CLIENT_SECRET: WRONG_SEVERA } })));

    // Basic authentication puts the password on the wire in every request (base64): right and wrong.
    const config = JSON.parse(readFileSync(world.configPath, 'utf8')) as { exchange: Record<string, unknown> };
    const basicConfig = join(world.dataDir, '..', 'config-basic.json');
    writeFileSync(basicConfig, JSON.stringify({ ...config, exchange: { ...config.exchange, authMethod: 'basic' } }));
    const basicArgs = ['--config', basicConfig, '--data-dir', world.dataDir];
    haystacks.push(...outputsOf('sync, Basic', await world.runCli(['sync', '--once', '--json', ...basicArgs], { env })));
    haystacks.push(...outputsOf('sync, Basic, wrong password', await world.runCli(['sync', '--once', ...basicArgs], { env: { ...env, SCS_EXCHANGE_PASSWORD: WRONG_DELEGATE } })));

    // The EWS library's uncatchable TypeError on a non-SOAP 500, contained: its report must not carry request details.
    world.ews.setFaults({ forceNext: { kind: 'nonSoap500', count: 4 } });
    haystacks.push(...outputsOf('sync, HTML 500 from Exchange', await world.runCycle({ env })));
    world.ews.setFaults({});

    // An admin who typed the password into the settings file: refused, and the refusal does not repeat it.
    const withSecret = join(world.dataDir, '..', 'config-with-secret.json');
    writeFileSync(withSecret, JSON.stringify({ ...config, exchange: { ...config.exchange, password: DELEGATE } }));
    const refused = await world.runCli(['sync', '--once', '--config', withSecret, '--data-dir', world.dataDir], { env });
    expect(refused.exitCode).toBe(2);
    haystacks.push(...outputsOf('sync, secret in the settings file', refused));
    rmSync(withSecret);

    haystacks.push(...filesUnder(join(world.dataDir, '..')));
    expect(haystacks.filter((h) => h.where.endsWith('.sqlite')).length).toBeGreaterThan(0);
    expect(findLeaks(haystacks, ALL_SECRETS)).toEqual([]);
  });

  it('the command line reading its secrets from the OS keychain (a throwaway gnome-keyring over D-Bus): sync, check, a kill', async (ctx) => {
    const keyring = await startThrowawayKeyring();
    if ('unavailable' in keyring) {
      // Only on a machine without D-Bus or gnome-keyring; CI installs both (scripts/install-test-deps.sh).
      console.warn(`keychain leak test skipped: ${keyring.unavailable}`);
      ctx.skip();
      return;
    }
    cleanups.push(() => keyring.stop());
    const world = await worldWithWork();
    keyring.store('exchange-delegate-password', DELEGATE);
    keyring.store('severa-client-secret', SEVERA);
    // No secret in the environment: the keychain is the only source.
    const env = { ...keyring.env, SCS_NO_KEYCHAIN: '0', SCS_EXCHANGE_PASSWORD: '', SCS_SEVERA_CLIENT_SECRET: '' };
    const haystacks: Haystack[] = [];
    const synced = await world.runCycle({ env });
    expect(synced.report?.users.map((u) => u.outcome), synced.stdout + synced.stderr).toEqual(['ok', 'ok']);
    haystacks.push(...outputsOf('sync (keychain)', synced));
    haystacks.push(...outputsOf('check (keychain)', await world.runCli(['check', '--config', world.configPath, '--data-dir', world.dataDir], { env })));
    const killed = await world.runCycle({ env, kill: { count: 'request', n: 3, mode: 'after-server' } });
    expect(killed.killed).toBe(true);
    haystacks.push(...outputsOf('killed sync (keychain)', killed));
    haystacks.push(...filesUnder(join(world.dataDir, '..')));
    expect(findLeaks(haystacks, ALL_SECRETS)).toEqual([]);
  });

  it('the tray app: secrets set through the window, connection test, enabling my sync with a wrong and the right own password, sync, status, journal, the log file and every reply and event the window receives', async () => {
    const world = await worldWithWork();
    const root = mkdtempSync(join(tmpdir(), 'scs-leak-app-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const dataDir = join(root, 'data');
    const logFile = join(root, 'logs', 'severa-calendar-sync.log');
    const settings = new SettingsStore(new Conf<Record<string, unknown>>({ cwd: root, configName: 'settings', projectName: 'scs-leak-test' }));
    // The keychain's stand-in: values live only in this map, as in the OS keychain; what matters is where else they show up.
    const stored = new Map<SecretName, string>();
    const secrets = {
      get: async (n: SecretName) => stored.get(n) ?? null,
      set: async (n: SecretName, v: string) => void stored.set(n, v),
      delete: async (n: SecretName) => void stored.delete(n),
      has: async (n: SecretName) => stored.has(n),
      stored: async () => Object.fromEntries(SECRET_NAMES.map((n) => [n, stored.has(n)])) as Record<SecretName, boolean>,
    };
    // The same logger configuration as the tray app's main process (src-main/electron/main.ts).
    const log = pino({ level: 'info', redact: { paths: ['password', '*.password', 'value', '*.value'], remove: true } }, pino.destination({ dest: logFile, mkdir: true, sync: true }));
    const runner = new SyncRunner({ loadSettings: () => settings.requireOrg(), secrets, dataDir, log });
    const events: Haystack[] = [];
    let book = readUserStatusBook(dataDir);
    runner.onStatus((s) => events.push({ where: 'status event', content: JSON.stringify(s) }));
    runner.onProgress((p) => events.push({ where: 'progress event', content: JSON.stringify(p) }));
    runner.onReport((r) => {
      events.push({ where: 'report event', content: JSON.stringify(r) });
      book = recordCycle(book, r);
      writeUserStatusBook(dataDir, book);
    });
    const handlers = createWindowRequestHandlers({
      settings,
      secrets,
      runner,
      peers: createPeerLookups({ secrets }),
      userStatus: () => book,
      logPath: logFile,
      exportLog: async () => null,
      openLog: async () => false,
      today: () => world.today,
      // Events pushed to the window (each activation check as it completes) are searched like replies.
      push: async (event, data) => void events.push({ where: `push ${event}`, content: JSON.stringify(data) }),
    });
    const replies: Haystack[] = [];
    const withheld: string[] = [];
    const call = async (channel: string, payload?: unknown) => {
      const reply = await dispatchRequest(handlers, channel, 'app://severa-sync/index.html', payload, { isTrustedSender: () => true, knownSecrets: async () => [...stored.values()], log });
      const text = JSON.stringify(reply);
      if (text.includes('withheld')) withheld.push(channel);
      replies.push({ where: `reply to ${channel}`, content: text });
      return reply as { ok: boolean; value?: unknown; error?: { message: string } };
    };

    const config = JSON.parse(readFileSync(world.configPath, 'utf8')) as { exchange: { ewsUrl: string }; severa: { apiUrl: string } };
    const draft = {
      exchange: { serverType: 'Exchange2016', ewsUrl: config.exchange.ewsUrl, domain: 'CONTOSO', username: 'svc-severa-sync', authMethod: 'ntlm' },
      severa: { apiUrl: config.severa.apiUrl, clientId: 'demo-client-id' },
      activityTypesToExchange: TYPES_TO_EXCHANGE,
      intervalMinutes: 15,
      windowDaysAhead: 60,
    };
    // The admin first mistypes both secrets.
    expect((await call('secret:set', { name: 'exchange-delegate-password', value: WRONG_DELEGATE })).ok).toBe(true);
    expect((await call('secret:set', { name: 'severa-client-secret', value: WRONG_SEVERA })).ok).toBe(true);
    expect((await call('settings:save', draft)).ok).toBe(true);
    expect((await call('activityTypes:list')).ok).toBe(false);
    await call('connection:test', { runId: 'wrong-secrets' });
    await call('sync:now');
    // A window (or a script in it) trying to smuggle a secret into the settings, or to store one under a made-up name.
    expect((await call('settings:save', { ...draft, exchange: { ...draft.exchange, password: DELEGATE } })).ok).toBe(false);
    expect((await call('secret:set', { name: 'delegate', value: DELEGATE })).ok).toBe(false);
    // Then gets them right.
    await call('secret:set', { name: 'exchange-delegate-password', value: DELEGATE });
    await call('secret:set', { name: 'severa-client-secret', value: SEVERA });
    await call('secret:set', { name: 'graph-client-secret', value: GRAPH });
    expect((await call('activityTypes:list')).ok).toBe(true);
    await call('connection:test', { runId: 'right-secrets' });
    await call('connection:test');
    // Aino enables her own sync: a wrong own password first, then the right one (used for one login, never kept).
    const aino = world.people[0];
    expect((await call('personal:enable', { email: aino.severaEmail, password: WRONG_OWN })).ok).toBe(false);
    const enabled = await call('personal:enable', { email: aino.severaEmail, password: OWN_MAILBOX });
    expect(enabled.ok, JSON.stringify(enabled)).toBe(true);
    await call('personal:get');
    await call('sync:now');
    await call('status:get');
    await call('journal:list', {});
    await call('settings:get');
    await call('secret:has', { name: 'exchange-delegate-password' });
    log.flush();

    expect(withheld).toEqual([]);
    expect(events.filter((e) => e.where === 'push connection:check').length).toBeGreaterThan(1);
    // The sync really ran for Aino (it read and wrote both sides), so its reports, store and log are worth searching.
    const lastReport = JSON.parse(String(events.filter((e) => e.where === 'report event').at(-1)!.content)) as { users: Array<{ email: string; toSevera: { created: number } }> };
    expect(lastReport.users.map((u) => u.email)).toEqual([aino.severaEmail]);
    expect(lastReport.users[0].toSevera.created).toBeGreaterThan(0);
    const haystacks = [...replies, ...events, ...filesUnder(root)];
    expect(haystacks.some((h) => h.where === logFile)).toBe(true);
    expect(findLeaks(haystacks, ALL_SECRETS)).toEqual([]);
  });
});
