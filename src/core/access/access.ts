import type { Repositories } from '../state/repositories/index.js';
import {
  type AccessDecision,
  datasetOf,
  decideAccess,
  type GrantRow,
  type Principal,
  type RegisteredTable,
} from './decide.js';

/**
 * The one access function (04 §6.1) bound to one principal for one request: the registry and the
 * principal's grants are loaded once, then every check is in memory.
 */
export interface AccessView {
  readonly principal: Principal;
  canRead(tableId: string): AccessDecision;
  /** Readable or registered as discoverable (04 §6.2 object-level checks and the 403/404 policy): existence of anything else is never revealed. */
  isVisible(tableId: string): boolean;
  /** Every registered table the principal may read (admins: every registered table). */
  readableTables(): string[];
  table(tableId: string): RegisteredTable | undefined;
  /** Datasets with at least one readable table. */
  readableDatasets(): string[];
}

export function accessView(
  principal: Principal,
  registry: readonly RegisteredTable[],
  grants: readonly GrantRow[],
): AccessView {
  const tables = new Map(registry.map((t) => [t.id, t]));
  const decisions = new Map<string, AccessDecision>();
  const canRead = (tableId: string): AccessDecision => {
    let decision = decisions.get(tableId);
    if (!decision) {
      decision = decideAccess(principal, tableId, tables.get(tableId), grants);
      decisions.set(tableId, decision);
    }
    return decision;
  };
  const readableTables = () => registry.filter((t) => canRead(t.id).allowed).map((t) => t.id);
  return {
    principal,
    canRead,
    isVisible: (tableId) => canRead(tableId).allowed || tables.get(tableId)?.is_discoverable === true,
    readableTables,
    table: (tableId) => tables.get(tableId),
    readableDatasets: () => [...new Set(registry.filter((t) => canRead(t.id).allowed).map(datasetOf))].sort(),
  };
}

/** Loads what the access function needs for one principal: registry and grants in two queries. */
export async function loadAccessView(repos: Repositories, principal: Principal): Promise<AccessView> {
  const [registry, grants] = await Promise.all([
    repos.registry.list(),
    repos.permissions.grantsForUser(principal.id),
  ]);
  return accessView(
    principal,
    registry.map((r) => ({
      id: r.id,
      bucket: r.bucket,
      is_public: r.is_public,
      is_discoverable: r.is_discoverable,
    })),
    grants.map((g) => ({
      dataset: g.dataset,
      access: g.access,
      group: g.via.kind === 'group' ? g.via.group_name : null,
    })),
  );
}
