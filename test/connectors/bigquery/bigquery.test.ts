import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BigQuerySourceConfig } from '../../../src/connectors/bigquery/config.js';
import { createBigQueryConnector } from '../../../src/connectors/bigquery/index.js';
import { loadConfig } from '../../../src/core/config/index.js';
import { configuredSources } from '../../../src/core/config/sources.js';
import { openDuck, queryRows } from '../../../src/core/duckdb/engine.js';
import { quoteLiteral } from '../../../src/core/duckdb/sql.js';
import type { ExtractResult, ExtractTableInput } from '../../../src/core/extract/connector.js';
import type { AttachRemote } from '../../../src/core/extract/remote-attach.js';
import { validateExtract } from '../../../src/core/extract/validator.js';
import { FakeBigQuery } from '../../fakes/bigquery.js';
import { tempDir } from '../../support/extracts.js';

const TUNING = { requestTimeoutMs: 300, retries: 3, retryDelayMs: 5, maxRetryAfterMs: 1500 };

let fake: FakeBigQuery;
let root: string;
let cleanup: () => Promise<void>;
let keyFile: string;
let catalog: string;
let lines: string[];

const extractDir = () => join(root, 'extracts', 'bigquery');

beforeEach(async () => {
  fake = await FakeBigQuery.start();
  ({ path: root, cleanup } = await tempDir('agnes-bigquery-'));
  keyFile = await fake.writeKeyFile(root);
  lines = [];
  fake.addTable('sales', 'orders', {
    fields: [
      { name: 'id', type: 'INTEGER', mode: 'REQUIRED' },
      { name: 'amount', type: 'NUMERIC' },
      { name: 'tags', type: 'STRING', mode: 'REPEATED' },
      { name: 'address', type: 'RECORD', fields: [{ name: 'city', type: 'STRING' }] },
      { name: 'at', type: 'TIMESTAMP' },
    ],
    numRows: 2,
    numBytes: 4096,
    description: 'orders\u0000 placed',
  });
  fake.addTable('sales', 'returns', { fields: [{ name: 'id', type: 'INT64' }], numRows: 1 });
  fake.addTable('sales', 'bad-name', { fields: [{ name: 'id', type: 'INT64' }] });
  fake.addTable('crm', 'customers', { fields: [{ name: 'name', type: 'STRING' }], numRows: 1 });
  catalog = join(root, 'bq.duckdb');
  const duck = await openDuck(catalog);
  await duck.conn.run(`CREATE SCHEMA sales; CREATE SCHEMA crm;
    CREATE TABLE sales.orders AS SELECT * FROM (VALUES (1, 10.5), (2, 20)) t(id, amount);
    CREATE TABLE sales.returns AS SELECT 1 AS id;
    CREATE TABLE crm.customers AS SELECT 'Ada' AS name`);
  duck.close();
});

afterEach(async () => {
  await fake.close();
  await cleanup();
});

const attachCatalog: AttachRemote = async (conn, request) => {
  await conn.run(`ATTACH ${quoteLiteral(catalog)} AS ${request.alias} (READ_ONLY)`);
};

function config(credentials = keyFile): BigQuerySourceConfig {
  return { project: fake.project, location: '', credentials_file: credentials, api_endpoint: fake.url };
}

function table(id: string, dataset: string, name = id): ExtractTableInput {
  return {
    id,
    source_table: name,
    bucket: dataset,
    sync_strategy: 'full_refresh',
    query_mode: 'remote',
    primary_key: [],
    partition_by: null,
    partition_granularity: null,
    watermark: null,
  };
}

function run(tables: ExtractTableInput[], credentials = keyFile): Promise<ExtractResult> {
  const connector = createBigQueryConnector({ tuning: TUNING, attachRemote: attachCatalog });
  return connector.extract(
    {
      source: 'bigquery',
      type: 'bigquery',
      extractDir: extractDir(),
      fullRefresh: false,
      tables,
      config: config(credentials),
    },
    { progress: (line) => lines.push(line), env: {} },
  );
}

async function published(): Promise<Record<string, unknown>[]> {
  const duck = await openDuck(':memory:');
  try {
    await duck.conn.run(`ATTACH ${quoteLiteral(join(extractDir(), 'extract.duckdb'))} AS e (READ_ONLY)`);
    return await queryRows(
      duck.conn,
      'SELECT table_name, rows, size_bytes, query_mode, description FROM e._meta ORDER BY table_name',
    );
  } finally {
    duck.close();
  }
}

/** Nothing secret in the extract, the progress lines or the failures. */
async function expectNoLeak(result: ExtractResult): Promise<void> {
  const secrets = [fake.privateKeyPem.split('\n')[1] ?? 'x', ...fake.issuedTokens];
  const texts = [
    JSON.stringify(result),
    lines.join('\n'),
    (await readFile(join(extractDir(), 'extract.duckdb'))).toString('latin1'),
  ];
  for (const secret of secrets) for (const text of texts) expect(text.includes(secret)).toBe(false);
}

describe('BigQuery discovery (07 §4)', () => {
  it('lists tables over pages with DuckDB types, rows, size and last change', async () => {
    const connector = createBigQueryConnector({ tuning: TUNING });
    const found = await connector.discover?.({
      name: 'bigquery',
      type: 'bigquery',
      config: config(),
      extractDir: extractDir(),
      env: {},
    });
    expect(found?.map((t) => `${t.bucket}.${t.source_table}`).sort()).toEqual([
      'crm.customers',
      'sales.orders',
      'sales.returns',
    ]);
    const orders = found?.find((t) => t.source_table === 'orders');
    expect(orders).toMatchObject({
      name: 'orders',
      rows: 2,
      size_bytes: 4096,
      last_change: '2026-01-02T00:00:00.000Z',
    });
    expect(orders?.columns).toEqual([
      { name: 'id', type: 'BIGINT' },
      { name: 'amount', type: 'DECIMAL(38,9)' },
      { name: 'tags', type: 'VARCHAR[]' },
      { name: 'address', type: 'STRUCT("city" VARCHAR)' },
      { name: 'at', type: 'TIMESTAMP WITH TIME ZONE' },
    ]);
    // Three tables in `sales` at two per page: the table list needed a second page.
    expect(fake.count(/^GET .*\/datasets\/sales\/tables$/)).toBe(2);
    expect(fake.count(/^POST \/token$/)).toBe(1);
  });

  it('without a credentials file reports credentials_required', async () => {
    const connector = createBigQueryConnector({ tuning: TUNING });
    await expect(
      connector.discover?.({
        name: 'bigquery',
        type: 'bigquery',
        config: config(''),
        extractDir: extractDir(),
        env: {},
      }),
    ).rejects.toMatchObject({ code: 'credentials_required' });
  });
});

describe('BigQuery extract (07 §4)', () => {
  it('writes remote views and _remote_attach without a token; views answer through the seam', async () => {
    const result = await run([table('orders', 'sales'), table('customers', 'crm')]);
    expect(result.tables_failed).toEqual([]);
    expect(result.tables_extracted.sort()).toEqual(['customers', 'orders']);
    expect(await published()).toEqual([
      { table_name: 'customers', rows: 1n, size_bytes: 0n, query_mode: 'remote', description: null },
      { table_name: 'orders', rows: 2n, size_bytes: 0n, query_mode: 'remote', description: 'orders  placed' },
    ]);
    const duck = await openDuck(':memory:');
    try {
      await duck.conn.run(`ATTACH ${quoteLiteral(join(extractDir(), 'extract.duckdb'))} AS e (READ_ONLY)`);
      expect(await queryRows(duck.conn, 'SELECT * FROM e._remote_attach')).toEqual([
        { alias: 'bq', extension: 'bigquery', url: `project=${fake.project}`, token_env: '' },
      ]);
    } finally {
      duck.close();
    }
    const validation = await validateExtract(extractDir(), { attachRemote: attachCatalog });
    expect(validation.errors).toEqual([]);
    await expectNoLeak(result);
  });

  it('a table that fails keeps its previous view and rows; the others are published', async () => {
    await run([table('orders', 'sales'), table('returns', 'sales')]);
    fake.inject({ match: /tables\/returns$/, status: 404 });
    fake.addTable('sales', 'orders', { fields: [{ name: 'id', type: 'INT64' }], numRows: 5 });
    const result = await run([table('orders', 'sales'), table('returns', 'sales')]);
    expect(result.tables_failed.map((f) => [f.table, f.code])).toEqual([['returns', 'not_found']]);
    expect(result.tables_extracted).toEqual(['orders']);
    expect((await published()).map((m) => [m.table_name, m.rows])).toEqual([
      ['orders', 5n],
      ['returns', 1n],
    ]);
    expect((await validateExtract(extractDir(), { attachRemote: attachCatalog })).errors).toEqual([]);
  });
});

describe('BigQuery faults', () => {
  it('a key the token endpoint refuses fails every table auth_failed, without REST calls or leaks', async () => {
    const wrong = await fake.writeKeyFile(root, { wrongKey: true });
    const wrongPem = JSON.parse(await readFile(wrong, 'utf8')).private_key as string;
    const result = await run([table('orders', 'sales'), table('customers', 'crm')], wrong);
    expect(result.tables_failed.map((f) => f.code)).toEqual(['auth_failed', 'auth_failed']);
    expect(result.tables_failed[0]?.message).toMatch(/token endpoint refused the credentials \(HTTP 401\)/);
    expect(fake.count(/^POST \/token$/)).toBe(1);
    expect(fake.count(/^GET /)).toBe(0);
    expect(JSON.stringify(result).includes(wrongPem.split('\n')[1] ?? 'x')).toBe(false);
    await expectNoLeak(result);
  });

  it('a 429 storm with Retry-After is retried to success', async () => {
    fake.inject({ match: /tables\/orders$/, status: 429, retryAfter: '0', times: 3 });
    const result = await run([table('orders', 'sales')]);
    expect(result.tables_failed).toEqual([]);
    expect(fake.count(/tables\/orders$/)).toBe(4);
  });

  it('persistent 500 fails the table upstream_failed after the retries', async () => {
    fake.inject({ match: /tables\/orders$/, status: 500, times: Number.POSITIVE_INFINITY });
    const result = await run([table('orders', 'sales'), table('customers', 'crm')]);
    expect(result.tables_failed.map((f) => [f.table, f.code])).toEqual([['orders', 'upstream_failed']]);
    expect(result.tables_extracted).toEqual(['customers']);
    expect(fake.count(/tables\/orders$/)).toBe(4);
  });

  it('a slow answer times out', async () => {
    fake.inject({ match: /tables\/orders$/, delayMs: 1000, times: Number.POSITIVE_INFINITY });
    const result = await run([table('orders', 'sales')]);
    expect(result.tables_failed.map((f) => f.code)).toEqual(['timeout']);
  });

  it('a truncated JSON body fails the table upstream_failed', async () => {
    fake.inject({ match: /tables\/orders$/, truncate: true });
    const result = await run([table('orders', 'sales')]);
    expect(result.tables_failed.map((f) => [f.code, f.message])).toEqual([
      ['upstream_failed', expect.stringMatching(/not complete JSON/)],
    ]);
  });

  it('a truncated token response fails every table without a crash', async () => {
    fake.inject({ match: /^POST \/token$/, truncate: true });
    const result = await run([table('orders', 'sales')]);
    expect(result.tables_failed.map((f) => f.code)).toEqual(['upstream_failed']);
  });
});

describe('data_sources.bigquery', () => {
  async function load(env: Record<string, string>, section = 'bigquery: {}\n') {
    const configPath = join(root, 'instance.yaml');
    await writeFile(configPath, `data_sources:\n${section.replace(/^/gm, '  ')}`);
    const connectors = [createBigQueryConnector()];
    const { config: loaded } = loadConfig({ env, configPath, cwd: root, connectors });
    return configuredSources(loaded, connectors, root, env);
  }

  it('no project: no source', async () => {
    expect(await load({})).toEqual([]);
  });

  it('a project with a usable key defines the source from the environment', async () => {
    const sources = await load({ BIGQUERY_PROJECT: 'fake-project', GOOGLE_APPLICATION_CREDENTIALS: keyFile });
    expect(sources.map((s) => [s.name, s.type, s.config])).toEqual([
      [
        'bigquery',
        'bigquery',
        {
          project: 'fake-project',
          location: '',
          credentials_file: keyFile,
          api_endpoint: 'https://bigquery.googleapis.com',
        },
      ],
    ]);
  });

  it('fails closed: a project without usable credentials is a config problem naming no secret', async () => {
    await expect(load({ BIGQUERY_PROJECT: 'fake-project' })).rejects.toThrow(
      /data_sources\.bigquery\.credentials_file: project is set/,
    );
    await expect(
      load({ BIGQUERY_PROJECT: 'fake-project', GOOGLE_APPLICATION_CREDENTIALS: join(root, 'missing.json') }),
    ).rejects.toThrow(/credentials_file cannot be read/);
    const broken = join(root, 'broken.json');
    await writeFile(
      broken,
      JSON.stringify({ type: 'service_account', client_email: 'x@y', token_uri: 'https://t' }),
    );
    await expect(
      load({ BIGQUERY_PROJECT: 'fake-project', GOOGLE_APPLICATION_CREDENTIALS: broken }),
    ).rejects.toThrow(/credentials_file has no private_key/);
  });
});
