import type { UserAttributesView } from '../../../contract/index.js';
import { ROLES } from '../../../core/access/roles.js';
import type {
  Group,
  GroupMember,
  GroupPermission,
  GroupSummary,
  User,
  UserPermissionWithEmail,
} from '../../../core/state/repositories/index.js';
import type { Role } from '../../../core/state/schema.js';
import {
  ActionButton,
  ApiForm,
  Badge,
  ChoiceSelect,
  DataTable,
  Facts,
  fmtDate,
  Options,
} from '../components/bits.js';
import { Layout, type PageContext } from '../components/layout.js';
import { AttributesEditor } from './user-attributes.js';

/** Admin pages for users, groups and grants (09 §2); every change goes through the JSON API. */

function RoleSelect(props: { id: string; value?: Role }) {
  return (
    <select id={props.id} name="role">
      <Options values={ROLES} selected={props.value ?? 'analyst'} />
    </select>
  );
}

/** Dataset choices of a grant form: registered tables and `<bucket>.*` for every bucket. */
function DatasetSelect(props: { id: string; tables: string[]; buckets: string[] }) {
  return (
    <select id={props.id} name="dataset" required>
      <Options values={props.tables} />
      {props.buckets.map((b) => (
        <option key={b} value={`${b}.*`}>
          {`${b}.*`}
        </option>
      ))}
    </select>
  );
}

function UserSelect(props: { id: string; users: Pick<User, 'id' | 'email'>[]; name?: string }) {
  return (
    <select id={props.id} name={props.name ?? 'user_id'} required>
      {props.users.map((u) => (
        <option key={u.id} value={u.id}>
          {u.email}
        </option>
      ))}
    </select>
  );
}

export function AdminUsersPage(props: { ctx: PageContext; users: User[]; search: string; role: string }) {
  const { ctx } = props;
  return (
    <Layout ctx={ctx} title="Users">
      <h1>Users</h1>
      <form method="get" action="/admin/users" class="card" aria-label="Filter users">
        <div class="row">
          <div>
            <label for="user-search">Search</label>
            <input id="user-search" name="q" type="search" value={props.search} maxLength={200} />
          </div>
          <div>
            <ChoiceSelect
              id="user-role-filter"
              name="role"
              label="Role"
              anyLabel="Any role"
              values={ROLES}
              selected={props.role}
            />
          </div>
          <div class="shrink">
            <button type="submit">Filter</button>
          </div>
        </div>
      </form>
      <section class="card" aria-labelledby="create-h">
        <h2 id="create-h">Create a user</h2>
        <ApiForm csrf={ctx.csrfToken} api="/api/users" show="setup_url" label="Create a user">
          <div class="row">
            <div>
              <label for="new-email">Email</label>
              <input id="new-email" name="email" type="email" required maxLength={254} />
            </div>
            <div>
              <label for="new-name">Name</label>
              <input id="new-name" name="name" type="text" maxLength={200} />
            </div>
            <div>
              <label for="new-role">Role</label>
              <RoleSelect id="new-role" />
            </div>
          </div>
          <label class="inline" for="new-invite">
            <input id="new-invite" name="send_invite" type="checkbox" checked /> Send an invite email
          </label>
          <label class="inline" for="new-service">
            <input id="new-service" name="is_service" type="checkbox" /> Service account
          </label>
          <button type="submit">Create user</button>
          <div data-result hidden>
            <p>No email was sent. Give the user this one-time setup link:</p>
            <pre class="secret" data-result-value tabIndex={-1} />
            <a href="/admin/users">Done</a>
          </div>
        </ApiForm>
      </section>
      <section class="card" aria-labelledby="users-h">
        <h2 id="users-h">Users ({props.users.length})</h2>
        <DataTable headings={['User', 'Role and status', 'Last login', { label: 'Actions', quiet: true }]}>
          {props.users.map((u) => (
            <tr key={u.id}>
              <td>
                <a href={`/admin/users/${u.id}`}>{u.name || u.email}</a>
                <div class="muted">{u.email}</div>
                {u.is_service ? <Badge>service</Badge> : null}
              </td>
              <td>
                <ApiForm
                  csrf={ctx.csrfToken}
                  api={`/api/users/${u.id}`}
                  method="PATCH"
                  label={`Edit ${u.email}`}
                >
                  <label for={`role-${u.id}`}>Role of {u.email}</label>
                  <RoleSelect id={`role-${u.id}`} value={u.role} />
                  <label class="inline" for={`active-${u.id}`}>
                    <input id={`active-${u.id}`} name="active" type="checkbox" checked={u.active} /> Active
                  </label>
                  <button type="submit" class="small">
                    Save
                  </button>
                </ApiForm>
              </td>
              <td>{fmtDate(u.last_login_at)}</td>
              <td>
                <ActionButton
                  csrf={ctx.csrfToken}
                  api={`/api/users/${u.id}/invite`}
                  label={`Re-send the invite of ${u.email}`}
                  text="Re-send invite"
                />{' '}
                <ActionButton
                  csrf={ctx.csrfToken}
                  api={`/api/users/${u.id}`}
                  method="DELETE"
                  confirm={`Delete ${u.email}?`}
                  danger
                  label={`Delete ${u.email}`}
                  text="Delete"
                />
              </td>
            </tr>
          ))}
        </DataTable>
      </section>
    </Layout>
  );
}

export function AdminPermissionsPage(props: {
  ctx: PageContext;
  grants: UserPermissionWithEmail[];
  users: Pick<User, 'id' | 'email'>[];
  tables: string[];
  buckets: string[];
}) {
  const { ctx } = props;
  return (
    <Layout ctx={ctx} title="Permissions">
      <h1>Permissions</h1>
      <div class="grid">
        <section class="card" aria-labelledby="grant-h">
          <h2 id="grant-h">Grant access</h2>
          <ApiForm csrf={ctx.csrfToken} api="/api/admin/permissions" label="Grant access">
            <label for="grant-user">User</label>
            <UserSelect id="grant-user" users={props.users} />
            <label for="grant-dataset">Table or bucket</label>
            <DatasetSelect id="grant-dataset" tables={props.tables} buckets={props.buckets} />
            <button type="submit">Grant read access</button>
          </ApiForm>
        </section>
        <section class="card" aria-labelledby="check-h">
          <h2 id="check-h">Access checker</h2>
          <ApiForm
            csrf={ctx.csrfToken}
            api="/api/admin/access-check"
            method="GET"
            show="*"
            label="Check access"
          >
            <label for="check-user">User</label>
            <UserSelect id="check-user" users={props.users} />
            <label for="check-table">Table id</label>
            <input id="check-table" name="table_id" type="text" required maxLength={300} />
            <button type="submit" class="secondary">
              Check
            </button>
            <div data-result hidden>
              <pre data-result-value tabIndex={-1} />
            </div>
          </ApiForm>
        </section>
      </div>
      <section class="card" aria-labelledby="grants-h">
        <h2 id="grants-h">User grants ({props.grants.length})</h2>
        <DataTable headings={['User', 'Dataset', 'Access', 'Granted', { label: 'Actions', quiet: true }]}>
          {props.grants.map((g) => (
            <tr key={`${g.user_id}-${g.dataset}`}>
              <td>{g.email}</td>
              <td>
                <code>{g.dataset}</code>
              </td>
              <td>{g.access}</td>
              <td>{fmtDate(g.granted_at)}</td>
              <td>
                <ActionButton
                  csrf={ctx.csrfToken}
                  api={`/api/admin/permissions?${new URLSearchParams({ user_id: g.user_id, dataset: g.dataset })}`}
                  method="DELETE"
                  confirm={`Revoke ${g.email} on ${g.dataset}?`}
                  danger
                  label={`Revoke ${g.email} on ${g.dataset}`}
                  text="Revoke"
                />
              </td>
            </tr>
          ))}
        </DataTable>
      </section>
    </Layout>
  );
}

export function AdminGroupsPage(props: { ctx: PageContext; groups: GroupSummary[] }) {
  const { ctx } = props;
  return (
    <Layout ctx={ctx} title="Groups">
      <h1>Groups</h1>
      <section class="card" aria-labelledby="newgroup-h">
        <h2 id="newgroup-h">Create a group</h2>
        <ApiForm csrf={ctx.csrfToken} api="/api/admin/groups" label="Create a group">
          <div class="row">
            <div>
              <label for="group-name">Name</label>
              <input id="group-name" name="name" type="text" required maxLength={100} />
            </div>
            <div>
              <label for="group-desc">Description</label>
              <input id="group-desc" name="description" type="text" maxLength={500} />
            </div>
            <div class="shrink">
              <button type="submit">Create group</button>
            </div>
          </div>
        </ApiForm>
      </section>
      <section class="card" aria-labelledby="groups-h">
        <h2 id="groups-h">Groups ({props.groups.length})</h2>
        <DataTable
          compact
          headings={['Group', { label: 'Members', num: true }, { label: 'Grants', num: true }]}
        >
          {props.groups.map((g) => (
            <tr key={g.id}>
              <td>
                <a href={`/admin/groups/${g.id}`}>{g.name}</a>
                {g.description ? <div class="muted">{g.description}</div> : null}
              </td>
              <td class="num">{g.member_count}</td>
              <td class="num">{g.permission_count}</td>
            </tr>
          ))}
        </DataTable>
      </section>
    </Layout>
  );
}

export function AdminGroupPage(props: {
  ctx: PageContext;
  group: Group;
  members: GroupMember[];
  grants: GroupPermission[];
  users: Pick<User, 'id' | 'email'>[];
  tables: string[];
  buckets: string[];
}) {
  const { ctx, group } = props;
  const base = `/api/admin/groups/${group.id}`;
  return (
    <Layout ctx={ctx} title={`Group ${group.name}`}>
      <h1>Group {group.name}</h1>
      {group.description ? <p>{group.description}</p> : null}
      <div class="grid">
        <section class="card" aria-labelledby="members-h">
          <h2 id="members-h">Members ({props.members.length})</h2>
          <ApiForm csrf={ctx.csrfToken} api={`${base}/members`} label="Add a member">
            <label for="member-user">Add user</label>
            <UserSelect id="member-user" users={props.users} />
            <button type="submit">Add member</button>
          </ApiForm>
          <ul>
            {props.members.map((m) => (
              <li key={m.id}>
                {m.name} <span class="muted">{m.email}</span>{' '}
                <ActionButton
                  csrf={ctx.csrfToken}
                  api={`${base}/members/${m.id}`}
                  method="DELETE"
                  danger
                  label={`Remove ${m.email}`}
                  text="Remove"
                />
              </li>
            ))}
          </ul>
        </section>
        <section class="card" aria-labelledby="ggrants-h">
          <h2 id="ggrants-h">Grants ({props.grants.length})</h2>
          <ApiForm csrf={ctx.csrfToken} api={`${base}/permissions`} label="Add a grant">
            <label for="ggrant-dataset">Table or bucket</label>
            <DatasetSelect id="ggrant-dataset" tables={props.tables} buckets={props.buckets} />
            <button type="submit">Grant read access</button>
          </ApiForm>
          <ul>
            {props.grants.map((g) => (
              <li key={g.dataset}>
                <code>{g.dataset}</code> ({g.access}){' '}
                <ActionButton
                  csrf={ctx.csrfToken}
                  api={`${base}/permissions?${new URLSearchParams({ dataset: g.dataset })}`}
                  method="DELETE"
                  danger
                  label={`Remove grant ${g.dataset}`}
                  text="Remove"
                />
              </li>
            ))}
          </ul>
        </section>
      </div>
      <ActionButton
        csrf={ctx.csrfToken}
        api={base}
        method="DELETE"
        confirm={`Delete the group ${group.name}? Its grants end.`}
        danger
        label={`Delete group ${group.name}`}
        text="Delete group"
      />
      <p>
        <a href="/admin/groups">All groups</a>
      </p>
    </Layout>
  );
}

/** `/admin/users/{id}`: one user's account facts and the attributes their row policies bind. */
export function AdminUserPage(props: { ctx: PageContext; user: User; attributes: UserAttributesView }) {
  const { ctx, user } = props;
  return (
    <Layout ctx={ctx} title={`User ${user.email}`} scripts={['user-attributes']}>
      <h1>User {user.email}</h1>
      <section class="card" aria-label="Account">
        <Facts
          facts={
            [
              ['Name', user.name || '—'],
              ['Role', user.role],
              ['Active', user.active ? 'yes' : 'no'],
              ['Last login', fmtDate(user.last_login_at)],
            ] as [string, string][]
          }
        />
        <a href="/admin/users">All users</a>
      </section>
      <AttributesEditor userId={user.id} view={props.attributes} />
    </Layout>
  );
}
