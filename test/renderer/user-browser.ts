import { createHash } from 'node:crypto';
import { connect } from 'node:tls';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext } from 'playwright-core';
import { CHROMIUM_ARGS } from './renderer-bridge.ts';

/**
 * The person's own web browser, which the app opens for the Microsoft sign-in (shell.openExternal): a second headless
 * Chromium that plays the person at the Graph simulator's sign-in page (fields `login` and `passwd`) and follows the
 * redirect to msal's loopback server on this computer, as a real browser does.
 *
 * Trust: the product reaches the simulator through its own CA setting only (the settings' CA file). This browser stands
 * in for the person's browser, which would trust Microsoft's public certificate by itself; the simulator's certificate
 * comes from a throwaway CA that Chromium cannot be given as a file. So this test browser alone is told to accept that
 * one server certificate's key (Chromium's --ignore-certificate-errors-spki-list with the key's SHA-256): any other
 * certificate is still checked as usual, and nothing in the product's path is relaxed.
 */

export interface Account {
  login: string;
  password: string;
}

export interface SignInVisit {
  url: URL;
  /** Where the browser ended: msal's loopback page (http://localhost:<port>/...). */
  landedOn: string;
  /** The text the person saw there. */
  finalText: string;
}

export interface UserBrowser {
  /** What shell.openExternal does in the app: opens the page and returns; the person then signs in as `next`. */
  openExternal(url: string): Promise<void>;
  /** Who signs in at the next page opened. */
  next: Account | null;
  visits: SignInVisit[];
  /** Problems of the stand-in itself (a form not found): the test fails on them, not on a timeout. */
  failures: string[];
  /** Resolves when every sign-in started so far has finished in the browser. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** The base64 SHA-256 of the server certificate's public key (SPKI), as Chromium's allow-list takes it. */
async function serverKeyPin(url: string, caPem: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca: caPem, servername: hostname === '127.0.0.1' ? undefined : hostname }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (!cert) return reject(new Error('The server sent no certificate.'));
      resolve(createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64'));
    });
    socket.on('error', reject);
  });
}

export async function startUserBrowser(server: { url: string; caCertificatePem: string }): Promise<UserBrowser> {
  const pin = await serverKeyPin(server.url, server.caCertificatePem);
  const browser: Browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${pin}`] });
  const context: BrowserContext = await browser.newContext({ locale: 'en-GB' });
  context.setDefaultTimeout(20_000);
  const running = new Set<Promise<void>>();
  const user: UserBrowser = {
    next: null,
    visits: [],
    failures: [],
    async openExternal(url) {
      const account = user.next;
      const flow = (async () => {
        const page = await context.newPage();
        try {
          await page.goto(url);
          if (!account) return; // Nobody signs in: the app waits until its own time limit.
          await page.locator('input[name="login"]').fill(account.login);
          await page.locator('input[name="passwd"]').fill(account.password);
          await page.locator('button[type="submit"]').click();
          // The sign-in page posts the code to the loopback address msal listens on; that page is the end.
          await page.waitForURL((u) => u.protocol === 'http:' && (u.hostname === 'localhost' || u.hostname === '127.0.0.1'));
          await page.waitForLoadState();
          user.visits.push({ url: new URL(url), landedOn: page.url(), finalText: (await page.locator('body').textContent()) ?? '' });
        } catch (error) {
          user.failures.push(error instanceof Error ? error.message : String(error));
        } finally {
          await page.close().catch(() => undefined);
        }
      })();
      running.add(flow);
      void flow.finally(() => running.delete(flow));
    },
    async settled() {
      await Promise.all([...running]);
    },
    async close() {
      await browser.close().catch(() => undefined);
    },
  };
  return user;
}
