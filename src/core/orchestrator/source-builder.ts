import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, toNumber } from '../duckdb/engine.js';
import type { ParseNode } from '../duckdb/parse-tree.js';
import { quoteIdent, quoteLiteral } from '../duckdb/sql.js';
import { DATA_DIR_NAME, EXTRACT_FILE, type MetaRow, type RemoteAttachRow } from '../extract/contract.js';
import { type ExtractContents, readAttachedExtract } from '../extract/read.js';
import { type AttachRemote, ExtensionUnavailableError } from '../extract/remote-attach.js';
import { checkMetaValues, checkRemoteAttach, checkTableName } from '../extract/rules.js';
import { inspectLocalView, inspectRemoteView, parseViews } from '../extract/view-files.js';
import { tableIdOf } from '../ids.js';
import { collectTableFiles, type HashCache } from './file-records.js';
import {
  byteOrder,
  type Collision,
  emptySourceReport,
  failedSource,
  type RemoteAttachOutcome,
  type SkipReason,
  type SourceReport,
  sourceStatus,
} from './report.js';
import { sanitizeDetail } from './sanitize.js';
import type { RemoteAttachRecord, ViewMapRow } from './view-map.js';

/** State shared by all sources of one build session. */
export interface BuildSession {
  /** The connection of the file being built. */
  conn: DuckDBConnection;
  /**
   * A separate in-memory connection where each extract is read and then detached again, so
   * reading one source's metadata never has to enumerate the views of all the others.
   */
  inspect: DuckDBConnection;
  /** Absolute DATA_DIR. */
  dataDir: string;
  remoteExtensions: ReadonlySet<string>;
  installExtensions: boolean;
  attachRemote: AttachRemote;
  env: Record<string, string | undefined>;
  /** Lower-case view name → owning source, for every view already in the build. */
  published: Map<string, { source: string; view: string }>;
  /** Remote aliases known in this build (attached here, or recorded by the previous generation). */
  aliases: Map<string, RemoteAttachRecord & { attached: boolean }>;
  /** Every valid source name in `extracts/`: a remote alias may not shadow one. */
  sourceNames: ReadonlySet<string>;
  cache: HashCache;
  /** Previously published state by table id: column stats of a table whose hash is unchanged are reused. */
  previous: ReadonlyMap<
    string,
    { source: string; hash: string | null; columns: number | null; uncompressed_size_bytes: number | null }
  >;
}

export interface PublishedTable {
  row: ViewMapRow;
  meta: MetaRow;
  columns: number | null;
  uncompressedBytes: number | null;
}

export interface SourceOutcome {
  source: string;
  report: SourceReport;
  published: PublishedTable[];
  collisions: Collision[];
  /** Valid table ids declared in `_meta` (published or skipped), for `removed` detection. */
  declared: Set<string>;
  remoteAttach: RemoteAttachRecord[];
  /** A clash with a view of a source sorting after this one: only a full rebuild resolves it. */
  needsFullRebuild: boolean;
  durationMs: number;
}

/** A source that published nothing this run, with the report saying why. */
export function failedOutcome(source: string, report: SourceReport): SourceOutcome {
  return {
    source,
    report,
    published: [],
    collisions: [],
    declared: new Set(),
    remoteAttach: [],
    needsFullRebuild: false,
    durationMs: 0,
  };
}

class SourceRun {
  readonly report = emptySourceReport();
  readonly published: PublishedTable[] = [];
  readonly collisions: Collision[] = [];
  readonly declared = new Set<string>();
  readonly remoteAttach: RemoteAttachRecord[] = [];
  needsFullRebuild = false;

  constructor(readonly source: string) {}

  skip(table: string, reason: SkipReason, detail: string): void {
    this.report.skipped_tables.push({ table, reason, detail });
  }
}

/**
 * Publishes one source into the build session (02 §2.2 rebuild() — full rebuild step 4). Nothing here throws for a bad
 * extract: every problem becomes a recorded reason and other sources are unaffected.
 */
export async function buildSource(
  session: BuildSession,
  source: string,
  prefetched?: Promise<Inspection>,
): Promise<SourceOutcome> {
  const started = performance.now();
  const run = new SourceRun(source);
  const finish = (report: SourceReport = run.report): SourceOutcome => ({
    source,
    report: { ...report, status: sourceStatus(report) },
    published: run.published,
    collisions: run.collisions,
    declared: run.declared,
    remoteAttach: run.remoteAttach,
    needsFullRebuild: run.needsFullRebuild,
    durationMs: Math.round(performance.now() - started),
  });
  const extractPath = join(session.dataDir, 'extracts', source, EXTRACT_FILE);
  const inspection = await (prefetched ?? inspectExtract(session.inspect, session.dataDir, source));
  if (!inspection.ok) return finish(failedSource(inspection.reason));
  try {
    await session.conn.run(`ATTACH ${quoteLiteral(extractPath)} AS ${quoteIdent(source)} (READ_ONLY)`);
  } catch {
    return finish(failedSource('attach_failed'));
  }
  try {
    const declaredAliases = await attachRemotes(session, run, inspection.contents.remoteAttach);
    await publishTables(session, run, inspection.contents, inspection.parsed, declaredAliases);
    return finish();
  } catch (error) {
    await dropPublished(session, run);
    const report = failedSource('attach_failed');
    report.skipped_tables.push({ table: '*', reason: 'attach_failed', detail: sanitizeDetail(error) });
    return finish(report);
  }
}

export type Inspection =
  | { ok: true; contents: ExtractContents; parsed: Map<string, ParseNode[] | null> }
  | { ok: false; reason: 'attach_failed' | 'invalid_meta' };

/**
 * Reads one extract's contract tables and parses its views on the inspection connection. Callers
 * may start the next source's inspection while the current one is published: the two use
 * different DuckDB instances, so they overlap on separate threads.
 */
export async function inspectExtract(
  conn: DuckDBConnection,
  dataDir: string,
  source: string,
): Promise<Inspection> {
  const extractPath = join(dataDir, 'extracts', source, EXTRACT_FILE);
  const alias = quoteIdent(source);
  try {
    await conn.run(`ATTACH ${quoteLiteral(extractPath)} AS ${alias} (READ_ONLY)`);
  } catch {
    return { ok: false, reason: 'attach_failed' };
  }
  try {
    const contents = await readAttachedExtract(conn, source);
    if (contents.metaProblem) return { ok: false, reason: 'invalid_meta' };
    const names = [...contents.views.keys()];
    const parsedList = await parseViews(
      conn,
      names.map((n) => contents.views.get(n)!),
    );
    return { ok: true, contents, parsed: new Map(names.map((n, i) => [n, parsedList[i] ?? null])) };
  } catch {
    return { ok: false, reason: 'attach_failed' };
  } finally {
    await conn.run(`DETACH ${alias}`).catch(() => undefined);
  }
}

async function dropPublished(session: BuildSession, run: SourceRun): Promise<void> {
  for (const table of run.published) {
    await session.conn
      .run(`DROP VIEW IF EXISTS main.${quoteIdent(table.row.view_name)}`)
      .catch(() => undefined);
    session.published.delete(table.row.table_id);
  }
  run.published.length = 0;
}

async function attachRemotes(
  session: BuildSession,
  run: SourceRun,
  rows: readonly RemoteAttachRow[],
): Promise<Map<string, string>> {
  const declared = new Map<string, string>();
  for (const row of rows) {
    const outcome: RemoteAttachOutcome = {
      alias: String(row.alias),
      extension: String(row.extension),
      status: 'attached',
    };
    run.report.remote_attach.push(outcome);
    const problem = checkRemoteAttach(row);
    if (problem) {
      outcome.status = 'attach_failed';
      continue;
    }
    declared.set(row.alias, row.extension);
    if (row.extension !== 'duckdb' && !session.remoteExtensions.has(row.extension)) {
      outcome.status = 'extension_not_allowed';
      continue;
    }
    const token = row.token_env ? session.env[row.token_env] : undefined;
    if (row.token_env && !token) {
      outcome.status = 'token_missing';
      continue;
    }
    const existing = session.aliases.get(row.alias);
    if (existing && (existing.extension !== row.extension || existing.url !== row.url)) {
      outcome.status = 'alias_conflict';
      continue;
    }
    if (session.sourceNames.has(row.alias.toLowerCase())) {
      outcome.status = 'alias_conflict';
      continue;
    }
    const record = {
      source: run.source,
      alias: row.alias,
      extension: row.extension,
      url: row.url,
      token_env: row.token_env ?? '',
    };
    if (!existing?.attached) {
      try {
        await session.attachRemote(
          session.conn,
          { alias: row.alias, extension: row.extension, url: row.url, token: token ?? null },
          {
            installExtensions: session.installExtensions,
          },
        );
      } catch (error) {
        outcome.status =
          error instanceof ExtensionUnavailableError ? 'extension_unavailable' : 'attach_failed';
        continue;
      }
      session.aliases.set(row.alias, { ...record, attached: true });
    }
    run.remoteAttach.push(record);
  }
  return declared;
}

async function publishTables(
  session: BuildSession,
  run: SourceRun,
  contents: ExtractContents,
  parsed: Map<string, ParseNode[] | null>,
  declaredAliases: Map<string, string>,
): Promise<void> {
  const relDataDir = `extracts/${run.source}/${DATA_DIR_NAME}`;
  const absDataDir = join(session.dataDir, relDataDir);
  const seen = new Set<string>();

  for (const meta of [...contents.meta].sort((a, b) => byteOrder(a.table_name, b.table_name))) {
    const name = meta.table_name;
    const problem = checkTableName(name) ?? checkMetaValues(meta);
    if (problem) {
      run.skip(name, 'invalid_table_name', problem);
      continue;
    }
    const tableId = tableIdOf(name);
    if (seen.has(tableId)) {
      run.skip(name, 'invalid_table_name', 'table name is not unique (case-insensitively)');
      continue;
    }
    seen.add(tableId);
    run.declared.add(tableId);
    const owner = session.published.get(tableId);
    if (owner) {
      if (byteOrder(owner.source, run.source) > 0) run.needsFullRebuild = true;
      run.collisions.push({ table: tableId, kept: owner.source, dropped: run.source });
      run.skip(name, 'name_collision', `a view named ${tableId} is published by source ${owner.source}`);
      continue;
    }
    if (!contents.views.has(name)) {
      const detail = contents.baseTables.includes(name)
        ? 'published tables must be views, not base tables'
        : 'no view of that name';
      run.skip(name, 'bind_failed', detail);
      continue;
    }
    const statements = parsed.get(name) ?? null;
    let files: string[] = [];
    let remoteAlias: string | null = null;
    if (meta.query_mode === 'remote') {
      const inspection = inspectRemoteView(statements, declaredAliases);
      if (!inspection.ok) {
        run.skip(name, 'bind_failed', inspection.problem);
        continue;
      }
      const aliases = inspection.kind === 'remote' ? inspection.aliases : [];
      // Only aliases this source attached or reused itself: another source's catalog (attached with its
      // own credential) must not serve a source whose own attach failed, e.g. token_missing.
      if (aliases.some((alias) => !run.remoteAttach.some((record) => record.alias === alias))) {
        run.skip(name, 'remote_unavailable', 'its remote catalog is not attached');
        continue;
      }
      remoteAlias = aliases[0] ?? null;
    } else {
      const inspection = await inspectLocalView(statements, absDataDir);
      if (!inspection.ok) {
        run.skip(name, 'file_mismatch', inspection.problem);
        continue;
      }
      files = inspection.kind === 'local' ? inspection.files : [];
    }
    try {
      await session.conn.run(
        `CREATE VIEW main.${quoteIdent(name)} AS SELECT * FROM ${quoteIdent(run.source)}.main.${quoteIdent(name)}`,
      );
    } catch (error) {
      run.skip(name, 'bind_failed', sanitizeDetail(error, secretsOf(session)));
      continue;
    }
    const row: ViewMapRow = {
      view_name: name,
      table_id: tableId,
      source: run.source,
      query_mode: meta.query_mode === 'remote' ? 'remote' : 'local',
      layout: 'remote',
      files: [],
      data_dir: null,
      remote_alias: remoteAlias,
      rows: meta.rows,
      size_bytes: meta.query_mode === 'remote' ? 0 : meta.size_bytes,
      extracted_at: meta.extracted_at,
      hash: null,
      description: meta.description,
    };
    if (meta.query_mode !== 'remote') {
      const outcome = await collectTableFiles({
        relDataDir,
        absDataDir,
        table: name,
        filesRows: contents.hasFiles && !contents.filesProblem ? contents.files : null,
        viewFiles: files,
        cache: session.cache,
      });
      if (!outcome.ok) {
        await session.conn.run(`DROP VIEW main.${quoteIdent(name)}`);
        run.skip(name, 'file_mismatch', outcome.detail);
        continue;
      }
      Object.assign(row, {
        layout: outcome.value.layout,
        files: outcome.value.files,
        data_dir: outcome.value.shardDir,
        size_bytes: outcome.value.size,
        hash: outcome.value.hash,
      });
    }
    session.published.set(tableId, { source: run.source, view: name });
    run.published.push({ row, meta, columns: null, uncompressedBytes: null });
    (row.query_mode === 'remote' ? run.report.remote_tables : run.report.tables).push(name);
  }
  run.report.tables.sort(byteOrder);
  run.report.remote_tables.sort(byteOrder);
  await addColumnStats(session, run);
}

function secretsOf(session: BuildSession): string[] {
  return [...session.aliases.values()]
    .map((a) => (a.token_env ? session.env[a.token_env] : undefined))
    .filter((v): v is string => Boolean(v));
}

/**
 * Column counts and uncompressed sizes. Tables whose content hash is unchanged reuse the recorded
 * values; the others are described one by one and their Parquet footers read in one query, so a
 * rebuild's cost never grows with the views other sources already have in the build.
 */
async function addColumnStats(session: BuildSession, run: SourceRun): Promise<void> {
  const fresh: PublishedTable[] = [];
  for (const table of run.published) {
    const previous = session.previous.get(table.row.table_id);
    if (
      previous &&
      previous.source === run.source &&
      previous.hash !== null &&
      previous.hash === table.row.hash
    ) {
      table.columns = previous.columns;
      table.uncompressedBytes = previous.uncompressed_size_bytes;
    } else {
      fresh.push(table);
    }
  }
  for (const table of fresh) {
    const columns = await queryRows(session.conn, `DESCRIBE main.${quoteIdent(table.row.view_name)}`).catch(
      () => null,
    );
    table.columns = columns ? columns.length : null;
  }
  const localFiles = fresh.flatMap((p) => p.row.files.map((f) => join(session.dataDir, f.path)));
  if (localFiles.length === 0) return;
  const rows = await queryRows<{ file_name: string; bytes: bigint }>(
    session.conn,
    `SELECT file_name, sum(total_uncompressed_size) AS bytes FROM parquet_metadata([${localFiles.map(quoteLiteral).join(', ')}]) GROUP BY file_name`,
  ).catch(() => []);
  const sizes = new Map(rows.map((r) => [r.file_name, toNumber(r.bytes) ?? 0]));
  for (const table of fresh) {
    if (table.row.query_mode !== 'local') continue;
    table.uncompressedBytes = table.row.files.reduce(
      (sum, f) => sum + (sizes.get(join(session.dataDir, f.path)) ?? 0),
      0,
    );
  }
}

export async function extractExists(dataDir: string, source: string): Promise<boolean> {
  return Boolean((await stat(join(dataDir, 'extracts', source, EXTRACT_FILE)).catch(() => null))?.isFile());
}
