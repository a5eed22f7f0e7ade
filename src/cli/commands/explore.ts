import type { ServedProfile } from '../../contract/index.js';
import { queryRows, toNumber } from '../../core/duckdb/engine.js';
import { quoteIdent } from '../../core/duckdb/sql.js';
import { type CliContext, connect } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { rowObjects, toTable } from '../format.js';
import { localRelations, openLocalDb, runLocal } from '../local-db.js';
import { layoutOf } from '../sync/paths.js';

const SAMPLE_ROWS = 5;

async function exploreLocal(ctx: CliContext, table: string): Promise<void> {
  const duck = await openLocalDb(layoutOf(ctx.localDir).dbPath);
  try {
    const relations = await localRelations(duck.conn);
    if (!relations.includes(table)) {
      throw new CliError(
        EXIT.notFound,
        `no local table ${table}; available: ${relations.join(', ') || 'none (run: da sync)'}`,
        'not_found',
      );
    }
    const name = quoteIdent(table);
    const columns = (
      await queryRows<{ column_name: string; column_type: string; null: string }>(
        duck.conn,
        `DESCRIBE SELECT * FROM ${name}`,
      )
    ).map((c) => ({ name: c.column_name, type: c.column_type, nullable: c.null !== 'NO' }));
    const count = await queryRows<{ n: bigint }>(duck.conn, `SELECT count(*) AS n FROM ${name}`);
    const rows = toNumber(count[0]?.n) ?? 0;
    const sample = await runLocal(duck.conn, `SELECT * FROM ${name}`, SAMPLE_ROWS);
    ctx.out.result({ table, rows, columns, sample: rowObjects(sample) }, () =>
      [
        `${table}: ${rows} rows, ${columns.length} columns`,
        '',
        toTable({
          columns: ['column', 'type', 'nullable'],
          rows: columns.map((c) => [c.name, c.type, c.nullable ? 'yes' : 'no']),
        }),
        '',
        `Sample (${sample.rows.length} rows):`,
        toTable(sample),
      ].join('\n'),
    );
  } finally {
    duck.close();
  }
}

/** A column's most frequent values where the profile has them (string columns), else its samples. */
function topValues(column: ServedProfile['columns'][number]): string[] {
  if (column.type_category === 'STRING' && column.top_values)
    return column.top_values.map((v) => `${v.value} (${v.pct}%)`);
  return column.sample_values;
}

function profileSummary(profile: ServedProfile): string {
  const columns = profile.columns.map((c) => [
    c.name,
    c.type,
    `${c.completeness_pct}%`,
    topValues(c).slice(0, 3).join(', '),
  ]);
  return [
    `${profile.table_id}: ${profile.row_count} rows, ${profile.column_count} columns${profile.stale ? ' (profile is stale)' : ''}`,
    '',
    toTable({ columns: ['column', 'type', 'complete', 'top values'], rows: columns }),
    ...(profile.alerts.length > 0 ? ['', 'Alerts:', ...profile.alerts.map((a) => `  ${a.message}`)] : []),
  ].join('\n');
}

/** `da explore TABLE` (06 §5.2 data): the local view's shape and a sample, or the server's profile. */
export async function explore(ctx: CliContext, options: { remote?: boolean }, table: string): Promise<void> {
  if (!options.remote) return exploreLocal(ctx, table);
  const { client } = await connect(ctx, { requireAuth: true });
  const profile = await client.json<ServedProfile>(
    'GET',
    `/api/catalog/profile/${encodeURIComponent(table)}`,
  );
  ctx.out.result(profile, () => profileSummary(profile));
}
