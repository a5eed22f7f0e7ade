import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createUser } from '../test/support/server.js';
import { runClient } from './http-client.js';
import { type Benchmark, measurePeakRss, median } from './lib.js';
import { benchServer } from './support.js';

const MiB = 1024 * 1024;
const RSS_LIMIT = 16 * MiB;

/** The bytes the client sends (1 MiB of 'a' repeated), generated on the fly. */
function generated(bytes: number): Readable {
  const chunk = Buffer.alloc(MiB, 0x61);
  return Readable.from(
    (function* () {
      for (let left = bytes; left > 0; left -= MiB) yield left >= MiB ? chunk : chunk.subarray(0, left);
    })(),
  );
}

/** A bare `node:http` server that reads and drops the body: the loopback transport's own ceiling. */
async function discardServer() {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

const benchmark: Benchmark = {
  name: 'upload',
  description:
    'POST /api/upload/sessions of a 50 MiB transcript vs streaming the same bytes to a file in the same process',
  async run(ctx) {
    const bytes = ctx.smoke ? 2 * MiB : 50 * MiB;
    const rounds = ctx.smoke ? 1 : 5;
    const server = await benchServer(ctx.workDir, { limits: { upload_max_bytes: '100MB' } });
    const user = await createUser(server.ctx, 'analyst');
    const baselineFile = join(ctx.workDir, 'baseline.jsonl');
    const discard = await discardServer();
    try {
      const target: number[] = [];
      const baseline: number[] = [];
      const transport: number[] = [];
      let growth = 0;
      let baselineGrowth = 0;
      // Interleaved, so drift in a shared machine's speed hits both alike.
      for (let round = 0; round < rounds; round++) {
        // The same durability as an upload: the file is fsynced before it counts as written.
        const base = await measurePeakRss(() =>
          pipeline(generated(bytes), createWriteStream(baselineFile, { flush: true })),
        );
        await rm(baselineFile);
        baseline.push(bytes / MiB / (base.ms / 1000));
        baselineGrowth = Math.max(baselineGrowth, base.rssGrowth);
        const run = await measurePeakRss(() =>
          runClient({
            mode: 'upload',
            url: `${server.url}/api/upload/sessions`,
            headers: { authorization: user.auth },
            bytes,
            filename: `bench-${round}.jsonl`,
          }),
        );
        target.push(bytes / MiB / (run.value.ms / 1000));
        growth = Math.max(growth, run.rssGrowth);
        const bare = await runClient({
          mode: 'upload',
          url: discard.url,
          headers: {},
          bytes,
          filename: 'x.jsonl',
        });
        transport.push(bytes / MiB / (bare.ms / 1000));
      }
      console.log(
        `# upload vs a bare node:http server that drops the body (information): agnes=${Math.round(median(target))}MiB/s bare=${Math.round(median(transport))}MiB/s ratio=${(median(target) / median(transport)).toFixed(3)}`,
      );
      const note = `${Math.round(bytes / MiB)} MiB, median of ${rounds}; target timed in the client process from first byte to response`;
      return [
        {
          metric: 'throughput',
          target: Math.round(median(target)),
          baseline: Math.round(median(baseline)),
          unit: 'MiB/s',
          op: '>=',
          limit: 0.8,
          note,
        },
        {
          metric: 'rss_growth',
          target: Math.round(growth / MiB),
          baseline: Math.round(baselineGrowth / MiB),
          unit: 'MiB',
          op: '<=',
          limit: 1,
          ratio: growth / RSS_LIMIT,
          note: 'peak RSS growth of the server process; absolute limit 16 MiB, ratio = growth / 16 MiB',
        },
      ];
    } finally {
      await new Promise((resolve) => discard.server.close(resolve));
      await server.close();
    }
  },
};

export default benchmark;
