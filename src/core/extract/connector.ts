import type { TSchema } from '@sinclair/typebox';
import type { SourceDefinition } from '../config/sources.js';
import type { QueryMode, SyncStrategy } from '../state/schema.js';
import type { PushDeps, PushSource } from './push.js';

/** The one interface every connector implements (07 §0 common model); built-in connectors are listed like any other. */

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
  /** The app's environment: where a connector's credentials live (never in `config`). */
  env: NodeJS.ProcessEnv;
}

/** A table a source offers, as the admin's "Discover" lists it (03 §12 administration). */
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

/** How a connector moves data (07 §0 common model): who starts a sync, and which query modes it can register. */
export interface ConnectorTraits {
  direction: 'pull' | 'push';
  queryModes: readonly QueryMode[];
}

/** A source a connector's configuration section defines, with the key that defines it. */
export interface ConfiguredSource extends SourceDefinition {
  /** Where it is configured, for messages: `data_sources.local[1]`. */
  key: string;
}

export interface ConfigCheck {
  problems: string[];
  warnings: string[];
}

/**
 * A connector's own section of `instance.yaml` under `data_sources.<key>`: its schema (validated,
 * defaulted and decoded with the rest of the file) and the sources it defines.
 */
export interface ConnectorConfig {
  key: string;
  /**
   * `root`: the section is the top-level key `<key>` instead of `data_sources.<key>`, for a
   * connector the configuration reference places there (Jira's `jira:`, 11 §2.5).
   */
  placement?: 'data_sources' | 'root';
  schema: TSchema;
  /**
   * The sources the decoded section defines; paths resolve against `cwd`. `env` tells whether a
   * credential is present (a source without one is not defined); its value stays out of `config`.
   */
  sources(section: unknown, cwd: string, env: NodeJS.ProcessEnv): ConfiguredSource[];
  /** Rules the schema cannot state (files that must exist, credentials that must be set); problems stop startup. */
  check?(section: unknown, cwd: string, env: NodeJS.ProcessEnv): ConfigCheck;
}

export interface Connector {
  readonly type: string;
  readonly traits: ConnectorTraits;
  /** Absent for connectors whose sources are not configured in `instance.yaml`. */
  readonly config?: ConnectorConfig;
  /** The DuckDB extension its remote tables attach with (07 §0 common model remote-catalog seam), if any. */
  readonly remoteExtension?: string;
  extract(input: ExtractInput, context: ExtractContext): Promise<ExtractResult>;
  /** Lists what the source offers (07 §0 common model `discover(source)`); optional for third-party connectors. */
  discover?(source: DiscoverSource): Promise<DiscoveredTable[]>;
  /** A push connector's in-app part (webhook intake, worker, its job kinds), opened once by the runtime. */
  openPush?(deps: PushDeps): PushSource;
}

/**
 * The connectors one process runs, by type: built from a list (`src/connectors/index.ts` for the
 * built-in ones, plus whatever a test or an embedding adds), never from import side effects, so
 * every part that needs connectors (configuration, discovery, the sync trigger, the extract
 * child) is given the same list.
 */
export class ConnectorRegistry {
  readonly #byType = new Map<string, Connector>();

  constructor(connectors: readonly Connector[]) {
    for (const connector of connectors) {
      if (this.#byType.has(connector.type))
        throw new Error(`connector type ${connector.type} is listed twice`);
      this.#byType.set(connector.type, connector);
    }
  }

  get all(): Connector[] {
    return [...this.#byType.values()];
  }

  get(type: string): Connector | undefined {
    return this.#byType.get(type);
  }

  /** The connector of `type`; a type nobody registered is a bug of the caller, not user input. */
  require(type: string): Connector {
    const connector = this.#byType.get(type);
    if (!connector) throw new Error(`no connector of type ${type}`);
    return connector;
  }

  has(type: string): boolean {
    return this.#byType.has(type);
  }

  /** DuckDB extensions remote tables of these connectors may load (`analytics.remote_extensions` default). */
  get remoteExtensions(): string[] {
    return this.all.flatMap((c) => (c.remoteExtension ? [c.remoteExtension] : []));
  }
}

/** Exit codes of `agnes extract --stdin-config`: all tables, some tables, nothing or a crash. */
export const EXTRACT_EXIT = { ok: 0, failed: 1, partial: 2 } as const;

export function extractExitCode(result: ExtractResult): number {
  if (result.tables_failed.length === 0) return EXTRACT_EXIT.ok;
  return result.tables_extracted.length > 0 ? EXTRACT_EXIT.partial : EXTRACT_EXIT.failed;
}
