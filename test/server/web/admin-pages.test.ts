import { describe, expect, it } from 'vitest';
import { browserSuite, checkPage, eventually, newPage, signIn, submitAndReload } from './browser.js';

/** Access requests, the admin pages and the activity center in a real browser (09 §5 scenarios 4, 5, 7, 9). */
describe('web UI: access requests and administration', () => {
  const suite = browserSuite();

  it('gives an analyst the 403 page on admin pages', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    await signIn(tracked, suite.shop.analyst);
    for (const path of ['/admin/tables', '/admin/users', '/admin/permissions', '/admin/groups']) {
      const response = await tracked.page.goto(path);
      expect(response?.status()).toBe(403);
      expect(await tracked.page.locator('h1').textContent()).toBe('Access denied');
    }
    expect(tracked.problems.splice(0).every((p) => p.includes('403'))).toBe(true);
    await checkPage(tracked, 'forbidden');
    await tracked.context.close();
  });

  it('requests access as analyst, approves as admin, then the analyst reads the table', async () => {
    const analyst = await newPage(suite.browser, suite.server);
    await signIn(analyst, suite.shop.analyst);
    await analyst.page.goto('/catalog/customers');
    await analyst.page.getByText('Request access').click();
    await analyst.page.getByLabel('Why do you need customers?').fill('churn analysis');
    await analyst.page.getByRole('button', { name: 'Send request' }).click();
    await eventually(() => analyst.page.locator('main').textContent()).toContain('Pending');
    await analyst.page.goto('/access-requests');
    expect(await analyst.page.locator('main').textContent()).toContain('churn analysis');
    await checkPage(analyst, 'access-requests');

    const admin = await newPage(suite.browser, suite.server);
    await signIn(admin, suite.shop.admin);
    await admin.page.goto('/access-requests');
    await checkPage(admin, 'access-requests-admin');
    await admin.page
      .getByRole('button', { name: `Approve ${suite.shop.analyst.email} for customers` })
      .click();
    await eventually(() => admin.page.locator('main').textContent()).toContain('Nothing to review');

    await analyst.page.goto('/catalog/customers');
    expect(await analyst.page.getByRole('heading', { name: 'Sample rows' }).count()).toBe(1);
    expect(await analyst.page.locator('main').textContent()).toContain('c1');
    await analyst.page.getByRole('button', { name: 'Preview 20 rows' }).click();
    await eventually(() => analyst.page.locator('#preview-rows tbody tr').count()).toBe(7);
    expect([...analyst.problems, ...admin.problems]).toEqual([]);
    await Promise.all([analyst.context.close(), admin.context.close()]);
  });

  it('registers a table, rebuilds, shows the report, and lists the table as published', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    await signIn(tracked, suite.shop.admin);
    await page.goto('/admin/tables');
    await eventually(() => page.locator('#sources').textContent()).toContain('shop');
    await checkPage(tracked, 'admin-tables');
    await page.getByLabel('Name', { exact: true }).last().fill('returns');
    await page.getByLabel('Description').last().fill('Returned orders');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await expect
      .poll(() => page.locator('section', { hasText: 'Registry' }).textContent())
      .toContain('returns');
    await page.getByLabel('Source', { exact: true }).first().selectOption('shop');
    await page.getByRole('button', { name: 'Rebuild', exact: true }).click();
    const report = page.locator('pre[data-result-value]').first();
    await eventually(() => report.textContent()).toContain('returns');
    await page.getByRole('button', { name: 'Sync now' }).click();
    const syncStatus = page.locator('form[data-poll] [data-status]');
    // The shop's extract was written by hand: no configured source can sync it.
    await eventually(() => syncStatus.textContent()).toContain('source_not_configured');
    await page.goto('/admin/tables');
    const row = page
      .locator('tr', { hasText: 'Returned orders' })
      .or(page.locator('tr', { has: page.locator('code', { hasText: /^returns$/ }) }));
    expect(await row.first().textContent()).toContain('12');
    expect(tracked.problems).toEqual([]);
    await tracked.context.close();
  });

  it('manages users, groups and permissions, and shows the activity center', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    await signIn(tracked, suite.shop.admin);
    await page.goto('/admin/users');
    await checkPage(tracked, 'admin-users');
    await page.getByLabel('Email', { exact: true }).fill('new.person@example.com');
    await page.getByLabel('Name', { exact: true }).fill('New Person');
    // No mail server is configured, so the invite link is shown once instead of sent.
    await page.getByRole('button', { name: 'Create user' }).click();
    await expect
      .poll(() => page.locator('pre[data-result-value]').textContent())
      .toContain('/auth/password/setup?token=');

    await page.goto('/admin/groups');
    await checkPage(tracked, 'admin-groups');
    await page.getByLabel('Name', { exact: true }).fill('Finance');
    await submitAndReload(page, () => page.getByRole('button', { name: 'Create group' }).click());
    await page.getByRole('link', { name: 'Finance' }).click();
    await page.waitForURL(/\/admin\/groups\/.+/);
    await page.getByLabel('Add user').selectOption({ label: suite.shop.analyst.email });
    await submitAndReload(page, () => page.getByRole('button', { name: 'Add member' }).click());
    expect(await page.locator('main ul').first().textContent()).toContain(suite.shop.analyst.email);
    await checkPage(tracked, 'admin-group');

    await page.goto('/admin/permissions');
    await checkPage(tracked, 'admin-permissions');
    await page.getByLabel('User', { exact: true }).first().selectOption({ label: suite.shop.analyst.email });
    await page.getByLabel('Table or bucket').selectOption('hr.*');
    await submitAndReload(page, () => page.getByRole('button', { name: 'Grant read access' }).click());
    expect(await page.locator('main table').textContent()).toContain('hr.*');

    await page.goto('/activity-center');
    expect(await page.locator('main').textContent()).toContain('permission.grant');
    await checkPage(tracked, 'activity');
    await tracked.context.close();
  });
});
