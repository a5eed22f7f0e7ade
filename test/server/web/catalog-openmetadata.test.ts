import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenMetadata } from '../../fakes/openmetadata.js';
import { browserSuite, checkPage, HOSTILE, newPage, signIn } from './browser.js';

/**
 * The table page with OpenMetadata facts in Chromium (09 §2 `/catalog/{id}`): hostile catalog
 * text shows as text, runs nothing, and the page still passes the automated checks of 09 §5.
 */
describe('web UI: OpenMetadata on the table page', () => {
  let fake: FakeOpenMetadata;
  const encoded = HOSTILE.replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  const suite = browserSuite(async () => {
    fake = await FakeOpenMetadata.start();
    fake.addTable('warehouse.shop.sales.orders', {
      description: `<p>Orders ${encoded}</p><script>alert(2)</script><img src=x onerror=alert(3)>`,
      owners: [{ type: 'team', name: 'sales', displayName: `Sales ${HOSTILE}` }],
      tags: [{ tagFQN: 'Tier.Tier1' }, { tagFQN: 'PersonalData.Personal' }, { tagFQN: `Hostile.${HOSTILE}` }],
      columns: [{ name: 'amount', description: `<p>Gross amount ${encoded}</p>` }],
    });
    return {
      config: { openmetadata: { fqn_template: 'warehouse.shop.{bucket}.{id}' } },
      env: { OPENMETADATA_URL: fake.url, OPENMETADATA_TOKEN: fake.token },
    };
  });
  beforeAll(async () => {
    await suite.server.ctx.repos.registry.update('orders', { description: null });
  });
  afterAll(async () => fake?.close());

  it('shows owners, tier, tags, link and column notes as text', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    await signIn(tracked, suite.shop.analyst, '/login?next=/catalog/orders');
    await page.goto('/catalog/orders');
    const facts = page.getByRole('region', { name: 'Table facts' });
    expect(await facts.getByText(`Orders ${HOSTILE}`).isVisible()).toBe(true);
    const catalog = page.getByRole('region', { name: 'OpenMetadata' });
    expect(await catalog.textContent()).toContain(`Sales ${HOSTILE}`);
    expect(await catalog.textContent()).toContain('Tier1');
    expect(await catalog.textContent()).toContain('PersonalData.Personal');
    const link = page.getByRole('link', { name: 'Open in OpenMetadata' });
    expect(await link.getAttribute('href')).toBe(`${fake.url}/table/warehouse.shop.sales.orders`);
    expect(await page.getByText(`Gross amount ${HOSTILE}`).isVisible()).toBe(true);
    expect(await page.locator('img').count()).toBe(0);
    await checkPage(tracked, 'table-openmetadata');
    await tracked.context.close();
  });
});
