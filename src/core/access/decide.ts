import type { Access, Role } from '../state/schema.js';

/** Who is asking: loaded from the user row on every request, never from a token's claims. */
export interface Principal {
  id: string;
  email: string;
  role: Role;
  active: boolean;
  is_service: boolean;
  groups: readonly { id: string; name: string }[];
}

export interface RegisteredTable {
  id: string;
  bucket: string;
  is_public: boolean;
  is_discoverable: boolean;
}

export interface GrantRow {
  dataset: string;
  access: Access;
  /** Null for the user's own grant; the group's name for a group grant. */
  group: string | null;
}

export type AccessReason =
  | 'inactive'
  | 'admin'
  | 'unregistered'
  | 'public'
  | 'user_grant'
  | 'group_grant'
  | 'bucket_grant'
  | 'no_grant';

export interface AccessDecision {
  allowed: boolean;
  reason: AccessReason;
  /** The group that granted access, for `group_grant` and group bucket grants. */
  via: string | null;
}

export const DEFAULT_DATASET = 'default';

/** A table's dataset is its bucket, or `default` when the bucket is empty (04 §6.3 datasets and sync settings). */
export function datasetOf(table: { bucket: string }): string {
  return table.bucket === '' ? DEFAULT_DATASET : table.bucket;
}

export function bucketWildcard(bucket: string): string {
  return `${bucket}.*`;
}

const deny = (reason: AccessReason): AccessDecision => ({ allowed: false, reason, via: null });
const allow = (reason: AccessReason, via: string | null = null): AccessDecision => ({
  allowed: true,
  reason,
  via,
});

/**
 * The access rules of 04 §6.1, first match decides. Pure: the caller supplies the principal, the
 * registry entry and the principal's grants. `none` grants nothing and never denies.
 */
export function decideAccess(
  principal: Principal,
  tableId: string,
  table: RegisteredTable | undefined,
  grants: readonly GrantRow[],
): AccessDecision {
  if (!principal.active) return deny('inactive');
  if (principal.role === 'admin') return allow('admin');
  if (!table) return deny('unregistered');
  if (table.is_public) return allow('public');
  // One pass without allocating: the manifest decides thousands of tables per request.
  const wildcard = table.bucket === '' ? null : bucketWildcard(table.bucket);
  let viaGroup: GrantRow | undefined;
  let bucketOwn: GrantRow | undefined;
  let bucketAny: GrantRow | undefined;
  for (const grant of grants) {
    if (grant.access !== 'read') continue;
    if (grant.dataset === tableId) {
      if (grant.group === null) return allow('user_grant');
      viaGroup ??= grant;
    } else if (grant.dataset === wildcard) {
      if (grant.group === null) bucketOwn ??= grant;
      bucketAny ??= grant;
    }
  }
  if (viaGroup) return allow('group_grant', viaGroup.group);
  const bucketGrant = bucketOwn ?? bucketAny;
  if (bucketGrant) return allow('bucket_grant', bucketGrant.group);
  return deny('no_grant');
}
