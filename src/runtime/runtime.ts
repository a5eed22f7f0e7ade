import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { openMetadataEnricher } from '../connectors/openmetadata/index.js';
import type { CatalogEnricher } from '../core/catalog/enrichment.js';
import type { InstanceConfig, JwtSecrets } from '../core/config/index.js';
import { connectorSection, type SourceDefinition } from '../core/config/sources.js';
import type { ConnectorRegistry } from '../core/extract/connector.js';
import type { PushSource } from '../core/extract/push.js';
import type { AttachRemote } from '../core/extract/remote-attach.js';
import type { ExtractorCommand } from '../core/jobs/extract-child.js';
import { ProfileQueue } from '../core/jobs/profile-queue.js';
import { JobRunner } from '../core/jobs/runner.js';
import { ClusterFlight } from '../core/orchestrator/cluster-flight.js';
import { SyncOrchestrator } from '../core/orchestrator/orchestrator.js';
import { orchestratorStateStore } from '../core/orchestrator/state-store.js';
import { PACKAGE_VERSION } from '../core/package-info.js';
import { PublishedColumns } from '../core/policies/columns.js';
import type { PolicyEnforcement } from '../core/policies/enforce.js';
import { type PolicySalt, resolvePolicySalt } from '../core/policies/salt.js';
import { QueryEngine } from '../core/query/engine.js';
import { newReplicaIdentity, type ReplicaIdentity } from '../core/replica/identity.js';
import { makeTempDir } from '../core/replica/temp-dirs.js';
import { ScriptRunner } from '../core/scripts/runner.js';
import { whileHolding } from '../core/state/advisory-lock.js';
import { openStateDb, postgresStore, type StateDb, stateDialect } from '../core/state/db.js';
import { migrateToLatest } from '../core/state/migrate.js';
import { createRepositories, type Repositories } from '../core/state/repositories/index.js';
import { type Clock, systemClock } from '../core/time.js';
import { ledByOneReplica } from './leadership.js';
import { createPolicyEnforcement } from './policies.js';
import { replicaHeartbeat } from './replica-heartbeat.js';
import { type Service, ServiceList } from './services.js';

/**
 * The one running instance: configuration, state store, connectors, engines and services. The
 * server, the operator commands and any later front end (MCP, a worker process) use the same
 * object; `agnes serve` hands it to Fastify, whose hooks start and stop it.
 */
export interface Runtime {
  config: InstanceConfig;
  dataDir: string;
  version: string;
  secrets: JwtSecrets;
  env: NodeJS.ProcessEnv;
  /** The instance's clock: what the state store stamps and the scheduler judges due by. */
  clock: Clock;
  /** This process among the replicas sharing the state store (13 §3). */
  replica: ReplicaIdentity;
  /**
   * `DATA_DIR/tmp/<instance_id>` (0700): every temp file of this process (uploads in flight, query
   * and slice spill, script scratch), so replicas sharing DATA_DIR never touch each other's.
   */
  tempDir: string;
  db: StateDb;
  repos: Repositories;
  connectors: ConnectorRegistry;
  sources: readonly SourceDefinition[];
  orchestrator: SyncOrchestrator;
  jobs: JobRunner;
  /** The one query engine (05): guard, sandboxes and limits for every caller-provided SQL. */
  query: QueryEngine;
  /** Row policies on every read path (12 §3): effective views, slices, the salt. */
  policies: PolicyEnforcement;
  /** Admin scripts in their sandbox (08 §6); bwrap is probed when the services start. */
  scripts: ScriptRunner;
  /** OpenMetadata enrichment of the catalog (07 §6), or null when it is not configured. */
  catalogEnricher: CatalogEnricher | null;
  /** The salt of `hash` masks and its version (12 §6): never in a response, log or export. */
  policySalt: PolicySalt;
  /** The current columns of published tables, which policies are checked and bound against (12 §2). */
  policyColumns: PublishedColumns;
  /** The in-app part of each push connector, by connector type (Jira's webhook intake and worker). */
  push: ReadonlyMap<string, PushSource>;
  services: ServiceList;
  log: Logger;
  /** Starts the services in order (the job runner picks up queued jobs). */
  start(): Promise<void>;
  /** Stops the services in reverse order; the state store stays open for requests still in flight. */
  stop(): Promise<void>;
  /** `stop()`, then closes the state store. Idempotent. */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  config: InstanceConfig;
  dataDir: string;
  secrets: JwtSecrets;
  connectors: ConnectorRegistry;
  sources: readonly SourceDefinition[];
  extractor: ExtractorCommand;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** The system clock unless a test drives time by hand. */
  clock?: Clock;
  /** Services after the built-in ones, given the runtime they serve (started last, stopped first). */
  services?: (runtime: Runtime) => readonly Service[];
  /**
   * The remote-catalog seam (07 §0) for the orchestrator and the query sandboxes; the real
   * extensions unless a test attaches a DuckDB file in their place.
   */
  attachRemote?: AttachRemote;
}

/** Opens the state store (migrating it under Kysely's lock), the orchestrator, engines and services. */
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config, dataDir, log } = options;
  const env = options.env ?? process.env;
  // Before anything is opened: a salt refused is a startup error with nothing to clean up.
  const policySalt = resolvePolicySalt(env, dataDir);
  const store = postgresStore(config.state, env.DATABASE_URL);
  const db = openStateDb(dataDir, store);
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const clock = options.clock ?? systemClock;
  const replica = newReplicaIdentity(clock);
  const repos = createRepositories(db, clock);
  let tempDir: string;
  try {
    tempDir = await makeTempDir(dataDir, replica.instance_id);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const remoteExtensions = config.analytics.remote_extensions;
  const orchestrator = new SyncOrchestrator({
    dataDir,
    state: orchestratorStateStore(db),
    remoteExtensions,
    installExtensions: config.analytics.install_extensions,
    env,
    ...(options.attachRemote ? { attachRemote: options.attachRemote } : {}),
    ...(store
      ? {
          clusterFlight: (run) =>
            new ClusterFlight(
              {
                queue: repos.rebuildRequests,
                exclusive: (work) => whileHolding(db, 'agnes:rebuild', work),
                instanceId: replica.instance_id,
              },
              run,
            ),
        }
      : {}),
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
    claims: {
      instanceId: replica.instance_id,
      exclusive: stateDialect(db) === 'sqlite',
      heartbeatMs: config.jobs.heartbeat_seconds * 1000,
    },
  });
  let query: QueryEngine;
  try {
    query = await QueryEngine.open({
      dataDir,
      tempDir,
      analyticsPath: orchestrator.analyticsPath,
      settings: config.query,
      remoteExtensions,
      installExtensions: config.analytics.install_extensions,
      env,
      log,
      ...(options.attachRemote ? { attachRemote: options.attachRemote } : {}),
    });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const scripts = new ScriptRunner({ settings: config.scripts, dataDir, tempDir, log });
  const policyColumns = new PublishedColumns({
    dataDir,
    analyticsPath: orchestrator.analyticsPath,
    profiles: repos.profiles,
  });
  const policies = createPolicyEnforcement({
    dataDir,
    tempDir,
    repos,
    config,
    query,
    columns: policyColumns,
    salt: policySalt,
    threads: config.query.threads,
    log,
    ...(store ? { clusterLock: (name, work) => whileHolding(db, name, work) } : {}),
  });
  // Stopped in reverse: running jobs are interrupted first, then queries, so that neither waits
  // on the other; the state store outlives them all.
  const services = new ServiceList(log, [
    // First, so it stops last: the replica is alive while anything of it still runs.
    replicaHeartbeat(repos.replicas, replica, config.jobs.heartbeat_seconds * 1000, log),
    { name: 'query-engine', start: async () => undefined, stop: () => query.close() },
    { name: 'job-runner', start: () => jobs.start(), stop: () => jobs.shutdown() },
    {
      name: 'scripts',
      start: async () => {
        if (config.scripts.enabled) await scripts.probe();
      },
      stop: () => scripts.stop(),
    },
  ]);
  const push = openPushSources(options, {
    dataDir,
    env,
    repos,
    orchestrator,
    jobs,
    services,
    replicated: store !== undefined,
  });
  let closing: Promise<void> | null = null;
  const runtime: Runtime = {
    config,
    dataDir,
    version: PACKAGE_VERSION,
    secrets: options.secrets,
    env,
    clock,
    replica,
    tempDir,
    db,
    repos,
    connectors: options.connectors,
    sources: options.sources,
    orchestrator,
    jobs,
    query,
    policies,
    scripts,
    catalogEnricher: openMetadataEnricher(config.openmetadata, log),
    policySalt,
    policyColumns,
    push,
    services,
    log,
    start: () => services.start(),
    stop: () => services.stop(),
    close() {
      closing ??= (async () => {
        await services.stop();
        // After the server has closed, when no request can still be writing there.
        await rm(tempDir, { recursive: true, force: true });
        await db.destroy();
      })();
      return closing;
    },
  };
  for (const service of options.services?.(runtime) ?? []) services.add(service);
  return runtime;
}

/** How often the one push worker of several replicas looks for events the others accepted. */
const INBOX_POLL_MS = 1000;

/** A push source's tables are profiled at most this often while events keep arriving. */
const PUSH_PROFILE_INTERVAL_MS = 60_000;

/**
 * Opens every push connector's in-app part: its job kinds go to the job runner, its service
 * starts after the runner (on one replica at a time), and what it publishes is profiled off its
 * own path.
 */
function openPushSources(
  options: RuntimeOptions,
  parts: {
    dataDir: string;
    env: NodeJS.ProcessEnv;
    repos: Repositories;
    orchestrator: SyncOrchestrator;
    jobs: JobRunner;
    services: ServiceList;
    /** Whether replicas may share the store (PostgreSQL): other processes then accept webhooks too. */
    replicated: boolean;
  },
): Map<string, PushSource> {
  const push = new Map<string, PushSource>();
  const connectors = options.connectors.all.filter((c) => c.openPush);
  if (connectors.length === 0) return push;
  const { config, log } = options;
  const profiles = new Map<string, ProfileQueue>();
  const publish = async (source: string) => {
    const report = await parts.orchestrator.rebuildSource(source);
    const published = report.sources[source];
    let queue = profiles.get(source);
    if (!queue) {
      queue = new ProfileQueue(
        { repos: parts.repos, dataDir: parts.dataDir, options: config.profiler, log },
        source,
        PUSH_PROFILE_INTERVAL_MS,
      );
      profiles.set(source, queue);
    }
    queue.request([...(published?.tables ?? [])].map((t) => t.toLowerCase()));
  };
  // Added before the push services, so it stops after them and sees their last publication.
  parts.services.add({
    name: 'push-profiles',
    start: async () => undefined,
    stop: async () => {
      await Promise.all([...profiles.values()].map((queue) => queue.stop()));
    },
  });
  for (const connector of connectors) {
    const opened = connector.openPush!({
      section: connector.config ? connectorSection(config, connector.config) : undefined,
      dataDir: parts.dataDir,
      env: parts.env,
      log,
      repos: parts.repos,
      publish,
      ...(parts.replicated ? { inboxPollMs: INBOX_POLL_MS } : {}),
    });
    for (const [kind, run] of opened.tasks) parts.jobs.addTask(kind, run);
    parts.services.add(ledByOneReplica({ config, env: parts.env, log }, opened.service));
    push.set(connector.type, opened);
  }
  return push;
}
