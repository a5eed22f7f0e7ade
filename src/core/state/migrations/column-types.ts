import { type ColumnDataType, type Expression, type Kysely, PostgresAdapter, sql } from 'kysely';

/** The portable column types of 02-data-contracts.md §5, per dialect. */
export interface PortableTypes {
  id: ColumnDataType;
  text: ColumnDataType;
  int: ColumnDataType;
  bool: ColumnDataType;
  ts: ColumnDataType;
  json: ColumnDataType | Expression<unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at their time
export function portableTypes(db: Kysely<any>): PortableTypes {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    return { id: 'text', text: 'text', int: 'bigint', bool: 'boolean', ts: 'timestamptz', json: sql`jsonb` };
  }
  return { id: 'text', text: 'text', int: 'integer', bool: 'boolean', ts: 'text', json: 'text' };
}
