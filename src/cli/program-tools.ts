import type { Command } from 'commander';
import { run, withGlobals } from './command-kit.js';
import { mcp } from './commands/mcp.js';
import { bootstrap, verify } from './commands/setup.js';
import * as skills from './commands/skills.js';
import { version } from './commands/version.js';

/** `da setup`, `da skills`, `da mcp` and `da version` (06 §5.4). */
export function registerTools(program: Command): void {
  const setup = program.command('setup').description('bootstrap a fresh server or verify an installation');
  withGlobals(
    setup
      .command('bootstrap')
      .description(
        'create the first admin of a fresh server and sign in (AGNES_BOOTSTRAP_TOKEN is sent when set)',
      )
      .argument('<email>', 'email of the first admin')
      .option('--name <name>', 'display name')
      .option('--password-stdin', 'read the password from stdin'),
  ).action(
    run((ctx, options: { name?: string; passwordStdin?: boolean }, email: string) =>
      bootstrap(ctx, options, email),
    ),
  );
  withGlobals(
    setup
      .command('verify')
      .description('check server, sign-in, data, web UI and API docs; exit 1 on a failure'),
  ).action(run((ctx) => verify(ctx)));

  const skillsCommand = program
    .command('skills')
    .description('guides for AI coding assistants, bundled with da');
  withGlobals(skillsCommand.command('list').description('list the bundled guides')).action(
    run((ctx) => skills.list(ctx)),
  );
  withGlobals(
    skillsCommand.command('show').description('print one guide').argument('<name>', 'guide name'),
  ).action(run((ctx, _options, name: string) => skills.show(ctx, name)));
  withGlobals(
    skillsCommand
      .command('install')
      .description('write the guides as <dir>/agnes-<name>/SKILL.md (only files da wrote are replaced)')
      .option('--dir <dir>', 'target directory (default: .claude/skills in the local dir)'),
  ).action(run((ctx, options: { dir?: string }) => skills.install(ctx, options)));

  program
    .command('mcp')
    .description('serve Agnes to an AI agent over MCP on stdio (local queries first, the server otherwise)')
    .option('--server <url>', 'server URL for this invocation (flag > DA_SERVER > config)')
    .option('--local-dir <dir>', 'local data root (flag > DA_LOCAL_DIR > current directory)')
    .option('--verbose', 'log HTTP requests (method, path, status, duration) to stderr')
    .action(run((ctx) => mcp(ctx), { stdoutReserved: true }));

  withGlobals(
    program
      .command('version')
      .description('print the CLI version (and the server version when one is configured)'),
  ).action(run((ctx) => version(ctx)));
}
