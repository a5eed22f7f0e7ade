import type { QueryResult } from '../../contract/index.js';
import type { InstanceConfig } from '../../core/config/index.js';
import { toDuckSize } from '../../core/config/size.js';
import { openDuck } from '../../core/duckdb/engine.js';
import { quoteIdent } from '../../core/duckdb/sql.js';
import { AgnesError } from '../../core/errors.js';
import { collectRows } from '../../core/query/collect.js';
import { mapEngineError } from '../../core/query/engine-errors.js';
import { QueryGuard } from '../../core/query/guard.js';
import { lockDown, verifyLockedDown } from '../../core/query/lockdown.js';
import { SqlParser } from '../../core/query/sql-parser.js';
import { readSql } from '../sync/views.js';
import type { SyncedTable } from './synced.js';

export interface LocalEngineOptions {
  settings: InstanceConfig['query'];
  /** Sanitised out of engine messages, like DATA_DIR on the server. */
  localDir: string;
  /** A file outside the allow-list that the self-check must fail to read. */
  probePath: string;
  /** Refusals inside the engine: each means a statement got past the tree walk. */
  onPossibleBypass(message: string): void;
  /** Test seam of the defence-in-depth tests (see `GuardOptions.treeWalk`); never set otherwise. */
  treeWalk?: boolean;
}

/**
 * `da mcp`'s local queries (14 §4): the server's guard (DuckDB's parser and the tree walk, the
 * readable set being the synced tables), then a fresh in-memory DuckDB per query holding one view
 * per synced table, with external access off, only those Parquet files allowed and the
 * configuration locked, so a prompt-injected agent cannot read any other file of the laptop.
 */
export class LocalQueryEngine {
  readonly #options: LocalEngineOptions;
  readonly #parser: SqlParser;
  readonly #guard: QueryGuard;

  private constructor(options: LocalEngineOptions, parser: SqlParser) {
    this.#options = options;
    this.#parser = parser;
    this.#guard = new QueryGuard(parser, {
      maxSqlBytes: options.settings.max_sql_bytes,
      treeWalk: options.treeWalk,
    });
  }

  static async open(options: LocalEngineOptions): Promise<LocalQueryEngine> {
    return new LocalQueryEngine(options, await SqlParser.open());
  }

  /**
   * Runs `sql` over `synced` with at most `limit` rows. Refusals are the guard's `AgnesError`s;
   * `unknown_table` means a table is not synced here (it may exist on the server).
   */
  async query(sql: string, limit: number, synced: readonly SyncedTable[]): Promise<QueryResult> {
    const readable = new Set(synced.map((t) => t.id));
    const checked = await this.#guard.check(sql, { readable, isVisible: (id) => readable.has(id) });
    const { settings } = this.#options;
    const started = performance.now();
    const duck = await openDuck(':memory:', {
      threads: settings.threads,
      memoryLimit: toDuckSize(settings.memory_limit),
      // No spilling: a temporary directory would be one more place the engine writes to.
      settings: { temp_directory: '' },
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      duck.conn.interrupt();
    }, settings.timeout_seconds * 1000);
    try {
      // Only the views the statement names, and only their files in the allow-list.
      const wanted = synced.filter((t) => checked.tables.includes(t.id));
      for (const table of wanted)
        await duck.conn.run(`CREATE VIEW main.${quoteIdent(table.id)} AS ${readSql(table)}`);
      await lockDown(duck.conn, { paths: wanted.flatMap((t) => t.files), directories: [] });
      await verifyLockedDown(duck.conn, this.#options.probePath).catch(() => {
        throw new AgnesError('sandbox_unavailable', 'the local query engine could not be locked down');
      });
      const collected = await collectRows(
        await duck.conn.stream(checked.sql),
        limit,
        settings.max_result_bytes,
      );
      return { ...collected, elapsed_ms: Math.round(performance.now() - started) };
    } catch (error) {
      throw mapEngineError(error, {
        dataDir: this.#options.localDir,
        secrets: [],
        timedOut,
        timeoutSeconds: settings.timeout_seconds,
        shuttingDown: false,
        onPossibleBypass: this.#options.onPossibleBypass,
      });
    } finally {
      clearTimeout(timer);
      duck.close();
    }
  }

  close(): void {
    this.#parser.close();
  }
}
