import { mkdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type DuckSession, openDuck } from '../../core/duckdb/engine.js';
import { errorMessage } from '../../core/errors.js';
import type {
  ExtractContext,
  ExtractFailure,
  ExtractInput,
  ExtractResult,
} from '../../core/extract/connector.js';
import { ExtractWriter, type WrittenFile } from '../../core/extract/writer.js';
import { DIR_MODE } from '../../core/fs/atomic.js';
import { sanitizeDetail } from '../../core/orchestrator/sanitize.js';
import { sha256File } from '../../core/sync/hashing.js';
import { type CsvOptions, readInputSql, verifyGzip } from './convert.js';
import { type InputFile, type PlannedTable, planInputs } from './inputs.js';
import { type InputRecord, readSidecar, type Sidecar, writeSidecar } from './sidecar.js';

export interface LocalSourceConfig {
  path: string;
  csv?: Partial<CsvOptions>;
}

/**
 * DuckDB memory bounds tried in turn for one table. Unbounded (DuckDB's default is 80% of RAM),
 * full-file type detection keeps every buffer of the input cached, so the child's memory grew with
 * the file (07 §1 local files: large inputs are streamed, RSS flat). The small bound fits narrow tables; rows
 * wide enough that one 122,880-row group does not fit are converted again with more memory rather
 * than failing.
 */
const MEMORY_STEPS: readonly (string | null)[] = ['64MB', '1GB', null];

/** Where a bounded conversion may spill: `DATA_DIR/tmp/` (the extract dir is `DATA_DIR/extracts/<source>`). */
function spillDirectory(extractDir: string, source: string): string {
  return resolve(extractDir, '..', '..', 'tmp', `extract-${source}`);
}

function openConverter(memoryLimit: string | null, spill: string): Promise<DuckSession> {
  return openDuck(
    ':memory:',
    memoryLimit ? { memoryLimit, threads: 1, tempDirectory: spill } : { tempDirectory: spill },
  );
}

function sameCsvOptions(a: CsvOptions | undefined, b: CsvOptions): boolean {
  return a !== undefined && a.delimiter === b.delimiter && a.header === b.header && a.encoding === b.encoding;
}

const isOutOfMemory = (error: unknown) => errorMessage(error).includes('Out of Memory');

interface TableRun {
  files: WrittenFile[];
  changed: boolean;
}

/**
 * Imports a directory of CSV / TSV / Parquet / JSON files as one source (07 §1). Every input is
 * extracted, registered or not. A table that fails keeps its previously published files.
 */
export async function extractLocal(input: ExtractInput, context: ExtractContext): Promise<ExtractResult> {
  const started = performance.now();
  const config = input.config as LocalSourceConfig;
  const csv: CsvOptions = { header: config.csv?.header ?? true, encoding: config.csv?.encoding ?? 'utf-8' };
  if (config.csv?.delimiter) csv.delimiter = config.csv.delimiter;
  const sourceInfo = await stat(config.path).catch(() => null);
  if (!sourceInfo?.isDirectory())
    throw new Error(`local source ${input.source}: input directory does not exist`);

  const plan = await planInputs(config.path);
  const writer = await ExtractWriter.open(input.extractDir);
  const failed: ExtractFailure[] = plan.collisions.map((c) => ({
    table: c.name,
    code: 'name_collision',
    message: `inputs ${c.inputs.join(', ')} map to the same table name`,
  }));
  const stored = input.fullRefresh ? null : await readSidecar(input.extractDir);
  // Outputs converted with other CSV options (delimiter, header, encoding) are stale.
  const sidecar: Sidecar =
    stored && sameCsvOptions(stored.csv, csv) ? stored : { version: 1, inputs: {}, tables: {} };
  const nextSidecar: Sidecar = { version: 1, inputs: {}, tables: {}, csv };
  const spill = spillDirectory(input.extractDir, input.source);
  await mkdir(spill, { recursive: true, mode: DIR_MODE });
  const duck = await openConverter(MEMORY_STEPS[0] ?? null, spill);
  try {
    const previous = await writer.previous();
    const now = new Date().toISOString();
    for (const table of plan.tables) {
      context.progress(`${input.source}.${table.name}: ${table.inputs.length} input file(s)`);
      try {
        const run = await convertWithinMemory(
          duck,
          spill,
          (session) => convertTable(writer, session, table, csv, sidecar, nextSidecar),
          (limit) =>
            context.progress(`${input.source}.${table.name}: out of memory within ${limit}; retrying`),
        );
        const extractedAt = (!run.changed && sidecar.tables[table.name]) || now;
        nextSidecar.tables[table.name] = extractedAt;
        writer.addLocalTable({ name: table.name, layout: table.layout, files: run.files, extractedAt });
      } catch (error) {
        failed.push({ table: table.name, code: 'read_failed', message: sanitizeDetail(error) });
        carryForward(writer, previous, table.name, sidecar, nextSidecar);
      }
    }
    for (const collision of plan.collisions)
      carryForward(writer, previous, collision.name, sidecar, nextSidecar);
    const result = await writer.commit();
    for (const failure of result.failed) failed.push(failure);
    await writeSidecar(input.extractDir, nextSidecar);
    const failedNames = new Set(failed.map((f) => f.table));
    return {
      tables_extracted: result.published.filter((name) => !failedNames.has(name)),
      tables_failed: failed,
      watermarks: {},
      duration_ms: Math.round(performance.now() - started),
    };
  } finally {
    duck.close();
    await rm(spill, { recursive: true, force: true });
    await writer.abort();
  }
}

/** Runs `convert` on the bounded session, then on sessions with more memory while DuckDB runs out. */
async function convertWithinMemory(
  first: DuckSession,
  spill: string,
  convert: (session: DuckSession) => Promise<TableRun>,
  onRetry: (limit: string) => void,
): Promise<TableRun> {
  for (let step = 0; ; step++) {
    const limit = MEMORY_STEPS[step] ?? null;
    const session = step === 0 ? first : await openConverter(limit, spill);
    try {
      return await convert(session);
    } catch (error) {
      if (!isOutOfMemory(error) || limit === null) throw error;
      onRetry(limit);
    } finally {
      if (session !== first) session.close();
    }
  }
}

async function convertTable(
  writer: ExtractWriter,
  { conn }: DuckSession,
  table: PlannedTable,
  csv: CsvOptions,
  sidecar: Sidecar,
  next: Sidecar,
): Promise<TableRun> {
  const run: TableRun = { files: [], changed: false };
  for (const file of table.inputs) {
    const record = await reusable(writer, file, sidecar.inputs[file.rel]);
    if (record) {
      next.inputs[file.rel] = record;
      run.files.push(record.output);
      continue;
    }
    const info = await stat(file.abs, { bigint: true });
    if (file.rel.toLowerCase().endsWith('.gz')) await verifyGzip(file.abs);
    const output =
      file.kind === 'parquet'
        ? await writer.copyParquet(conn, file.abs, file.output)
        : await writer.writeParquet(conn, file.output, readInputSql(file.abs, file.kind, csv));
    next.inputs[file.rel] = {
      size: Number(info.size),
      mtime_ns: info.mtimeNs.toString(),
      sha256: await sha256File(file.abs),
      output,
    };
    run.files.push(output);
    run.changed = true;
  }
  const before = previousOutputs(sidecar, table.name);
  if (before.size !== run.files.length || run.files.some((f) => !before.has(f.path))) run.changed = true;
  return run;
}

function previousOutputs(sidecar: Sidecar, table: string): Set<string> {
  const paths = Object.values(sidecar.inputs).map((record) => record.output.path);
  return new Set(paths.filter((path) => path === `${table}.parquet` || path.startsWith(`${table}/`)));
}

/**
 * The previous output of an input can be reused when the input is unchanged — same size and
 * mtime, or the same content after a touch — and the output file is still there.
 */
async function reusable(
  writer: ExtractWriter,
  file: InputFile,
  record: InputRecord | undefined,
): Promise<InputRecord | null> {
  if (!record || record.output.path !== file.output) return null;
  const [info, output] = await Promise.all([
    stat(file.abs, { bigint: true }),
    stat(join(writer.dataDir, record.output.path)).catch(() => null),
  ]);
  if (!output || output.size !== record.output.size || Number(info.size) !== record.size) return null;
  if (info.mtimeNs.toString() === record.mtime_ns) return record;
  if ((await sha256File(file.abs)) !== record.sha256) return null;
  return { ...record, mtime_ns: info.mtimeNs.toString() };
}

/** A failed table keeps what was published before, so a bad run never drops data (07 §0 common model). */
function carryForward(
  writer: ExtractWriter,
  previous: Awaited<ReturnType<ExtractWriter['previous']>>,
  name: string,
  sidecar: Sidecar,
  next: Sidecar,
): void {
  const meta = previous?.meta.find((m) => m.table_name === name && m.query_mode === 'local');
  const files = previous?.files.filter((f) => f.table_name === name) ?? [];
  if (!meta || files.length === 0) return;
  const layout = files.length === 1 && !files[0]!.path.includes('/') ? 'single' : 'multi';
  const recorded = new Map(Object.values(sidecar.inputs).map((r) => [r.output.path, r.output.rows]));
  const written = files.map((f) => ({
    path: f.path,
    size: f.size_bytes,
    sha256: f.sha256,
    rows: recorded.get(f.path) ?? 0,
  }));
  // Without per-file counts the table total still has to match _meta.
  if (written.every((f) => !recorded.has(f.path)) && written[0]) written[0].rows = meta.rows ?? 0;
  writer.addLocalTable({
    name,
    layout,
    description: meta.description,
    extractedAt: meta.extracted_at ?? new Date().toISOString(),
    files: written,
  });
  for (const [rel, record] of Object.entries(sidecar.inputs)) {
    if (files.some((f) => f.path === record.output.path)) next.inputs[rel] = record;
  }
  if (sidecar.tables[name]) next.tables[name] = sidecar.tables[name];
}
