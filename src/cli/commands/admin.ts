import type {
  AccessCheck,
  AccessRequest,
  CreatedUser,
  GrantRevoked,
  GroupList,
  GroupSummary,
  InviteResponse,
  PendingAccessRequests,
  User,
  UserGrant,
  UserGrantList,
  UserList,
  UserPermissions,
} from '../../contract/index.js';
import type { ApiClient } from '../client.js';
import { type CliContext, connect } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { type Cell, toTable } from '../format.js';

/** `da admin users|permissions|groups|access-requests` (06 §5.3 administration); the server enforces the admin role. */

/** The largest page the list routes serve (03 §0 conventions paging). */
const PAGE = { per_page: 200 };

export async function adminClient(ctx: CliContext): Promise<ApiClient> {
  return (await connect(ctx, { requireAuth: true })).client;
}

const enc = encodeURIComponent;

function table(columns: string[], rows: Cell[][], empty: string): string {
  return rows.length > 0 ? toTable({ columns, rows }) : empty;
}

/** A user id, or an email resolved through `GET /api/users?search=`. */
export async function resolveUser(client: ApiClient, ref: string): Promise<string> {
  if (!ref.includes('@')) return ref;
  const { users } = await client.json<UserList>('GET', '/api/users', {
    query: { search: ref, ...PAGE },
  });
  const match = users.find((u) => u.email.toLowerCase() === ref.toLowerCase());
  if (!match)
    throw new CliError(
      EXIT.notFound,
      `no user with email ${ref}; list them with: da admin users list`,
      'not_found',
    );
  return match.id;
}

/** A group id or a (case-insensitive) group name. */
export async function resolveGroup(client: ApiClient, ref: string): Promise<string> {
  const { groups } = await client.json<GroupList>('GET', '/api/admin/groups', { query: PAGE });
  const match =
    groups.find((g) => g.id === ref) ?? groups.find((g) => g.name.toLowerCase() === ref.toLowerCase());
  if (!match)
    throw new CliError(EXIT.notFound, `no group ${ref}; list them with: da admin groups list`, 'not_found');
  return match.id;
}

function parseBoolean(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new CliError(EXIT.usage, `expected true or false, got ${value}`, 'usage');
}

// Users

export async function usersList(ctx: CliContext): Promise<void> {
  const client = await adminClient(ctx);
  const body = await client.json<UserList>('GET', '/api/users', { query: PAGE });
  ctx.out.result(body, () =>
    table(
      ['email', 'name', 'role', 'active', 'id'],
      body.users.map((u) => [
        u.email,
        u.name,
        `${u.role}${u.is_service ? ' (service)' : ''}`,
        u.active ? 'yes' : 'no',
        u.id,
      ]),
      'No users.',
    ),
  );
}

export interface AddUserOptions {
  name?: string;
  role?: string;
  invite: boolean;
  service?: boolean;
}

export async function usersAdd(ctx: CliContext, options: AddUserOptions, email: string): Promise<void> {
  const client = await adminClient(ctx);
  const body: Record<string, unknown> = {
    email,
    send_invite: options.invite,
    is_service: Boolean(options.service),
  };
  if (options.name !== undefined) body.name = options.name;
  if (options.role !== undefined) body.role = options.role;
  const user = await client.json<CreatedUser>('POST', '/api/users', { body });
  ctx.out.result(user, () =>
    [
      `Added ${user.email} (role ${user.role}, id ${user.id})`,
      ...(user.invite_sent ? ['  invitation sent'] : []),
      ...(user.setup_url ? [`  setup link: ${user.setup_url}`] : []),
    ].join('\n'),
  );
}

export async function usersUpdate(
  ctx: CliContext,
  options: { name?: string; role?: string; active?: string },
  ref: string,
): Promise<void> {
  const body: Record<string, unknown> = {};
  if (options.name !== undefined) body.name = options.name;
  if (options.role !== undefined) body.role = options.role;
  if (options.active !== undefined) body.active = parseBoolean(options.active);
  if (Object.keys(body).length === 0)
    throw new CliError(EXIT.usage, 'nothing to change; pass --name, --role or --active', 'usage');
  const client = await adminClient(ctx);
  const user = await client.json<User>('PATCH', `/api/users/${enc(await resolveUser(client, ref))}`, {
    body,
  });
  ctx.out.result(
    user,
    () => `Updated ${user.email}: role ${user.role}, ${user.active ? 'active' : 'inactive'}`,
  );
}

export async function usersRemove(ctx: CliContext, ref: string): Promise<void> {
  const client = await adminClient(ctx);
  const id = await resolveUser(client, ref);
  await client.request('DELETE', `/api/users/${enc(id)}`);
  ctx.out.result({ removed: id }, () => `Removed ${ref}`);
}

export async function usersInvite(ctx: CliContext, ref: string): Promise<void> {
  const client = await adminClient(ctx);
  const id = await resolveUser(client, ref);
  const body = await client.json<InviteResponse>('POST', `/api/users/${enc(id)}/invite`, { body: {} });
  ctx.out.result({ user_id: id, ...body }, () =>
    body.invite_sent
      ? `Invitation sent to ${ref} (link valid until ${body.expires_at})`
      : `Setup link for ${ref}: ${body.setup_url} (valid until ${body.expires_at})`,
  );
}

// Permissions

export async function permissionsList(ctx: CliContext, options: { user?: string }): Promise<void> {
  const client = await adminClient(ctx);
  if (options.user) {
    const id = await resolveUser(client, options.user);
    const body = await client.json<UserPermissions>('GET', `/api/admin/permissions/${enc(id)}`);
    ctx.out.result(body, () =>
      [
        table(
          ['dataset', 'access', 'via'],
          [
            ...body.permissions.map((p) => [p.dataset, p.access, 'user grant']),
            ...body.group_permissions.map((p) => [p.dataset, p.access, `group ${p.group_name}`]),
          ],
          'No grants.',
        ),
        '',
        `Readable tables: ${body.readable_tables.join(', ') || 'none'}`,
      ].join('\n'),
    );
    return;
  }
  const body = await client.json<UserGrantList>('GET', '/api/admin/permissions', {
    query: PAGE,
  });
  ctx.out.result(body, () =>
    table(
      ['user', 'dataset', 'access', 'granted_at'],
      body.permissions.map((p) => [p.email, p.dataset, p.access, p.granted_at]),
      'No grants.',
    ),
  );
}

export async function permissionsGrant(
  ctx: CliContext,
  options: { user: string; dataset: string },
): Promise<void> {
  const client = await adminClient(ctx);
  const user_id = await resolveUser(client, options.user);
  const grant = await client.json<UserGrant>('POST', '/api/admin/permissions', {
    body: { user_id, dataset: options.dataset, access: 'read' },
  });
  ctx.out.result(grant, () => `Granted ${options.user} read on ${options.dataset}`);
}

export async function permissionsRevoke(
  ctx: CliContext,
  options: { user: string; dataset: string },
): Promise<void> {
  const client = await adminClient(ctx);
  const user_id = await resolveUser(client, options.user);
  const body = await client.json<GrantRevoked>('DELETE', '/api/admin/permissions', {
    body: { user_id, dataset: options.dataset },
  });
  ctx.out.result(body, () =>
    body.revoked
      ? `Revoked ${options.user} on ${options.dataset}`
      : `${options.user} had no grant on ${options.dataset}`,
  );
}

export async function permissionsCheck(
  ctx: CliContext,
  options: { user: string; table: string },
): Promise<void> {
  const client = await adminClient(ctx);
  const user_id = await resolveUser(client, options.user);
  const body = await client.json<AccessCheck>('GET', '/api/admin/access-check', {
    query: { user_id, table_id: options.table },
  });
  ctx.out.result(
    body,
    () => `${options.user} ${body.allowed ? 'may' : 'may not'} read ${options.table} (${body.reason})`,
  );
}

// Groups

export async function groupsList(ctx: CliContext): Promise<void> {
  const client = await adminClient(ctx);
  const body = await client.json<GroupList>('GET', '/api/admin/groups', { query: PAGE });
  ctx.out.result(body, () =>
    table(
      ['name', 'members', 'grants', 'id'],
      body.groups.map((g) => [g.name, g.member_count, g.permission_count, g.id]),
      'No groups.',
    ),
  );
}

export async function groupsCreate(
  ctx: CliContext,
  options: { description?: string },
  name: string,
): Promise<void> {
  const client = await adminClient(ctx);
  const body: Record<string, unknown> = { name };
  if (options.description !== undefined) body.description = options.description;
  const group = await client.json<GroupSummary>('POST', '/api/admin/groups', { body });
  ctx.out.result(group, () => `Created group ${group.name} (id ${group.id})`);
}

export async function groupsDelete(ctx: CliContext, ref: string): Promise<void> {
  const client = await adminClient(ctx);
  const id = await resolveGroup(client, ref);
  await client.request('DELETE', `/api/admin/groups/${enc(id)}`);
  ctx.out.result({ deleted: id }, () => `Deleted group ${ref}`);
}

export async function groupsAddMember(ctx: CliContext, group: string, user: string): Promise<void> {
  const client = await adminClient(ctx);
  const [groupId, userId] = await Promise.all([resolveGroup(client, group), resolveUser(client, user)]);
  await client.request('POST', `/api/admin/groups/${enc(groupId)}/members`, { body: { user_id: userId } });
  ctx.out.result({ group_id: groupId, user_id: userId }, () => `Added ${user} to ${group}`);
}

export async function groupsRemoveMember(ctx: CliContext, group: string, user: string): Promise<void> {
  const client = await adminClient(ctx);
  const [groupId, userId] = await Promise.all([resolveGroup(client, group), resolveUser(client, user)]);
  await client.request('DELETE', `/api/admin/groups/${enc(groupId)}/members/${enc(userId)}`);
  ctx.out.result({ group_id: groupId, user_id: userId }, () => `Removed ${user} from ${group}`);
}

export async function groupsGrant(ctx: CliContext, group: string, dataset: string): Promise<void> {
  const client = await adminClient(ctx);
  const groupId = await resolveGroup(client, group);
  await client.request('POST', `/api/admin/groups/${enc(groupId)}/permissions`, {
    body: { dataset, access: 'read' },
  });
  ctx.out.result(
    { group_id: groupId, dataset, access: 'read' },
    () => `Granted group ${group} read on ${dataset}`,
  );
}

export async function groupsRevoke(ctx: CliContext, group: string, dataset: string): Promise<void> {
  const client = await adminClient(ctx);
  const groupId = await resolveGroup(client, group);
  await client.request('DELETE', `/api/admin/groups/${enc(groupId)}/permissions`, { query: { dataset } });
  ctx.out.result({ group_id: groupId, dataset, revoked: true }, () => `Revoked group ${group} on ${dataset}`);
}

// Access requests

export async function accessRequestsList(ctx: CliContext): Promise<void> {
  const client = await adminClient(ctx);
  const body = await client.json<PendingAccessRequests>('GET', '/api/access-requests/pending', {
    query: PAGE,
  });
  ctx.out.result(body, () =>
    table(
      ['id', 'user', 'table', 'reason', 'created_at'],
      body.requests.map((r) => [r.id, r.user_email, r.table_id, r.reason, r.created_at]),
      'No pending requests.',
    ),
  );
}

export async function accessRequestDecide(
  ctx: CliContext,
  decision: 'approve' | 'deny',
  options: { note?: string },
  id: string,
): Promise<void> {
  const client = await adminClient(ctx);
  const body = await client.json<Pick<AccessRequest, 'id' | 'status'>>(
    'POST',
    `/api/access-requests/${enc(id)}/${decision}`,
    {
      body: options.note !== undefined ? { note: options.note } : {},
    },
  );
  ctx.out.result(body, () => `Request ${id} ${body.status}`);
}
