import type { QueryResult } from '../../../contract/index.js';

/** Query results (`POST /api/query`, table previews) as a DOM table, every value set as text. */

const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL|REAL)/i;

function cell(value: unknown, numeric: boolean): HTMLTableCellElement {
  const td = document.createElement('td');
  if (numeric) td.className = 'num';
  if (value === null || value === undefined) {
    const span = document.createElement('span');
    span.className = 'null';
    span.textContent = 'NULL';
    td.append(span);
  } else {
    td.textContent = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return td;
}

export function resultTable(result: QueryResult): HTMLTableElement {
  const numeric = result.column_types.map((t) => NUMERIC.test(t));
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  result.columns.forEach((name, i) => {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = name;
    if (numeric[i]) th.className = 'num';
    head.append(th);
  });
  const body = table.createTBody();
  for (const row of result.rows) {
    const tr = body.insertRow();
    row.forEach((value, i) => {
      tr.append(cell(value, numeric[i] ?? false));
    });
  }
  return table;
}
