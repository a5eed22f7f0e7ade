import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { toDuckSize } from '../config/size.js';
import { queryRows } from '../duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../duckdb/sql.js';
import { AgnesError, errorMessage } from '../errors.js';
import { EXTRACT_FILE } from '../extract/contract.js';
import type { AttachRemote } from '../extract/remote-attach.js';
import type { RemoteAttachRecord, ViewMapRow } from '../orchestrator/view-map.js';
import { maskedSelectList, whereOf } from '../policies/slices.js';
import { lockDownSql, verifyLockedDown } from './lockdown.js';
import type { PublishedGeneration } from './published-views.js';
import type { TableBinding } from './types.js';

/** How every sandbox of one engine is configured (05 §4). */
export interface SandboxSettings {
  dataDir: string;
  /** This replica's temp directory (`DATA_DIR/tmp/<instance_id>`); sandboxes spill under `query/`. */
  tempDir: string;
  /** `analytics/server.duckdb`: the file the self-check must fail to read. */
  analyticsPath: string;
  threads: number;
  memoryLimitBytes: number;
  maxTempBytes: number;
  /** Extensions remote catalogs may use (`analytics.remote_extensions`); `duckdb` files always. */
  remoteExtensions: ReadonlySet<string>;
  installExtensions: boolean;
  attachRemote: AttachRemote;
  env: Record<string, string | undefined>;
  /** A source that no longer attaches is logged and left out; a failed self-check is an error. */
  log: SandboxLog;
}

export interface SandboxLog {
  warn(detail: Record<string, unknown>, message: string): void;
  error(detail: Record<string, unknown>, message: string): void;
}

/** What a build attached, for the allow-lists and for tests. */
interface BuildPlan {
  views: ViewMapRow[];
  sources: string[];
  remotes: RemoteAttachRecord[];
  bindings: ReadonlyMap<string, TableBinding>;
}

function planFor(
  published: PublishedGeneration,
  grantSet: readonly string[],
  bindings: ReadonlyMap<string, TableBinding>,
  settings: SandboxSettings,
): BuildPlan {
  const views = grantSet.map((id) => published.views.get(id)).filter((v): v is ViewMapRow => v !== undefined);
  // A table read from its slice needs nothing of its source: an extract whose every granted
  // table is sliced is not attached at all.
  const sources = [
    ...new Set(views.filter((v) => bindings.get(v.table_id)?.kind !== 'slice').map((v) => v.source)),
  ].sort();
  const aliases = new Set(
    views.filter((v) => v.query_mode === 'remote' && v.remote_alias).map((v) => v.remote_alias!),
  );
  const remotes = [...aliases]
    .sort()
    .map((alias) => published.remotes.get(alias))
    .filter(
      (r): r is RemoteAttachRecord =>
        r !== undefined && (r.extension === 'duckdb' || settings.remoteExtensions.has(r.extension)),
    );
  return { views, sources, remotes, bindings };
}

/**
 * A DuckDB instance dedicated to one grant set in one generation (05 §4 the sandbox engine): the granted sources'
 * extracts attached read-only, one view per granted table and nothing else, external access off
 * except for the granted tables' files, configuration locked, and a self-check before first use.
 * A policy-bound table (12 §3) is a view over the caller's slice file, which replaces the table's
 * own files in the allow-list; a bound remote table's view applies the filter and masks itself.
 */
export class Sandbox {
  readonly key: string;
  readonly generation: number;
  readonly tempDir: string;
  /** Where `COPY … TO` may write (Parquet exports); inside `tempDir`. */
  readonly exportDir: string;
  readonly #instance: DuckDBInstance;
  #running = 0;
  #retired = false;
  #closed = false;
  #removed: Promise<void> = Promise.resolve();
  lastUsed = Date.now();

  private constructor(key: string, generation: number, instance: DuckDBInstance, tempDir: string) {
    this.key = key;
    this.generation = generation;
    this.#instance = instance;
    this.tempDir = tempDir;
    this.exportDir = join(tempDir, 'export');
  }

  static async build(
    key: string,
    published: PublishedGeneration,
    grantSet: readonly string[],
    settings: SandboxSettings,
    bindings: ReadonlyMap<string, TableBinding> = new Map(),
  ): Promise<Sandbox> {
    const tempDir = join(settings.tempDir, 'query', randomBytes(8).toString('hex'));
    // The scratch directory and the instance are made at once: every step of a cold build is a
    // hop through the libuv pool, and a build waits for each in turn.
    const [made, created] = await Promise.allSettled([
      mkdir(join(tempDir, 'export'), { recursive: true, mode: 0o700 }),
      DuckDBInstance.create(':memory:', {
        autoinstall_known_extensions: 'false',
        autoload_known_extensions: 'false',
        // The build runs on the calling thread alone: with workers, every one of its hundreds of
        // statements wakes them for nothing. `configure` sets the query threads last.
        threads: '1',
        memory_limit: toDuckSize(settings.memoryLimitBytes),
        temp_directory: tempDir,
        max_temp_directory_size: toDuckSize(settings.maxTempBytes),
      }),
    ]);
    const instance = created.status === 'fulfilled' ? created.value : null;
    try {
      if (made.status === 'rejected') throw made.reason;
      if (!instance) throw (created as PromiseRejectedResult).reason;
      const sandbox = new Sandbox(key, published.generation, instance, tempDir);
      const conn = await instance.connect();
      try {
        await configure(conn, planFor(published, grantSet, bindings, settings), sandbox, settings);
        await verifyLockedDown(conn, settings.analyticsPath);
      } finally {
        conn.closeSync();
      }
      return sandbox;
    } catch (error) {
      instance?.closeSync();
      await rm(tempDir, { recursive: true, force: true });
      if (error instanceof AgnesError) throw error;
      settings.log.error({ err: errorMessage(error) }, 'query sandbox could not be built');
      throw new AgnesError('sandbox_unavailable', 'the query sandbox is unavailable; try again later');
    }
  }

  get running(): number {
    return this.#running;
  }

  get retired(): boolean {
    return this.#retired;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Takes a reference for one query; false once the sandbox accepts no new queries. */
  tryAcquire(): boolean {
    if (this.#retired || this.#closed) return false;
    this.#running += 1;
    this.lastUsed = Date.now();
    return true;
  }

  release(): void {
    this.#running = Math.max(0, this.#running - 1);
    this.lastUsed = Date.now();
    if (this.#retired && this.#running === 0) this.close();
  }

  connect(): Promise<DuckDBConnection> {
    return this.#instance.connect();
  }

  /** No new queries; closed as soon as the running ones end. */
  retire(): void {
    this.#retired = true;
    if (this.#running === 0) this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#retired = true;
    this.#instance.closeSync();
    this.#removed = rm(this.tempDir, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Settles once a closed sandbox's scratch directory is gone (shutdown leaves no temp files). */
  get removed(): Promise<void> {
    return this.#removed;
  }
}

async function configure(
  conn: DuckDBConnection,
  plan: BuildPlan,
  sandbox: Sandbox,
  settings: SandboxSettings,
): Promise<void> {
  const allowedPaths: string[] = [];
  const allowedDirectories: string[] = [sandbox.exportDir];
  const extracts = new Map(
    plan.sources.map((source) => [source, join(settings.dataDir, 'extracts', source, EXTRACT_FILE)]),
  );
  const attached = await attachExtracts(conn, extracts, settings.log);
  for (const source of attached) allowedPaths.push(extracts.get(source)!);
  const remotes = new Set<string>();
  for (const remote of plan.remotes) {
    try {
      await settings.attachRemote(
        conn,
        {
          alias: remote.alias,
          extension: remote.extension,
          url: remote.url,
          token: remote.token_env ? (settings.env[remote.token_env] ?? null) : null,
        },
        { installExtensions: settings.installExtensions },
      );
      remotes.add(remote.alias);
      if (remote.extension === 'duckdb') allowedPaths.push(remote.url);
    } catch (error) {
      settings.log.warn(
        { alias: remote.alias, err: errorMessage(error) },
        'query sandbox: remote catalog unavailable',
      );
    }
  }
  const ddl: string[] = [];
  for (const view of plan.views) {
    const name = `main.${quoteIdent(view.view_name)}`;
    const binding = plan.bindings.get(view.table_id);
    if (binding?.kind === 'slice') {
      ddl.push(`CREATE VIEW ${name} AS SELECT * FROM read_parquet(${quoteLiteral(binding.path)})`);
      allowedPaths.push(binding.path);
      continue;
    }
    if (!attached.has(view.source)) continue;
    if (view.query_mode === 'remote' && !(view.remote_alias && remotes.has(view.remote_alias))) continue;
    const source = `${quoteIdent(view.source)}.main.${quoteIdent(view.view_name)}`;
    ddl.push(
      binding?.kind === 'inline'
        ? `CREATE VIEW ${name} AS ${await inlineBoundSelect(conn, source, binding)}`
        : `CREATE VIEW ${name} AS SELECT * FROM ${source}`,
    );
    if (view.query_mode === 'local') {
      for (const file of view.files) allowedPaths.push(join(settings.dataDir, file.path));
      if (view.data_dir) allowedDirectories.push(join(settings.dataDir, view.data_dir));
    }
  }
  await createViews(sandbox, conn, ddl);
  // The lock-down in one run: a round trip per statement cost more than the statements themselves.
  await conn.run(
    [
      // DuckDB counts the calling thread in `threads`; the engine never runs tasks on its own
      // thread (it polls), so one more gives `query.threads` workers.
      `SET threads = ${settings.threads + 1}`,
      lockDownSql({ paths: allowedPaths, directories: allowedDirectories }),
    ].join(';\n'),
  );
}

/**
 * Creates the views in one run on each of two connections, each run one transaction. DuckDB binds
 * a view when it is created, which opens its Parquet footer; two connections bind on two threads
 * of the pool, and one commit per run costs less than one per view. The optimizer is off on these
 * connections only (a client setting, not the instance's): it would plan every CREATE VIEW, and a
 * view keeps its SQL, not a plan, so the queries' own connections are optimized as always.
 */
async function createViews(sandbox: Sandbox, conn: DuckDBConnection, ddl: readonly string[]): Promise<void> {
  const other = await sandbox.connect();
  try {
    const create = (on: DuckDBConnection, part: readonly string[]) =>
      on.run(['PRAGMA disable_optimizer', 'BEGIN', ...part, 'COMMIT'].join(';\n'));
    const half = Math.ceil(ddl.length / 2);
    const runs = await Promise.allSettled([create(conn, ddl.slice(0, half)), create(other, ddl.slice(half))]);
    for (const run of runs) if (run.status === 'rejected') throw run.reason;
  } finally {
    other.closeSync();
  }
}

/**
 * Attaches the extracts read-only in one run. A source that no longer attaches is left out: if the
 * run fails, the ones it attached are kept and the rest are attached one by one, so each failure
 * is logged on its own.
 */
async function attachExtracts(
  conn: DuckDBConnection,
  extracts: ReadonlyMap<string, string>,
  log: SandboxLog,
): Promise<Set<string>> {
  const statement = (source: string, path: string) =>
    `ATTACH ${quoteLiteral(path)} AS ${quoteIdent(source)} (READ_ONLY)`;
  if (extracts.size === 0) return new Set();
  try {
    await conn.run([...extracts].map(([source, path]) => statement(source, path)).join(';\n'));
    return new Set(extracts.keys());
  } catch {
    const present = new Set(
      (await queryRows<{ name: string }>(conn, 'SELECT database_name AS name FROM duckdb_databases()')).map(
        (d) => d.name,
      ),
    );
    const attached = new Set<string>();
    for (const [source, path] of extracts) {
      try {
        if (!present.has(source)) await conn.run(statement(source, path));
        attached.add(source);
      } catch (error) {
        log.warn({ source, err: errorMessage(error) }, 'query sandbox: extract could not be attached');
      }
    }
    return attached;
  }
}

/**
 * The view body of an inline binding: the table's columns in order with the masks, and the filter.
 * The salt is a literal here (a view cannot hold a parameter); the guard refuses every function
 * and table function that would print a view's definition.
 */
async function inlineBoundSelect(
  conn: DuckDBConnection,
  source: string,
  binding: Extract<TableBinding, { kind: 'inline' }>,
): Promise<string> {
  const columns = await queryRows<{ column_name: string; column_type: string }>(conn, `DESCRIBE ${source}`);
  const select = maskedSelectList(
    columns.map((c) => ({ name: c.column_name, type: c.column_type })),
    binding.masks,
    binding.salt === null ? 'NULL' : quoteLiteral(binding.salt),
  );
  return `SELECT ${select} FROM ${source}${whereOf(binding.filter)}`;
}
