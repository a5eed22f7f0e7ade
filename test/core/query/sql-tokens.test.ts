import { describe, expect, it } from 'vitest';
import {
  countKeyword,
  namedWindowSpecs,
  type SkippedSpan,
  tokenize,
} from '../../../src/core/query/sql-tokens.js';

const words = (sql: string) => tokenize(sql).map((t) => t.text);

describe('SQL lexer of the guard', () => {
  it('never reads keywords inside strings, identifiers or comments', () => {
    const sql = `SELECT 'select '' window', E'it\\'s select', $$select$$, $t$ window $t$, "select" -- select
      /* outer /* nested select */ window */ FROM t`;
    expect(countKeyword(tokenize(sql), 'select')).toBe(1);
    expect(countKeyword(tokenize(sql), 'window')).toBe(0);
    expect(words(sql)).toEqual(['SELECT', ',', ',', ',', ',', 'select', 'FROM', 't']);
  });

  it('keeps a standard string backslash literal, as DuckDB does', () => {
    expect(words("SELECT 'a\\' , 1")).toEqual(['SELECT', ',', '1']);
  });

  it('finds every named window, used or not, with parentheses and commas inside', () => {
    const sql =
      'SELECT 1 AS window FROM t WINDOW w AS (PARTITION BY f(a, \')\') ORDER BY b), "v" AS (ORDER BY (c))';
    expect(namedWindowSpecs(sql, tokenize(sql))).toEqual([
      "PARTITION BY f(a, ')') ORDER BY b",
      'ORDER BY (c)',
    ]);
    expect(namedWindowSpecs('SELECT 1', tokenize('SELECT 1'))).toEqual([]);
  });

  it('gives up on a WINDOW clause of another shape', () => {
    const sql = 'SELECT 1 FROM t WINDOW w (ORDER BY a)';
    expect(namedWindowSpecs(sql, tokenize(sql))).toBeNull();
  });

  it('reports the strings and comments it skips, with their spans', () => {
    const sql = "a = 'x -- y' /* c */ AND b = $$z$$ -- end";
    const skipped: SkippedSpan[] = [];
    expect(words(sql)).toEqual(tokenize(sql, skipped).map((t) => t.text));
    expect(skipped.map((s) => [s.kind, sql.slice(s.start, s.end)])).toEqual([
      ['string', "'x -- y'"],
      ['comment', '/* c */'],
      ['string', '$$z$$'],
      ['comment', '-- end'],
    ]);
  });
});
