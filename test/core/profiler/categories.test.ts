import { describe, expect, it } from 'vitest';
import { typeCategory } from '../../../src/core/profiler/categories.js';

describe('type categories', () => {
  it('maps DuckDB types, ignoring parameters', () => {
    const cases: Record<string, string> = {
      TINYINT: 'NUMERIC',
      INTEGER: 'NUMERIC',
      BIGINT: 'NUMERIC',
      HUGEINT: 'NUMERIC',
      UHUGEINT: 'NUMERIC',
      UBIGINT: 'NUMERIC',
      FLOAT: 'NUMERIC',
      DOUBLE: 'NUMERIC',
      'DECIMAL(18,3)': 'NUMERIC',
      'DECIMAL(38, 0)': 'NUMERIC',
      VARCHAR: 'STRING',
      UUID: 'STRING',
      BLOB: 'STRING',
      TIME: 'STRING',
      INTERVAL: 'STRING',
      'INTEGER[]': 'STRING',
      'DECIMAL(10,2)[]': 'STRING',
      'STRUCT(a INTEGER, b VARCHAR)': 'STRING',
      'MAP(VARCHAR, INTEGER)': 'STRING',
      DATE: 'DATE',
      TIMESTAMP: 'TIMESTAMP',
      TIMESTAMP_MS: 'TIMESTAMP',
      TIMESTAMP_NS: 'TIMESTAMP',
      TIMESTAMP_S: 'TIMESTAMP',
      'TIMESTAMP WITH TIME ZONE': 'TIMESTAMP',
      BOOLEAN: 'BOOLEAN',
    };
    expect(Object.fromEntries(Object.keys(cases).map((type) => [type, typeCategory(type)]))).toEqual(cases);
  });
});
