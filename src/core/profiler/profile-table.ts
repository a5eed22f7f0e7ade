import type { DuckDBConnection } from '@duckdb/node-api';
import type { Alert, ColumnProfile, DateRange, Profile, TypeCategory } from '../../contract/index.js';
import type { InstanceConfig } from '../config/index.js';
import { toDuckSize } from '../config/size.js';
import { openDuck, queryOne, queryRows } from '../duckdb/engine.js';
import { columnAlerts } from './alerts.js';
import { typeCategory } from './categories.js';
import { type ColumnFacts, columnProfile } from './column-profile.js';
import { count, pct, round2 } from './format.js';
import { runPasses } from './passes.js';
import { type MetricFile, type RelatedCandidate, relatedTables, usedByMetrics } from './relations.js';
import {
  type ColumnPlan,
  describeSql,
  parquetSource,
  type ResultRow,
  rowCountSql,
  SAMPLE_TABLE,
  sampleRowsSql,
  sampleSql,
} from './sql.js';

/** Written into each profile, so a reader can tell which profiler made it. */
export const PROFILER_VERSION = 1;

export interface ProfileInput {
  tableId: string;
  /** Absolute Parquet paths: one file, or the shards of a multi-file table. */
  files: string[];
  description: string;
  syncStrategy: string;
  primaryKey: string[];
  extractedAt: string | null;
  sourceHash: string | null;
  sizeBytes: number;
  /** Other registered tables, for `related_tables`. */
  relatedCandidates?: RelatedCandidate[];
  /** Metric definitions, for `used_by_metrics`. */
  metricFiles?: MetricFile[];
}

export type ProfileOptions = InstanceConfig['profiler'];

/**
 * Profiles a table straight from its Parquet files on a private in-memory DuckDB, within the
 * configured memory and thread caps (02 §7 profile JSON). The row count comes from the Parquet footers; above
 * `sample_size` rows the statistics passes (passes.ts) read a seeded reservoir sample materialised
 * once; the sample rows are the first rows of the files.
 */
export async function profileTable(input: ProfileInput, options: ProfileOptions): Promise<Profile> {
  if (input.files.length === 0) throw new Error(`table ${input.tableId} has no files to profile`);
  const duck = await openDuck(':memory:', {
    memoryLimit: toDuckSize(options.memory_limit),
    threads: options.threads,
  });
  try {
    // Dates of TIMESTAMPTZ values, and their text, must not depend on the server's zone.
    await duck.conn.run(`SET TimeZone = 'UTC'`);
    return await profileWith(duck.conn, input, options);
  } finally {
    duck.close();
  }
}

async function profileWith(
  conn: DuckDBConnection,
  input: ProfileInput,
  options: ProfileOptions,
): Promise<Profile> {
  const files = parquetSource(input.files);
  const rowCount = count((await queryOne(conn, rowCountSql(input.files)))?.n);
  const described = await queryRows<{ column_name: string; column_type: string }>(conn, describeSql(files));
  const columns: ColumnPlan[] = described.map((d, index) => ({
    index,
    name: d.column_name,
    type: d.column_type,
    category: typeCategory(d.column_type),
  }));

  const sampled = rowCount > options.sample_size;
  if (sampled) await conn.run(sampleSql(files, options.sample_size));
  const source = sampled ? SAMPLE_TABLE : files;

  const keyColumns = input.primaryKey.map((key) => columns.find((c) => c.name === key));
  const knownKey = keyColumns.every((c) => c !== undefined) ? (keyColumns as ColumnPlan[]) : [];
  const { results, plans } = await runPasses(conn, columns, source, {
    ...options,
    compositeKey: knownKey.length > 1 ? knownKey : null,
  });
  const rows = count(results.profiled_rows);

  const alerts: Alert[] = [];
  const profiles: ColumnProfile[] = columns.map((c) => {
    const facts = columnProfile(c, results, {
      rows,
      options,
      isPrimaryKey: knownKey.includes(c),
      plans: plans.get(c)!,
    });
    const found = columnAlerts(facts, rows, options);
    alerts.push(...found);
    return { ...facts, alerts: found.map((a) => a.type) };
  });

  const missing = profiles.reduce((sum, c) => sum + c.null_count, 0);
  const columnNames = columns.map((c) => c.name);

  return {
    profiler_version: PROFILER_VERSION,
    table_id: input.tableId,
    description: input.description,
    sync_strategy: input.syncStrategy,
    primary_key: input.primaryKey,
    row_count: rowCount,
    profiled_rows: rows,
    sampled,
    column_count: columns.length,
    size_bytes: input.sizeBytes,
    file_size_mb: round2(input.sizeBytes / 1024 ** 2) ?? 0,
    // NaN for a table without columns, which round2 turns into null.
    avg_completeness: round2(profiles.reduce((sum, c) => sum + c.completeness_pct, 0) / profiles.length) ?? 0,
    missing_cells: missing,
    missing_cells_pct: pct(missing, rows * columns.length),
    duplicate_rows: duplicateRows(knownKey, profiles, results, rows),
    variable_types: variableTypes(columns),
    date_range: dateRange(profiles),
    alerts,
    last_sync: input.extractedAt,
    source_hash: input.sourceHash,
    related_tables: relatedTables(
      { tableId: input.tableId, primaryKey: input.primaryKey, columns: columnNames },
      input.relatedCandidates ?? [],
    ),
    used_by_metrics: usedByMetrics(input.tableId, input.metricFiles ?? []),
    columns: profiles,
    sample_rows: await sampleRows(conn, columns, files, options.sample_rows_limit),
  };
}

/** Rows without a distinct complete key; the key's own column already counted a single-column key. */
function duplicateRows(
  key: ColumnPlan[],
  profiles: ColumnProfile[],
  results: ResultRow,
  rows: number,
): number {
  const [first] = key;
  if (!first) return 0;
  const distinct = key.length > 1 ? count(results.key_distinct) : (profiles[first.index]?.unique_count ?? 0);
  return rows - distinct;
}

function variableTypes(columns: ColumnPlan[]): Partial<Record<TypeCategory, number>> {
  const out: Partial<Record<TypeCategory, number>> = {};
  for (const c of columns) out[c.category] = (out[c.category] ?? 0) + 1;
  return out;
}

function dateRange(columns: ColumnFacts[]): DateRange | null {
  for (const c of columns) {
    if ((c.type_category === 'DATE' || c.type_category === 'TIMESTAMP') && c.earliest && c.latest) {
      return { column: c.name, earliest: c.earliest, latest: c.latest, span_days: c.span_days ?? 0 };
    }
  }
  return null;
}

async function sampleRows(
  conn: DuckDBConnection,
  columns: ColumnPlan[],
  source: string,
  limit: number,
): Promise<Record<string, string | null>[]> {
  if (limit === 0 || columns.length === 0) return [];
  const reader = await conn.runAndReadAll(sampleRowsSql(columns, source, limit));
  // Entries, not property assignment: a column may be called `__proto__`.
  return reader
    .getRowsJS()
    .map((row) =>
      Object.fromEntries(columns.map((c, i) => [c.name, typeof row[i] === 'string' ? row[i] : null])),
    );
}
