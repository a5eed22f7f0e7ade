import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { configSchema } from '../src/core/config/schema.js';
import { toDuckSize } from '../src/core/config/size.js';
import { openDuck } from '../src/core/duckdb/engine.js';
import { quoteLiteral } from '../src/core/duckdb/sql.js';
import { type ProfileOptions, profileTable } from '../src/core/profiler/index.js';
import { type Benchmark, measurePeakRss, median } from './lib.js';

const MiB = 1024 ** 2;
const ROUNDS = 3;

/** id BIGINT, amount DOUBLE (cents, 5% NULL), region VARCHAR (5 values), day DATE, active BOOLEAN. */
async function writeTable(path: string, rows: number): Promise<void> {
  const duck = await openDuck();
  try {
    await duck.conn.run(`COPY (
      SELECT range AS id,
        CASE WHEN range % 20 = 7 THEN NULL ELSE (hash(range) % 10000000)::DOUBLE / 100 END AS amount,
        ['north', 'south', 'east', 'west', 'central'][1 + (hash(range + 1) % 5)::INTEGER] AS region,
        DATE '2015-01-01' + (hash(range + 2) % 3650)::INTEGER AS day,
        hash(range + 3) % 3 = 0 AS active
      FROM range(${rows})
    ) TO ${quoteLiteral(path)} (FORMAT parquet)`);
  } finally {
    duck.close();
  }
}

async function summarize(file: string, options: ProfileOptions): Promise<void> {
  const duck = await openDuck(':memory:', {
    memoryLimit: toDuckSize(options.memory_limit),
    threads: options.threads,
  });
  try {
    await duck.conn.run(`SUMMARIZE SELECT * FROM read_parquet(${quoteLiteral(file)})`);
  } finally {
    duck.close();
  }
}

interface Run {
  ms: number;
  /** Peak RSS above the RSS at the start of the run. */
  rssGrowth: number;
}

async function measure(fn: () => Promise<unknown>): Promise<Run> {
  const { ms, rssGrowth } = await measurePeakRss(fn);
  return { ms, rssGrowth };
}

const summary = (runs: Run[]) => ({
  ms: median(runs.map((r) => r.ms)),
  rssGrowth: Math.max(...runs.map((r) => r.rssGrowth)),
});

const benchmark: Benchmark = {
  name: 'profiler',
  description: 'profileTable on a 10M-row, 5-column Parquet file vs DuckDB SUMMARIZE of the same file',
  async run(ctx) {
    const rows = ctx.smoke ? 100_000 : 10_000_000;
    const file = join(ctx.workDir, 'table.parquet');
    await writeTable(file, rows);
    const section = configSchema([]).properties.profiler;
    const sampledOptions: ProfileOptions = Value.Decode(section, Value.Default(section, {}));
    const unsampledOptions = { ...sampledOptions, sample_size: rows + 1 };
    const profile = (options: ProfileOptions) =>
      profileTable(
        {
          tableId: 'bench',
          files: [file],
          description: '',
          syncStrategy: 'full_refresh',
          primaryKey: ['id'],
          extractedAt: null,
          sourceHash: null,
          sizeBytes: 0,
        },
        options,
      );

    // Interleaved rounds, so load from anything else on the machine falls on all three alike.
    const baseline: Run[] = [];
    const sampled: Run[] = [];
    const unsampled: Run[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      baseline.push(await measure(() => summarize(file, sampledOptions)));
      sampled.push(await measure(() => profile(sampledOptions)));
      unsampled.push(await measure(() => profile(unsampledOptions)));
    }
    const base = summary(baseline);
    const limitMiB = sampledOptions.memory_limit / MiB;
    const note = (target: Run, what: string) =>
      `${what}; peak RSS growth ${(target.rssGrowth / MiB).toFixed(0)} MiB (SUMMARIZE ${(base.rssGrowth / MiB).toFixed(0)} MiB), memory_limit ${limitMiB} MiB; median of ${ROUNDS}`;
    const sampledRun = summary(sampled);
    const unsampledRun = summary(unsampled);
    return [
      {
        metric: 'duration',
        target: Math.round(sampledRun.ms),
        baseline: Math.round(base.ms),
        unit: 'ms',
        op: '<=',
        limit: 2.0,
        note: note(sampledRun, `${rows} rows, sample_size ${sampledOptions.sample_size}`),
      },
      {
        metric: 'duration_unsampled',
        target: Math.round(unsampledRun.ms),
        baseline: Math.round(base.ms),
        unit: 'ms',
        op: '<=',
        limit: 2.0,
        note: note(unsampledRun, `all ${rows} rows profiled`),
      },
    ];
  },
};

export default benchmark;
