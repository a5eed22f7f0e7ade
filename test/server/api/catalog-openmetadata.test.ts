import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenMetadata } from '../../fakes/openmetadata.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { type Shop, setupShop } from '../../support/shop.js';

/**
 * OpenMetadata enrichment of the catalog (07 §6) through the real server and a fake OpenMetadata:
 * only for tables the caller can see, never failing a catalog request, and rendered escaped.
 */

const ORDERS_FQN = 'warehouse.shop.public."orders.v2 (main)"';
const ORDERS_PATH = '/api/v1/tables/name/warehouse.shop.public.%22orders.v2%20(main)%22';
const HOSTILE =
  '<p>Every order.</p><script>alert("pwned")</script><p>&lt;script&gt;x()&lt;/script&gt;\u0007 end</p>';

describe('catalog enrichment from OpenMetadata', () => {
  let fake: FakeOpenMetadata;
  let server: TestServer;
  let shop: Shop;
  let viewer: TestUser;

  beforeAll(async () => {
    fake = await FakeOpenMetadata.start();
    fake.addTable(ORDERS_FQN, {
      description: HOSTILE,
      owners: [{ type: 'team', name: 'sales', displayName: 'Sales Ops' }],
      tags: [{ tagFQN: 'Tier.Tier1' }, { tagFQN: 'Domain.Sales' }],
      columns: [
        {
          name: 'order_id',
          dataType: 'BIGINT',
          description: '<p>Primary <em>key</em></p>',
          tags: [{ tagFQN: 'PK.Yes' }],
        },
        { name: 'AMOUNT', dataType: 'DECIMAL', description: 'Gross amount in EUR' },
      ],
    });
    fake.addTable('warehouse.shop.crm.customers', {
      description: '<p>From the catalog</p>',
      owners: [{ type: 'user', name: 'crm.owner' }],
      columns: [{ name: 'name', description: 'Full name' }],
    });
    fake.addTable('warehouse.shop.hr.secret_salaries', { owners: [{ type: 'user', name: 'hr' }] });
    fake.addTable('warehouse.shop.sales.returns', { description: 'never served' });
    server = await withServer({
      config: { openmetadata: { fqn_template: 'warehouse.shop.{bucket}.{id}' } },
      env: { OPENMETADATA_URL: fake.url, OPENMETADATA_TOKEN: fake.token },
    });
    shop = await setupShop(server);
    viewer = await createUser(server.ctx, 'viewer');
    const { repos } = server.ctx;
    // The registry's own description wins; an empty one lets the catalog's through.
    await repos.registry.update('orders', { description: null, catalog_fqn: ORDERS_FQN });
    await repos.registry.register({
      id: 'returns',
      name: 'returns',
      source: 'shop',
      source_type: 'local',
      bucket: 'sales',
    });
    await repos.permissions.grantUser(shop.analyst.id, {
      dataset: 'returns',
      access: 'read',
      granted_by: shop.admin.id,
    });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  const tableRequests = (fragment: string) => fake.requests.filter((r) => r.path.includes(fragment)).length;

  it('adds description, owners, tags, tier, link and column notes for a reader', async () => {
    const reply = await call(server, 'GET', '/api/catalog/tables/orders', { auth: shop.analyst.auth });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      id: 'orders',
      access: 'read',
      description: 'Every order.\n\n<script>x()</script> end',
      owners: ['Sales Ops'],
      tags: ['Domain.Sales'],
      tier: 'Tier1',
      catalog_link: `${fake.url}/table/warehouse.shop.public.%22orders.v2%20(main)%22`,
    });
    const columns = new Map(reply.body.columns.map((c: { name: string }) => [c.name, c]));
    expect(columns.get('order_id')).toEqual({
      name: 'order_id',
      type: 'BIGINT',
      description: 'Primary key',
      tags: ['PK.Yes'],
    });
    expect(columns.get('amount')).toMatchObject({ description: 'Gross amount in EUR', tags: [] });
    expect(columns.get('status')).toMatchObject({ description: null, tags: [] });
    expect(fake.requests.find((r) => r.path === ORDERS_PATH)?.raw).toBe(
      `${ORDERS_PATH}?fields=columns,owners,tags,extension`,
    );
  });

  it('keeps a registry description and gives a discoverable non-reader the table facts, not the columns', async () => {
    const reply = await call(server, 'GET', '/api/catalog/tables/customers', { auth: shop.analyst.auth });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      access: 'none',
      description: 'Customer master',
      owners: ['crm.owner'],
    });
    expect(reply.body).not.toHaveProperty('columns');
  });

  it('answers 404 for a table the caller cannot see, without asking OpenMetadata', async () => {
    const reply = await call(server, 'GET', '/api/catalog/tables/secret_salaries', {
      auth: shop.analyst.auth,
    });
    expect(reply.status).toBe(404);
    expect(reply.body.code).toBe('not_found');
    expect(tableRequests('secret_salaries')).toBe(0);
  });

  it('lists cached enrichment without asking OpenMetadata again', async () => {
    const before = fake.requests.length;
    const reply = await call(server, 'GET', '/api/catalog/tables', { auth: shop.analyst.auth });
    expect(reply.status).toBe(200);
    const orders = reply.body.tables.find((t: { id: string }) => t.id === 'orders');
    expect(orders).toMatchObject({
      tier: 'Tier1',
      owners: ['Sales Ops'],
      description: expect.stringContaining('Every order.'),
    });
    expect(fake.requests.length).toBe(before);
  });

  it('still answers when OpenMetadata fails, and remembers the failure', async () => {
    fake.inject({ match: /sales\.returns/, status: 500, times: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 2; i++) {
      const reply = await call(server, 'GET', '/api/catalog/tables/returns', { auth: shop.analyst.auth });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ id: 'returns', access: 'read', description: '' });
      expect(reply.body).not.toHaveProperty('catalog_link');
      expect(reply.body).not.toHaveProperty('owners');
    }
    expect(tableRequests('sales.returns')).toBe(1);
  });

  it('renders the catalog text escaped on the table page', async () => {
    const reply = await call(server, 'GET', '/catalog/orders', {
      headers: { authorization: shop.analyst.auth },
    });
    expect(reply.status).toBe(200);
    expect(reply.text).not.toContain('<script>alert');
    expect(reply.text).not.toContain('<script>x()');
    expect(reply.text).not.toContain('\u0007');
    expect(reply.text).toContain('&lt;script>x()&lt;/script>');
    expect(reply.text).toContain('Sales Ops');
    expect(reply.text).toContain('Tier1');
    expect(reply.text).toContain('Primary key');
    expect(reply.text).toContain(`href="${fake.url}/table/warehouse.shop.public.%22orders.v2%20(main)%22"`);
  });

  it('shows the table facts to a viewer who can only discover the table', async () => {
    const reply = await call(server, 'GET', '/catalog/customers', {
      headers: { authorization: viewer.auth },
    });
    expect(reply.status).toBe(200);
    expect(reply.text).toContain('crm.owner');
    expect(reply.text).not.toContain('Full name');
  });
});
