import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { ROLES } from '../core/access/roles.js';
import { PACKAGE_VERSION } from '../core/package-info.js';
import type { Role } from '../core/state/schema.js';
import { backup, restore } from './commands/backup.js';
import { catalogExport } from './commands/catalog-export.js';
import { configCheck } from './commands/config-check.js';
import { corporateMemoryCommand } from './commands/corporate-memory.js';
import { demo } from './commands/demo.js';
import { extractChild, extractSource, validate } from './commands/extract.js';
import { migrate } from './commands/migrate.js';
import { profile } from './commands/profile.js';
import { rebuild } from './commands/rebuild.js';
import { type SampleDataOptions, sampleData } from './commands/sample-data.js';
import { schedulerCommand } from './commands/scheduler.js';
import { serve } from './commands/serve.js';
import { sessionCollectorCommand } from './commands/session-collector.js';
import { telegramBotCommand } from './commands/telegram-bot.js';
import { createTokenCommand, listTokensCommand, revokeTokenCommand } from './commands/tokens.js';
import {
  createUserCommand,
  deactivateCommand,
  listUsersCommand,
  setPasswordCommand,
  setRoleCommand,
} from './commands/users.js';
import { printVersion } from './commands/version.js';
import { wsGatewayCommand } from './commands/ws-gateway.js';
import { SAMPLE_SIZES, type SampleSize } from './demo/sample/sizes.js';
import { failAndExit } from './output.js';

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function isoDate(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new InvalidArgumentError('must be a date YYYY-MM-DD');
  }
  return value;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Runs a command body; a returned number becomes the exit code, a thrown error a clean message. */
function run<A extends unknown[]>(body: (...args: A) => unknown) {
  return async (...args: A) => {
    try {
      const code = await body(...args);
      if (typeof code === 'number') process.exitCode = code;
    } catch (error) {
      failAndExit(error);
    }
  };
}

/** The `agnes` executable (01 §6): server, services and operator commands. */
export function agnesProgram(): Command {
  const program = new Command('agnes')
    .description('Agnes — data distribution for AI analysts: server and operator commands')
    .version(PACKAGE_VERSION)
    .showHelpAfterError()
    .enablePositionalOptions();

  program
    .command('serve')
    .description('apply migrations and serve the API and web UI')
    .option('--host <host>', 'interface to listen on (default: server.host)')
    .option('--port <port>', 'port to listen on (default: server.port)', integer)
    .action(run((opts: { host?: string; port?: number }) => serve(opts)));

  program
    .command('scheduler')
    .description(
      "trigger scheduled jobs through the app's API with a service account's token (AGNES_API_URL, AGNES_TOKEN or AGNES_TOKEN_FILE)",
    )
    .action(run(() => schedulerCommand()));

  program
    .command('telegram-bot')
    .description(
      'answer Telegram chats and deliver notifications (telegram.bot_token; AGNES_API_URL, AGNES_TOKEN or AGNES_TOKEN_FILE; AGNES_DISPATCH_TOKEN for /send)',
    )
    .action(run(() => telegramBotCommand()));

  program
    .command('ws-gateway')
    .description(
      "serve live notifications over WebSocket, authenticating through the app with a service account's token (AGNES_API_URL, AGNES_TOKEN or AGNES_TOKEN_FILE; AGNES_DISPATCH_TOKEN)",
    )
    .action(run(() => wsGatewayCommand()));

  program
    .command('corporate-memory')
    .description(
      "learn knowledge items from uploaded notes with the configured LLM and submit them with a km_admin service account's token (AGNES_API_URL, AGNES_TOKEN or AGNES_TOKEN_FILE)",
    )
    .option(
      '--once',
      'run one cycle and exit: 0 completed or idle, 1 a file failed, 3 token or account refused',
      false,
    )
    .option(
      '--dry-run',
      'print each would-be item as a JSON line; store nothing, move no cursor (one cycle)',
      false,
    )
    .action(run((opts: { once: boolean; dryRun: boolean }) => corporateMemoryCommand(opts)));

  program
    .command('session-collector')
    .description("file the da CLI's uploaded session transcripts by user and month; needs DATA_DIR only")
    .option('--once', 'run one cycle and exit: 0, or 1 when a file could not be handled', false)
    .action(run((opts: { once: boolean }) => sessionCollectorCommand(opts)));

  program
    .command('demo')
    .description('create or reuse a demo instance with sample data, print its logins and serve it')
    .option('--data-dir <dir>', 'demo data directory (default: $DATA_DIR or ./demo-data)')
    .addOption(new Option('--size <size>', 'sample data size').choices(SAMPLE_SIZES).default('s'))
    .option('--host <host>', 'interface to listen on', 'localhost')
    .option('--port <port>', 'port to listen on', integer)
    .option('--reset', 'wipe the demo data directory first', false)
    .action(
      run((opts: { dataDir?: string; size: SampleSize; host: string; port?: number; reset: boolean }) =>
        demo({ dataDir: opts.dataDir, size: opts.size, host: opts.host, port: opts.port, reset: opts.reset }),
      ),
    );

  program
    .command('migrate')
    .description('apply pending state-store migrations')
    .option('--status', 'list applied and pending migrations', false)
    .action(run((opts: { status: boolean }) => migrate(opts)));

  program
    .command('rebuild')
    .description('publish the extracts as analytics views once and print the rebuild report')
    .option('--source <name>', 'rebuild one source only')
    .option('--json', 'print the report as JSON', false)
    .action(run((opts: { source?: string; json: boolean }) => rebuild(opts)));

  const extract = program
    .command('extract')
    .description("run a source's extractor, then publish it (or validate an extract directory)")
    .option('--source <name>', 'the source to extract')
    .option('--table <id>', 'limit to a table (repeatable)', collect, [])
    .option('--full-refresh', 'ignore watermarks and unchanged-input shortcuts', false)
    .option('--stdin-config', 'internal: run as the extractor child of a sync job', false)
    .option('--json', 'print the job as JSON', false)
    .action(
      run(
        (opts: {
          source?: string;
          table: string[];
          fullRefresh: boolean;
          stdinConfig: boolean;
          json: boolean;
        }) => {
          if (opts.stdinConfig) return extractChild();
          if (!opts.source) {
            process.stderr.write('agnes extract: give --source NAME (or use `agnes extract validate DIR`)\n');
            return 2;
          }
          return extractSource({
            source: opts.source,
            tables: opts.table,
            fullRefresh: opts.fullRefresh,
            json: opts.json,
          });
        },
      ),
    );
  extract
    .command('validate <dir>')
    .description('check an extract directory against every rule of the extract contract')
    .option('--json', 'print findings as JSON', false)
    .action(run((dir: string, opts: { json: boolean }) => validate(dir, opts)));

  program
    .command('profile')
    .description('profile tables and store the results')
    .option('--table <id>', 'profile this table (repeatable)', collect, [])
    .option('--all', 're-profile every published table', false)
    .option('--json', 'print the report as JSON', false)
    .action(
      run((opts: { table: string[]; all: boolean; json: boolean }) =>
        profile({ tables: opts.table, all: opts.all, json: opts.json }),
      ),
    );

  program
    .command('catalog-export')
    .description(
      'export OpenMetadata metrics and table docs to DATA_DIR/docs (files without the marker line are kept)',
    )
    .option('--json', 'print the report as JSON', false)
    .action(run((opts: { json: boolean }) => catalogExport(opts)));

  program
    .command('generate-sample-data')
    .description('write the deterministic sample data set')
    .requiredOption('--out <dir>', 'output directory')
    .addOption(new Option('--size <size>', 'base size').choices(SAMPLE_SIZES).default('s'))
    .option('--scale <factor>', 'multiply every row count', positive, 1)
    .option('--seed <n>', 'random seed', integer, 42)
    .option('--end-date <date>', 'last day (exclusive) of the data', isoDate, '2026-03-01')
    .addOption(new Option('--format <format>', 'file format').choices(['parquet', 'csv']).default('parquet'))
    .action(run((opts: SampleDataOptions) => sampleData(opts)));

  const users = program.command('users').description('manage users without HTTP (first admin, recovery)');
  users
    .command('create')
    .description('create a user; an admin needs --password-stdin unless it is a --service account')
    .requiredOption('--email <email>', 'email address (sign-in name)')
    .option('--name <name>', 'display name')
    .addOption(new Option('--role <role>', 'role').choices(ROLES).default('analyst'))
    .option('--password-stdin', 'read the password from stdin (policy applies)', false)
    .option('--service', 'service account: no password, personal access tokens only', false)
    .action(
      run((opts: { email: string; name?: string; role: Role; passwordStdin: boolean; service: boolean }) =>
        createUserCommand(opts),
      ),
    );
  users
    .command('list')
    .description('list users by email')
    .option('--json', 'print as JSON', false)
    .action(run((opts: { json: boolean }) => listUsersCommand(opts)));
  users
    .command('set-role')
    .description("change a user's role (the last active admin cannot be demoted)")
    .argument('<email>', "the user's email")
    .addArgument(new Argument('<role>', 'the new role').choices(ROLES))
    .action(run((email: string, role: Role) => setRoleCommand(email, role)));
  users
    .command('set-password')
    .description("set a user's password from stdin; their sessions end")
    .argument('<email>', "the user's email")
    .option('--password-stdin', 'read the password from stdin (required)', false)
    .action(run((email: string, opts: { passwordStdin: boolean }) => setPasswordCommand(email, opts)));
  users
    .command('deactivate')
    .description('deactivate a user: sessions end, tokens are revoked')
    .argument('<email>', "the user's email")
    .action(run((email: string) => deactivateCommand(email)));

  const tokens = program
    .command('tokens')
    .description('personal access tokens, typically for service accounts');
  tokens
    .command('create')
    .description('create a token and print it once')
    .requiredOption('--user <email>', "the owner's email")
    .requiredOption('--name <name>', 'what the token is for (1–100 characters)')
    .option('--expires-days <days>', 'lifetime in days (default auth.pat.default_expiry_days)', integer)
    .action(run((opts: { user: string; name: string; expiresDays?: number }) => createTokenCommand(opts)));
  tokens
    .command('list')
    .description("list a user's tokens (prefixes only)")
    .requiredOption('--user <email>', "the owner's email")
    .option('--json', 'print as JSON', false)
    .action(run((opts: { user: string; json: boolean }) => listTokensCommand(opts)));
  tokens
    .command('revoke')
    .description('revoke a token by id')
    .argument('<id>', 'the token id (see tokens list)')
    .action(run((id: string) => revokeTokenCommand(id)));

  const config = program.command('config').description('configuration tools');
  config
    .command('check')
    .description('validate instance.yaml and the environment')
    .option('--print', 'print the resolved configuration with secrets masked', false)
    .action(run((opts: { print: boolean }) => configCheck(opts)));

  program
    .command('backup')
    .description('write a consistent snapshot of the state store (and extracts) to a new directory')
    .requiredOption('--out <dir>', 'the snapshot directory to create (must not exist)')
    .option('--include-extracts', "copy each source's extract.duckdb and data/ too", false)
    .action(run((opts: { out: string; includeExtracts: boolean }) => backup(opts)));

  program
    .command('restore')
    .description('restore a snapshot into DATA_DIR (no server may run on it) and rebuild')
    .requiredOption('--from <dir>', 'the snapshot directory')
    .option('--force', 'replace a state store that holds users, and the extracts', false)
    .action(run((opts: { from: string; force: boolean }) => restore(opts)));

  program
    .command('version')
    .description('print package, DuckDB and state schema versions')
    .action(run(() => printVersion()));

  return program;
}
