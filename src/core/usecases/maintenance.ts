import type { MaintenanceReport } from '../../contract/index.js';
import type { InstanceConfig } from '../config/index.js';
import { errorMessage } from '../errors.js';
import type { PushSource } from '../extract/push.js';
import { pruneSlices, unusedCutoff } from '../policies/slice-gc.js';
import type { ReplicaIdentity } from '../replica/identity.js';
import { pruneTempDirs } from '../replica/temp-dirs.js';
import type { Repositories } from '../state/repositories/index.js';
import type { Clock } from '../time.js';

export interface MaintenanceDeps {
  repos: Repositories;
  config: Pick<InstanceConfig, 'limits' | 'sync' | 'notifications' | 'policies' | 'jobs'>;
  push: ReadonlyMap<string, PushSource>;
  /** Where policy slices (`DATA_DIR/slices`) and the replicas' temp directories (`DATA_DIR/tmp`) live. */
  dataDir: string;
  /** The replica running maintenance: its own temp directory is never pruned. */
  replica: Pick<ReplicaIdentity, 'instance_id'>;
  clock: Clock;
}

/** A dead replica's temp directory and row, and loose temp entries, go once unchanged this long (13 §3). */
const TEMP_MAX_AGE_MS = 24 * 3600_000;

/** The audit action of a maintenance run; its newest entry is the job's `last_run_at` for the scheduler. */
export const MAINTENANCE_ACTION = 'maintenance.run';

/**
 * One maintenance pass (03 §12, daily by default through the scheduler): every store drops what
 * is past its retention period, reviewed knowledge past its review date expires (08 §4.2), and
 * stale or unused policy slices are deleted (12 §3); ended rate-limit windows, dead replicas' temp
 * directories and rows go (13 §3).
 * The run is audited whether it succeeds or not, so the scheduler sees when it last ran.
 */
export async function runMaintenance(
  deps: MaintenanceDeps,
  requestedBy: string | null,
): Promise<MaintenanceReport> {
  const { repos, config } = deps;
  const started = Date.now();
  try {
    // Before this run is recorded: with `slice_ttl_days: 0` the previous run is the cutoff.
    const cutoff = unusedCutoff(
      deps.clock.now(),
      config.policies.slice_ttl_days,
      await lastMaintenanceAt(repos),
    );
    const tokens = await repos.tokens.pruneExpired();
    let jiraEvents = 0;
    let jiraIssues = 0;
    for (const source of deps.push.values()) {
      const pruned = await source.prune();
      jiraEvents += pruned.events;
      jiraIssues += pruned.issues;
    }
    const report: MaintenanceReport = {
      pruned: {
        audit_log: await repos.audit.pruneOlderThan(config.limits.audit_retention_days),
        sync_history: await repos.syncState.pruneHistory(config.sync.history_retention_days),
        notifications: await repos.notifications.pruneOlderThan(config.notifications.retention_days),
        revoked_tokens: tokens.revoked_tokens,
        magic_link_tokens: tokens.magic_link_tokens,
        pending_codes: await repos.telegram.pruneCodes(),
        jira_events: jiraEvents,
        jira_deleted_issues: jiraIssues,
        policy_slices: await pruneSlices(deps, cutoff),
        rate_limit_counters: await repos.rateLimits.pruneEnded(),
        temp_dirs: await pruneReplicaTemp(deps),
        replicas: await repos.replicas.pruneSilent(TEMP_MAX_AGE_MS),
      },
      memory_expired: await repos.knowledge.expireDue(),
    };
    await record(repos, requestedBy, started, 'ok', report);
    return report;
  } catch (error) {
    await record(repos, requestedBy, started, 'error', { error: errorMessage(error).slice(0, 200) });
    throw error;
  }
}

/**
 * The temp directories of replicas without a heartbeat in 3 × `jobs.heartbeat_seconds` (the rule
 * that also judges their jobs interrupted), and older loose entries, unchanged for 24 h.
 */
async function pruneReplicaTemp(deps: MaintenanceDeps): Promise<number> {
  const live = await deps.repos.replicas.live(3 * deps.config.jobs.heartbeat_seconds * 1000);
  return pruneTempDirs({
    dataDir: deps.dataDir,
    live: new Set([deps.replica.instance_id, ...live.map((r) => r.instance_id)]),
    now: deps.clock.now(),
    maxAgeMs: TEMP_MAX_AGE_MS,
  });
}

function record(
  repos: Repositories,
  userId: string | null,
  started: number,
  result: 'ok' | 'error',
  params: object,
): Promise<unknown> {
  return repos.audit.append({
    user_id: userId,
    action: MAINTENANCE_ACTION,
    result,
    params: { ...params },
    duration_ms: Date.now() - started,
  });
}

/** When maintenance last ran, from its audit trail (which it outlives: it runs daily, audit is kept a year). */
export async function lastMaintenanceAt(repos: Repositories): Promise<string | null> {
  const newest = await repos.audit.list({ action: MAINTENANCE_ACTION }, { page: 1, per_page: 1 });
  return newest.items[0]?.timestamp ?? null;
}
