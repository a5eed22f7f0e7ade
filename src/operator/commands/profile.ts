import { profileTables } from '../../core/jobs/profile-tables.js';
import { loadInstance, NO_SECRETS, openRuntime } from '../instance.js';
import { printJson } from '../output.js';

/** `agnes profile [--table ID ...] [--all]`: named tables are re-profiled; `--all` forces every table. */
export async function profile(options: { tables: string[]; all: boolean; json: boolean }): Promise<number> {
  const instance = loadInstance({ logToStderr: true });
  const ctx = await openRuntime(instance, NO_SECRETS);
  try {
    const report = await profileTables(
      { repos: ctx.repos, dataDir: ctx.dataDir, options: ctx.config.profiler, log: ctx.log },
      options.all || options.tables.length === 0 ? null : options.tables,
      { force: options.all || options.tables.length > 0 },
    );
    if (options.json) printJson(report);
    else {
      process.stdout.write(
        `profiled ${report.profiled.length}, skipped ${report.skipped.length}, failed ${report.failed.length}\n`,
      );
      for (const f of report.failed) process.stdout.write(`  ${f.table}: ${f.error}\n`);
    }
    return report.failed.length > 0 ? 1 : 0;
  } finally {
    await ctx.close();
  }
}
