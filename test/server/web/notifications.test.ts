import { describe, expect, it } from 'vitest';
import { notifyUsers } from '../../../src/core/notifications/notify.js';
import { call, createUser } from '../../support/server.js';
import { browserSuite, checkPage, eventually, HOSTILE, newPage, signIn, submitAndReload } from './browser.js';

/** The notification bell and the inbox of the activity center in a real browser (09 §1 layout, §2). */
describe('web UI: notifications', () => {
  const suite = browserSuite();

  it('shows the unread count on the bell, lists the inbox escaped, and marks one and then all read', async () => {
    const { server } = suite;
    const user = await createUser(server.ctx, 'viewer');
    for (const [title, message] of [
      ['Orders dropped', 'Fewer than 10 orders today'],
      [HOSTILE, `Line one\n${HOSTILE}`],
      ['Access granted', 'You can now read orders.'],
    ] as const) {
      await notifyUsers(server.ctx.repos, server.ctx.config, [user.id], {
        title,
        message,
        sourceKind: 'alert',
        sourceId: null,
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }

    const tracked = await newPage(suite.browser, server);
    const { page } = tracked;
    await signIn(tracked, user);
    await page.goto('/dashboard');
    const bell = page.locator('#notification-bell');
    expect(await bell.getAttribute('data-unread-count')).toBe('3');
    expect(await bell.getAttribute('aria-label')).toBe('Notifications: 3 unread');
    expect(await bell.locator('[data-unread-badge]').textContent()).toBe('3');
    expect(await bell.locator('[data-unread-badge]').isVisible()).toBe(true);

    await bell.click();
    await page.waitForURL((url) => url.pathname === '/activity-center');
    const rows = page.locator('tr[data-notification-id]');
    expect(await rows.count()).toBe(3);
    // Newest first; the hostile title is text, not markup (checkPage fails on any dialog).
    expect(await rows.nth(0).locator('td').nth(1).textContent()).toBe('Access granted');
    expect(await rows.nth(1).locator('td').nth(1).textContent()).toBe(HOSTILE);
    expect(await page.locator('main img').count()).toBe(0);
    await checkPage(tracked, 'notifications');

    await submitAndReload(page, () =>
      page.getByRole('button', { name: 'Mark “Orders dropped” read' }).click(),
    );
    await eventually(() => page.locator('#notification-bell').getAttribute('data-unread-count')).toBe('2');
    expect(await page.locator('tr.unread').count()).toBe(2);

    await submitAndReload(page, () =>
      page.getByRole('button', { name: 'Mark all notifications read' }).click(),
    );
    await eventually(() => page.locator('#notification-bell').getAttribute('data-unread-count')).toBe('0');
    expect(await page.locator('#notification-bell [data-unread-badge]').isVisible()).toBe(false);
    expect(await page.locator('tr.unread').count()).toBe(0);
    expect(await page.locator('#notifications').textContent()).toContain('0 unread');
    await checkPage(tracked, 'notifications-read');
    const inbox = await call(server, 'GET', '/api/notifications', { auth: user.auth });
    expect(inbox.body.unread_count).toBe(0);
    expect(tracked.problems).toEqual([]);
    await tracked.context.close();
  });
});
