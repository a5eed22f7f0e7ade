import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { DuckDBConnection, DuckDBResult } from '@duckdb/node-api';
import type { QueryResult } from '../../contract/index.js';
import type { InstanceConfig } from '../config/index.js';
import { quoteLiteral } from '../duckdb/sql.js';
import { AgnesError } from '../errors.js';
import { type AttachRemote, attachRemoteCatalog } from '../extract/remote-attach.js';
import { csvLine } from './cells.js';
import { collectRows } from './collect.js';
import { mapEngineError } from './engine-errors.js';
import { type CheckedQuery, checkSqlText, QueryGuard } from './guard.js';
import { type PublishedGeneration, PublishedViews } from './published-views.js';
import { Sandbox, type SandboxLog } from './sandbox.js';
import { SandboxCache } from './sandbox-cache.js';
import { QuerySlots } from './slots.js';
import { SqlParser } from './sql-parser.js';
import type { ExportFormat, QueryCaller, TableAccess, TableBinding } from './types.js';
import { encodeValue, type JsonValue } from './value-encoding.js';

export type QuerySettings = InstanceConfig['query'];

export interface QueryEngineOptions {
  dataDir: string;
  /** This replica's temp directory (`DATA_DIR/tmp/<instance_id>`); sandboxes spill under `query/`. */
  tempDir: string;
  /** `analytics/server.duckdb`. */
  analyticsPath: string;
  settings: QuerySettings;
  remoteExtensions: readonly string[];
  installExtensions: boolean;
  attachRemote?: AttachRemote;
  env: Record<string, string | undefined>;
  log: SandboxLog;
  /** Sandboxes idle this long are closed (05 §4: 10 minutes). */
  idleMs?: number;
  /** How long a query waits for a global slot (05 §2 pipeline: 5 s). */
  busyWaitMs?: number;
  /** Test seam of the defence-in-depth tests; see `GuardOptions.treeWalk`. */
  treeWalk?: boolean;
}

export interface QueryRequest {
  caller: QueryCaller;
  sql: string;
  /** For the log line of a refusal inside the engine (a possible guard bypass). */
  requestId: string;
  /** Told the tables the statement reads once the guard has passed it (the policy audit, 12 §3). */
  onChecked?: (tables: readonly string[]) => void;
}

export interface ExportStream {
  format: ExportFormat;
  contentType: string;
  filename: string;
  /** Emits an error (the route aborts the connection) if the query fails after the first byte. */
  stream: Readable;
  /** Known for Parquet (written before it is sent); null for the streamed text formats. */
  size: number | null;
}

const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson',
  parquet: 'application/vnd.apache.parquet',
};

/** One query in flight: its slot, sandbox, connection and timer, released together. */
interface Run {
  checked: CheckedQuery;
  sandbox: Sandbox;
  conn: DuckDBConnection;
  timedOut: boolean;
  /** Rejects when the timeout fires (the engine is interrupted at the same moment). */
  expired: Promise<never>;
  timeoutSeconds: number;
  startedAt: number;
  secrets: string[];
  finish(): void;
}

const elapsedSince = (start: number) => Math.round(performance.now() - start);

function ndjsonLine(columns: readonly string[], values: readonly JsonValue[]): string {
  const row: Record<string, JsonValue> = {};
  columns.forEach((name, i) => {
    row[name] = values[i] ?? null;
  });
  return `${JSON.stringify(row)}\n`;
}

/**
 * The query engine (05): the guard, the sandboxes and the limits behind every path that runs
 * caller-provided SQL. One per app; `close()` interrupts running queries and closes every sandbox.
 */
export class QueryEngine {
  readonly #options: QueryEngineOptions;
  readonly #settings: QuerySettings;
  readonly #parser: SqlParser;
  readonly #guard: QueryGuard;
  readonly #published: PublishedViews;
  readonly #cache: SandboxCache;
  readonly #slots: QuerySlots;
  readonly #running = new Set<Run>();
  #closing = false;

  private constructor(options: QueryEngineOptions, parser: SqlParser) {
    this.#options = options;
    this.#settings = options.settings;
    this.#parser = parser;
    this.#guard = new QueryGuard(parser, {
      maxSqlBytes: options.settings.max_sql_bytes,
      treeWalk: options.treeWalk,
    });
    this.#published = new PublishedViews(options.analyticsPath);
    const sandboxSettings = {
      dataDir: options.dataDir,
      tempDir: options.tempDir,
      analyticsPath: options.analyticsPath,
      threads: options.settings.threads,
      memoryLimitBytes: options.settings.memory_limit,
      maxTempBytes: options.settings.max_temp_bytes,
      remoteExtensions: new Set(options.remoteExtensions),
      installExtensions: options.installExtensions,
      attachRemote: options.attachRemote ?? attachRemoteCatalog,
      env: options.env,
      log: options.log,
    };
    this.#cache = new SandboxCache({
      maxSize: options.settings.sandbox_cache_size,
      idleMs: options.idleMs ?? 10 * 60_000,
      build: (key, published, grantSet, bindings) =>
        Sandbox.build(key, published, grantSet, sandboxSettings, bindings),
    });
    this.#slots = new QuerySlots({
      perUser: options.settings.per_user_concurrency,
      global: options.settings.global_concurrency,
      waitMs: options.busyWaitMs ?? 5_000,
    });
  }

  static async open(options: QueryEngineOptions): Promise<QueryEngine> {
    return new QueryEngine(options, await SqlParser.open());
  }

  /** The engine's locked-down parser, for checks that reuse the guard's parser (12 §2 filters). */
  get parser(): SqlParser {
    return this.#parser;
  }

  /** Sandboxes open now, retiring ones included (R6: never more than the cache size for long). */
  get openSandboxes(): number {
    return this.#cache.open;
  }

  /** `POST /api/query` (05 §2 pipeline): at most `limit` rows, cut early at `max_result_bytes`. */
  async query(request: QueryRequest, limit: number): Promise<QueryResult> {
    const run = await this.#start(request, this.#settings.timeout_seconds);
    const work = (async () => this.#collect(run, await run.conn.stream(run.checked.sql), limit))();
    // The slot, connection and sandbox are released once the engine has stopped (05 §5 limits)...
    work.then(run.finish, run.finish);
    try {
      // ...but the caller hears of a timeout when it happens, not when the engine gets there.
      return await Promise.race([work, run.expired]);
    } catch (error) {
      throw this.#mapError(run, request, error);
    }
  }

  /**
   * The guard alone (05 §2 pipeline steps 1, 3–5) for a statement stored now and run later, such
   * as an alert's: the same refusals as `query()`, without a slot, a sandbox or execution.
   */
  async check(request: QueryRequest): Promise<void> {
    if (this.#closing) throw new AgnesError('unavailable', 'the server is shutting down');
    const readable = readableSet(request.caller, await this.#published.current());
    await this.#guard.check(request.sql, accessOf(request.caller, readable));
  }

  /**
   * `POST /api/query/export`: the stream is returned once the first chunk has been produced, so
   * every error before the first byte is an ordinary error response.
   */
  async export(request: QueryRequest, format: ExportFormat, maxRows: number): Promise<ExportStream> {
    const run = await this.#start(request, this.#settings.export_timeout_seconds);
    const filename = `export.${format}`;
    try {
      const { stream, size } =
        format === 'parquet'
          ? await this.#parquetExport(run, request, maxRows)
          : { stream: await this.#textExport(run, request, format, maxRows), size: null };
      return { format, contentType: CONTENT_TYPES[format], filename, stream, size };
    } catch (error) {
      run.finish();
      throw this.#mapError(run, request, error);
    }
  }

  /** Stops new queries, interrupts running ones and closes every sandbox once they have ended. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const run of this.#running) run.conn.interrupt();
    const deadline = Date.now() + 10_000;
    while (this.#running.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await this.#cache.closeAll();
    this.#parser.close();
  }

  async #start(request: QueryRequest, timeoutSeconds: number): Promise<Run> {
    if (this.#closing) throw new AgnesError('unavailable', 'the server is shutting down');
    // Step 1 before the slots: an oversized text is refused without waiting for anything.
    checkSqlText(request.sql, this.#settings.max_sql_bytes);
    // The caller's slices before a slot: waiting for a slice build holds no query slot.
    const first = await this.#published.current();
    const firstBindings = await bindingsIn(request.caller, first, readableSet(request.caller, first));
    const release = await this.#slots.acquire(request.caller.userId);
    let sandbox: Sandbox | null = null;
    try {
      const published = await this.#published.current();
      const readable = readableSet(request.caller, published);
      const checked = await this.#guard.check(request.sql, accessOf(request.caller, readable));
      request.onChecked?.(checked.tables);
      sandbox = await this.#sandboxFor(request.caller, published, readable, {
        generation: first.generation,
        bindings: firstBindings,
      });
      const conn = await sandbox.connect();
      const acquired = sandbox;
      let expire!: (error: Error) => void;
      const expired = new Promise<never>((_, reject) => {
        expire = reject;
      });
      expired.catch(() => undefined);
      const run: Run = {
        checked,
        sandbox: acquired,
        conn,
        timedOut: false,
        expired,
        timeoutSeconds,
        startedAt: performance.now(),
        secrets: secretValues(published, this.#options.env),
        finish: () => {
          clearTimeout(timer);
          if (!this.#running.delete(run)) return;
          conn.closeSync();
          acquired.release();
          release();
        },
      };
      const timer = setTimeout(() => {
        run.timedOut = true;
        conn.interrupt();
        expire(new Error('INTERRUPT Error: query timed out'));
      }, timeoutSeconds * 1000);
      this.#running.add(run);
      return run;
    } catch (error) {
      sandbox?.release();
      release();
      throw error;
    }
  }

  /**
   * The caller's sandbox for the newest generation (a rebuild may publish one meanwhile). The
   * bindings resolved before the slot are reused while the generation is theirs.
   */
  async #sandboxFor(
    caller: QueryCaller,
    first: PublishedGeneration,
    readable: ReadonlySet<string>,
    resolved: { generation: number; bindings: ReadonlyMap<string, TableBinding> },
  ): Promise<Sandbox> {
    let published = first;
    for (let attempt = 0; attempt < 5; attempt++) {
      const grantSet = [...readable].filter((id) => published.views.has(id)).sort();
      const bindings =
        published.generation === resolved.generation
          ? resolved.bindings
          : await bindingsIn(caller, published, readable);
      const sandbox = await this.#cache.acquire(published, grantSet, bindings);
      if (sandbox) return sandbox;
      published = await this.#published.current();
    }
    throw new AgnesError('sandbox_unavailable', 'the query sandbox is unavailable; try again later');
  }

  async #collect(run: Run, result: DuckDBResult, limit: number): Promise<QueryResult> {
    const collected = await collectRows(result, limit, this.#settings.max_result_bytes);
    // Rows beyond the cap are not wanted: stop the engine before the connection is closed.
    if (collected.truncated) run.conn.interrupt();
    return { ...collected, elapsed_ms: elapsedSince(run.startedAt) };
  }

  async #textExport(
    run: Run,
    request: QueryRequest,
    format: 'csv' | 'ndjson',
    maxRows: number,
  ): Promise<Readable> {
    const result = await run.conn.stream(run.checked.sql);
    const columns = result.columnNames();
    let first = await result.fetchChunk();
    const mapError = (error: unknown) => this.#mapError(run, request, error);
    async function* lines(): AsyncGenerator<string> {
      try {
        if (format === 'csv') yield csvLine(columns);
        let written = 0;
        for (let chunk = first; chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
          first = null;
          let out = '';
          for (const row of chunk.convertRows(encodeValue)) {
            if (written === maxRows) break;
            out += format === 'csv' ? csvLine(row) : ndjsonLine(columns, row);
            written += 1;
          }
          if (out) yield out;
          if (written === maxRows) {
            run.conn.interrupt();
            return;
          }
        }
      } catch (error) {
        throw mapError(error);
      } finally {
        run.finish();
      }
    }
    return Readable.from(lines(), { objectMode: false });
  }

  /** Parquet is written by the sandbox itself into its scratch directory, streamed, then deleted. */
  async #parquetExport(
    run: Run,
    request: QueryRequest,
    maxRows: number,
  ): Promise<{ stream: Readable; size: number }> {
    const access = accessOf(request.caller, new Set(run.checked.tables));
    const text = await this.#guard.canonical(run.checked, access);
    const file = join(run.sandbox.exportDir, `${randomBytes(12).toString('hex')}.parquet`);
    try {
      await run.conn.run(
        `COPY (SELECT * FROM (${text}) LIMIT ${maxRows}) TO ${quoteLiteral(file)} (FORMAT parquet)`,
      );
      const size = (await stat(file)).size;
      const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
      const cleanup = () => {
        run.finish();
        void rm(file, { force: true }).catch(() => undefined);
      };
      stream.once('close', cleanup);
      stream.once('error', cleanup);
      return { stream, size };
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
  }

  #mapError(run: Run, request: QueryRequest, error: unknown): AgnesError {
    return mapEngineError(error, {
      dataDir: this.#options.dataDir,
      secrets: run.secrets,
      timedOut: run.timedOut,
      timeoutSeconds: run.timeoutSeconds,
      shuttingDown: this.#closing,
      onPossibleBypass: (message) =>
        this.#options.log.error(
          { request_id: request.requestId, sql: request.sql.slice(0, 2000), err: message },
          'query refused inside the engine: possible guard bypass',
        ),
    });
  }
}

/** Lower-case ids the caller may query: admins every published view (04 §6.1 rule 2). */
function readableSet(caller: QueryCaller, published: PublishedGeneration): ReadonlySet<string> {
  const ids = caller.readable.map((id) => id.toLowerCase());
  if (caller.admin) ids.push(...published.views.keys());
  return new Set(ids);
}

const NO_BINDINGS: ReadonlyMap<string, TableBinding> = new Map();

/** The caller's policy bindings of the readable tables published in `published` (12 §3). */
async function bindingsIn(
  caller: QueryCaller,
  published: PublishedGeneration,
  readable: ReadonlySet<string>,
): Promise<ReadonlyMap<string, TableBinding>> {
  if (!caller.bindings || caller.admin) return NO_BINDINGS;
  return caller.bindings(
    published,
    [...readable].filter((id) => published.views.has(id)),
  );
}

function accessOf(caller: QueryCaller, readable: ReadonlySet<string>): TableAccess {
  return {
    readable,
    isVisible: (id) => caller.admin || readable.has(id) || caller.isVisible(id),
  };
}

/** Values of the token variables of remote catalogs: never echoed in an error message. */
function secretValues(published: PublishedGeneration, env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  for (const remote of published.remotes.values()) {
    const value = remote.token_env ? env[remote.token_env] : undefined;
    if (value) out.push(value);
  }
  return out;
}
