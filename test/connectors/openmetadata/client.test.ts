import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OpenMetadataClient, OpenMetadataError } from '../../../src/connectors/openmetadata/client.js';
import { FakeOpenMetadata } from '../../fakes/openmetadata.js';

/** The OpenMetadata client (07 §6) against the fake: encoding of odd FQNs, paging, and failures. */
describe('OpenMetadataClient', () => {
  let fake: FakeOpenMetadata;
  const tuning = { requestTimeoutMs: 2000, retries: 2, retryDelayMs: 5, maxRetryAfterMs: 50 };
  const client = () => new OpenMetadataClient(fake.url, fake.token, tuning);

  beforeAll(async () => {
    fake = await FakeOpenMetadata.start();
  });
  afterAll(async () => fake.close());
  afterEach(() => {
    fake.requests.length = 0;
    fake.faults.length = 0;
    fake.metrics.length = 0;
    fake.tables.clear();
    fake.metricsPageSize = 100;
    fake.searchPageSize = 100;
  });

  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenMetadataError);
    return error as OpenMetadataError;
  };

  describe('tables by FQN', () => {
    it.each([
      [
        'dots, spaces and double quotes',
        'warehouse.shop.public."order items.v2"',
        'warehouse.shop.public.%22order%20items.v2%22',
      ],
      ['a single quote', "svc.db.sch.o'brien", "svc.db.sch.o'brien"],
      ['path and query characters', 'svc.db.sch."a/b?c#d%e&f"', 'svc.db.sch.%22a%2Fb%3Fc%23d%25e%26f%22'],
      ['non-ASCII letters', 'svc.db.sch.objednávky', 'svc.db.sch.objedn%C3%A1vky'],
    ])('sends an FQN with %s as one encoded path segment', async (_, fqn, encoded) => {
      fake.addTable(fqn, { description: '<p>found</p>' });
      const table = await client().table(fqn);
      expect(table?.fullyQualifiedName).toBe(fqn);
      expect(fake.requests.map((r) => r.raw)).toEqual([
        `/api/v1/tables/name/${encoded}?fields=columns,owners,tags,extension`,
      ]);
    });

    it('sends the token as a bearer header', async () => {
      fake.addTable('a.b.c.d');
      await client().table('a.b.c.d');
      expect(fake.requests[0]?.authorization).toBe(`Bearer ${fake.token}`);
    });

    it('gives null for an FQN OpenMetadata does not know, without retrying', async () => {
      expect(await client().table('no.such.table.here')).toBeNull();
      expect(fake.requests).toHaveLength(1);
    });

    it('keeps a path prefix of the configured URL, with or without a trailing slash', async () => {
      for (const url of [`${fake.url}/catalog`, `${fake.url}/catalog/`])
        expect(await new OpenMetadataClient(url, fake.token, tuning).table('a.b.c.d')).toBeNull();
      expect(fake.requests.map((r) => r.path)).toEqual([
        '/catalog/api/v1/tables/name/a.b.c.d',
        '/catalog/api/v1/tables/name/a.b.c.d',
      ]);
    });
  });

  describe('failures', () => {
    it('maps a refused token to auth_failed, once, with no token in the message', async () => {
      const wrong = new OpenMetadataClient(fake.url, 'wrong-token-abcdef', tuning);
      const error = await failure(wrong.table('a.b.c.d'));
      expect(error.code).toBe('auth_failed');
      expect(error.message).not.toContain('wrong-token-abcdef');
      expect(fake.requests).toHaveLength(1);
    });

    it('retries a 500 and succeeds when the server recovers', async () => {
      fake.addTable('a.b.c.d');
      fake.inject({ match: /tables\/name/, status: 500, times: 2 });
      expect(await client().table('a.b.c.d')).not.toBeNull();
      expect(fake.requests).toHaveLength(3);
    });

    it('gives up on a lasting 500 as upstream_failed after the retries', async () => {
      fake.inject({ match: /tables\/name/, status: 500, times: Number.POSITIVE_INFINITY });
      const error = await failure(client().table('a.b.c.d'));
      expect(error.code).toBe('upstream_failed');
      expect(error.message).toContain('HTTP 500');
      expect(fake.requests).toHaveLength(3);
    });

    it('times out a slow answer', async () => {
      fake.inject({ match: /tables\/name/, delayMs: 1000, times: Number.POSITIVE_INFINITY });
      const slow = new OpenMetadataClient(fake.url, fake.token, {
        ...tuning,
        requestTimeoutMs: 150,
        retries: 0,
      });
      const started = Date.now();
      const error = await failure(slow.table('a.b.c.d'));
      expect(error.code).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(900);
    });

    it('treats a cut body as an upstream failure', async () => {
      fake.addTable('a.b.c.d', { description: 'x'.repeat(5000) });
      fake.inject({ match: /tables\/name/, truncate: true, times: Number.POSITIVE_INFINITY });
      const error = await failure(
        new OpenMetadataClient(fake.url, fake.token, { ...tuning, retries: 0 }).table('a.b.c.d'),
      );
      expect(error.code).toBe('upstream_failed');
    });

    it('refuses to start without a token', () => {
      expect(() => new OpenMetadataClient(fake.url, '')).toThrow(OpenMetadataError);
    });
  });

  describe('metrics', () => {
    it('follows paging.after over every page', async () => {
      for (let i = 1; i <= 5; i++) fake.addMetric({ name: `metric_${i}` });
      fake.metricsPageSize = 2;
      const metrics = await client().metrics();
      expect(metrics.map((m) => m.name)).toEqual([
        'metric_1',
        'metric_2',
        'metric_3',
        'metric_4',
        'metric_5',
      ]);
      expect(fake.requests).toHaveLength(3);
      expect(fake.requests[0]?.raw).toBe('/api/v1/metrics?limit=100&fields=tags,owners');
      expect(fake.requests.slice(1).map((r) => r.query.get('after'))).toEqual([
        Buffer.from('2').toString('base64url'),
        Buffer.from('4').toString('base64url'),
      ]);
    });

    it('refuses an answer without a data list', async () => {
      fake.inject({ match: /metrics/, status: 200, times: 1 });
      expect((await failure(client().metrics())).code).toBe('upstream_failed');
    });

    it('pages the search index and keeps the metrics of the data product', async () => {
      const product = (name: string) => [{ type: 'dataProduct', name, fullyQualifiedName: name }];
      fake.addMetric({ name: 'a', dataProducts: product('Shop KPIs') });
      fake.addMetric({ name: 'b', dataProducts: product('Other') });
      fake.addMetric({ name: 'c', dataProducts: product('Shop KPIs') });
      fake.addMetric({ name: 'd' });
      fake.searchPageSize = 3;
      const metrics = await client().searchMetrics('Shop KPIs');
      expect(metrics.map((m) => m.name)).toEqual(['a', 'c']);
      expect(fake.requests.map((r) => r.raw)).toEqual([
        '/api/v1/search/query?q=*&index=metric_search_index&from=0&size=100',
        '/api/v1/search/query?q=*&index=metric_search_index&from=3&size=100',
      ]);
    });
  });
});
