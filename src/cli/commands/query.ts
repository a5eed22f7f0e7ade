import { createWriteStream } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { QueryResult } from '../../contract/index.js';
import { type CliContext, connect } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { type Cell, formatRows, rowObjects, type TextFormat } from '../format.js';
import { openLocalDb, runLocal } from '../local-db.js';
import { layoutOf } from '../sync/paths.js';

export const QUERY_FORMATS = ['table', 'json', 'csv', 'ndjson', 'parquet'] as const;
export type QueryFormat = (typeof QUERY_FORMATS)[number];
const EXPORT_FORMATS: QueryFormat[] = ['csv', 'ndjson', 'parquet'];
export const DEFAULT_QUERY_LIMIT = 1000;
/** Exports stream for as long as they need; this only bounds a connection that never ends. */
const EXPORT_TIMEOUT_MS = 24 * 3_600_000;
/** Like downloads (06 §4 HTTP client), an export that sends nothing for this long is given up. */
const EXPORT_IDLE_MS = 60_000;

export interface QueryOptions {
  file?: string;
  remote?: boolean;
  format: QueryFormat;
  limit?: number;
  output?: string;
}

async function sqlOf(sql: string | undefined, options: QueryOptions): Promise<string> {
  if (sql !== undefined && options.file !== undefined)
    throw new CliError(EXIT.usage, 'give the SQL either as an argument or with --file, not both', 'usage');
  if (options.file !== undefined) {
    try {
      return await readFile(options.file, 'utf8');
    } catch {
      throw new CliError(EXIT.usage, `cannot read ${options.file}`, 'usage');
    }
  }
  if (!sql?.trim())
    throw new CliError(EXIT.usage, 'no SQL given; pass it as an argument or with --file', 'usage');
  return sql;
}

/** Writes beside the target and renames, so a failed query never leaves half a file. */
async function writeAtomically(path: string, write: (temp: string) => Promise<void>): Promise<void> {
  const temp = `${path}.${process.pid}.part`;
  try {
    await write(temp);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function exportRemote(
  ctx: CliContext,
  sql: string,
  options: QueryOptions,
  output: string,
): Promise<void> {
  const { client } = await connect(ctx, { requireAuth: true });
  const body: Record<string, unknown> = { sql, format: options.format };
  if (options.limit !== undefined) body.max_rows = options.limit;
  const response = await client.request<ReadableStream<Uint8Array> | null>('POST', '/api/query/export', {
    body,
    stream: true,
    timeoutMs: EXPORT_TIMEOUT_MS,
  });
  try {
    await writeAtomically(output, async (temp) => {
      if (!response.body) throw new CliError(EXIT.failed, 'the server sent an empty export', 'export_failed');
      const source = Readable.fromWeb(response.body as never);
      const idle = setTimeout(() => source.destroy(new Error('idle')), EXPORT_IDLE_MS);
      source.on('data', () => idle.refresh());
      try {
        await pipeline(source, createWriteStream(temp, { mode: 0o644 }));
      } finally {
        clearTimeout(idle);
      }
    });
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(
      EXIT.failed,
      'the export stopped before it was complete; run it again',
      'export_failed',
    );
  }
}

async function result(ctx: CliContext, sql: string, options: QueryOptions, limit: number) {
  if (!options.remote) {
    const duck = await openLocalDb(layoutOf(ctx.localDir).dbPath);
    try {
      return await runLocal(duck.conn, sql, limit);
    } finally {
      duck.close();
    }
  }
  const { client } = await connect(ctx, { requireAuth: true });
  const remote = await client.json<QueryResult>('POST', '/api/query', { body: { sql, limit } });
  // Parsed from JSON, so every cell is a JSON value (05 §6 result encoding).
  return { ...remote, rows: remote.rows as Cell[][] };
}

/** `da query` (06 §5.2 data): local DuckDB by default, the server's guarded SQL with `--remote`. */
export async function query(ctx: CliContext, options: QueryOptions, sqlArgument?: string): Promise<void> {
  const sql = await sqlOf(sqlArgument, options);
  const limit = options.limit ?? DEFAULT_QUERY_LIMIT;
  if (limit < 1) throw new CliError(EXIT.usage, '--limit must be at least 1', 'usage');
  if (options.format === 'parquet' && !(options.remote && options.output))
    throw new CliError(EXIT.usage, '--format parquet needs --remote and --output FILE', 'usage');
  if (options.remote && options.output && EXPORT_FORMATS.includes(options.format)) {
    await exportRemote(ctx, sql, options, options.output);
    ctx.out.result({ output: options.output, format: options.format }, () => '');
    ctx.out.info(`Wrote ${options.output}`);
    return;
  }
  const { columns, column_types, rows, truncated } = await result(ctx, sql, options, limit);
  if (truncated && !ctx.out.options.quiet) process.stderr.write(`(truncated at ${rows.length} rows)\n`);
  const text = formatRows({ columns, rows }, options.format as TextFormat);
  if (options.output) {
    await writeAtomically(options.output, (temp) => writeFile(temp, text));
    ctx.out.result(
      { output: options.output, format: options.format, row_count: rows.length, truncated },
      () => '',
    );
    ctx.out.info(`Wrote ${rows.length} rows to ${options.output}`);
    return;
  }
  if (ctx.out.json) {
    ctx.out.result(
      { columns, column_types, rows: rowObjects({ columns, rows }), row_count: rows.length, truncated },
      () => '',
    );
    return;
  }
  process.stdout.write(text);
}
