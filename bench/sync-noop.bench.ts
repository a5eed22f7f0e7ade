import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Benchmark, median } from './lib.js';
import { writeSource } from './support.js';
import { syncBench } from './sync-support.js';

const benchmark: Benchmark = {
  name: 'sync-noop',
  description: 'da sync against an unchanged server (200 tables / 1,000 files) against one manifest fetch',
  async run(ctx) {
    const sources = ctx.smoke ? 2 : 10;
    const tables = ctx.smoke ? 5 : 20;
    const shards = ctx.smoke ? 2 : 5;
    const bench = await syncBench(ctx.workDir, async (extractsDir) => {
      for (let s = 0; s < sources; s++)
        await writeSource(dirname(extractsDir), `noop${String(s).padStart(2, '0')}`, tables, shards, 50);
    });
    try {
      const localDir = join(ctx.workDir, 'project');
      const first = await bench.sync(localDir);
      const files = first.downloaded.reduce((sum, d) => sum + d.files, 0);
      const manifestUrl = `${bench.proxy.url}/api/sync/manifest`;
      const fetchManifest = async () => {
        const response = await fetch(manifestUrl, { headers: { authorization: `Bearer ${bench.token}` } });
        return (await response.arrayBuffer()).byteLength;
      };
      const manifestBytes = await fetchManifest();
      // Interleaved rounds, so drift in a shared machine's speed hits both alike.
      const rounds = ctx.smoke ? 1 : 9;
      const target: number[] = [];
      const baseline: number[] = [];
      let bytes = 0;
      for (let round = 0; round < rounds; round++) {
        let started = performance.now();
        await fetchManifest();
        baseline.push(performance.now() - started);
        bench.proxy.reset();
        started = performance.now();
        const report = await bench.sync(localDir);
        target.push(performance.now() - started);
        bytes = Math.max(bytes, bench.proxy.bytes(/^\//));
        if (report.downloaded.length > 0) throw new Error('a no-op sync downloaded files');
      }
      const note = `${first.downloaded.length} tables / ${files} files, median of ${rounds} interleaved runs, in-process`;
      return [
        {
          metric: 'bytes',
          target: bytes,
          baseline: manifestBytes,
          unit: 'B',
          op: '<=',
          limit: 1.05,
          note: 'body bytes received by da sync (manifest answered 304) against the full manifest body',
        },
        {
          metric: 'duration',
          target: median(target),
          baseline: median(baseline),
          unit: 'ms',
          op: '<=',
          limit: 3,
          note,
        },
      ];
    } finally {
      await bench.close();
    }
  },
};

export default benchmark;
