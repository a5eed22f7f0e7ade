import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalQueryEngine } from '../../src/cli/mcp/local-engine.js';
import type { SyncedTable } from '../../src/cli/mcp/synced.js';
import { defaultSection } from '../../src/core/config/schema.js';
import { openDuck } from '../../src/core/duckdb/engine.js';
import { quoteLiteral } from '../../src/core/duckdb/sql.js';

/**
 * `da mcp`'s local queries (14 §4): the guard, and under it a locked-down DuckDB that reads the
 * synced Parquet files and nothing else of the laptop, even when the tree walk is skipped.
 */
describe('da mcp local query engine', () => {
  let dir: string;
  let orders: SyncedTable;
  let secret: string;
  let notes: string;
  const bypasses: string[] = [];

  const engine = (treeWalk?: boolean) =>
    LocalQueryEngine.open({
      settings: defaultSection('query'),
      localDir: dir,
      probePath: join(dir, 'probe'),
      onPossibleBypass: (message) => bypasses.push(message),
      treeWalk,
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agnes-local-engine-'));
    const duck = await openDuck();
    try {
      const ordersFile = join(dir, 'orders.parquet');
      secret = join(dir, 'secret.parquet');
      await duck.conn.run(
        `COPY (SELECT range AS id FROM range(5)) TO ${quoteLiteral(ordersFile)} (FORMAT parquet)`,
      );
      await duck.conn.run(`COPY (SELECT 'pay' AS s) TO ${quoteLiteral(secret)} (FORMAT parquet)`);
      orders = { id: 'orders', layout: 'single', files: [ordersFile] };
    } finally {
      duck.close();
    }
    notes = join(dir, 'notes.csv');
    await writeFile(notes, 'a,b\n1,2\n');
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('runs a SELECT over the synced views, with the row limit', async () => {
    const local = await engine();
    try {
      const result = await local.query('SELECT id FROM orders ORDER BY id', 3, [orders]);
      expect(result).toMatchObject({
        rows: [[0], [1], [2]],
        row_count: 3,
        truncated: true,
        truncated_reason: 'rows',
      });
      await expect(local.query("SELECT * FROM read_text('/etc/passwd')", 10, [orders])).rejects.toMatchObject(
        {
          code: 'forbidden_function',
        },
      );
      await expect(local.query('SELECT * FROM payments', 10, [orders])).rejects.toMatchObject({
        code: 'unknown_table',
      });
    } finally {
      local.close();
    }
  });

  it('refuses every other file inside the engine when the tree walk is skipped', async () => {
    const local = await engine(false);
    try {
      for (const sql of [
        "SELECT * FROM read_text('/etc/passwd')",
        `SELECT * FROM read_csv(${quoteLiteral(notes)})`,
        `SELECT * FROM read_parquet(${quoteLiteral(secret)})`,
        `SELECT * FROM ${quoteLiteral(secret)}`,
      ]) {
        bypasses.length = 0;
        await expect(local.query(sql, 10, [orders]), sql).rejects.toMatchObject({
          code: 'query_failed',
          detail: 'access to external resources is not allowed',
        });
        expect(bypasses, sql).toHaveLength(1);
      }
      await expect(local.query('SET enable_external_access = true', 10, [orders])).rejects.toMatchObject({
        code: 'not_select',
      });
    } finally {
      local.close();
    }
  });
});
