import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';

export interface DuckOptions {
  readOnly?: boolean;
  memoryLimit?: string;
  threads?: number;
  tempDirectory?: string;
  /** Further DuckDB settings applied at open time. */
  settings?: Record<string, string>;
}

/** One DuckDB instance with one connection; `close()` releases both (and the file). */
export interface DuckSession {
  readonly instance: DuckDBInstance;
  readonly conn: DuckDBConnection;
  close(): void;
}

/**
 * Opens DuckDB with extension autoinstall and autoload off: nothing is fetched from the network
 * and only extensions we load explicitly can run. Parquet and JSON are built in.
 */
export async function openDuck(path = ':memory:', options: DuckOptions = {}): Promise<DuckSession> {
  const config: Record<string, string> = {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    ...options.settings,
  };
  if (options.readOnly) config.access_mode = 'READ_ONLY';
  if (options.memoryLimit) config.memory_limit = options.memoryLimit;
  if (options.threads) config.threads = String(options.threads);
  if (options.tempDirectory) config.temp_directory = options.tempDirectory;
  const instance = await DuckDBInstance.create(path, config);
  const conn = await instance.connect();
  let closed = false;
  return {
    instance,
    conn,
    close() {
      if (closed) return;
      closed = true;
      conn.closeSync();
      instance.closeSync();
    },
  };
}

export type Row = Record<string, unknown>;

/** Runs a statement and returns its rows as plain JS values (BIGINT as bigint, TIMESTAMP as Date). */
export async function queryRows<T extends Row = Row>(
  conn: DuckDBConnection,
  sql: string,
  params?: DuckDBValue[],
): Promise<T[]> {
  const reader = await conn.runAndReadAll(sql, params);
  return reader.getRowObjectsJS() as T[];
}

export async function queryOne<T extends Row = Row>(
  conn: DuckDBConnection,
  sql: string,
  params?: DuckDBValue[],
): Promise<T | undefined> {
  const rows = await queryRows<T>(conn, sql, params);
  return rows[0];
}

/** BIGINT/HUGEINT arrive as bigint; counts and sizes we store fit in a double. */
export function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  return null;
}
