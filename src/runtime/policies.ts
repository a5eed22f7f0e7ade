import { describeParquet } from '../core/catalog/columns.js';
import { AgnesError } from '../core/errors.js';
import type { PolicyEnforcement } from '../core/policies/enforce.js';
import { loadEffectiveViews } from '../core/policies/load.js';
import { SliceProfiles } from '../core/policies/slice-profiles.js';
import { type PolicySalt, PolicySlices } from '../core/policies/slices.js';
import { type ProfileOptions, profileTable } from '../core/profiler/index.js';
import type { QueryEngine } from '../core/query/engine.js';
import type { Repositories } from '../core/state/repositories/index.js';

export interface PolicyEnforcementParts {
  dataDir: string;
  repos: Repositories;
  query: QueryEngine;
  settings: { slice_wait_seconds: number };
  profiler: ProfileOptions;
  /** DuckDB threads of one slice build (`query.threads`). */
  threads: number;
  /** The salt of `hash` masks (12 §6); without one, a hashed binding fails closed. */
  salt?: () => Promise<PolicySalt>;
  log: { error(detail: Record<string, unknown>, message: string): void };
}

const noSalt = async (): Promise<PolicySalt> => {
  throw new AgnesError(
    'sandbox_unavailable',
    'hash masks are unavailable: the policy salt is not configured',
  );
};

/** Row-policy enforcement of the running instance: effective views from the state store, slices on disk. */
export function createPolicyEnforcement(parts: PolicyEnforcementParts): PolicyEnforcement {
  const { dataDir, repos, query } = parts;
  const salt = parts.salt ?? noSalt;
  const columnsOf = async (tableId: string) => {
    const state = await repos.syncState.getState(tableId);
    if (!state || state.layout === 'remote') return [];
    return (await describeParquet(dataDir, state.files)) ?? [];
  };
  const slices = new PolicySlices({
    dataDir,
    repo: repos.policySlices,
    salt,
    waitSeconds: parts.settings.slice_wait_seconds,
    threads: parts.threads,
    log: parts.log,
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
        parts.profiler,
      ),
    parts.settings.slice_wait_seconds,
  );
  return {
    profiles,
    effectiveViews: (principal, tableIds) =>
      loadEffectiveViews({ repos, parser: query.parser, columnsOf }, principal, tableIds),
    boundTables: (tableIds) => repos.policySlices.boundTables(tableIds),
    salt,
    slices,
  };
}
