import { defineConfig } from 'vitest/config';

const BROWSER_TESTS = 'test/server/web/**/*.test.ts';

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
        test: { name: 'node', include: ['test/**/*.test.ts'], exclude: [BROWSER_TESTS] },
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
    ],
  },
});
