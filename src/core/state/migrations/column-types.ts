import { type ColumnDataType, type Expression, type Kysely, sql } from 'kysely';
import { stateDialect } from '../db.js';

/** The portable column types of 02-data-contracts.md §5, per dialect. */
export interface PortableTypes {
  id: ColumnDataType | Expression<unknown>;
  text: ColumnDataType | Expression<unknown>;
  int: ColumnDataType;
  bool: ColumnDataType;
  ts: ColumnDataType;
  json: ColumnDataType | Expression<unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at their time
export function portableTypes(db: Kysely<any>): PortableTypes {
  if (stateDialect(db) === 'postgres') {
    // Text compares and sorts bytewise, as SQLite's BINARY collation does, whatever the database's
    // default collation: pages, sorted lists and equality are then the same on both dialects.
    const text = sql`text collate "C"`;
    return { id: text, text, int: 'bigint', bool: 'boolean', ts: 'timestamptz', json: sql`jsonb` };
  }
  return { id: 'text', text: 'text', int: 'integer', bool: 'boolean', ts: 'text', json: 'text' };
}
