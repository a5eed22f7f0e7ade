import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgnesError } from '../../../src/core/errors.js';
import { QueryGuard } from '../../../src/core/query/guard.js';
import { SqlParser } from '../../../src/core/query/sql-parser.js';
import type { TableAccess } from '../../../src/core/query/types.js';
import { HOSTILE, LEGITIMATE } from './corpus.js';

/** The fixture's analyst (see corpus.ts): reads orders and holidays; sees salaries and refunds. */
const ACCESS: TableAccess = {
  readable: new Set(['orders', 'holidays']),
  isVisible: (id) => ['orders', 'holidays', 'salaries', 'refunds', 'events'].includes(id),
};

async function outcome(guard: QueryGuard, sql: string): Promise<string> {
  try {
    await guard.check(sql, ACCESS);
    return 'ok';
  } catch (error) {
    if (error instanceof AgnesError) return error.code;
    throw error;
  }
}

describe('query guard (05 §2–3) on the corpus', () => {
  let parser: SqlParser;
  let guard: QueryGuard;

  beforeAll(async () => {
    parser = await SqlParser.open();
    guard = new QueryGuard(parser, { maxSqlBytes: 100 * 1024 });
  });
  afterAll(() => parser.close());

  it('holds at least 150 hostile and 30 legitimate cases', () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(150);
    expect(LEGITIMATE.length).toBeGreaterThanOrEqual(30);
  });

  it.each(HOSTILE.map((c) => [c.category, c.sql, c.code] as const))('%s: %s → %s', async (_, sql, code) => {
    expect(await outcome(guard, sql)).toBe(code);
  });

  it.each(LEGITIMATE)('passes: %s', async (sql) => {
    expect(await outcome(guard, sql)).toBe('ok');
  });

  it('reports the tables a statement reads', async () => {
    const checked = await guard.check(
      'WITH x AS (SELECT * FROM orders) SELECT * FROM x JOIN HOLIDAYS USING (id)',
      ACCESS,
    );
    expect(checked.tables).toEqual(['holidays', 'orders']);
  });

  it('refuses oversized text with 413, NUL bytes and absurd nesting with 400', async () => {
    expect(await outcome(guard, `SELECT '${'x'.repeat(2 * 1024 * 1024)}'`)).toBe('sql_too_large');
    expect(await outcome(guard, 'SELECT 1\u0000')).toBe('invalid_sql');
    expect(await outcome(guard, `SELECT ${'('.repeat(10_000)}1${')'.repeat(10_000)}`)).toMatch(
      /^(invalid_sql|unsupported_construct)$/,
    );
  });

  it('keeps the parser message to its first line and never names a server path', async () => {
    const error = await guard.check('SELECT * FROM orders WHERE', ACCESS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgnesError);
    expect((error as AgnesError).message).not.toContain('\n');
    expect((error as AgnesError).message).not.toMatch(/\/(tmp|work|home)\//);
  });
});
