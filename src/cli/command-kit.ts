import { type Command, InvalidArgumentError } from 'commander';
import { type CliContext, cliContext, type GlobalOptions } from './context.js';
import { EXIT } from './errors.js';

/** Building blocks shared by every command registration of the `da` program. */

export function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The options every command accepts, in any position (06 §1). */
export function withGlobals(command: Command): Command {
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
export function run<O, A extends unknown[]>(
  // biome-ignore lint/suspicious/noConfusingVoidType: a body that only prints returns nothing, which means exit 0
  body: (ctx: CliContext, options: O, ...args: A) => Promise<number | undefined | void>,
  /** `stdoutReserved`: stdout carries a protocol (`da mcp`), so even `--json` errors go to stderr. */
  mode: { stdoutReserved?: boolean } = {},
) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const globals = command.optsWithGlobals() as GlobalOptions;
    const ctx = cliContext(mode.stdoutReserved ? { ...globals, json: false } : globals);
    try {
      const code = await body(ctx, args[args.length - 2] as O, ...(args.slice(0, -2) as A));
      process.exitCode = typeof code === 'number' ? code : EXIT.ok;
    } catch (error) {
      process.exitCode = ctx.out.error(error);
    }
  };
}
