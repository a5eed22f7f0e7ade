import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { endpointOf } from '../../../src/connectors/llm/call.js';
import { createLlmClient, LLMTimeoutError } from '../../../src/connectors/llm/index.js';
import { ConfigError, loadConfig } from '../../../src/core/config/index.js';
import { FakeAnthropic } from '../../fakes/anthropic.js';
import { FakeOpenAi } from '../../fakes/openai.js';
import { tempDir } from '../../support/extracts.js';
import { type Items, llmConfig, REQUEST, silentLogger, VALID_ITEMS } from './fixtures.js';

const deps = { logger: silentLogger };

describe('createLlmClient', () => {
  it('gives no client for provider none', () => {
    expect(createLlmClient(llmConfig({ provider: 'none', api_key: 'k' }), deps)).toBeUndefined();
  });

  it('fails closed on an empty or blank key, even when the loader did not check it', () => {
    for (const provider of ['anthropic', 'openai_compat'] as const)
      for (const api_key of [undefined, '', '   ']) {
        const config = llmConfig({ provider, api_key, model: 'm', base_url: 'http://127.0.0.1:1/v1' });
        expect(() => createLlmClient(config, deps)).toThrow(ConfigError);
        expect(() => createLlmClient(config, deps)).toThrow(
          `llm.api_key: is required for provider ${provider}`,
        );
      }
  });

  it('requires a model, and a base URL for openai_compat', () => {
    expect(() =>
      createLlmClient(llmConfig({ provider: 'openai_compat', api_key: 'k', model: 'm' }), deps),
    ).toThrow('llm.base_url: is required for provider openai_compat');
    expect(() =>
      createLlmClient(llmConfig({ provider: 'openai_compat', api_key: 'k', base_url: 'http://h/v1' }), deps),
    ).toThrow('llm.model: is required');
    expect(
      createLlmClient(llmConfig({ provider: 'anthropic', api_key: 'k', model: 'm' }), deps),
    ).toMatchObject({ provider: 'anthropic', model: 'm' });
  });

  it('logs a base URL as scheme and host only', () => {
    expect(endpointOf('https://user:pw@llm.example:8443/v1/proxy?key=secret#x')).toBe(
      'https://llm.example:8443',
    );
    expect(endpointOf('https://api.anthropic.com')).toBe('https://api.anthropic.com');
  });
});

describe('from instance.yaml', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let anthropic: FakeAnthropic;
  let openai: FakeOpenAi;

  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir('agnes-llm-'));
    anthropic = await FakeAnthropic.start();
    openai = await FakeOpenAi.start();
  });

  afterEach(async () => {
    await anthropic.close();
    await openai.close();
    await cleanup();
  });

  async function load(yaml: string, env: Record<string, string>) {
    const path = join(dir, 'instance.yaml');
    await writeFile(path, yaml);
    return (await loadConfig({ env: { AGNES_CONFIG: path, ...env }, cwd: dir })).config.llm;
  }

  it('anthropic: the key from LLM_API_KEY and the default model', async () => {
    const llm = await load(`llm:\n  provider: anthropic\n  base_url: ${anthropic.url}\n`, {
      LLM_API_KEY: anthropic.apiKey,
    });
    anthropic.reply({ kind: 'tool', input: VALID_ITEMS });
    const result = await createLlmClient(llm, deps)?.extractJson<Items>(REQUEST);
    expect(result?.value).toEqual(VALID_ITEMS);
    expect(anthropic.requests[0]?.body).toMatchObject({ model: 'claude-haiku-4-5' });
  });

  it('openai_compat: timeout_seconds bounds each request, max_retries the attempts', async () => {
    const llm = await load(
      [
        'llm:',
        '  provider: openai_compat',
        `  base_url: ${openai.url}`,
        '  model: llama3.1:8b',
        '  api_key: ${OLLAMA_KEY}',
        '  structured_output: json',
        '  timeout_seconds: 1',
        '  max_retries: 0',
        '',
      ].join('\n'),
      { OLLAMA_KEY: openai.apiKey },
    );
    openai.reply({ kind: 'content', content: JSON.stringify(VALID_ITEMS), delayMs: 1500 });
    const started = Date.now();
    await expect(createLlmClient(llm, deps)?.extractJson(REQUEST)).rejects.toBeInstanceOf(LLMTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(openai.requests).toHaveLength(1);
  });
});
