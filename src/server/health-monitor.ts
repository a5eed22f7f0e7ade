import { statfs } from 'node:fs/promises';
import { errorMessage } from '../core/errors.js';
import type { ReplicaIdentity } from '../core/replica/identity.js';
import { type StateDialect, stateDialect } from '../core/state/db.js';
import type { Runtime } from '../runtime/runtime.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface HealthSnapshot {
  status: HealthStatus;
  state_db: { status: HealthStatus; detail?: string };
  analytics: {
    status: HealthStatus;
    generation: number | null;
    built_at: string | null;
    views: number;
    failed_sources: string[];
  };
  data: { status: HealthStatus; tables: number; total_rows: number; stale_tables: string[] };
  disk: { status: HealthStatus; free_bytes: number };
}

const CACHE_MS = 5_000;
const MIN_FREE_FRACTION = 0.05;

const worst = (...statuses: HealthStatus[]): HealthStatus =>
  statuses.includes('unhealthy') ? 'unhealthy' : statuses.includes('degraded') ? 'degraded' : 'healthy';

/**
 * Health of the instance (03 §3), computed at most every few seconds and shared by all callers, so
 * a busy health endpoint never opens DuckDB or scans the state store per request.
 */
export class HealthMonitor {
  readonly #ctx: Runtime;
  #cached: { at: number; snapshot: Promise<HealthSnapshot> } | null = null;

  constructor(ctx: Runtime) {
    this.#ctx = ctx;
  }

  /** Which database holds the state; fixed for the life of the process. */
  stateStore(): { dialect: StateDialect } {
    return { dialect: stateDialect(this.#ctx.db) };
  }

  /** This process among the replicas (13 §3); fixed for the life of the process. */
  replica(): ReplicaIdentity {
    return this.#ctx.replica;
  }

  /**
   * The replicas alive now: a heartbeat within 3 × `jobs.heartbeat_seconds`, the rule that also
   * judges a replica's jobs interrupted. A process whose services are not running is not listed.
   */
  liveReplicas(): Promise<(ReplicaIdentity & { heartbeat_at: string })[]> {
    return this.#ctx.repos.replicas.live(3 * this.#ctx.config.jobs.heartbeat_seconds * 1000);
  }

  snapshot(): Promise<HealthSnapshot> {
    const now = Date.now();
    if (!this.#cached || now - this.#cached.at > CACHE_MS) {
      this.#cached = { at: now, snapshot: this.#compute() };
    }
    return this.#cached.snapshot;
  }

  async #compute(): Promise<HealthSnapshot> {
    const [stateDb, analytics, disk] = await Promise.all([this.#stateDb(), this.#analytics(), this.#disk()]);
    const data = await this.#data(stateDb.status === 'unhealthy');
    return {
      status: worst(stateDb.status, analytics.status, data.status, disk.status),
      state_db: stateDb,
      analytics,
      data,
      disk,
    };
  }

  async #stateDb(): Promise<HealthSnapshot['state_db']> {
    try {
      await this.#ctx.db.selectFrom('schema_version').select('version').executeTakeFirst();
      return { status: 'healthy' };
    } catch (error) {
      this.#ctx.log.error({ err: errorMessage(error) }, 'health: state store unusable');
      return { status: 'unhealthy', detail: 'state store unusable' };
    }
  }

  async #analytics(): Promise<HealthSnapshot['analytics']> {
    const published = await this.#ctx.orchestrator.published().catch(() => null);
    if (!published)
      return { status: 'unhealthy', generation: null, built_at: null, views: 0, failed_sources: [] };
    const failed = Object.entries(published.build.report?.sources ?? {})
      .filter(([, source]) => source.status === 'failed' || source.status === 'partial')
      .map(([name]) => name);
    return {
      status: failed.length > 0 ? 'degraded' : 'healthy',
      generation: published.build.generation,
      built_at: published.build.built_at,
      views: published.views,
      failed_sources: failed,
    };
  }

  async #data(stateUnusable: boolean): Promise<HealthSnapshot['data']> {
    if (stateUnusable) return { status: 'unhealthy', tables: 0, total_rows: 0, stale_tables: [] };
    const states = (await this.#ctx.repos.syncState.listStates()).filter((s) => s.status === 'ok');
    const cutoff = Date.now() - this.#ctx.config.sync.stale_after_hours * 3_600_000;
    const stale = states.filter(
      (s) => s.query_mode === 'local' && s.extracted_at && Date.parse(s.extracted_at) < cutoff,
    );
    return {
      status: stale.length > 0 ? 'degraded' : 'healthy',
      tables: states.length,
      total_rows: states.reduce((sum, s) => sum + (s.rows ?? 0), 0),
      stale_tables: stale.map((s) => s.table_id),
    };
  }

  async #disk(): Promise<HealthSnapshot['disk']> {
    try {
      const stats = await statfs(this.#ctx.dataDir);
      const free = stats.bavail * stats.bsize;
      const total = stats.blocks * stats.bsize;
      return {
        status: total > 0 && free / total < MIN_FREE_FRACTION ? 'degraded' : 'healthy',
        free_bytes: free,
      };
    } catch {
      return { status: 'degraded', free_bytes: 0 };
    }
  }
}
