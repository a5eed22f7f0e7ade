import type { DiscoveredTable, SourceSummary } from '../../../contract/index.js';
import { api, errorText } from './forms.js';

/**
 * The admin tables page: the discover panel (a source's offered tables as checkboxes, registered
 * ones marked, the selected ones registered) and the sources panel with each last rebuild.
 * Every value goes into the DOM as text.
 */

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (text !== undefined) element.textContent = text;
  return element;
}

function status(form: HTMLElement, text: string, error = false): void {
  const box = form.querySelector<HTMLElement>('[data-status]');
  if (!box) return;
  box.textContent = text;
  box.classList.toggle('error', error);
}

let offered: DiscoveredTable[] = [];

async function discover(form: HTMLFormElement, target: HTMLFormElement): Promise<void> {
  const source = new FormData(form).get('source');
  status(form, 'Asking the source…');
  const result = await api(
    'GET',
    `/api/admin/discover-tables?source=${encodeURIComponent(String(source ?? ''))}`,
  );
  if (!result.ok) {
    status(form, errorText(result), true);
    return;
  }
  offered = (result.data?.tables as DiscoveredTable[] | undefined) ?? [];
  const list = target.querySelector<HTMLElement>('[data-list]');
  if (!list) return;
  list.replaceChildren();
  offered.forEach((table, i) => {
    const label = el('label');
    label.className = 'inline';
    const box = el('input');
    box.type = 'checkbox';
    box.value = String(i);
    box.disabled = table.registered;
    label.append(box, ` ${table.name} (${table.source_table})${table.registered ? ' — registered' : ''}`);
    list.append(label);
  });
  status(form, `${offered.length} tables offered.`);
  target.hidden = false;
}

async function registerSelected(form: HTMLFormElement): Promise<void> {
  const chosen = Array.from(form.querySelectorAll<HTMLInputElement>('input[type=checkbox]:checked'))
    .map((box) => offered[Number(box.value)])
    .filter((t): t is DiscoveredTable => t !== undefined);
  if (chosen.length === 0) {
    status(form, 'Select at least one table.', true);
    return;
  }
  for (const table of chosen) {
    const result = await api('POST', '/api/admin/register-table', {
      name: table.name,
      id: table.suggested_id,
      source: table.source,
      source_table: table.source_table,
      bucket: table.bucket,
      ...(table.primary_key.length > 0 ? { primary_key: table.primary_key } : {}),
    });
    if (!result.ok) {
      status(form, `${table.name}: ${errorText(result)}`, true);
      return;
    }
  }
  status(form, `Registered ${chosen.length} tables. Rebuild to publish them.`);
  window.location.reload();
}

async function loadSources(target: HTMLElement): Promise<void> {
  const result = await api('GET', '/api/admin/sources');
  if (!result.ok) {
    target.replaceChildren(el('p', errorText(result)));
    return;
  }
  const sources = (result.data?.sources as SourceSummary[] | undefined) ?? [];
  const wrap = el('div');
  wrap.className = 'table-wrap';
  const table = el('table');
  const head = el('tr');
  for (const title of ['Source', 'Type', 'Configured', 'Tables', 'Last rebuild', 'Last sync']) {
    const th = el('th', title);
    th.scope = 'col';
    head.append(th);
  }
  table.append(el('thead'), el('tbody'));
  table.tHead?.append(head);
  for (const source of sources) {
    const row = el('tr');
    const rebuild = source.last_rebuild
      ? `${source.last_rebuild.status}${source.last_rebuild.reason ? `: ${source.last_rebuild.reason}` : ''}`
      : '—';
    const job = source.last_job ? `${source.last_job.status} ${source.last_job.finished_at ?? ''}` : '—';
    for (const text of [
      source.name,
      source.type,
      source.configured ? 'yes' : 'no',
      String(source.tables_registered),
      rebuild,
      job,
    ])
      row.append(el('td', text));
    table.tBodies[0]?.append(row);
  }
  wrap.append(table);
  target.replaceChildren(wrap);
}

const discoverForm = document.getElementById('discover');
const discoveredForm = document.getElementById('discovered');
if (discoverForm instanceof HTMLFormElement && discoveredForm instanceof HTMLFormElement) {
  discoverForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void discover(discoverForm, discoveredForm);
  });
  discoveredForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void registerSelected(discoveredForm);
  });
}
const sourcesBox = document.getElementById('sources');
if (sourcesBox) void loadSources(sourcesBox);
