import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Conf from 'conf';
import { describe, expect, it, vi } from 'vitest';
import type { AdminSettingsDraft } from '../../src-main/common/ipc-contract.ts';
import { SECRET_NAMES, type SecretName } from '../../src-main/common/secrets-contract.ts';
import type { CycleReport, UserReport } from '../../src-main/common/sync-report.ts';
import { currentLanguage, setLanguage } from '../../src-main/common/i18n/i18n.ts';
import { watchConnectivity } from '../../src-main/electron/connectivity-watch.ts';
import { readUserStatusBook, recordCycle, statusRows, writeUserStatusBook } from '../../src-main/electron/user-status-book.ts';
import { activityTypeViews, createWindowRequestHandlers, draftOf, settingsFromDraft } from '../../src-main/electron/window-requests.ts';
import type { PeerLookups, WindowRequestDeps, WindowRunner } from '../../src-main/electron/window-requests.ts';
import type { RunnerStatus } from '../../src-main/runner/runner-types.ts';
import { REAL_TIME_DEFAULTS } from '../../src-main/common/settings-schema.ts';
import { runnerStatusView } from '../../src-main/electron/window-views.ts';
import { REAL_TIME_FORM_DEFAULTS } from '../../src-renderer/admin-realtime-fields.ts';
import { SettingsStore } from '../../src-main/settings/settings-store.ts';

const draft: AdminSettingsDraft = {
  exchange: { serverType: 'Exchange2016', ewsUrl: 'https://mail.contoso.example/EWS/Exchange.asmx', domain: 'CONTOSO', username: 'svc-severa-sync' },
  severa: { apiUrl: 'https://api.severa.visma.com/rest-api', clientId: 'demo-client-id' },
  activityTypesToExchange: ['b1', 'b1', 'b2'],
  intervalMinutes: 15,
  windowDaysAhead: 365,
};

async function setup(peers: Partial<PeerLookups> = {}, extra: Partial<WindowRequestDeps> = {}) {
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'scs-requests-'));
  const settings = new SettingsStore(new Conf<Record<string, unknown>>({ cwd, configName: 'settings', projectName: 'scs-test' }));
  const values = new Map<SecretName, string>();
  const secrets = {
    set: async (n: SecretName, v: string) => void values.set(n, v),
    delete: async (n: SecretName) => void values.delete(n),
    has: async (n: SecretName) => values.has(n),
    stored: async () => Object.fromEntries(SECRET_NAMES.map((n) => [n, values.has(n)])) as Record<SecretName, boolean>,
  };
  let status: RunnerStatus = { state: 'idle', consecutiveFailures: 0, scheduled: true };
  const runner: WindowRunner & { calls: string[] } = {
    calls: [],
    runNow: vi.fn(async (opts) => {
      runner.calls.push(`run ${JSON.stringify(opts ?? {})}`);
      return {} as CycleReport;
    }),
    pause: (until) => {
      runner.calls.push(`pause ${until}`);
      status = { ...status, state: 'paused', pausedUntil: until === null ? null : new Date(until).toISOString() };
    },
    resume: () => {
      runner.calls.push('resume');
      status = { state: 'idle', consecutiveFailures: 0, scheduled: true };
    },
    status: () => status,
    check: async () => [{ id: 'x', title: 'X', ok: false, message: 'bad', fix: 'do this' }],
    triggerSoon: (reason) => void runner.calls.push(`trigger ${reason}`),
  };
  const lookups: PeerLookups = {
    listActivityTypes: async () => [],
    findSeveraUser: async (_s, email) => ({ known: email.endsWith('@contoso.example'), detail: 'd' }),
    resolveMailbox: async (_s, email) => (email === 's.nieminen@contoso.example' ? 'sara.nieminen@contoso.example' : email.endsWith('@contoso.example') ? email : null),
    verifyOwnMailboxLogin: vi.fn(async (_s, _e, password) => (password === 'right' ? { ok: true as const } : { ok: false as const, message: 'No.', fix: 'Retype it.' })),
    ...peers,
  };
  const handlers = createWindowRequestHandlers({
    settings, secrets, runner, peers: lookups, userStatus: () => ({}), logPath: '/tmp/x.log',
    exportLog: async () => '/tmp/export.log', openLog: async () => true, now: () => Date.parse('2026-11-20T10:00:00Z'), today: () => '2026-11-20',
    ...extra,
  });
  return { settings, values, runner, lookups, handlers };
}

describe('admin settings mapping', () => {
  it('turns a draft into valid settings (duplicates removed, enrollments kept) and back', () => {
    const existing = settingsFromDraft(draft, null);
    expect(existing.ok).toBe(true);
    if (!existing.ok) return;
    expect(existing.settings.activityTypesToExchange).toEqual(['b1', 'b2']);
    const withUser = { ...existing.settings, enrollments: [{ email: 'a@contoso.example', syncStartDate: '2026-01-01', enabledAt: 'x', paused: false }] };
    const again = settingsFromDraft({ ...draft, intervalMinutes: 30 }, withUser);
    expect(again.ok && again.settings.enrollments).toHaveLength(1);
    expect(draftOf(existing.settings)).toMatchObject({ exchange: { serverType: 'Exchange2016', domain: 'CONTOSO' }, activityTypesToExchange: ['b1', 'b2'] });
  });

  it('points each problem at its field', () => {
    const out = settingsFromDraft({ ...draft, exchange: { ...draft.exchange, ewsUrl: 'mail', domain: 'TOO-LONG-DOMAIN-NAME' }, intervalMinutes: 0 }, null);
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.issues.map((i) => i.path).sort()).toEqual(['exchange.domain', 'exchange.ewsUrl', 'intervalMinutes']);
  });

  it('Office 365 keeps only its own fields', () => {
    const appId = '11111111-2222-4333-8444-555555555555';
    const out = settingsFromDraft({ ...draft, exchange: { serverType: 'Office365', tenantId: 'contoso.onmicrosoft.com', clientId: appId, ewsUrl: 'ignored' } }, null);
    expect(out.ok && out.settings.exchange).toEqual({
      serverType: 'Office365',
      tenantId: 'contoso.onmicrosoft.com',
      clientId: appId,
      credential: 'certificate',
      authorityHost: 'https://login.microsoftonline.com',
      graphUrl: 'https://graph.microsoft.com',
    });
  });

  it('Exchange Online keeps every field the form shows (credential, expiry, advanced addresses, CA file) and shows them back; emptied fields go', () => {
    const appId = '11111111-2222-4333-8444-555555555555';
    const online = { serverType: 'Office365' as const, tenantId: 'contoso.onmicrosoft.com', clientId: appId, credential: 'secret' as const, certificateFile: '', secretExpires: '2027-03-31', authorityHost: 'https://login.microsoftonline.us', graphUrl: 'https://graph.microsoft.us', caFile: '/etc/ssl/proxy-ca.pem' };
    const saved = settingsFromDraft({ ...draft, exchange: online }, null);
    expect(saved.ok && saved.settings.exchange).toEqual({ serverType: 'Office365', tenantId: 'contoso.onmicrosoft.com', clientId: appId, credential: 'secret', secretExpires: '2027-03-31', authorityHost: 'https://login.microsoftonline.us', graphUrl: 'https://graph.microsoft.us', caFile: '/etc/ssl/proxy-ca.pem' });
    if (!saved.ok) return;
    expect(draftOf(saved.settings).exchange).toEqual({ ...online, certificateFile: '' });
    const cleared = settingsFromDraft({ ...draft, exchange: { ...online, secretExpires: '', caFile: '', authorityHost: '', graphUrl: '' } }, saved.settings);
    expect(cleared.ok && cleared.settings.exchange).toEqual({ serverType: 'Office365', tenantId: 'contoso.onmicrosoft.com', clientId: appId, credential: 'secret', authorityHost: 'https://login.microsoftonline.com', graphUrl: 'https://graph.microsoft.com' });
    const bad = settingsFromDraft({ ...draft, exchange: { ...online, clientId: 'not-a-guid', secretExpires: '31.3.2027', graphUrl: 'http://graph.example' } }, null);
    expect(!bad.ok && bad.issues.map((i) => i.path).sort()).toEqual(['exchange.clientId', 'exchange.graphUrl', 'exchange.secretExpires']);
  });

  it('hybrid: a second connection and per-user choices are saved, shown back and removed; the two connections must differ', () => {
    const appId = '11111111-2222-4333-8444-555555555555';
    const second = { serverType: 'Office365' as const, tenantId: 'contoso.onmicrosoft.com', clientId: appId, credential: 'certificate' as const, certificateFile: '/home/admin/severa-sync.pem' };
    const withUser = settingsFromDraft(draft, null);
    if (!withUser.ok) throw new Error('draft');
    const existing = { ...withUser.settings, enrollments: [{ email: 'aino@contoso.example', syncStartDate: '2026-11-01', enabledAt: 'x', paused: false }] };
    const saved = settingsFromDraft({ ...draft, secondExchange: second, mailboxLocations: { 'aino@contoso.example': 'second' } }, existing);
    expect(saved.ok).toBe(true);
    if (!saved.ok) return;
    expect(saved.settings.secondExchange).toMatchObject({ serverType: 'Office365', certificateFile: '/home/admin/severa-sync.pem', authorityHost: 'https://login.microsoftonline.com' });
    expect(saved.settings.mailboxLocations).toEqual({ 'aino@contoso.example': 'second' });
    expect(draftOf(saved.settings)).toMatchObject({ secondExchange: { serverType: 'Office365', tenantId: 'contoso.onmicrosoft.com' }, mailboxLocations: { 'aino@contoso.example': 'second' } });
    // A draft that does not name them (an older window) leaves them; null removes the second connection.
    const kept = settingsFromDraft(draft, saved.settings);
    expect(kept.ok && kept.settings.secondExchange?.serverType).toBe('Office365');
    const removed = settingsFromDraft({ ...draft, secondExchange: null, mailboxLocations: {} }, saved.settings);
    expect(removed.ok && removed.settings).not.toHaveProperty('secondExchange');
    // A choice of "second" needs a second connection; two Exchange Online tenants, or the same server twice, are refused.
    const orphan = settingsFromDraft({ ...draft, secondExchange: null, mailboxLocations: { 'aino@contoso.example': 'second' } }, saved.settings);
    expect(!orphan.ok && orphan.issues).toEqual([{ path: 'mailboxLocations.aino@contoso.example', message: 'There is no second connection to serve this mailbox.' }]);
    const twoTenants = settingsFromDraft({ ...draft, exchange: { ...second, tenantId: 'fabrikam.onmicrosoft.com' }, secondExchange: second }, null);
    expect(!twoTenants.ok && twoTenants.issues.map((i) => i.path)).toEqual(['secondExchange.serverType']);
    const same = settingsFromDraft({ ...draft, secondExchange: { ...draft.exchange, serverType: 'Exchange2019' } }, null);
    expect(!same.ok && same.issues.map((i) => i.path)).toEqual(['secondExchange.ewsUrl']);
  });

  it('real time: saved from the form with its intervals, each checked; the form shows the schema defaults when nothing is stored', () => {
    expect(REAL_TIME_FORM_DEFAULTS).toEqual(REAL_TIME_DEFAULTS);
    const on = settingsFromDraft({ ...draft, realTime: { enabled: true, exchangeOnlinePollSeconds: 5, ewsPollSeconds: 30, severaPollSeconds: 3 } }, null);
    expect(on.ok && on.settings.realTime).toEqual({ enabled: true, exchangeOnlinePollSeconds: 5, ewsPollSeconds: 30, severaPollSeconds: 3 });
    const first = settingsFromDraft(draft, null);
    expect(first.ok && draftOf(first.settings).realTime).toEqual(REAL_TIME_DEFAULTS);
    const bad = settingsFromDraft({ ...draft, realTime: { enabled: true, exchangeOnlinePollSeconds: 0, ewsPollSeconds: 1, severaPollSeconds: 301 } }, null);
    expect(!bad.ok && bad.issues.map((i) => `${i.path}: ${i.message}`)).toEqual(['realTime.exchangeOnlinePollSeconds: At least 1 second.', 'realTime.ewsPollSeconds: At least 2 seconds.', 'realTime.severaPollSeconds: At most 300 seconds.']);
  });

  it('project tasks and inactive types are never selectable', () => {
    const views = activityTypeViews([
      { guid: '1', name: 'Meeting', category: 'CalendarEntry', isActive: true, isDefault: true },
      { guid: '2', name: 'Project task', category: 'Task', isActive: true, isDefault: false },
      { guid: '3', name: 'Old type', category: 'CalendarEntry', isActive: false, isDefault: false },
    ]);
    expect(views.map((v) => [v.name, v.syncable, v.note])).toEqual([
      ['Meeting', true, undefined],
      ['Old type', false, 'Inactive in Severa'],
      ['Project task', false, 'Project task: never synced'],
    ]);
  });
});

describe('window requests', () => {
  it('saves settings and reports field issues without saving', async () => {
    const { handlers, settings } = await setup();
    expect(await handlers['settings:get'](undefined)).toEqual({ settings: null, secretsStored: { 'exchange-delegate-password': false, 'severa-client-secret': false, 'graph-client-secret': false, 'graph-certificate-key': false, 'proxy-password': false }, enrolledUsers: [] });
    const bad = await handlers['settings:save']({ ...draft, windowDaysAhead: 5000 });
    expect(bad).toMatchObject({ ok: false, issues: [{ path: 'windowDaysAhead' }] });
    expect(settings.loadOrg()).toBeNull();
    expect(await handlers['settings:save'](draft)).toMatchObject({ ok: true });
    expect(settings.loadOrg()?.exchange).toMatchObject({ ewsUrl: 'https://mail.contoso.example/EWS/Exchange.asmx' });
  });

  it('secrets are write-only: set, has, delete; nothing returns a value', async () => {
    const { handlers, values } = await setup();
    expect(await handlers['secret:set']({ name: 'severa-client-secret', value: 'demo-client-secret' })).toEqual({ stored: true });
    expect(values.get('severa-client-secret')).toBe('demo-client-secret');
    expect(await handlers['secret:has']({ name: 'severa-client-secret' })).toEqual({ stored: true });
    expect(JSON.stringify(await handlers['settings:get'](undefined))).not.toContain('demo-client-secret');
    expect(await handlers['secret:delete']({ name: 'severa-client-secret' })).toEqual({ stored: false });
    expect(values.has('severa-client-secret')).toBe(false);
  });

  it('enabling my sync needs saved settings, a Severa user and the own mailbox password; the password is not kept', async () => {
    const { handlers, settings, lookups, runner } = await setup();
    await expect(handlers['personal:enable']({ email: 's.nieminen@contoso.example', password: 'right' })).rejects.toThrow(/not saved yet/);
    await handlers['settings:save'](draft);
    await expect(handlers['personal:enable']({ email: 'someone@elsewhere.example', password: 'right' })).rejects.toThrow(/Severa has no active user/);
    await expect(handlers['personal:enable']({ email: 'not an email', password: 'right' })).rejects.toThrow(/not an email address/);
    await expect(handlers['personal:enable']({ email: 's.nieminen@contoso.example', password: 'wrong' })).rejects.toMatchObject({ message: 'No.', fix: 'Retype it.' });
    expect(settings.loadOrg()!.enrollments).toEqual([]);

    const view = await handlers['personal:enable']({ email: 'S.Nieminen@contoso.example ', password: 'right' });
    expect(view).toMatchObject({ email: 's.nieminen@contoso.example', enrolled: true, syncStartDate: '2026-11-20', identity: { severa: { known: true }, exchange: { known: true, primaryAddress: 'sara.nieminen@contoso.example' } } });
    // A secondary address is no sign-in name: the login uses the primary address.
    expect(lookups.verifyOwnMailboxLogin).toHaveBeenLastCalledWith(expect.anything(), 's.nieminen@contoso.example', 'right', 'sara.nieminen@contoso.example');
    expect(settings.loadOrg()!.enrollments).toEqual([{ email: 's.nieminen@contoso.example', syncStartDate: '2026-11-20', enabledAt: '2026-11-20T10:00:00.000Z', paused: false }]);
    expect(JSON.stringify(settings.loadOrg())).not.toContain('right');
    expect(runner.calls).toContain('trigger sync enabled');

    expect(await handlers['personal:disable'](undefined)).toEqual({ email: null, enrolled: false, proofs: ['password'] });
    expect(settings.loadOrg()!.enrollments).toEqual([]);
  });

  it('Exchange Online: no mailbox password is asked; "Sign in with Microsoft" enrolls only on proof, in the browser the app opens, and keeps nothing', async () => {
    const opened: string[] = [];
    const proofs: Array<{ email: string }> = [];
    let answer: { ok: true; primaryAddress: string } | { ok: false; message: string; fix: string } = { ok: false, message: 'You signed in as mikko@contoso.example, whose mailbox does not have the address aino@contoso.example that Severa knows you by.', fix: 'Sign in with the Microsoft account of aino@contoso.example.' };
    const { handlers, settings, runner } = await setup(
      {
        proveMicrosoftSignIn: async (_s, email, openBrowser) => {
          proofs.push({ email });
          await openBrowser('https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize?client_id=x');
          return answer;
        },
      },
      { openExternal: async (url) => void opened.push(url) },
    );
    const online = { serverType: 'Office365' as const, tenantId: 'contoso.onmicrosoft.com', clientId: '11111111-2222-4333-8444-555555555555', credential: 'secret' as const };
    await handlers['settings:save']({ ...draft, exchange: online });
    expect((await handlers['personal:get'](undefined)).proofs).toEqual(['microsoft']);
    await expect(handlers['personal:enable']({ email: 'aino@contoso.example', password: 'right' })).rejects.toMatchObject({ message: expect.stringContaining('Exchange Online, which takes no mailbox password'), fix: 'Use "Sign in with Microsoft" instead.' });

    await expect(handlers['personal:signInWithMicrosoft']({ email: 'aino@contoso.example' })).rejects.toMatchObject({ message: expect.stringMatching(/^You signed in as mikko@contoso.example/), fix: expect.stringContaining('Sign in with the Microsoft account') });
    expect(opened).toEqual(['https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize?client_id=x']);
    expect(settings.loadOrg()!.enrollments).toEqual([]);
    // Severa must know the address before anyone is sent to a browser.
    await expect(handlers['personal:signInWithMicrosoft']({ email: 'someone@elsewhere.example' })).rejects.toThrow(/Severa has no active user/);
    expect(proofs.map((p) => p.email)).toEqual(['aino@contoso.example']);

    answer = { ok: true, primaryAddress: 'aino.virtanen@contoso.example' };
    const view = await handlers['personal:signInWithMicrosoft']({ email: 'Aino@contoso.example', syncStartDate: '2026-12-01' });
    expect(view).toMatchObject({ email: 'aino@contoso.example', enrolled: true, proofs: ['microsoft'], syncStartDate: '2026-12-01', identity: { exchange: { known: true, primaryAddress: 'aino.virtanen@contoso.example', detail: 'Exchange knows this address as a secondary address of aino.virtanen@contoso.example.' } } });
    expect(settings.loadOrg()!.enrollments).toEqual([{ email: 'aino@contoso.example', syncStartDate: '2026-12-01', enabledAt: '2026-11-20T10:00:00.000Z', paused: false }]);
    expect(settings.local().myEmail).toBe('aino@contoso.example');
    expect(runner.calls).toContain('trigger sync enabled');
  });

  it('the Microsoft sign-in needs an Exchange Online connection and a browser to open', async () => {
    const { handlers } = await setup({ proveMicrosoftSignIn: async () => ({ ok: true }) });
    await handlers['settings:save'](draft);
    expect((await handlers['personal:get'](undefined)).proofs).toEqual(['password']);
    await expect(handlers['personal:signInWithMicrosoft']({ email: 'aino@contoso.example' })).rejects.toMatchObject({ message: expect.stringContaining('no Exchange Online connection') });
    const online = { serverType: 'Office365' as const, tenantId: 'contoso.onmicrosoft.com', clientId: '11111111-2222-4333-8444-555555555555' };
    // Hybrid: both proofs, the main connection's first.
    await handlers['settings:save']({ ...draft, secondExchange: online });
    expect((await handlers['personal:get'](undefined)).proofs).toEqual(['password', 'microsoft']);
    await expect(handlers['personal:signInWithMicrosoft']({ email: 'aino@contoso.example' })).rejects.toMatchObject({ message: 'No browser can be opened from here for the Microsoft sign-in.' });
  });

  it('pause for an hour or until resumed, resume, sync now, confirm held deletions for one user', async () => {
    const { handlers, runner } = await setup();
    expect((await handlers['sync:pause']({ mode: 'hour' })).pausedUntil).toBe('2026-11-20T11:00:00.000Z');
    expect((await handlers['sync:pause']({ mode: 'untilResumed' })).pausedUntil).toBeNull();
    expect((await handlers['sync:resume'](undefined)).pausedUntil).toBeUndefined();
    await handlers['sync:now'](undefined);
    await handlers['deletions:confirm']({ email: 'a@contoso.example' });
    expect(runner.calls).toEqual([`pause ${Date.parse('2026-11-20T11:00:00Z')}`, 'pause null', 'resume', 'run {}', 'run {"users":["a@contoso.example"],"confirmDeletions":true}']);
    expect(await handlers['connection:test'](undefined)).toEqual([{ id: 'x', title: 'X', ok: false, message: 'bad', fix: 'do this' }]);
  });

  it('Test connection with a run id pushes each check as the runner reports it, tagged with that run; without one it only answers', async () => {
    const pushed: unknown[] = [];
    const { handlers, runner } = await setup({}, { push: async (event, data) => void pushed.push([event, data]) });
    const log: string[] = [];
    runner.check = async (opts) => {
      const results = [
        { id: 'severa-credentials', title: 'Severa API credentials', ok: true, message: 'accepted' },
        { id: 'delegate-login', title: 'Delegate login', ok: false, message: 'refused', fix: 'check the password' },
      ];
      results.forEach((r, i) => {
        opts?.onResult?.(r, i);
        log.push(`reported ${r.id}, pushed ${pushed.length}`);
      });
      return results;
    };
    const reply = await handlers['connection:test']({ runId: 'run-7' });
    expect(reply.map((c) => c.id)).toEqual(['severa-credentials', 'delegate-login']);
    expect(log).toEqual(['reported severa-credentials, pushed 1', 'reported delegate-login, pushed 2']);
    expect(pushed).toEqual([
      ['connection:check', { runId: 'run-7', index: 0, check: reply[0] }],
      ['connection:check', { runId: 'run-7', index: 1, check: { id: 'delegate-login', title: 'Delegate login', ok: false, message: 'refused', fix: 'check the password' } }],
    ]);
    pushed.length = 0;
    expect(await handlers['connection:test'](undefined)).toHaveLength(2);
    expect(pushed).toEqual([]);
  });

  it('saving applies real time at once (a schedule tick), and the runner status carries each user\'s watch', async () => {
    const { handlers, runner } = await setup();
    let ticks = 0;
    runner.tick = () => void ticks++;
    await handlers['settings:save']({ ...draft, realTime: { enabled: true, exchangeOnlinePollSeconds: 2, ewsPollSeconds: 15, severaPollSeconds: 3 } });
    expect(ticks).toBe(1);
    const live = { on: true, severa: { mode: 'polling' as const, since: '2026-11-20T10:00:00.000Z' }, users: { 'aino@contoso.example': { mode: 'live' as const, since: '2026-11-20T10:00:01.000Z' } }, pending: 0, cycles: 2 };
    expect(runnerStatusView({ state: 'idle', consecutiveFailures: 0, scheduled: true, live }).live).toEqual(live);
  });

  it('Compare both sides: the runner\'s audit for everyone or one person; a failure to compare comes with a fix', async () => {
    const { handlers, runner } = await setup();
    const asked: unknown[] = [];
    await expect(handlers['audit:run'](undefined)).rejects.toThrow(/not available in this build/);
    runner.audit = async (users) => {
      asked.push(users);
      if (users?.[0] === 'broken@contoso.example') throw Object.assign(new Error('raw'), { advice: { message: 'Severa refused the client id.', fix: 'Store the secret again.' } });
      return { auditedAt: '2026-11-20T10:00:00.000Z', users: [{ email: 'aino@contoso.example', pairs: 3, agreeing: 2, differences: [{ subject: 'Workshop', start: '2026-11-21T07:00:00.000Z', what: 'location', severa: 'Room 1', exchange: 'Room 2', story: 'last changed in Exchange later', rule: null }] }] };
    };
    await expect(handlers['audit:run'](undefined)).rejects.toThrow(/not saved yet/);
    await handlers['settings:save'](draft);
    expect((await handlers['audit:run'](undefined)).users[0].differences[0]).toMatchObject({ what: 'location', rule: null });
    await handlers['audit:run']({ email: 'Aino@contoso.example' });
    await expect(handlers['audit:run']({ email: 'broken@contoso.example' })).rejects.toMatchObject({ message: 'Both sides could not be compared: Severa refused the client id.', fix: 'Store the secret again.' });
    expect(asked).toEqual([undefined, ['aino@contoso.example'], ['broken@contoso.example']]);
  });

  it('a Severa failure while loading activity types becomes a message with a fix', async () => {
    const { handlers } = await setup({ listActivityTypes: async () => { throw new Error('HTTP 401'); } });
    await handlers['settings:save'](draft);
    await expect(handlers['activityTypes:list'](undefined)).rejects.toMatchObject({ message: expect.stringContaining('HTTP 401'), fix: expect.stringContaining('client secret') });
  });
});

const zero = { created: 0, updated: 0, deleted: 0 };
const userReport = (email: string, over: Partial<UserReport> = {}): UserReport => ({ email, outcome: 'ok', toSevera: zero, toExchange: zero, conflicts: 0, heldDeletions: 0, changes: [], errors: [], notes: [], firstSync: false, ...over });
const cycle = (finishedAt: string, users: UserReport[], dryRun = false): CycleReport => ({ startedAt: finishedAt, finishedAt, dryRun, outcome: 'ok', users, errors: [], requests: { severa: 0, exchange: 0 }, clockOffsetMs: { severa: null, exchange: null }, severaDeletionLatencyCycles: 1 });

describe('user status book', () => {
  it('keeps every user last sync across cycles that ran for some users only', async () => {
    let book = recordCycle({}, cycle('2026-11-20T10:00:00Z', [userReport('a@x.example', { toExchange: { created: 2, updated: 0, deleted: 0 } }), userReport('b@x.example')]));
    book = recordCycle(book, cycle('2026-11-20T11:00:00Z', [userReport('b@x.example', { outcome: 'failed', errors: [{ code: 'no-mailbox', message: 'm' }] }), userReport('a@x.example', { outcome: 'skipped' })]));
    book = recordCycle(book, cycle('2026-11-20T12:00:00Z', [userReport('a@x.example', { toExchange: { created: 9, updated: 9, deleted: 9 } })], true));
    const rows = statusRows(book, ['a@x.example', 'b@x.example', 'c@x.example']);
    expect(rows.map((r) => [r.email, r.lastSyncAt, r.outcome, r.toExchange?.created])).toEqual([
      ['a@x.example', '2026-11-20T10:00:00Z', 'ok', 2],
      ['b@x.example', '2026-11-20T11:00:00Z', 'failed', 0],
      ['c@x.example', undefined, undefined, undefined],
    ]);
    expect(rows[1].firstSyncDone).toBe(true); // b synced fine once before failing
    // Where the mailbox lives: kept from the cycle that found it until a later one says otherwise.
    const located = recordCycle(book, cycle('2026-11-20T13:00:00Z', [userReport('a@x.example', { mailboxLocation: { label: 'Exchange Online (x.onmicrosoft.com)', since: '2026-11-20T13:00:00Z' } })]));
    const failedLater = recordCycle(located, cycle('2026-11-20T14:00:00Z', [userReport('a@x.example', { outcome: 'failed' })]));
    expect(statusRows(failedLater, ['a@x.example'])[0].mailboxLocation).toEqual({ label: 'Exchange Online (x.onmicrosoft.com)', since: '2026-11-20T13:00:00Z' });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'scs-book-'));
    expect(readUserStatusBook(dir)).toEqual({});
    writeUserStatusBook(dir, book);
    expect(readUserStatusBook(dir)).toEqual(book);
  });
});

describe('connectivity watch', () => {
  it('calls back once when the network returns, not while it stays up or down', () => {
    let online = true;
    let tick: () => void = () => {};
    const onReturn = vi.fn();
    const watch = watchConnectivity(() => online, onReturn, { setInterval: ((fn: () => void) => ((tick = fn), 1)) as never, clearInterval: (() => {}) as never });
    tick();
    online = false;
    tick();
    tick();
    expect(onReturn).not.toHaveBeenCalled();
    online = true;
    tick();
    tick();
    expect(onReturn).toHaveBeenCalledOnce();
    watch.stop();
  });
});

describe('first-run setup and preferences', () => {
  it('the status says where setup stands: settings, Test connection on the current settings, who turned on their sync', async () => {
    const { handlers, settings } = await setup({}, { startsAt: () => Date.parse('2026-11-20T10:05:00Z') });
    expect((await handlers['status:get'](undefined)).setup).toEqual({ settingsSaved: false, connectionTest: 'not-run', anyoneEnrolled: false, meEnrolled: false, synced: false });
    await handlers['settings:save'](draft);
    await handlers['connection:test'](undefined);
    // The fake checks fail: remembered as failed.
    expect((await handlers['status:get'](undefined)).setup).toMatchObject({ settingsSaved: true, connectionTest: 'failed' });
    settings.updateLocal({ connectionTest: { at: '2026-11-20T10:00:00Z', ok: true } });
    expect((await handlers['status:get'](undefined)).setup.connectionTest).toBe('passed');
    // Saving the same connection (the interval is no part of it) keeps the result; a changed connection field or
    // secret makes it say nothing about the new ones.
    await handlers['settings:save']({ ...draft, intervalMinutes: 30, activityTypesToExchange: ['b3'] });
    expect(settings.local().connectionTest).not.toBeNull();
    await handlers['settings:save']({ ...draft, severa: { ...draft.severa, clientId: 'another-client' } });
    expect((await handlers['status:get'](undefined)).setup.connectionTest).toBe('not-run');
    settings.updateLocal({ connectionTest: { at: '2026-11-20T10:00:00Z', ok: true } });
    await handlers['secret:set']({ name: 'exchange-delegate-password', value: 'new password' });
    expect(settings.local().connectionTest).toBeNull();
    await handlers['personal:enable']({ email: 'aino.virtanen@contoso.example', password: 'right' });
    const status = await handlers['status:get'](undefined);
    expect(status.setup).toMatchObject({ anyoneEnrolled: true, meEnrolled: true });
    expect(status.runner.startsAt).toBe('2026-11-20T10:05:00.000Z');
  });

  it('Test connection without saved settings is not remembered as a test of them', async () => {
    const { handlers, settings, runner } = await setup();
    runner.check = async () => [{ id: 'settings', title: 'Settings', ok: false, message: 'No settings saved yet.' }];
    await handlers['connection:test'](undefined);
    expect(settings.local().connectionTest).toBeNull();
  });

  it('preferences: notifications, start at login and its delay are kept and handed to the app to apply', async () => {
    const applied: unknown[] = [];
    const { handlers, settings } = await setup({}, { applyPreferences: (p) => void applied.push(p) });
    const languages = { language: 'system', activeLanguage: 'en', systemLanguage: 'en' };
    expect(await handlers['preferences:get'](undefined)).toEqual({ notifications: 'errors', startAtLogin: false, startDelayMinutes: 0, ...languages });
    expect(await handlers['preferences:set']({ notifications: 'off', startDelayMinutes: 10 })).toEqual({ notifications: 'off', startAtLogin: false, startDelayMinutes: 10, ...languages });
    expect(settings.local()).toMatchObject({ notifications: 'off', startDelayMinutes: 10 });
    expect(applied).toEqual([{ notifications: 'off', startAtLogin: false, startDelayMinutes: 10, ...languages }]);
  });

  it('language: follows the system\'s first language the app speaks, a choice overrides it, and the main process speaks it at once', async () => {
    const { handlers, settings } = await setup({}, { systemLocales: () => ['de-DE', 'sv-FI', 'fi-FI'] });
    try {
      expect(await handlers['preferences:get'](undefined)).toMatchObject({ language: 'system', activeLanguage: 'sv', systemLanguage: 'sv' });
      expect(await handlers['preferences:set']({ language: 'fi' })).toMatchObject({ language: 'fi', activeLanguage: 'fi', systemLanguage: 'sv' });
      expect(settings.local().language).toBe('fi');
      expect(currentLanguage()).toBe('fi');
      // What the handlers say next is Finnish.
      await expect(handlers['personal:enable']({ email: 'not an address', password: 'x' })).rejects.toThrow('"not an address" ei ole sähköpostiosoite.');
      expect(await handlers['preferences:set']({ language: 'system' })).toMatchObject({ activeLanguage: 'sv' });
      expect(currentLanguage()).toBe('sv');
    } finally {
      setLanguage('en');
    }
  });

  it('a mailbox lookup that fails (the delegate password refused) says so, instead of "no mailbox"', async () => {
    const { handlers, settings } = await setup({
      resolveMailbox: async () => {
        throw Object.assign(new Error('raw'), { advice: { message: "Exchange refused the delegate account's login.", fix: 'Check the password.' } });
      },
    });
    await handlers['settings:save'](draft);
    settings.updateLocal({ myEmail: 'aino.virtanen@contoso.example' });
    const view = await handlers['personal:get'](undefined);
    expect(view.identity?.exchange).toEqual({ known: false, detail: "Could not ask Exchange about this address: Exchange refused the delegate account's login." });
  });
});
