import { describe, expect, it } from 'vitest';
import type { QueryResult } from '../../../src/contract/index.js';
import { markdownCell, renderLines, renderQueryResult } from '../../../src/core/mcp/render.js';

/** 14 §1 sizes for a model: text cut at max_result_chars, with the truncation line, in each format. */

const result = (rows: unknown[][], extra: Partial<QueryResult> = {}): QueryResult => ({
  columns: ['n', 's'],
  column_types: ['BIGINT', 'VARCHAR'],
  rows,
  row_count: rows.length,
  truncated: false,
  truncated_reason: null,
  elapsed_ms: 3,
  ...extra,
});
const many = result(Array.from({ length: 100 }, (_, i) => [i, 'x'.repeat(30)]));
const LINE = /^\(truncated: (\d+) of (\d+|more) rows; use limit, a narrower query, or da sync\)$/;

describe('MCP rendering', () => {
  it('escapes pipes and line breaks inside markdown cells', () => {
    expect(markdownCell('a|b\r\nc\nd\re')).toBe('a\\|b c d e');
    expect(markdownCell(null)).toBe('');
    expect(markdownCell({ k: 'v|w' })).toBe('{"k":"v\\|w"}');
  });

  it('leaves a result that fits alone, and notes a cut made by the engine', () => {
    const small = renderQueryResult(result([[1, 'a']]), 'markdown', 1_000);
    expect(small.text).toBe('| n | s |\n| --- | --- |\n| 1 | a |\n');
    expect(small.structured.truncated).toBe(false);
    const cut = renderQueryResult(
      result([[1, 'a']], { truncated: true, truncated_reason: 'rows' }),
      'csv',
      1_000,
    );
    expect(cut.text).toBe(
      'n,s\r\n1,a\r\n(truncated: 1 of more rows; use limit, a narrower query, or da sync)',
    );
    expect(cut.structured.truncated_reason).toBe('rows');
  });

  it('cuts every format at the character budget and keeps structuredContent to the rows shown', () => {
    for (const format of ['markdown', 'csv', 'json'] as const) {
      const { text, structured } = renderQueryResult(many, format, 1_000);
      expect(text.length, format).toBeLessThanOrEqual(1_000);
      const match = LINE.exec(text.split('\n').at(-1) ?? '');
      expect(match?.[2], format).toBe('100');
      expect(Number(match?.[1])).toBe(structured.row_count);
      expect(structured).toMatchObject({ truncated: true, truncated_reason: 'chars' });
      expect(structured.rows).toEqual(many.rows.slice(0, structured.row_count));
      if (format === 'json') expect(JSON.parse(text.slice(0, text.lastIndexOf('\n')))).toEqual(structured);
    }
  });

  it('cuts a header wider than the budget and still ends with the notice', () => {
    const wide = result([[1]], { columns: ['c'.repeat(5_000)], column_types: ['INTEGER'] });
    const { text, structured } = renderQueryResult(wide, 'markdown', 1_000);
    expect(text.length).toBeLessThanOrEqual(1_000);
    expect(text.split('\n').at(-1)).toMatch(LINE);
    expect(structured.row_count).toBe(0);
  });

  it('cuts a listing at the budget and names how many items it shows', () => {
    const lines = Array.from({ length: 50 }, (_, i) => `- table_${i}: ${'d'.repeat(40)}`);
    const text = renderLines(lines, 'tables', 600);
    expect(text.length).toBeLessThanOrEqual(600);
    expect(text.split('\n').at(-1)).toMatch(/^\(truncated: \d+ of 50 tables; /);
    expect(renderLines(lines.slice(0, 2), 'tables', 600)).toBe(lines.slice(0, 2).join('\n'));
  });
});
