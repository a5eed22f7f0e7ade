import { describe, expect, it } from 'vitest';
import { parseJsonLenient } from '../../../src/connectors/llm/json-output.js';

describe('parseJsonLenient', () => {
  it('reads JSON as it is, surrounding whitespace included', () => {
    expect(parseJsonLenient(' {"a": 1}\n')).toEqual({ value: { a: 1 } });
    expect(parseJsonLenient('[1, 2]')).toEqual({ value: [1, 2] });
  });

  it('reads the first fenced block that is JSON, with or without a language tag', () => {
    expect(parseJsonLenient('Here you go:\n```json\n{"a": 1}\n```\nDone.')).toEqual({ value: { a: 1 } });
    expect(parseJsonLenient('```\n{"b": 2}\n```')).toEqual({ value: { b: 2 } });
    expect(parseJsonLenient('```text\nnot json\n```\n```json\n{"c": 3}\n```')).toEqual({ value: { c: 3 } });
  });

  it('falls back to the span from the first { to the last }', () => {
    expect(parseJsonLenient('Sure! {"a": {"b": [1]}} Hope this helps.')).toEqual({
      value: { a: { b: [1] } },
    });
    expect(parseJsonLenient('<think>plan</think>\n{"ok": true}')).toEqual({ value: { ok: true } });
  });

  it('gives null when nothing in the text is JSON', () => {
    expect(parseJsonLenient('')).toBeNull();
    expect(parseJsonLenient('I cannot help with that.')).toBeNull();
    expect(parseJsonLenient('{"items": [{"title": "cut')).toBeNull();
    expect(parseJsonLenient('} backwards {')).toBeNull();
    expect(parseJsonLenient('```json\n{broken\n```')).toBeNull();
  });
});
