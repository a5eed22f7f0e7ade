import { createHash } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { openDuck, queryRows } from '../../core/duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../../core/duckdb/sql.js';
import type { TableError } from './plan.js';

export interface LocalView {
  id: string;
  layout: 'single' | 'multi';
  /** Absolute local files, sorted. */
  files: string[];
  /** Their SHA-256 hashes, in the same order: a view is rebuilt and re-checked when content changes. */
  hashes: string[];
}

const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS _da_views (
  view_name VARCHAR PRIMARY KEY, table_id VARCHAR NOT NULL, files_hash VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL)`;

/** The SELECT a local view stands for: its Parquet files, read by absolute path. */
export function readSql(view: Pick<LocalView, 'layout' | 'files'>): string {
  if (view.layout === 'single') return `SELECT * FROM read_parquet(${quoteLiteral(view.files[0]!)})`;
  return `SELECT * FROM read_parquet([${view.files.map(quoteLiteral).join(', ')}], union_by_name = true)`;
}

function filesHash(view: LocalView): string {
  return createHash('sha256')
    .update(`${view.files.join('\n')}\n${view.hashes.join('\n')}`)
    .digest('hex');
}

/**
 * Keeps one view per synced table in the local DuckDB file (06 §6 step 9). Only views recorded in
 * `_da_views` are ever replaced or dropped: an object the user created under the same name is left
 * alone and reported. Every table is checked before the transaction, so a corrupt file leaves no
 * broken view, and all changes land in one transaction.
 */
export async function updateLocalViews(
  dbPath: string,
  wanted: LocalView[],
  drop: string[],
): Promise<TableError[]> {
  await mkdir(dirname(dbPath), { recursive: true, mode: 0o755 });
  const duck = await openDuck(dbPath);
  const errors: TableError[] = [];
  try {
    const { conn } = duck;
    await conn.run(BOOKKEEPING);
    const recorded = new Map(
      (
        await queryRows<{ view_name: string; files_hash: string }>(
          conn,
          'SELECT view_name, files_hash FROM _da_views',
        )
      ).map((r) => [r.view_name, r.files_hash]),
    );
    const managed = new Set(recorded.keys());
    const found = await queryRows<{ name: string; kind: string }>(
      conn,
      `SELECT table_name AS name, 'table' AS kind FROM duckdb_tables() WHERE database_name = current_database()
       UNION ALL SELECT view_name, 'view' FROM duckdb_views() WHERE database_name = current_database() AND NOT internal`,
    );
    const objects = new Set(found.map((r) => r.name.toLowerCase()));
    const views = new Set(found.filter((r) => r.kind === 'view').map((r) => r.name));
    const ready: LocalView[] = [];
    const broken: string[] = [];
    for (const view of wanted) {
      // Same files as when the view was last checked and created: a no-op sync touches nothing.
      if (views.has(view.id) && recorded.get(view.id) === filesHash(view)) continue;
      if (objects.has(view.id) && !managed.has(view.id)) {
        errors.push({
          table: view.id,
          code: 'name_conflict',
          message: `a table or view named ${view.id} already exists in the local database`,
        });
        continue;
      }
      try {
        await conn.run(`${readSql(view)} LIMIT 0`);
        ready.push(view);
      } catch {
        errors.push({
          table: view.id,
          code: 'corrupt_file',
          message: 'the local Parquet files cannot be read; run: da sync --verify',
        });
        if (managed.has(view.id)) broken.push(view.id);
      }
    }
    const dropping = [...drop, ...broken].filter((id) => managed.has(id));
    if (ready.length === 0 && dropping.length === 0) return errors;
    await conn.run('BEGIN TRANSACTION');
    try {
      const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
      for (const view of ready) {
        await conn.run(`CREATE OR REPLACE VIEW main.${quoteIdent(view.id)} AS ${readSql(view)}`);
        await conn.run('INSERT OR REPLACE INTO _da_views VALUES ($1, $2, $3, CAST($4 AS TIMESTAMP))', [
          view.id,
          view.id,
          filesHash(view),
          now,
        ]);
      }
      for (const id of dropping) {
        await conn.run(`DROP VIEW IF EXISTS main.${quoteIdent(id)}`);
        await conn.run('DELETE FROM _da_views WHERE view_name = $1', [id]);
      }
      await conn.run('COMMIT');
    } catch (error) {
      await conn.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
    await conn.run('CHECKPOINT');
  } finally {
    duck.close();
  }
  return errors;
}

/** What the local database looked like when `da` last left its views complete and valid. */
export interface ViewsStamp {
  fingerprint: string;
  size: number;
  mtime_ms: number;
}

async function dbIdentity(dbPath: string): Promise<{ size: number; mtime_ms: number } | null> {
  const info = await stat(dbPath).catch(() => null);
  return info ? { size: info.size, mtime_ms: info.mtimeMs } : null;
}

/**
 * Runs `updateLocalViews` unless nothing can have changed: the same views over the same file
 * contents as last time, and a database file untouched since (same size and mtime, so neither the
 * user nor anything else changed or deleted it). A no-op sync then never opens DuckDB.
 */
export async function refreshLocalViews(
  dbPath: string,
  views: LocalView[],
  drop: string[],
  previous: ViewsStamp | undefined,
): Promise<{ errors: TableError[]; stamp: ViewsStamp | undefined }> {
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([views.map((v) => [v.id, filesHash(v)]), drop]))
    .digest('hex');
  const before = await dbIdentity(dbPath);
  if (
    previous?.fingerprint === fingerprint &&
    before?.size === previous.size &&
    before.mtime_ms === previous.mtime_ms
  ) {
    return { errors: [], stamp: previous };
  }
  const errors = await updateLocalViews(dbPath, views, drop);
  const after = await dbIdentity(dbPath);
  return { errors, stamp: errors.length === 0 && after ? { fingerprint, ...after } : undefined };
}
