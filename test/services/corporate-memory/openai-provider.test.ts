import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLlmClient } from '../../../src/connectors/llm/index.js';
import { FakeOpenAi } from '../../fakes/openai.js';
import { createUser, type TestServer, withServer } from '../../support/server.js';
import { item, portFor, run, silent, writeLocalMd } from './support.js';

let server: TestServer;
let fake: FakeOpenAi;

beforeEach(async () => {
  server = await withServer();
  fake = await FakeOpenAi.start();
});

afterEach(async () => {
  await fake.close();
  await server.close();
});

describe('corporate memory collector with an OpenAI-compatible server', () => {
  it('extracts, screens and stores through Chat Completions, sending no secret', async () => {
    const collector = await createUser(server.ctx, 'km_admin', { service: true });
    const alice = await createUser(server.ctx, 'analyst');
    await writeLocalMd(server.dataDir, alice.id, 'Use ghp_0123456789abcdefghijABCDEFGHIJ; orders are daily.');
    fake.reply(
      { kind: 'content', content: JSON.stringify({ items: [item('Orders are daily')] }) },
      { kind: 'content', content: JSON.stringify({ safe: true, reasons: [] }) },
    );
    const llm = createLlmClient(
      {
        provider: 'openai_compat',
        api_key: fake.apiKey,
        base_url: fake.url,
        model: 'qwen',
        structured_output: 'auto',
        timeout_seconds: 10,
        max_retries: 0,
      },
      { logger: silent },
    );

    const report = await run(server, portFor(server, collector.pat), llm);

    expect(report).toMatchObject({ exitCode: 0, counts: { items_new: 1 } });
    expect(fake.requests).toHaveLength(2);
    expect(JSON.stringify(fake.requests.map((r) => r.body))).not.toContain('ghp_0123456789');
    const [stored] = (await server.ctx.repos.knowledge.list()).items;
    expect(stored).toMatchObject({ title: 'Orders are daily', contributors: [alice.id] });
  });
});
