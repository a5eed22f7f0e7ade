import { join } from 'node:path';
import { openDuck, queryRows } from '../duckdb/engine.js';
import { quoteLiteral } from '../duckdb/sql.js';
import type { FileRecord, Layout } from '../state/schema.js';
import { isPublishedPath } from '../sync/published-file.js';
import type { DiscoveredTable } from './connector.js';

/** The `sync_state` fields discovery of a published source reads. */
export interface PublishedTableState {
  table_id: string;
  layout: Layout;
  rows: number | null;
  file_size_bytes: number | null;
  extracted_at: string | null;
  files: readonly FileRecord[];
}

/**
 * Discovery for sources whose connector has no `discover` (push sources, third-party extracts):
 * the tables they have published, from `sync_state`, with the columns of local tables read from
 * their Parquet files' metadata. Remote tables list no columns (their catalog is not attached here).
 */
export async function discoverPublished(
  dataDir: string,
  states: readonly PublishedTableState[],
): Promise<DiscoveredTable[]> {
  const duck = await openDuck(':memory:', { memoryLimit: '128MB', threads: 1 });
  try {
    const tables: DiscoveredTable[] = [];
    for (const state of states) {
      let columns: { name: string; type: string }[] = [];
      const files = state.files.filter((f) => isPublishedPath(f.path)).map((f) => join(dataDir, f.path));
      if (state.layout !== 'remote' && files.length > 0) {
        const list = `[${files.map(quoteLiteral).join(', ')}]`;
        try {
          const described = await queryRows<{ column_name: string; column_type: string }>(
            duck.conn,
            `DESCRIBE SELECT * FROM read_parquet(${list}, union_by_name = true)`,
          );
          columns = described.map((c) => ({ name: String(c.column_name), type: String(c.column_type) }));
        } catch {
          // A file replaced since publication: listed without columns until the next rebuild.
        }
      }
      tables.push({
        name: state.table_id,
        source_table: state.table_id,
        bucket: '',
        columns,
        rows: state.rows,
        size_bytes: state.file_size_bytes,
        primary_key: [],
        last_change: state.extracted_at,
      });
    }
    return tables;
  } finally {
    duck.close();
  }
}
