import type { Logger as PinoLogger } from 'pino';
import type { InstanceConfig, JwtSecrets } from '../core/config/index.js';
import type { SourceDefinition } from '../core/config/sources.js';
import type { ExtractorCommand } from '../core/jobs/extract-child.js';
import { JobRunner } from '../core/jobs/runner.js';
import { SyncOrchestrator } from '../core/orchestrator/orchestrator.js';
import { orchestratorStateStore } from '../core/orchestrator/state-store.js';
import { PACKAGE_VERSION } from '../core/package-info.js';
import { QueryEngine } from '../core/query/engine.js';
import { openStateDb, type StateDb } from '../core/state/db.js';
import { migrateToLatest } from '../core/state/migrate.js';
import { createRepositories, type Repositories } from '../core/state/repositories/index.js';

/** Everything a running app holds; created once by `agnes serve` / `agnes demo`, or by tests. */
export interface AppContext {
  config: InstanceConfig;
  dataDir: string;
  version: string;
  secrets: JwtSecrets;
  db: StateDb;
  repos: Repositories;
  orchestrator: SyncOrchestrator;
  jobs: JobRunner;
  /** The one query engine (05): guard, sandboxes and limits for every caller-provided SQL. */
  query: QueryEngine;
  sources: readonly SourceDefinition[];
  log: PinoLogger;
  /** Closes what the context opened, in reverse order. Idempotent. */
  close(): Promise<void>;
}

export interface ContextOptions {
  config: InstanceConfig;
  dataDir: string;
  secrets: JwtSecrets;
  sources: readonly SourceDefinition[];
  extractor: ExtractorCommand;
  log: PinoLogger;
  env?: NodeJS.ProcessEnv;
}

/** Opens the state store (migrating it under Kysely's lock), the orchestrator and the job runner. */
export async function createAppContext(options: ContextOptions): Promise<AppContext> {
  const { config, dataDir, log } = options;
  const env = options.env ?? process.env;
  const db = openStateDb(dataDir);
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const repos = createRepositories(db);
  const orchestrator = new SyncOrchestrator({
    dataDir,
    state: orchestratorStateStore(db),
    remoteExtensions: config.analytics.remote_extensions,
    installExtensions: config.analytics.install_extensions,
    env,
  });
  const jobs = new JobRunner({
    repos,
    orchestrator,
    dataDir,
    sources: options.sources,
    extractor: options.extractor,
    extractTimeoutMs: config.sync.extract_timeout_seconds * 1000,
    env,
    profile: { repos, dataDir, options: config.profiler, log },
    log,
    parallel: config.sync.parallel_sources,
  });
  const query = await QueryEngine.open({
    dataDir,
    analyticsPath: orchestrator.analyticsPath,
    settings: config.query,
    remoteExtensions: config.analytics.remote_extensions,
    installExtensions: config.analytics.install_extensions,
    env,
    log,
  });
  let closed = false;
  return {
    config,
    dataDir,
    version: PACKAGE_VERSION,
    secrets: options.secrets,
    db,
    repos,
    orchestrator,
    jobs,
    query,
    sources: options.sources,
    log,
    async close() {
      if (closed) return;
      closed = true;
      await query.close();
      await jobs.shutdown();
      await db.destroy();
    },
  };
}
