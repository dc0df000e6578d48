import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Conf from 'conf';
import { describe, expect, it, vi } from 'vitest';
import type { AdminSettingsDraft } from '../../src-main/common/ipc-contract.ts';
import { SECRET_NAMES, type SecretName } from '../../src-main/common/secrets-contract.ts';
import type { CycleReport, UserReport } from '../../src-main/common/sync-report.ts';
import { watchConnectivity } from '../../src-main/electron/connectivity-watch.ts';
import { readUserStatusBook, recordCycle, statusRows, writeUserStatusBook } from '../../src-main/electron/user-status-book.ts';
import { activityTypeViews, createWindowRequestHandlers, draftOf, settingsFromDraft } from '../../src-main/electron/window-requests.ts';
import type { PeerLookups, WindowRequestDeps, WindowRunner } from '../../src-main/electron/window-requests.ts';
import type { RunnerStatus } from '../../src-main/runner/runner-types.ts';
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
    expect(await handlers['settings:get'](undefined)).toEqual({ settings: null, secretsStored: { 'exchange-delegate-password': false, 'severa-client-secret': false, 'graph-client-secret': false, 'graph-certificate-key': false, 'proxy-password': false } });
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

    expect(await handlers['personal:disable'](undefined)).toEqual({ email: null, enrolled: false });
    expect(settings.loadOrg()!.enrollments).toEqual([]);
  });

  it('Office 365 cannot be enabled and says why', async () => {
    const { handlers } = await setup();
    await handlers['settings:save']({ ...draft, exchange: { serverType: 'Office365', tenantId: 'contoso.onmicrosoft.com', clientId: '11111111-2222-4333-8444-555555555555' } });
    await expect(handlers['personal:enable']({ email: 'aino.virtanen@contoso.example', password: 'right' })).rejects.toThrow(/Exchange Online no longer accepts/);
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
    expect(await handlers['preferences:get'](undefined)).toEqual({ notifications: 'errors', startAtLogin: false, startDelayMinutes: 0 });
    expect(await handlers['preferences:set']({ notifications: 'off', startDelayMinutes: 10 })).toEqual({ notifications: 'off', startAtLogin: false, startDelayMinutes: 10 });
    expect(settings.local()).toMatchObject({ notifications: 'off', startDelayMinutes: 10 });
    expect(applied).toEqual([{ notifications: 'off', startAtLogin: false, startDelayMinutes: 10 }]);
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
