import type { InstanceConfig } from '../core/config/index.js';
import type { PolicyEnforcement } from '../core/policies/enforce.js';
import { loadEffectiveViews } from '../core/policies/load.js';
import type { PolicySalt } from '../core/policies/salt.js';
import { SliceProfiles } from '../core/policies/slice-profiles.js';
import { PolicySlices, type PolicySlicesOptions } from '../core/policies/slices.js';
import type { TableColumn } from '../core/policies/types.js';
import { profileTable } from '../core/profiler/index.js';
import type { QueryEngine } from '../core/query/engine.js';
import type { Repositories } from '../core/state/repositories/index.js';

export interface PolicyEnforcementParts {
  dataDir: string;
  /** This replica's temp directory; slice builds spill under `slices/`. */
  tempDir: string;
  repos: Repositories;
  config: InstanceConfig;
  query: QueryEngine;
  /** The published tables' current columns, which policies are bound against. */
  columns: { columnsOf(tableId: string): Promise<TableColumn[]> };
  /** The salt of `hash` masks (12 §6), resolved at startup. */
  salt: PolicySalt;
  /** DuckDB threads of one slice build (`query.threads`). */
  threads: number;
  log: { error(detail: Record<string, unknown>, message: string): void };
  /** Set with replicas: a cluster-wide lock, so one replica builds each slice. */
  clusterLock?: PolicySlicesOptions['clusterLock'];
}

/** Row-policy enforcement of the running instance: effective views from the state store, slices on disk. */
export function createPolicyEnforcement(parts: PolicyEnforcementParts): PolicyEnforcement {
  const { dataDir, repos, query, config } = parts;
  const salt = async () => parts.salt;
  const slices = new PolicySlices({
    dataDir,
    tempDir: parts.tempDir,
    repo: repos.policySlices,
    salt,
    waitSeconds: config.policies.slice_wait_seconds,
    threads: parts.threads,
    log: parts.log,
    ...(parts.clusterLock ? { clusterLock: parts.clusterLock } : {}),
  });
  // Only the rows' figures: the catalog adds the table's description, strategy and key from its
  // stored profile, so one cached profile serves every reader with that slice key.
  const profiles = new SliceProfiles(
    (slice) =>
      profileTable(
        {
          tableId: slice.tableId,
          files: [slice.path],
          description: '',
          syncStrategy: '',
          primaryKey: [],
          extractedAt: null,
          sourceHash: slice.sha256,
          sizeBytes: slice.size_bytes,
        },
        config.profiler,
      ),
    config.policies.slice_wait_seconds,
  );
  return {
    profiles,
    effectiveViews: (principal, tableIds) =>
      loadEffectiveViews(
        { repos, config, parser: query.parser, columnsOf: (tableId) => parts.columns.columnsOf(tableId) },
        principal,
        tableIds,
      ),
    boundTables: (tableIds) => repos.policies.boundTables(tableIds),
    salt,
    slices,
  };
}
