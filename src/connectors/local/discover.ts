import { stat } from 'node:fs/promises';
import { type DuckSession, openDuck, queryOne, queryRows, toNumber } from '../../core/duckdb/engine.js';
import { quoteLiteral } from '../../core/duckdb/sql.js';
import type { DiscoveredTable, DiscoverSource } from '../../core/extract/connector.js';
import { type CsvOptions, readInputSql } from './convert.js';
import type { LocalSourceConfig } from './extractor.js';
import { type InputFile, type PlannedTable, planInputs } from './inputs.js';

/** Discovery reads inputs on a small, bounded instance: it runs on an admin's request, in the app. */
const DISCOVER_MEMORY = '256MB';

function inputSql(file: InputFile, csv: CsvOptions): string {
  return file.kind === 'parquet'
    ? `SELECT * FROM read_parquet(${quoteLiteral(file.abs)})`
    : readInputSql(file.abs, file.kind, csv);
}

interface Described {
  columns: { name: string; type: string }[];
  rows: number;
}

/** Columns from DuckDB's `DESCRIBE`, rows from `count(*)`, of one input file. */
async function describeInput(duck: DuckSession, file: InputFile, csv: CsvOptions): Promise<Described> {
  const sql = inputSql(file, csv);
  const columns = await queryRows<{ column_name: string; column_type: string }>(duck.conn, `DESCRIBE ${sql}`);
  const count = await queryOne(duck.conn, `SELECT count(*) AS n FROM (${sql})`);
  return {
    columns: columns.map((c) => ({ name: String(c.column_name), type: String(c.column_type) })),
    rows: toNumber(count?.n) ?? 0,
  };
}

/** One planned table: its shards' columns merged by name (first type wins), rows summed. */
async function describeTable(
  duck: DuckSession,
  table: PlannedTable,
  csv: CsvOptions,
): Promise<DiscoveredTable> {
  const columns = new Map<string, string>();
  let rows: number | null = 0;
  let size = 0;
  let lastChange = 0;
  for (const file of table.inputs) {
    const info = await stat(file.abs);
    size += info.size;
    lastChange = Math.max(lastChange, info.mtimeMs);
    try {
      const described = await describeInput(duck, file, csv);
      for (const column of described.columns)
        if (!columns.has(column.name)) columns.set(column.name, column.type);
      if (rows !== null) rows += described.rows;
    } catch {
      // An unreadable input is still listed (its table fails at extraction with `read_failed`).
      rows = null;
    }
  }
  return {
    name: table.name,
    source_table: table.layout === 'single' ? (table.inputs[0]?.rel ?? table.name) : table.name,
    bucket: '',
    columns: [...columns].map(([name, type]) => ({ name, type })),
    rows,
    size_bytes: size,
    primary_key: [],
    last_change: lastChange > 0 ? new Date(lastChange).toISOString() : null,
  };
}

/**
 * Lists the tables a local source would produce (07 §0 common model `discover`): the same input plan the
 * extractor uses, each table described with DuckDB straight from its input files, so tables can be
 * registered before the first sync.
 */
export async function discoverLocal(source: DiscoverSource): Promise<DiscoveredTable[]> {
  const config = source.config as LocalSourceConfig;
  const csv: CsvOptions = { header: config.csv?.header ?? true, encoding: config.csv?.encoding ?? 'utf-8' };
  if (config.csv?.delimiter) csv.delimiter = config.csv.delimiter;
  const info = await stat(config.path).catch(() => null);
  if (!info?.isDirectory()) throw new Error(`local source ${source.name}: input directory does not exist`);
  const plan = await planInputs(config.path);
  const duck = await openDuck(':memory:', { memoryLimit: DISCOVER_MEMORY, threads: 2 });
  try {
    const tables: DiscoveredTable[] = [];
    for (const table of plan.tables) tables.push(await describeTable(duck, table, csv));
    return tables;
  } finally {
    duck.close();
  }
}
