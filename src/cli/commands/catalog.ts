import type { CatalogTable, Manifest } from '../../contract/index.js';
import { type CliContext, connect } from '../context.js';
import { toTable } from '../format.js';
import { filteredTables, type TablePolicyMark } from '../inspect.js';

/**
 * `da catalog`: the tables the caller may read, each marked when a row policy filters it for them
 * (12 §5); the mark comes from the caller's manifest, which describes their slice.
 */
export async function catalog(ctx: CliContext, options: { search?: string }): Promise<void> {
  const { client } = await connect(ctx, { requireAuth: true });
  const [list, manifest] = await Promise.all([
    client.json<{ tables: CatalogTable[] }>('GET', '/api/catalog/tables', {
      query: { search: options.search },
    }),
    client.json<Manifest>('GET', '/api/sync/manifest'),
  ]);
  const marks = filteredTables(manifest);
  const tables = list.tables.map((t) => ({ ...t, policy: marks.get(t.id) ?? null }));
  ctx.out.result({ tables, count: tables.length }, () =>
    tables.length === 0
      ? 'No tables you may read.'
      : toTable({
          columns: ['id', 'name', 'dataset', 'mode', 'rows', 'updated', 'policy'],
          rows: tables.map((t) => [
            t.id,
            t.name,
            t.dataset,
            t.query_mode,
            t.rows ?? null,
            t.updated ?? null,
            markText(t.policy),
          ]),
        }),
  );
}

function markText(mark: TablePolicyMark | null): string {
  if (!mark) return '';
  const masked =
    mark.masked_columns.length > 0 ? `; masked ${mark.masked_columns.map((m) => m.column).join(', ')}` : '';
  return mark.names.length > 0
    ? `filtered: ${mark.names.join(', ')}${masked}`
    : 'no rows (no policy applies)';
}
