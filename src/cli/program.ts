import { Command, InvalidArgumentError, Option } from 'commander';
import { PACKAGE_VERSION } from '../core/package-info.js';
import * as auth from './commands/auth.js';
import { sync } from './commands/sync.js';
import { type CliContext, cliContext, type GlobalOptions } from './context.js';
import { EXIT } from './errors.js';

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The options every command accepts, in any position (06 §1). */
function withGlobals(command: Command): Command {
  return command
    .option('--server <url>', 'server URL for this invocation (flag > DA_SERVER > config)')
    .option('--json', 'machine output: exactly one JSON document on stdout')
    .option('--quiet', 'no progress; only errors and the result')
    .option('--local-dir <dir>', 'local data root (flag > DA_LOCAL_DIR > current directory)')
    .option('--no-color', 'no colour (also NO_COLOR)')
    .option('--verbose', 'log HTTP requests (method, path, status, duration) to stderr');
}

/**
 * Wraps a command body: commander passes the positional arguments, the command's own options and
 * the command; the body gets a context built from the merged global options. Errors become one
 * line (or the JSON error document) and the exit codes of 06 §3.
 */
function run<O, A extends unknown[]>(
  body: (ctx: CliContext, options: O, ...args: A) => Promise<number | undefined | void>,
) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const ctx = cliContext(command.optsWithGlobals() as GlobalOptions);
    try {
      const code = await body(ctx, args[args.length - 2] as O, ...(args.slice(0, -2) as A));
      process.exitCode = typeof code === 'number' ? code : EXIT.ok;
    } catch (error) {
      process.exitCode = ctx.out.error(error);
    }
  };
}

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
  ).action(
    run(
      (
        ctx,
        options: {
          table: string[];
          dataset?: string;
          parallel: number;
          dryRun: boolean;
          verify: boolean;
          prune: boolean;
          uploadOnly: boolean;
        },
      ) => sync(ctx, options),
    ),
  );

  withGlobals(
    program
      .command('version')
      .description('print the CLI version (and the server version when one is configured)'),
  ).action(
    run(async (ctx) => {
      ctx.out.result({ version: PACKAGE_VERSION }, () => `da ${PACKAGE_VERSION}`);
    }),
  );
  return program;
}
