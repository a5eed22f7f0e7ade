import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral } from '../src/core/duckdb/sql.js';
import { EXTRACT_FILE } from '../src/core/extract/contract.js';
import { PublishedViews } from '../src/core/query/published-views.js';
import { Sandbox, type SandboxSettings } from '../src/core/query/sandbox.js';
import { sandboxKey } from '../src/core/query/sandbox-cache.js';
import { type Benchmark, median, percentile } from './lib.js';
import { openInstance, writeSource } from './support.js';

const SOURCES = 10;
const TABLES_PER_SOURCE = 10;

const benchmark: Benchmark = {
  name: 'sandbox-build',
  description: `cold query sandbox for a grant set of ${SOURCES * TABLES_PER_SOURCE} tables in ${SOURCES} sources, against an in-memory instance attaching the same extracts`,
  async run(ctx) {
    const runs = ctx.smoke ? 3 : 30;
    const sources = Array.from({ length: SOURCES }, (_, i) => `src${String(i).padStart(2, '0')}`);
    for (const source of sources) await writeSource(ctx.workDir, source, TABLES_PER_SOURCE, 1, 50);
    const instance = await openInstance(ctx.workDir);
    try {
      await instance.orchestrator.rebuild();
      const published = await new PublishedViews(instance.orchestrator.analyticsPath).current();
      const grantSet = [...published.views.keys()].sort();
      if (grantSet.length !== SOURCES * TABLES_PER_SOURCE)
        throw new Error(`published ${grantSet.length} views`);
      const settings: SandboxSettings = {
        dataDir: ctx.workDir,
        tempDir: join(ctx.workDir, 'tmp'),
        analyticsPath: instance.orchestrator.analyticsPath,
        threads: 2,
        memoryLimitBytes: 1024 ** 3,
        maxTempBytes: 2 * 1024 ** 3,
        remoteExtensions: new Set(),
        installExtensions: false,
        attachRemote: async () => undefined,
        env: {},
        log: { warn: () => undefined, error: () => undefined },
      };
      const extracts = sources.map((s) => join(ctx.workDir, 'extracts', s, EXTRACT_FILE));
      const target: number[] = [];
      const baseline: number[] = [];
      // Interleaved, so drift in a shared machine's speed hits both alike.
      for (let i = 0; i < runs + 1; i++) {
        let start = performance.now();
        const sandbox = await Sandbox.build(
          sandboxKey(published.generation, grantSet),
          published,
          grantSet,
          settings,
        );
        const built = performance.now() - start;
        sandbox.close();
        await sandbox.removed;
        start = performance.now();
        const plain = await DuckDBInstance.create(':memory:', { threads: '3' });
        const conn = await plain.connect();
        for (const [j, path] of extracts.entries())
          await conn.run(`ATTACH ${quoteLiteral(path)} AS ${quoteIdent(sources[j]!)} (READ_ONLY)`);
        const attached = performance.now() - start;
        conn.closeSync();
        plain.closeSync();
        // The first round warms the page cache for both.
        if (i === 0) continue;
        target.push(built);
        baseline.push(attached);
      }
      const note = `${runs} interleaved cold builds; p95 ${percentile(target, 95).toFixed(1)} ms vs ${percentile(baseline, 95).toFixed(1)} ms`;
      return [
        {
          metric: 'duration',
          target: median(target),
          baseline: median(baseline),
          unit: 'ms',
          op: '<=',
          limit: 2.0,
          note: `median; ${note}`,
        },
        {
          metric: 'duration_absolute',
          target: median(target),
          baseline: 250,
          unit: 'ms',
          op: '<=',
          limit: 1,
          note: 'absolute limit 250 ms, ratio = median build time / 250 ms',
        },
      ];
    } finally {
      await instance.close();
    }
  },
};

export default benchmark;
