import type {
  AttributeMap,
  PolicyCheck,
  PolicyPreview,
  PolicyPreviewInput,
  RowPolicyInput,
  RowPolicyPatch,
  UserAttributesView,
} from '../../contract/index.js';
import type { Principal } from '../access/decide.js';
import { principalOfUser } from '../access/principal.js';
import { quoteIdent } from '../duckdb/sql.js';
import { AgnesError } from '../errors.js';
import { evaluatePolicies, validateMasks, validatePolicyFilter } from '../policies/evaluate.js';
import { loadEffectiveViews, type PolicyRuntime, policyLoadDeps } from '../policies/load.js';
import type { PolicySalt } from '../policies/salt.js';
import { sliceKey } from '../policies/slices.js';
import {
  type AppliesTo,
  type EffectiveView,
  FULL_VIEW,
  type MaskedColumn,
  type RowPolicy,
} from '../policies/types.js';
import type { QueryEngine } from '../query/engine.js';
import type { QueryCaller, TableBinding } from '../query/types.js';
import type { Repositories, User } from '../state/repositories/index.js';

/** Row and column policies and user attributes for admins (12 §4); enforcement is elsewhere. */

export type PolicyDeps = PolicyRuntime;

/** What a write changed, for the audit entry's `params.before` and `params.after` (12 §3). */
export interface Change<T> {
  before: T | null;
  after: T | null;
}

/** Derived attributes (12 §1): bound from the user row and groups, never stored. */
export const DERIVED_ATTRIBUTES: ReadonlySet<string> = new Set(['email', 'user_id', 'groups']);

const policyNotFound = () => new AgnesError('not_found', 'policy not found');

function invalidField(path: string, message: string): AgnesError {
  return new AgnesError('validation_failed', 'request validation failed', {
    extra: { errors: [{ path, message }] },
  });
}

async function registeredTable(repos: Repositories, tableId: string): Promise<void> {
  if (!(await repos.registry.get(tableId))) throw new AgnesError('not_found', 'table not found');
}

async function existingUser(repos: Repositories, userId: string): Promise<User> {
  const user = await repos.users.getById(userId);
  if (!user) throw new AgnesError('not_found', 'user not found');
  return user;
}

/** At least one target, each named once and existing (12 §1). */
async function checkedTargets(repos: Repositories, appliesTo: AppliesTo): Promise<AppliesTo> {
  const users = [...new Set(appliesTo.users)];
  const groups = [...new Set(appliesTo.groups)];
  if (!appliesTo.everyone && users.length === 0 && groups.length === 0)
    throw invalidField('/body/applies_to', 'must apply to everyone or name at least one user or group');
  const known = await repos.users.getMany(users);
  if (known.length !== users.length) throw invalidField('/body/applies_to/users', 'names an unknown user');
  const found = await Promise.all(groups.map((id) => repos.groups.getById(id)));
  if (found.some((group) => !group)) throw invalidField('/body/applies_to/groups', 'names an unknown group');
  return { everyone: appliesTo.everyone, users, groups };
}

/** The filter and masks against the table's current columns (12 §2); throws `invalid_policy`. */
async function checkBinding(
  deps: PolicyDeps,
  tableId: string,
  rowFilter: string | null,
  masks: readonly MaskedColumn[],
): Promise<void> {
  if (rowFilter === null && masks.length === 0) return;
  const columns = await deps.policyColumns.columnsOf(tableId);
  if (rowFilter !== null) await validatePolicyFilter(deps.query.parser, rowFilter, columns);
  if (masks.length > 0) validateMasks(masks, columns);
}

/** Every policy of a registered table, enabled or not, by name. */
export async function listTablePolicies(deps: PolicyDeps, tableId: string): Promise<RowPolicy[]> {
  await registeredTable(deps.repos, tableId);
  return deps.repos.policies.listForTable(tableId);
}

export async function createPolicy(
  deps: PolicyDeps,
  principal: Principal,
  tableId: string,
  input: RowPolicyInput,
): Promise<Change<RowPolicy> & { after: RowPolicy }> {
  await registeredTable(deps.repos, tableId);
  const rowFilter = input.row_filter ?? null;
  const masks = input.masked_columns ?? [];
  const appliesTo = await checkedTargets(deps.repos, input.applies_to);
  await checkBinding(deps, tableId, rowFilter, masks);
  const after = await deps.repos.policies.create({
    table_id: tableId,
    name: input.name,
    description: input.description ?? '',
    applies_to: appliesTo,
    row_filter: rowFilter,
    masked_columns: masks,
    enabled: input.enabled ?? true,
    created_by: principal.id,
  });
  return { before: null, after };
}

/**
 * A given field replaces the stored value whole. A new filter or new masks are checked together
 * with the stored other half, and a policy that passes binds again (`error` cleared).
 */
export async function updatePolicy(
  deps: PolicyDeps,
  principal: Principal,
  policyId: string,
  patch: RowPolicyPatch,
): Promise<Change<RowPolicy> & { after: RowPolicy }> {
  const before = await deps.repos.policies.get(policyId);
  if (!before) throw policyNotFound();
  const rebinds = patch.row_filter !== undefined || patch.masked_columns !== undefined;
  const rowFilter = patch.row_filter === undefined ? before.row_filter : patch.row_filter;
  const masks = patch.masked_columns ?? before.masked_columns;
  const appliesTo = patch.applies_to && (await checkedTargets(deps.repos, patch.applies_to));
  if (rebinds) await checkBinding(deps, before.table_id, rowFilter, masks);
  const after = await deps.repos.policies.update(policyId, {
    ...(patch.name === undefined ? {} : { name: patch.name }),
    ...(patch.description === undefined ? {} : { description: patch.description }),
    ...(appliesTo ? { applies_to: appliesTo } : {}),
    ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }),
    ...(rebinds ? { row_filter: rowFilter, masked_columns: masks, error: null } : {}),
    updated_by: principal.id,
  });
  if (!after) throw policyNotFound();
  return { before, after };
}

/** Deleting a table's last policy unbinds it: its readers see the whole table again (12 §1). */
export async function deletePolicy(deps: PolicyDeps, policyId: string): Promise<Change<RowPolicy>> {
  const before = await deps.repos.policies.get(policyId);
  if (!before || !(await deps.repos.policies.delete(policyId))) throw policyNotFound();
  return { before, after: null };
}

async function attributesView(repos: Repositories, user: User): Promise<UserAttributesView> {
  const [attributes, groups] = await Promise.all([
    repos.userAttributes.get(user.id),
    repos.groups.listGroupsOfUser(user.id),
  ]);
  return {
    attributes,
    derived: { email: user.email, user_id: user.id, groups: groups.map((group) => group.name) },
  };
}

export async function userAttributes(deps: PolicyDeps, userId: string): Promise<UserAttributesView> {
  return attributesView(deps.repos, await existingUser(deps.repos, userId));
}

/**
 * Replaces every stored key (12 §1): values kept exactly as given, duplicates dropped in order;
 * the derived keys cannot be stored. The schema has checked keys, lengths and control characters.
 */
export async function replaceUserAttributes(
  deps: PolicyDeps,
  userId: string,
  attributes: AttributeMap,
): Promise<{ view: UserAttributesView; change: Change<AttributeMap> }> {
  const user = await existingUser(deps.repos, userId);
  const stored: AttributeMap = {};
  for (const [key, values] of Object.entries(attributes)) {
    if (DERIVED_ATTRIBUTES.has(key))
      throw invalidField(`/body/attributes/${key}`, 'is derived from the user and cannot be stored');
    stored[key] = [...new Set(values)];
  }
  const before = await deps.repos.userAttributes.get(userId);
  await deps.repos.userAttributes.replace(userId, stored);
  const view = await attributesView(deps.repos, user);
  return { view, change: { before, after: view.attributes } };
}

/**
 * `policy` of the admin's access check (12 §4): what the user's requests would get of the table
 * now, recording a failing policy as their request would.
 */
export async function policyCheck(
  deps: PolicyDeps,
  principal: Principal,
  tableId: string,
): Promise<PolicyCheck> {
  const view = (await loadEffectiveViews(policyLoadDeps(deps), principal, [tableId])).get(tableId);
  if (!view || view.kind === 'full') return null;
  let error: string | null = null;
  if (view.failures.length > 0) {
    const names = new Map((await deps.repos.policies.listForTable(tableId)).map((p) => [p.id, p.name]));
    error = view.failures.map((f) => `${names.get(f.policy_id) ?? f.policy_id}: ${f.reason}`).join('; ');
  }
  return {
    kind: view.kind,
    policies: view.policies,
    bound_filter: view.bound_filter,
    masked_columns: view.masks,
    error,
  };
}

export type PolicyPreviewDeps = PolicyDeps & { query: QueryEngine; policySalt: PolicySalt };

const PREVIEW_SAMPLE_ROWS = 20;

/** The saved policies with the draft in place of the saved one of its name, or added to them. */
async function withDraft(
  deps: PolicyDeps,
  admin: Principal,
  tableId: string,
  saved: readonly RowPolicy[],
  draft: RowPolicyInput,
): Promise<RowPolicy[]> {
  const rowFilter = draft.row_filter ?? null;
  const masks = draft.masked_columns ?? [];
  const appliesTo = await checkedTargets(deps.repos, draft.applies_to);
  await checkBinding(deps, tableId, rowFilter, masks);
  const replaced = saved.find((p) => p.name.toLowerCase() === draft.name.toLowerCase());
  const now = new Date().toISOString();
  const policy: RowPolicy = {
    id: replaced?.id ?? 'draft',
    table_id: tableId,
    name: draft.name,
    description: draft.description ?? '',
    applies_to: appliesTo,
    row_filter: rowFilter,
    masked_columns: masks,
    enabled: draft.enabled ?? true,
    error: null,
    created_by: replaced?.created_by ?? admin.id,
    created_at: replaced?.created_at ?? now,
    updated_by: admin.id,
    updated_at: now,
  };
  return [...saved.filter((p) => p !== replaced), policy];
}

/**
 * `POST /api/admin/policies/preview` (12 §4): what a user would see of a table under the saved
 * policies and an optional draft. The rows are read through the query engine with the view
 * bound inline (filter and masks in the sandbox view), so no slice is written and nothing is
 * stored, and a policy that fails to bind is shown, not recorded.
 */
export async function previewPolicies(
  deps: PolicyPreviewDeps,
  admin: Principal,
  input: PolicyPreviewInput,
  requestId: string,
): Promise<PolicyPreview> {
  const tableId = input.table_id.toLowerCase();
  await registeredTable(deps.repos, tableId);
  const user = await existingUser(deps.repos, input.user_id);
  const columns = await deps.policyColumns.columnsOf(tableId);
  if (columns.length === 0) throw new AgnesError('not_found', 'the table has no published data');
  const saved = await deps.repos.policies.listForTable(tableId);
  const policies = input.policy ? await withDraft(deps, admin, tableId, saved, input.policy) : saved;
  const subject = await principalOfUser(deps.repos, user);
  const view: EffectiveView =
    subject.role === 'admin' || policies.length === 0
      ? FULL_VIEW
      : await evaluatePolicies(
          deps.query.parser,
          { ...subject, attributes: await deps.repos.userAttributes.get(user.id) },
          policies,
          columns,
        );
  const caller = previewCaller(admin, tableId, view, deps.policySalt);
  const table = quoteIdent(tableId);
  const counted = await deps.query.query({ caller, sql: `SELECT count(*) FROM ${table}`, requestId }, 1);
  const sample = await deps.query.query(
    { caller, sql: `SELECT * FROM ${table} LIMIT ${PREVIEW_SAMPLE_ROWS}`, requestId },
    PREVIEW_SAMPLE_ROWS,
  );
  return {
    kind: view.kind,
    policies: view.policies,
    bound_filter: view.bound_filter,
    masked_columns: view.masks,
    rows: Number(counted.rows[0]?.[0] ?? 0),
    sample,
  };
}

/** The admin reading just this table, bound inline to the previewed view unless it is the full table. */
function previewCaller(
  admin: Principal,
  tableId: string,
  view: EffectiveView,
  salt: PolicySalt,
): QueryCaller {
  const caller: QueryCaller = {
    userId: admin.id,
    admin: false,
    readable: [tableId],
    isVisible: (id) => id === tableId,
  };
  if (view.kind === 'full') return caller;
  const hashed = view.masks.some((m) => m.mask === 'hash');
  const binding: TableBinding = {
    kind: 'inline',
    key: sliceKey(`preview:${tableId}`, view, salt.saltVersion),
    filter: view.bound_filter,
    masks: view.masks,
    salt: hashed ? salt.salt : null,
  };
  return {
    ...caller,
    bindings: async (published) => new Map(published.views.has(tableId) ? [[tableId, binding]] : []),
  };
}
