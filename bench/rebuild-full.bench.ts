import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openDuck } from '../src/core/duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../src/core/duckdb/sql.js';
import { type Benchmark, median, timeRuns } from './lib.js';
import { openInstance, writeSource } from './support.js';

/** The in-run baseline: attach every extract and create the same views in a temp file, nothing else. */
async function attachAndCreateViews(dataDir: string, sources: string[]): Promise<void> {
  const target = join(dataDir, 'baseline.duckdb');
  await rm(target, { force: true });
  const duck = await openDuck(target);
  try {
    for (const source of sources) {
      await duck.conn.run(
        `ATTACH ${quoteLiteral(join(dataDir, 'extracts', source, 'extract.duckdb'))} AS ${quoteIdent(source)} (READ_ONLY)`,
      );
      const views = await duck.conn.runAndReadAll(
        `SELECT view_name FROM duckdb_views() WHERE database_name = ${quoteLiteral(source)} AND NOT internal`,
      );
      for (const [view] of views.getRows()) {
        await duck.conn.run(
          `CREATE VIEW main.${quoteIdent(String(view))} AS SELECT * FROM ${quoteIdent(source)}.main.${quoteIdent(String(view))}`,
        );
      }
    }
    await duck.conn.run('CHECKPOINT');
  } finally {
    duck.close();
  }
  await rm(target, { force: true });
}

const benchmark: Benchmark = {
  name: 'rebuild-full',
  description: 'rebuild() with 50 sources × 20 tables against attaching the extracts and creating the views',
  async run(ctx) {
    const sourceCount = ctx.smoke ? 3 : 50;
    const tableCount = ctx.smoke ? 4 : 20;
    for (let s = 0; s < sourceCount; s++)
      await writeSource(ctx.workDir, `src${String(s).padStart(2, '0')}`, tableCount);
    const sources = (await readdir(join(ctx.workDir, 'extracts'))).sort();
    const instance = await openInstance(ctx.workDir);
    try {
      await instance.orchestrator.rebuild();
      const runs = ctx.smoke ? 1 : 5;
      const target = median(await timeRuns(runs, () => instance.orchestrator.rebuild()));
      const baseline = median(await timeRuns(runs, () => attachAndCreateViews(ctx.workDir, sources)));
      return [
        {
          metric: 'duration',
          target,
          baseline,
          unit: 'ms',
          op: '<=',
          limit: 1.5,
          note: `${sourceCount} sources × ${tableCount} tables, median of ${runs}`,
        },
      ];
    } finally {
      await instance.close();
    }
  },
};

export default benchmark;
