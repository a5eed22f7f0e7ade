import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePat } from '../../src/server/auth/pat.js';
import {
  type CliHome,
  type CliServer,
  cliHome,
  loginWithToken,
  runDa,
  withCliServer,
} from '../support/cli.js';
import { startProxy } from '../support/proxy.js';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One line on stderr, `error: …`, nothing on stdout. */
function expectOneLine(result: { stdout: string; stderr: string }, message: string): void {
  expect(result.stdout).toBe('');
  expect(result.stderr).toBe(`error: ${message}\n`);
}

describe('da: bad input gets one line saying what to do, and its exit code', () => {
  let fixture: CliServer;
  let home: CliHome;

  beforeAll(async () => {
    fixture = await withCliServer();
  });
  afterAll(async () => fixture.close());

  it('no server configured: exit 2, says how to configure one', async () => {
    home = await cliHome();
    const result = await runDa(['sync'], { env: home.env });
    expect(result.code).toBe(2);
    expectOneLine(result, 'no server configured; run: da auth login --server URL (or set DA_SERVER)');
    await home.cleanup();
  });

  it('a server but no credential: exit 3, says to log in', async () => {
    home = await cliHome();
    const result = await runDa(['sync'], { env: { ...home.env, DA_SERVER: fixture.server.url } });
    expect(result.code).toBe(3);
    expectOneLine(result, `not signed in to ${fixture.server.url}; run: da auth login`);
    await home.cleanup();
  });

  it('server unreachable: exit 6 after retries, naming the server; --json gives the error document', async () => {
    home = await cliHome();
    const url = `http://127.0.0.1:${await closedPort()}`;
    const env = { ...home.env, DA_SERVER: url, DA_TOKEN: fixture.analyst.pat };
    const result = await runDa(['sync'], { env });
    expect(result.code).toBe(6);
    expectOneLine(result, `cannot reach ${url} (ECONNREFUSED)`);
    const json = await runDa(['sync', '--json'], { env });
    expect(json.code).toBe(6);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toEqual({
      error: { code: 'unreachable', message: `cannot reach ${url} (ECONNREFUSED)`, status: null },
    });
    await home.cleanup();
  });

  it('an expired or revoked token: exit 3, says to log in again', async () => {
    home = await cliHome();
    const { ctx, url } = fixture.server;
    const expired = generatePat();
    await ctx.repos.tokens.create({
      user_id: fixture.analyst.id,
      name: 'old',
      token_hash: expired.hash,
      prefix: expired.prefix,
      expires_at: new Date(Date.now() - 60_000).toISOString(),
    });
    const withExpired = await runDa(['sync'], {
      env: { ...home.env, DA_SERVER: url, DA_TOKEN: expired.token },
    });
    expect(withExpired.code).toBe(3);
    expectOneLine(withExpired, 'not signed in, or the token is no longer valid; run: da auth login');

    await loginWithToken(home, url, fixture.admin);
    const [token] = (
      await runDa(['auth', 'tokens', 'list', '--json'], { env: home.env }).then((r) => JSON.parse(r.stdout))
    ).tokens as { id: string }[];
    const revoke = await runDa(['auth', 'tokens', 'revoke', token!.id], { env: home.env });
    expect(revoke.code).toBe(0);
    const revoked = await runDa(['sync'], { env: home.env });
    expect(revoked.code).toBe(3);
    expectOneLine(revoked, 'not signed in, or the token is no longer valid; run: da auth login');
    await home.cleanup();
  });

  it('a server error on the manifest: exit 7 with the server detail', async () => {
    home = await cliHome();
    const proxy = await startProxy(fixture.server.url);
    try {
      proxy.fault(/^\/api\/sync\/manifest$/, {
        kind: 'status',
        status: 500,
        detail: 'state database is locked',
      });
      const result = await runDa(['sync'], {
        env: { ...home.env, DA_SERVER: proxy.url, DA_TOKEN: fixture.analyst.pat },
      });
      expect(result.code).toBe(7);
      expectOneLine(result, 'state database is locked');
    } finally {
      await proxy.close();
      await home.cleanup();
    }
  });

  it('usage errors exit 2: an unknown flag, --parallel out of range', async () => {
    home = await cliHome();
    const env = { ...home.env, DA_SERVER: fixture.server.url, DA_TOKEN: fixture.analyst.pat };
    const unknown = await runDa(['sync', '--frobnicate'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("error: unknown option '--frobnicate'");
    const parallel = await runDa(['sync', '--parallel', '17'], { env });
    expect(parallel.code).toBe(2);
    expectOneLine(parallel, '--parallel must be between 1 and 16');
    await home.cleanup();
  });
});
