import { mkdir, rm, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuck } from '../../../src/core/duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../../../src/core/duckdb/sql.js';
import type { AttachRemote, RemoteAttachRequest } from '../../../src/core/extract/remote-attach.js';
import { type Finding, type ValidationResult, validateExtract } from '../../../src/core/extract/validator.js';
import { ExtractWriter } from '../../../src/core/extract/writer.js';
import { FIXED_TIME, makeExtract, tempDir, writeRawExtract } from '../../support/extracts.js';

/** A clock well after FIXED_TIME, so the fixtures' extracted_at is never "in the future". */
const NOW = new Date('2026-04-10T00:00:00.000Z');

let root: string;
let extracts: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  const dir = await tempDir('agnes-validator-');
  root = dir.path;
  cleanup = dir.cleanup;
  extracts = join(root, 'extracts');
  await mkdir(extracts);
});

afterEach(async () => {
  await cleanup();
});

const validate = (dir: string, options: Parameters<typeof validateExtract>[1] = {}) =>
  validateExtract(dir, { now: NOW, ...options });

/** One source `shop` with a single-file table `orders` and a three-shard table `issues`. */
function shop(): Promise<string> {
  return makeExtract(extracts, 'shop', [
    { name: 'orders', rows: 25 },
    { name: 'issues', rows: 4, shards: 3 },
  ]);
}

function finding(code: Finding['code'], table?: string) {
  return table === undefined ? expect.objectContaining({ code }) : expect.objectContaining({ code, table });
}

function expectError(result: ValidationResult, code: Finding['code'], table?: string): void {
  expect(result.ok).toBe(false);
  expect(result.errors).toContainEqual(finding(code, table));
}

/** A DuckDB file standing in for a remote catalog: schema `sales`, table `events` (5 rows). */
async function makeRemoteCatalog(path: string): Promise<void> {
  const duck = await openDuck(path);
  try {
    await duck.conn.run('CREATE SCHEMA sales');
    await duck.conn.run('CREATE TABLE sales.events AS SELECT range AS id, range * 2 AS amount FROM range(5)');
    await duck.conn.run('CHECKPOINT');
  } finally {
    duck.close();
  }
}

/** The documented seam: attach the DuckDB file named by `url` read-only under the alias; records each call. */
function recordingSeam(calls: RemoteAttachRequest[]): AttachRemote {
  return async (conn, request) => {
    calls.push(request);
    await conn.run(`ATTACH ${quoteLiteral(request.url)} AS ${quoteIdent(request.alias)} (READ_ONLY)`);
  };
}

/** Source `hybrid`: local `orders` plus remote `events` read from alias `kbc` (a DuckDB file, token in KBC_TOKEN). */
async function makeHybridExtract(remotePath: string): Promise<string> {
  await makeRemoteCatalog(remotePath);
  const dir = join(extracts, 'hybrid');
  const writer = await ExtractWriter.open(dir);
  const duck = await openDuck();
  try {
    const file = await writer.writeParquet(duck.conn, 'orders.parquet', 'SELECT range AS id FROM range(3)');
    writer.addLocalTable({ name: 'orders', extractedAt: FIXED_TIME, layout: 'single', files: [file] });
    writer.addRemoteAttach({ alias: 'kbc', extension: 'duckdb', url: remotePath, token_env: 'KBC_TOKEN' });
    writer.addRemoteTable({
      name: 'events',
      rows: 5,
      extractedAt: FIXED_TIME,
      alias: 'kbc',
      select: 'SELECT * FROM kbc.sales.events',
    });
    const result = await writer.commit({
      attachRemote: recordingSeam([]),
      env: { KBC_TOKEN: 'fixture-token' },
    });
    expect(result.failed).toEqual([]);
  } finally {
    duck.close();
    await writer.abort();
  }
  return dir;
}

describe('validateExtract: a valid extract', () => {
  it('accepts single- and multi-file tables with no errors and no warnings', async () => {
    const dir = await shop();

    const result = await validate(dir);

    expect(result).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('accepts a remote table when the seam attaches its catalog with the token from env', async () => {
    const dir = await makeHybridExtract(join(root, 'remote.duckdb'));
    const calls: RemoteAttachRequest[] = [];

    const result = await validate(dir, {
      attachRemote: recordingSeam(calls),
      env: { KBC_TOKEN: 'seam-token' },
    });

    expect(result).toEqual({ ok: true, errors: [], warnings: [] });
    expect(calls).toEqual([
      { alias: 'kbc', extension: 'duckdb', url: join(root, 'remote.duckdb'), token: 'seam-token' },
    ]);
  });

  it('warns, without an error, when the token of a remote catalog is not in the environment', async () => {
    const dir = await makeHybridExtract(join(root, 'remote.duckdb'));
    const calls: RemoteAttachRequest[] = [];

    const result = await validate(dir, { attachRemote: recordingSeam(calls), env: {} });

    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([
      {
        code: 'V7',
        message: 'remote catalog kbc not attached: KBC_TOKEN is not set; its views were not bound',
      },
    ]);
    expect(calls).toEqual([]);
  });
});

describe('V1: directory name and type', () => {
  it('rejects a directory name outside the source-name pattern', async () => {
    const dir = await makeExtract(extracts, 'bad-name', [{ name: 'orders' }]);

    const result = await validate(dir);

    expectError(result, 'V1');
    expect(result.errors.map((e) => e.code)).toEqual(['V1']);
  });

  it('rejects a reserved name', async () => {
    const dir = await makeExtract(extracts, 'Memory', [{ name: 'orders' }]);

    expectError(await validate(dir), 'V1');
  });

  it('rejects a symlinked source directory', async () => {
    const target = await shop();
    const link = join(extracts, 'linked');
    await symlink(target, link);

    const result = await validate(link);

    expectError(result, 'V1');
    expect(result.errors.find((e) => e.code === 'V1')?.message).toMatch(/symlink/);
  });
});

describe('V2: extract.duckdb opens as DuckDB', () => {
  it('reports a missing extract.duckdb', async () => {
    const dir = join(extracts, 'empty');
    await mkdir(join(dir, 'data'), { recursive: true });

    const result = await validate(dir);

    expect(result.errors).toEqual([finding('V2')]);
    expect(result.ok).toBe(false);
  });

  it('reports garbage bytes', async () => {
    const dir = join(extracts, 'garbage');
    await mkdir(dir);
    await writeFile(join(dir, 'extract.duckdb'), Buffer.alloc(64 * 1024, 'not a database '));

    expect((await validate(dir)).errors).toEqual([finding('V2')]);
  });

  it('reports a zero-byte file', async () => {
    const dir = join(extracts, 'zero');
    await mkdir(dir);
    await writeFile(join(dir, 'extract.duckdb'), '');

    expect((await validate(dir)).errors).toEqual([finding('V2')]);
  });

  it('reports a truncated DuckDB file', async () => {
    const dir = await shop();
    const path = join(dir, 'extract.duckdb');
    await truncate(path, Math.floor((await stat(path)).size / 2));

    expect((await validate(dir)).errors).toEqual([finding('V2')]);
  });
});

describe('V3: _meta columns', () => {
  it('reports a missing _meta table', async () => {
    const dir = await shop();
    await writeRawExtract(dir, ['DROP TABLE _meta']);

    const result = await validate(dir);

    expect(result.errors).toEqual([finding('V3')]);
  });

  it('reports a missing column', async () => {
    const dir = await shop();
    await writeRawExtract(dir, ['ALTER TABLE _meta DROP COLUMN description']);

    expect((await validate(dir)).errors).toEqual([finding('V3')]);
  });

  it('reports columns in the wrong order', async () => {
    const dir = await shop();
    await writeRawExtract(dir, [
      'CREATE TABLE meta2 AS SELECT description, table_name, rows, size_bytes, extracted_at, query_mode FROM _meta',
      'DROP TABLE _meta',
      'ALTER TABLE meta2 RENAME TO _meta',
    ]);

    expect((await validate(dir)).errors).toEqual([finding('V3')]);
  });

  it('reports a column of the wrong type', async () => {
    const dir = await shop();
    await writeRawExtract(dir, ['ALTER TABLE _meta ALTER rows TYPE VARCHAR']);

    const result = await validate(dir);

    expect(result.errors).toEqual([finding('V3')]);
    expect(result.errors[0]?.message).toMatch(/rows VARCHAR/);
  });

  it('accepts extracted_at as TIMESTAMPTZ', async () => {
    const dir = await shop();
    await writeRawExtract(dir, [
      `CREATE TABLE meta2 AS SELECT table_name, description, rows, size_bytes,
         (extracted_at::VARCHAR || '+00')::TIMESTAMPTZ AS extracted_at, query_mode FROM _meta`,
      'DROP TABLE _meta',
      'ALTER TABLE meta2 RENAME TO _meta',
    ]);

    expect(await validate(dir)).toEqual({ ok: true, errors: [], warnings: [] });
  });
});

describe('V4: table names', () => {
  it('reports a name outside the view-name pattern', async () => {
    const dir = await shop();
    await writeRawExtract(dir, [`INSERT INTO _meta VALUES ('bad-name', NULL, 0, 0, NULL, 'remote')`]);

    expectError(await validate(dir), 'V4', 'bad-name');
  });

  it('reports a name with a leading underscore', async () => {
    const dir = await shop();
    await writeRawExtract(dir, [`INSERT INTO _meta VALUES ('_hidden', NULL, 0, 0, NULL, 'remote')`]);

    expectError(await validate(dir), 'V4', '_hidden');
  });

  it('reports a name duplicated case-insensitively', async () => {
    const dir = await shop();
    await writeRawExtract(dir, [`INSERT INTO _meta VALUES ('ORDERS', NULL, 0, 0, NULL, 'remote')`]);

    const result = await validate(dir);

    expectError(result, 'V4', 'ORDERS');
    expect(result.errors.filter((e) => e.table === 'orders')).toEqual([]);
  });
});

describe('V5: row values', () => {
  it('reports an unknown query_mode', async () => {
    const dir = await shop();
    await writeRawExtract(dir, [`UPDATE _meta SET query_mode = 'cached' WHERE table_name = 'orders'`]);

    const result = await validate(dir);

    expectError(result, 'V5', 'orders');
    expect(result.errors.filter((e) => e.table === 'issues')).toEqual([]);
  });

  it('reports negative rows', async () => {
    const dir = await shop();
    await writeRawExtract(dir, [`UPDATE _meta SET rows = -1 WHERE table_name = 'orders'`]);

    expect((await validate(dir)).errors).toEqual([finding('V5', 'orders')]);
  });
});

describe('V6: extracted_at in the future', () => {
  it('warns, without an error, when extracted_at is more than 5 minutes ahead', async () => {
    const dir = await shop();
    const now = new Date(Date.parse(FIXED_TIME) - 60 * 60 * 1000);

    const result = await validate(dir, { now });

    expect(result.ok).toBe(true);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([finding('V6', 'issues'), finding('V6', 'orders')]);
  });

  it('tolerates a clock skew under 5 minutes', async () => {
    const dir = await shop();
    const now = new Date(Date.parse(FIXED_TIME) - 2 * 60 * 1000);

    expect(await validate(dir, { now })).toEqual({ ok: true, errors: [], warnings: [] });
  });
});

describe('V7: a view per row that binds', () => {
  it('reports a _meta row without a view', async () => {
    const dir = await shop();
    await writeRawExtract(dir, ['DROP VIEW orders']);

    expect((await validate(dir)).errors).toEqual([finding('V7', 'orders')]);
  });

  it('reports a base table in place of the view', async () => {
    const dir = await shop();
    await writeRawExtract(dir, [
      'DROP VIEW orders',
      'CREATE TABLE orders AS SELECT range AS id FROM range(25)',
    ]);

    const result = await validate(dir);

    expect(result.errors).toEqual([finding('V7', 'orders')]);
    expect(result.errors[0]?.message).toMatch(/base table/);
  });

  it('reports a view that no longer binds because its Parquet file was deleted', async () => {
    const dir = await shop();
    await rm(join(dir, 'data', 'orders.parquet'));

    const result = await validate(dir);

    expectError(result, 'V7', 'orders');
    expect(result.errors.filter((e) => e.table === 'issues')).toEqual([]);
  });
});

describe('V8: local views read only their data/', () => {
  it("reports a view reading another source's Parquet file", async () => {
    const dir = await shop();
    const other = await makeExtract(extracts, 'other', [{ name: 'secret', rows: 25 }]);
    const foreign = join(other, 'data', 'secret.parquet');
    await writeRawExtract(dir, [
      `CREATE OR REPLACE VIEW orders AS SELECT * FROM read_parquet(${quoteLiteral(foreign)})`,
    ]);

    const result = await validate(dir);

    expectError(result, 'V8', 'orders');
    expect(result.errors.filter((e) => e.table === 'issues')).toEqual([]);
  });

  it('reports a view reading through read_csv', async () => {
    const dir = await shop();
    const csv = join(dir, 'data', 'orders.csv');
    await writeFile(csv, 'id\n1\n2\n');
    await writeRawExtract(dir, [
      `CREATE OR REPLACE VIEW orders AS SELECT * FROM read_csv(${quoteLiteral(csv)})`,
    ]);

    const result = await validate(dir);

    expectError(result, 'V8', 'orders');
    expect(result.errors.find((e) => e.code === 'V8')?.message).toMatch(/read_csv/);
  });

  it("reports size_bytes that differs from the files' total", async () => {
    const dir = await shop();
    await writeRawExtract(dir, [`UPDATE _meta SET size_bytes = 1 WHERE table_name = 'issues'`]);

    const result = await validate(dir);

    expect(result.errors).toEqual([finding('V8', 'issues')]);
  });
});

describe('V9: _remote_attach', () => {
  it('reports wrong columns', async () => {
    const dir = await shop();
    await writeRawExtract(dir, ['CREATE TABLE _remote_attach (alias VARCHAR, url VARCHAR)']);

    expect((await validate(dir)).errors).toEqual([finding('V9')]);
  });

  it('reports a url with a credential-looking parameter', async () => {
    const dir = await shop();
    await writeRawExtract(dir, [
      'CREATE TABLE _remote_attach (alias VARCHAR, extension VARCHAR, url VARCHAR, token_env VARCHAR)',
      `INSERT INTO _remote_attach VALUES ('kbc', 'keboola', 'https://connection.example.com/?token=abc123', '')`,
    ]);

    const result = await validate(dir);

    expect(result.errors).toEqual([finding('V9')]);
    expect(result.errors[0]?.message).toMatch(/credential/);
  });

  it('reports a token_env that is not an environment variable name', async () => {
    const dir = await shop();
    await writeRawExtract(dir, [
      'CREATE TABLE _remote_attach (alias VARCHAR, extension VARCHAR, url VARCHAR, token_env VARCHAR)',
      `INSERT INTO _remote_attach VALUES ('kbc', 'keboola', 'https://connection.example.com/', 'kbc-token')`,
    ]);

    const result = await validate(dir);

    expect(result.errors).toEqual([finding('V9')]);
    expect(result.errors[0]?.message).toMatch(/token_env/);
  });
});

describe('V10: remote views use declared aliases', () => {
  it('reports a remote view reading an alias missing from _remote_attach', async () => {
    const remote = join(root, 'remote.duckdb');
    const dir = await makeHybridExtract(remote);
    await writeRawExtract(dir, [
      `ATTACH ${quoteLiteral(remote)} AS other (READ_ONLY)`,
      'CREATE OR REPLACE VIEW events AS SELECT * FROM other.sales.events',
      'DETACH other',
    ]);

    const result = await validate(dir, { attachRemote: recordingSeam([]), env: { KBC_TOKEN: 'seam-token' } });

    expect(result.errors).toEqual([finding('V10', 'events')]);
  });
});

describe('V11: _files', () => {
  const cases: [string, string, RegExp][] = [
    [
      'a path leaving data/',
      `UPDATE _files SET path = '../x.parquet' WHERE table_name = 'orders'`,
      /inside data/,
    ],
    ['an absolute path', `UPDATE _files SET path = '/etc/passwd' WHERE table_name = 'orders'`, /relative/],
    [
      'a missing file',
      `UPDATE _files SET path = 'nope.parquet' WHERE table_name = 'orders'`,
      /does not exist/,
    ],
    [
      'a size mismatch',
      `UPDATE _files SET size_bytes = size_bytes + 1 WHERE table_name = 'orders'`,
      /bytes, _files says/,
    ],
    ['a malformed sha256', `UPDATE _files SET sha256 = upper(sha256) WHERE table_name = 'orders'`, /sha256/],
    ['a local table without files', `DELETE FROM _files WHERE table_name = 'orders'`, /no file/],
  ];

  for (const [label, statement, message] of cases) {
    it(`reports ${label}`, async () => {
      const dir = await shop();
      await writeRawExtract(dir, [statement]);

      const result = await validate(dir);

      expectError(result, 'V11', 'orders');
      expect(result.errors.filter((e) => e.code === 'V11').map((e) => e.message)).toContainEqual(
        expect.stringMatching(message),
      );
      expect(result.errors.filter((e) => e.table === 'issues')).toEqual([]);
    });
  }
});

describe('V12: unexpected objects', () => {
  it('warns about an extra table without failing', async () => {
    const dir = await shop();
    await writeRawExtract(dir, ['CREATE TABLE scratch AS SELECT 1 AS x']);

    const result = await validate(dir);

    expect(result.ok).toBe(true);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([finding('V12')]);
    expect(result.warnings[0]?.message).toMatch(/scratch/);
  });
});

describe('V13: stale temp files', () => {
  it('warns about a *.tmp-* file older than one hour, not about a fresh one', async () => {
    const dir = await shop();
    const stale = join(dir, 'data', 'orders.parquet.tmp-abc123');
    const fresh = join(dir, 'data', 'issues', 'part-9.parquet.tmp-def456');
    await writeFile(stale, 'partial');
    await writeFile(fresh, 'partial');
    const twoHoursAgo = new Date(NOW.getTime() - 2 * 60 * 60 * 1000);
    await utimes(stale, twoHoursAgo, twoHoursAgo);
    await utimes(fresh, NOW, NOW);

    const result = await validate(dir);

    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual([finding('V13')]);
    expect(result.warnings[0]?.message).toContain('orders.parquet.tmp-abc123');
  });
});
