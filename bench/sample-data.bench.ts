import { join } from 'node:path';
import { openDuck } from '../src/core/duckdb/engine.js';
import { quoteLiteral } from '../src/core/duckdb/sql.js';
import { PARQUET_COPY_OPTIONS } from '../src/core/extract/contract.js';
import { generateSampleData } from '../src/operator/demo/sample/generate.js';
import { type Benchmark, median, timeRuns } from './lib.js';

/**
 * The sample-data generator's throughput against DuckDB alone writing as many trivial rows with
 * the same Parquet options and one thread: the generator does far more work per row (nine related
 * tables, text, weighted draws), so the point is a stable ratio, not parity.
 */
const benchmark: Benchmark = {
  name: 'sample-data',
  description: 'generateSampleData to Parquet (rows/s) vs a trivial DuckDB COPY of as many rows',
  async run(ctx) {
    const size = ctx.smoke ? 'xs' : 'm';
    const runs = ctx.smoke ? 1 : 3;
    const outDir = join(ctx.workDir, 'sample');
    let rows = 0;
    const generated = await timeRuns(runs, async () => {
      rows = (await generateSampleData({ outDir, size, format: 'parquet' })).totalRows;
    });
    const copied = await timeTrivialCopy(join(ctx.workDir, 'baseline.parquet'), rows, runs);
    const perSecond = (ms: number) => Math.round(rows / (ms / 1000));
    const target = perSecond(median(generated));
    const baseline = perSecond(median(copied));
    return [
      {
        metric: 'rows_per_second',
        target,
        baseline,
        unit: 'rows/s',
        op: '>=',
        limit: 0.05,
        note: `size ${size}, ${rows} rows: generator ${target} rows/s, trivial COPY ${baseline} rows/s`,
      },
    ];
  },
};

/** DuckDB on one thread writing `rows` rows of an id, a key, a timestamp and an amount. */
async function timeTrivialCopy(path: string, rows: number, runs: number): Promise<number[]> {
  const duck = await openDuck(':memory:', { threads: 1 });
  try {
    return await timeRuns(runs, () =>
      duck.conn.run(`COPY (
          SELECT range AS id, 'S-' || lpad(range::VARCHAR, 8, '0') AS key,
            TIMESTAMP '2025-01-01' + to_seconds(range) AS at, (range % 100000 / 100)::DECIMAL(12,2) AS amount
          FROM range(${rows})
        ) TO ${quoteLiteral(path)} (${PARQUET_COPY_OPTIONS})`),
    );
  } finally {
    duck.close();
  }
}

export default benchmark;
