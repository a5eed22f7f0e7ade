import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assetUrl } from '../../../src/server/web/assets.js';
import type { WsGateway } from '../../../src/services/ws-gateway/index.js';
import { dispatch, notification, startGateway } from '../../services/ws-gateway/support.js';
import { freePort } from '../../support/ports.js';
import { createUser, type TestUser } from '../../support/server.js';
import { browserSuite, checkPage, eventually, newPage, SCREENSHOTS, signIn } from './browser.js';

/**
 * The live bell (08 §3, 09): a signed-in page fetches a ticket, connects to a real gateway and
 * counts what the gateway pushes, without a reload, and reconnects when the gateway restarts.
 */
describe('web UI: the live notification bell', () => {
  let wsPort: number;
  let gateway: WsGateway;
  let service: TestUser;
  const suite = browserSuite(async () => {
    wsPort = await freePort();
    return {
      config: { ws_gateway: { public_url: `ws://127.0.0.1:${wsPort}/ws` } },
      // The header's bell element belongs to the layout; this page holds one so the script has a target.
      extend: (app) =>
        app.get('/test/bell', { config: { auth: 'user' }, schema: { hide: true } }, async (_request, reply) =>
          reply
            .type('text/html; charset=utf-8')
            .send(
              `<!doctype html><html lang="en"><head><title>Bell</title><link rel="icon" href="data:,">` +
                `<script type="module" src="${assetUrl('js/notification-bell.js')}"></script></head>` +
                `<body><main><h1>Bell</h1><p id="notification-bell" data-unread-count="0">Notifications</p></main></body></html>`,
            ),
        ),
    };
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
    await page.goto('/test/bell');
    const bell = page.locator('#notification-bell');
    await eventually(() => gateway.counts().connections).toBe(1);
    expect(await dispatch(gateway, { user_ids: [user.id], notification: notification('n-1') })).toEqual({
      status: 200,
      body: { sent: 1 },
    });
    await eventually(() => bell.getAttribute('data-unread-count')).toBe('1');
    await page.screenshot({ path: join(SCREENSHOTS, 'live-bell-1280.png') });

    await gateway.stop();
    gateway = await startOwnGateway();
    await eventually(() => gateway.counts().connections).toBe(1);
    await dispatch(gateway, { user_ids: [user.id], notification: notification('n-2') });
    await eventually(() => bell.getAttribute('data-unread-count')).toBe('2');
    await checkPage(tracked, 'live-bell');
    await tracked.context.close();
  });
});
