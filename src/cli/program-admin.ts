import type { Command } from 'commander';
import { collect, run, withGlobals } from './command-kit.js';
import * as admin from './commands/admin.js';
import * as data from './commands/admin-data.js';
import * as policies from './commands/admin-policies.js';

/** Flags of `da admin tables register|update` (06 §5.3 administration). */
function tableFlags(command: Command, registering: boolean): Command {
  if (registering) command.option('--id <id>', 'table id (default: derived from the name)');
  return command
    .option('--source <source>', 'source (connector instance) name')
    .option('--bucket <bucket>', 'bucket (dataset) of the table')
    .option('--source-table <name>', 'table name in the source')
    .option('--strategy <strategy>', 'sync strategy (full_refresh, incremental, partitioned)')
    .option('--primary-key <columns>', 'primary key columns, comma-separated')
    .option('--query-mode <mode>', 'local or remote')
    .option('--schedule <schedule>', 'sync schedule')
    .option('--public', 'readable by every user')
    .option('--hidden', 'not discoverable by users without access')
    .option('--description <text>', 'description');
}

function registerUsers(adminCommand: Command): void {
  const users = adminCommand.command('users').description('user accounts');
  withGlobals(users.command('list').description('list users')).action(run((ctx) => admin.usersList(ctx)));
  withGlobals(
    users
      .command('add')
      .description('add a user (an invitation is emailed unless --no-invite)')
      .argument('<email>', 'email')
      .option('--name <name>', 'display name')
      .option('--role <role>', 'role (viewer, analyst, km_admin, admin; default analyst)')
      .option('--no-invite', 'create without an invitation (send one later with: da admin users invite)')
      .option('--service', 'a service account (token access only)'),
  ).action(run((ctx, options: admin.AddUserOptions, email: string) => admin.usersAdd(ctx, options, email)));
  withGlobals(
    users
      .command('update')
      .description('change name, role or active flag')
      .argument('<user>', 'user id or email')
      .option('--name <name>', 'display name')
      .option('--role <role>', 'role')
      .option('--active <bool>', 'true or false'),
  ).action(
    run((ctx, options: { name?: string; role?: string; active?: string }, user: string) =>
      admin.usersUpdate(ctx, options, user),
    ),
  );
  withGlobals(
    users.command('remove').description('delete a user').argument('<user>', 'user id or email'),
  ).action(run((ctx, _options, user: string) => admin.usersRemove(ctx, user)));
  withGlobals(
    users
      .command('invite')
      .description('send a new invitation (setup link)')
      .argument('<user>', 'user id or email'),
  ).action(run((ctx, _options, user: string) => admin.usersInvite(ctx, user)));
  const attributes = users.command('attributes').description('attributes that row policies bind');
  withGlobals(
    attributes
      .command('get')
      .description("a user's stored and derived attributes")
      .argument('<user>', 'user id or email'),
  ).action(run((ctx, _options, user: string) => policies.attributesGet(ctx, user)));
  withGlobals(
    attributes
      .command('set')
      .description('replace every stored attribute of a user (no pairs: remove them all)')
      .argument('<user>', 'user id or email')
      .argument('[pairs...]', 'KEY=VALUE[,VALUE…]'),
  ).action(run((ctx, _options, user: string, pairs: string[]) => policies.attributesSet(ctx, user, pairs)));
}

/** Flags of a policy on `da admin policies add|update|preview` (12 §5); `--user` targets only where `targets`. */
function policyFlags(command: Command, targets: boolean): Command {
  command
    .option('--name <name>', 'policy name (unique per table)')
    .option('--description <text>', 'description')
    .option('--filter <sql>', "row filter over the table's columns; empty: all rows")
    .option('--everyone', 'applies to everyone who may read the table');
  if (targets) command.option('--user <user>', 'applies to this user, id or email (repeatable)', collect, []);
  return command
    .option('--group <group>', 'applies to this group, id or name (repeatable)', collect, [])
    .option('--mask <column=mask>', 'mask a column: COLUMN=null or COLUMN=hash (repeatable)', collect, [])
    .option('--disabled', 'saved but not applied (its readers see no rows through it)');
}

function registerPolicies(adminCommand: Command): void {
  const command = adminCommand.command('policies').description('row and column policies of tables');
  withGlobals(
    command
      .command('list')
      .description("a table's policies, each with its error")
      .argument('<table>', 'table id'),
  ).action(run((ctx, _options, table: string) => policies.policiesList(ctx, table)));
  withGlobals(
    policyFlags(
      command.command('add').description('add a policy to a table').argument('<table>', 'table id'),
      true,
    ),
  ).action(
    run((ctx, options: policies.PolicyFlags, table: string) => policies.policiesAdd(ctx, options, table)),
  );
  withGlobals(
    policyFlags(
      command
        .command('update')
        .description('change a policy: each given field replaces the stored one whole')
        .argument('<policy-id>', 'policy id'),
      true,
    )
      .option('--enabled', 'apply the policy again')
      .option('--clear-masks', 'mask no column any more'),
  ).action(
    run((ctx, options: policies.PolicyFlags, id: string) => policies.policiesUpdate(ctx, options, id)),
  );
  withGlobals(
    command
      .command('rm')
      .description("delete a policy; deleting a table's last one unbinds the table")
      .argument('<policy-id>', 'policy id'),
  ).action(run((ctx, _options, id: string) => policies.policiesRemove(ctx, id)));
  withGlobals(
    policyFlags(
      command
        .command('preview')
        .description('what a user would see, with the saved policies and an optional draft from the flags')
        .argument('<table>', 'table id')
        .requiredOption('--user <user>', 'the user to preview as, id or email'),
      false,
    ),
  ).action(
    run((ctx, options: Omit<policies.PolicyFlags, 'user'> & { user: string }, table: string) =>
      policies.policiesPreview(ctx, options, table),
    ),
  );
}

function registerTables(adminCommand: Command): void {
  const tables = adminCommand.command('tables').description('the table registry');
  withGlobals(
    tables
      .command('list')
      .description('list registered tables')
      .option('--source <source>', 'only this source'),
  ).action(run((ctx, options: { source?: string }) => data.tablesList(ctx, options)));
  withGlobals(
    tables
      .command('discover')
      .description('tables the configured sources offer; --register registers the unregistered ones')
      .option('--source <source>', 'only this source')
      .option('--register', 'register every discovered table that is not registered yet')
      .option('--dry-run', 'with --register: only print what would be registered'),
  ).action(
    run((ctx, options: { source?: string; register?: boolean; dryRun?: boolean }) =>
      data.tablesDiscover(ctx, options),
    ),
  );
  withGlobals(
    tableFlags(
      tables.command('register').description('register a table').argument('<name>', 'table name'),
      true,
    ),
  ).action(run((ctx, options: data.TableFlags, name: string) => data.tablesRegister(ctx, options, name)));
  withGlobals(
    tableFlags(
      tables.command('update').description('change a registered table').argument('<id>', 'table id'),
      false,
    ),
  ).action(run((ctx, options: data.TableFlags, id: string) => data.tablesUpdate(ctx, options, id)));
  withGlobals(
    tables.command('unregister').description('remove a table from the registry').argument('<id>', 'table id'),
  ).action(run((ctx, _options, id: string) => data.tablesUnregister(ctx, id)));
}

function registerPermissions(adminCommand: Command): void {
  const permissions = adminCommand.command('permissions').description('dataset grants of users');
  withGlobals(
    permissions
      .command('list')
      .description('list grants')
      .option('--user <user>', "one user's grants (id or email)"),
  ).action(run((ctx, options: { user?: string }) => admin.permissionsList(ctx, options)));
  for (const verb of ['grant', 'revoke'] as const) {
    withGlobals(
      permissions
        .command(verb)
        .description(
          verb === 'grant' ? 'grant a user read on a dataset' : "revoke a user's grant on a dataset",
        )
        .requiredOption('--user <user>', 'user id or email')
        .requiredOption('--dataset <dataset>', 'table id or <bucket>.*'),
    ).action(
      run((ctx, options: { user: string; dataset: string }) =>
        verb === 'grant' ? admin.permissionsGrant(ctx, options) : admin.permissionsRevoke(ctx, options),
      ),
    );
  }
  withGlobals(
    permissions
      .command('check')
      .description('may this user read this table, and why')
      .requiredOption('--user <user>', 'user id or email')
      .requiredOption('--table <table>', 'table id'),
  ).action(run((ctx, options: { user: string; table: string }) => admin.permissionsCheck(ctx, options)));
}

function registerGroups(adminCommand: Command): void {
  const groups = adminCommand.command('groups').description('user groups and their dataset grants');
  withGlobals(groups.command('list').description('list groups')).action(run((ctx) => admin.groupsList(ctx)));
  withGlobals(
    groups
      .command('create')
      .description('create a group')
      .argument('<name>', 'group name')
      .option('--description <text>', 'description'),
  ).action(
    run((ctx, options: { description?: string }, name: string) => admin.groupsCreate(ctx, options, name)),
  );
  withGlobals(
    groups.command('delete').description('delete a group').argument('<group>', 'group id or name'),
  ).action(run((ctx, _options, group: string) => admin.groupsDelete(ctx, group)));
  const pairs = [
    ['add-member', 'add a user to a group', '<user>', 'user id or email', admin.groupsAddMember],
    ['remove-member', 'remove a user from a group', '<user>', 'user id or email', admin.groupsRemoveMember],
    ['grant', 'grant a group read on a dataset', '<dataset>', 'table id or <bucket>.*', admin.groupsGrant],
    [
      'revoke',
      "revoke a group's grant on a dataset",
      '<dataset>',
      'table id or <bucket>.*',
      admin.groupsRevoke,
    ],
  ] as const;
  for (const [name, description, second, secondHelp, action] of pairs) {
    withGlobals(
      groups
        .command(name)
        .description(description)
        .argument('<group>', 'group id or name')
        .argument(second, secondHelp),
    ).action(run((ctx, _options, group: string, other: string) => action(ctx, group, other)));
  }
}

/** `da admin …` (06 §5.3 administration); the server enforces the admin role, `da` only maps 403 to exit 4. */
export function registerAdmin(program: Command): void {
  const adminCommand = program.command('admin').description('administration (admin role)');
  registerUsers(adminCommand);
  registerTables(adminCommand);
  registerPermissions(adminCommand);
  registerGroups(adminCommand);
  registerPolicies(adminCommand);

  const requests = adminCommand.command('access-requests').description('requests for access to tables');
  withGlobals(requests.command('list').description('list pending requests')).action(
    run((ctx) => admin.accessRequestsList(ctx)),
  );
  for (const decision of ['approve', 'deny'] as const) {
    withGlobals(
      requests
        .command(decision)
        .description(`${decision} a request`)
        .argument('<id>', 'request id')
        .option('--note <text>', 'note to the requester'),
    ).action(
      run((ctx, options: { note?: string }, id: string) =>
        admin.accessRequestDecide(ctx, decision, options, id),
      ),
    );
  }

  withGlobals(
    adminCommand
      .command('rebuild')
      .description('rebuild the analytics views now; exit 1 if a source failed')
      .option('--source <source>', 'only this source'),
  ).action(run((ctx, options: { source?: string }) => data.rebuild(ctx, options)));

  withGlobals(
    adminCommand
      .command('sync')
      .description('trigger extraction jobs on the server')
      .option('--table <id>', 'only this table (repeatable)', collect, [])
      .option('--source <source>', 'only this source')
      .option('--wait', 'wait for the jobs; exit 1 on a failed or partial job'),
  ).action(
    run((ctx, options: { table: string[]; source?: string; wait?: boolean }) => data.adminSync(ctx, options)),
  );
}
