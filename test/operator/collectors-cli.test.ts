import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { FakeAnthropic } from '../fakes/anthropic.js';
import { userLine } from '../services/corporate-memory/support.js';
import { type RunResult, runAgnes } from '../support/processes.js';
import { createUser, type TestServer, withServer } from '../support/server.js';

/** `agnes corporate-memory` and `agnes session-collector` as their own processes (08 §4–5). */
describe('collector commands', () => {
  let server: TestServer;
  let fake: FakeAnthropic;

  beforeEach(async () => {
    server = await withServer({ config: { corporate_memory: { include_sessions: true } } });
    fake = await FakeAnthropic.start();
    await writeFile(
      join(server.dataDir, 'instance.yaml'),
      stringify({
        // No catalog context: GET /api/memory belongs to the memory router, not to this branch's app.
        corporate_memory: { include_sessions: true, catalog_context_items: 0 },
        llm: { provider: 'anthropic', base_url: fake.url, max_retries: 0 },
      }),
    );
  });

  afterEach(async () => {
    await fake.close();
    await server.close();
  });

  function agnes(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
    return runAgnes(args, {
      cwd: server.dataDir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        DATA_DIR: server.dataDir,
        AGNES_CONFIG: join(server.dataDir, 'instance.yaml'),
        AGNES_API_URL: server.url,
        LLM_API_KEY: fake.apiKey,
        LOG_LEVEL: 'info',
        ...env,
      },
      killAfterMs: 20_000,
    });
  }

  it('corporate-memory --once exits 3 without a token or with a person token, before any LLM call', async () => {
    const person = await createUser(server.ctx, 'km_admin');
    expect((await agnes(['corporate-memory', '--once'])).code).toBe(3);
    expect((await agnes(['corporate-memory', '--once'], { AGNES_TOKEN: person.pat })).code).toBe(3);
    expect(fake.requests).toHaveLength(0);
  });

  it('session-collector --once files a transcript, then corporate-memory --dry-run prints its item', async () => {
    const collector = await createUser(server.ctx, 'km_admin', { service: true });
    const alice = await createUser(server.ctx, 'analyst');
    const incoming = join(server.dataDir, 'uploads', alice.id, 'incoming', 'sessions');
    await mkdir(incoming, { recursive: true });
    const now = new Date();
    const line = { ...userLine('orders are daily'), timestamp: now.toISOString() };
    await writeFile(join(incoming, 'a.jsonl'), `${JSON.stringify(line)}\n`);
    const month = [String(now.getUTCFullYear()), String(now.getUTCMonth() + 1).padStart(2, '0')];

    expect((await agnes(['session-collector', '--once'])).code).toBe(0);
    expect(await readdir(join(server.dataDir, 'uploads', alice.id, 'sessions', ...month))).toEqual([
      'a.jsonl',
    ]);

    fake.reply(
      {
        kind: 'tool',
        input: {
          items: [
            { existing_id: null, title: 'Orders', content: 'Daily.', category: 'workflow', tags: ['o'] },
          ],
        },
      },
      { kind: 'tool', input: { safe: true, reasons: [] } },
    );
    const dry = await agnes(['corporate-memory', '--dry-run'], { AGNES_TOKEN: collector.pat });
    expect(dry.code).toBe(0);
    expect(
      dry.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      {
        existing_id: null,
        title: 'Orders',
        content: 'Daily.',
        category: 'workflow',
        tags: ['o'],
        contributors: [alice.id],
      },
    ]);
    expect(dry.stderr).not.toContain('orders are daily');
    expect((await server.ctx.repos.knowledge.list()).total).toBe(0);
    await expect(
      readFile(join(server.dataDir, 'services', 'corporate-memory', 'cursor.json')),
    ).rejects.toThrow();
  });
});
