import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDuck, queryRows } from '../duckdb/engine.js';
import { collectTableReferences } from '../duckdb/parse-tree.js';
import { DATA_DIR_NAME, EXTRACT_FILE, WRITE_LOCK_FILE } from '../extract/contract.js';
import { parseViews } from '../extract/view-files.js';
import { FILE_MODE, TEMP_FILE_PATTERN } from '../fs/atomic.js';
import { acquireLock } from '../fs/lock-file.js';
import { copyHashed, listFiles } from './files.js';
import type { ManifestFile } from './manifest.js';

/** The source folders of `extracts/` (plain directories; dot-entries are not sources). */
export async function sourceNames(extractsDir: string): Promise<string[]> {
  const entries = await readdir(extractsDir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/**
 * Copies each source's `extract.duckdb` and `data/…` into `<out>/extracts/<source>/` under the
 * source's write lock (the one every extract writer and the profiler take), so no copy mixes two
 * publications. Temp files of a writer that crashed are not copied.
 */
export async function copyExtracts(
  dataDir: string,
  out: string,
  lockWaitMs: number,
): Promise<ManifestFile[]> {
  const extractsDir = join(dataDir, 'extracts');
  const files: ManifestFile[] = [];
  for (const source of await sourceNames(extractsDir)) {
    const sourceDir = join(extractsDir, source);
    const lock = await acquireLock(join(sourceDir, WRITE_LOCK_FILE), { waitMs: lockWaitMs });
    try {
      const data = (await lstat(join(sourceDir, DATA_DIR_NAME)).catch(() => null))?.isDirectory()
        ? (await listFiles(join(sourceDir, DATA_DIR_NAME))).map((rel) => `${DATA_DIR_NAME}/${rel}`)
        : [];
      const hasExtract = (await lstat(join(sourceDir, EXTRACT_FILE)).catch(() => null))?.isFile() ?? false;
      const names = [
        ...(hasExtract ? [EXTRACT_FILE] : []),
        ...data.filter((rel) => !TEMP_FILE_PATTERN.test(rel)),
      ];
      for (const rel of names) {
        if (rel.endsWith('?')) throw new Error(`extracts/${source}/${rel.slice(0, -1)} is not a plain file`);
        const path = `extracts/${source}/${rel}`;
        files.push({ path, ...(await copyHashed(join(sourceDir, rel), join(out, path), FILE_MODE)) });
      }
    } finally {
      await lock.release();
    }
  }
  return files;
}

/** `…/extracts/<source>/` as a view of the source names it: the folder its Parquet paths start with. */
function sourcePrefix(paths: readonly string[], source: string): string | null {
  const marker = `/extracts/${source}/${DATA_DIR_NAME}/`;
  for (const path of paths) {
    const at = path.lastIndexOf(marker);
    if (at >= 0) return path.slice(0, at + marker.length - DATA_DIR_NAME.length - 1);
  }
  return null;
}

const sqlText = (value: string) => value.replaceAll("'", "''");

/**
 * Re-points a restored extract's local views at `sourceDir`, the source's folder in the target
 * DATA_DIR (absolute): views hold absolute Parquet paths (02 §1.4), which name the DATA_DIR the
 * snapshot was taken from. Remote views are left alone. Returns how many views changed.
 */
export async function repointViews(extractPath: string, source: string, sourceDir: string): Promise<number> {
  const session = await openDuck(extractPath);
  try {
    const changed = await repoint(session.conn, source, `${sourceDir}/`);
    if (changed > 0) await session.conn.run('CHECKPOINT');
    return changed;
  } finally {
    session.close();
  }
}

async function repoint(conn: DuckDBConnection, source: string, target: string): Promise<number> {
  const views = await queryRows<{ view_name: string; sql: string }>(
    conn,
    "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'",
  );
  const parsed = await parseViews(
    conn,
    views.map((v) => v.sql),
  );
  let changed = 0;
  for (const [i, view] of views.entries()) {
    const statements = parsed[i];
    if (!statements) continue;
    const strings = collectTableReferences(statements).tableFunctions.flatMap((fn) => fn.strings);
    const from = sourcePrefix(strings, source);
    if (!from || from === target) continue;
    const body = view.sql
      .replaceAll(sqlText(from), sqlText(target))
      .replace(/^CREATE VIEW/i, 'CREATE OR REPLACE VIEW');
    await conn.run(body);
    changed += 1;
  }
  return changed;
}
