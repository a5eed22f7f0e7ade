import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBigQueryConnector } from '../../src/connectors/bigquery/index.js';
import { BUILT_IN_CONNECTORS } from '../../src/connectors/index.js';
import { JiraClient } from '../../src/connectors/jira/client.js';
import { jiraConfig, jiraSettings } from '../../src/connectors/jira/config.js';
import { fetchIssue, type IssueFetcher } from '../../src/connectors/jira/fetch-issue.js';
import { RawStore } from '../../src/connectors/jira/raw-store.js';
import { writeShards } from '../../src/connectors/jira/shards.js';
import { tableColumns } from '../../src/connectors/jira/tables.js';
import { transformIssue } from '../../src/connectors/jira/transform.js';
import { loadConfig } from '../../src/core/config/index.js';
import { configuredSources, connectorSection } from '../../src/core/config/sources.js';
import { openDuck, queryOne } from '../../src/core/duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../../src/core/duckdb/sql.js';
import type { Connector } from '../../src/core/extract/connector.js';
import type { AttachRemote } from '../../src/core/extract/remote-attach.js';
import { validateExtract } from '../../src/core/extract/validator.js';
import { silentLogger } from '../../src/core/jobs/logger.js';
import { SyncOrchestrator } from '../../src/core/orchestrator/orchestrator.js';
import { orchestratorStateStore } from '../../src/core/orchestrator/state-store.js';
import { openStateDb, type StateDb } from '../../src/core/state/db.js';
import { migrateToLatest } from '../../src/core/state/migrate.js';
import { FakeBigQuery } from '../fakes/bigquery.js';
import { FakeJira } from '../fakes/jira.js';
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
  /** The section is a top-level key of instance.yaml (`jira:`), not one under `data_sources`. */
  topLevel?: boolean;
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
  async jira(dir) {
    const fake = await FakeJira.start();
    fake.addIssue({
      key: 'SUP-1',
      changes: 3,
      comments: 2,
      attachments: [{ id: '1', filename: 'a.txt', content: `${fake.url}/rest/api/3/attachment/content/1` }],
      issuelinks: [{ id: '5', type: { name: 'Blocks' }, outwardIssue: { key: 'SUP-2', fields: {} } }],
    });
    fake.addIssue({ key: 'SUP-2', created: '2024-05-02T08:00:00.000+0000' });
    fake.addIssue({ key: 'SUP-3' });
    // What the worker would have left: raw documents and shards written one issue at a time,
    // plus an issue deleted since, which the full re-transform must not bring back.
    const section = `jira:\n  base_url: ${fake.url}\n  email: ${fake.account.email}\n  api_token: ${fake.account.token}\n`;
    await writeFile(join(dir, 'jira-fixture.yaml'), section);
    const loaded = loadConfig({
      env: {},
      configPath: join(dir, 'jira-fixture.yaml'),
      cwd: dir,
      connectors: CONNECTORS,
    });
    const settings = jiraSettings(connectorSection(loaded.config, jiraConfig));
    const raw = new RawStore(join(dir, 'jira'));
    const fetcher: IssueFetcher = {
      client: new JiraClient({ baseUrl: fake.url, email: fake.account.email, apiToken: fake.account.token }),
      sla: null,
      raw,
      attachments: { download: false, maxBytes: 0 },
      log: silentLogger,
    };
    const columns = tableColumns(settings.transform.customFields);
    for (const key of ['SUP-1', 'SUP-2', 'SUP-3']) {
      const doc = await fetchIssue(fetcher, key, new Date().toISOString());
      await raw.writeMany([doc]);
      const change = { upserts: [transformIssue(doc, settings.transform)], removed: [] };
      await writeShards(join(dir, 'extracts', 'jira'), columns, change);
    }
    const gone = await raw.read('SUP-3');
    await raw.writeMany([{ ...gone!, _deleted_at: new Date().toISOString() }]);
    await writeShards(join(dir, 'extracts', 'jira'), columns, { upserts: [], removed: ['SUP-3'] });
    return {
      section,
      topLevel: true,
      close: () => fake.close(),
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
      await writeFile(
        configPath,
        fixture.topLevel ? fixture.section : `data_sources:\n${fixture.section.replace(/^/gm, '  ')}`,
      );
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
