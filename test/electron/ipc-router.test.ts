import { describe, expect, it, vi } from 'vitest';
import { dispatchRequest, isTrustedSenderUrl, registerIpcHandlers } from '../../src-main/electron/ipc-router.ts';
import type { IpcHandlers, RouterOptions } from '../../src-main/electron/ipc-router.ts';
import { APP_ENTRY_URL, REQUEST_CHANNELS, UserFacingError, createRendererApi, ipcChannelName } from '../../src-main/common/ipc-contract.ts';
import type { AdminSettingsDraft } from '../../src-main/common/ipc-contract.ts';

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
  ])('rejects %s', async (_what, channel, payload) => {
    const spy = vi.fn();
    const all = handlers(Object.fromEntries(REQUEST_CHANNELS.map((c) => [c, spy])) as unknown as IpcHandlers);
    const reply = await dispatchRequest(all, channel, APP_ENTRY_URL, payload, options());
    expect(reply).toMatchObject({ ok: false, error: { code: 'bad-payload' } });
    expect(spy).not.toHaveBeenCalled();
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
    const leaky = handlers({ 'settings:get': async () => ({ settings: { ...draft, severa: { ...draft.severa, clientId: 'demo-client-secret' } }, secretsStored: { 'exchange-delegate-password': true, 'severa-client-secret': true, 'graph-client-secret': false } }) });
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
