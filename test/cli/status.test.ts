import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_VERSION } from '../../src/core/package-info.js';
import { cliHome, runDa } from '../support/cli.js';
import { type SyncedLaptop, syncedAnalyst } from '../support/cli-synced.js';
import { withServer } from '../support/server.js';

/** A loopback port nothing listens on. */
const DEAD_SERVER = 'http://127.0.0.1:9';

interface CheckDoc {
  name: string;
  status: 'pass' | 'warn' | 'fail';
}

describe('da status, diagnose, setup and version', { timeout: 180_000 }, () => {
  let laptop: SyncedLaptop;
  const da = (...args: string[]) => laptop.da(...args);

  beforeAll(async () => {
    laptop = await syncedAnalyst();
  });
  afterAll(async () => laptop.close());

  it('status --json reports server, user, local tables, out-of-date, missing and remote tables', async () => {
    const result = await da('status', '--json');
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({
      server: {
        url: laptop.fixture.server.url,
        reachable: true,
        status: expect.any(String),
        version: PACKAGE_VERSION,
      },
      user: { email: laptop.fixture.analyst.email, role: 'analyst' },
      local: {
        dir: laptop.home.localDir,
        tables: ['events', 'orders'],
        missing_files: [],
        remote: ['clicks'],
      },
    });
    expect(doc.server.generation).toEqual(expect.any(Number));
    expect(doc.local.last_sync).toMatch(/Z$/);
    expect(doc.local.out_of_date).toContain('holidays');
    expect(doc.local.out_of_date).not.toContain('orders');

    await rm(join(laptop.home.localDir, 'server', 'parquet', 'orders.parquet'));
    const missing = JSON.parse((await da('status', '--json', '--local')).stdout);
    expect(missing.local.missing_files).toEqual(['orders/orders.parquet']);
    expect(missing.server).toMatchObject({ reachable: null, version: null });
    expect(missing.user).toBeNull();
    const resync = await da('sync', '--table', 'orders', '--quiet');
    expect(resync.code).toBe(0);
  });

  it('status exits 6 when the server is unreachable, and 0 with --local', async () => {
    const down = await da('status', '--server', DEAD_SERVER, '--json');
    expect(down.code).toBe(6);
    expect(JSON.parse(down.stdout).server).toMatchObject({ url: DEAD_SERVER, reachable: false });
    const text = await da('status', '--server', DEAD_SERVER);
    expect(text.code).toBe(6);
    expect(text.stderr).toMatch(/^warning: cannot reach http:\/\/127\.0\.0\.1:9 .*use --local\n$/);
    expect((await da('status', '--server', DEAD_SERVER, '--local')).code).toBe(0);
  });

  it('diagnose passes every check on a healthy setup and prints one line per check', async () => {
    const result = await da('diagnose', '--json');
    const doc = JSON.parse(result.stdout);
    const names = doc.checks.map((c: CheckDoc) => c.name);
    expect(names).toEqual([
      'config',
      'server_health',
      'credentials',
      'manifest',
      'stale_tables',
      'clock_skew',
      'local_dir_writable',
      'disk_space',
      'local_db',
    ]);
    expect(doc.checks.filter((c: CheckDoc) => c.status === 'fail')).toEqual([]);
    expect(doc.ok).toBe(true);
    expect(result.code).toBe(0);
    const text = await da('diagnose', '--no-color');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^PASS {2}config +server http/m);
    expect(text.stdout).toMatch(/^PASS {2}local_db +2 views bind$/m);
  });

  it('diagnose exits 1 with a failed check and an action when the token is refused or the server is down', async () => {
    const refused = await runDa(['diagnose', '--json'], {
      env: { ...laptop.home.env, DA_TOKEN: 'agnes_pat_invalid' },
    });
    expect(refused.code).toBe(1);
    const doc = JSON.parse(refused.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.checks.find((c: CheckDoc) => c.name === 'credentials')).toMatchObject({
      status: 'fail',
      action: 'run: da auth login',
    });
    const down = await da('diagnose', '--server', DEAD_SERVER);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/^FAIL {2}server_health +cannot reach/m);
    const none = await cliHome();
    const unconfigured = await runDa(['diagnose'], { env: none.env });
    expect(unconfigured.code).toBe(1);
    expect(unconfigured.stdout).toMatch(
      /^FAIL {2}config +no server configured; run: da auth login --server URL/m,
    );
    await none.cleanup();
  });

  it('version prints the CLI version, and the server version when one is configured', async () => {
    expect(JSON.parse((await da('version', '--json')).stdout)).toEqual({
      version: PACKAGE_VERSION,
      server: { url: laptop.fixture.server.url, reachable: true, version: PACKAGE_VERSION },
    });
    const none = await cliHome();
    expect((await runDa(['version'], { env: none.env })).stdout).toBe(`da ${PACKAGE_VERSION}\n`);
    await none.cleanup();
  });

  it('setup verify exits 1 exactly when a check fails, in text and JSON mode', async () => {
    const json = await da('setup', 'verify', '--json');
    const doc = JSON.parse(json.stdout);
    expect(doc.checks.map((c: CheckDoc) => c.name)).toEqual(['server', 'auth', 'data', 'web_ui', 'api_docs']);
    expect(doc.checks.slice(0, 3).map((c: CheckDoc) => c.status)).toEqual(['pass', 'pass', 'pass']);
    const failed = doc.checks.some((c: CheckDoc) => c.status === 'fail');
    expect(json.code).toBe(failed ? 1 : 0);
    expect((await da('setup', 'verify')).code).toBe(json.code);
    const signedOut = await runDa(['setup', 'verify', '--json'], {
      env: { ...laptop.home.env, DA_TOKEN: 'agnes_pat_invalid' },
    });
    expect(signedOut.code).toBe(1);
    expect(JSON.parse(signedOut.stdout).checks[1]).toMatchObject({ name: 'auth', status: 'fail' });
  });

  it('setup bootstrap creates the first admin on a fresh server, then refuses with exit 4', async () => {
    const fresh = await withServer();
    const laptop = await cliHome();
    try {
      const args = ['setup', 'bootstrap', 'first@example.com', '--server', fresh.url, '--password-stdin'];
      const first = await runDa(args, { env: laptop.env, input: 'Corr3ct-Horse-Battery-Staple\n' });
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toBe(
        `Bootstrapped ${fresh.url}: first@example.com is the first admin and is signed in\n`,
      );
      const whoami = await runDa(['auth', 'whoami', '--json'], { env: laptop.env });
      expect(JSON.parse(whoami.stdout)).toMatchObject({ email: 'first@example.com', role: 'admin' });
      const again = await runDa(args, { env: laptop.env, input: 'Corr3ct-Horse-Battery-Staple\n' });
      expect(again.code).toBe(4);
      expect(again.stderr).toBe('error: Bootstrap disabled: the server already has users\n');
    } finally {
      await fresh.close();
      await laptop.cleanup();
    }
  });

  it('setup bootstrap sends AGNES_BOOTSTRAP_TOKEN; a wrong one exits 3', async () => {
    const token = 'bootstrap-secret-0123456789abcdef';
    const fresh = await withServer({ env: { AGNES_BOOTSTRAP_TOKEN: token } });
    const laptop = await cliHome();
    try {
      const args = ['setup', 'bootstrap', 'first@example.com', '--server', fresh.url, '--password-stdin'];
      const input = 'Corr3ct-Horse-Battery-Staple\n';
      const wrong = await runDa(args, { env: { ...laptop.env, AGNES_BOOTSTRAP_TOKEN: 'wrong' }, input });
      expect(wrong.code).toBe(3);
      expect(wrong.stderr).toMatch(/^error: the bootstrap token was refused; set AGNES_BOOTSTRAP_TOKEN/);
      const right = await runDa(args, { env: { ...laptop.env, AGNES_BOOTSTRAP_TOKEN: token }, input });
      expect(right.code).toBe(0);
    } finally {
      await fresh.close();
      await laptop.cleanup();
    }
  });
});
