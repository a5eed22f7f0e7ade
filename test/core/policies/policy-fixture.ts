import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { RowPolicyInput, RowPolicyPatch, RowPolicyView } from '../../../src/contract/index.js';
import type { Principal } from '../../../src/core/access/decide.js';
import { openDuck, queryRows, toNumber } from '../../../src/core/duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../../../src/core/duckdb/sql.js';
import type { EffectiveView, MaskedColumn } from '../../../src/core/policies/types.js';
import { toJson } from '../../../src/core/state/column-values.js';
import { nowIso } from '../../../src/core/time.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { registerTable } from '../../server/api/fixtures.js';
import { makeExtract } from '../../support/extracts.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';

export const SALT = 'test-policy-salt-0123456789abcdef0123456789';

const REGIONS = "['EU', 'US', 'APAC', 'LATAM'][(range % 4) + 1]";

/**
 * Source `crm`: `sales` (40 rows, a quarter of them `EU`) and `customers` (7 rows), both keyed by
 * `customer`, registered in bucket `crm`; plus `plain`, never bound.
 */
export async function publishCrm(ctx: Runtime, dataDir: string): Promise<void> {
  await makeExtract(join(dataDir, 'extracts'), 'crm', [
    {
      name: 'sales',
      select: `SELECT range AS id, ${REGIONS} AS region, 'c' || (range % 7) AS customer, (range * 10)::INTEGER AS amount FROM range(40)`,
    },
    { name: 'customers', select: `SELECT 'c' || range AS customer, 'Name ' || range AS name FROM range(7)` },
    { name: 'plain', rows: 3 },
  ]);
  const report = await ctx.orchestrator.rebuild();
  if (report.sources.crm?.status !== 'ok') throw new Error(`fixture rebuild: ${JSON.stringify(report)}`);
  for (const id of ['sales', 'customers', 'plain'])
    await registerTable(ctx, id, { source: 'crm', source_type: 'local', bucket: 'crm' });
}

/**
 * Source `web`: `events`, three shards of 12 rows (a quarter of each `EU`), registered in bucket
 * `web`: a multi-file table whose slice is one file.
 */
export async function publishWebEvents(ctx: Runtime, dataDir: string): Promise<void> {
  const shard = (i: number) =>
    `SELECT ${i} * 100 + range AS id, ${REGIONS} AS region, 'shard ${i}' AS shard FROM range(12)`;
  await makeExtract(join(dataDir, 'extracts'), 'web', [
    { name: 'events', shardSelects: [0, 1, 2].map(shard) },
  ]);
  const report = await ctx.orchestrator.rebuild();
  if (report.sources.web?.status !== 'ok') throw new Error(`fixture rebuild: ${JSON.stringify(report)}`);
  await registerTable(ctx, 'events', { source: 'web', source_type: 'local', bucket: 'web' });
}

export function sliceView(
  filter: string | null,
  masks: MaskedColumn[] = [],
  policies = [{ id: 'p-eu', name: 'EU only' }],
): EffectiveView {
  return { kind: 'slice', policies, bound_filter: filter, masks, failures: [] };
}

/**
 * Stands in for `loadEffectiveViews` (built by another part): the views a test sets, by table,
 * for every non-admin principal. Admins are never bound.
 */
export function injectViews(ctx: Runtime): Map<string, EffectiveView> {
  const views = new Map<string, EffectiveView>();
  ctx.policies.effectiveViews = async (principal: Principal, tableIds: readonly string[]) =>
    new Map(
      principal.role === 'admin'
        ? []
        : tableIds.filter((id) => views.has(id)).map((id) => [id, views.get(id)!] as const),
    );
  return views;
}

/** A stored policy row, so the table counts as policy-bound (admins' `policy_bypass`). */
export async function storePolicy(ctx: Runtime, tableId: string): Promise<void> {
  const now = nowIso();
  await ctx.db
    .insertInto('row_policies')
    .values({
      id: randomUUID(),
      table_id: tableId,
      name: `policy of ${tableId}`,
      name_key: `policy of ${tableId}`,
      description: '',
      applies_to: toJson({ everyone: true, users: [], groups: [] }),
      row_filter: "region = 'EU'",
      masked_columns: toJson([]),
      enabled: true,
      error: null,
      created_by: null,
      created_at: now,
      updated_by: null,
      updated_at: now,
    })
    .execute();
}

/**
 * What an admin does through the public API to bind readers (12 §4, 04 §6): policies, attributes,
 * grants and group memberships. Each call throws unless it answers its success status.
 */
export function policyAdmin(server: Pick<TestServer, 'url'>, admin: Pick<TestUser, 'auth'>) {
  // biome-ignore lint/suspicious/noExplicitAny: tests read the documented response shapes
  const expectStatus = async (status: number, method: string, path: string, body?: unknown): Promise<any> => {
    const response = await call(server, method, path, { auth: admin.auth, body });
    if (response.status !== status) throw new Error(`${method} ${path}: ${response.status} ${response.text}`);
    return response.body;
  };
  return {
    addPolicy: (tableId: string, input: RowPolicyInput): Promise<RowPolicyView> =>
      expectStatus(201, 'POST', `/api/admin/tables/${tableId}/policies`, input),
    updatePolicy: (policyId: string, patch: RowPolicyPatch): Promise<RowPolicyView> =>
      expectStatus(200, 'PUT', `/api/admin/policies/${policyId}`, patch),
    deletePolicy: (policyId: string): Promise<void> =>
      expectStatus(204, 'DELETE', `/api/admin/policies/${policyId}`),
    policies: async (tableId: string): Promise<RowPolicyView[]> =>
      (await expectStatus(200, 'GET', `/api/admin/tables/${tableId}/policies`)).policies,
    setAttributes: (userId: string, attributes: Record<string, string[]>): Promise<unknown> =>
      expectStatus(200, 'PUT', `/api/admin/users/${userId}/attributes`, { attributes }),
    grant: (userId: string, dataset: string): Promise<unknown> =>
      expectStatus(201, 'POST', '/api/admin/permissions', { user_id: userId, dataset, access: 'read' }),
    createGroup: async (name: string): Promise<string> =>
      (await expectStatus(201, 'POST', '/api/admin/groups', { name })).id,
    addMember: (groupId: string, userId: string): Promise<unknown> =>
      expectStatus(201, 'POST', `/api/admin/groups/${groupId}/members`, { user_id: userId }),
    removeMember: (groupId: string, userId: string): Promise<unknown> =>
      expectStatus(204, 'DELETE', `/api/admin/groups/${groupId}/members/${userId}`),
  };
}

/** Everyone, or the named users and groups (`applies_to`). */
export const everyone = { everyone: true, users: [], groups: [] };

/** The region policy of 12 §7, driven by the reader's `regions` attribute. */
export const REGION_FILTER = 'list_contains({{user.attr.regions}}, region)';

/**
 * The rows of `sql` computed without Agnes: DuckDB over Parquet files, each a view named by its
 * key (the crm source's own files, a downloaded slice, a synced copy).
 */
export async function parquetRows(
  files: Record<string, string>,
  sql: string,
): Promise<Record<string, unknown>[]> {
  const duck = await openDuck();
  try {
    for (const [name, file] of Object.entries(files))
      await duck.conn.run(
        `CREATE VIEW ${quoteIdent(name)} AS SELECT * FROM read_parquet(${quoteLiteral(file)})`,
      );
    const rows = await queryRows(duck.conn, sql);
    return rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([key, value]) => [key, typeof value === 'bigint' ? toNumber(value) : value]),
      ),
    );
  } finally {
    duck.close();
  }
}

/** The crm source's published file of `table` (what `publishCrm` extracted). */
export const crmFile = (dataDir: string, table: string) =>
  join(dataDir, 'extracts', 'crm', 'data', `${table}.parquet`);

/** `parquetRows` over bytes an endpoint served, written to a scratch file first. */
export async function parquetBytesRows(bytes: Uint8Array, sql: string): Promise<Record<string, unknown>[]> {
  const dir = await mkdtemp(join(tmpdir(), 'agnes-parquet-'));
  try {
    const file = join(dir, 'served.parquet');
    await writeFile(file, bytes);
    return await parquetRows({ served: file }, sql);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const NO_RATE_LIMIT = { auth: { rate_limits: { query: { max: 100_000, window_seconds: 60 } } } };

export interface PolicyServerOptions {
  /** instance.yaml besides the raised query rate limit. */
  config?: Record<string, unknown>;
  /** A data directory to keep (a restart reuses an earlier server's: crm is published once). */
  dataDir?: string;
  salt?: string;
  /** More environment, e.g. `DATABASE_URL` for a replica. */
  env?: Record<string, string>;
}

/** The real app with `crm` published (`publishCrm`), an admin and the admin's API. */
export async function policyServer(options: PolicyServerOptions = {}) {
  const server = await withServer({
    config: { ...NO_RATE_LIMIT, ...options.config },
    env: { AGNES_POLICY_SALT: options.salt ?? SALT, ...options.env },
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  if ((await server.ctx.repos.registry.list()).length === 0) await publishCrm(server.ctx, server.dataDir);
  const admin = await createUser(server.ctx, 'admin');
  return { server, admin, api: policyAdmin(server, admin) };
}

/**
 * `policyServer()` for one suite: started before its tests (with its reader helpers), closed after
 * them. The fields are set once the suite's `beforeAll` has run.
 */
export function usePolicyServer(): {
  server: TestServer;
  admin: TestUser;
  api: ReturnType<typeof policyAdmin>;
  read: ReturnType<typeof reading>;
} {
  const suite = {} as ReturnType<typeof usePolicyServer>;
  beforeAll(async () => {
    Object.assign(suite, await policyServer());
    suite.read = reading(suite.server);
  });
  afterAll(async () => suite.server?.close());
  return suite;
}

export interface Answer {
  rows: unknown[][];
  columns: string[];
  column_types: string[];
}

type Caller = Pick<TestUser, 'auth'>;

/** What a caller reads through the public read paths; each throws unless it answers 200. */
export function reading(server: TestServer) {
  const ok = (what: string, response: { status: number; text: string }) => {
    if (response.status !== 200) throw new Error(`${what}: ${response.status} ${response.text}`);
  };
  const query = async (user: Caller, sql: string): Promise<Answer> => {
    const response = await call(server, 'POST', '/api/query', { auth: user.auth, body: { sql } });
    ok(sql, response);
    return response.body;
  };
  /** The first value; a big integer the API encodes as a string is read back as a number. */
  const scalar = async (user: Caller, sql: string) => {
    const value = (await query(user, sql)).rows[0]?.[0];
    return typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  };
  const regions = async (user: Caller) =>
    (await query(user, 'SELECT DISTINCT region FROM sales ORDER BY region')).rows.map((r) => r[0]);
  // biome-ignore lint/suspicious/noExplicitAny: tests read the documented manifest entry
  const manifestEntry = async (user: Caller, table: string): Promise<any> => {
    const response = await call(server, 'GET', '/api/sync/manifest', { auth: user.auth });
    ok('manifest', response);
    return response.body.tables[table];
  };
  const download = async (user: Caller, table: string) => {
    const response = await fetch(`${server.url}/api/data/${table}/download`, {
      headers: { authorization: user.auth },
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200) throw new Error(`download ${table}: ${response.status}`);
    return bytes;
  };
  /** The slice files of `table` on disk, by name. */
  const sliceFiles = async (table: string) =>
    (await readdir(join(server.dataDir, 'slices', table)).catch(() => [] as string[]))
      .filter((name) => name.endsWith('.parquet'))
      .sort();
  return { query, scalar, regions, manifestEntry, download, sliceFiles };
}
