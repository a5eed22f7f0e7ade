import { cellText, csvField } from '../core/query/cells.js';

/** Rendering of query results for `da query` and `da explore` (06 §5.2 data); values arrive JSON-encoded (05 §6). */

export type Cell = null | boolean | number | string | Cell[] | { [key: string]: Cell };

export interface Rows {
  columns: string[];
  rows: Cell[][];
}

export type TextFormat = 'table' | 'json' | 'csv' | 'ndjson';

export function toCsv({ columns, rows }: Rows): string {
  const lines = [columns, ...rows].map((row) => row.map((cell) => csvField(cell)).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function rowObjects({ columns, rows }: Rows): Record<string, Cell>[] {
  return rows.map((row) => Object.fromEntries(columns.map((name, i) => [name, row[i] ?? null])));
}

export function toNdjson(result: Rows): string {
  return rowObjects(result)
    .map((row) => `${JSON.stringify(row)}\n`)
    .join('');
}

/** Display width of a string: code points, so accented and CJK text line up reasonably. */
const width = (text: string) => [...text].length;

/** Aligned text: a header, a rule, one line per row; numbers right-aligned, NULL empty. */
export function toTable({ columns, rows }: Rows): string {
  const texts = rows.map((row) => columns.map((_, i) => cellText(row[i] ?? null).replace(/[\r\n\t]/g, ' ')));
  const widths = columns.map((name, i) => Math.max(width(name), ...texts.map((row) => width(row[i]!))));
  const numeric = columns.map(
    (_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number' || row[i] === null),
  );
  const pad = (text: string, i: number) => {
    const fill = ' '.repeat(widths[i]! - width(text));
    return numeric[i] ? fill + text : text + fill;
  };
  const line = (cells: string[]) => cells.map(pad).join('  ').trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...texts.map(line)].join('\n');
}

export function formatRows(result: Rows, format: TextFormat): string {
  switch (format) {
    case 'csv':
      return toCsv(result);
    case 'ndjson':
      return toNdjson(result);
    case 'json':
      return `${JSON.stringify(rowObjects(result), null, 2)}\n`;
    case 'table':
      return `${toTable(result)}\n`;
  }
}
