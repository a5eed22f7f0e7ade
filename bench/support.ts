import { join } from 'node:path';
import { openDuck } from '../src/core/duckdb/engine.js';
import { ExtractWriter, type WrittenFile } from '../src/core/extract/writer.js';
import { SyncOrchestrator } from '../src/core/orchestrator/orchestrator.js';
import { orchestratorStateStore } from '../src/core/orchestrator/state-store.js';
import { openStateDb, type StateDb } from '../src/core/state/db.js';
import { migrateToLatest } from '../src/core/state/migrate.js';
import { type TestServer, withServer } from '../test/support/server.js';

/** Fixtures shared by the orchestrator benchmarks: many small sources written by the real writer. */

export async function writeSource(
  dataDir: string,
  source: string,
  tables: number,
  shards = 1,
  rows = 200,
): Promise<void> {
  const writer = await ExtractWriter.open(join(dataDir, 'extracts', source));
  const duck = await openDuck();
  try {
    for (let t = 0; t < tables; t++) {
      const name = `${source}_t${String(t).padStart(2, '0')}`;
      const select = `SELECT range AS id, 'row ' || range AS label, range * 0.5 AS amount FROM range(${rows})`;
      if (shards === 1) {
        const file = await writer.writeParquet(duck.conn, `${name}.parquet`, select);
        writer.addLocalTable({
          name,
          layout: 'single',
          extractedAt: '2026-01-01T00:00:00.000Z',
          files: [file],
        });
      } else {
        const files: WrittenFile[] = [];
        for (let s = 0; s < shards; s++)
          files.push(
            await writer.writeParquet(
              duck.conn,
              `${name}/2026-${String(s + 1).padStart(2, '0')}.parquet`,
              select,
            ),
          );
        writer.addLocalTable({ name, layout: 'multi', extractedAt: '2026-01-01T00:00:00.000Z', files });
      }
    }
    await writer.commit();
  } finally {
    duck.close();
    await writer.abort();
  }
}

export interface BenchInstance {
  db: StateDb;
  orchestrator: SyncOrchestrator;
  close(): Promise<void>;
}

export async function openInstance(dataDir: string): Promise<BenchInstance> {
  const db = openStateDb(dataDir);
  await migrateToLatest(db);
  const orchestrator = new SyncOrchestrator({ dataDir, state: orchestratorStateStore(db) });
  return { db, orchestrator, close: () => db.destroy() };
}

/**
 * The real server for HTTP benchmarks, in `workDir`, logging at warn, with every rate limit raised
 * above the load generated, so no measured request is answered 429 (10 §1).
 */
export function benchServer(
  workDir: string,
  config: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Promise<TestServer> {
  const high = { max: 100_000_000, window_seconds: 60 };
  return withServer({
    dataDir: workDir,
    env,
    config: {
      server: { log_level: 'warn' },
      auth: { rate_limits: { default: high, upload: high, query: high } },
      ...config,
    },
  });
}
