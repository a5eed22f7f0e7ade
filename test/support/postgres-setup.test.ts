import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const VITEST = join(process.cwd(), 'node_modules', 'vitest', 'vitest.mjs');

/** A nested run of one state test file in the `postgres` project, with PostgreSQL made unfindable. */
function runWithoutPostgres(ci: boolean) {
  const { CI: _ci, ...env } = process.env;
  return run(
    process.execPath,
    [VITEST, 'run', '--project', 'postgres', 'test/core/state/repositories/profiles.test.ts'],
    {
      env: { ...env, POSTGRES_INITDB: '/nonexistent/initdb', ...(ci ? { CI: 'true' } : {}) },
      timeout: 60_000,
    },
  ).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

describe('the PostgreSQL state tests on a machine without PostgreSQL (spec 13 §2)', () => {
  it('locally, skips them and says once which and why', async () => {
    const outcome = await runWithoutPostgres(false);

    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toContain(
      'Skipping every test of the "postgres" project (the state-store contract suite on PostgreSQL',
    );
    expect(outcome.stderr).toContain('POSTGRES_INITDB=/nonexistent/initdb is not an executable file');
    expect(outcome.stdout).toMatch(/2 skipped/);
    expect(outcome.stdout).toContain('0 passed, 0 failed');
  });

  it('with CI=true, stops the run before any test with a non-zero exit', async () => {
    const outcome = await runWithoutPostgres(true);

    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('CI never skips the PostgreSQL tests.');
    expect(outcome.stdout).not.toMatch(/passed|skipped|✓/);
  });
});
