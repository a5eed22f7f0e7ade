import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDuck, queryOne, toNumber } from '../src/core/duckdb/engine.js';
import { quoteLiteral } from '../src/core/duckdb/sql.js';
import type { SliceTable } from '../src/core/policies/slices.js';
import type { EffectiveView, MaskedColumn } from '../src/core/policies/types.js';
import { type Benchmark, type Metric, median } from './lib.js';
import { queryFixture } from './query-support.js';

/**
 * Each run filters a different 10% of `facts` (`(k + i) % 10 = 0`, k = id % 1000), so every run
 * has a new slice key and really builds.
 */
const filterOf = (run: number) => `(k + ${run}) % 10 = 0`;
const HASHED: MaskedColumn[] = [{ column: 'label', mask: 'hash' }];

const viewOf = (filter: string, masks: MaskedColumn[]): EffectiveView => ({
  kind: 'slice',
  policies: [{ id: 'bench', name: 'bench' }],
  bound_filter: filter,
  masks,
  failures: [],
});

const benchmark: Benchmark = {
  name: 'policy-slice',
  description:
    "PolicySlices.ensure of a 10% slice of a 10M-row table (new key each run; plain, and with one hash mask), against DuckDB's own COPY (SELECT … WHERE …) TO parquet (zstd) of the same rows, interleaved",
  async run(ctx) {
    const rows = ctx.smoke ? 20_000 : 10_000_000;
    const runs = ctx.smoke ? 2 : 10;
    const fixture = await queryFixture(ctx.workDir, rows);
    const { server, factsFile } = fixture;
    const threads = server.ctx.config.query.threads;
    // The slice build runs on its own instance with `query.threads`; the baseline gets the same.
    const plain = await openDuck(':memory:', { threads });
    const { salt } = await server.ctx.policies.salt();
    try {
      const state = await server.ctx.repos.syncState.getState('facts');
      if (!state) throw new Error('facts was not published');
      const table: SliceTable = {
        table_id: 'facts',
        hash: state.hash,
        layout: state.layout,
        files: state.files,
        query_mode: 'local',
      };
      const baselineFile = join(ctx.workDir, 'baseline.parquet');
      const copy = (filter: string, masks: MaskedColumn[]) => {
        const label = masks.length > 0 ? "sha256($1 || ':' || CAST(label AS VARCHAR)) AS label" : 'label';
        return plain.conn.run(
          `COPY (SELECT id, k, v, ${label} FROM read_parquet(${quoteLiteral(factsFile)}) WHERE ${filter}) TO ${quoteLiteral(baselineFile)} (FORMAT parquet, COMPRESSION zstd)`,
          masks.length > 0 ? [salt] : [],
        );
      };
      const build = (filter: string, masks: MaskedColumn[]) =>
        server.ctx.policies.slices.ensure(table, viewOf(filter, masks));
      const count = async (file: string) =>
        toNumber(
          (await queryOne(plain.conn, `SELECT count(*) AS n FROM read_parquet(${quoteLiteral(file)})`))?.n,
        );

      let run = 0;
      const measure = async (masks: MaskedColumn[]) => {
        const target: number[] = [];
        const baseline: number[] = [];
        let sizes = { target: 0, baseline: 0 };
        // Run 0 warms the file cache and checks that both write the same rows; it is not timed.
        for (let i = 0; i <= runs; i++) {
          const filter = filterOf(run++);
          // Alternating which goes first, so drift in a shared machine's speed hits both alike.
          const order = i % 2 === 0 ? ['target', 'baseline'] : ['baseline', 'target'];
          let slice: Awaited<ReturnType<typeof build>> | undefined;
          for (const which of order) {
            const start = performance.now();
            if (which === 'target') slice = await build(filter, masks);
            else await copy(filter, masks);
            const ms = performance.now() - start;
            if (i > 0) (which === 'target' ? target : baseline).push(ms);
          }
          if (!slice) throw new Error('no slice was built');
          const baselineRows = await count(baselineFile);
          if (slice.rows !== baselineRows || slice.rows !== rows / 10)
            throw new Error(`slice ${slice.rows} rows, COPY ${baselineRows}, expected ${rows / 10}`);
          if (i === 0) {
            const differing = await queryOne(
              plain.conn,
              `SELECT count(*) AS n FROM (SELECT * FROM read_parquet(${quoteLiteral(slice.path)}) EXCEPT ALL SELECT * FROM read_parquet(${quoteLiteral(baselineFile)}))`,
            );
            if (toNumber(differing?.n) !== 0) throw new Error('the slice and the COPY hold different rows');
          }
          sizes = { target: slice.size_bytes, baseline: (await stat(baselineFile)).size };
        }
        return { target, baseline, sizes };
      };

      const metric = (name: string, what: string, measured: Awaited<ReturnType<typeof measure>>): Metric => ({
        metric: name,
        target: median(measured.target),
        baseline: median(measured.baseline),
        unit: 'ms',
        op: '<=',
        limit: 1.3,
        note: `median of ${runs} interleaved builds of ${(rows / 10).toLocaleString('en')} of ${rows.toLocaleString('en')} rows${what}; ${threads} threads each; files ${(measured.sizes.target / 2 ** 20).toFixed(1)} vs ${(measured.sizes.baseline / 2 ** 20).toFixed(1)} MiB`,
      });
      const filtered = await measure([]);
      const hashed = await measure(HASHED);
      return [
        metric('build_10pct', '', filtered),
        metric('build_10pct_hash_mask', ', label hash-masked', hashed),
      ];
    } finally {
      plain.close();
      await fixture.close();
    }
  },
};

export default benchmark;
