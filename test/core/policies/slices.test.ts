import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, queryRows } from '../../../src/core/duckdb/engine.js';
import { quoteLiteral } from '../../../src/core/duckdb/sql.js';
import { unusedCutoff } from '../../../src/core/policies/slice-gc.js';
import { PolicySlices, type SliceTable, sliceKey, slicePath } from '../../../src/core/policies/slices.js';
import { sandboxKey } from '../../../src/core/query/sandbox-cache.js';
import { sha256File } from '../../../src/core/sync/hashing.js';
import { runMaintenance } from '../../../src/core/usecases/maintenance.js';
import { type TestServer, withServer } from '../../support/server.js';
import { publishCrm, SALT, sliceView } from './policy-fixture.js';

describe('policy slices (12 §3)', () => {
  let server: TestServer;
  let sales: SliceTable;

  beforeAll(async () => {
    server = await withServer({ env: { AGNES_POLICY_SALT: SALT } });
    await publishCrm(server.ctx, server.dataDir);
    const state = (await server.ctx.repos.syncState.getState('sales'))!;
    sales = {
      table_id: 'sales',
      hash: state.hash,
      layout: state.layout,
      files: state.files,
      query_mode: 'local',
    };
  });
  afterAll(async () => server.close());

  it('builds one slice for 20 concurrent first requests with one binding, and records it', async () => {
    const slices = server.ctx.policies.slices;
    const view = sliceView("region = 'APAC'");
    const before = slices.builds;
    const all = await Promise.all(Array.from({ length: 20 }, () => slices.ensure(sales, view)));
    expect(slices.builds - before).toBe(1);
    expect(new Set(all.map((s) => s.key)).size).toBe(1);
    const [slice] = all;
    expect(slice).toMatchObject({ tableId: 'sales', rows: 10 });
    expect(slice!.path).toBe(slicePath(server.dataDir, 'sales', slice!.key));
    expect(slice!.sha256).toBe(await sha256File(slice!.path));
    expect(slice!.sha256).not.toBe(sales.hash);
    const row = await server.ctx.repos.policySlices.get(slice!.key);
    expect(row).toMatchObject({
      table_id: 'sales',
      table_hash: sales.hash,
      rows: 10,
      size_bytes: slice!.size_bytes,
    });
    // Found on disk afterwards: no second build.
    await slices.ensure(sales, view);
    expect(slices.builds - before).toBe(1);
  });

  it('keeps column order and types; a hashed column becomes VARCHAR, a nulled one keeps its type', async () => {
    const slice = await server.ctx.policies.slices.ensure(
      sales,
      sliceView(null, [
        { column: 'customer', mask: 'hash' },
        { column: 'amount', mask: 'null' },
      ]),
    );
    const duck = await openDuck();
    try {
      const columns = await queryRows<{ column_name: string; column_type: string }>(
        duck.conn,
        `DESCRIBE SELECT * FROM read_parquet(${quoteLiteral(slice.path)})`,
      );
      expect(columns.map((c) => [c.column_name, c.column_type])).toEqual([
        ['id', 'BIGINT'],
        ['region', 'VARCHAR'],
        ['customer', 'VARCHAR'],
        ['amount', 'INTEGER'],
      ]);
      const [nulls] = await queryRows<{ n: bigint }>(
        duck.conn,
        `SELECT count(*) AS n FROM read_parquet(${quoteLiteral(slice.path)}) WHERE amount IS NOT NULL OR customer LIKE 'c%'`,
      );
      expect(nulls?.n).toBe(0n);
    } finally {
      duck.close();
    }
    // The salt never lands in the file.
    expect((await readFile(slice.path)).includes(Buffer.from(SALT))).toBe(false);
  });

  it('keys a binding by table hash, filter, masks and (only when hashing) the salt version', () => {
    const eu = sliceView("region = 'EU'");
    const hashed = sliceView("region = 'EU'", [{ column: 'customer', mask: 'hash' }]);
    expect(sliceKey('h1', eu, 'v1')).toBe(sliceKey('h1', eu, 'v2'));
    expect(sliceKey('h1', hashed, 'v1')).not.toBe(sliceKey('h1', hashed, 'v2'));
    expect(sliceKey('h1', eu, null)).not.toBe(sliceKey('h2', eu, null));
    expect(sliceKey('h1', eu, null)).not.toBe(sliceKey('h1', sliceView("region = 'US'"), null));
    expect(sliceKey('h1', eu, null)).not.toBe(sliceKey('h1', hashed, 'v1'));
  });

  it('answers 503 slice_pending with Retry-After after slice_wait_seconds, and the build goes on', async () => {
    let release!: () => void;
    const saltGate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The key's salt read answers at once; the build's own salt read is held.
    const view = sliceView("region = 'LATAM'", [{ column: 'customer', mask: 'hash' }]);
    let calls = 0;
    const gated = new PolicySlices({
      dataDir: server.dataDir,
      tempDir: server.ctx.tempDir,
      repo: server.ctx.repos.policySlices,
      salt: async () => {
        calls += 1;
        if (calls > 1) await saltGate;
        return { salt: SALT, saltVersion: 'slow' };
      },
      waitSeconds: 1,
      threads: 1,
      log: { error: () => undefined },
    });
    const error = await gated.ensure(sales, view).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'slice_pending', status: 503, retryAfter: 1 });
    release();
    const slice = await gated.ensure(sales, view);
    expect(gated.builds).toBe(1);
    expect(slice.rows).toBe(10);
    expect((await stat(slice.path)).isFile()).toBe(true);
  });

  it('maintenance deletes unused slices and those of a changed or unpublished table, file and row', async () => {
    const slices = server.ctx.policies.slices;
    const kept = await slices.ensure(sales, sliceView("region = 'EU' AND id < 20"));
    const unused = await slices.ensure(sales, sliceView("region = 'EU' AND id < 30"));
    const changed = await slices.ensure(sales, sliceView("region = 'EU' AND id < 40"));
    const db = server.ctx.db;
    await db
      .updateTable('policy_slices')
      .set({ last_used_at: '2020-01-01T00:00:00.000Z' })
      .where('slice_key', '=', unused.key)
      .execute();
    await db
      .updateTable('policy_slices')
      .set({ table_hash: 'older-content' })
      .where('slice_key', '=', changed.key)
      .execute();
    const orphanKey = 'f'.repeat(64);
    const orphanPath = slicePath(server.dataDir, 'gone', orphanKey);
    await mkdir(dirname(orphanPath), { recursive: true });
    await writeFile(orphanPath, 'x');
    await server.ctx.repos.policySlices.upsert({
      slice_key: orphanKey,
      table_id: 'gone',
      table_hash: 'h',
      binding_hash: orphanKey,
      rows: 0,
      size_bytes: 1,
      sha256: 'h',
    });

    const report = await runMaintenance(server.ctx, null);
    expect(report.pruned.policy_slices).toBe(3);
    for (const doomed of [unused.path, changed.path, orphanPath])
      expect(await stat(doomed).catch(() => null)).toBeNull();
    expect((await stat(kept.path)).isFile()).toBe(true);
    const left = (await server.ctx.repos.policySlices.list()).map((r) => r.slice_key);
    expect(left).toContain(kept.key);
    expect(left).not.toContain(unused.key);
    expect(left).not.toContain(changed.key);
    expect(left).not.toContain(orphanKey);
    // A deleted slice asked for again is built again, at the same key.
    const rebuilt = await slices.ensure(sales, sliceView("region = 'EU' AND id < 30"));
    expect(rebuilt.key).toBe(unused.key);
    expect((await stat(rebuilt.path)).isFile()).toBe(true);
  });

  it('gives a sandbox per binding: the cache key covers the slice keys, not only the grant set', () => {
    const binding = (key: string) => new Map([['sales', { kind: 'slice' as const, key, path: `/s/${key}` }]]);
    expect(sandboxKey(3, ['plain', 'sales'])).toBe(sandboxKey(3, ['plain', 'sales'], new Map()));
    expect(sandboxKey(3, ['plain', 'sales'], binding('a'))).not.toBe(sandboxKey(3, ['plain', 'sales']));
    expect(sandboxKey(3, ['plain', 'sales'], binding('a'))).not.toBe(
      sandboxKey(3, ['plain', 'sales'], binding('b')),
    );
    expect(sandboxKey(3, ['plain', 'sales'], binding('a'))).toBe(
      sandboxKey(3, ['plain', 'sales'], binding('a')),
    );
  });

  it('counts "unused" from slice_ttl_days, or with 0 from the previous maintenance run', () => {
    const now = new Date('2026-04-09T12:00:00.000Z');
    expect(unusedCutoff(now, 7, '2026-04-09T00:00:00.000Z')).toBe('2026-04-02T12:00:00.000Z');
    expect(unusedCutoff(now, 0, '2026-04-08T03:00:00.000Z')).toBe('2026-04-08T03:00:00.000Z');
    expect(unusedCutoff(now, 0, null)).toBe('2026-04-09T12:00:00.000Z');
  });
});
