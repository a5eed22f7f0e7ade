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

/** A source as discovery sees it: its configuration and where its extract lives. */
export interface DiscoverSource {
  name: string;
  type: string;
  /** The connector's own configuration section. */
  config: unknown;
  /** Absolute `DATA_DIR/extracts/<source>`. */
  extractDir: string;
}

/** A table a source offers, as the admin's "Discover" lists it (03 §12). */
export interface DiscoveredTable {
  /** Display name; the suggested table id is derived from it. */
  name: string;
  /** Name in the source system. */
  source_table: string;
  bucket: string;
  columns: { name: string; type: string }[];
  rows: number | null;
  size_bytes: number | null;
  primary_key: string[];
  /** ISO 8601 UTC time the table last changed in the source, when known. */
  last_change: string | null;
}

/** How a connector moves data (07 §0): who starts a sync, and which query modes it can register. */
export interface ConnectorTraits {
  direction: 'pull' | 'push';
  queryModes: readonly QueryMode[];
}

export interface Connector {
  readonly type: string;
  readonly traits?: ConnectorTraits;
  extract(input: ExtractInput, context: ExtractContext): Promise<ExtractResult>;
  /** Lists what the source offers (07 §0 `discover(source)`); optional for third-party connectors. */
  discover?(source: DiscoverSource): Promise<DiscoveredTable[]>;
}

/**
 * The traits of the connector types the spec defines (07 §0), for types whose implementation is not
 * registered in this process: the registry still refuses `remote` for a local table and the sync
 * trigger still knows Jira is a push source.
 */
const SPEC_TRAITS: Readonly<Record<string, ConnectorTraits>> = {
  local: { direction: 'pull', queryModes: ['local'] },
  keboola: { direction: 'pull', queryModes: ['local', 'remote'] },
  bigquery: { direction: 'pull', queryModes: ['remote'] },
  jira: { direction: 'push', queryModes: ['local'] },
};

const DEFAULT_TRAITS: ConnectorTraits = { direction: 'pull', queryModes: ['local'] };

const registered = new Map<string, Connector>();

/**
 * The process-wide connector registry: `src/connectors` registers the built-in connectors exactly
 * as a third-party one would register itself, and the app looks connectors up here by type.
 */
export function registerConnector(connector: Connector): void {
  registered.set(connector.type, connector);
}

export function registeredConnector(type: string): Connector | undefined {
  return registered.get(type);
}

/** Whether `type` names a connector this process knows (registered, or defined by the spec). */
export function isKnownConnectorType(type: string): boolean {
  return registered.has(type) || Object.hasOwn(SPEC_TRAITS, type);
}

export function connectorTraits(type: string): ConnectorTraits {
  return registered.get(type)?.traits ?? SPEC_TRAITS[type] ?? DEFAULT_TRAITS;
}

/** Exit codes of `agnes extract --stdin-config`: all tables, some tables, nothing or a crash. */
export const EXTRACT_EXIT = { ok: 0, failed: 1, partial: 2 } as const;

export function extractExitCode(result: ExtractResult): number {
  if (result.tables_failed.length === 0) return EXTRACT_EXIT.ok;
  return result.tables_extracted.length > 0 ? EXTRACT_EXIT.partial : EXTRACT_EXIT.failed;
}
