import type {
  DescribeTableResult,
  ListTablesResult,
  MemoryHit,
  QueryResult,
  ToolQueryFormat,
  ToolQueryResult,
} from '../../contract/index.js';
import { cellText, csvLine } from '../query/cells.js';
import type { JsonValue } from '../query/value-encoding.js';

/**
 * Tool results as text for a model's context (14 §1 sizes for a model): at most `maxChars`
 * characters, and whatever was cut is said on the last line, so an agent knows to narrow its
 * question instead of reasoning over a partial answer it takes for whole.
 */

const ADVICE = 'use limit, a narrower query, or da sync';
/** Room kept for the truncation line itself. */
const NOTICE_ROOM = 160;

export function truncationLine(shown: number, total: number | 'more', unit = 'rows'): string {
  return `(truncated: ${shown} of ${total} ${unit}; ${ADVICE})`;
}

/** A markdown cell: `|` escaped, line breaks inside the cell turned into spaces. */
export function markdownCell(value: JsonValue): string {
  return cellText(value)
    .replaceAll('|', '\\|')
    .replace(/\r\n|\r|\n/g, ' ');
}

const markdownLine = (cells: readonly string[]) => `| ${cells.join(' | ')} |\n`;

/** Text of the header and of each row, in one format; the JSON format is handled apart. */
function rowTexts(result: QueryResult, format: 'markdown' | 'csv'): { head: string; rows: string[] } {
  const rows = result.rows as JsonValue[][];
  if (format === 'csv') return { head: csvLine(result.columns), rows: rows.map((row) => csvLine(row)) };
  return {
    head:
      markdownLine(result.columns.map((c) => markdownCell(c))) +
      markdownLine(result.columns.map(() => '---')),
    rows: rows.map((row) => markdownLine(row.map(markdownCell))),
  };
}

/** How many of the rows fit in `budget` characters after `fixed` characters. */
function rowsThatFit(sizes: readonly number[], fixed: number, budget: number): number {
  let used = fixed;
  for (let i = 0; i < sizes.length; i++) {
    used += sizes[i]!;
    if (used > budget) return i;
  }
  return sizes.length;
}

function cutResult(result: QueryResult, shown: number, cutHere: boolean): ToolQueryResult {
  if (!cutHere) return result;
  return {
    ...result,
    rows: result.rows.slice(0, shown),
    row_count: shown,
    truncated: true,
    truncated_reason: 'chars',
  };
}

/**
 * A query result for the model: markdown (default), CSV (RFC 4180) or the whole result as JSON.
 * `structuredContent` holds exactly the rows the text shows.
 */
export function renderQueryResult(
  result: QueryResult,
  format: ToolQueryFormat,
  maxChars: number,
): { text: string; structured: ToolQueryResult } {
  const total = result.truncated ? 'more' : result.row_count;
  const withNotice = (text: string, shown: number) =>
    `${text}${text.endsWith('\n') ? '' : '\n'}${truncationLine(shown, total)}`;
  if (format === 'json') {
    const whole = JSON.stringify(result);
    if (whole.length <= maxChars && !result.truncated) return { text: whole, structured: result };
    const sizes = result.rows.map((row) => JSON.stringify(row).length + 1);
    const fixed = JSON.stringify({ ...result, rows: [], truncated_reason: 'chars' }).length;
    const fits = whole.length <= maxChars - NOTICE_ROOM;
    const shown = fits ? result.rows.length : rowsThatFit(sizes, fixed, maxChars - NOTICE_ROOM);
    const structured = cutResult(result, shown, !fits);
    return { text: withNotice(JSON.stringify(structured), shown), structured };
  }
  const { head, rows } = rowTexts(result, format);
  const full = head.length + rows.reduce((sum, row) => sum + row.length, 0);
  if (full <= maxChars && !result.truncated) return { text: head + rows.join(''), structured: result };
  const budget = maxChars - NOTICE_ROOM;
  const fits = full <= budget;
  const shown = fits
    ? rows.length
    : rowsThatFit(
        rows.map((row) => row.length),
        head.length,
        budget,
      );
  // A header wider than the budget is cut too: the notice still fits after it.
  const body = (head + rows.slice(0, shown).join('')).slice(0, budget);
  return { text: withNotice(body, shown), structured: cutResult(result, shown, !fits) };
}

/** Lines of a listing, cut at `maxChars` with a notice naming how many items were shown. */
export function renderLines(lines: readonly string[], unit: string, maxChars: number): string {
  const text = lines.join('\n');
  if (text.length <= maxChars) return text;
  const shown = rowsThatFit(
    lines.map((line) => line.length + 1),
    0,
    maxChars - NOTICE_ROOM,
  );
  return `${lines.slice(0, shown).join('\n')}\n${truncationLine(shown, lines.length, unit)}`;
}

export function renderTables(result: ListTablesResult, maxChars: number): string {
  if (result.tables.length === 0) return 'No tables.';
  const lines = result.tables.map((t) => {
    const facts = [
      `dataset ${t.dataset}`,
      t.rows === null ? null : `${t.rows} rows`,
      t.query_mode,
      t.synced_locally ? 'synced locally' : null,
      t.locked ? 'locked: ask with request_access' : null,
    ].filter((fact) => fact !== null);
    const description = t.description ? `: ${t.description.replace(/\s+/g, ' ')}` : '';
    return `- ${t.id} (${t.name}; ${facts.join(', ')})${description}`;
  });
  return renderLines(lines, 'tables', maxChars);
}

const figure = (value: number | string | undefined) => (value === undefined ? '' : markdownCell(value));

export function renderDescription(table: DescribeTableResult, maxChars: number): string {
  const facts = [
    `dataset ${table.dataset}`,
    table.rows === null ? null : `${table.rows} rows`,
    table.profiled_at ? `profiled ${table.profiled_at}` : 'no profile yet',
  ].filter((fact) => fact !== null);
  const lines = [
    `# ${table.id} (${table.name})`,
    facts.join(', '),
    ...(table.description ? [table.description] : []),
    '',
    markdownLine(['column', 'type', 'null %', 'distinct', 'min', 'max', 'description']).trimEnd(),
    markdownLine(Array(7).fill('---')).trimEnd(),
    ...table.columns.map((c) =>
      markdownLine([
        markdownCell(c.name),
        markdownCell(c.type),
        figure(c.null_pct),
        figure(c.distinct),
        figure(c.min),
        figure(c.max),
        markdownCell(c.description),
      ]).trimEnd(),
    ),
  ];
  return renderLines(lines, 'lines', maxChars);
}

export function renderMemory(items: readonly MemoryHit[], maxChars: number): string {
  if (items.length === 0) return 'Nothing found.';
  const blocks = items.map(
    (item) =>
      `## ${item.title}\n(${[item.category, `${item.votes} votes`, `id ${item.id}`].filter(Boolean).join(', ')})\n${item.content}\n`,
  );
  return renderLines(blocks, 'items', maxChars);
}
