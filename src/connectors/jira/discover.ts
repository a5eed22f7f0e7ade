import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openDuck, queryRows, toNumber } from '../../core/duckdb/engine.js';
import { quoteLiteral } from '../../core/duckdb/sql.js';
import type { DiscoveredTable, DiscoverSource } from '../../core/extract/connector.js';
import type { TransformSettings } from './config.js';
import { ENTITIES, PRIMARY_KEYS, tableColumns } from './tables.js';

/**
 * The six fixed tables (07 §0 common model, §5.7: listed by discovery, registered by an admin),
 * with their columns, and rows and sizes from the shards written so far (Parquet footers only).
 */
export async function discoverJira(source: DiscoverSource): Promise<DiscoveredTable[]> {
  const settings = source.config as TransformSettings;
  const columns = tableColumns(settings.customFields);
  const duck = await openDuck(':memory:', { memoryLimit: '128MB', threads: 1 });
  try {
    const tables: DiscoveredTable[] = [];
    for (const entity of ENTITIES) {
      const dir = join(source.extractDir, 'data', entity);
      const shards = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.parquet'));
      let rows: number | null = null;
      let size: number | null = null;
      let lastChange: string | null = null;
      if (shards.length > 0) {
        const paths = shards.map((s) => join(dir, s));
        const [meta] = await queryRows<{ n: unknown }>(
          duck.conn,
          `SELECT sum(num_rows) AS n FROM parquet_file_metadata([${paths.map(quoteLiteral).join(', ')}])`,
        );
        rows = toNumber(meta?.n) ?? 0;
        const infos = await Promise.all(paths.map((p) => stat(p)));
        size = infos.reduce((sum, info) => sum + info.size, 0);
        lastChange = new Date(Math.max(...infos.map((info) => info.mtimeMs))).toISOString();
      }
      tables.push({
        name: entity,
        source_table: entity,
        bucket: '',
        columns: columns[entity].map((c) => ({
          name: c.name,
          type: c.type === 'TIMESTAMPTZ' ? 'TIMESTAMP WITH TIME ZONE' : c.type,
        })),
        rows,
        size_bytes: size,
        primary_key: PRIMARY_KEYS[entity],
        last_change: lastChange,
      });
    }
    return tables;
  } finally {
    duck.close();
  }
}
