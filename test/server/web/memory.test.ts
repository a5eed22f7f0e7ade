import { describe, expect, it } from 'vitest';
import { createUser } from '../../support/server.js';
import { browserSuite, checkPage, eventually, HOSTILE, newPage, signIn, submitAndReload } from './browser.js';

/** Corporate memory in a real browser (09 §5 scenario 10, and 11 for a hostile title). */
describe('web UI: corporate memory', () => {
  const suite = browserSuite();

  it('contributes as analyst, approves as km_admin, votes as analyst; a hostile title stays text', async () => {
    const km = await createUser(suite.server.ctx, 'km_admin');
    const analyst = await newPage(suite.browser, suite.server);
    await signIn(analyst, suite.shop.analyst);
    await analyst.page.goto('/corporate-memory');
    expect(await analyst.page.getByText('No items match.').count()).toBe(1);
    const contribute = analyst.page.getByRole('form', { name: 'Contribute a knowledge item' });
    await contribute.getByLabel('Title').fill(HOSTILE);
    await contribute.getByLabel('Content').fill('Line one <b>not bold</b>\nLine two');
    await contribute.getByLabel('Category').selectOption('business_logic');
    await contribute.getByLabel('Tags (comma separated)').fill('revenue, <script>');
    await submitAndReload(analyst.page, () => contribute.getByRole('button', { name: 'Contribute' }).click());
    const card = analyst.page.locator('article.memory').first();
    expect(await card.locator('h3').textContent()).toBe(HOSTILE);
    expect(await card.locator('img').count()).toBe(0);
    expect(await card.locator('p.text').textContent()).toBe('Line one <b>not bold</b>\nLine two');
    expect(await card.locator('p.text b').count()).toBe(0);
    expect(await card.textContent()).toContain('pending');
    expect(await card.textContent()).toContain('#<script>');
    // Nothing to vote on while pending.
    expect(await card.locator('button[data-vote]').count()).toBe(0);
    await checkPage(analyst, 'memory-contributed');

    const admin = await newPage(suite.browser, suite.server);
    await signIn(admin, km);
    await admin.page.goto('/corporate-memory/admin');
    await checkPage(admin, 'memory-review');
    await admin.page.getByLabel('Reason (optional)').last().fill('checked with finance');
    await submitAndReload(admin.page, () =>
      admin.page.getByRole('button', { name: `Approve: ${HOSTILE}` }).click(),
    );
    expect(await admin.page.getByText('Nothing to review.').count()).toBe(1);
    await admin.page.goto('/corporate-memory/admin?tab=all');
    expect(await admin.page.locator('article.memory h3').first().textContent()).toBe(HOSTILE);
    await checkPage(admin, 'memory-all-items');
    await admin.page.goto('/corporate-memory/admin?tab=audit');
    const audit = await admin.page.locator('main table').textContent();
    expect(audit).toContain('km_approve');
    expect(audit).toContain('checked with finance');
    await checkPage(admin, 'memory-audit');

    await analyst.page.goto('/corporate-memory');
    const up = analyst.page.getByRole('button', { name: `Vote up: ${HOSTILE}` });
    await up.click();
    await eventually(() => up.getAttribute('aria-pressed')).toBe('true');
    expect(await analyst.page.locator('[data-score]').first().textContent()).toBe('+1');
    await analyst.page.reload();
    expect(await analyst.page.locator('[data-score]').first().textContent()).toBe('+1');
    expect(await up.getAttribute('aria-pressed')).toBe('true');
    await checkPage(analyst, 'memory-voted');

    // A km_admin edits the item (the old version becomes a revision), then revokes it.
    await admin.page.goto('/corporate-memory/admin?tab=all');
    await admin.page.getByText('Edit', { exact: true }).click();
    const edit = admin.page.getByRole('form', { name: `Edit ${HOSTILE}` });
    await edit.getByLabel('Title').fill('Revenue is net of VAT');
    await submitAndReload(admin.page, () => edit.getByRole('button', { name: 'Save' }).click());
    expect(await admin.page.locator('article.memory h3').first().textContent()).toBe('Revenue is net of VAT');
    const [item] = (await suite.server.ctx.repos.knowledge.list()).items;
    expect((await suite.server.ctx.repos.knowledge.revisions(item!.id)).map((r) => r.title)).toEqual([
      HOSTILE,
    ]);
    await submitAndReload(admin.page, () =>
      admin.page.getByRole('button', { name: 'Revoke: Revenue is net of VAT' }).click(),
    );
    expect(await admin.page.locator('article.memory .badge').first().textContent()).toBe('revoked');
    expect([...analyst.problems, ...admin.problems]).toEqual([]);
    await Promise.all([analyst.context.close(), admin.context.close()]);
  });

  it('pins mandatory items first and shows the newest on the dashboard', async () => {
    const km = await createUser(suite.server.ctx, 'km_admin');
    const { repos } = suite.server.ctx;
    const rule = await repos.knowledge.create({
      title: 'Always filter test orders',
      content: 'Exclude orders whose customer_id is 0.',
      category: 'business_logic',
      tags: [],
      status: 'pending',
      contributors: [],
      source_user: null,
      content_hash: null,
      origin: 'collector',
    });
    await repos.knowledge.transition(rule.id, { from: ['pending'], to: 'mandatory', actor: km.id });
    const tracked = await newPage(suite.browser, suite.server);
    await signIn(tracked, suite.shop.analyst);
    await tracked.page.goto('/dashboard');
    const box = tracked.page.getByRole('region', { name: 'Mandatory knowledge' });
    expect(await box.textContent()).toContain('Always filter test orders');
    await tracked.page.goto('/corporate-memory');
    const headings = await tracked.page.locator('main h2').allTextContents();
    expect(headings[0]).toBe('Mandatory');
    const pinned = tracked.page.getByRole('region', { name: 'Mandatory' });
    expect(await pinned.locator('h3').allTextContents()).toEqual(['Always filter test orders']);
    await checkPage(tracked, 'memory-mandatory');
    await tracked.context.close();
  });

  it('gives an analyst the 403 page on the review page and no review link', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    await signIn(tracked, suite.shop.analyst);
    await tracked.page.goto('/dashboard');
    expect(await tracked.page.getByRole('link', { name: 'Memory', exact: true }).count()).toBe(1);
    expect(await tracked.page.getByRole('link', { name: 'Memory review' }).count()).toBe(0);
    const response = await tracked.page.goto('/corporate-memory/admin');
    expect(response?.status()).toBe(403);
    expect(tracked.problems.splice(0).every((p) => p.includes('403'))).toBe(true);
    await tracked.context.close();
  });
});
