import { pino } from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { BUILT_IN_CONNECTORS } from '../../src/connectors/index.js';
import { loadConfig } from '../../src/core/config/index.js';
import { ConnectorRegistry } from '../../src/core/extract/connector.js';
import { createRuntime } from '../../src/runtime/runtime.js';
import { buildApp } from '../../src/server/app.js';
import { tempDir } from '../support/extracts.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir('agnes-lifecycle-'));
});
afterEach(async () => cleanup());

it('starts the runtime services when the app is ready, and app.close() stops them and the state store', async () => {
  const events: string[] = [];
  const { config } = loadConfig({ env: {}, cwd: dir, connectors: BUILT_IN_CONNECTORS });
  const runtime = await createRuntime({
    config,
    dataDir: dir,
    secrets: { current: 'x'.repeat(40), previous: null },
    connectors: new ConnectorRegistry(BUILT_IN_CONNECTORS),
    sources: [],
    extractor: { command: process.execPath, args: [] },
    log: pino({ level: 'silent' }),
    env: {},
    services: (rt) => [
      {
        name: 'probe',
        async start() {
          events.push(`start, state store open: ${(await rt.repos.users.count()) === 0}`);
        },
        async stop() {
          events.push(`stop, state store open: ${(await rt.repos.users.count()) === 0}`);
        },
      },
    ],
  });
  // A push connector's worker (and the profiling of what it publishes) follows the job runner.
  expect(runtime.services.names).toEqual([
    'replica-heartbeat',
    'query-engine',
    'job-runner',
    'scripts',
    'push-profiles',
    'jira-worker',
    'probe',
  ]);
  const app = await buildApp(runtime);
  await app.listen({ host: '127.0.0.1', port: 0 });
  expect(events).toEqual(['start, state store open: true']);

  await app.close();
  expect(events).toEqual(['start, state store open: true', 'stop, state store open: true']);
  await expect(runtime.repos.users.count()).rejects.toThrow(/destroyed/);
  await expect(
    runtime.query.query({ caller: {} as never, sql: 'SELECT 1', requestId: 'r' }, 1),
  ).rejects.toThrow('shutting down');
  await runtime.close();
});
