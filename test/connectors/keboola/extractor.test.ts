import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeboolaConnector } from '../../../src/connectors/keboola/index.js';
import { loadConfig } from '../../../src/core/config/index.js';
import { configuredSources } from '../../../src/core/config/sources.js';
import { openDuck, queryRows } from '../../../src/core/duckdb/engine.js';
import { quoteLiteral } from '../../../src/core/duckdb/sql.js';
import type { ExtractTableInput } from '../../../src/core/extract/connector.js';
import type { AttachRemote } from '../../../src/core/extract/remote-attach.js';
import { validateExtract } from '../../../src/core/extract/validator.js';
import { FAKE_CLOUD, FakeKeboola, type FakeStorage } from '../../fakes/keboola.js';
import { tempDir } from '../../support/extracts.js';

const TUNING = {
  requestTimeoutMs: 300,
  retries: 3,
  retryDelayMs: 5,
  maxRetryAfterMs: 1500,
  pollInitialMs: 5,
  pollMaxMs: 10,
};

let fake: FakeKeboola;
let root: string;
let cleanup: () => Promise<void>;
let lines: string[];

beforeEach(async () => {
  fake = await FakeKeboola.start();
  ({ path: root, cleanup } = await tempDir('agnes-keboola-'));
  lines = [];
  fake.addTable({
    bucket: 'in.c-sales',
    name: 'orders',
    columns: ['id', 'day', 'amount'],
    primaryKey: ['id'],
    types: { id: 'INTEGER', day: 'DATE', amount: 'NUMERIC' },
  });
  fake.upsert(
    'in.c-sales.orders',
    [
      ['1', '2024-01-05', '10'],
      ['2', '2024-01-20', '20'],
      ['3', '2024-02-03', '30'],
      ['4', '2024-03-09', '40'],
    ],
    Date.now() - 10_000,
  );
  fake.addTable({ bucket: 'in.c-sales', name: 'notes', columns: ['id', 'text'] });
  fake.upsert('in.c-sales.notes', [['1', 'hello']]);
});

afterEach(async () => {
  await fake.close();
  await cleanup();
});

const extractDir = () => join(root, 'extracts', 'keboola');

function table(id: string, name: string, extra: Partial<ExtractTableInput> = {}): ExtractTableInput {
  return {
    id,
    source_table: name,
    bucket: 'in.c-sales',
    sync_strategy: 'full_refresh',
    query_mode: 'local',
    primary_key: [],
    partition_by: null,
    partition_granularity: null,
    watermark: null,
    ...extra,
  };
}

function run(
  tables: ExtractTableInput[],
  options: { fullRefresh?: boolean; token?: string; attachRemote?: AttachRemote } = {},
) {
  const connector = createKeboolaConnector({
    tuning: TUNING,
    objectStores: fake.objectStores,
    ...(options.attachRemote ? { attachRemote: options.attachRemote } : {}),
  });
  return connector.extract(
    {
      source: 'keboola',
      type: 'keboola',
      extractDir: extractDir(),
      fullRefresh: options.fullRefresh ?? false,
      tables,
      config: {
        stack_url: fake.url,
        token_env: 'KBC_TOKEN',
        parallel_tables: 2,
        export_timeout_seconds: 5,
        incremental_lag_seconds: 0,
      },
    },
    { progress: (line) => lines.push(line), env: { KBC_TOKEN: options.token ?? fake.token } },
  );
}

async function files(): Promise<Record<string, string>> {
  const duck = await openDuck();
  try {
    await duck.conn.run(`ATTACH ${quoteLiteral(join(extractDir(), 'extract.duckdb'))} AS e (READ_ONLY)`);
    const listed = await queryRows<{ path: string; sha256: string }>(
      duck.conn,
      'SELECT path, sha256 FROM e._files',
    );
    return Object.fromEntries(listed.map((r) => [String(r.path), String(r.sha256)]));
  } finally {
    duck.close();
  }
}

async function rowsOf(id: string, order = 'id'): Promise<unknown[][]> {
  const duck = await openDuck();
  try {
    await duck.conn.run(`ATTACH ${quoteLiteral(join(extractDir(), 'extract.duckdb'))} AS e (READ_ONLY)`);
    const rows = await queryRows(duck.conn, `SELECT COLUMNS(*)::VARCHAR FROM e.main.${id} ORDER BY ${order}`);
    return rows.map((r) => Object.values(r));
  } finally {
    duck.close();
  }
}

/** Each published table's query mode, from `_meta`. */
async function publishedModes(): Promise<Record<string, string>> {
  const duck = await openDuck();
  try {
    await duck.conn.run(`ATTACH ${quoteLiteral(join(extractDir(), 'extract.duckdb'))} AS e (READ_ONLY)`);
    const rows = await queryRows<{ table_name: string; query_mode: string }>(
      duck.conn,
      'SELECT table_name, query_mode FROM e._meta',
    );
    return Object.fromEntries(rows.map((r) => [r.table_name, r.query_mode]));
  } finally {
    duck.close();
  }
}

describe('keboola extract (07 §3)', () => {
  it('exports, types columns from metadata and never sends the token to file storage', async () => {
    const result = await run([table('orders', 'orders'), table('notes', 'notes')]);
    expect(result.tables_failed).toEqual([]);
    expect(result.tables_extracted.sort()).toEqual(['notes', 'orders']);
    expect((await validateExtract(extractDir())).errors).toEqual([]);
    expect(await rowsOf('orders')).toEqual([
      ['1', '2024-01-05', '10.000000000'],
      ['2', '2024-01-20', '20.000000000'],
      ['3', '2024-02-03', '30.000000000'],
      ['4', '2024-03-09', '40.000000000'],
    ]);
    const fileRequests = fake.requests.filter((r) => r.path.startsWith('/_files/'));
    expect(fileRequests.length).toBeGreaterThan(0);
    expect(fileRequests.every((r) => r.token === null)).toBe(true);
  });

  it('falls back to VARCHAR for a column whose values do not fit its type, with a warning', async () => {
    fake.upsert('in.c-sales.orders', [['5', 'someday', '50']]);
    const result = await run([table('orders', 'orders')]);
    expect(result.tables_failed).toEqual([]);
    expect((await rowsOf('orders')).at(-1)).toEqual(['5', 'someday', '50.000000000']);
    expect(lines.some((l) => l.includes('warning: column day'))).toBe(true);
  });

  it('401: every table fails auth_failed, previous data is kept, the token appears nowhere', async () => {
    await run([table('orders', 'orders'), table('notes', 'notes')]);
    const before = await files();
    const result = await run([table('orders', 'orders'), table('notes', 'notes')], {
      token: 'wrong-token-xyz',
    });
    expect(result.tables_extracted).toEqual([]);
    expect(result.tables_failed.map((f) => f.code)).toEqual(['auth_failed', 'auth_failed']);
    expect(JSON.stringify(result)).not.toContain('wrong-token-xyz');
    expect(lines.join('\n')).not.toContain('wrong-token-xyz');
    expect(await files()).toEqual(before);
    expect(await rowsOf('orders')).toHaveLength(4);
  });

  it('a 429 storm honouring Retry-After is retried and completes', async () => {
    fake.inject({ match: /^GET \/v2\/storage\/tables\//, status: 429, retryAfter: '0', times: 3 });
    fake.inject({ match: /^GET \/v2\/storage\/jobs\//, status: 429, retryAfter: '1', times: 1 });
    const started = Date.now();
    const result = await run([table('orders', 'orders')]);
    expect(result.tables_failed).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(fake.count(/^GET \/v2\/storage\/tables\/in.c-sales.orders$/)).toBe(4);
  });

  it('500s beyond the retries fail only that table; the others publish', async () => {
    fake.inject({ match: /^POST \/v2\/storage\/tables\/in.c-sales.notes\//, status: 500, times: 4 });
    const result = await run([table('orders', 'orders'), table('notes', 'notes')]);
    expect(result.tables_extracted).toEqual(['orders']);
    expect(result.tables_failed).toEqual([
      { table: 'notes', code: 'upstream_failed', message: expect.stringContaining('HTTP 500') },
    ]);
  });

  it('a failed export job fails its table with the job message, URLs stripped', async () => {
    fake.inject({
      match: /^POST \/v2\/storage\/tables\/in.c-sales.notes\//,
      jobError: 'Export failed, see https://internal.example/secret?sig=1',
    });
    const result = await run([table('notes', 'notes')]);
    expect(result.tables_failed).toEqual([
      { table: 'notes', code: 'export_failed', message: 'Export failed, see <url>' },
    ]);
  });

  it('a truncated slice fails verification and leaves file and watermark unchanged', async () => {
    const incremental = table('orders', 'orders', { sync_strategy: 'incremental', primary_key: ['id'] });
    const first = await run([incremental]);
    const before = await files();
    fake.upsert('in.c-sales.orders', [['9', '2024-04-01', '90']]);
    fake.inject({ match: /^GET \/_files\/\d+\/slice-/, truncate: true, times: Number.POSITIVE_INFINITY });
    const second = await run([{ ...incremental, watermark: first.watermarks.orders ?? null }]);
    expect(second.tables_failed.map((f) => f.code)).toEqual(['upstream_failed']);
    expect(second.watermarks).toEqual({});
    expect(await files()).toEqual(before);
  });

  it('a slow response times out and fails the table', async () => {
    fake.inject({ match: /^GET \/v2\/storage\/tables\//, delayMs: 1000, times: Number.POSITIVE_INFINITY });
    const result = await run([table('notes', 'notes')]);
    expect(result.tables_failed.map((f) => f.code)).toEqual(['timeout']);
  });

  it('incremental: exports changes since the watermark and merges them by primary key', async () => {
    const incremental = table('orders', 'orders', { sync_strategy: 'incremental', primary_key: ['id'] });
    const first = await run([incremental]);
    expect(first.watermarks.orders).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    fake.upsert('in.c-sales.orders', [
      ['2', '2024-01-21', '21'],
      ['5', '2024-03-10', '50'],
    ]);
    const second = await run([{ ...incremental, watermark: first.watermarks.orders ?? null }]);
    expect(second.tables_failed).toEqual([]);
    const form = fake.requests.filter((r) => r.method === 'POST');
    expect(form).toHaveLength(2);
    expect(await rowsOf('orders')).toEqual([
      ['1', '2024-01-05', '10.000000000'],
      ['2', '2024-01-21', '21.000000000'],
      ['3', '2024-02-03', '30.000000000'],
      ['4', '2024-03-09', '40.000000000'],
      ['5', '2024-03-10', '50.000000000'],
    ]);
  });

  it('partitioned: monthly shards; a later run rewrites only the shards that changed', async () => {
    const partitioned = table('orders', 'orders', {
      sync_strategy: 'partitioned',
      primary_key: ['id'],
      partition_by: 'day',
      partition_granularity: 'month',
    });
    const first = await run([partitioned]);
    expect(first.tables_failed).toEqual([]);
    const before = await files();
    expect(Object.keys(before).sort()).toEqual([
      'orders/2024-01.parquet',
      'orders/2024-02.parquet',
      'orders/2024-03.parquet',
    ]);
    // Row 3 moves from February to April: February and April are rewritten, the others kept.
    fake.upsert('in.c-sales.orders', [['3', '2024-04-02', '31']]);
    const second = await run([{ ...partitioned, watermark: first.watermarks.orders ?? null }]);
    expect(second.tables_failed).toEqual([]);
    const after = await files();
    expect(Object.keys(after).sort()).toEqual([
      'orders/2024-01.parquet',
      'orders/2024-03.parquet',
      'orders/2024-04.parquet',
    ]);
    expect(after['orders/2024-01.parquet']).toBe(before['orders/2024-01.parquet']);
    expect(after['orders/2024-03.parquet']).toBe(before['orders/2024-03.parquet']);
    expect(await rowsOf('orders')).toHaveLength(4);
    expect((await validateExtract(extractDir())).errors).toEqual([]);
  });

  /** A DuckDB file standing in for the Keboola catalog: schema `in.c-sales`, table `notes`. */
  async function kbcCatalog(): Promise<AttachRemote> {
    const catalog = join(root, 'kbc.duckdb');
    const duck = await openDuck(catalog);
    await duck.conn.run('CREATE SCHEMA "in.c-sales"; CREATE TABLE "in.c-sales".notes AS SELECT 1 AS id');
    duck.close();
    return async (conn, request) => {
      await conn.run(`ATTACH ${quoteLiteral(catalog)} AS ${request.alias} (READ_ONLY)`);
    };
  }

  it('remote mode: a view over the kbc catalog, or extension_unavailable without a _meta row', async () => {
    const remote = table('notes', 'notes', { query_mode: 'remote' });
    const attachRemote = await kbcCatalog();
    const ok = await run([remote], { attachRemote });
    expect(ok.tables_extracted).toEqual(['notes']);
    const extract = await readFile(join(extractDir(), 'extract.duckdb'));
    expect(extract.includes(Buffer.from(fake.token))).toBe(false);

    const refused = await run([remote], {
      attachRemote: async () => {
        throw new Error('no extension');
      },
    });
    expect(refused.tables_failed.map((f) => f.code)).toEqual(['extension_unavailable']);
  });

  it('a remote table outside a partial run, or failing in it, keeps its published view', async () => {
    const attachRemote = await kbcCatalog();
    const remote = table('notes', 'notes', { query_mode: 'remote' });
    const first = await run([remote, table('orders', 'orders')], { attachRemote });
    expect(first.tables_extracted.sort()).toEqual(['notes', 'orders']);
    const partial = await run([table('orders', 'orders')], { attachRemote });
    expect(partial.tables_extracted).toEqual(['orders']);
    expect(await publishedModes()).toEqual({ notes: 'remote', orders: 'local' });

    fake.inject({ match: /^GET \/v2\/storage\/tables\/in.c-sales.notes/, status: 500, times: 10 });
    const failing = await run([remote], { attachRemote });
    expect(failing.tables_failed.map((f) => [f.table, f.code])).toEqual([['notes', 'upstream_failed']]);
    expect(await publishedModes()).toEqual({ notes: 'remote', orders: 'local' });
    expect(await rowsOf('orders')).toHaveLength(4);
    const validation = await validateExtract(extractDir(), { attachRemote, env: { KBC_TOKEN: fake.token } });
    expect(validation.errors).toEqual([]);
  });
});

describe('keboola slices in cloud object stores (07 §3.1)', () => {
  it.each<[FakeStorage, RegExp]>([
    ['aws', /^GET \/s3\/kbc-fake-files\/exp\/\d+\/slice-\d\.csv\.gz$/],
    ['gcp', /^GET \/gcs\/kbc-fake-gcs\/exp\/\d+\/slice-\d\.csv\.gz$/],
    ['azure', /^GET \/azure\/exp-2-fake\/exp\/\d+\/slice-\d\.csv\.gz$/],
  ])(
    '%s: slices are fetched with the file credentials, never the Storage token',
    async (storage, slicePath) => {
      fake.storage = storage;
      const result = await run([table('orders', 'orders')]);
      expect(result.tables_failed).toEqual([]);
      expect(await rowsOf('orders')).toHaveLength(4);
      const slices = fake.requests.filter((r) => slicePath.test(`${r.method} ${r.path}`));
      expect(slices).toHaveLength(2);
      expect(slices.every((r) => r.token === null && !r.refused)).toBe(true);
    },
  );

  it('aws: a signature the object store does not accept fails that table only and keeps its data', async () => {
    fake.storage = 'aws';
    await run([table('orders', 'orders')]);
    const before = await files();
    fake.s3Secret = 'rotated-secret';
    fake.upsert('in.c-sales.orders', [['5', '2024-04-01', '50']]);
    const result = await run([table('orders', 'orders')], { fullRefresh: true });
    expect(result.tables_failed).toEqual([
      { table: 'orders', code: 'upstream_failed', message: expect.stringContaining('HTTP 403') },
    ]);
    expect(fake.requests.some((r) => r.refused)).toBe(true);
    expect(await files()).toEqual(before);
  });

  it.each<[FakeStorage, string]>([
    ['aws', 's3://another-bucket/exp/1/slice-0.csv.gz'],
    ['gcp', 'gs://another-bucket/exp/1/slice-0.csv.gz'],
    ['azure', 'azure://evil.blob.core.windows.net/exp-2-fake/exp/1/slice-0.csv.gz'],
    ['stack', 'ftp://files.example.com/slice-0.csv.gz'],
  ])(
    '%s: a manifest entry outside the file storage (%s) is refused before any request',
    async (storage, foreign) => {
      fake.storage = storage;
      fake.foreignSliceUrl = foreign;
      const before = fake.requests.length;
      const result = await run([table('orders', 'orders')]);
      expect(result.tables_failed).toEqual([
        { table: 'orders', code: 'upstream_failed', message: expect.stringMatching(/outside|not supported/) },
      ]);
      const objectStore = fake.requests.slice(before).filter((r) => /^\/(s3|gcs|azure)\//.test(r.path));
      expect(objectStore).toEqual([]);
      expect(JSON.stringify(result)).not.toContain(FAKE_CLOUD.secretAccessKey);
    },
  );
});

describe('data_sources.keboola', () => {
  const load = (
    env: Record<string, string>,
    section = 'keboola:\n  stack_url: https://connection.keboola.com\n',
  ) =>
    import('node:fs/promises').then(async ({ writeFile }) => {
      const configPath = join(root, 'instance.yaml');
      await writeFile(configPath, `data_sources:\n${section.replace(/^/gm, '  ')}`);
      const connectors = [createKeboolaConnector()];
      const { config } = loadConfig({ env, configPath, cwd: root, connectors });
      return configuredSources(config, connectors, root, env);
    });

  it('defines the source when the stack URL and the token are set', async () => {
    const sources = await load({ KEBOOLA_STORAGE_TOKEN: 'secret-token-1' });
    expect(sources.map((s) => s.name)).toEqual(['keboola']);
    expect(JSON.stringify(sources)).not.toContain('secret-token-1');
  });

  it('fails closed: a stack URL without its token is a config problem', async () => {
    await expect(load({})).rejects.toThrow(/KEBOOLA_STORAGE_TOKEN is empty/);
  });

  it('no stack URL, no source', async () => {
    expect(await load({ KEBOOLA_STORAGE_TOKEN: 'x' }, 'keboola: {}\n')).toEqual([]);
    expect(
      await load({ KEBOOLA_STACK_URL: 'https://k.example', KEBOOLA_STORAGE_TOKEN: 'x' }, 'keboola: {}\n'),
    ).toHaveLength(1);
  });
});
