import { dirname, join } from 'node:path';
import type { Benchmark } from './lib.js';
import { writeSource } from './support.js';
import { syncBench } from './sync-support.js';

const benchmark: Benchmark = {
  name: 'sync-incremental',
  description:
    'da sync after one new shard is added to a 100-shard table (1% append) against the new shard size',
  async run(ctx) {
    const shards = ctx.smoke ? 10 : 100;
    const rows = ctx.smoke ? 1_000 : 20_000;
    const write = (count: number) => (extractsDir: string) =>
      writeSource(dirname(extractsDir), 'inc', 1, count, rows);
    const bench = await syncBench(ctx.workDir, write(shards));
    try {
      const localDir = join(ctx.workDir, 'project');
      await bench.sync(localDir);
      await bench.publish(write(shards + 1));
      const state = await bench.server.ctx.repos.syncState.getState('inc_t00');
      const added = state!.files.find(
        (f) => f.name === `2026-${String(shards + 1).padStart(2, '0')}.parquet`,
      );
      if (!added) throw new Error('the appended shard was not published');
      bench.proxy.reset();
      const report = await bench.sync(localDir);
      const manifestBytes = bench.proxy.bytes(/^\/api\/sync\/manifest$/);
      return [
        {
          metric: 'bytes',
          target: bench.proxy.bytes(/^\/api\/data\//),
          baseline: added.size,
          unit: 'B',
          op: '<=',
          limit: 1.02,
          note: `${shards} → ${shards + 1} shards of ${rows} rows; ${report.downloaded[0]?.files ?? 0} file(s) downloaded; manifest body ${manifestBytes} B besides`,
        },
      ];
    } finally {
      await bench.close();
    }
  },
};

export default benchmark;
