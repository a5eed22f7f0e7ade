import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OpenMetadataClient } from '../../../src/connectors/openmetadata/client.js';
import { FAILURE_TTL_MS, OpenMetadataEnricher } from '../../../src/connectors/openmetadata/enricher.js';
import { tableFqn, tableLink } from '../../../src/connectors/openmetadata/fqn.js';
import type { RegistryEntry } from '../../../src/core/state/repositories/index.js';
import { FakeOpenMetadata } from '../../fakes/openmetadata.js';
import { registryEntry } from '../../support/registry.js';

const entry = (fields: Partial<RegistryEntry> = {}): RegistryEntry =>
  registryEntry({
    id: 'orders',
    name: 'Orders',
    source: 'keboola',
    source_type: 'keboola',
    bucket: 'in.c-sales',
    source_table: 'orders-2024',
    ...fields,
  });

describe('tableFqn (07 §6)', () => {
  it('takes catalog_fqn first', () => {
    expect(tableFqn(entry({ catalog_fqn: ' svc.db.sch."odd name" ' }), 'x.{id}')).toBe(
      'svc.db.sch."odd name"',
    );
  });

  it('renders the template with id, source, bucket and source_table', () => {
    expect(tableFqn(entry(), 'snowflake.{source}.{bucket}."{source_table}" ({id})')).toBe(
      'snowflake.keboola.in.c-sales."orders-2024" (orders)',
    );
  });

  it('gives none without a template, or when the template needs a value the table lacks', () => {
    expect(tableFqn(entry(), '')).toBeNull();
    expect(tableFqn(entry({ bucket: '' }), 'svc.{bucket}.{id}')).toBeNull();
    expect(tableFqn(entry({ source_table: null }), 'svc.{source_table}')).toBeNull();
  });

  it('refuses names with control characters', () => {
    expect(tableFqn(entry({ catalog_fqn: 'a.b\nc' }), '')).toBeNull();
  });

  it('links to the table page with the FQN as one encoded segment', () => {
    expect(tableLink('https://om.example.com/', 'svc.db."a b"')).toBe(
      'https://om.example.com/table/svc.db.%22a%20b%22',
    );
  });
});

describe('OpenMetadataEnricher', () => {
  let fake: FakeOpenMetadata;
  let now = 1_000_000;
  const warnings: unknown[] = [];
  const enricher = (ttlMs = 60_000) =>
    new OpenMetadataEnricher({
      client: new OpenMetadataClient(fake.url, fake.token, { retries: 0, requestTimeoutMs: 2000 }),
      url: fake.url,
      fqnTemplate: 'svc.shop.{bucket}.{id}',
      ttlMs,
      log: { warn: (...args: unknown[]) => void warnings.push(args) } as never,
      now: () => now,
    });
  const tableRequests = () => fake.count(/tables\/name/);

  beforeAll(async () => {
    fake = await FakeOpenMetadata.start();
    fake.addTable('svc.shop.in.c-sales.orders', {
      description: '<p>All <b>orders</b></p>',
      owners: [{ type: 'team', name: 'sales', displayName: 'Sales' }],
      tags: [{ tagFQN: 'Tier.Tier2' }, { tagFQN: 'PII.None' }],
      columns: [
        { name: 'order_id', dataType: 'BIGINT', description: 'Key', tags: [{ tagFQN: 'PK.Yes' }] },
        { name: 'Amount', dataType: 'DECIMAL', dataTypeDisplay: 'decimal(12,2)' },
      ],
    });
  });
  afterAll(async () => fake.close());
  afterEach(() => {
    fake.requests.length = 0;
    fake.faults.length = 0;
    warnings.length = 0;
  });

  it('maps the table to plain facts with a link', async () => {
    expect(await enricher().lookup(entry())).toEqual({
      description: 'All orders',
      owners: ['Sales'],
      tags: ['PII.None'],
      tier: 'Tier2',
      link: `${fake.url}/table/svc.shop.in.c-sales.orders`,
      columns: [
        { name: 'order_id', type: 'BIGINT', description: 'Key', tags: ['PK.Yes'] },
        { name: 'Amount', type: 'decimal(12,2)', description: null, tags: [] },
      ],
    });
  });

  it('caches an answer for the TTL, then asks again', async () => {
    const e = enricher(60_000);
    expect(e.peek(entry())).toBeNull();
    await e.lookup(entry());
    expect(e.peek(entry())?.tier).toBe('Tier2');
    now += 59_000;
    await e.lookup(entry());
    expect(tableRequests()).toBe(1);
    now += 2_000;
    expect(e.peek(entry())).toBeNull();
    await e.lookup(entry());
    expect(tableRequests()).toBe(2);
  });

  it('caches nothing but failures with a TTL of 0', async () => {
    const e = enricher(0);
    await e.lookup(entry());
    await e.lookup(entry());
    expect(tableRequests()).toBe(2);
  });

  it('remembers a failure for five minutes and logs it without the token', async () => {
    const e = enricher();
    fake.inject({ match: /tables\/name/, status: 500, times: Number.POSITIVE_INFINITY });
    expect(await e.lookup(entry())).toBeNull();
    now += FAILURE_TTL_MS - 1;
    expect(await e.lookup(entry())).toBeNull();
    expect(tableRequests()).toBe(1);
    expect(JSON.stringify(warnings)).toContain('HTTP 500');
    expect(JSON.stringify(warnings)).not.toContain(fake.token);
    fake.faults.length = 0;
    now += 2;
    expect((await e.lookup(entry()))?.tier).toBe('Tier2');
    expect(tableRequests()).toBe(2);
  });

  it('caches an FQN OpenMetadata does not know as no enrichment', async () => {
    const e = enricher();
    const unknown = entry({ id: 'returns' });
    expect(await e.lookup(unknown)).toBeNull();
    expect(await e.lookup(unknown)).toBeNull();
    expect(tableRequests()).toBe(1);
    expect(warnings).toEqual([]);
  });

  it('shares one request between concurrent lookups of a table', async () => {
    const e = enricher();
    fake.inject({ match: /tables\/name/, delayMs: 100, times: 1 });
    const results = await Promise.all([e.lookup(entry()), e.lookup(entry()), e.lookup(entry())]);
    expect(results.map((r) => r?.tier)).toEqual(['Tier2', 'Tier2', 'Tier2']);
    expect(tableRequests()).toBe(1);
  });

  it('asks nothing for a table without an FQN', async () => {
    const e = new OpenMetadataEnricher({
      client: new OpenMetadataClient(fake.url, fake.token),
      url: fake.url,
      fqnTemplate: '',
      ttlMs: 60_000,
      log: { warn: () => undefined } as never,
    });
    expect(await e.lookup(entry())).toBeNull();
    expect(fake.requests).toEqual([]);
  });
});
