import { quoteIdent, quoteLiteral } from '../../core/duckdb/sql.js';
import type {
  ExtractContext,
  ExtractFailure,
  ExtractInput,
  ExtractResult,
  ExtractTableInput,
} from '../../core/extract/connector.js';
import type { AttachRemote } from '../../core/extract/remote-attach.js';
import { ExtractWriter } from '../../core/extract/writer.js';
import type { RetryTuning } from '../../core/http/retry.js';
import { sanitizeDetail } from '../../core/orchestrator/sanitize.js';
import type { BigQueryClient } from './client.js';
import type { BigQuerySourceConfig } from './config.js';
import { countOrNull, openClient } from './discover.js';
import { BigQueryError, untrustedText } from './errors.js';
import { isObjectName } from './names.js';

export interface BigQueryOptions {
  /** The remote-catalog seam (07 §0 common model); production loads the `bigquery` extension. */
  attachRemote?: AttachRemote;
  tuning?: Partial<RetryTuning>;
}

const REMOTE_ALIAS = 'bq';
/** The storage read path scans only stored tables; views go through the extension's query function. */
const QUERIED_TYPES = new Set(['VIEW', 'MATERIALIZED_VIEW']);

/** The view body for one BigQuery object; names are validated before they reach SQL. */
function remoteSelect(project: string, dataset: string, table: string, type: string | undefined): string {
  if (!QUERIED_TYPES.has(type ?? ''))
    return `SELECT * FROM ${REMOTE_ALIAS}.${quoteIdent(dataset)}.${quoteIdent(table)}`;
  const query = `SELECT * FROM \`${project}.${dataset}.${table}\``;
  return `SELECT * FROM bigquery_query(${quoteLiteral(REMOTE_ALIAS)}, ${quoteLiteral(query)})`;
}

/**
 * Publishes one remote view per requested BigQuery table (07 §4 BigQuery): metadata only, no
 * `data/`. The view reads through the `bigquery` extension at query time with the environment's
 * Google credentials, so `_remote_attach` carries no token. A refused key fails every table
 * without further calls; any other failure is that table's alone.
 */
export async function extractBigQuery(
  input: ExtractInput,
  context: ExtractContext,
  options: BigQueryOptions = {},
): Promise<ExtractResult> {
  const started = performance.now();
  const config = input.config as BigQuerySourceConfig;
  const writer = await ExtractWriter.open(input.extractDir);
  const failed: ExtractFailure[] = [];
  try {
    const previous = await writer.previous();
    const carryForward = (id: string) => writer.keepRemoteTable(previous, id, REMOTE_ALIAS);
    let client: BigQueryClient | null = null;
    let refused: BigQueryError | null = null;
    try {
      client = await openClient(config, options.tuning);
    } catch (error) {
      if (!(error instanceof BigQueryError)) throw error;
      refused = error;
    }
    for (const table of input.tables) {
      try {
        if (refused || !client) throw refused;
        await extractTable(client, config, writer, table);
      } catch (error) {
        const code = error instanceof BigQueryError ? error.code : 'extract_failed';
        const message = sanitizeDetail(error);
        if (error instanceof BigQueryError && (code === 'auth_failed' || code === 'credentials_required'))
          refused = error;
        context.progress(`${input.source}.${table.id}: failed (${code})`);
        failed.push({ table: table.id, code, message });
        carryForward(table.id);
      }
    }
    const requested = new Set(input.tables.map((t) => t.id));
    for (const meta of previous?.meta ?? [])
      if (!requested.has(meta.table_name)) carryForward(meta.table_name);
    const result = await writer.commit({
      env: context.env,
      ...(options.attachRemote ? { attachRemote: options.attachRemote } : {}),
    });
    failed.push(...result.failed);
    const failedNames = new Set(failed.map((f) => f.table));
    return {
      tables_extracted: result.published.filter((name) => requested.has(name) && !failedNames.has(name)),
      tables_failed: failed,
      watermarks: {},
      duration_ms: Math.round(performance.now() - started),
    };
  } finally {
    await writer.abort();
  }
}

async function extractTable(
  client: BigQueryClient,
  config: BigQuerySourceConfig,
  writer: ExtractWriter,
  table: ExtractTableInput,
): Promise<void> {
  if (table.query_mode !== 'remote')
    throw new BigQueryError('unsupported_query_mode', 'BigQuery tables are remote only (query_mode remote)');
  if (!isObjectName(table.bucket) || !isObjectName(table.source_table))
    throw new BigQueryError('not_found', 'dataset or table name is not a BigQuery id');
  const detail = await client.getTable(table.bucket, table.source_table);
  writer.addRemoteAttach({
    alias: REMOTE_ALIAS,
    extension: 'bigquery',
    url: `project=${config.project}`,
    token_env: '',
  });
  writer.addRemoteTable({
    name: table.id,
    description: detail.description ? untrustedText(detail.description) : null,
    rows: countOrNull(detail.numRows),
    extractedAt: new Date().toISOString(),
    alias: REMOTE_ALIAS,
    select: remoteSelect(config.project, table.bucket, table.source_table, detail.type),
  });
}
