import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writePaddedTable } from '../test/support/padded-parquet.js';
import { type Benchmark, median } from './lib.js';
import { syncBench } from './sync-support.js';

const MiB = 1024 * 1024;
const FILES = 8;

/** The baseline: `fetch` each file to disk while hashing it, four at a time. */
async function plainDownloads(url: string, token: string, ids: string[], dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const response = await fetch(`${url}/api/data/${id}/download`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (response.status !== 200 || !response.body) throw new Error(`download of ${id}: ${response.status}`);
      const hash = createHash('sha256');
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
      });
      await pipeline(
        Readable.fromWeb(response.body as never),
        hashing,
        createWriteStream(join(dir, `${id}.parquet`)),
      );
      hash.digest('hex');
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

const benchmark: Benchmark = {
  name: 'sync-fresh',
  description:
    'da sync of 1 GiB in 8 files (--parallel 4, hashing and views) against 4 concurrent fetch downloads with SHA-256',
  async run(ctx) {
    const fileBytes = (ctx.smoke ? 1 : 128) * MiB;
    const ids = Array.from({ length: FILES }, (_, i) => `fresh_${i}`);
    const bench = await syncBench(ctx.workDir, async (extractsDir) => {
      for (const id of ids) await writePaddedTable(extractsDir, id.replace('_', ''), id, fileBytes);
    });
    try {
      const rounds = ctx.smoke ? 1 : 3;
      const target: number[] = [];
      const baseline: number[] = [];
      let total = 0;
      // Interleaved rounds, each into empty directories; straight to the server, no proxy.
      for (let round = 0; round < rounds; round++) {
        const localDir = join(ctx.workDir, `project-${round}`);
        let started = performance.now();
        const report = await bench.sync(localDir, { url: bench.server.url, parallel: 4 });
        target.push(report.bytes_downloaded / ((performance.now() - started) / 1000) / MiB);
        total = report.bytes_downloaded;
        await rm(localDir, { recursive: true, force: true });
        const plainDir = join(ctx.workDir, `plain-${round}`);
        started = performance.now();
        await plainDownloads(bench.server.url, bench.token, ids, plainDir);
        baseline.push(total / ((performance.now() - started) / 1000) / MiB);
        await rm(plainDir, { recursive: true, force: true });
      }
      return [
        {
          metric: 'throughput',
          target: median(target),
          baseline: median(baseline),
          unit: 'MiB/s',
          op: '>=',
          limit: 0.8,
          note: `${FILES} files, ${(total / MiB).toFixed(0)} MiB in all, median of ${rounds} interleaved runs, in-process`,
        },
      ];
    } finally {
      await bench.close();
    }
  },
};

export default benchmark;
