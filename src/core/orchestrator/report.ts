/** The rebuild report (02 §2.7): the JSON result of every orchestrator run. */

export type SkipReason =
  | 'not_a_directory'
  | 'symlink'
  | 'invalid_name'
  | 'duplicate_source'
  | 'missing_extract'
  | 'attach_failed'
  | 'invalid_meta'
  | 'invalid_table_name'
  | 'bind_failed'
  | 'remote_unavailable'
  | 'file_mismatch'
  | 'name_collision'
  | 'extension_not_allowed'
  | 'extension_unavailable'
  | 'token_missing'
  | 'alias_conflict'
  | 'no_extracts';

export type SourceStatus = 'ok' | 'partial' | 'failed' | 'removed';

export interface SkippedTable {
  table: string;
  reason: SkipReason;
  detail: string;
}

export interface RemoteAttachOutcome {
  alias: string;
  extension: string;
  status: 'attached' | SkipReason;
}

export interface SourceReport {
  status: SourceStatus;
  reason: SkipReason | null;
  tables: string[];
  remote_tables: string[];
  skipped_tables: SkippedTable[];
  remote_attach: RemoteAttachOutcome[];
}

export interface Collision {
  table: string;
  kept: string;
  dropped: string;
}

export interface SkippedEntry {
  entry: string;
  reason: SkipReason;
}

export interface RebuildReport {
  generation: number;
  mode: 'full' | 'source';
  source: string | null;
  escalated_from: string | null;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  views: number;
  sources: Record<string, SourceReport>;
  collisions: Collision[];
  skipped_entries: SkippedEntry[];
}

export function emptySourceReport(): SourceReport {
  return { status: 'ok', reason: null, tables: [], remote_tables: [], skipped_tables: [], remote_attach: [] };
}

export function failedSource(reason: SkipReason): SourceReport {
  return { ...emptySourceReport(), status: 'failed', reason };
}

/** `ok` when every table published, `failed` when none did (and some were declared), else `partial`. */
export function sourceStatus(report: SourceReport): SourceStatus {
  if (report.status === 'failed' && report.reason) return 'failed';
  const published = report.tables.length + report.remote_tables.length;
  if (report.skipped_tables.length === 0) return 'ok';
  return published === 0 ? 'failed' : 'partial';
}

/** Byte-order comparison: the orchestrator's one ordering of sources, independent of locale. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
