import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenMetadataClient, OpenMetadataError } from '../../../src/connectors/openmetadata/client.js';
import { GENERATED_MARKER, GeneratedDocsError } from '../../../src/core/catalog/generated-docs.js';
import { listMetrics, readMetric } from '../../../src/core/catalog/metrics.js';
import type { RegistryEntry } from '../../../src/core/state/repositories/index.js';
import { exportCatalog } from '../../../src/operator/commands/catalog-export.js';
import { FakeOpenMetadata } from '../../fakes/openmetadata.js';
import { tempDir } from '../../support/extracts.js';
import { registryEntry } from '../../support/registry.js';

/** `agnes catalog-export` (07 §6): what it writes, what it never touches, and what it removes. */

const tags = (...fqns: string[]) => fqns.map((tagFQN) => ({ tagFQN }));

/** Every file and symlink under `dir`, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: string) => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.push(relative(dir, path));
    }
  };
  await walk(dir);
  return out.sort();
}

describe('catalog export', () => {
  let fake: FakeOpenMetadata;
  let root: { path: string; cleanup: () => Promise<void> };
  let dataDir: string;
  const docs = (path = '') => join(dataDir, 'docs', path);
  const settings = {
    url: '',
    filter_tag: '',
    data_product: '',
    fqn_template: 'warehouse.shop.{bucket}.{id}',
  };
  const registry: RegistryEntry[] = [
    registryEntry({ id: 'orders', bucket: 'sales', catalog_fqn: 'warehouse.shop.public."orders v2"' }),
    registryEntry({ id: 'customers', bucket: 'crm' }),
    // No bucket: the template gives no FQN, so no document and no request.
    registryEntry({ id: 'scratch' }),
  ];
  const run = (overrides: Partial<typeof settings> = {}, entries = registry) =>
    exportCatalog({
      client: new OpenMetadataClient(fake.url, fake.token, { retries: 0, requestTimeoutMs: 2000 }),
      settings: { ...settings, url: fake.url, ...overrides },
      registry: entries,
      dataDir,
      now: new Date('2026-03-01T12:00:00.000Z'),
    });

  beforeAll(async () => {
    fake = await FakeOpenMetadata.start();
  });
  afterAll(async () => fake.close());
  beforeEach(async () => {
    root = await tempDir('agnes-om-export-');
    dataDir = join(root.path, 'data');
    await mkdir(dataDir);
    fake.metricsPageSize = 2;
    fake.addMetric({
      name: 'revenue',
      displayName: 'Revenue',
      description: '<p>Gross <b>revenue</b></p><script>x()</script>',
      granularity: 'DAY',
      metricType: 'SUM',
      metricExpression: { language: 'SQL', code: 'SUM(total_amount)' },
      tags: tags('MetricCategory.Sales', 'Dimension.country', 'Shop.Core'),
      owners: [{ type: 'team', name: 'finance', displayName: 'Finance' }],
    });
    fake.addMetric({ name: 'orderCount', tags: tags('Category.Sales', 'Grain.Month') });
    fake.addMetric({ name: 'active users', tags: tags('Shop.Core') });
    fake.addTable('warehouse.shop.public."orders v2"', {
      description: '<p>All orders</p>',
      tags: tags('Tier.Tier1'),
      columns: [{ name: 'order_id', dataType: 'BIGINT', description: 'Key' }],
    });
    fake.addTable('warehouse.shop.crm.customers', { owners: [{ type: 'user', name: 'crm.owner' }] });
  });
  afterEach(async () => {
    fake.requests.length = 0;
    fake.faults.length = 0;
    fake.metrics.length = 0;
    fake.tables.clear();
    await root.cleanup();
  });

  it('writes metric files the catalog serves, table files, the index and the sync state', async () => {
    const report = await run();
    expect(report).toMatchObject({
      metrics: 3,
      tables: 2,
      failed: 0,
      problems: [],
      kept_manual: [],
      removed: [],
    });
    expect(await tree(docs())).toEqual([
      '.catalog_sync_state.json',
      'metrics/general/active_users.yml',
      'metrics/metrics.yml',
      'metrics/sales/ordercount.yml',
      'metrics/sales/revenue.yml',
      'tables/customers.yml',
      'tables/orders.yml',
    ]);
    for (const file of (await tree(docs())).filter((f) => f.endsWith('.yml')))
      expect((await readFile(docs(file), 'utf8')).split('\n')[0], file).toBe(GENERATED_MARKER);

    // Read back by the same code as GET /api/catalog/metrics and /api/catalog/metrics/{path}.
    const scan = await listMetrics(dataDir);
    expect(scan.invalid).toEqual([]);
    expect(scan.metrics.map((m) => [m.path, m.name, m.display_name, m.category, m.grain])).toEqual([
      ['general/active_users.yml', 'active users', 'active users', 'general', null],
      ['sales/ordercount.yml', 'orderCount', 'orderCount', 'sales', 'month'],
      ['sales/revenue.yml', 'revenue', 'Revenue', 'sales', 'day'],
    ]);
    expect((await readMetric(dataDir, 'sales/revenue.yml')).document).toEqual({
      name: 'revenue',
      display_name: 'Revenue',
      category: 'sales',
      grain: 'day',
      type: 'sum',
      dimensions: ['country'],
      description: 'Gross revenue',
      expression: 'SUM(total_amount)',
      owners: ['Finance'],
      tags: ['MetricCategory.Sales', 'Dimension.country', 'Shop.Core'],
      fqn: 'revenue',
      source: 'openmetadata',
    });

    const orders = await readFile(docs('tables/orders.yml'), 'utf8');
    expect(orders).toContain('fqn: warehouse.shop.public."orders v2"');
    expect(orders).toContain('tier: Tier1');
    expect(orders).toContain(`link: ${fake.url}/table/warehouse.shop.public.%22orders%20v2%22`);
    const index = await readFile(docs('metrics/metrics.yml'), 'utf8');
    expect(index).toContain('path: sales/revenue.yml');
    const state = JSON.parse(await readFile(docs('.catalog_sync_state.json'), 'utf8'));
    expect(state).toMatchObject({
      exported_at: '2026-03-01T12:00:00.000Z',
      metrics: 3,
      tables: 2,
      failed: 0,
    });
    expect(state.written).toHaveLength(6);
    // Every metric page was read, and no table without an FQN was asked for.
    expect(fake.count(/\/api\/v1\/metrics/)).toBe(2);
    expect(fake.count(/scratch/)).toBe(0);
  });

  it('never touches a file without the marker, and leaves other hand-written files alone', async () => {
    await mkdir(docs('metrics/sales'), { recursive: true });
    await mkdir(docs('tables'), { recursive: true });
    const mine = 'name: revenue\ndisplay_name: Revenue (audited)\ntable: orders\n';
    await writeFile(docs('metrics/sales/revenue.yml'), mine);
    await writeFile(docs('metrics/sales/margin.yml'), 'name: margin\n');
    await writeFile(docs('tables/customers.yml'), `# notes\n${GENERATED_MARKER}\n`);
    const report = await run();
    expect(report.kept_manual.sort()).toEqual(['metrics/sales/revenue.yml', 'tables/customers.yml']);
    expect(await readFile(docs('metrics/sales/revenue.yml'), 'utf8')).toBe(mine);
    expect(await readFile(docs('metrics/sales/margin.yml'), 'utf8')).toBe('name: margin\n');
    expect(await readFile(docs('tables/customers.yml'), 'utf8')).toBe(`# notes\n${GENERATED_MARKER}\n`);
    expect(report.removed).toEqual([]);
  });

  it('removes generated files this run did not produce, and the category it emptied', async () => {
    await run();
    fake.metrics.splice(0, 2);
    fake.tables.delete('warehouse.shop.crm.customers');
    await writeFile(docs('metrics/sales/margin.yml'), 'name: margin\n');
    const report = await run();
    expect(report.removed.sort()).toEqual([
      'metrics/sales/ordercount.yml',
      'metrics/sales/revenue.yml',
      'tables/customers.yml',
    ]);
    expect(await tree(docs())).toEqual([
      '.catalog_sync_state.json',
      'metrics/general/active_users.yml',
      'metrics/metrics.yml',
      'metrics/sales/margin.yml',
      'tables/orders.yml',
    ]);
    fake.metrics.length = 0;
    fake.addMetric({ name: 'x', tags: tags('Category.Other') });
    await run();
    expect(await tree(docs('metrics'))).toEqual(['metrics.yml', 'other/x.yml', 'sales/margin.yml']);
  });

  it('keeps every existing file when a run finds nothing', async () => {
    await run();
    const before = await tree(docs());
    fake.metrics.length = 0;
    fake.tables.clear();
    const report = await run();
    expect(report).toMatchObject({ metrics: 0, tables: 0, written: [], removed: [] });
    expect(await tree(docs())).toEqual(before);
    const state = JSON.parse(await readFile(docs('.catalog_sync_state.json'), 'utf8'));
    expect(state).toMatchObject({ metrics: 0, tables: 0 });
  });

  it('keeps the file of a table whose lookup failed, and reports it', async () => {
    await run();
    fake.inject({ match: /crm\.customers/, status: 500, times: Number.POSITIVE_INFINITY });
    const report = await run();
    expect(report.failed).toBe(1);
    expect(report.problems).toEqual([expect.stringMatching(/^table customers: .*HTTP 500$/)]);
    expect(report.removed).toEqual([]);
    expect((await readFile(docs('tables/customers.yml'), 'utf8')).split('\n')[0]).toBe(GENERATED_MARKER);
  });

  it('stops on a refused token without touching any file', async () => {
    await run();
    const before = await tree(docs());
    const state = await readFile(docs('.catalog_sync_state.json'), 'utf8');
    const refused = exportCatalog({
      client: new OpenMetadataClient(fake.url, 'not-the-token', { retries: 0 }),
      settings: { ...settings, url: fake.url },
      registry,
      dataDir,
    });
    await expect(refused).rejects.toMatchObject({ code: 'auth_failed' });
    await expect(refused).rejects.toBeInstanceOf(OpenMetadataError);
    expect(await tree(docs())).toEqual(before);
    expect(await readFile(docs('.catalog_sync_state.json'), 'utf8')).toBe(state);
  });

  it('sanitises hostile upstream names before they touch a path', async () => {
    fake.metrics.length = 0;
    fake.addMetric({ name: '../../../outside', tags: tags('MetricCategory.../../etc') });
    fake.addMetric({ name: '..' });
    fake.addMetric({ name: 'a/b\\c', tags: tags('Category./') });
    fake.addMetric({ name: '名前' });
    fake.addMetric({ name: `Long ${'x'.repeat(300)}` });
    fake.addMetric({ name: 'A/B c' });
    const report = await run({}, [
      ...registry,
      registryEntry({ id: '../escape', catalog_fqn: 'warehouse.shop.public."orders v2"' }),
    ]);
    expect(report.problems).toEqual([
      'metric "..": no usable file name',
      'metric "名前": no usable file name',
      'metric A/B c: general/a_b_c.yml is taken by another metric',
    ]);
    expect(await tree(root.path)).toEqual(
      [
        '.catalog_sync_state.json',
        'metrics/etc/outside.yml',
        'metrics/general/a_b_c.yml',
        `metrics/general/long_${'x'.repeat(59)}.yml`,
        'metrics/metrics.yml',
        'tables/customers.yml',
        'tables/orders.yml',
      ].map((p) => `data/docs/${p}`),
    );
  });

  it('refuses to write through a symlinked directory', async () => {
    const outside = join(root.path, 'outside');
    await mkdir(outside);
    await mkdir(docs('metrics'), { recursive: true });
    await symlink(outside, docs('metrics/sales'));
    await expect(run()).rejects.toBeInstanceOf(GeneratedDocsError);
    expect(await readdir(outside)).toEqual([]);
  });

  it('does not follow a symlink planted at a document path', async () => {
    const target = join(root.path, 'target.yml');
    await writeFile(target, 'precious\n');
    await mkdir(docs('tables'), { recursive: true });
    await symlink(target, docs('tables/orders.yml'));
    const report = await run();
    expect(report.kept_manual).toEqual(['tables/orders.yml']);
    expect(await readFile(target, 'utf8')).toBe('precious\n');
    expect((await lstat(docs('tables/orders.yml'))).isSymbolicLink()).toBe(true);
  });

  it('exports only the metrics of the data product, and of those only the ones with the filter tag', async () => {
    const product = [{ type: 'dataProduct', name: 'shop-kpis', fullyQualifiedName: 'shop-kpis' }];
    fake.metrics.length = 0;
    fake.addMetric({ name: 'in_product', dataProducts: product, tags: tags('Shop.Core') });
    fake.addMetric({ name: 'in_product_untagged', dataProducts: product });
    fake.addMetric({ name: 'elsewhere', tags: tags('Shop.Core') });
    const report = await run({ data_product: 'shop-kpis', filter_tag: 'Shop.Core' }, []);
    expect(report.metrics).toBe(1);
    expect(await tree(docs('metrics'))).toEqual(['general/in_product.yml', 'metrics.yml']);
    expect(fake.count(/search\/query/)).toBeGreaterThan(0);
    expect(fake.count(/\/api\/v1\/metrics/)).toBe(0);
  });
});
