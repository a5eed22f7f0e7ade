import { ConfigError } from '../core/config/index.js';
import { isAgnesError } from '../core/errors.js';
import { MigrationError } from '../core/state/migrate.js';

/** Operator commands end here on failure: one clear message per problem, exit code 1, no stack. */
export function failAndExit(error: unknown): never {
  if (error instanceof ConfigError) {
    for (const problem of error.problems) process.stderr.write(`${problem}\n`);
  } else if (error instanceof MigrationError || isAgnesError(error)) {
    process.stderr.write(`agnes: ${error.message}\n`);
  } else {
    process.stderr.write(`agnes: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.AGNES_DEBUG) process.stderr.write(`${error instanceof Error ? error.stack : ''}\n`);
  }
  process.exit(1);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
