import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LlmClient } from '../../../src/connectors/llm/index.js';
import { FakeAnthropic } from '../../fakes/anthropic.js';
import { FakeOpenAi } from '../../fakes/openai.js';
import { captureLogs } from '../../support/log-capture.js';
import { clientFor, REQUEST } from './fixtures.js';

/**
 * 07 §7 privacy: logs hold provider, model, endpoint (scheme and host), token counts, duration
 * and the error class, and never the key, the prompt or the answer — also when the SDKs are asked
 * for debug logging through their environment variables.
 */

const SECRET_PROMPT = 'the quarterly margin of project BLUEBIRD is 41.7%';
const SECRET_SYSTEM = 'curator instructions 7f3a';
const SECRET_ANSWER = 'Margin of BLUEBIRD';
const request = { ...REQUEST, system: SECRET_SYSTEM, prompt: SECRET_PROMPT };
const answer = { items: [{ title: SECRET_ANSWER, tags: ['finance'] }] };

let anthropic: FakeAnthropic;
let openai: FakeOpenAi;
const consoleCalls: unknown[][] = [];

beforeEach(async () => {
  anthropic = await FakeAnthropic.start();
  openai = await FakeOpenAi.start();
  vi.stubEnv('ANTHROPIC_LOG', 'debug');
  vi.stubEnv('OPENAI_LOG', 'debug');
  consoleCalls.length = 0;
  for (const method of ['log', 'debug', 'info', 'warn', 'error'] as const)
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      consoleCalls.push(args);
    });
});

afterEach(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  await anthropic.close();
  await openai.close();
});

/** A success after a rate limit, then a schema mismatch, a refusal and a prose answer. */
async function exercise(client: LlmClient): Promise<void> {
  await client.extractJson(request);
  for (let i = 0; i < 3; i++) await expect(client.extractJson(request)).rejects.toThrow();
}

const cases = [
  {
    provider: 'anthropic',
    key: () => anthropic.apiKey,
    endpoint: () => anthropic.url,
    client: (logger: ReturnType<typeof captureLogs>['logger']) => {
      anthropic.reply(
        { kind: 'error', status: 429, type: 'rate_limit_error', retryAfter: '0' },
        { kind: 'tool', input: answer },
        { kind: 'tool', input: { items: [{ title: SECRET_ANSWER }] } },
        { kind: 'refusal' },
        { kind: 'text', text: `I would say ${SECRET_ANSWER}` },
      );
      return clientFor(
        {
          provider: 'anthropic',
          api_key: anthropic.apiKey,
          base_url: anthropic.url,
          model: 'claude-haiku-4-5',
        },
        { logger },
      );
    },
  },
  {
    provider: 'openai_compat',
    key: () => openai.apiKey,
    endpoint: () => new URL(openai.url).origin,
    client: (logger: ReturnType<typeof captureLogs>['logger']) => {
      openai.rejectFormats.add('json_schema');
      openai.reply(
        { kind: 'error', status: 429, type: 'requests', retryAfter: '0' },
        { kind: 'content', content: JSON.stringify(answer) },
        { kind: 'content', content: JSON.stringify({ items: [{ title: SECRET_ANSWER }] }) },
        { kind: 'refusal' },
        { kind: 'content', content: `I would say ${SECRET_ANSWER}` },
      );
      return clientFor(
        { provider: 'openai_compat', api_key: openai.apiKey, base_url: openai.url, model: 'local-model' },
        { logger },
      );
    },
  },
] as const;

describe.each(cases)('$provider logs', ({ provider, key, endpoint, client }) => {
  it('never hold the key, the prompt or the answer', async () => {
    const logs = captureLogs();
    await exercise(client(logs.logger));
    const text = logs.text();
    expect(text).not.toBe('');
    for (const secret of [key(), SECRET_PROMPT, SECRET_SYSTEM, SECRET_ANSWER, 'BLUEBIRD', 'Bearer'])
      expect(text).not.toContain(secret);
    // Nothing reaches the console either, though the SDKs were asked for debug logs.
    expect(consoleCalls).toEqual([]);
  });

  it('hold provider, model, endpoint, token counts, duration and error classes', async () => {
    const logs = captureLogs();
    await exercise(client(logs.logger));
    const entries = logs.entries();
    const model = provider === 'anthropic' ? 'claude-haiku-4-5' : 'local-model';
    for (const entry of entries) expect(entry).toMatchObject({ provider, model, endpoint: endpoint() });

    const success = entries.find((e) => e.msg === 'llm call succeeded');
    expect(success).toMatchObject({ attempts: 2 });
    expect(success?.inputTokens).toBeGreaterThan(0);
    expect(success?.outputTokens).toBeGreaterThan(0);
    expect(typeof success?.durationMs).toBe('number');

    expect(entries.filter((e) => e.msg === 'llm call retried').map((e) => e.error)).toEqual([
      'LLMRateLimitError',
    ]);
    expect(entries.filter((e) => e.msg === 'llm call failed').map((e) => e.error)).toEqual([
      'LLMFormatError',
      'LLMRefusalError',
      'LLMFormatError',
    ]);
    // A failed answer was still billed.
    expect(entries.find((e) => e.msg === 'llm call failed')?.outputTokens).toBeGreaterThan(0);
  });
});

it('the answer stays out of the error messages too', async () => {
  anthropic.reply({ kind: 'tool', input: { items: [{ title: SECRET_ANSWER, tags: [], extra: 1 }] } });
  const client = clientFor({
    provider: 'anthropic',
    api_key: anthropic.apiKey,
    base_url: anthropic.url,
    model: 'claude-haiku-4-5',
  });
  const error = await client.extractJson(request).catch((e: unknown) => e);
  expect(String((error as Error).message)).not.toContain(SECRET_ANSWER);
  expect(JSON.stringify(error)).not.toContain(SECRET_ANSWER);
});
