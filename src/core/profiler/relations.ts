import type { MetricUse, RelatedTable } from '../../contract/index.js';

export interface RelatedCandidate {
  tableId: string;
  primaryKey: string[];
  columns: string[];
}

export interface MetricFile {
  name: string;
  file: string;
  tables: string[];
}

const singleKey = (primaryKey: string[]) => (primaryKey.length === 1 ? primaryKey[0] : undefined);

const link = (
  table: string,
  joinColumn: string,
  foreignColumn: string,
  direction: RelatedTable['direction'],
): RelatedTable => ({ table, join_column: joinColumn, foreign_column: foreignColumn, direction });

/** Column names match case-insensitively, as DuckDB identifiers do. */
function findColumn(columns: string[], name: string): string | undefined {
  const wanted = name.toLowerCase();
  return columns.find((column) => column.toLowerCase() === wanted);
}

/**
 * Joins guessed from names (02 §7 profile JSON): `belongs_to` when this table has a column named like another
 * table's single-column key, `has_many` when another table has a column named like ours. Two tables
 * keyed on the same name (both `id`) are not related by it: every such pair would match.
 */
export function relatedTables(
  table: { tableId: string; primaryKey: string[]; columns: string[] },
  candidates: RelatedCandidate[],
): RelatedTable[] {
  const ownKey = singleKey(table.primaryKey);
  const out: RelatedTable[] = [];
  for (const other of candidates) {
    if (other.tableId === table.tableId) continue;
    const otherKey = singleKey(other.primaryKey);
    if (ownKey !== undefined && otherKey?.toLowerCase() === ownKey.toLowerCase()) continue;
    if (otherKey !== undefined) {
      const joinColumn = findColumn(table.columns, otherKey);
      if (joinColumn) out.push(link(other.tableId, joinColumn, otherKey, 'belongs_to'));
    }
    if (ownKey !== undefined) {
      const foreignColumn = findColumn(other.columns, ownKey);
      if (foreignColumn) out.push(link(other.tableId, ownKey, foreignColumn, 'has_many'));
    }
  }
  return out;
}

export function usedByMetrics(tableId: string, metricFiles: MetricFile[]): MetricUse[] {
  return metricFiles
    .filter((metric) => metric.tables.includes(tableId))
    .map((metric) => ({ name: metric.name, file: metric.file }));
}
