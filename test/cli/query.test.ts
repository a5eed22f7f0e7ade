import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/jobs/logger.js';
import { profileTables } from '../../src/core/jobs/profile-tables.js';
import { cliHome, runDa } from '../support/cli.js';
import { type SyncedLaptop, syncedAnalyst } from '../support/cli-synced.js';

const FIRST_THREE = 'SELECT id, label, amount FROM orders ORDER BY id LIMIT 3';
/** FIRST_THREE as row objects: DECIMAL values are exact strings (05 §6). */
const FIRST_THREE_ROWS = [
  { id: 0, label: 'v0', amount: '0.0' },
  { id: 1, label: 'v1', amount: '1.5' },
  { id: 2, label: 'v2', amount: '3.0' },
];

describe('da query and da explore', { timeout: 180_000 }, () => {
  let laptop: SyncedLaptop;
  const da = (...args: string[]) => laptop.da(...args);

  beforeAll(async () => {
    laptop = await syncedAnalyst();
  });
  afterAll(async () => laptop.close());

  it('prints an aligned table by default, numbers right-aligned', async () => {
    const result = await da('query', FIRST_THREE);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')).toEqual([
      'id  label  amount',
      '--  -----  ------',
      ' 0  v0     0.0',
      ' 1  v1     1.5',
      ' 2  v2     3.0',
      '',
    ]);
  });

  it('prints json, csv and ndjson with the server encodings (DECIMAL exact as a string)', async () => {
    const json = await da('query', FIRST_THREE, '--format', 'json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(FIRST_THREE_ROWS);
    const csv = await da('query', FIRST_THREE, '--format', 'csv');
    expect(csv.stdout).toBe('id,label,amount\r\n0,v0,0.0\r\n1,v1,1.5\r\n2,v2,3.0\r\n');
    const ndjson = await da('query', '--format', 'ndjson', FIRST_THREE);
    expect(
      ndjson.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual(JSON.parse(json.stdout));
  });

  it('quotes CSV fields by RFC 4180 and shows NULL as empty', async () => {
    const csv = await da('query', `SELECT 'a,"b"' AS x, NULL AS y, 'line\nbreak' AS z`, '--format', 'csv');
    expect(csv.stdout).toBe('x,y,z\r\n"a,""b""",,"line\nbreak"\r\n');
  });

  it('stops at --limit and says so on stderr; --json carries the flag', async () => {
    const limited = await da('query', 'SELECT * FROM orders', '--limit', '10', '--format', 'csv');
    expect(limited.code).toBe(0);
    expect(limited.stdout.trim().split('\r\n')).toHaveLength(11);
    expect(limited.stderr).toBe('(truncated at 10 rows)\n');
    const whole = await da('query', 'SELECT count(*) AS n FROM events', '--json');
    expect(JSON.parse(whole.stdout)).toEqual({
      columns: ['n'],
      column_types: ['BIGINT'],
      rows: [{ n: 60 }],
      row_count: 1,
      truncated: false,
    });
  });

  it('reads SQL from --file and writes --output atomically', async () => {
    const sqlFile = join(laptop.home.root, 'q.sql');
    await writeFile(sqlFile, FIRST_THREE);
    const out = join(laptop.home.root, 'out.csv');
    const result = await da('query', '--file', sqlFile, '--format', 'csv', '--output', out);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(await readFile(out, 'utf8')).toBe('id,label,amount\r\n0,v0,0.0\r\n1,v1,1.5\r\n2,v2,3.0\r\n');
  });

  it('opens the database read-only: writes fail with exit 1 and a one-line message', async () => {
    const write = await da('query', 'CREATE TABLE t AS SELECT 1');
    expect(write.code).toBe(1);
    expect(write.stderr.trim().split('\n')).toHaveLength(1);
    expect(write.stderr).toMatch(/^error: .*read-only/i);
    const bad = await da('query', 'SELEC 1');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: .*Parser Error: syntax error/);
  });

  it('refuses usage errors with exit 2', async () => {
    expect((await da('query')).code).toBe(2);
    expect((await da('query', 'SELECT 1', '--format', 'xml')).code).toBe(2);
    const parquet = await da('query', 'SELECT 1', '--format', 'parquet');
    expect(parquet.code).toBe(2);
    expect(parquet.stderr).toBe('error: --format parquet needs --remote and --output FILE\n');
  });

  it('says to run da sync when there is no local database', async () => {
    const empty = await cliHome();
    const result = await runDa(['query', 'SELECT 1'], { env: empty.env });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: local database not found; run: da sync\n');
    await empty.cleanup();
  });

  it('explores a local table, flags before or after the name', async () => {
    const text = await da('explore', 'orders');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('orders: 50 rows, 3 columns');
    const json = await da('explore', '--json', 'orders');
    const doc = JSON.parse(json.stdout);
    expect(doc.rows).toBe(50);
    expect(doc.columns.map((c: { name: string }) => c.name)).toEqual(['id', 'label', 'amount']);
    expect(doc.sample).toHaveLength(5);
  });

  it('explore of an unknown table lists the available ones and exits 5', async () => {
    const result = await da('explore', 'nope');
    expect(result.code).toBe(5);
    expect(result.stderr).toBe('error: no local table nope; available: events, orders\n');
  });

  it('runs --remote through the server guard in each format', async () => {
    const json = await da('query', '--remote', FIRST_THREE, '--format', 'json');
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(FIRST_THREE_ROWS);
    const local = await da('query', FIRST_THREE, '--format', 'csv');
    const csv = await da('query', '--remote', FIRST_THREE, '--format', 'csv');
    expect(csv.stdout).toBe(local.stdout);
    const ndjson = await da('query', '--remote', FIRST_THREE, '--format', 'ndjson');
    expect(
      ndjson.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual(JSON.parse(json.stdout));
    const table = await da('query', '--remote', FIRST_THREE);
    expect(table.stdout).toBe((await da('query', FIRST_THREE)).stdout);
    const limited = await da('query', '--remote', 'SELECT id FROM orders', '--limit', '5', '--json');
    expect(JSON.parse(limited.stdout)).toMatchObject({ row_count: 5, truncated: true });
    expect(limited.stderr).toBe('(truncated at 5 rows)\n');
  });

  it('maps --remote refusals to exit codes: forbidden table 4, guard rejection 1', async () => {
    const forbidden = await da('query', '--remote', 'SELECT * FROM salaries');
    expect(forbidden.code).toBe(4);
    expect(forbidden.stderr.trim().split('\n')).toHaveLength(1);
    const write = await da('query', '--remote', 'DROP TABLE orders', '--json');
    expect(write.code).toBe(1);
    expect(JSON.parse(write.stdout).error).toMatchObject({ status: 400 });
  });

  it('streams --remote exports to --output as csv and parquet', async () => {
    const csvPath = join(laptop.home.root, 'export.csv');
    const csv = await da('query', '--remote', FIRST_THREE, '--format', 'csv', '--output', csvPath);
    expect(csv.code).toBe(0);
    expect(await readFile(csvPath, 'utf8')).toMatch(/^id,label,amount\r?\n0,v0,0\.0\r?\n/);
    const parquetPath = join(laptop.home.root, 'export.parquet');
    const parquet = await da(
      'query',
      '--remote',
      'SELECT * FROM orders',
      '--format',
      'parquet',
      '--output',
      parquetPath,
    );
    expect(parquet.code).toBe(0);
    const count = await da(
      'query',
      `SELECT count(*) AS n FROM read_parquet('${parquetPath}')`,
      '--format',
      'csv',
    );
    expect(count.stdout).toBe('n\r\n50\r\n');
    const refusedPath = join(laptop.home.root, 'refused.csv');
    const refused = await da(
      'query',
      '--remote',
      'SELECT * FROM salaries',
      '--format',
      'csv',
      '--output',
      refusedPath,
    );
    expect(refused.code).toBe(4);
    await expect(readFile(refusedPath)).rejects.toThrow(/ENOENT/);
  });

  it('explore --remote prints the server profile; an unreadable table exits 4', async () => {
    const { server } = laptop.fixture;
    const deps = {
      repos: server.ctx.repos,
      dataDir: server.dataDir,
      options: server.ctx.config.profiler,
      log: silentLogger,
    };
    expect((await profileTables(deps, null, { force: true })).failed).toEqual([]);
    const text = await da('explore', 'orders', '--remote');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^orders: 50 rows, 3 columns\n/);
    expect(text.stdout).toMatch(/^label +VARCHAR +100%/m);
    const json = await da('explore', '--remote', '--json', 'orders');
    expect(JSON.parse(json.stdout)).toMatchObject({ table_id: 'orders', row_count: 50, column_count: 3 });
    const refused = await da('explore', 'salaries', '--remote');
    expect(refused.code).toBe(4);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  });
});
