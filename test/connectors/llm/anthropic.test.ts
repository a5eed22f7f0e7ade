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
import { ANTHROPIC_USAGE, FakeAnthropic } from '../../fakes/anthropic.js';
import { header } from '../../fakes/http.js';
import { clientFor, type Items, REQUEST, recordedSleeps, VALID_ITEMS } from './fixtures.js';

let fake: FakeAnthropic;

beforeEach(async () => {
  fake = await FakeAnthropic.start();
});

afterEach(async () => {
  await fake.close();
});

const client = (options: Parameters<typeof clientFor>[1] = {}, config = {}) =>
  clientFor(
    { provider: 'anthropic', api_key: fake.apiKey, base_url: fake.url, model: 'claude-haiku-4-5', ...config },
    options,
  );

describe('anthropic client', () => {
  it('forces one tool whose input schema is the target schema and returns its validated input', async () => {
    fake.reply({ kind: 'tool', input: VALID_ITEMS });
    const result = await client().extractJson<Items>(REQUEST);

    expect(result.value).toEqual(VALID_ITEMS);
    expect(result).toMatchObject({ provider: 'anthropic', model: 'claude-haiku-4-5', attempts: 1 });
    const { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens } =
      ANTHROPIC_USAGE;
    expect(result.usage).toEqual({
      inputTokens: input_tokens + cache_creation_input_tokens + cache_read_input_tokens,
      outputTokens: output_tokens,
    });

    const [request] = fake.requests;
    expect(request?.body).toMatchObject({
      model: 'claude-haiku-4-5',
      max_tokens: REQUEST.maxTokens,
      system: REQUEST.system,
      messages: [{ role: 'user', content: REQUEST.prompt }],
      tools: [{ name: REQUEST.schemaName, input_schema: REQUEST.schema }],
      tool_choice: { type: 'tool', name: REQUEST.schemaName },
    });
    expect(request?.body).not.toHaveProperty('stream', true);
  });

  it('sends the key and the API version', async () => {
    fake.reply({ kind: 'tool', input: VALID_ITEMS });
    await client().extractJson(REQUEST);
    const [request] = fake.requests;
    if (!request) throw new Error('no request');
    const key = header(request, 'x-api-key') ?? header(request, 'authorization')?.replace(/^Bearer /, '');
    expect(key).toBe(fake.apiKey);
    expect(header(request, 'anthropic-version')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('a wrong key is an auth error and is not retried', async () => {
    const wrong = client({}, { api_key: 'sk-ant-wrong' });
    await expect(wrong.extractJson(REQUEST)).rejects.toBeInstanceOf(LLMAuthError);
    expect(fake.requests).toHaveLength(1);
  });

  it('a scripted 401 or 403 is an auth error, not retried', async () => {
    fake.reply({ kind: 'error', status: 403, type: 'permission_error' });
    await expect(client().extractJson(REQUEST)).rejects.toThrow(LLMAuthError);
    fake.reply({ kind: 'error', status: 401, type: 'authentication_error' });
    await expect(client().extractJson(REQUEST)).rejects.toThrow(/HTTP 401 authentication_error/);
    expect(fake.requests).toHaveLength(2);
  });

  it('a 429 is retried after the retry-after seconds, then succeeds', async () => {
    const { sleeps, sleep } = recordedSleeps();
    fake.reply({ kind: 'error', status: 429, type: 'rate_limit_error', retryAfter: '7' });
    fake.reply({ kind: 'tool', input: VALID_ITEMS });
    const result = await client({ sleep }).extractJson<Items>(REQUEST);
    expect(result.value).toEqual(VALID_ITEMS);
    expect(result.attempts).toBe(2);
    expect(fake.requests).toHaveLength(2);
    expect(sleeps).toEqual([7000]);
  });

  it('a retry-after given as an HTTP date is honoured', async () => {
    const { sleeps, sleep } = recordedSleeps();
    const now = Date.parse('2030-06-01T12:00:00Z');
    fake.reply({
      kind: 'error',
      status: 429,
      type: 'rate_limit_error',
      retryAfter: new Date(now + 3000).toUTCString(),
    });
    fake.reply({ kind: 'tool', input: VALID_ITEMS });
    await client({ sleep, now: () => now }).extractJson(REQUEST);
    expect(sleeps).toEqual([3000]);
  });

  it('rate limits beyond max_retries fail with a rate-limit error after 1 + max_retries requests', async () => {
    const { sleeps, sleep } = recordedSleeps();
    for (let i = 0; i < 3; i++) fake.reply({ kind: 'error', status: 429, type: 'rate_limit_error' });
    await expect(client({ sleep }, { max_retries: 2 }).extractJson(REQUEST)).rejects.toBeInstanceOf(
      LLMRateLimitError,
    );
    expect(fake.requests).toHaveLength(3);
    expect(sleeps).toEqual([100, 200]);
  });

  it('an overload (529) or a 5xx is retried as an outage', async () => {
    fake.reply({ kind: 'error', status: 529, type: 'overloaded_error' });
    fake.reply({ kind: 'error', status: 500, type: 'api_error' });
    fake.reply({ kind: 'tool', input: VALID_ITEMS });
    await expect(client().extractJson(REQUEST)).resolves.toMatchObject({ attempts: 3 });

    fake.reply({ kind: 'error', status: 529, type: 'overloaded_error' });
    await expect(client({}, { max_retries: 0 }).extractJson(REQUEST)).rejects.toBeInstanceOf(
      LLMUnavailableError,
    );
  });

  it('a schema mismatch is a format error naming where, not retried', async () => {
    fake.reply({ kind: 'tool', input: { items: [{ title: 'x'.repeat(121), tags: ['a'] }] } });
    const failure = client().extractJson(REQUEST);
    await expect(failure).rejects.toBeInstanceOf(LLMFormatError);
    await expect(failure).rejects.toThrow('/items/0/title must NOT have more than 120 characters');
    expect(fake.requests).toHaveLength(1);
  });

  it('prose instead of the tool call is a format error', async () => {
    fake.reply({ kind: 'text', text: 'Here are the items: {"items": []}' });
    await expect(client().extractJson(REQUEST)).rejects.toThrow(/prose instead of the tool call/);
  });

  it('an answer cut at max_tokens is a format error carrying the billed tokens', async () => {
    fake.reply({ kind: 'truncated' });
    const error = await client()
      .extractJson(REQUEST)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LLMFormatError);
    expect((error as LLMFormatError).message).toMatch(/token limit/);
    expect((error as LLMFormatError).usage?.outputTokens).toBe(ANTHROPIC_USAGE.output_tokens);
  });

  it('a refusal or an empty answer is a refusal error', async () => {
    fake.reply({ kind: 'refusal' }, { kind: 'empty' });
    await expect(client().extractJson(REQUEST)).rejects.toThrow(/refused/);
    await expect(client().extractJson(REQUEST)).rejects.toBeInstanceOf(LLMRefusalError);
    expect(fake.requests).toHaveLength(2);
  });

  it('a 2xx body that is not JSON is a format error', async () => {
    fake.reply({ kind: 'malformed' });
    await expect(client().extractJson(REQUEST)).rejects.toThrow(/not JSON/);
    expect(fake.requests).toHaveLength(1);
  });

  it('a rejected request (400, unknown model 404) is unsupported, not retried', async () => {
    fake.reply({ kind: 'error', status: 400, type: 'invalid_request_error' });
    fake.reply({ kind: 'error', status: 404, type: 'not_found_error' });
    await expect(client().extractJson(REQUEST)).rejects.toBeInstanceOf(LLMUnsupportedError);
    await expect(client().extractJson(REQUEST)).rejects.toThrow(/HTTP 404 not_found_error/);
    expect(fake.requests).toHaveLength(2);
  });

  it('a dropped connection is retried, then fails as a timeout', async () => {
    fake.reply({ kind: 'drop' }, { kind: 'tool', input: VALID_ITEMS });
    await expect(client().extractJson(REQUEST)).resolves.toMatchObject({ attempts: 2 });

    fake.reply({ kind: 'drop' }, { kind: 'drop' });
    await expect(client({}, { max_retries: 1 }).extractJson(REQUEST)).rejects.toBeInstanceOf(LLMTimeoutError);
    expect(fake.requests).toHaveLength(4);
  });

  it('a slow answer times out per request and is retried', async () => {
    fake.reply({ kind: 'tool', input: VALID_ITEMS, delayMs: 2000 }, { kind: 'tool', input: VALID_ITEMS });
    const result = await client({ timeoutMs: 200 }).extractJson<Items>(REQUEST);
    expect(result.value).toEqual(VALID_ITEMS);
    expect(result.attempts).toBe(2);

    fake.reply({ kind: 'tool', input: VALID_ITEMS, delayMs: 2000 });
    await expect(client({ timeoutMs: 200 }, { max_retries: 0 }).extractJson(REQUEST)).rejects.toBeInstanceOf(
      LLMTimeoutError,
    );
  });

  it('a request the caller got wrong is refused before anything is sent', async () => {
    await expect(client().extractJson({ ...REQUEST, schemaName: 'has space' })).rejects.toThrow(TypeError);
    await expect(client().extractJson({ ...REQUEST, schema: { type: 'array' } })).rejects.toThrow(TypeError);
    await expect(client().extractJson({ ...REQUEST, maxTokens: 0 })).rejects.toThrow(TypeError);
    expect(fake.requests).toHaveLength(0);
  });
});
