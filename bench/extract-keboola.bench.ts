import { join } from 'node:path';
import { readSlicesSql } from '../src/connectors/keboola/columns.js';
import { createKeboolaConnector } from '../src/connectors/keboola/index.js';
import { openDuck } from '../src/core/duckdb/engine.js';
import { quoteLiteral } from '../src/core/duckdb/sql.js';
import { PARQUET_COPY_OPTIONS } from '../src/core/extract/contract.js';
import { FakeKeboola } from '../test/fakes/keboola.js';
import { type Benchmark, measurePeakRss } from './lib.js';

const MiB = 1024 * 1024;
const RSS_LIMIT = 768 * MiB;
const COLUMNS = ['id', 'day', 'amount', 'customer', 'note'];
const TYPES = { id: 'INTEGER', day: 'DATE', amount: 'NUMERIC' };

/** Header-less gzipped CSV slices, as a Keboola export writes them. */
async function makeSlices(dir: string, rows: number, count: number): Promise<string[]> {
  const duck = await openDuck();
  const paths: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const path = join(dir, `slice-${i}.csv.gz`);
      const per = Math.ceil(rows / count);
      await duck.conn.run(
        `COPY (SELECT range AS id, DATE '2020-01-01' + CAST(range % 1500 AS INTEGER) AS day, ` +
          `round(range * 0.37, 2) AS amount, 'customer-' || (range % 100000) AS customer, ` +
          `'note ' || md5(CAST(range AS VARCHAR)) || ', "quoted"' AS note ` +
          `FROM range(${i * per}, ${Math.min(rows, (i + 1) * per)})) ` +
          `TO ${quoteLiteral(path)} (FORMAT csv, HEADER false, COMPRESSION gzip)`,
      );
      paths.push(path);
    }
    return paths;
  } finally {
    duck.close();
  }
}

const benchmark: Benchmark = {
  name: 'extract-keboola',
  description:
    'full-refresh Keboola extract of gzipped slices from the fake Storage API vs DuckDB read_csv → COPY TO parquet of the same slices from local disk',
  async run(ctx) {
    const rows = ctx.smoke ? 20_000 : 10_000_000;
    const slices = await makeSlices(ctx.workDir, rows, ctx.smoke ? 4 : 10);
    const fake = await FakeKeboola.start();
    fake.jobPolls = 0;
    fake.addTable({
      bucket: 'in.c-bench',
      name: 'orders',
      columns: COLUMNS,
      types: TYPES,
      sliceFiles: slices,
      rowsCount: rows,
    });
    const connector = createKeboolaConnector({ tuning: { pollInitialMs: 10 } });
    try {
      const target = await measurePeakRss(() =>
        connector.extract(
          {
            source: 'keboola',
            type: 'keboola',
            extractDir: join(ctx.workDir, 'extracts', 'keboola'),
            fullRefresh: true,
            tables: [
              {
                id: 'orders',
                source_table: 'orders',
                bucket: 'in.c-bench',
                sync_strategy: 'full_refresh',
                query_mode: 'local',
                primary_key: [],
                partition_by: null,
                partition_granularity: null,
                watermark: null,
              },
            ],
            config: {
              stack_url: fake.url,
              token_env: 'KBC_BENCH_TOKEN',
              parallel_tables: 1,
              export_timeout_seconds: 600,
              incremental_lag_seconds: 0,
            },
          },
          { progress: () => undefined, env: { KBC_BENCH_TOKEN: fake.token } },
        ),
      );
      if (target.value.tables_failed.length > 0) throw new Error(JSON.stringify(target.value.tables_failed));
      // The baseline: the same typed read and the same Parquet options, no download, no publication.
      const columns = COLUMNS.map((name) => ({
        name,
        type:
          ({ id: 'BIGINT', day: 'DATE', amount: 'DECIMAL(38,9)' } as Record<string, string>)[name] ??
          'VARCHAR',
      }));
      const duck = await openDuck(':memory:', { threads: 2 });
      const baseline = await measurePeakRss(() =>
        duck.conn.run(
          `COPY (${readSlicesSql(slices, columns)}) TO ${quoteLiteral(join(ctx.workDir, 'baseline.parquet'))} (${PARQUET_COPY_OPTIONS})`,
        ),
      ).finally(() => duck.close());
      const rate = (ms: number) => Math.round(rows / 1000 / (ms / 1000));
      const note = `${rows} rows in ${slices.length} gzipped slices; krows/s`;
      return [
        {
          metric: 'throughput',
          target: rate(target.ms),
          baseline: rate(baseline.ms),
          unit: 'krows/s',
          op: '>=',
          limit: 0.8,
          note,
        },
        {
          metric: 'rss_growth',
          target: Math.round(target.rssGrowth / MiB),
          baseline: Math.round(baseline.rssGrowth / MiB),
          unit: 'MiB',
          op: '<=',
          limit: 1,
          ratio: target.rssGrowth / RSS_LIMIT,
          note: 'peak RSS growth of the process (fake server included); absolute limit 768 MiB, ratio = growth / 768 MiB',
        },
      ];
    } finally {
      await fake.close();
    }
  },
};

export default benchmark;
