import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { resolveBwrap } from './bwrap-setup.js';
import { MissingToolError } from './system-tool.js';

const run = promisify(execFile);
const VITEST = join(process.cwd(), 'node_modules', 'vitest', 'vitest.mjs');

describe('sandbox tests on a machine without bubblewrap', () => {
  it('refuses with the install command when no bwrap exists and apt-get is not on PATH', () => {
    let error: unknown;
    try {
      resolveBwrap({ PATH: '/nonexistent' }, ['/nonexistent/bwrap']);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MissingToolError);
    expect((error as Error).message).toMatch(/none was found at \/nonexistent\/bwrap/);
    expect((error as Error).message).toContain('`sudo apt-get install -y bubblewrap`');
  });

  it('refuses a BWRAP_PATH that cannot build a sandbox', () => {
    expect(() => resolveBwrap({ PATH: '', BWRAP_PATH: '/usr/bin/false' }, [])).toThrow(
      '/usr/bin/false cannot create a sandbox on this machine',
    );
  });

  it('stops a vitest run before any test, with the message and a non-zero exit', async () => {
    const outcome = await run(process.execPath, [VITEST, 'run', '--project', 'sandbox'], {
      env: { ...process.env, BWRAP_PATH: '/nonexistent/bwrap', CI: '1' },
      timeout: 20_000,
    }).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('Script sandbox tests need bubblewrap: BWRAP_PATH=/nonexistent/bwrap');
    expect(outcome.stdout).not.toMatch(/passed|✓/);
  });
});
