import { describe, expect, it } from 'vitest';
import { call } from '../../support/server.js';
import { browserSuite, checkPage, eventually, HOSTILE, newPage, signIn, submitAndReload } from './browser.js';

/** Row and column policies in a real browser (12 §5): the admin Policies section and the attributes editor. */
describe('web UI: row policies', () => {
  const suite = browserSuite();

  it('adds a policy, shows a refused filter inline, edits it, and confirms that deleting the last one unbinds the table', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    await signIn(tracked, suite.shop.admin);
    await page.goto('/admin/tables');
    await page.getByRole('link', { name: 'orders', exact: true }).click();
    await page.waitForURL('**/admin/tables/orders');
    expect(await page.locator('main').textContent()).toContain('No policies');
    await checkPage(tracked, 'admin-table-policies-empty');

    await page.getByLabel('Name', { exact: true }).fill('Open orders');
    await page.getByLabel('Row filter').fill('order_id IN (SELECT customer_id FROM customers)');
    await page.getByLabel('Everyone').check();
    await page.getByRole('button', { name: 'Add policy' }).click();
    const error = page.locator('#policy-error');
    await eventually(() => error.textContent()).toContain('(invalid_policy)');
    expect(await error.isVisible()).toBe(true);
    // The filter's text is never echoed back in the refusal (12 §2).
    expect(await error.textContent()).not.toContain('customers');
    expect(tracked.problems.splice(0).every((p) => /status of 422/.test(p))).toBe(true);
    await checkPage(tracked, 'admin-table-policies-refused');

    await page.getByLabel('Row filter').fill("status = 'open'");
    await page.getByLabel('customer_id').selectOption('hash');
    await submitAndReload(page, () => page.getByRole('button', { name: 'Add policy' }).click());
    const row = page.locator('main table tbody tr', { hasText: 'Open orders' });
    expect(await row.textContent()).toContain("status = 'open'");
    expect(await row.textContent()).toContain('everyone');
    expect(await row.textContent()).toContain('customer_id (hash)');
    expect(await row.textContent()).toContain('enabled');
    await checkPage(tracked, 'admin-table-policies');
    await page.goto('/admin/tables');
    const registryRow = page.locator('tr', { has: page.locator('code', { hasText: /^orders$/ }) });
    expect(await registryRow.textContent()).toContain('1 row policy');
    await page.goto('/admin/tables/orders');

    await page.getByRole('link', { name: 'Edit policy Open orders' }).click();
    await page.waitForURL('**/admin/tables/orders?edit=*');
    expect(await page.getByLabel('Row filter').inputValue()).toBe("status = 'open'");
    expect(await page.getByLabel('customer_id').inputValue()).toBe('hash');
    await page.getByLabel('Row filter').fill("status = 'closed'");
    await page.getByLabel('Everyone').uncheck();
    await page.getByLabel('Users').selectOption({ label: suite.shop.analyst.email });
    await page.getByLabel('Enabled').uncheck();
    await checkPage(tracked, 'admin-table-policy-edit');
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/admin/tables/orders' && url.search === ''),
      page.getByRole('button', { name: 'Save policy' }).click(),
    ]);
    const edited = page.locator('main table tbody tr', { hasText: 'Open orders' });
    expect(await edited.textContent()).toContain("status = 'closed'");
    expect(await edited.textContent()).toContain(suite.shop.analyst.email);
    expect(await edited.textContent()).toContain('disabled');
    const { body } = await call(suite.server, 'GET', '/api/admin/tables/orders/policies', {
      auth: suite.shop.admin.auth,
    });
    expect(body.policies).toHaveLength(1);
    expect(body.policies[0]).toMatchObject({
      row_filter: "status = 'closed'",
      applies_to: { everyone: false, users: [suite.shop.analyst.id], groups: [] },
      masked_columns: [{ column: 'customer_id', mask: 'hash' }],
      enabled: false,
    });

    const confirmations: string[] = [];
    page.on('dialog', (dialog) => {
      confirmations.push(dialog.message());
    });
    await submitAndReload(page, () =>
      page.getByRole('button', { name: 'Delete policy Open orders' }).click(),
    );
    expect(confirmations).toHaveLength(1);
    expect(confirmations[0]).toContain('last policy of orders');
    expect(confirmations[0]).toContain('UNBINDS the table');
    expect(await page.locator('main').textContent()).toContain('No policies');
    expect(tracked.problems).toEqual([]);
    await tracked.context.close();
  });

  it('shows a policy that no longer binds with its reason, where nobody can miss it', async () => {
    const created = await call(suite.server, 'POST', '/api/admin/tables/orders/policies', {
      auth: suite.shop.admin.auth,
      body: {
        name: `By status ${HOSTILE}`,
        description: HOSTILE,
        applies_to: { everyone: true, users: [], groups: [] },
        row_filter: "status = 'open'",
      },
    });
    expect(created.status).toBe(201);
    await suite.server.ctx.repos.policies.setError(created.body.id, 'column status no longer exists');
    const tracked = await newPage(suite.browser, suite.server);
    await signIn(tracked, suite.shop.admin);
    await tracked.page.goto('/admin/tables/orders');
    const error = tracked.page.locator('main table .notice.error');
    expect(await error.textContent()).toContain('does not bind');
    expect(await error.textContent()).toContain('column status no longer exists');
    expect(await error.isVisible()).toBe(true);
    // Names and descriptions are text on the page, never markup (09 §5 scenario 11).
    expect(await tracked.page.getByRole('link', { name: `By status ${HOSTILE}`, exact: true }).count()).toBe(
      1,
    );
    expect(await tracked.page.locator('main img').count()).toBe(0);
    await checkPage(tracked, 'admin-table-policy-error');
    await call(suite.server, 'DELETE', `/api/admin/policies/${created.body.id}`, {
      auth: suite.shop.admin.auth,
    });
    await tracked.context.close();
  });

  it('previews what a user would see with the draft being edited, before saving', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    await signIn(tracked, suite.shop.admin);
    await page.goto('/admin/tables/orders');
    await page.getByLabel('Name', { exact: true }).fill('Open orders');
    await page.getByLabel('Row filter').fill("status = 'open'");
    await page.getByLabel('Users').selectOption({ label: suite.shop.analyst.email });
    await page.getByLabel('customer_id').selectOption('null');
    await page.getByLabel('User', { exact: true }).selectOption({ label: suite.shop.analyst.email });
    await page.getByRole('button', { name: 'Preview' }).click();
    await eventually(() => page.locator('#preview-summary').textContent()).toContain('67 rows');
    expect(await page.locator('#preview-summary').textContent()).toContain('Open orders');
    expect(await page.locator('#preview-filter').textContent()).toContain("status = 'open'");
    expect(await page.locator('#preview-masked').textContent()).toContain('customer_id (null)');
    expect(await page.locator('#preview-rows tbody tr').count()).toBe(20);
    await checkPage(tracked, 'admin-table-policy-preview');
    // Nothing was saved.
    const { body } = await call(suite.server, 'GET', '/api/admin/tables/orders/policies', {
      auth: suite.shop.admin.auth,
    });
    expect(body.policies).toEqual([]);
    expect(tracked.problems).toEqual([]);
    await tracked.context.close();
  });

  it('tells a bound reader which policy filters the table and which columns are masked, or that no rows were given', async () => {
    const { admin, analyst } = suite.shop;
    const created = await call(suite.server, 'POST', '/api/admin/tables/orders/policies', {
      auth: admin.auth,
      body: {
        name: 'Open only',
        applies_to: { everyone: false, users: [analyst.id], groups: [] },
        row_filter: "status = 'open'",
        masked_columns: [{ column: 'customer_id', mask: 'hash' }],
      },
    });
    expect(created.status).toBe(201);
    const reader = await newPage(suite.browser, suite.server);
    await signIn(reader, analyst);
    await reader.page.goto('/catalog/orders');
    const main = reader.page.locator('main');
    expect(await main.textContent()).toContain('Rows filtered by policy: Open only.');
    expect(await main.textContent()).toContain('customer_id (hash)');
    expect(await reader.page.locator('tr', { hasText: 'customer_id' }).first().textContent()).toContain(
      'masked (hash)',
    );
    await checkPage(reader, 'catalog-table-filtered');

    await call(suite.server, 'PUT', `/api/admin/policies/${created.body.id}`, {
      auth: admin.auth,
      body: { applies_to: { everyone: false, users: [admin.id], groups: [] } },
    });
    await reader.page.reload();
    expect(await main.textContent()).toContain("The table's owner has not given you any rows");
    await checkPage(reader, 'catalog-table-no-rows');

    const owner = await newPage(suite.browser, suite.server);
    await signIn(owner, admin);
    await owner.page.goto('/catalog/orders');
    const section = owner.page.locator('section', { hasText: 'Row policies' });
    expect(await section.textContent()).toContain('Open only');
    expect(await section.textContent()).toContain("status = 'open'");
    await checkPage(owner, 'catalog-table-policies-admin');
    await call(suite.server, 'DELETE', `/api/admin/policies/${created.body.id}`, { auth: admin.auth });
    expect([...reader.problems, ...owner.problems]).toEqual([]);
    await Promise.all([reader.context.close(), owner.context.close()]);
  });

  it('edits a user’s attributes, keeping values exactly as typed, beside the derived ones', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    const { analyst } = suite.shop;
    await signIn(tracked, suite.shop.admin);
    await page.goto('/admin/users');
    await page.locator(`a[href="/admin/users/${analyst.id}"]`).click();
    await page.waitForURL(`**/admin/users/${analyst.id}`);
    expect(await page.locator('dl.facts').last().textContent()).toContain(analyst.email);
    await checkPage(tracked, 'admin-user-attributes-empty');

    await page.getByLabel('Key').fill('regions');
    await page.getByLabel('Values (one per line)').fill("EU\n o'brien \nEU");
    await page.getByRole('button', { name: 'Add attribute' }).click();
    await page.getByLabel('Key').last().fill('teams');
    await page.getByLabel('Values (one per line)').last().fill('red');
    await submitAndReload(page, () => page.getByRole('button', { name: 'Save attributes' }).click());
    const { body } = await call(suite.server, 'GET', `/api/admin/users/${analyst.id}/attributes`, {
      auth: suite.shop.admin.auth,
    });
    expect(body.attributes).toEqual({ regions: ['EU', " o'brien "], teams: ['red'] });
    expect(await page.getByLabel('Key').first().inputValue()).toBe('regions');
    expect(await page.getByLabel('Values (one per line)').first().inputValue()).toBe("EU\n o'brien ");
    await checkPage(tracked, 'admin-user-attributes');

    await page.getByLabel('Key').last().fill('user_id');
    await page.getByRole('button', { name: 'Save attributes' }).click();
    await eventually(() => page.locator('#attributes-form [data-status]').textContent()).toContain('derived');
    expect(tracked.problems.splice(0).every((p) => /status of 422/.test(p))).toBe(true);

    await page.getByRole('button', { name: 'Remove' }).last().click();
    await submitAndReload(page, () => page.getByRole('button', { name: 'Save attributes' }).click());
    const after = await call(suite.server, 'GET', `/api/admin/users/${analyst.id}/attributes`, {
      auth: suite.shop.admin.auth,
    });
    expect(after.body.attributes).toEqual({ regions: ['EU', " o'brien "] });
    expect(tracked.problems).toEqual([]);
    await tracked.context.close();
  });
});
