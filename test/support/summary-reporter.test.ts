import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const run = promisify(execFile);
const VITEST = join(process.cwd(), 'node_modules', 'vitest', 'vitest.mjs');
const REPORTER = join(process.cwd(), 'test', 'support', 'summary-reporter.ts');
let dir = '';

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('counts and names a file whose setup failed, instead of passing over its skipped tests', async () => {
  dir = await mkdtemp(join(tmpdir(), 'agnes-summary-'));
  await writeFile(
    join(dir, 'vitest.config.mjs'),
    `export default { test: { include: ['*.test.mjs'], reporters: [${JSON.stringify(REPORTER)}] } };`,
  );
  await writeFile(
    join(dir, 'ok.test.mjs'),
    "import { expect, it } from 'vitest';\nit('adds', () => expect(1 + 1).toBe(2));\n",
  );
  await writeFile(
    join(dir, 'no-browser.test.mjs'),
    "import { beforeAll, expect, it } from 'vitest';\nbeforeAll(() => { throw new Error('no browser'); });\nit('a', () => expect(1).toBe(1));\nit('b', () => expect(1).toBe(1));\n",
  );
  const outcome = await run(process.execPath, [VITEST, 'run', '--root', dir], {
    cwd: dir,
    env: { ...process.env, NODE_PATH: join(process.cwd(), 'node_modules') },
    timeout: 20_000,
  }).then(
    () => ({ code: 0, stdout: '' }),
    (error: { code: number; stdout: string }) => error,
  );
  expect(outcome.code).toBe(1);
  expect(outcome.stdout).toContain('failed outside its tests: no-browser.test.mjs');
  expect(outcome.stdout.trimEnd().split('\n').at(-1)).toBe('1 passed, 1 failed');
});
