import type { QueryResult } from '../../../contract/index.js';
import { api, csrfToken, errorText } from './forms.js';
import { resultTable } from './results.js';

/**
 * The SQL console: runs the editor's query through `POST /api/query`, renders the rows as text
 * (never as HTML), shows API errors with their code, exports CSV, and keeps the last 20 queries
 * in local storage.
 */

const HISTORY_KEY = 'agnes.sql.history';
const HISTORY_SIZE = 20;

const form = document.getElementById('sql-form') as HTMLFormElement;
const editor = document.getElementById('sql') as HTMLTextAreaElement;
const limit = document.getElementById('limit') as HTMLSelectElement;
const errorBox = document.getElementById('error') as HTMLElement;
const summary = document.getElementById('summary') as HTMLElement;
const results = document.getElementById('results') as HTMLElement;
const historyList = document.getElementById('history') as HTMLElement;

function readHistory(): string[] {
  try {
    const stored = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as unknown;
    return Array.isArray(stored) ? stored.filter((q): q is string => typeof q === 'string') : [];
  } catch {
    return [];
  }
}

function renderHistory(): void {
  historyList.replaceChildren(
    ...readHistory().map((sql) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = sql.length > 80 ? `${sql.slice(0, 80)}…` : sql;
      button.addEventListener('click', () => {
        editor.value = sql;
        editor.focus();
      });
      item.append(button);
      return item;
    }),
  );
}

function remember(sql: string): void {
  const history = [sql, ...readHistory().filter((q) => q !== sql)].slice(0, HISTORY_SIZE);
  localStorage.setItem(HISTORY_KEY, JSON.stringify(history));
  renderHistory();
}

function renderResult(result: QueryResult): void {
  const table = resultTable(result);
  results.replaceChildren(table);
  const cap =
    result.truncated_reason === 'bytes'
      ? ' Truncated: the result reached the size cap.'
      : result.truncated
        ? ` Truncated at the row limit of ${Number(limit.value).toLocaleString('en-US')}.`
        : '';
  summary.textContent = `${result.row_count.toLocaleString('en-US')} rows in ${result.elapsed_ms} ms.${cap}`;
}

async function run(): Promise<void> {
  const sql = editor.value.trim();
  if (!sql) return;
  errorBox.hidden = true;
  summary.textContent = 'Running…';
  const result = await api('POST', '/api/query', { sql, limit: Number(limit.value) });
  remember(sql);
  if (!result.ok) {
    summary.textContent = '';
    results.replaceChildren();
    errorBox.textContent = errorText(result);
    errorBox.hidden = false;
    return;
  }
  renderResult(result.data as unknown as QueryResult);
}

async function exportCsv(): Promise<void> {
  const sql = editor.value.trim();
  if (!sql) return;
  errorBox.hidden = true;
  const response = await fetch('/api/query/export', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-CSRF-Token': csrfToken(),
    },
    body: JSON.stringify({ sql, format: 'csv' }),
  });
  if (!response.ok) {
    const data = (await response.json().catch(() => null)) as Record<string, unknown> | null;
    errorBox.textContent = errorText({ ok: false, status: response.status, data });
    errorBox.hidden = false;
    return;
  }
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = 'query.csv';
  link.click();
  URL.revokeObjectURL(link.href);
}

let escaped = false;
editor.addEventListener('keydown', (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') {
    event.preventDefault();
    void run();
    return;
  }
  if (event.key === 'Escape') {
    escaped = true;
    return;
  }
  if (event.key === 'Tab' && !escaped && !event.shiftKey) {
    event.preventDefault();
    editor.setRangeText('  ', editor.selectionStart, editor.selectionEnd, 'end');
  }
  escaped = false;
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void run();
});
document.getElementById('export')?.addEventListener('click', () => void exportCsv());
document.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest<HTMLElement>('[data-insert]') : null;
  if (!button) return;
  editor.setRangeText(`"${button.dataset.insert ?? ''}"`, editor.selectionStart, editor.selectionEnd, 'end');
  editor.focus();
});
renderHistory();
