import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { createLlmClient, type LlmClient } from '../../../src/connectors/llm/index.js';
import type { InstanceConfig } from '../../../src/core/config/index.js';
import { httpCollectorPort } from '../../../src/operator/commands/corporate-memory.js';
import { ServiceClient } from '../../../src/operator/service-client.js';
import { type CollectorDeps, runCollector } from '../../../src/services/corporate-memory/collector.js';
import type { CollectorPort } from '../../../src/services/corporate-memory/port.js';
import type { AnthropicReply, AnthropicRequestBody, FakeAnthropic } from '../../fakes/anthropic.js';
import type { TestServer } from '../../support/server.js';

export const silent = pino({ level: 'silent' });

export function llmFor(fake: FakeAnthropic, maxRetries = 0): LlmClient {
  const client = createLlmClient(
    {
      provider: 'anthropic',
      api_key: fake.apiKey,
      base_url: fake.url,
      model: 'claude-haiku-4-5',
      structured_output: 'auto',
      timeout_seconds: 10,
      max_retries: maxRetries,
    },
    { logger: silent, tuning: { sleep: async () => undefined } },
  );
  if (!client) throw new Error('no client');
  return client;
}

/**
 * The collector's HTTP port against the real app with a token. `GET /api/memory` belongs to the
 * memory router (another module); until it is in the app this port reads the catalog from the
 * store, and `httpCollectorPort().catalog` is tested against a fake of that route.
 */
export function portFor(server: TestServer, token: string): CollectorPort {
  const http = httpCollectorPort(new ServiceClient({ apiUrl: server.url, token }));
  return {
    ...http,
    async catalog(limit) {
      const page = await server.ctx.repos.knowledge.list(
        { status: ['approved', 'pending'] },
        { page: 1, per_page: Math.max(1, Math.min(limit, 200)) },
      );
      return page.items.map((item) => ({ ...item, content: item.content ?? '' }));
    },
  };
}

export function configOf(server: TestServer): Pick<InstanceConfig, 'corporate_memory' | 'limits'> {
  return server.ctx.config;
}

export function run(
  server: TestServer,
  port: CollectorPort,
  llm: LlmClient | undefined,
  extra: Partial<CollectorDeps> = {},
) {
  return runCollector({
    dataDir: server.dataDir,
    config: configOf(server),
    llm,
    port,
    log: silent,
    ...extra,
  });
}

export async function writeLocalMd(dataDir: string, userDir: string, text: string): Promise<string> {
  const dir = join(dataDir, 'uploads', userDir, 'local_md');
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'CLAUDE.local.md');
  await writeFile(path, text);
  return path;
}

export async function writeSession(
  dataDir: string,
  userDir: string,
  name: string,
  lines: unknown[],
): Promise<string> {
  const dir = join(dataDir, 'uploads', userDir, 'sessions', '2026', '01');
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  await writeFile(path, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
  return path;
}

export const userLine = (content: unknown) => ({
  type: 'user',
  timestamp: '2026-01-05T10:00:00Z',
  message: { role: 'user', content },
});

export interface ItemAnswer {
  existing_id?: string | null;
  title: string;
  content: string;
  category: string;
  tags: string[];
}

export const item = (title: string, content = `About ${title}.`): ItemAnswer => ({
  existing_id: null,
  title,
  content,
  category: 'data_analysis',
  tags: ['orders'],
});

/** Whether a request is the extraction call or a screening call. */
export const isExtraction = (body: AnthropicRequestBody) => body.tool_choice?.name === 'knowledge_items';

/**
 * Answers extraction calls with `extract(notes)` and screening calls safe, unless the item holds
 * `UNSAFE`.
 */
export function respond(fake: FakeAnthropic, extract: (prompt: string) => ItemAnswer[]): void {
  fake.responder = (body): AnthropicReply => {
    const prompt = body.messages[0]?.content ?? '';
    if (isExtraction(body)) return { kind: 'tool', input: { items: extract(prompt) } };
    const unsafe = prompt.includes('UNSAFE');
    return { kind: 'tool', input: { safe: !unsafe, reasons: unsafe ? ['personal data'] : [] } };
  };
}

/** Every request body the fake received, as text. */
export const sentText = (fake: FakeAnthropic) => fake.requests.map((r) => JSON.stringify(r.body)).join('\n');
