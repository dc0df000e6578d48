import { describe, expect, it, vi } from 'vitest';
import { createEventPusher, dispatchRequest, isTrustedSenderUrl, registerIpcHandlers } from '../../src-main/electron/ipc-router.ts';
import type { IpcHandlers, RouterOptions } from '../../src-main/electron/ipc-router.ts';
import { APP_ENTRY_URL, EVENT_CHANNELS, REQUEST_CHANNELS, UserFacingError, createRendererApi, ipcChannelName, parseEvent } from '../../src-main/common/ipc-contract.ts';
import type { AdminSettingsDraft, CheckProgressView, EventChannel } from '../../src-main/common/ipc-contract.ts';

const draft: AdminSettingsDraft = {
  exchange: { serverType: 'Exchange2019', ewsUrl: 'https://mail.contoso.example/EWS/Exchange.asmx', domain: 'CONTOSO', username: 'svc-severa-sync' },
  severa: { apiUrl: 'https://severa.contoso.example/rest-api', clientId: 'demo-client-id' },
  activityTypesToExchange: [],
  intervalMinutes: 15,
  windowDaysAhead: 365,
};

function handlers(overrides: Partial<IpcHandlers> = {}): IpcHandlers {
  const fail = async () => {
    throw new Error('not used in this test');
  };
  const base = Object.fromEntries(REQUEST_CHANNELS.map((c) => [c, fail])) as unknown as IpcHandlers;
  return { ...base, ...overrides };
}

const options = (secrets: string[] = []): RouterOptions => ({ isTrustedSender: (u) => isTrustedSenderUrl(u), knownSecrets: async () => secrets });

describe('sender check', () => {
  it('trusts only the app scheme and host', () => {
    expect(isTrustedSenderUrl(APP_ENTRY_URL)).toBe(true);
    expect(isTrustedSenderUrl('app://severa-sync/index.html#status')).toBe(true);
    for (const url of ['https://severa-sync/index.html', 'app://evil/index.html', 'file:///tmp/index.html', 'app://x@severa-sync/', 'not a url', '', null]) {
      expect(isTrustedSenderUrl(url), String(url)).toBe(false);
    }
  });

  it('drops a request from another origin without calling the handler', async () => {
    const save = vi.fn(async () => ({ ok: true as const, settings: draft }));
    const reply = await dispatchRequest(handlers({ 'settings:save': save }), 'settings:save', 'https://attacker.example/', draft, options());
    expect(reply).toMatchObject({ ok: false, error: { code: 'untrusted-sender' } });
    expect(save).not.toHaveBeenCalled();
  });
});

describe('payload validation', () => {
  it('passes a valid payload to the handler', async () => {
    const save = vi.fn(async (d: AdminSettingsDraft) => ({ ok: true as const, settings: d }));
    const reply = await dispatchRequest(handlers({ 'settings:save': save }), 'settings:save', APP_ENTRY_URL, draft, options());
    expect(reply).toEqual({ ok: true, value: { ok: true, settings: draft } });
    expect(save).toHaveBeenCalledOnce();
  });

  it.each([
    ['a smuggled password key', 'settings:save', { ...draft, exchange: { ...draft.exchange, password: 'x' } }],
    ['a wrong type', 'settings:save', { ...draft, intervalMinutes: '15' }],
    ['an unknown secret name', 'secret:set', { name: 'root-password', value: 'x' }],
    ['an empty secret', 'secret:set', { name: 'severa-client-secret', value: '' }],
    ['a pause mode that does not exist', 'sync:pause', { mode: 'forever' }],
    ['a payload where none is expected', 'sync:now', { force: true }],
    ['a string instead of an object', 'personal:enable', 'aino@contoso.example'],
    ['a run id with characters outside letters, digits, - and _', 'connection:test', { runId: '../x<script>' }],
    ['an empty run id', 'connection:test', { runId: '' }],
    ['an extra key beside the run id', 'connection:test', { runId: 'run-1', verbose: true }],
  ])('rejects %s', async (_what, channel, payload) => {
    const spy = vi.fn();
    const all = handlers(Object.fromEntries(REQUEST_CHANNELS.map((c) => [c, spy])) as unknown as IpcHandlers);
    const reply = await dispatchRequest(all, channel, APP_ENTRY_URL, payload, options());
    expect(reply).toMatchObject({ ok: false, error: { code: 'bad-payload' } });
    expect(spy).not.toHaveBeenCalled();
  });

  it('Test connection takes a run id, or nothing', async () => {
    const test = vi.fn(async () => []);
    for (const payload of [{ runId: '5f0c6e1e-3b7a-4c1e-9a57-0d7f1b2c3d4e' }, undefined]) {
      expect(await dispatchRequest(handlers({ 'connection:test': test }), 'connection:test', APP_ENTRY_URL, payload, options())).toEqual({ ok: true, value: [] });
    }
    expect(test.mock.calls).toEqual([[{ runId: '5f0c6e1e-3b7a-4c1e-9a57-0d7f1b2c3d4e' }], [undefined]]);
  });

  it('rejects an unknown channel', async () => {
    const reply = await dispatchRequest(handlers(), 'shell:exec', APP_ENTRY_URL, 'rm -rf /', options());
    expect(reply).toMatchObject({ ok: false, error: { code: 'unknown-channel' } });
  });

  it('never logs a payload, so a password in a bad request stays out of the log', async () => {
    const warn = vi.fn();
    await dispatchRequest(handlers(), 'personal:enable', APP_ENTRY_URL, { email: 'a@b.example', password: 'hunter2-secret', extra: 1 }, { ...options(), log: { warn, error: vi.fn() } });
    expect(warn).toHaveBeenCalled();
    expect(JSON.stringify(warn.mock.calls)).not.toContain('hunter2-secret');
  });
});

describe('replies', () => {
  it('passes a user-facing error with its fix', async () => {
    const reply = await dispatchRequest(
      handlers({ 'activityTypes:list': async () => { throw new UserFacingError('Severa refused the client id.', 'Check the client id in Severa settings.'); } }),
      'activityTypes:list', APP_ENTRY_URL, undefined, options(),
    );
    expect(reply).toEqual({ ok: false, error: { code: 'failed', message: 'Severa refused the client id.', fix: 'Check the client id in Severa settings.' } });
  });

  it('withholds a reply that contains a stored secret', async () => {
    const leaky = handlers({ 'settings:get': async () => ({ settings: { ...draft, severa: { ...draft.severa, clientId: 'demo-client-secret' } }, secretsStored: { 'exchange-delegate-password': true, 'severa-client-secret': true, 'graph-client-secret': false, 'graph-certificate-key': false, 'proxy-password': false }, enrolledUsers: [] }) });
    const reply = await dispatchRequest(leaky, 'settings:get', APP_ENTRY_URL, undefined, options(['demo-client-secret']));
    expect(reply).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(JSON.stringify(reply)).not.toContain('demo-client-secret');
  });
});

describe('Electron wiring', () => {
  it('registers every channel on ipcMain, reads the sender frame, and removes them again', async () => {
    const registered = new Map<string, (event: unknown, payload: unknown) => Promise<unknown>>();
    const ipcMain = { handle: (ch: string, fn: never) => void registered.set(ch, fn), removeHandler: (ch: string) => void registered.delete(ch) };
    const dispose = registerIpcHandlers(ipcMain as never, handlers({ 'sync:resume': async () => ({ state: 'idle', consecutiveFailures: 0 }) }), options());
    expect([...registered.keys()].sort()).toEqual(REQUEST_CHANNELS.map(ipcChannelName).sort());
    const resume = registered.get(ipcChannelName('sync:resume'))!;
    expect(await resume({ senderFrame: { url: APP_ENTRY_URL, parent: null } }, undefined)).toMatchObject({ ok: true });
    expect(await resume({ senderFrame: { url: APP_ENTRY_URL, parent: {} } }, undefined)).toMatchObject({ ok: false, error: { code: 'untrusted-sender' } });
    expect(await resume({ senderFrame: null }, undefined)).toMatchObject({ ok: false, error: { code: 'untrusted-sender' } });
    dispose();
    expect(registered.size).toBe(0);
  });

  it('the window side sends only known channels and turns failures into errors with the fix', async () => {
    const sent: string[] = [];
    const api = createRendererApi({
      send: async (channel) => {
        sent.push(channel);
        return { ok: false, error: { code: 'failed', message: 'No mailbox.', fix: 'Ask the admin.' } };
      },
      subscribe: () => () => {},
    });
    await expect(api.invoke('status:get')).rejects.toMatchObject({ message: 'No mailbox.', fix: 'Ask the admin.' });
    await expect((api.invoke as (c: string) => Promise<unknown>)('shell:exec')).rejects.toMatchObject({ code: 'unknown-channel' });
    expect(sent).toEqual(['status:get']);
    expect(() => (api.on as (e: string, l: () => void) => void)('secrets', () => {})).toThrow(/Unknown event/);
  });
});

const checkPush = (over: Partial<CheckProgressView> = {}): CheckProgressView => ({
  runId: 'run-1',
  index: 0,
  check: { id: 'delegate-login', title: 'Delegate login', ok: false, message: 'Exchange refused the delegate.', fix: 'Check the password.' },
  ...over,
});

describe('pushes: the connection:check event', () => {
  it('is part of the contract and its payload is schema-checked: run id, index and the check', () => {
    expect(EVENT_CHANNELS).toContain('connection:check');
    expect(parseEvent('connection:check', checkPush())).toEqual({ ok: true, data: checkPush() });
    const bad: [string, unknown][] = [
      ['no run id', { index: 0, check: checkPush().check }],
      ['a run id that is no id', checkPush({ runId: 'run 1; drop' })],
      ['a negative index', checkPush({ index: -1 })],
      ['a fractional index', checkPush({ index: 0.5 })],
      ['a check without its outcome', { ...checkPush(), check: { id: 'x', title: 'X', message: 'm' } }],
      ['a fix that is not text', { ...checkPush(), check: { ...checkPush().check, fix: { html: '<b>x</b>' } } }],
      ['no payload', undefined],
    ];
    for (const [what, payload] of bad) expect(parseEvent('connection:check', payload).ok, what).toBe(false);
    // Keys the contract does not name never reach the window.
    const extra = parseEvent('connection:check', { ...checkPush(), debug: 'x', check: { ...checkPush().check, stack: 'at x' } });
    expect(extra).toEqual({ ok: true, data: checkPush() });
  });

  it('the window drops a malformed push before any listener sees it, and delivers a valid one', () => {
    let deliver: ((data: unknown) => void) | null = null;
    const invalid: [EventChannel, string[]][] = [];
    const api = createRendererApi(
      { send: async () => ({ ok: true, value: null }), subscribe: (_event, listener) => ((deliver = listener), () => {}) },
      (event, issues) => invalid.push([event, issues.map((i) => i.path)]),
    );
    const got: CheckProgressView[] = [];
    api.on('connection:check', (e) => got.push(e));
    deliver!({ ...checkPush(), index: 'first' });
    deliver!({ runId: 'run-1', index: 1 });
    deliver!(checkPush({ index: 2 }));
    expect(got).toEqual([checkPush({ index: 2 })]);
    expect(invalid).toEqual([['connection:check', ['index']], ['connection:check', ['check']]]);
  });

  it('main sends only valid, secret-free pushes, in the order they were made', async () => {
    const sent: [string, unknown][] = [];
    const errors: string[] = [];
    let secretCalls = 0;
    const push = createEventPusher((event, data) => void sent.push([event, data]), {
      // The first lookup is the slowest: order must not depend on which lookup finishes first.
      knownSecrets: () => new Promise((resolve) => setTimeout(() => resolve(['demo-delegate-password']), secretCalls++ === 0 ? 20 : 0)),
      log: { warn: () => {}, error: (_o, msg) => void errors.push(String(msg)) },
    });
    const pushes = [
      push('connection:check', checkPush({ index: 0 })),
      push('connection:check', { ...checkPush({ index: 1 }), runId: 'not an id' } as CheckProgressView),
      push('connection:check', checkPush({ index: 2, check: { id: 'x', title: 'X', ok: false, message: 'password demo-delegate-password refused' } })),
      push('connection:check', checkPush({ index: 3 })),
      push('navigate', { section: 'status' }),
    ];
    await Promise.all(pushes);
    expect(sent).toEqual([
      ['connection:check', checkPush({ index: 0 })],
      ['connection:check', checkPush({ index: 3 })],
      ['navigate', { section: 'status' }],
    ]);
    expect(errors).toEqual(['push with an invalid payload dropped', 'push withheld: it contained a stored secret']);
    expect(JSON.stringify(sent)).not.toContain('demo-delegate-password');
  });

  it('a push that cannot be sent (window gone) does not stop the ones after it', async () => {
    const sent: unknown[] = [];
    let first = true;
    const push = createEventPusher(
      (_event, data) => {
        if (first) {
          first = false;
          throw new Error('Object has been destroyed');
        }
        sent.push(data);
      },
      { knownSecrets: async () => [] },
    );
    await expect(push('connection:check', checkPush({ index: 0 }))).resolves.toBeUndefined();
    await push('connection:check', checkPush({ index: 1 }));
    expect(sent).toEqual([checkPush({ index: 1 })]);
  });
});
