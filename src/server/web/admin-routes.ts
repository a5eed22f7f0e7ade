import type { FastifyRequest } from 'fastify';
import { isRole } from '../../core/access/roles.js';
import { AgnesError } from '../../core/errors.js';
import { listInbox } from '../../core/notifications/inbox.js';
import { listMyRequests, listPendingRequests } from '../../core/usecases/access-requests.js';
import { listTablePolicies, userAttributes } from '../../core/usecases/policies.js';
import { syncHistory } from '../../core/usecases/sync.js';
import { entryViews } from '../api/audit.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { page } from './page.js';
import { AccessRequestsPage } from './pages/access-requests.js';
import { ActivityPage, type AuditFilters } from './pages/activity.js';
import {
  AdminGroupPage,
  AdminGroupsPage,
  AdminPermissionsPage,
  AdminUserPage,
  AdminUsersPage,
} from './pages/admin-people.js';
import { AdminTablePage, AdminTablesPage } from './pages/admin-tables.js';

const FIRST_PAGE = { page: 1, per_page: 200 };
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

type Query = Record<string, string | undefined>;
const queryOf = (request: FastifyRequest) => request.query as Query;

/** Access requests, activity and the admin pages of 09 §2. */
export async function adminPages(app: AgnesApp, services: AppServices): Promise<void> {
  const { repos, sources } = services.ctx;

  /** Users, registered tables and buckets for the pickers of grant forms. */
  const grantChoices = async () => {
    const [users, tables, buckets] = await Promise.all([
      repos.users.list({}, { page: 1, per_page: 200 }),
      repos.registry.list(),
      repos.registry.listBuckets(),
    ]);
    return {
      users: users.items.map((u) => ({ id: u.id, email: u.email })),
      tables: tables.map((t) => t.id),
      buckets: buckets.filter(Boolean),
    };
  };

  page(app, services, '/access-requests', 'user', async (ctx, request) => {
    const principal = request.auth!.principal;
    const mine = await listMyRequests(services.ctx, principal, FIRST_PAGE);
    const pending = principal.role === 'admin' ? await listPendingRequests(services.ctx, FIRST_PAGE) : null;
    return AccessRequestsPage({ ctx, mine: mine.requests, pending: pending?.requests ?? null });
  });

  page(app, services, '/activity-center', 'user', async (ctx, request) => {
    const principal = request.auth!.principal;
    const admin = principal.role === 'admin';
    const query = queryOf(request);
    const filters: AuditFilters = {
      user: (query.user ?? '').slice(0, 64),
      action: (query.action ?? '').slice(0, 100),
      from: query.from && ISO_DATE.test(query.from) ? query.from : '',
    };
    const inboxPage = Math.min(Math.max(Number.parseInt(query.npage ?? '1', 10) || 1, 1), 10_000);
    const [history, mine, audit, inbox] = await Promise.all([
      syncHistory(services.ctx, principal, {}, { page: 1, per_page: 50 }),
      repos.audit.list({ user_id: principal.id }, { page: 1, per_page: 50 }),
      admin
        ? repos.audit.list(
            {
              ...(filters.user ? { user_id: filters.user } : {}),
              ...(filters.action ? { action_prefix: filters.action } : {}),
              ...(filters.from ? { from: `${filters.from}T00:00:00.000Z` } : {}),
            },
            { page: 1, per_page: 100 },
          )
        : null,
      listInbox(repos, principal.id, {}, { page: inboxPage, per_page: 50 }),
    ]);
    return ActivityPage({
      ctx,
      history: history.entries,
      mine: await entryViews(repos, mine.items),
      audit: audit ? await entryViews(repos, audit.items) : null,
      filters,
      inbox,
    });
  });

  page(app, services, '/admin/tables', 'admin', async (ctx) => {
    const [tables, states, jobs] = await Promise.all([
      repos.registry.list(),
      repos.syncState.listStates(),
      repos.jobs.list({}, { page: 1, per_page: 15 }),
    ]);
    const policies = await repos.policies.listForTables(tables.map((t) => t.id));
    const policyCounts = new Map<string, number>();
    for (const p of policies) policyCounts.set(p.table_id, (policyCounts.get(p.table_id) ?? 0) + 1);
    return AdminTablesPage({
      ctx,
      tables,
      policyCounts,
      states: new Map(states.map((s) => [s.table_id, s])),
      sources: [...new Set([...sources.map((s) => s.name), ...tables.map((t) => t.source)])].sort(),
      jobs: jobs.items,
    });
  });

  page(app, services, '/admin/tables/:table_id', 'admin', async (ctx, request) => {
    const { table_id } = request.params as { table_id: string };
    const table = await repos.registry.get(table_id);
    if (!table) throw new AgnesError('not_found', 'table not found');
    const [state, policies, users, groups, columns] = await Promise.all([
      repos.syncState.getState(table.id),
      listTablePolicies(services.ctx, table.id),
      repos.users.list({}, FIRST_PAGE),
      repos.groups.list(FIRST_PAGE),
      // Files that cannot be read now (replaced by a rebuild, damaged) leave the page usable for
      // listing and deleting policies; only the mask pickers are missing, as for an unpublished table.
      services.ctx.policyColumns.columnsOf(table.id).catch(() => []),
    ]);
    const edit = queryOf(request).edit;
    return AdminTablePage({
      ctx,
      table,
      state,
      policies,
      editing: policies.find((p) => p.id === edit) ?? null,
      choices: {
        users: users.items.map((u) => ({ id: u.id, email: u.email })),
        groups: groups.items.map((g) => ({ id: g.id, name: g.name })),
        columns,
      },
    });
  });

  page(app, services, '/admin/users', 'admin', async (ctx, request) => {
    const query = queryOf(request);
    const search = (query.q ?? '').slice(0, 200);
    const role = isRole(query.role) ? query.role : '';
    const users = await repos.users.list(
      { ...(search ? { search } : {}), ...(role ? { role } : {}) },
      { page: 1, per_page: 200 },
    );
    return AdminUsersPage({ ctx, users: users.items, search, role });
  });

  page(app, services, '/admin/users/:user_id', 'admin', async (ctx, request) => {
    const { user_id } = request.params as { user_id: string };
    const user = await repos.users.getById(user_id);
    if (!user) throw new AgnesError('not_found', 'user not found');
    return AdminUserPage({ ctx, user, attributes: await userAttributes(services.ctx, user.id) });
  });

  page(app, services, '/admin/permissions', 'admin', async (ctx) => {
    const [grants, choices] = await Promise.all([
      repos.permissions.listUserGrants({}, { page: 1, per_page: 200 }),
      grantChoices(),
    ]);
    return AdminPermissionsPage({ ctx, grants: grants.items, ...choices });
  });

  page(app, services, '/admin/groups', 'admin', async (ctx) => {
    const groups = await repos.groups.list({ page: 1, per_page: 200 });
    return AdminGroupsPage({ ctx, groups: groups.items });
  });

  page(app, services, '/admin/groups/:group_id', 'admin', async (ctx, request) => {
    const { group_id } = request.params as { group_id: string };
    const group = await repos.groups.getById(group_id);
    if (!group) throw new AgnesError('not_found', 'group not found');
    const [members, grants, choices] = await Promise.all([
      repos.groups.listMembers(group.id),
      repos.permissions.listForGroup(group.id),
      grantChoices(),
    ]);
    return AdminGroupPage({ ctx, group, members, grants, ...choices });
  });
}
