import { describe, expect, it } from 'vitest';
import { createUser } from '../../support/server.js';
import { browserSuite, checkPage, eventually, HOSTILE, newPage, signIn, submitAndReload } from './browser.js';

/** The alerts page in a real browser (09 §2 `/alerts`): create, test with the rendered message, disable, delete. */
describe('web UI: alerts', () => {
  const suite = browserSuite();

  it('creates an alert, tests it, shows the rendered message and preview as text, disables and deletes it', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    await signIn(tracked, suite.shop.analyst);
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    await page.waitForURL('**/alerts');
    await checkPage(tracked, 'alerts-empty');
    // Telegram is not linked, so it cannot be chosen.
    expect(await page.getByLabel('Telegram').isDisabled()).toBe(true);

    await page.getByLabel('Name').fill(`Open orders ${HOSTILE}`);
    await page
      .getByLabel('SQL')
      .fill("SELECT order_id, status FROM orders WHERE status = 'open' ORDER BY order_id");
    await page.getByLabel('Type').selectOption('row_count');
    await page.getByLabel('Operator').selectOption('>');
    await page.getByLabel('Threshold').fill('10');
    await page.getByLabel('Message template').fill('{{alert_name}}: {{row_count}} open, first {{order_id}}');
    await page.getByLabel('Schedule').fill('every 15m');
    await page.getByLabel('Cooldown (minutes)').fill('30');
    await submitAndReload(page, () => page.getByRole('button', { name: 'Create alert' }).click());
    expect(new URL(page.url()).pathname).toBe('/alerts');
    const row = page.locator('main table tbody tr').first();
    expect(await row.textContent()).toContain(`Open orders ${HOSTILE}`);
    expect(await row.textContent()).toContain('every 15m');

    await page.getByRole('button', { name: `Test Open orders ${HOSTILE}` }).click();
    await eventually(() => page.locator('#test-summary').textContent()).toContain('it would fire');
    expect(await page.locator('#test-message').textContent()).toBe(
      `Open orders ${HOSTILE}: 67 open, first 0`,
    );
    expect(await page.locator('#test-preview tbody tr').count()).toBe(10);
    await checkPage(tracked, 'alerts-tested');

    await page.getByRole('link', { name: `Open orders ${HOSTILE}` }).click();
    await page.waitForURL('**/alerts?edit=*');
    expect(await page.getByLabel('Threshold').inputValue()).toBe('10');
    await checkPage(tracked, 'alerts-edit');
    await page.getByLabel('Threshold').fill('100');
    await Promise.all([
      page.waitForURL((url) => url.search === ''),
      page.getByRole('button', { name: 'Save' }).click(),
    ]);
    expect(await page.locator('main table tbody tr').first().textContent()).toContain('row_count > 100');
    await page.getByRole('button', { name: `Test Open orders ${HOSTILE}` }).click();
    await eventually(() => page.locator('#test-summary').textContent()).toContain('does not hold');

    await submitAndReload(page, () =>
      page.getByRole('button', { name: `Disable Open orders ${HOSTILE}` }).click(),
    );
    expect(await page.locator('main table tbody tr').first().textContent()).toContain('disabled');
    await submitAndReload(page, () =>
      page.getByRole('button', { name: `Delete Open orders ${HOSTILE}` }).click(),
    );
    expect(await page.locator('main').textContent()).toContain('No alerts yet');
    expect(tracked.problems).toEqual([]);
    await tracked.context.close();
  });

  it('shows the guard’s refusal of a forbidden table in the form', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    await signIn(tracked, suite.shop.analyst);
    await page.goto('/alerts');
    await page.getByLabel('Name').fill('Customers');
    await page.getByLabel('SQL').fill('SELECT count(*) FROM customers');
    await page.getByRole('button', { name: 'Create alert' }).click();
    await eventually(() => page.locator('#alert-form [data-status]').textContent()).toContain(
      '(table_forbidden)',
    );
    expect(tracked.problems.splice(0).every((p) => /status of 4\d\d/.test(p))).toBe(true);
    await tracked.context.close();
  });

  it('is not offered to a viewer, who gets the 403 page', async () => {
    const viewer = await createUser(suite.server.ctx, 'viewer');
    const tracked = await newPage(suite.browser, suite.server);
    await signIn(tracked, viewer);
    expect(await tracked.page.getByRole('link', { name: 'Alerts', exact: true }).count()).toBe(0);
    const response = await tracked.page.goto('/alerts');
    expect(response?.status()).toBe(403);
    await tracked.context.close();
  });
});
