import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, queryRows } from '../../src/core/duckdb/engine.js';
import { registerTable } from '../server/api/fixtures.js';
import { type CliHome, cliHome, loginWithToken, RAISED_LIMITS, runDa, spawnDa } from '../support/cli.js';
import { writePaddedTable } from '../support/padded-parquet.js';
import { until } from '../support/processes.js';
import { type CountingProxy, startProxy } from '../support/proxy.js';
import { createUser, type TestServer, type TestUser, withServer } from '../support/server.js';

const MiB = 1024 * 1024;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('R3: da sync killed mid-download resumes with Range', () => {
  let server: TestServer;
  let analyst: TestUser;
  let proxy: CountingProxy;
  let home: CliHome;
  let target: string;
  let oldHash: string;
  let fresh: { size: number; sha256: string };

  const publish = async (bytes: number) => {
    const written = await writePaddedTable(join(server.dataDir, 'extracts'), 'bulk', 'big', bytes);
    const report = await server.ctx.orchestrator.rebuild();
    expect(report.sources.bulk?.status).toBe('ok');
    return written;
  };

  beforeAll(async () => {
    server = await withServer({ config: RAISED_LIMITS });
    analyst = await createUser(server.ctx, 'analyst');
    await publish(MiB);
    await registerTable(server.ctx, 'big', { source: 'bulk', source_type: 'local', is_public: true });
    proxy = await startProxy(server.url);
    home = await cliHome();
    await loginWithToken(home, proxy.url, analyst);
    target = join(home.localDir, 'server', 'parquet', 'big.parquet');
    expect((await runDa(['sync'], { env: home.env })).code).toBe(0);
    oldHash = await sha256File(target);
    fresh = await publish(200 * MiB);
  });
  afterAll(async () => {
    await proxy.close();
    await server.close();
    await home.cleanup();
  });

  it('SIGKILL at ~50% of a 200 MiB file leaves the old file; the rerun fetches only the rest', async () => {
    const part = `${target}.part`;
    const half = Math.floor(fresh.size / 2);
    proxy.reset();
    let reached!: () => void;
    const paused = new Promise<void>((resolve) => {
      reached = resolve;
    });
    proxy.fault(/^\/api\/data\/big\//, { kind: 'pause', afterBytes: half, reached });
    const run = spawnDa(['sync'], { env: home.env });
    await paused;
    // Everything the proxy sent reaches the .part file; then the process dies without warning.
    await until(async () => (await stat(part).catch(() => null))?.size === half, 'the .part file', 20_000);
    run.child.kill('SIGKILL');
    expect((await run.exited).signal).toBe('SIGKILL');
    expect(await sha256File(target)).toBe(oldHash);

    proxy.reset();
    const rerun = await runDa(['sync', '--json'], { env: home.env });
    expect(rerun.code).toBe(0);
    expect(
      proxy.requests
        .filter((r) => r.path.startsWith('/api/data/'))
        .map((r) => [r.status, r.range, r.bodyBytes]),
    ).toEqual([[206, `bytes=${half}-`, fresh.size - half]]);
    expect(await sha256File(target)).toBe(fresh.sha256);
    await expect(stat(part)).rejects.toThrow();
    const duck = await openDuck(join(home.localDir, 'user', 'duckdb', 'analytics.duckdb'), {
      readOnly: true,
    });
    try {
      expect(await queryRows(duck.conn, 'SELECT count(*)::INTEGER AS n FROM big')).toEqual([{ n: 10 }]);
    } finally {
      duck.close();
    }
  });
});
