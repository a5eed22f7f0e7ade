import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBigQueryConnector } from '../../src/connectors/bigquery/index.js';
import { BUILT_IN_CONNECTORS } from '../../src/connectors/index.js';
import { loadConfig } from '../../src/core/config/index.js';
import { configuredSources } from '../../src/core/config/sources.js';
import { openDuck, queryOne } from '../../src/core/duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../../src/core/duckdb/sql.js';
import type { Connector } from '../../src/core/extract/connector.js';
import type { AttachRemote } from '../../src/core/extract/remote-attach.js';
import { validateExtract } from '../../src/core/extract/validator.js';
import { SyncOrchestrator } from '../../src/core/orchestrator/orchestrator.js';
import { orchestratorStateStore } from '../../src/core/orchestrator/state-store.js';
import { openStateDb, type StateDb } from '../../src/core/state/db.js';
import { migrateToLatest } from '../../src/core/state/migrate.js';
import { FakeBigQuery } from '../fakes/bigquery.js';
import { FakeKeboola } from '../fakes/keboola.js';
import { fakeConnector } from '../support/connectors.js';
import { tempDir } from '../support/extracts.js';

/**
 * The connector contract of 07 §0, run for every connector the product lists plus a test-only
 * one registered the way a new connector would be: configured through its own `data_sources`
 * section, `discover` → `extract` → `validateExtract` → the orchestrator binds a view per table,
 * and the views answer with the rows the connector wrote.
 */

/** How each connector's source is set up in a test: its `instance.yaml` section, its environment, its fake. */
interface Fixture {
  section: string;
  env?: Record<string, string>;
  close?: () => Promise<void>;
  /** Remote-only connectors: their tables are registered remote and attach through this seam. */
  remote?: { attachRemote: AttachRemote; connector: Connector };
}

const FIXTURES: Record<string, (dir: string) => Promise<Fixture>> = {
  async local(dir) {
    const files = join(dir, 'files');
    await mkdir(files);
    await writeFile(join(files, 'orders.csv'), 'id,amount\n1,10.5\n2,20\n3,7.25\n');
    await writeFile(join(files, 'customers.csv'), 'id,name\n1,Ada\n2,Grace\n');
    return { section: `local:\n  - name: files\n    path: ${JSON.stringify(files)}\n` };
  },
  async keboola() {
    const fake = await FakeKeboola.start();
    fake.jobPolls = 0;
    const orders = fake.addTable({
      bucket: 'in.c-sales',
      name: 'orders-2024.v2',
      columns: ['id', 'amount', 'note'],
      primaryKey: ['id'],
      types: { id: 'INTEGER', amount: 'NUMERIC' },
    });
    fake.upsert('in.c-sales.orders-2024.v2', [
      ['1', '10.5', 'first, "quoted"'],
      ['2', '20', null],
      ['3', '7.25', 'line\nbreak'],
    ]);
    fake.addTable({ bucket: 'out.c-crm', name: 'customers', columns: ['id', 'name'] });
    fake.upsert('out.c-crm.customers', [['1', 'Ada']]);
    expect(orders.rows).toHaveLength(3);
    return {
      section: `keboola:\n  stack_url: ${fake.url}\n`,
      env: { KEBOOLA_STORAGE_TOKEN: fake.token },
      close: () => fake.close(),
    };
  },
  async bigquery(dir) {
    const fake = await FakeBigQuery.start();
    fake.addTable('sales', 'orders', {
      fields: [
        { name: 'id', type: 'INT64' },
        { name: 'amount', type: 'NUMERIC' },
      ],
      numRows: 3,
    });
    fake.addTable('crm', 'customers', { fields: [{ name: 'name', type: 'STRING' }], numRows: 1 });
    // The remote catalog the `bigquery` extension would attach: same datasets, tables and rows.
    const catalog = join(dir, 'bq.duckdb');
    const duck = await openDuck(catalog);
    await duck.conn.run(`CREATE SCHEMA sales; CREATE SCHEMA crm;
      CREATE TABLE sales.orders AS SELECT * FROM (VALUES (1, 10.5), (2, 20), (3, 7.25)) t(id, amount);
      CREATE TABLE crm.customers AS SELECT 'Ada' AS name`);
    duck.close();
    const attachRemote: AttachRemote = async (conn, request) => {
      await conn.run(`ATTACH ${quoteLiteral(catalog)} AS ${quoteIdent(request.alias)} (READ_ONLY)`);
    };
    return {
      section: `bigquery:\n  project: ${fake.project}\n  api_endpoint: ${fake.url}\n`,
      env: { GOOGLE_APPLICATION_CREDENTIALS: await fake.writeKeyFile(dir) },
      close: () => fake.close(),
      remote: { attachRemote, connector: createBigQueryConnector({ attachRemote }) },
    };
  },
  async acme() {
    return { section: 'acme:\n  enabled: true\n  rows: 4\n' };
  },
};

const CONNECTORS: readonly Connector[] = [...BUILT_IN_CONNECTORS, fakeConnector({ type: 'acme' })];

let root: string;
let cleanup: () => Promise<void>;
let db: StateDb;
let closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  ({ path: root, cleanup } = await tempDir('agnes-contract-'));
  db = openStateDb(root);
  await migrateToLatest(db);
});

afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
  await db.destroy();
  await cleanup();
});

describe('connector contract (07 §0)', () => {
  it('has a fixture for every built-in connector', () => {
    expect(BUILT_IN_CONNECTORS.map((c) => c.type).filter((type) => !FIXTURES[type])).toEqual([]);
  });

  it.each(CONNECTORS.map((c) => [c.type, c] as const))(
    '%s: discover, extract, validate, bind',
    async (type, listed) => {
      const setup = FIXTURES[type];
      if (!setup) throw new Error(`no fixture for connector ${type}`);
      const fixture = await setup(root);
      if (fixture.close) closers.push(fixture.close);
      const connector = fixture.remote?.connector ?? listed;
      const attachRemote = fixture.remote ? { attachRemote: fixture.remote.attachRemote } : {};
      const env = fixture.env ?? {};
      const configPath = join(root, 'instance.yaml');
      await writeFile(configPath, `data_sources:\n${fixture.section.replace(/^/gm, '  ')}`);
      const { config } = loadConfig({ env, configPath, cwd: root, connectors: CONNECTORS });
      const [source, ...others] = configuredSources(config, CONNECTORS, root, env).filter(
        (s) => s.type === type,
      );
      expect(source, 'the fixture configures one source').toBeDefined();
      expect(others).toEqual([]);
      if (!source) return;
      const extractDir = join(root, 'extracts', source.name);

      const offered = await connector.discover?.({ ...source, extractDir, env });
      expect(offered?.length, 'discover lists tables').toBeGreaterThan(0);
      const tables = (offered ?? []).map((table) => ({
        id: table.name,
        source_table: table.source_table,
        bucket: table.bucket,
        sync_strategy: 'full_refresh' as const,
        query_mode: fixture.remote ? ('remote' as const) : ('local' as const),
        primary_key: table.primary_key,
        partition_by: null,
        partition_granularity: null,
        watermark: null,
      }));

      const result = await connector.extract(
        { source: source.name, type, extractDir, fullRefresh: true, tables, config: source.config },
        { progress: () => undefined, env },
      );
      expect(result.tables_failed).toEqual([]);
      expect([...result.tables_extracted].sort()).toEqual(tables.map((t) => t.id).sort());

      const validation = await validateExtract(extractDir, attachRemote);
      expect(validation.errors).toEqual([]);

      const orchestrator = new SyncOrchestrator({
        dataDir: root,
        state: orchestratorStateStore(db),
        env: {},
        remoteExtensions: listed.remoteExtension ? [listed.remoteExtension] : [],
        ...attachRemote,
      });
      const report = await orchestrator.rebuild();
      expect(report.sources[source.name]?.status).toBe('ok');
      // Read as every reader does: the analytics file with the source's extract attached by name.
      const duck = await openDuck(orchestrator.analyticsPath, { readOnly: true });
      try {
        const extractFile = join(extractDir, 'extract.duckdb');
        await duck.conn.run(`ATTACH ${quoteLiteral(extractFile)} AS ${quoteIdent(source.name)} (READ_ONLY)`);
        // Remote views also need their catalogs, attached as the query layer does.
        for (const remote of report.sources[source.name]?.remote_attach ?? [])
          await fixture.remote?.attachRemote(
            duck.conn,
            { alias: remote.alias, extension: remote.extension, url: '', token: null },
            { installExtensions: false },
          );
        for (const table of offered ?? []) {
          const row = await queryOne(duck.conn, `SELECT count(*) AS n FROM ${quoteIdent(table.name)}`);
          expect(Number(row?.n), table.name).toBe(table.rows);
        }
      } finally {
        duck.close();
      }
    },
  );
});
