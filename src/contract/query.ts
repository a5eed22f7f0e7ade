import { type Static, Type } from '@sinclair/typebox';

/**
 * `QueryResult` (03 §0.6 common shapes) of `POST /api/query` and the catalog preview. Values are encoded as in
 * 05 §6 result encoding, so a cell is any JSON value.
 */
export const QueryResultSchema = Type.Object({
  columns: Type.Array(Type.String()),
  column_types: Type.Array(Type.String()),
  rows: Type.Array(Type.Array(Type.Unknown())),
  row_count: Type.Integer(),
  truncated: Type.Boolean(),
  truncated_reason: Type.Union([Type.Literal('rows'), Type.Literal('bytes'), Type.Null()]),
  elapsed_ms: Type.Integer(),
});
export type QueryResult = Static<typeof QueryResultSchema>;
