import type {
  AccessRequestList,
  AccessRequest as AccessRequestView,
  PendingAccessRequests,
} from '../../contract/index.js';
import { loadAccessView } from '../access/access.js';
import type { Principal } from '../access/decide.js';
import type { InstanceConfig } from '../config/index.js';
import { AgnesError, isAgnesError } from '../errors.js';
import { activeAdminIds, notifyUsers } from '../notifications/notify.js';
import {
  type AccessRequest,
  type PageRequest,
  pageFields,
  type Repositories,
} from '../state/repositories/index.js';

/**
 * Access requests (03 §11, 04 §7): a user asks for read access to a table they can see, an admin
 * approves (the grant is created in the same transaction) or denies it, the requester or an
 * admin cancels it. The callers admit admins only to the review functions.
 */

/** What the access-request use cases read: the state store and the limits and notification settings. */
export interface AccessRequestDeps {
  repos: Repositories;
  config: InstanceConfig;
}

export interface ReviewInput {
  id: string;
  note?: string | undefined;
}

const notFound = () => new AgnesError('not_found', 'access request not found');
const notPending = (status: string) =>
  new AgnesError('not_pending', `access request is ${status}, not pending`, { extra: { status } });

/** Turns the repository's lost-race `conflict` into 409 `not_pending` with the status it lost to. */
async function whilePending<T>(repos: Repositories, id: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!isAgnesError(error) || error.code !== 'conflict') throw error;
    const current = await repos.accessRequests.get(id);
    if (!current) throw notFound();
    throw notPending(current.status);
  }
}

/** The API's `AccessRequest`: table names from the registry, reviewer emails from the users. */
async function requestViews(
  repos: Repositories,
  rows: readonly AccessRequest[],
): Promise<AccessRequestView[]> {
  const [registry, reviewers] = await Promise.all([
    repos.registry.list(),
    repos.users.getMany(rows.flatMap((r) => (r.reviewed_by ? [r.reviewed_by] : []))),
  ]);
  const names = new Map(registry.map((t) => [t.id, t.name]));
  const emails = new Map(reviewers.map((u) => [u.id, u.email]));
  return rows.map((row) => ({
    id: row.id,
    user_id: row.user_id,
    user_email: row.user_email,
    table_id: row.table_id,
    table_name: names.get(row.table_id) ?? null,
    reason: row.reason,
    status: row.status,
    reviewed_by: row.reviewed_by,
    reviewed_by_email: row.reviewed_by ? (emails.get(row.reviewed_by) ?? null) : null,
    reviewed_at: row.reviewed_at,
    review_note: row.review_note,
    created_at: row.created_at,
  }));
}

/** Inserts the request; the pending count is taken after the insert, in the same transaction, so concurrent requests cannot pass together. */
async function insertPending(
  { repos, config }: AccessRequestDeps,
  principal: Principal,
  input: { table_id: string; reason?: string | undefined },
): Promise<AccessRequest> {
  const { table_id, reason } = input;
  const maxPending = config.limits.max_pending_access_requests;
  let row: AccessRequest;
  try {
    row = await repos.accessRequests.create({
      user_id: principal.id,
      user_email: principal.email,
      table_id,
      reason: reason ?? null,
    });
  } catch (error) {
    if (isAgnesError(error) && error.code === 'conflict')
      throw new AgnesError('already_pending', 'a request for this table is already pending');
    throw error;
  }
  if ((await repos.accessRequests.countPendingByUser(principal.id)) > maxPending)
    throw new AgnesError('too_many_pending', `at most ${maxPending} pending requests per user`);
  return row;
}

/** Asks for read access to a registered table the caller can see but not read; admins are notified. */
export async function requestAccess(
  deps: AccessRequestDeps,
  principal: Principal,
  input: { table_id: string; reason?: string | undefined },
): Promise<{ id: string; status: 'pending'; table_id: string }> {
  const { table_id, reason } = input;
  const view = await loadAccessView(deps.repos, principal);
  // Unregistered and non-discoverable tables do not exist for the caller (04 §6.2 object-level checks and the 403/404 policy).
  if (!view.table(table_id) || !view.isVisible(table_id))
    throw new AgnesError('not_found', 'table not found');
  if (view.canRead(table_id).allowed)
    throw new AgnesError('already_granted', 'you can already read this table');
  const created = await deps.repos.transaction(async (r) => {
    const row = await insertPending({ ...deps, repos: r }, principal, input);
    await notifyUsers(r, deps.config, await activeAdminIds(r), {
      title: 'Access request',
      message: `${principal.email} asks for read access to ${table_id}${reason ? `: ${reason}` : ''}`,
      sourceKind: 'access_request',
      sourceId: row.id,
    });
    return row;
  });
  return { id: created.id, status: 'pending', table_id };
}

/** The caller's own requests, newest first. */
export async function listMyRequests(
  { repos }: Pick<AccessRequestDeps, 'repos'>,
  principal: Principal,
  page: PageRequest,
): Promise<AccessRequestList> {
  const found = await repos.accessRequests.list({ user_id: principal.id }, page);
  return {
    requests: await requestViews(repos, found.items),
    ...pageFields(found),
  };
}

/** Every user's pending requests, newest first: the admins' review queue. */
export async function listPendingRequests(
  { repos }: Pick<AccessRequestDeps, 'repos'>,
  page: PageRequest,
): Promise<PendingAccessRequests> {
  const found = await repos.accessRequests.list({ status: 'pending' }, page);
  return {
    requests: await requestViews(repos, found.items),
    count: found.total,
    ...pageFields(found),
  };
}

/** Approves a pending request of a still registered table and grants read access with it. */
export async function approveRequest(
  deps: AccessRequestDeps,
  reviewer: Principal,
  { id, note }: ReviewInput,
): Promise<{ status: 'approved'; id: string }> {
  await deps.repos.transaction(async (r) => {
    const current = await r.accessRequests.get(id);
    if (!current) throw notFound();
    if (current.status !== 'pending') throw notPending(current.status);
    if (!(await r.registry.get(current.table_id)))
      throw new AgnesError('table_unregistered', 'the table is no longer registered');
    const approved = await whilePending(
      r,
      id,
      r.accessRequests.review(id, { status: 'approved', reviewer: reviewer.id, note }),
    );
    await r.permissions.grantUser(approved.user_id, {
      dataset: approved.table_id,
      access: 'read',
      granted_by: reviewer.id,
    });
    await notifyUsers(r, deps.config, [approved.user_id], {
      title: 'Access granted',
      message: `You can now read ${approved.table_id}.`,
      sourceKind: 'access_request',
      sourceId: approved.id,
    });
  });
  return { status: 'approved', id };
}

/** Denies a pending request; the requester is told, with the note when there is one. */
export async function denyRequest(
  deps: AccessRequestDeps,
  reviewer: Principal,
  { id, note }: ReviewInput,
): Promise<{ status: 'denied'; id: string }> {
  await deps.repos.transaction(async (r) => {
    const denied = await whilePending(
      r,
      id,
      r.accessRequests.review(id, { status: 'denied', reviewer: reviewer.id, note }),
    );
    await notifyUsers(r, deps.config, [denied.user_id], {
      title: 'Access request denied',
      message: `Your request to read ${denied.table_id} was denied${note ? `: ${note}` : '.'}`,
      sourceKind: 'access_request',
      sourceId: denied.id,
    });
  });
  return { status: 'denied', id };
}

/** Cancels a pending request of the caller's own, or anyone's for an admin. */
export async function cancelRequest(
  { repos }: Pick<AccessRequestDeps, 'repos'>,
  principal: Principal,
  id: string,
): Promise<void> {
  const current = await repos.accessRequests.get(id);
  // Someone else's request is as unknown as a missing one (04 §6.2 object-level checks and the 403/404 policy).
  if (!current || (current.user_id !== principal.id && principal.role !== 'admin')) throw notFound();
  await whilePending(repos, id, repos.accessRequests.cancel(id, current.user_id));
}
