import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDuck, queryRows, toNumber } from '../../core/duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../../core/duckdb/sql.js';
import {
  type CommitResult,
  ExtractWriter,
  type PreviousExtract,
  type WrittenFile,
} from '../../core/extract/writer.js';
import { sha256File } from '../../core/sync/hashing.js';
import { type Column, DESCRIPTIONS, ENTITIES, type Entity, SORT_KEYS } from './tables.js';
import type { IssueRows } from './transform.js';

/**
 * Monthly Parquet shards of the six tables (07 §5.3): `extracts/jira/data/<entity>/<YYYY-MM>.parquet`.
 * An incremental write rewrites only the shards holding rows of the changed issues or receiving
 * new ones; a full write rebuilds every shard. Both publish through the extract writer (its lock,
 * temp + verify + rename, a complete new `extract.duckdb`, unreferenced shards removed).
 */

const SHARD_FILE = /^(\d{4}-\d{2}|undated)\.parquet$/;
/** json_transform takes one JSON document per statement; chunks keep each one modest. */
const ROWS_PER_STATEMENT = 2000;
const CONVERT_MEMORY = '512MB';

export interface ShardChange {
  /** Issues whose rows are replaced, with their new rows. */
  upserts: readonly IssueRows[];
  /** Issues whose rows are removed from every table. */
  removed: readonly string[];
}

export interface ShardResult extends CommitResult {
  /** Shards written (relative to `data/`). */
  written: string[];
}

const STRUCT_TYPE: Record<Column['type'], string> = {
  VARCHAR: 'VARCHAR',
  BIGINT: 'BIGINT',
  BOOLEAN: 'BOOLEAN',
  TIMESTAMPTZ: 'VARCHAR',
  DATE: 'VARCHAR',
  'VARCHAR[]': 'VARCHAR[]',
};

const stagingTable = (entity: Entity) => `staged_${entity}`;

/** Loads rows into a temp table typed like the entity, plus the `_month` each row goes to. */
async function stage(
  conn: DuckDBConnection,
  entity: Entity,
  columns: readonly Column[],
  issues: readonly IssueRows[],
): Promise<void> {
  const table = stagingTable(entity);
  const defs = columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
  await conn.run(`CREATE OR REPLACE TABLE ${table} (_month VARCHAR, ${defs})`);
  const struct = JSON.stringify([
    Object.fromEntries([['_month', 'VARCHAR'], ...columns.map((c) => [c.name, STRUCT_TYPE[c.type]])]),
  ]);
  const casts = columns.map((c) => `CAST(r.${quoteIdent(c.name)} AS ${c.type})`).join(', ');
  const rows = issues.flatMap((issue) => issue.rows[entity].map((row) => ({ _month: issue.month, ...row })));
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const chunk = JSON.stringify(rows.slice(start, start + ROWS_PER_STATEMENT));
    await conn.run(
      `INSERT INTO ${table} SELECT r._month, ${casts} FROM (SELECT unnest(json_transform($1::JSON, ${quoteLiteral(struct)})) AS r)`,
      [chunk],
    );
  }
}

/** Shard files of one table on disk (what its view reads, whatever the last `_files` said). */
async function shardsOnDisk(writer: ExtractWriter, entity: Entity): Promise<string[]> {
  const names = await readdir(join(writer.dataDir, entity)).catch(() => [] as string[]);
  return names.filter((n) => SHARD_FILE.test(n)).sort();
}

const monthOfShard = (name: string) => name.slice(0, -'.parquet'.length);

/** Months whose shard holds a row of one of the changed issues (the issue may have moved months). */
async function monthsHolding(
  conn: DuckDBConnection,
  writer: ExtractWriter,
  entity: Entity,
  shards: readonly string[],
): Promise<Set<string>> {
  if (shards.length === 0) return new Set();
  const list = `[${shards.map((s) => quoteLiteral(join(writer.dataDir, entity, s))).join(', ')}]`;
  // Not `filename = true`: the attachments table has a column of that name.
  const rows = await queryRows<{ shard_file: string }>(
    conn,
    `SELECT DISTINCT shard_file FROM read_parquet(${list}, filename = 'shard_file', union_by_name = true)
     WHERE issue_key IN (SELECT issue_key FROM changed_keys)`,
  );
  return new Set(rows.map((r) => monthOfShard(String(r.shard_file).split('/').at(-1) ?? '')));
}

/** Rewrites one month of one table: its old rows minus the changed issues, plus their new rows. */
async function rewriteShard(
  conn: DuckDBConnection,
  writer: ExtractWriter,
  entity: Entity,
  columns: readonly Column[],
  month: string,
  keepOld: boolean,
): Promise<WrittenFile | null> {
  const relPath = `${entity}/${month}.parquet`;
  const oldPath = join(writer.dataDir, relPath);
  const parts: string[] = [];
  if (keepOld && (await stat(oldPath).catch(() => null)))
    parts.push(
      `SELECT * FROM read_parquet(${quoteLiteral(oldPath)}) WHERE issue_key NOT IN (SELECT issue_key FROM changed_keys)`,
    );
  parts.push(`SELECT * EXCLUDE (_month) FROM ${stagingTable(entity)} WHERE _month = ${quoteLiteral(month)}`);
  const select = columns
    .map((c) => `CAST(${quoteIdent(c.name)} AS ${c.type}) AS ${quoteIdent(c.name)}`)
    .join(', ');
  const order = SORT_KEYS[entity].map(quoteIdent).join(', ');
  const file = await writer.writeParquet(
    conn,
    relPath,
    `SELECT ${select} FROM (${parts.join(' UNION ALL BY NAME ')}) ORDER BY ${order}`,
  );
  // No rows left: the (empty) file is not listed, so the commit removes it with the old shard.
  return file.rows > 0 ? file : null;
}

/** A shard kept as it is: its recorded hash when the size still matches, its row count from the footer. */
async function keptShard(
  conn: DuckDBConnection,
  writer: ExtractWriter,
  previous: PreviousExtract | null,
  relPath: string,
): Promise<WrittenFile> {
  const path = join(writer.dataDir, relPath);
  const info = await stat(path);
  const recorded = previous?.files.find((f) => f.path === relPath && f.size_bytes === info.size);
  const [meta] = await queryRows<{ n: unknown }>(
    conn,
    `SELECT sum(num_rows) AS n FROM parquet_file_metadata(${quoteLiteral(path)})`,
  );
  return {
    path: relPath,
    size: info.size,
    sha256: recorded?.sha256 ?? (await sha256File(path)),
    rows: toNumber(meta?.n) ?? 0,
  };
}

/** One table's shards after a change: the ones rewritten, and every file the table now has. */
async function writeTable(
  conn: DuckDBConnection,
  writer: ExtractWriter,
  previous: PreviousExtract | null,
  entity: Entity,
  columns: readonly Column[],
  change: ShardChange,
  full: boolean,
): Promise<{ files: WrittenFile[]; written: string[]; rewrote: boolean }> {
  await stage(conn, entity, columns, change.upserts);
  const onDisk = full ? [] : await shardsOnDisk(writer, entity);
  const months = await monthsHolding(conn, writer, entity, onDisk);
  for (const upsert of change.upserts) if (upsert.rows[entity].length > 0) months.add(upsert.month);
  const files: WrittenFile[] = [];
  const written: string[] = [];
  for (const month of [...months].sort()) {
    const file = await rewriteShard(conn, writer, entity, columns, month, !full);
    if (file) {
      files.push(file);
      written.push(file.path);
    }
  }
  for (const name of onDisk) {
    if (months.has(monthOfShard(name))) continue;
    const kept = await keptShard(conn, writer, previous, `${entity}/${name}`);
    // An empty shard a crashed run left behind is dropped (the commit removes it).
    if (kept.rows > 0) files.push(kept);
  }
  return { files, written, rewrote: months.size > 0 };
}

/**
 * Applies a change to the shards and publishes the extract. `full`: every shard is rebuilt from
 * `change.upserts` alone and nothing else is kept (the full re-transform).
 */
export async function writeShards(
  extractDir: string,
  columns: Record<Entity, Column[]>,
  change: ShardChange,
  options: { full?: boolean; lockWaitMs?: number; now?: string } = {},
): Promise<ShardResult> {
  const writer = await ExtractWriter.open(extractDir, { lockWaitMs: options.lockWaitMs ?? 60_000 });
  const duck = await openDuck(':memory:', { memoryLimit: CONVERT_MEMORY, threads: 2 });
  const now = options.now ?? new Date().toISOString();
  const written: string[] = [];
  try {
    const previous = await writer.previous();
    const keys = [...new Set([...change.upserts.map((u) => u.key), ...change.removed])];
    await duck.conn.run(
      `CREATE OR REPLACE TABLE changed_keys AS SELECT unnest(json_transform($1::JSON, '["VARCHAR"]')) AS issue_key`,
      [JSON.stringify(keys)],
    );
    // The six tables are independent: each on its own connection, so their statements overlap.
    const tables = await Promise.all(
      ENTITIES.map(async (entity) => {
        const conn = await duck.instance.connect();
        try {
          return await writeTable(
            conn,
            writer,
            previous,
            entity,
            columns[entity],
            change,
            options.full === true,
          );
        } finally {
          conn.closeSync();
        }
      }),
    );
    for (const [index, table] of tables.entries()) {
      const entity = ENTITIES[index] as Entity;
      written.push(...table.written);
      if (table.files.length === 0) continue;
      const before = previous?.meta.find((m) => m.table_name === entity);
      writer.addLocalTable({
        name: entity,
        description: DESCRIPTIONS[entity],
        layout: 'multi',
        extractedAt: table.rewrote || !before?.extracted_at ? now : before.extracted_at,
        files: table.files.sort((a, b) => (a.path < b.path ? -1 : 1)),
      });
    }
    const result = await writer.commit();
    return { ...result, written };
  } finally {
    duck.close();
    await writer.abort();
  }
}
