import type { QueryMode, SyncStrategy } from '../state/schema.js';

/** The one interface every connector implements (07 §0); built-in connectors register like any other. */

export interface ExtractTableInput {
  id: string;
  source_table: string;
  bucket: string;
  sync_strategy: SyncStrategy;
  query_mode: QueryMode;
  primary_key: string[];
  partition_by: string | null;
  partition_granularity: 'day' | 'month' | 'year' | null;
  watermark: string | null;
}

/** What the app sends to an extractor child on stdin. */
export interface ExtractInput {
  source: string;
  /** Connector type (`local`, `keboola`, …). */
  type: string;
  /** Absolute `DATA_DIR/extracts/<source>`. */
  extractDir: string;
  fullRefresh: boolean;
  tables: ExtractTableInput[];
  /** The connector's own configuration section (already resolved; secrets stay in env). */
  config: unknown;
}

export interface ExtractFailure {
  table: string;
  code: string;
  message: string;
}

/** The last line an extractor child prints on stdout. */
export interface ExtractResult {
  tables_extracted: string[];
  tables_failed: ExtractFailure[];
  watermarks: Record<string, string>;
  duration_ms: number;
}

export interface ExtractContext {
  /** Progress line for humans (stderr in a child process); never data or secrets. */
  progress(line: string): void;
  env: NodeJS.ProcessEnv;
}

export interface Connector {
  readonly type: string;
  extract(input: ExtractInput, context: ExtractContext): Promise<ExtractResult>;
}

/** Exit codes of `agnes extract --stdin-config`: all tables, some tables, nothing or a crash. */
export const EXTRACT_EXIT = { ok: 0, failed: 1, partial: 2 } as const;

export function extractExitCode(result: ExtractResult): number {
  if (result.tables_failed.length === 0) return EXTRACT_EXIT.ok;
  return result.tables_extracted.length > 0 ? EXTRACT_EXIT.partial : EXTRACT_EXIT.failed;
}
