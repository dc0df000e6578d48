import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import type { EventChannel, EventChannels } from '../../src-main/common/ipc-contract.ts';
import { APP_HOST, APP_SCHEME } from '../../src-main/common/ipc-contract.ts';
import { dispatchRequest, isTrustedSenderUrl } from '../../src-main/electron/ipc-router.ts';
import type { IpcHandlers } from '../../src-main/electron/ipc-router.ts';
import { serveAppFile } from '../../src-main/electron/window-security.ts';

/**
 * Serves the real, built settings window to real headless Chromium and answers its requests with the main process's
 * own request router (sender check, payload validation, secret guard) over the handlers the test gives it. The page is
 * served over HTTP with the same files and the same Content-Security-Policy the app:// scheme serves in Electron.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export async function buildRenderer(outDir: string): Promise<void> {
  await build({ configFile: path.join(repoRoot, 'vite.renderer.config.ts'), root: path.join(repoRoot, 'src-renderer'), logLevel: 'silent', build: { outDir, emptyOutDir: true } });
}

async function buildBridgePreload(): Promise<string> {
  const out = await build({
    configFile: false,
    logLevel: 'silent',
    build: { write: false, minify: false, target: 'chrome130', lib: { entry: path.join(repoRoot, 'test/renderer/bridge-preload.ts'), formats: ['iife'], name: 'scsBridgePreload' } },
  });
  const outputs = (Array.isArray(out) ? out : [out]) as { output: { type: string; code?: string }[] }[];
  const chunk = outputs[0].output.find((o) => o.type === 'chunk');
  if (!chunk?.code) throw new Error('bridge preload did not build');
  return chunk.code;
}

export interface RendererBridge {
  page: Page;
  url: string;
  /** Requests the page made, by channel, in order. */
  requests: string[];
  push<E extends EventChannel>(event: E, data: EventChannels[E]): Promise<void>;
  close(): Promise<void>;
}

export async function startRendererBridge(options: { rendererDir: string; handlers: IpcHandlers; knownSecrets: () => Promise<string[]> }): Promise<RendererBridge> {
  const server = createServer((req, res) => {
    // Map http://127.0.0.1:<port>/x to app://severa-sync/x so the app's own file server (and CSP) answers.
    void serveAppFile(`${APP_SCHEME}://${APP_HOST}${req.url ?? '/'}`, options.rendererDir).then((file) => {
      res.writeHead(file.status, file.headers);
      res.end(file.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const preload = await buildBridgePreload();

  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  } catch (error) {
    server.close();
    throw error;
  }
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'Europe/Helsinki', reducedMotion: 'reduce' });
  // Nothing but the bridge: any other request (remote content) fails the page, as the Electron session would cancel it.
  await context.route((url) => url.host !== host, (route) => route.abort('blockedbyclient'));
  const requests: string[] = [];
  await context.exposeBinding('__scsInvoke', async ({ frame }, channel: string, payload: unknown) => {
    requests.push(channel);
    const senderUrl = frame.parentFrame() ? null : frame.url();
    return dispatchRequest(options.handlers, channel, senderUrl, payload, {
      isTrustedSender: (url) => isTrustedSenderUrl(url, 'http', host),
      knownSecrets: options.knownSecrets,
    });
  });
  await context.addInitScript({ content: preload });
  // Fail in seconds rather than wait half a minute for an element that is not coming.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  return {
    page,
    url: `http://${host}/index.html`,
    requests,
    async push(event, data) {
      await page.evaluate(([e, d]) => (window as unknown as { __scsEmit(e: string, d: unknown): void }).__scsEmit(e, d), [event, data] as const);
    },
    async close() {
      await browser.close().catch(() => {});
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
