import { describe, expect, it } from 'vitest';
import { createUser } from '../../support/server.js';
import { browserSuite, checkPage, eventually, newPage, signIn } from './browser.js';

/** Login, logout, dashboard, catalog, table page and account in a real browser (09 §5 scenarios 1, 2, 4, 8). */
describe('web UI: core pages', () => {
  const suite = browserSuite();

  it('signs in with a password, shows the da commands for this server, and signs out', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page, context } = tracked;
    await page.goto('/login');
    await checkPage(tracked, 'login');
    await signIn(tracked, suite.shop.analyst);
    expect(new URL(page.url()).pathname).toBe('/dashboard');
    await eventually(() => page.locator('main').textContent()).toContain(
      `da auth login --server '${suite.server.url}'`,
    );
    await checkPage(tracked, 'dashboard');
    const session = (await context.cookies()).find((c) => c.name === 'access_token');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login');
    expect((await context.cookies()).find((c) => c.name === 'access_token')).toBeUndefined();
    await page.goto('/dashboard');
    expect(new URL(page.url()).pathname).toBe('/login');
    await context.close();
  });

  it('sends a signed-out visitor to sign in and back to the page they asked for', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    await page.goto('/catalog?q=ord');
    expect(page.url()).toBe(`${suite.server.url}/login?next=${encodeURIComponent('/catalog?q=ord')}`);
    await signIn(tracked, suite.shop.analyst, page.url());
    expect(page.url()).toBe(`${suite.server.url}/catalog?q=ord`);
    await tracked.context.close();
  });

  it('browses the catalog, opens a profile with a histogram and alerts, and hides forbidden tables', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    await signIn(tracked, suite.shop.analyst);
    await page.goto('/catalog');
    await checkPage(tracked, 'catalog');
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain('orders');
    expect(text).toContain('customers');
    expect(text).not.toContain('secret_salaries');
    await page.getByLabel('Search').fill('cust');
    await page.getByRole('button', { name: 'Filter' }).click();
    await eventually(() => page.locator('main table').textContent()).not.toContain('All orders');
    await page.goto('/catalog');
    await page.getByRole('link', { name: 'orders', exact: true }).click();
    await page.waitForURL('**/catalog/orders');
    expect(await page.locator('svg.hist').count()).toBeGreaterThan(0);
    expect(await page.getByRole('heading', { name: 'Alerts' }).count()).toBe(1);
    await page.getByText('Details of amount').click();
    await checkPage(tracked, 'catalog-table');
    const forbidden = await page.goto('/catalog/secret_salaries');
    expect(forbidden?.status()).toBe(404);
    expect(await page.locator('body').textContent()).not.toContain('salary');
    // The browser logs that deliberate 404 as a console error; nothing else may appear.
    expect(tracked.problems.splice(0)).toEqual([expect.stringContaining('404')]);
    await page.goto('/catalog/customers');
    expect(await page.locator('main').textContent()).not.toContain('c1');
    await checkPage(tracked, 'catalog-table-locked');
    await tracked.context.close();
  });

  it('creates a personal access token shown once, lists only its prefix after a reload, and revokes it', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    await signIn(tracked, suite.shop.analyst);
    await page.goto('/account');
    await checkPage(tracked, 'account');
    await page.getByLabel('Token name').fill('laptop');
    await page.getByLabel('Token name').press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    const secret = page.locator('#new-token');
    await eventually(() => secret.textContent()).toMatch(/^agnes_pat_/);
    const token = (await secret.textContent()) ?? '';
    await page.reload();
    const row = page.locator('tr', { hasText: 'laptop' });
    expect(await row.textContent()).not.toContain(token);
    expect(await page.locator('body').textContent()).not.toContain(token);
    await row.getByRole('button', { name: 'Revoke token laptop' }).click();
    await eventually(() => page.locator('tr', { hasText: 'laptop' }).textContent()).toContain('revoked');
    expect(tracked.problems).toEqual([]);
    await tracked.context.close();
  });

  it('runs a query with Ctrl+Enter, shows rows and the row cap, and shows the error for a forbidden table', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    await signIn(tracked, suite.shop.analyst);
    await page.goto('/catalog/orders');
    await page.getByRole('link', { name: 'Open in SQL console' }).click();
    await page.waitForURL('**/sql?q=*');
    expect(await page.getByLabel('SQL').inputValue()).toBe('SELECT * FROM "orders" LIMIT 100');
    await page.getByLabel('Row limit').selectOption('100');
    await page
      .getByLabel('SQL')
      .fill('SELECT order_id, status, NULL AS nothing FROM orders ORDER BY order_id');
    await page.getByLabel('SQL').press('Control+Enter');
    await eventually(() => page.locator('#summary').textContent()).toContain('100 rows');
    expect(await page.locator('#summary').textContent()).toContain('Truncated at the row limit of 100');
    expect(await page.locator('#results tbody tr').count()).toBe(100);
    expect(await page.locator('#results td .null').first().textContent()).toBe('NULL');
    await checkPage(tracked, 'sql');

    await page.getByLabel('SQL').fill('SELECT * FROM secret_salaries');
    await page.getByRole('button', { name: 'Run' }).click();
    const error = page.locator('#error');
    await eventually(() => error.isVisible()).toBe(true);
    expect(await error.textContent()).toMatch(/\((unknown_table|table_forbidden|no_access)\)/);
    expect(await page.locator('#results').textContent()).toBe('');
    // The refusal is a 4xx the browser logs; nothing else may appear.
    expect(tracked.problems.splice(0).every((p) => /status of 4\d\d/.test(p))).toBe(true);
    await page.getByText('Recent queries').click();
    expect(await page.locator('#history').textContent()).toContain('secret_salaries');
    await tracked.context.close();
  });

  it('refuses the SQL console to a viewer with the 403 page', async () => {
    const viewer = await createUser(suite.server.ctx, 'viewer');
    const tracked = await newPage(suite.browser, suite.server);
    await signIn(tracked, viewer);
    const response = await tracked.page.goto('/sql');
    expect(response?.status()).toBe(403);
    expect(await tracked.page.locator('main').textContent()).toContain('requires role analyst');
    await tracked.context.close();
  });
});
