import { version as duckdbVersion } from '@duckdb/node-api';
import { PACKAGE_VERSION } from '../../core/package-info.js';
import { MIGRATIONS } from '../../core/state/migrate.js';

/** `agnes version`: package, DuckDB and state schema versions. */
export function printVersion(): number {
  process.stdout.write(
    `agnes-analyst ${PACKAGE_VERSION}\nduckdb ${duckdbVersion()}\nstate schema ${Object.keys(MIGRATIONS).length}\n`,
  );
  return 0;
}
