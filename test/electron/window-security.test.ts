import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { CONTENT_SECURITY_POLICY, hardenSession, hardenWebContents, isAllowedRequestUrl, isExternalPageAllowed, serveAppFile, settingsWindowOptions } from '../../src-main/electron/window-security.ts';
import { claimSingleInstance } from '../../src-main/electron/single-instance.ts';

describe('settings window options', () => {
  it('isolates the page: context isolation, sandbox, no Node, web security, preload only', () => {
    const prefs = settingsWindowOptions('/app/dist/preload.cjs').webPreferences!;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false, webSecurity: true, allowRunningInsecureContent: false, webviewTag: false });
    expect(prefs.preload).toBe('/app/dist/preload.cjs');
  });

  it('has a strict CSP: nothing by default, scripts and styles only from the app, no connections', () => {
    const directives = Object.fromEntries(CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
    expect(directives).toMatchObject({ 'default-src': "'none'", 'script-src': "'self'", 'style-src': "'self'", 'connect-src': "'none'", 'object-src': "'none'", 'frame-ancestors': "'none'" });
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)/);
  });
});

function fakeContents() {
  const listeners = new Map<string, (event: { preventDefault(): void }, url: string) => void>();
  let openHandler: ((d: { url: string }) => { action: string }) | undefined;
  return {
    on: (name: string, fn: never) => void listeners.set(name, fn),
    setWindowOpenHandler: (fn: never) => void (openHandler = fn),
    fire(name: string, url: string) {
      const event = { preventDefault: vi.fn() };
      listeners.get(name)!(event, url);
      return event.preventDefault.mock.calls.length > 0;
    },
    open: (url: string) => openHandler!({ url }),
  };
}

describe('navigation and new windows', () => {
  it('blocks navigation away from the app, allows an in-app reload', () => {
    const contents = fakeContents();
    hardenWebContents(contents as never);
    expect(contents.fire('will-navigate', 'https://evil.example/')).toBe(true);
    expect(contents.fire('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(contents.fire('will-redirect', 'https://evil.example/')).toBe(true);
    expect(contents.fire('will-navigate', 'app://severa-sync/index.html')).toBe(false);
    expect(contents.fire('will-attach-webview', 'app://severa-sync/index.html')).toBe(true);
  });

  it('denies window.open', () => {
    const contents = fakeContents();
    hardenWebContents(contents as never);
    expect(contents.open('https://example.org/')).toEqual({ action: 'deny' });
    expect(contents.open('app://severa-sync/index.html')).toEqual({ action: 'deny' });
  });
});

describe('session', () => {
  it('denies every permission request and check, cancels remote requests, adds the CSP header', () => {
    let request: ((wc: unknown, permission: string, cb: (granted: boolean) => void) => void) | undefined;
    let check: ((...args: unknown[]) => boolean) | undefined;
    let before: ((d: { url: string }, cb: (r: { cancel: boolean }) => void) => void) | undefined;
    let headers: ((d: { responseHeaders?: Record<string, string[]> }, cb: (r: { responseHeaders: Record<string, string[]> }) => void) => void) | undefined;
    hardenSession({
      setPermissionRequestHandler: (fn: never) => void (request = fn),
      setPermissionCheckHandler: (fn: never) => void (check = fn),
      webRequest: { onBeforeRequest: (fn: never) => void (before = fn), onHeadersReceived: (fn: never) => void (headers = fn) },
    } as never);
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read']) {
      const cb = vi.fn();
      request!({}, permission, cb);
      expect(cb).toHaveBeenCalledWith(false);
    }
    expect(check!({}, 'media', 'app://severa-sync', {})).toBe(false);
    const cancelled = (url: string) => {
      let out: boolean | undefined;
      before!({ url }, (r) => (out = r.cancel));
      return out;
    };
    expect(cancelled('https://cdn.example/lib.js')).toBe(true);
    expect(cancelled('http://127.0.0.1:8080/')).toBe(true);
    expect(cancelled('app://severa-sync/assets/index.js')).toBe(false);
    let got: Record<string, string[]> | undefined;
    headers!({ responseHeaders: { 'X-Other': ['1'] } }, (r) => (got = r.responseHeaders));
    expect(got).toEqual({ 'X-Other': ['1'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
    expect(isAllowedRequestUrl('data:image/png;base64,AA==')).toBe(true);
  });
});

describe('app scheme file server', () => {
  it('serves files of the renderer folder with the CSP, and nothing outside it', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'scs-renderer-'));
    await mkdir(path.join(root, 'dist'));
    await writeFile(path.join(root, 'dist', 'index.html'), '<!doctype html><title>x</title>');
    await writeFile(path.join(root, 'secret.html'), 'outside');
    const dir = path.join(root, 'dist');
    const index = await serveAppFile('app://severa-sync/', dir);
    expect(index.status).toBe(200);
    expect(index.headers['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(index.headers['Content-Type']).toMatch(/text\/html/);
    for (const url of ['app://severa-sync/../secret.html', 'app://severa-sync/%2e%2e/secret.html', 'app://severa-sync/..%2fsecret.html', 'app://other/index.html', 'https://severa-sync/index.html', 'app://severa-sync/missing.js', 'app://severa-sync/index.exe']) {
      expect((await serveAppFile(url, dir)).status, url).toBe(404);
    }
  });
});

describe('single instance', () => {
  it('the first launch keeps running and shows itself when launched again; a second launch quits', () => {
    const events = new Map<string, () => void>();
    const first = { requestSingleInstanceLock: () => true, quit: vi.fn(), on: (e: string, fn: () => void) => events.set(e, fn) };
    const show = vi.fn();
    expect(claimSingleInstance(first as never, show)).toBe(true);
    expect(first.quit).not.toHaveBeenCalled();
    events.get('second-instance')!();
    expect(show).toHaveBeenCalledOnce();

    const second = { requestSingleInstanceLock: () => false, quit: vi.fn(), on: vi.fn() };
    expect(claimSingleInstance(second as never, show)).toBe(false);
    expect(second.quit).toHaveBeenCalledOnce();
    expect(second.on).not.toHaveBeenCalled();
  });
});

describe('pages opened in the person\'s own browser', () => {
  it('only an https:// page (the Microsoft sign-in): never a file, a custom scheme, javascript:, plain http or credentials in the address', () => {
    expect(isExternalPageAllowed('https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize?client_id=x&code_challenge=y')).toBe(true);
    for (const url of ['http://login.microsoftonline.com/x', 'file:///etc/passwd', 'javascript:alert(1)', 'app://severa-sync/index.html', 'ms-settings:privacy', 'https://user:pw@login.microsoftonline.com/', 'not a url']) {
      expect(isExternalPageAllowed(url), url).toBe(false);
    }
  });
});
