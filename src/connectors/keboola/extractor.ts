import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDuck } from '../../core/duckdb/engine.js';
import { quoteIdent } from '../../core/duckdb/sql.js';
import { eachLimited } from '../../core/each-limited.js';
import type {
  ExtractContext,
  ExtractFailure,
  ExtractInput,
  ExtractResult,
  ExtractTableInput,
} from '../../core/extract/connector.js';
import type { AttachRemote } from '../../core/extract/remote-attach.js';
import { ExtractWriter, type PreviousExtract, type WrittenFile } from '../../core/extract/writer.js';
import { DIR_MODE } from '../../core/fs/atomic.js';
import { sanitizeDetail } from '../../core/orchestrator/sanitize.js';
import { type ClientTuning, KeboolaError, StorageClient } from './client.js';
import { isStorageName, typedColumns } from './columns.js';
import type { KeboolaSourceConfig } from './config.js';
import {
  type Export,
  keptFile,
  mergePartitions,
  mergeSingle,
  writeFull,
  writePartitions,
} from './convert.js';
import type { ObjectStoreEndpoints } from './file-storage.js';

export interface KeboolaOptions {
  /** The remote-catalog seam (07 §0 common model); production loads the `keboola` extension. */
  attachRemote?: AttachRemote;
  tuning?: Partial<ClientTuning>;
  /** Object-store endpoints in place of AWS, Google and Azure (a loopback fake in tests). */
  objectStores?: ObjectStoreEndpoints;
}

/** Per conversion: bounded so two parallel tables stay well inside a small machine; DuckDB spills beyond it. */
const CONVERT_MEMORY = '512MB';
const REMOTE_ALIAS = 'kbc';
const SLICE_DOWNLOADS = 4;

interface TableJob {
  input: ExtractInput;
  config: KeboolaSourceConfig;
  client: StorageClient;
  writer: ExtractWriter;
  previous: PreviousExtract | null;
  scratch: string;
  progress(line: string): void;
}

function previousFiles(previous: PreviousExtract | null, id: string) {
  return previous?.files.filter((f) => f.table_name === id) ?? [];
}

/** A failed or untouched table keeps what was published before (07 §0 common model). */
async function carryForward(
  conn: DuckDBConnection,
  writer: ExtractWriter,
  previous: PreviousExtract | null,
  id: string,
): Promise<void> {
  if (writer.keepRemoteTable(previous, id, REMOTE_ALIAS)) return;
  const meta = previous?.meta.find((m) => m.table_name === id && m.query_mode === 'local');
  const files = previousFiles(previous, id);
  if (!meta || files.length === 0) return;
  const kept: WrittenFile[] = [];
  for (const file of files) kept.push(await keptFile(conn, writer, file));
  writer.addLocalTable({
    name: id,
    layout: files.length === 1 && !files[0]?.path.includes('/') ? 'single' : 'multi',
    description: meta.description,
    extractedAt: meta.extracted_at ?? new Date().toISOString(),
    files: kept,
  });
}

/**
 * Exports Keboola tables through the Storage API and converts them to Parquet (07 §3). One
 * table's failure never stops the others; a 401/403 fails every remaining table without calls.
 */
export async function extractKeboola(
  input: ExtractInput,
  context: ExtractContext,
  options: KeboolaOptions = {},
): Promise<ExtractResult> {
  const started = performance.now();
  const config = input.config as KeboolaSourceConfig;
  const token = context.env[config.token_env] ?? '';
  const scratch = resolve(input.extractDir, '..', '..', 'tmp', `extract-${input.source}`);
  const writer = await ExtractWriter.open(input.extractDir);
  const failed: ExtractFailure[] = [];
  const watermarks: Record<string, string> = {};
  const duck = await openDuck(':memory:', {
    memoryLimit: CONVERT_MEMORY,
    threads: 2,
    tempDirectory: scratch,
  });
  try {
    await mkdir(scratch, { recursive: true, mode: DIR_MODE });
    const previous = await writer.previous();
    const job: TableJob = {
      input,
      config,
      client: new StorageClient(config.stack_url, token, options.tuning, options.objectStores),
      writer,
      previous,
      scratch,
      progress: context.progress,
    };
    let refused = token ? null : `environment variable ${config.token_env} is empty`;
    await eachLimited(input.tables, config.parallel_tables, async (table) => {
      try {
        if (refused) throw new KeboolaError('auth_failed', refused);
        const watermark = await extractTable(job, table);
        if (watermark) watermarks[table.id] = watermark;
      } catch (error) {
        const code = error instanceof KeboolaError ? error.code : 'extract_failed';
        const message = sanitizeDetail(error, [token]);
        if (code === 'auth_failed') refused = message;
        context.progress(`${input.source}.${table.id}: failed (${code})`);
        failed.push({ table: table.id, code, message });
        await carryForward(duck.conn, writer, previous, table.id);
      }
    });
    const requested = new Set(input.tables.map((t) => t.id));
    for (const meta of previous?.meta ?? [])
      if (!requested.has(meta.table_name)) await carryForward(duck.conn, writer, previous, meta.table_name);
    const result = await writer.commit({
      env: context.env,
      ...(options.attachRemote ? { attachRemote: options.attachRemote } : {}),
    });
    failed.push(...result.failed);
    const failedNames = new Set(failed.map((f) => f.table));
    for (const id of Object.keys(watermarks)) if (failedNames.has(id)) delete watermarks[id];
    return {
      tables_extracted: result.published.filter((name) => requested.has(name) && !failedNames.has(name)),
      tables_failed: failed,
      watermarks,
      duration_ms: Math.round(performance.now() - started),
    };
  } finally {
    duck.close();
    await rm(scratch, { recursive: true, force: true });
    await writer.abort();
  }
}

/** One table: remote view, or export + download + convert by strategy. Returns its new watermark. */
async function extractTable(job: TableJob, table: ExtractTableInput): Promise<string | null> {
  const { client, config, writer } = job;
  if (!isStorageName(table.bucket) || !isStorageName(table.source_table))
    throw new KeboolaError('not_found', 'bucket or table name is not a Keboola id');
  const storageId = `${table.bucket}.${table.source_table}`;
  const detail = await client.tableDetail(storageId);
  const now = new Date().toISOString();
  if (table.query_mode === 'remote') {
    writer.addRemoteAttach({
      alias: REMOTE_ALIAS,
      extension: 'keboola',
      url: config.stack_url,
      token_env: config.token_env,
    });
    writer.addRemoteTable({
      name: table.id,
      rows: detail.rowsCount ?? null,
      extractedAt: now,
      alias: REMOTE_ALIAS,
      select: `SELECT * FROM ${REMOTE_ALIAS}.${quoteIdent(table.bucket)}.${quoteIdent(table.source_table)}`,
    });
    return null;
  }

  const columns = typedColumns(detail);
  const primaryKey = table.primary_key.length > 0 ? table.primary_key : (detail.primaryKey ?? []);
  const names = new Set(columns.map((c) => c.name));
  if (primaryKey.some((k) => !names.has(k)))
    throw new Error('primary key names a column the table does not have');
  const partitioned = table.sync_strategy === 'partitioned';
  if (partitioned && (!table.partition_by || !names.has(table.partition_by) || !table.partition_granularity))
    throw new Error('partitioned table needs partition_by (an existing column) and partition_granularity');
  if (table.sync_strategy === 'incremental' && primaryKey.length === 0)
    throw new Error('incremental table needs a primary key');

  const before = previousFiles(job.previous, table.id);
  const single = before.length === 1 && before[0]?.path === `${table.id}.parquet`;
  const sharded = before.length > 0 && before.every((f) => f.path.startsWith(`${table.id}/`));
  const merge =
    !job.input.fullRefresh &&
    table.watermark !== null &&
    primaryKey.length > 0 &&
    table.sync_strategy !== 'full_refresh' &&
    (partitioned ? sharded : single);
  const since = merge
    ? Math.floor(Date.parse(table.watermark ?? '') / 1000) - config.incremental_lag_seconds
    : null;
  if (since !== null && !Number.isFinite(since)) throw new Error('stored watermark is not a time');

  const started = await client.startExport(storageId, since);
  const done = await client.waitForJob(started.id, config.export_timeout_seconds * 1000);
  const fileId = done.results?.file?.id;
  if (fileId === undefined) throw new KeboolaError('export_failed', 'export job finished without a file');
  const requests = await client.slices(await client.fileInfo(fileId));
  const slices = requests.map((_, i) => join(job.scratch, `${table.id}-${i}.csv.gz`));
  let bytes = 0;
  await eachLimited(
    requests.map((request, i) => [request, slices[i] as string] as const),
    SLICE_DOWNLOADS,
    async ([request, path]) => {
      bytes += await client.downloadSlice(request, path);
    },
  );
  job.progress(
    `${job.input.source}.${table.id}: ${slices.length} slice(s), ${bytes} bytes${merge ? ' (changes)' : ''}`,
  );

  const exported: Export = {
    id: table.id,
    slices,
    columns,
    primaryKey,
    scratch: job.scratch,
    warn: (line) => job.progress(`${job.input.source}.${table.id}: warning: ${line}`),
  };
  const session = await openDuck(':memory:', {
    memoryLimit: CONVERT_MEMORY,
    threads: 2,
    tempDirectory: job.scratch,
  });
  try {
    const { conn } = session;
    const granularity = table.partition_granularity ?? 'month';
    const partitionBy = table.partition_by ?? '';
    const files = partitioned
      ? merge
        ? await mergePartitions(conn, writer, exported, partitionBy, granularity, before)
        : await writePartitions(conn, writer, exported, partitionBy, granularity)
      : [merge ? await mergeSingle(conn, writer, exported) : await writeFull(conn, writer, exported)];
    if (files.length === 0) {
      await carryForward(conn, writer, job.previous, table.id);
      if (before.length === 0) throw new Error('partitioned table has no rows to write');
    } else {
      writer.addLocalTable({
        name: table.id,
        layout: partitioned ? 'multi' : 'single',
        extractedAt: now,
        files,
      });
    }
  } finally {
    session.close();
    await Promise.all(slices.map((path) => rm(path, { force: true })));
  }
  const created = done.createdTime ? new Date(done.createdTime) : null;
  return table.sync_strategy !== 'full_refresh' && created && !Number.isNaN(created.getTime())
    ? created.toISOString()
    : null;
}
