import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows } from './engine.js';
import { quoteText } from './sql.js';

/**
 * DuckDB's own parser, exposed through `json_serialize_sql`. Walking its tree is how we learn what
 * a statement reads — never by matching text.
 */

export type ParseNode = Record<string, unknown>;

export type ParseResult = { ok: true; statements: ParseNode[] } | { ok: false; error: string };

export async function parseSelect(conn: DuckDBConnection, sqlText: string): Promise<ParseResult> {
  const rows = await queryRows<{ tree: string }>(
    conn,
    `SELECT json_serialize_sql(${quoteText(sqlText)}) AS tree`,
  );
  const tree = JSON.parse(rows[0]?.tree ?? '{}') as {
    error?: boolean;
    error_message?: string;
    statements?: unknown[];
  };
  if (tree.error) return { ok: false, error: tree.error_message ?? 'could not parse statement' };
  return { ok: true, statements: (tree.statements ?? []) as ParseNode[] };
}

/** Depth-first visit of every object in the tree. */
export function walk(node: unknown, visit: (node: ParseNode) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  visit(node as ParseNode);
  for (const child of Object.values(node)) walk(child, visit);
}

export interface TableFunctionRef {
  name: string;
  /** String constants anywhere in the call's arguments (paths, globs, option values). */
  strings: string[];
}

export interface BaseTableRef {
  catalog: string;
  schema: string;
  table: string;
}

export interface TableReferences {
  tableFunctions: TableFunctionRef[];
  baseTables: BaseTableRef[];
}

function stringConstants(node: unknown): string[] {
  const out: string[] = [];
  walk(node, (n) => {
    if (n.type === 'VALUE_CONSTANT') {
      const value = n.value as { is_null?: boolean; value?: unknown } | undefined;
      if (value && !value.is_null && typeof value.value === 'string') out.push(value.value);
    }
  });
  return out;
}

/** Every table function call and every named table a parsed statement refers to. */
export function collectTableReferences(statements: ParseNode[]): TableReferences {
  const refs: TableReferences = { tableFunctions: [], baseTables: [] };
  walk(statements, (n) => {
    if (n.type === 'TABLE_FUNCTION') {
      const fn = n.function as { function_name?: string; children?: unknown[] } | undefined;
      refs.tableFunctions.push({
        name: String(fn?.function_name ?? ''),
        strings: stringConstants(fn?.children ?? []),
      });
    } else if (n.type === 'BASE_TABLE') {
      refs.baseTables.push({
        catalog: String(n.catalog_name ?? ''),
        schema: String(n.schema_name ?? ''),
        table: String(n.table_name ?? ''),
      });
    }
  });
  return refs;
}

/** The query part of a `CREATE VIEW … AS <query>;` text as stored in `duckdb_views().sql`. */
export function viewQuery(createViewSql: string): string | null {
  const match =
    /^\s*CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(?:"(?:[^"]|"")*"|[^\s(]+)(?:\s*\([^)]*\))?\s+AS\s+([\s\S]*?);?\s*$/i.exec(
      createViewSql,
    );
  return match ? (match[1] ?? null) : null;
}
