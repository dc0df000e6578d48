import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { BrowserWindowConstructorOptions, Session, WebContents } from 'electron';
import { APP_HOST, APP_SCHEME } from '../common/ipc-contract.ts';
import { isTrustedSenderUrl } from './ipc-router.ts';

/**
 * Electron's security checklist as code: the settings window's options, the page's Content-Security-Policy, navigation,
 * new windows, remote requests and permission requests. Only Electron's types are imported, so tests drive these
 * functions with small fakes of WebContents and Session.
 */

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function settingsWindowOptions(preloadPath: string, iconPath?: string): BrowserWindowConstructorOptions {
  return {
    width: 980,
    height: 760,
    minWidth: 720,
    minHeight: 520,
    show: false,
    title: 'Severa Calendar Sync',
    icon: iconPath,
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools: true,
    },
  };
}

/** Requests the window may make: its own files and inline data images; everything else (any remote content) is cancelled. */
export function isAllowedRequestUrl(url: string): boolean {
  if (url.startsWith('data:')) return true;
  if (url.startsWith('devtools:')) return true;
  return isTrustedSenderUrl(url, APP_SCHEME, APP_HOST);
}

type WebContentsLike = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/** Navigation away from the app and every new window are refused; a webview can never be attached. */
export function hardenWebContents(contents: WebContentsLike, log?: { warn(obj: object, msg?: string): void }): void {
  const refuse = (what: string) => (event: { preventDefault(): void }, url: string) => {
    if (what === 'navigate' && isTrustedSenderUrl(url)) return; // in-app reloads only
    event.preventDefault();
    log?.warn({ url }, `blocked ${what}`);
  };
  contents.on('will-navigate', refuse('navigate'));
  contents.on('will-redirect', refuse('redirect'));
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    log?.warn({}, 'blocked webview');
  });
  contents.setWindowOpenHandler(({ url }) => {
    log?.warn({ url }, 'blocked window.open');
    return { action: 'deny' };
  });
}

type SessionLike = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'> & {
  webRequest: Pick<Session['webRequest'], 'onBeforeRequest' | 'onHeadersReceived'>;
};

/** The window needs no permission at all (no camera, notifications come from main, no clipboard read); no remote request. */
export function hardenSession(session: SessionLike): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isAllowedRequestUrl(details.url) }));
  session.webRequest.onHeadersReceived((details, callback) =>
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } }),
  );
}

const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export interface AppFileResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

/**
 * Answers one request on the app's scheme from the built renderer folder, with the CSP on every response. Anything
 * outside the folder (`..`, encoded slashes, other hosts) is a 404, never a file from elsewhere on disk.
 */
export async function serveAppFile(requestUrl: string, rendererDir: string): Promise<AppFileResponse> {
  const headers = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' };
  const notFound: AppFileResponse = { status: 404, headers: { ...headers, 'Content-Type': 'text/plain' }, body: 'Not found' };
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return notFound;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return notFound;
  let relative: string;
  try {
    relative = decodeURIComponent(url.pathname);
  } catch {
    return notFound;
  }
  if (relative.includes('\0') || relative.includes('\\')) return notFound;
  if (relative === '/' || relative === '') relative = '/index.html';
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, `.${path.posix.normalize(relative)}`);
  if (file !== root && !file.startsWith(root + path.sep)) return notFound;
  const type = MIME_TYPES[path.extname(file).toLowerCase()];
  if (!type) return notFound;
  try {
    return { status: 200, headers: { ...headers, 'Content-Type': type }, body: await readFile(file) };
  } catch {
    return notFound;
  }
}

/**
 * What the app opens in the person's own browser (shell.openExternal): an https:// page only, the Microsoft sign-in
 * for "Enable my sync" on Exchange Online. Never a file, a custom scheme, javascript: or a plain http:// page.
 */
export function isExternalPageAllowed(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  return parsed.protocol === 'https:' && parsed.username === '' && parsed.password === '';
}
