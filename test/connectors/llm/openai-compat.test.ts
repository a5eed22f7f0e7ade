import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LLMAuthError,
  LLMFormatError,
  LLMRateLimitError,
  LLMRefusalError,
  LLMTimeoutError,
  LLMUnavailableError,
  LLMUnsupportedError,
} from '../../../src/connectors/llm/index.js';
import { header } from '../../fakes/http.js';
import { FakeOpenAi, OPENAI_USAGE } from '../../fakes/openai.js';
import { clientFor, ITEMS_SCHEMA, type Items, REQUEST, recordedSleeps, VALID_ITEMS } from './fixtures.js';

let fake: FakeOpenAi;

beforeEach(async () => {
  fake = await FakeOpenAi.start();
});

afterEach(async () => {
  await fake.close();
});

type Mode = 'strict' | 'json' | 'auto';

const client = (options: Parameters<typeof clientFor>[1] = {}, config = {}) =>
  clientFor(
    {
      provider: 'openai_compat',
      api_key: fake.apiKey,
      base_url: fake.url,
      model: 'qwen2.5-7b-instruct',
      ...config,
    },
    options,
  );
const withMode = (structured_output: Mode, options: Parameters<typeof clientFor>[1] = {}) =>
  client(options, { structured_output });

const valid = { kind: 'content', content: JSON.stringify(VALID_ITEMS) } as const;
const systemOf = (i: number) =>
  (fake.requests[i]?.body as { messages?: { content: string }[] } | undefined)?.messages?.[0]?.content;

describe('openai_compat client', () => {
  it('asks for a strict json_schema response format and returns the validated answer', async () => {
    fake.reply(valid);
    const result = await client().extractJson<Items>(REQUEST);

    expect(result.value).toEqual(VALID_ITEMS);
    expect(result).toMatchObject({ provider: 'openai_compat', model: 'qwen2.5-7b-instruct', attempts: 1 });
    expect(result.usage).toEqual({
      inputTokens: OPENAI_USAGE.prompt_tokens,
      outputTokens: OPENAI_USAGE.completion_tokens,
    });
    const [request] = fake.requests;
    expect(request?.path).toBe('/v1/chat/completions');
    expect(header(request!, 'authorization')).toBe(`Bearer ${fake.apiKey}`);
    expect(header(request!, 'openai-organization')).toBeNull();
    expect(request?.body).toMatchObject({
      model: 'qwen2.5-7b-instruct',
      max_tokens: REQUEST.maxTokens,
      messages: [
        { role: 'system', content: REQUEST.system },
        { role: 'user', content: REQUEST.prompt },
      ],
      response_format: {
        type: 'json_schema',
        json_schema: { name: REQUEST.schemaName, schema: ITEMS_SCHEMA, strict: true },
      },
    });
  });

  describe('structured output strategies', () => {
    it('auto: a server without json_schema gets json_object, with the schema in the system prompt', async () => {
      fake.rejectFormats.add('json_schema');
      fake.reply(valid);
      const result = await withMode('auto').extractJson<Items>(REQUEST);
      expect(result.value).toEqual(VALID_ITEMS);
      expect(fake.formats).toEqual(['json_schema', 'json_object']);
      expect(systemOf(1)).toContain(REQUEST.system);
      expect(systemOf(1)).toContain(JSON.stringify(ITEMS_SCHEMA));
    });

    it('auto: a server without any response format gets plain text, read leniently', async () => {
      fake.rejectFormats.add('json_schema').add('json_object');
      fake.reply({ kind: 'content', content: `Sure:\n\`\`\`json\n${JSON.stringify(VALID_ITEMS)}\n\`\`\`` });
      const result = await withMode('auto').extractJson<Items>(REQUEST);
      expect(result.value).toEqual(VALID_ITEMS);
      expect(fake.formats).toEqual(['json_schema', 'json_object', 'text']);
      expect(fake.requests[2]?.body).not.toHaveProperty('response_format');
    });

    it('remembers the working strategy, so later calls skip the rejected ones', async () => {
      fake.rejectFormats.add('json_schema').add('json_object');
      fake.reply(valid, valid);
      const auto = withMode('auto');
      await auto.extractJson(REQUEST);
      await auto.extractJson(REQUEST);
      expect(fake.formats).toEqual(['json_schema', 'json_object', 'text', 'text']);
      // Another client starts afresh.
      fake.reply(valid);
      await withMode('auto').extractJson(REQUEST);
      expect(fake.formats.slice(4)).toEqual(['json_schema', 'json_object', 'text']);
    });

    it('a strategy switch does not use up the retries', async () => {
      fake.rejectFormats.add('json_schema');
      fake.reply({ kind: 'error', status: 429, type: 'requests', code: 'rate_limit_exceeded' }, valid);
      const result = await client({}, { structured_output: 'json', max_retries: 1 }).extractJson(REQUEST);
      expect(result.attempts).toBe(2);
      expect(fake.formats).toEqual(['json_schema', 'json_object', 'json_object']);
    });

    it('json: json_schema then json_object, never plain text', async () => {
      fake.rejectFormats.add('json_schema').add('json_object');
      const failure = withMode('json').extractJson(REQUEST);
      await expect(failure).rejects.toBeInstanceOf(LLMUnsupportedError);
      await expect(failure).rejects.toThrow(/json_object/);
      expect(fake.formats).toEqual(['json_schema', 'json_object']);
    });

    it('strict: json_schema only; a server without it is unsupported', async () => {
      fake.rejectFormats.add('json_schema');
      await expect(withMode('strict').extractJson(REQUEST)).rejects.toBeInstanceOf(LLMUnsupportedError);
      expect(fake.formats).toEqual(['json_schema']);
    });

    it('a 400 that does not name response_format is not a reason to switch', async () => {
      fake.reply({ kind: 'error', status: 400, type: 'invalid_request_error', param: 'model' });
      await expect(withMode('auto').extractJson(REQUEST)).rejects.toBeInstanceOf(LLMUnsupportedError);
      expect(fake.formats).toEqual(['json_schema']);
    });
  });

  it('a wrong key is an auth error and is not retried', async () => {
    await expect(client({}, { api_key: 'sk-wrong' }).extractJson(REQUEST)).rejects.toBeInstanceOf(
      LLMAuthError,
    );
    fake.reply({ kind: 'error', status: 403, type: 'invalid_request_error', code: 'unsupported_country' });
    await expect(client().extractJson(REQUEST)).rejects.toThrow(/HTTP 403/);
    expect(fake.requests).toHaveLength(2);
  });

  it('a 429 is retried after retry-after, up to max_retries', async () => {
    const { sleeps, sleep } = recordedSleeps();
    fake.reply({ kind: 'error', status: 429, type: 'requests', retryAfter: '4' }, valid);
    await expect(client({ sleep }).extractJson(REQUEST)).resolves.toMatchObject({ attempts: 2 });
    expect(sleeps).toEqual([4000]);

    for (let i = 0; i < 2; i++) fake.reply({ kind: 'error', status: 429, type: 'requests' });
    await expect(client({ sleep }, { max_retries: 1 }).extractJson(REQUEST)).rejects.toBeInstanceOf(
      LLMRateLimitError,
    );
    expect(fake.requests).toHaveLength(4);
  });

  it('a 5xx is retried, and after the retries is an outage', async () => {
    fake.reply({ kind: 'error', status: 503, type: 'server_error' }, valid);
    await expect(client().extractJson(REQUEST)).resolves.toMatchObject({ attempts: 2 });
    fake.reply({ kind: 'error', status: 502, type: 'server_error' });
    await expect(client({}, { max_retries: 0 }).extractJson(REQUEST)).rejects.toBeInstanceOf(
      LLMUnavailableError,
    );
  });

  it('an answer that is not JSON is a format error, not retried', async () => {
    fake.reply({ kind: 'content', content: '{"items": [ this is not json' });
    await expect(client().extractJson(REQUEST)).rejects.toThrow(/not JSON/);
    expect(fake.requests).toHaveLength(1);
  });

  it('a schema mismatch is a format error', async () => {
    fake.reply({ kind: 'content', content: JSON.stringify({ items: [{ title: 'x', tags: [] }] }) });
    await expect(client().extractJson(REQUEST)).rejects.toThrow(
      /does not match knowledge_items: \/items\/0\/tags must NOT have fewer than 1 items/,
    );
  });

  it('finish_reason length is a format error carrying the billed tokens', async () => {
    fake.reply({ kind: 'truncated' });
    const error = await client()
      .extractJson(REQUEST)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LLMFormatError);
    expect((error as LLMFormatError).message).toMatch(/token limit/);
    expect((error as LLMFormatError).usage).toEqual({
      inputTokens: OPENAI_USAGE.prompt_tokens,
      outputTokens: OPENAI_USAGE.completion_tokens,
    });
  });

  it('a refusal or empty content is a refusal error', async () => {
    fake.reply({ kind: 'refusal' }, { kind: 'empty' });
    await expect(client().extractJson(REQUEST)).rejects.toThrow(/refused/);
    await expect(client().extractJson(REQUEST)).rejects.toBeInstanceOf(LLMRefusalError);
  });

  it('a 2xx body that is not JSON is a format error', async () => {
    fake.reply({ kind: 'malformed' });
    await expect(client().extractJson(REQUEST)).rejects.toBeInstanceOf(LLMFormatError);
  });

  it('a dropped connection is retried, then fails as a timeout', async () => {
    fake.reply({ kind: 'drop' }, valid);
    await expect(client().extractJson(REQUEST)).resolves.toMatchObject({ attempts: 2 });
    fake.reply({ kind: 'drop' });
    await expect(client({}, { max_retries: 0 }).extractJson(REQUEST)).rejects.toBeInstanceOf(LLMTimeoutError);
    expect(fake.requests).toHaveLength(3);
  });

  it('a slow answer times out per request and is retried', async () => {
    fake.reply({ ...valid, delayMs: 2000 }, valid);
    await expect(client({ timeoutMs: 200 }).extractJson(REQUEST)).resolves.toMatchObject({ attempts: 2 });
    fake.reply({ ...valid, delayMs: 2000 });
    await expect(client({ timeoutMs: 200 }, { max_retries: 0 }).extractJson(REQUEST)).rejects.toBeInstanceOf(
      LLMTimeoutError,
    );
  });
});
