import { Command, Option } from 'commander';
import { PACKAGE_VERSION } from '../core/package-info.js';
import { collect, integer, run, withGlobals } from './command-kit.js';
import * as auth from './commands/auth.js';
import { type SyncCommandOptions, sync } from './commands/sync.js';
import { registerAdmin } from './program-admin.js';
import { registerData } from './program-data.js';
import { registerMemory } from './program-memory.js';
import { registerTools } from './program-tools.js';

export function daProgram(): Command {
  const program = withGlobals(
    new Command('da')
      .description('Agnes data CLI: sync the tables you may read and query them locally with DuckDB')
      .version(PACKAGE_VERSION, '-V, --version', 'print the CLI version')
      .showHelpAfterError()
      .exitOverride(),
  );

  const authCommand = program
    .command('auth')
    .description('sign in, check who you are, sign out, manage tokens');
  withGlobals(
    authCommand
      .command('login')
      .description('sign in by password or magic link and store a personal access token for this server')
      .option('--email <email>', 'account email (prompted on a terminal)')
      .option('--password-stdin', 'read the password from stdin')
      .option('--magic-link', 'sign in with a link sent by email')
      .option('--token <pat>', 'store an existing personal access token (- reads it from stdin)')
      .option('--token-name <name>', 'name of the token to create (default: da on <hostname>)')
      .option('--expires-days <days>', 'token lifetime in days (default: the server default)', integer),
  ).action(run(auth.login));
  withGlobals(
    authCommand.command('whoami').description('show the signed-in user and the token expiry'),
  ).action(run((ctx) => auth.whoami(ctx)));
  withGlobals(
    authCommand.command('logout').description('revoke the token on the server and forget it locally'),
  ).action(run((ctx) => auth.logout(ctx)));
  const tokens = authCommand.command('tokens').description('your personal access tokens');
  withGlobals(tokens.command('list').description('list your tokens')).action(
    run((ctx) => auth.listTokens(ctx)),
  );
  withGlobals(tokens.command('revoke').description('revoke a token').argument('<id>', 'token id')).action(
    run((ctx, _options, id: string) => auth.revokeToken(ctx, id)),
  );

  withGlobals(
    program
      .command('sync')
      .description('download the tables you may read (changed files only) and update the local DuckDB views')
      .option('--table <id>', 'only this table (repeatable)', collect, [])
      .option('--dataset <name>', 'only the tables of this dataset')
      .addOption(new Option('--parallel <n>', 'concurrent downloads (1-16)').argParser(integer).default(4))
      .option('--dry-run', 'print the plan without downloading or changing views', false)
      .option('--verify', 're-hash every local file and download mismatches', false)
      .option('--no-prune', 'keep local copies of tables the manifest no longer lists')
      .option('--upload-only', 'upload session transcripts and local notes instead of downloading', false),
  ).action(run((ctx, options: SyncCommandOptions) => sync(ctx, options)));

  registerData(program);
  registerAdmin(program);
  registerTools(program);
  registerMemory(program);
  return program;
}
