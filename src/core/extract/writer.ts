import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, posix, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDuck, queryOne, queryRows, toNumber } from '../duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../duckdb/sql.js';
import { errorMessage } from '../errors.js';
import {
  DIR_MODE,
  FILE_MODE,
  fsyncDir,
  fsyncFile,
  publishFile,
  TEMP_FILE_PATTERN,
  tempPathFor,
} from '../fs/atomic.js';
import { acquireLock, type HeldLock } from '../fs/lock-file.js';
import { isValidViewName } from '../ids.js';
import { sha256File } from '../sync/hashing.js';
import {
  CONTRACT_DDL,
  DATA_DIR_NAME,
  EXTRACT_FILE,
  type FilesRow,
  type MetaRow,
  PARQUET_COPY_OPTIONS,
  type RemoteAttachRow,
  WRITE_LOCK_FILE,
} from './contract.js';
import { readAttachedExtract } from './read.js';
import { type AttachRemote, attachRemoteCatalog } from './remote-attach.js';
import { checkRelativeDataPath, checkRemoteAttach } from './rules.js';

export interface WrittenFile {
  /** Relative to `data/`. */
  path: string;
  size: number;
  sha256: string;
  rows: number;
}

export interface LocalTable {
  name: string;
  description?: string | null;
  /** ISO 8601 UTC: when this table's data was written. */
  extractedAt: string;
  /** `single`: one file `data/<file>.parquet`; `multi`: shards in one directory `data/<dir>/`. */
  layout: 'single' | 'multi';
  files: WrittenFile[];
}

export interface RemoteTable {
  name: string;
  description?: string | null;
  rows: number | null;
  extractedAt: string;
  /** The `_remote_attach` alias the view reads from. */
  alias: string;
  /** The view body, selecting only from `alias`. */
  select: string;
}

export interface TableFailure {
  table: string;
  code: string;
  message: string;
}

export interface CommitResult {
  published: string[];
  failed: TableFailure[];
}

export interface PreviousExtract {
  meta: MetaRow[];
  files: FilesRow[];
  remoteAttach: RemoteAttachRow[];
  /**
   * The view body of every remote table, so a connector can publish a table it did not refresh
   * exactly as before (07 §0: a failed or untouched table keeps what was published).
   */
  remoteViews: Map<string, string>;
}

/** `CREATE VIEW name AS <body>;` as DuckDB stores it → the body. */
const VIEW_BODY = /^CREATE VIEW\s+(?:"(?:[^"]|"")*"|\S+)\s+AS\s+([\s\S]*?);?\s*$/i;

async function remoteViewBodies(
  conn: DuckDBConnection,
  meta: readonly MetaRow[],
): Promise<Map<string, string>> {
  const remote = new Set(meta.filter((m) => m.query_mode === 'remote').map((m) => m.table_name));
  const bodies = new Map<string, string>();
  if (remote.size === 0) return bodies;
  const rows = await queryRows<{ view_name: string; sql: string }>(
    conn,
    "SELECT view_name, sql FROM duckdb_views() WHERE database_name = 'previous_extract' AND schema_name = 'main'",
  );
  for (const row of rows) {
    const body = VIEW_BODY.exec(row.sql)?.[1];
    if (body && remote.has(row.view_name)) bodies.set(row.view_name, body);
  }
  return bodies;
}

const STALE_TEMP_MS = 60 * 60 * 1000;

/** `2026-04-09T07:06:13.123Z` → a TIMESTAMP literal DuckDB reads as that UTC instant. */
function timestampText(iso: string): string {
  return iso.replace('T', ' ').replace(/Z$/, '');
}

/**
 * Creates one table's view in the extract; a view that does not bind fails only that table
 * (recorded in `result`), never the source. Returns whether the view exists.
 */
async function createView(
  conn: DuckDBConnection,
  name: string,
  body: string,
  result: CommitResult,
): Promise<boolean> {
  try {
    await conn.run(`CREATE VIEW main.${quoteIdent(name)} AS ${body}`);
    return true;
  } catch (error) {
    result.failed.push({ table: name, code: 'view_failed', message: errorMessage(error).slice(0, 300) });
    return false;
  }
}

/**
 * Writes one source's extract atomically (02 §1.6 how a connector publishes). Holds `.write.lock` for its lifetime: Parquet
 * files go through temp + verify + rename; `commit()` writes a complete new `extract.duckdb` listing
 * every table still valid, renames it into place and deletes files no table references.
 */
export class ExtractWriter {
  readonly sourceDir: string;
  readonly dataDir: string;
  readonly #lock: HeldLock;
  readonly #local = new Map<string, LocalTable>();
  readonly #remote = new Map<string, RemoteTable>();
  readonly #attach: RemoteAttachRow[] = [];
  #done = false;

  private constructor(sourceDir: string, lock: HeldLock) {
    this.sourceDir = sourceDir;
    this.dataDir = join(sourceDir, DATA_DIR_NAME);
    this.#lock = lock;
  }

  static async open(sourceDir: string, options: { lockWaitMs?: number } = {}): Promise<ExtractWriter> {
    const dir = resolve(sourceDir);
    await mkdir(join(dir, DATA_DIR_NAME), { recursive: true, mode: DIR_MODE });
    const lock = await acquireLock(join(dir, WRITE_LOCK_FILE), { waitMs: options.lockWaitMs ?? 60_000 });
    const writer = new ExtractWriter(dir, lock);
    try {
      await writer.#removeStaleTemps();
    } catch (error) {
      await lock.release();
      throw error;
    }
    return writer;
  }

  /** The extract currently published, so a partial run can carry forward tables it did not touch. */
  async previous(): Promise<PreviousExtract | null> {
    const path = join(this.sourceDir, EXTRACT_FILE);
    if (!(await stat(path).catch(() => null))) return null;
    const session = await openDuck(':memory:');
    try {
      await session.conn.run(`ATTACH ${quoteLiteral(path)} AS previous_extract (READ_ONLY)`);
      const contents = await readAttachedExtract(session.conn, 'previous_extract');
      if (contents.metaProblem) return null;
      return {
        meta: contents.meta,
        files: contents.files,
        remoteAttach: contents.remoteAttach,
        remoteViews: await remoteViewBodies(session.conn, contents.meta),
      };
    } catch {
      return null;
    } finally {
      session.close();
    }
  }

  #absolute(relPath: string): string {
    const problem = checkRelativeDataPath(relPath);
    if (problem) throw new Error(`invalid data path: ${problem}`);
    return join(this.dataDir, relPath);
  }

  /**
   * Writes the result of `selectSql` as a verified Parquet file at `data/<relPath>`: its row count
   * must equal `expectedRows`, or else the count the engine reports for the COPY.
   */
  async writeParquet(
    conn: DuckDBConnection,
    relPath: string,
    selectSql: string,
    options: { expectedRows?: number } = {},
  ): Promise<WrittenFile> {
    const finalPath = this.#absolute(relPath);
    await mkdir(dirname(finalPath), { recursive: true, mode: DIR_MODE });
    const temp = tempPathFor(finalPath);
    try {
      const copied = await conn.runAndReadAll(
        `COPY (${selectSql}) TO ${quoteLiteral(temp)} (${PARQUET_COPY_OPTIONS})`,
      );
      await chmod(temp, FILE_MODE);
      await fsyncFile(temp);
      const [sha256, info, rows] = await Promise.all([
        sha256File(temp),
        stat(temp),
        this.#countRows(conn, temp),
      ]);
      // Without a count from the caller, the file must hold what the engine reports it wrote.
      const expected = options.expectedRows ?? toNumber(copied.getRowObjectsJS()[0]?.Count);
      if (expected !== null && rows !== expected) {
        throw new Error(`row count ${rows} differs from the expected ${expected}`);
      }
      await publishFile(temp, finalPath);
      return { path: relPath, size: info.size, sha256, rows };
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Copies a valid Parquet file byte for byte (hashing while copying) after a read check. */
  async copyParquet(conn: DuckDBConnection, sourcePath: string, relPath: string): Promise<WrittenFile> {
    const rows = await this.#countRows(conn, sourcePath);
    const finalPath = this.#absolute(relPath);
    await mkdir(dirname(finalPath), { recursive: true, mode: DIR_MODE });
    const temp = tempPathFor(finalPath);
    try {
      const hash = createHash('sha256');
      const input = createReadStream(sourcePath, { highWaterMark: 1024 * 1024 });
      input.on('data', (chunk) => hash.update(chunk as Buffer));
      await pipeline(input, createWriteStream(temp, { mode: 0o640 }));
      await chmod(temp, FILE_MODE);
      await fsyncFile(temp);
      const info = await stat(temp);
      await publishFile(temp, finalPath);
      return { path: relPath, size: info.size, sha256: hash.digest('hex'), rows };
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async #countRows(conn: DuckDBConnection, path: string): Promise<number> {
    const row = await queryOne(conn, `SELECT count(*) AS n FROM read_parquet(${quoteLiteral(path)})`);
    return toNumber(row?.n) ?? 0;
  }

  addLocalTable(table: LocalTable): void {
    this.#assertName(table.name);
    if (table.files.length === 0) throw new Error(`table ${table.name} has no files`);
    if (table.layout === 'single' && table.files.length !== 1)
      throw new Error(`single-file table ${table.name} has several files`);
    if (table.layout === 'multi' && new Set(table.files.map((f) => posix.dirname(f.path))).size !== 1) {
      throw new Error(`shards of ${table.name} must share one directory`);
    }
    this.#local.set(table.name.toLowerCase(), table);
    this.#remote.delete(table.name.toLowerCase());
  }

  addRemoteTable(table: RemoteTable): void {
    this.#assertName(table.name);
    this.#remote.set(table.name.toLowerCase(), table);
    this.#local.delete(table.name.toLowerCase());
  }

  /**
   * Publishes a remote table exactly as the previous extract did, with the attach row its view
   * reads from (07 §0: a failed or untouched table keeps what was published). False when the
   * previous extract had no such remote table.
   */
  keepRemoteTable(previous: PreviousExtract | null, name: string, alias: string): boolean {
    const meta = previous?.meta.find((m) => m.table_name === name && m.query_mode === 'remote');
    const select = previous?.remoteViews.get(name);
    const attach = previous?.remoteAttach.find((a) => a.alias === alias);
    if (!meta || !select || !attach) return false;
    this.addRemoteAttach(attach);
    this.addRemoteTable({
      name,
      description: meta.description,
      rows: meta.rows,
      extractedAt: meta.extracted_at ?? new Date().toISOString(),
      alias,
      select,
    });
    return true;
  }

  addRemoteAttach(row: RemoteAttachRow): void {
    const problem = checkRemoteAttach(row);
    if (problem) throw new Error(`invalid remote attach: ${problem}`);
    if (!this.#attach.some((a) => a.alias === row.alias)) this.#attach.push(row);
  }

  #assertName(name: string): void {
    if (!isValidViewName(name)) throw new Error('table name does not match the identifier pattern');
  }

  #viewBody(table: LocalTable): string {
    if (table.layout === 'single')
      return `SELECT * FROM read_parquet(${quoteLiteral(this.#absolute(table.files[0]!.path))})`;
    const dir = this.#absolute(posix.dirname(table.files[0]!.path));
    return `SELECT * FROM read_parquet(${quoteLiteral(`${dir}/*.parquet`)}, union_by_name = true, hive_partitioning = false)`;
  }

  /**
   * Publishes the new extract. Each table's view is created before its `_meta` row is written, so a
   * table whose view fails is left out instead of breaking the source.
   */
  async commit(
    options: { attachRemote?: AttachRemote; env?: NodeJS.ProcessEnv; installExtensions?: boolean } = {},
  ): Promise<CommitResult> {
    if (this.#done) throw new Error('extract writer already finished');
    const finalPath = join(this.sourceDir, EXTRACT_FILE);
    const temp = tempPathFor(finalPath);
    const result: CommitResult = { published: [], failed: [] };
    const referenced = new Set<string>();
    try {
      const session = await openDuck(temp);
      try {
        const { conn } = session;
        await conn.run(CONTRACT_DDL.meta);
        await conn.run(CONTRACT_DDL.files);
        const attached = await this.#writeRemoteAttach(conn, options);
        for (const table of [...this.#local.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
          if (!(await createView(conn, table.name, this.#viewBody(table), result))) continue;
          const rows = table.files.reduce((sum, f) => sum + f.rows, 0);
          const size = table.files.reduce((sum, f) => sum + f.size, 0);
          await this.#insertMeta(
            conn,
            table.name,
            table.description ?? null,
            rows,
            size,
            table.extractedAt,
            'local',
          );
          // One statement per table: a sharded table has many files, and each statement costs.
          const placeholders = table.files.map(
            (_, i) => `($${4 * i + 1}, $${4 * i + 2}, $${4 * i + 3}, $${4 * i + 4})`,
          );
          await conn.run(
            `INSERT INTO _files VALUES ${placeholders.join(', ')}`,
            table.files.flatMap((file) => [table.name, file.path, file.size, file.sha256]),
          );
          for (const file of table.files) referenced.add(file.path);
          result.published.push(table.name);
        }
        for (const table of [...this.#remote.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
          if (!attached.has(table.alias)) {
            const message = `remote catalog ${table.alias} is not attached`;
            result.failed.push({ table: table.name, code: 'extension_unavailable', message });
            continue;
          }
          if (!(await createView(conn, table.name, table.select, result))) continue;
          await this.#insertMeta(
            conn,
            table.name,
            table.description ?? null,
            table.rows,
            0,
            table.extractedAt,
            'remote',
          );
          result.published.push(table.name);
        }
        await conn.run('CHECKPOINT');
      } finally {
        session.close();
      }
      await rm(`${temp}.wal`, { force: true });
      await chmod(temp, FILE_MODE);
      await fsyncFile(temp);
      await publishFile(temp, finalPath);
      await rm(`${finalPath}.wal`, { force: true });
      await this.#removeUnreferenced(referenced);
      return result;
    } catch (error) {
      await rm(temp, { force: true });
      await rm(`${temp}.wal`, { force: true });
      throw error;
    } finally {
      this.#done = true;
      await this.#lock.release();
    }
  }

  /** Ends without publishing: the previous extract stays; files already renamed stay referenced or are cleaned next run. */
  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#lock.release();
  }

  async #insertMeta(
    conn: DuckDBConnection,
    name: string,
    description: string | null,
    rows: number | null,
    size: number,
    extractedAt: string,
    mode: 'local' | 'remote',
  ): Promise<void> {
    await conn.run('INSERT INTO _meta VALUES ($1, $2, $3, $4, CAST($5 AS TIMESTAMP), $6)', [
      name,
      description,
      rows,
      size,
      timestampText(extractedAt),
      mode,
    ]);
  }

  async #writeRemoteAttach(
    conn: DuckDBConnection,
    options: { attachRemote?: AttachRemote; env?: NodeJS.ProcessEnv; installExtensions?: boolean },
  ): Promise<Set<string>> {
    const attached = new Set<string>();
    if (this.#attach.length === 0) return attached;
    await conn.run(CONTRACT_DDL.remoteAttach);
    const attach = options.attachRemote ?? attachRemoteCatalog;
    const env = options.env ?? process.env;
    for (const row of this.#attach) {
      await conn.run('INSERT INTO _remote_attach VALUES ($1, $2, $3, $4)', [
        row.alias,
        row.extension,
        row.url,
        row.token_env ?? '',
      ]);
      try {
        const token = row.token_env ? (env[row.token_env] ?? null) : null;
        await attach(
          conn,
          { alias: row.alias, extension: row.extension, url: row.url, token },
          {
            installExtensions: options.installExtensions ?? false,
          },
        );
        attached.add(row.alias);
      } catch {
        // The tables that need this alias fail with extension_unavailable; the others publish.
      }
    }
    return attached;
  }

  async #entries(): Promise<{ path: string; rel: string; mtimeMs: number }[]> {
    const out: { path: string; rel: string; mtimeMs: number }[] = [];
    const visit = async (dir: string, rel: string, depth: number): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        const relPath = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory() && depth === 0) await visit(path, relPath, 1);
        else if (entry.isFile()) out.push({ path, rel: relPath, mtimeMs: (await lstat(path)).mtimeMs });
      }
    };
    await visit(this.dataDir, '', 0);
    return out;
  }

  async #removeStaleTemps(): Promise<void> {
    const now = Date.now();
    const candidates = [
      ...(await this.#entries()),
      ...(await readdir(this.sourceDir)).map((name) => ({
        path: join(this.sourceDir, name),
        rel: name,
        mtimeMs: 0,
      })),
    ];
    for (const entry of candidates) {
      if (!TEMP_FILE_PATTERN.test(entry.rel) && !/\.tmp-[A-Za-z0-9-]+\.wal$/.test(entry.rel)) continue;
      const mtime = entry.mtimeMs || (await lstat(entry.path)).mtimeMs;
      if (now - mtime > STALE_TEMP_MS) await rm(entry.path, { force: true });
    }
  }

  async #removeUnreferenced(referenced: Set<string>): Promise<void> {
    for (const entry of await this.#entries()) {
      if (entry.rel.endsWith('.parquet') && !referenced.has(entry.rel)) await rm(entry.path, { force: true });
    }
    for (const entry of await readdir(this.dataDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(this.dataDir, entry.name);
      if ((await readdir(dir)).length === 0) await rm(dir, { recursive: true, force: true });
    }
    await fsyncDir(this.dataDir);
  }
}
