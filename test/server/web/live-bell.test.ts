import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { WsGateway } from '../../../src/services/ws-gateway/index.js';
import { dispatch, notification, startGateway } from '../../services/ws-gateway/support.js';
import { freePort } from '../../support/ports.js';
import { createUser, type TestUser } from '../../support/server.js';
import { browserSuite, checkPage, eventually, newPage, SCREENSHOTS, signIn } from './browser.js';

/**
 * The live bell (08 §3, 09): a signed-in page fetches a ticket, connects to a real gateway and
 * counts what the gateway pushes on the header's bell, without a reload, and reconnects when the
 * gateway restarts.
 */
describe('web UI: the live notification bell', () => {
  let wsPort: number;
  let gateway: WsGateway;
  let service: TestUser;
  const suite = browserSuite(async () => {
    wsPort = await freePort();
    return { config: { ws_gateway: { public_url: `ws://127.0.0.1:${wsPort}/ws` } } };
  });
  afterAll(async () => gateway?.stop());

  async function startOwnGateway(): Promise<WsGateway> {
    service ??= await createUser(suite.server.ctx, 'viewer', { service: true });
    return startGateway(suite.server, service.pat, {
      port: wsPort,
      allowedOrigins: new Set([new URL(suite.server.url).origin]),
    });
  }

  it('loads the bell module on signed-in pages when live notifications are configured', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    await signIn(tracked, suite.shop.analyst);
    await tracked.page.goto('/dashboard');
    const sources = await tracked.page
      .locator('script[type=module]')
      .evaluateAll((scripts) => scripts.map((s) => (s as HTMLScriptElement).src));
    expect(sources.some((src) => src.endsWith('/js/notification-bell.js'))).toBe(true);
    await tracked.context.close();
  });

  it('bumps the unread count live for each dispatched notification, across a gateway restart', async () => {
    gateway = await startOwnGateway();
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    const user = suite.shop.analyst;
    await signIn(tracked, user);
    await page.goto('/dashboard');
    const bell = page.locator('#notification-bell');
    const badge = bell.locator('[data-unread-badge]');
    const before = Number(await bell.getAttribute('data-unread-count'));
    await eventually(() => gateway.counts().connections).toBe(1);
    expect(await dispatch(gateway, { user_ids: [user.id], notification: notification('n-1') })).toEqual({
      status: 200,
      body: { sent: 1 },
    });
    await eventually(() => bell.getAttribute('data-unread-count')).toBe(String(before + 1));
    expect(await badge.textContent()).toBe(String(before + 1));
    expect(await badge.isVisible()).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'live-bell-1280.png') });

    await gateway.stop();
    gateway = await startOwnGateway();
    await eventually(() => gateway.counts().connections).toBe(1);
    await dispatch(gateway, { user_ids: [user.id], notification: notification('n-2') });
    await eventually(() => bell.getAttribute('data-unread-count')).toBe(String(before + 2));
    expect(await bell.getAttribute('aria-label')).toBe(`Notifications: ${before + 2} unread`);
    await checkPage(tracked, 'live-bell');
    await tracked.context.close();
  });
});
