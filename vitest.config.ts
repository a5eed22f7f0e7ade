import { defineConfig } from 'vitest/config';

const BROWSER_TESTS = 'test/server/web/**/*.test.ts';

/** The state store's contract suite: run by `unit` on SQLite and by `postgres` on PostgreSQL (13 §2). */
const STATE_TESTS = 'test/core/state/**/*.test.ts';

/** Tests that run admin scripts in the real bubblewrap sandbox (08 §6). */
const SANDBOX_TESTS = ['test/core/scripts/sandbox.test.ts', 'test/server/api/scripts.test.ts'];

/**
 * Several replicas on one state store, in-process and as `agnes serve` processes: PostgreSQL only,
 * so only the `postgres` project runs them (13 §5).
 */
const REPLICA_TESTS = 'test/core/state/replica{s,-processes}.test.ts';

/** Tests of the Docker files, checked by Debian's docker-compose (13 §1). */
const DEPLOY_TESTS = 'test/deploy/**/*.test.ts';

/**
 * Tests that start child processes: they are the slow ones, and those running the compiled `agnes`
 * or `da` need `npm run build` first. Every other test runs in-process as `unit`.
 */
const PROCESS_TESTS = [
  // The compiled binaries (test/cli/format.test.ts only formats, in-process).
  'test/operator/*.test.ts',
  'test/cli/!(format).test.ts',
  'test/connectors/local/extractor.test.ts',
  'test/core/jobs/sync-pipeline.test.ts',
  // Syncs run by the app through its extractor child.
  'test/server/api/sync.test.ts',
  'test/runtime/new-connector.test.ts',
  'test/runtime/keboola-sync.test.ts',
  'test/runtime/bigquery-sync.test.ts',
  'test/runtime/scheduler-service.test.ts',
  'test/runtime/jira-sync.test.ts',
  // Agnes serve SIGKILLed while its Jira worker writes.
  'test/connectors/jira/worker-kill.test.ts',
  // Agnes serve SIGKILLed while its notification dispatcher delivers.
  'test/core/notifications/outbox-kill.test.ts',
  // `agnes ws-gateway` as its own process.
  'test/services/ws-gateway/command.test.ts',
  // A nested vitest run.
  'test/support/chromium-setup.test.ts',
  'test/support/bwrap-setup.test.ts',
  'test/support/postgres-setup.test.ts',
  'test/support/summary-reporter.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    expect: { requireAssertions: true },
    reporters: ['default', './test/support/summary-reporter.ts'],
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [BROWSER_TESTS, ...PROCESS_TESTS, ...SANDBOX_TESTS, DEPLOY_TESTS, REPLICA_TESTS],
        },
      },
      {
        extends: true,
        test: { name: 'process', include: PROCESS_TESTS },
      },
      {
        extends: true,
        // Runs only when a browser test is selected: finds or installs Chromium before any test.
        test: {
          name: 'browser',
          include: [BROWSER_TESTS],
          globalSetup: ['./test/support/chromium-setup.ts'],
        },
      },
      {
        extends: true,
        // Starts a throwaway PostgreSQL cluster (finding or installing PostgreSQL) before any test.
        test: { name: 'postgres', include: [STATE_TESTS], globalSetup: ['./test/support/postgres-setup.ts'] },
      },
      {
        extends: true,
        // Finds or installs bubblewrap before any test, the way the browser project gets Chromium.
        test: { name: 'sandbox', include: SANDBOX_TESTS, globalSetup: ['./test/support/bwrap-setup.ts'] },
      },
      {
        extends: true,
        // Finds or installs Debian's docker-compose before any test, the same way.
        test: { name: 'deploy', include: [DEPLOY_TESTS], globalSetup: ['./test/support/compose-setup.ts'] },
      },
    ],
  },
});
