import { type Command, Option } from 'commander';
import { integer, run, withGlobals } from './command-kit.js';
import { catalog } from './commands/catalog.js';
import { diagnose } from './commands/diagnose.js';
import { explore } from './commands/explore.js';
import { DEFAULT_QUERY_LIMIT, QUERY_FORMATS, type QueryOptions, query } from './commands/query.js';
import { status } from './commands/status.js';

/** `da query`, `explore`, `catalog`, `status` and `diagnose` (06 §5.2, 12 §5). */
export function registerData(program: Command): void {
  withGlobals(
    program
      .command('query')
      .description('run SQL on the local DuckDB (default) or, with --remote, on the server through its guard')
      .argument('[sql]', 'the SQL statement (or use --file)')
      .option('--file <path>', 'read the SQL from a file')
      .option('--remote', 'run on the server (POST /api/query) instead of locally')
      .addOption(
        new Option('--format <format>', 'output format (parquet only with --remote --output)')
          .choices(QUERY_FORMATS)
          .default('table'),
      )
      .option(
        '--limit <n>',
        `rows to return (default ${DEFAULT_QUERY_LIMIT}; with --output, the export row cap)`,
        integer,
      )
      .option(
        '--output <file>',
        'write to a file; with --remote and csv/ndjson/parquet, a streamed server export',
      ),
  ).action(run((ctx, options: QueryOptions, sql?: string) => query(ctx, options, sql)));

  withGlobals(
    program
      .command('explore')
      .description('row count, columns and sample rows of a local table, or the server profile with --remote')
      .argument('<table>', 'table id')
      .option('--remote', "show the server's profile (completeness, top values, alerts)"),
  ).action(run((ctx, options: { remote?: boolean }, table: string) => explore(ctx, options, table)));

  withGlobals(
    program
      .command('catalog')
      .description('the tables you may read on the server, marked where a row policy filters them for you')
      .option('--search <text>', 'only tables whose id, name or description contain this text'),
  ).action(run((ctx, options: { search?: string }) => catalog(ctx, options)));

  withGlobals(
    program
      .command('status')
      .description('server, signed-in user, local tables, tables out of date and missing files')
      .option('--local', 'no network: only the local state'),
  ).action(run((ctx, options: { local?: boolean }) => status(ctx, options)));

  withGlobals(
    program
      .command('diagnose')
      .description('check configuration, credentials, server, manifest, local directory, disk and local DB'),
  ).action(run((ctx) => diagnose(ctx)));
}
