import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { freePort } from '../../support/ports.js';
import { type ServerOptions, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { type Shop, setupShop } from '../../support/shop.js';

/**
 * Browser-test support (09 §5): Debian's Chromium through playwright-core, one browser per file,
 * one context per signed-in user; every visited page is checked (one h1, named controls, no
 * console errors, no failed requests, no dialogs) and photographed at two widths.
 */

export const SCREENSHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');
export const HOSTILE = `<img src=x onerror=alert(1)>"'`;

/**
 * The real server at a public URL the browser actually uses: CSRF checks compare the browser's
 * Origin with `server.public_url`.
 */
export async function browserServer(options: ServerOptions = {}): Promise<TestServer> {
  const port = await freePort();
  const config = options.config ?? {};
  const server = (config.server as Record<string, unknown> | undefined) ?? {};
  return withServer({
    ...options,
    port,
    config: { ...config, server: { ...server, public_url: `http://127.0.0.1:${port}` } },
  });
}

/** The Chromium that the browser project's global setup found or installed (`chromium-setup.ts`). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: inject('chromiumPath'),
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking'],
  });
}

export interface TrackedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, failed requests and dialogs seen so far; tests expect it to stay empty. */
  problems: string[];
}

export async function newPage(browser: Browser, server: TestServer): Promise<TrackedPage> {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // Leaving a page cancels its pending fetches; that is navigation, not a failure.
    if (request.failure()?.errorText !== 'net::ERR_ABORTED')
      problems.push(`request failed: ${request.url()}`);
  });
  page.on('dialog', (dialog) => {
    // Confirmations of destructive actions are ours; any other dialog means a script was injected.
    if (dialog.type() === 'confirm') void dialog.accept();
    else {
      problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
      void dialog.dismiss();
    }
  });
  return { page, context, problems };
}

/** Automated checks of 09 §5 on the current page, then screenshots at 1280 and 390 px. */
export async function checkPage(tracked: TrackedPage, name: string): Promise<void> {
  const { page } = tracked;
  await page.waitForLoadState('load');
  expect(await page.locator('h1').count(), `${name}: one h1`).toBe(1);
  const unnamed = await page.evaluate(() => {
    const controls = Array.from(
      document.querySelectorAll<HTMLElement>('input:not([type=hidden]), select, textarea, button'),
    );
    return controls
      .filter((el) => {
        const labelled = (el as HTMLInputElement).labels?.length;
        const aria = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
        const text = el.tagName === 'BUTTON' ? el.textContent?.trim() : '';
        return !labelled && !aria && !text;
      })
      .map((el) => el.outerHTML.slice(0, 120));
  });
  expect(unnamed, `${name}: controls without a name`).toEqual([]);
  expect(tracked.problems, `${name}: console errors, failed requests or dialogs`).toEqual([]);
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  // Wide content (tables, code) scrolls inside its own box; the page itself never scrolls sideways.
  const pageWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(pageWidth, `${name}: page wider than a 390 px screen`).toBeLessThanOrEqual(390);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-390.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** `expect.poll` with room for a page load and a server round trip (its default is one second). */
export function eventually<T>(read: () => Promise<T> | T) {
  return expect.poll(read, { timeout: 10_000 });
}

/** Submits a form whose script reloads the page on success, and waits for the new page. */
export async function submitAndReload(page: Page, click: () => Promise<void>): Promise<void> {
  await Promise.all([page.waitForEvent('load', { timeout: 10_000 }), click()]);
}

export async function signIn(tracked: TrackedPage, user: TestUser, path = '/login'): Promise<void> {
  const { page } = tracked;
  await page.goto(path);
  await page.getByLabel('Email', { exact: true }).first().fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
}

export interface BrowserSuite {
  server: TestServer;
  browser: Browser;
  shop: Shop;
}

/**
 * One browser and one server with the shop for a test file, started before its tests and closed
 * after them; the returned object is filled in by then.
 */
export function browserSuite(options: () => Promise<ServerOptions> = async () => ({})): BrowserSuite {
  const suite = {} as BrowserSuite;
  beforeAll(async () => {
    const [server, browser] = await Promise.all([browserServer(await options()), launchBrowser()]);
    Object.assign(suite, { server, browser, shop: await setupShop(server) });
  }, 60_000);
  afterAll(async () => {
    await suite.browser?.close();
    await suite.server?.close();
  });
  return suite;
}
