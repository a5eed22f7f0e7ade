import type { DuckDBResult } from '@duckdb/node-api';
import type { QueryResult } from '../../contract/index.js';
import { encodeValue, type JsonValue } from './value-encoding.js';

/** The rows of a streamed result as far as the limits allow (05 §2 pipeline step 8). */
export type CollectedRows = Omit<QueryResult, 'elapsed_ms'> & { rows: JsonValue[][] };

/**
 * Reads chunks until `limit` rows or `maxBytes` of serialised rows, then stops; the caller
 * interrupts the engine when something was cut, so the rest is never computed.
 */
export async function collectRows(
  result: DuckDBResult,
  limit: number,
  maxBytes: number,
): Promise<CollectedRows> {
  const columns = result.columnNames();
  const columnTypes = result.columnTypes().map((t) => t.toString());
  const rows: JsonValue[][] = [];
  let bytes = 0;
  let truncated: QueryResult['truncated_reason'] = null;
  read: for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const row of chunk.convertRows(encodeValue)) {
      if (rows.length === limit) {
        truncated = 'rows';
        break read;
      }
      bytes += JSON.stringify(row).length + 1;
      if (bytes > maxBytes) {
        truncated = 'bytes';
        break read;
      }
      rows.push(row);
    }
  }
  return {
    columns,
    column_types: columnTypes,
    rows,
    row_count: rows.length,
    truncated: truncated !== null,
    truncated_reason: truncated,
  };
}
