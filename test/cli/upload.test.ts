import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliHome,
  type CliServer,
  cliHome,
  loginWithToken,
  runDa,
  withCliServer,
} from '../support/cli.js';
import { type CountingProxy, startProxy } from '../support/proxy.js';
import { call } from '../support/server.js';

describe('da sync --upload-only', () => {
  let fixture: CliServer;
  let proxy: CountingProxy;
  let home: CliHome;

  beforeAll(async () => {
    fixture = await withCliServer();
    proxy = await startProxy(fixture.server.url);
    home = await cliHome();
    await loginWithToken(home, proxy.url, fixture.analyst);
  });
  afterAll(async () => {
    await proxy.close();
    await fixture.close();
    await home.cleanup();
  });

  it('uploads changed session files and local notes once, waits out a 429, and never downloads', async () => {
    const sessions = join(home.localDir, 'user', 'sessions');
    await mkdir(sessions, { recursive: true });
    await mkdir(join(home.localDir, '.claude'), { recursive: true });
    await writeFile(join(sessions, '2026-04-09_a.jsonl'), '{"role":"user","text":"hello"}\n');
    await writeFile(join(sessions, '2026-04-09_b.jsonl'), '{"role":"user","text":"bye"}\n');
    await writeFile(join(sessions, 'notes.txt'), 'not a session');
    await writeFile(join(home.localDir, '.claude', 'CLAUDE.local.md'), '# My notes\n');
    proxy.fault(/^\/api\/upload\/sessions$/, {
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '1' },
    });

    const first = await runDa(['sync', '--upload-only', '--json'], { env: home.env });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      sessions_uploaded: 2,
      sessions_skipped: 0,
      local_md: 'uploaded',
      errors: [],
    });
    expect(proxy.requests.filter((r) => r.path === '/api/upload/sessions').map((r) => r.status)).toEqual([
      429, 200, 200,
    ]);
    expect(
      proxy.requests.some((r) => r.path.startsWith('/api/data/') || r.path === '/api/sync/manifest'),
    ).toBe(false);
    const mine = await call(fixture.server, 'GET', '/api/upload/mine', { auth: fixture.analyst.auth });
    expect(JSON.stringify(mine.body)).toContain('2026-04-09_b.jsonl');

    await writeFile(join(sessions, '2026-04-09_b.jsonl'), '{"role":"user","text":"bye again"}\n');
    proxy.reset();
    const second = await runDa(['sync', '--upload-only'], { env: home.env });
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('Uploaded 1 session file(s), 1 unchanged; local notes unchanged\n');
    expect(proxy.requests.map((r) => r.path)).toEqual(['/api/upload/sessions']);
  });

  it('a refused upload is reported and exits 1', async () => {
    await writeFile(join(home.localDir, 'user', 'sessions', '2026-04-10_c.jsonl'), '{}\n');
    proxy.reset();
    proxy.fault(/^\/api\/upload\/sessions$/, {
      kind: 'status',
      status: 413,
      detail: 'file exceeds the limit',
    });
    const result = await runDa(['sync', '--upload-only'], { env: home.env });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      'Uploaded 0 session file(s), 2 unchanged; local notes unchanged\n  sessions/2026-04-10_c.jsonl: file exceeds the limit\n',
    );
  });
});
