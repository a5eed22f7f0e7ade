/** Table names and column types, declared once for the CSV header, the CSV reader and Parquet. */

/** In manifest order. */
export const SAMPLE_TABLES = [
  'customers',
  'products',
  'campaigns',
  'web_sessions',
  'web_leads',
  'orders',
  'order_items',
  'payments',
  'support_tickets',
] as const;
export type SampleTable = (typeof SAMPLE_TABLES)[number];

export type ColumnType =
  | 'VARCHAR'
  | 'DATE'
  | 'TIMESTAMP'
  | 'DECIMAL(12,2)'
  | 'INTEGER'
  | 'BIGINT'
  | 'DOUBLE'
  | 'BOOLEAN';

export interface TableSpec {
  name: SampleTable;
  /** Column name → type, in file order. */
  columns: Readonly<Record<string, ColumnType>>;
}
