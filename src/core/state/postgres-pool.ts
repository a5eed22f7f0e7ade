import pg from 'pg';
import type { PostgresStore } from './db.js';

const { Pool, types } = pg;

/** OIDs of the PostgreSQL types whose default JavaScript form differs from what SQLite rows hold. */
const INT8 = 20;
const NUMERIC = 1700;
const TIMESTAMPTZ = 1184;

const parseTimestamptz = types.getTypeParser(TIMESTAMPTZ, 'text');

/** A timestamptz as the ISO `…Z` string repositories write and SQLite returns (02 §5). */
function isoTimestamp(value: string): string {
  return (parseTimestamptz(value) as Date).toISOString();
}

/**
 * Parsers for this pool only (not pg's process-wide defaults), so rows have the portable shapes
 * of 02 §5 on both dialects: `int` columns (bigint) and counts as numbers — every value we store
 * is far below 2^53 — and timestamps as ISO strings rather than Dates. Booleans and jsonb already
 * come back as booleans and parsed values.
 */
const PORTABLE_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      if (oid === INT8 || oid === NUMERIC) return Number;
      if (oid === TIMESTAMPTZ) return isoTimestamp;
    }
    return types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** The state store's server could not be reached or refused the login (11 §3: exit 1 naming the host). */
export class StateStoreConnectionError extends Error {
  constructor(where: string, cause: unknown) {
    const reason = cause instanceof Error && cause.message ? cause.message : String(cause);
    super(`cannot connect to the PostgreSQL state store at ${where}: ${reason}`, { cause });
    this.name = 'StateStoreConnectionError';
  }
}

/** `host:port/database` of a postgres URL: what an operator needs to find it, never the password. */
export function describeStore(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname}`;
}

export function postgresPool(store: PostgresStore): pg.Pool {
  const pool = new Pool({
    connectionString: store.url,
    max: store.poolSize,
    connectionTimeoutMillis: store.connectTimeoutSeconds * 1000,
    types: PORTABLE_TYPES,
    // A timestamp written without an offset means UTC, as everywhere else in Agnes, whatever time
    // zone the server defaults to.
    options: '-c TimeZone=UTC',
  });
  // An idle client whose server went away emits 'error' on the pool; unhandled, that would end
  // the process. The next query gets a fresh client (or the connection error) instead.
  pool.on('error', () => {});
  const where = describeStore(store.url);
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  // Kysely takes its connections through the promise form of connect().
  pool.connect = (async () => {
    try {
      return await connect();
    } catch (error) {
      throw new StateStoreConnectionError(where, error);
    }
  }) as typeof pool.connect;
  return pool;
}
