import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { resolveChromium } from './chromium-setup.js';
import { MissingToolError } from './system-tool.js';

const run = promisify(execFile);
const VITEST = join(process.cwd(), 'node_modules', 'vitest', 'vitest.mjs');

describe('browser tests on a machine without Chromium (issue 24)', () => {
  it('refuses with the install command when no Chromium exists and apt-get is not on PATH', () => {
    const started = Date.now();
    let error: unknown;
    try {
      resolveChromium({ PATH: '/nonexistent' }, ['/nonexistent/chromium']);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MissingToolError);
    expect((error as Error).message).toMatch(/none was found at \/nonexistent\/chromium/);
    expect((error as Error).message).toContain('cannot install it here');
    expect((error as Error).message).toContain('`sudo apt-get install -y chromium`');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('takes CHROMIUM_PATH as the only choice when it is set', () => {
    expect(resolveChromium({ PATH: '', CHROMIUM_PATH: process.execPath }, [])).toBe(process.execPath);
    expect(() => resolveChromium({ PATH: '', CHROMIUM_PATH: '/nonexistent/chrome' }, [])).toThrow(
      'CHROMIUM_PATH=/nonexistent/chrome is not an executable file',
    );
  });

  it('stops a vitest run before any test, with the message and a non-zero exit', async () => {
    const started = Date.now();
    const outcome = await run(process.execPath, [VITEST, 'run', '--project', 'browser'], {
      env: { ...process.env, CHROMIUM_PATH: '/nonexistent/chrome', CI: '1' },
      timeout: 20_000,
    }).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('Browser tests need Chromium: CHROMIUM_PATH=/nonexistent/chrome');
    expect(outcome.stdout).not.toMatch(/passed|✓/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
