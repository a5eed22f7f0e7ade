import { type Static, Type } from '@sinclair/typebox';
import { NullableString, NullableTimestamp } from './common.js';
import { QueryResultSchema } from './query.js';

/**
 * The MCP tools' arguments and structured results (14 §1), shared by `/mcp` on the server and
 * `da mcp` on a laptop. The argument schemas are JSON Schema as the protocol lists them; limits
 * come from the configuration, so they are built per server.
 */

export interface ToolArgumentLimits {
  /** `query.max_limit`. */
  maxLimit: number;
  /** `mcp.default_limit`. */
  defaultLimit: number;
}

const strict = { additionalProperties: false } as const;
/** Any text: an id that names no visible table is refused like a typo, never by its shape. */
const TableArgument = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'Table id, as list_tables shows it',
});

export const TOOL_QUERY_FORMATS = ['markdown', 'csv', 'json'] as const;
export type ToolQueryFormat = (typeof TOOL_QUERY_FORMATS)[number];

export function toolArgumentSchemas(limits: ToolArgumentLimits) {
  return {
    list_tables: Type.Object(
      {
        include_locked: Type.Optional(
          Type.Boolean({ description: 'Also list tables you may discover but not read (locked: true)' }),
        ),
      },
      strict,
    ),
    describe_table: Type.Object({ table: TableArgument }, strict),
    query: Type.Object(
      {
        sql: Type.String({
          description: 'One SELECT over the tables you may read (DuckDB SQL)',
        }),
        limit: Type.Optional(
          Type.Integer({
            minimum: 1,
            maximum: limits.maxLimit,
            default: limits.defaultLimit,
            description: 'Rows to return at most',
          }),
        ),
        format: Type.Optional(
          Type.Union(
            TOOL_QUERY_FORMATS.map((f) => Type.Literal(f)),
            { default: 'markdown', description: 'How the rows are rendered as text' },
          ),
        ),
        remote: Type.Optional(
          Type.Boolean({ description: 'Run on the server even when every table is synced locally' }),
        ),
      },
      strict,
    ),
    sample_rows: Type.Object(
      {
        table: TableArgument,
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
      },
      strict,
    ),
    request_access: Type.Object(
      {
        table: TableArgument,
        reason: Type.Optional(Type.String({ maxLength: 500, description: 'Why you need the table' })),
      },
      strict,
    ),
    search_memory: Type.Object(
      {
        query: Type.String({
          minLength: 1,
          maxLength: 500,
          description: 'Words to look for in titles and content',
        }),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 10 })),
      },
      strict,
    ),
  };
}

export type ToolArgumentSchemas = ReturnType<typeof toolArgumentSchemas>;
export type ToolName = keyof ToolArgumentSchemas;
export type ToolArguments<T extends ToolName> = Static<ToolArgumentSchemas[T]>;

const NullableInt = Type.Union([Type.Integer(), Type.Null()]);

export const ListedTableSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  dataset: Type.String(),
  rows: NullableInt,
  query_mode: Type.String(),
  locked: Type.Boolean(),
  /** Only from `da mcp`: the table's Parquet files are on this laptop. */
  synced_locally: Type.Optional(Type.Boolean()),
});
export type ListedTable = Static<typeof ListedTableSchema>;

export const ListTablesResultSchema = Type.Object({ tables: Type.Array(ListedTableSchema) });
export type ListTablesResult = Static<typeof ListTablesResultSchema>;

const Bound = Type.Union([Type.Number(), Type.String()]);

export const DescribedColumnSchema = Type.Object({
  name: Type.String(),
  type: Type.String(),
  description: NullableString,
  null_pct: Type.Optional(Type.Number()),
  distinct: Type.Optional(Type.Integer()),
  min: Type.Optional(Bound),
  max: Type.Optional(Bound),
});
export type DescribedColumn = Static<typeof DescribedColumnSchema>;

export const DescribeTableResultSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  dataset: Type.String(),
  rows: NullableInt,
  columns: Type.Array(DescribedColumnSchema),
  profiled_at: NullableTimestamp,
});
export type DescribeTableResult = Static<typeof DescribeTableResultSchema>;

/** `QueryResult`, which the MCP rendering may also cut at `mcp.max_result_chars` (`"chars"`). */
export const ToolQueryResultSchema = Type.Object({
  ...QueryResultSchema.properties,
  truncated_reason: Type.Union([
    Type.Literal('rows'),
    Type.Literal('bytes'),
    Type.Literal('chars'),
    Type.Null(),
  ]),
});
export type ToolQueryResult = Static<typeof ToolQueryResultSchema>;

export const RequestAccessResultSchema = Type.Object({
  id: Type.String(),
  status: Type.String(),
  table_id: Type.String(),
});
export type RequestAccessResult = Static<typeof RequestAccessResultSchema>;

export const MemoryHitSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  content: Type.String(),
  category: NullableString,
  votes: Type.Integer(),
});
export type MemoryHit = Static<typeof MemoryHitSchema>;

export const SearchMemoryResultSchema = Type.Object({ items: Type.Array(MemoryHitSchema) });
export type SearchMemoryResult = Static<typeof SearchMemoryResultSchema>;

/** The `agnes://tables/{id}/schema` resource (14 §2). */
export const TableSchemaResourceSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  columns: Type.Array(Type.Object({ name: Type.String(), type: Type.String(), description: NullableString })),
});
export type TableSchemaResource = Static<typeof TableSchemaResourceSchema>;

/** A refused tool call: `structuredContent` of a result with `isError: true`. */
export const ToolRefusalSchema = Type.Object({ code: Type.String(), detail: Type.String() });
export type ToolRefusal = Static<typeof ToolRefusalSchema>;
