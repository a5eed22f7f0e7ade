import type { TypeCategory } from '../../contract/index.js';

const NUMERIC_TYPES = new Set([
  'TINYINT',
  'SMALLINT',
  'INTEGER',
  'BIGINT',
  'HUGEINT',
  'UTINYINT',
  'USMALLINT',
  'UINTEGER',
  'UBIGINT',
  'UHUGEINT',
  'BIGNUM',
  'VARINT',
  'FLOAT',
  'DOUBLE',
  'DECIMAL',
]);

/** FLOAT and DOUBLE are the numeric types that can hold NaN and ±Infinity. */
const FLOATING_TYPES = new Set(['FLOAT', 'DOUBLE']);

/** `DECIMAL(18,3)` → `DECIMAL`; nested types (`INTEGER[]`, `STRUCT(…)`) keep their suffix and stay STRING. */
function baseType(duckType: string): string {
  return duckType
    .trim()
    .toUpperCase()
    .replace(/^([A-Z_ ]+)\(\s*\d+\s*(,\s*\d+\s*)?\)$/, '$1');
}

/** Maps a DuckDB type string (as `DESCRIBE` prints it) to its profile category (02 §7). */
export function typeCategory(duckType: string): TypeCategory {
  const base = baseType(duckType);
  if (base === 'BOOLEAN') return 'BOOLEAN';
  if (base === 'DATE') return 'DATE';
  if (/^TIMESTAMP(_S|_MS|_NS|TZ| WITH TIME ZONE)?$/.test(base)) return 'TIMESTAMP';
  if (NUMERIC_TYPES.has(base)) return 'NUMERIC';
  return 'STRING';
}

export function isFloatingType(duckType: string): boolean {
  return FLOATING_TYPES.has(baseType(duckType));
}

/** Plain VARCHAR needs no cast before string statistics; every other STRING type does. */
export function isVarchar(duckType: string): boolean {
  return baseType(duckType) === 'VARCHAR';
}
