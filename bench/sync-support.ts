import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cliContext } from '../src/cli/context.js';
import { runSync, type SyncReport } from '../src/cli/sync/run.js';
import { registerTable } from '../test/server/api/fixtures.js';
import { type CountingProxy, startProxy } from '../test/support/proxy.js';
import { createUser, type TestServer, withServer } from '../test/support/server.js';

/**
 * Fixtures shared by the `da sync` benchmarks: a real server on loopback with `publish`ed tables,
 * all public, a counting proxy in front of it (bytes served per request), and `da sync` run
 * in-process through the same code path the CLI uses, so only the work of a sync is timed and not
 * the start-up of a Node process.
 */
export interface SyncBench {
  server: TestServer;
  proxy: CountingProxy;
  /** Runs `da sync` into `localDir` against `url` (default: through the proxy). */
  sync(localDir: string, options?: { parallel?: number; url?: string }): Promise<SyncReport>;
  /** Republishes: runs `write(extractsDir)`, rebuilds and registers any new table as public. */
  publish(write: (extractsDir: string) => Promise<unknown>): Promise<void>;
  token: string;
  close(): Promise<void>;
}

export async function syncBench(
  workDir: string,
  write: (extractsDir: string) => Promise<unknown>,
): Promise<SyncBench> {
  await mkdir(join(workDir, 'server'), { recursive: true });
  const server = await withServer({
    dataDir: join(workDir, 'server'),
    config: {
      server: { log_level: 'warn' },
      // Raised above the load generated, so no measured request is answered 429 (10 §1).
      auth: { rate_limits: { default: { max: 100_000_000, window_seconds: 60 } } },
    },
  });
  const registered = new Set<string>();
  const publish = async (writeExtracts: (extractsDir: string) => Promise<unknown>) => {
    await writeExtracts(join(server.dataDir, 'extracts'));
    await server.ctx.orchestrator.rebuild();
    for (const state of await server.ctx.repos.syncState.listStates()) {
      if (registered.has(state.table_id) || state.status !== 'ok') continue;
      await registerTable(server.ctx, state.table_id, {
        source: state.source,
        source_type: 'local',
        is_public: true,
      });
      registered.add(state.table_id);
    }
  };
  await publish(write);
  const analyst = await createUser(server.ctx, 'analyst');
  const proxy = await startProxy(server.url);
  const configHome = join(workDir, 'config');
  await mkdir(configHome, { recursive: true });
  return {
    server,
    proxy,
    token: analyst.pat,
    publish,
    async sync(localDir, options = {}) {
      await mkdir(localDir, { recursive: true });
      const ctx = cliContext(
        { server: options.url ?? proxy.url, quiet: true, localDir },
        { XDG_CONFIG_HOME: configHome, DA_TOKEN: analyst.pat },
      );
      const report = await runSync(ctx, {
        tables: [],
        parallel: options.parallel ?? 4,
        dryRun: false,
        verify: false,
        prune: true,
      });
      if (report.errors.length > 0) throw new Error(`sync failed: ${JSON.stringify(report.errors)}`);
      return report;
    },
    async close() {
      await proxy.close();
      await server.close();
    },
  };
}
