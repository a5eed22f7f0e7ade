import type { PolicyPreview, RowPolicyInput } from '../../../contract/index.js';
import { api, errorText } from './forms.js';
import { resultTable } from './results.js';

/**
 * The Policies section of `/admin/tables/{id}` (12 §5): sends the add/edit form (targets and masks
 * nest, which the generic form script cannot express), shows a refused filter's `detail` beside
 * the filter, and previews what a user would see with the draft. Every value goes in as text.
 */

const form = document.getElementById('policy-form') as HTMLFormElement | null;
const errorBox = document.getElementById('policy-error') as HTMLElement | null;
const UNREACHABLE = 'The server could not be reached. Check your connection and try again.';

function control<T extends Element>(name: string): T {
  return form?.elements.namedItem(name) as unknown as T;
}

function chosen(name: string): string[] {
  return Array.from(control<HTMLSelectElement>(name).selectedOptions).map((option) => option.value);
}

/** The form as a `RowPolicyInput`; every field is sent, so a PUT replaces the policy whole. */
function draft(): RowPolicyInput {
  const filter = control<HTMLTextAreaElement>('row_filter').value;
  const masks = Array.from(form?.querySelectorAll<HTMLSelectElement>('select[name=mask]') ?? [])
    .filter((select) => select.value === 'null' || select.value === 'hash')
    .map((select) => ({ column: select.dataset.column ?? '', mask: select.value as 'null' | 'hash' }));
  return {
    name: control<HTMLInputElement>('name').value.trim(),
    description: control<HTMLInputElement>('description').value,
    row_filter: filter.trim() === '' ? null : filter,
    applies_to: {
      everyone: control<HTMLInputElement>('everyone').checked,
      users: chosen('users'),
      groups: chosen('groups'),
    },
    masked_columns: masks,
    enabled: control<HTMLInputElement>('enabled').checked,
  };
}

function showError(box: HTMLElement | null, text: string | null): void {
  if (!box) return;
  box.textContent = text ?? '';
  box.hidden = text === null;
}

function setStatus(text: string): void {
  const status = form?.querySelector<HTMLElement>('[data-status]');
  if (status) status.textContent = text;
}

async function save(target: HTMLFormElement): Promise<void> {
  const tableId = target.dataset.tableId ?? '';
  const policyId = target.dataset.policyId;
  showError(errorBox, null);
  setStatus('Saving…');
  const result = policyId
    ? await api('PUT', `/api/admin/policies/${encodeURIComponent(policyId)}`, draft())
    : await api('POST', `/api/admin/tables/${encodeURIComponent(tableId)}/policies`, draft());
  setStatus('');
  if (!result.ok) {
    showError(errorBox, errorText(result));
    return;
  }
  window.location.assign(`/admin/tables/${encodeURIComponent(tableId)}`);
}

const preview = {
  user: document.getElementById('preview-user') as HTMLSelectElement | null,
  summary: document.getElementById('preview-summary') as HTMLElement,
  error: document.getElementById('preview-error') as HTMLElement | null,
  details: document.getElementById('preview-details') as HTMLElement,
  filter: document.getElementById('preview-filter') as HTMLElement,
  masked: document.getElementById('preview-masked') as HTMLElement,
  rows: document.getElementById('preview-rows') as HTMLElement,
};

const KIND_TEXT: Record<PolicyPreview['kind'], string> = {
  full: 'not bound: this user sees the whole table',
  slice: 'filtered by policy',
  empty: 'no applicable policy: this user sees no rows',
};

async function runPreview(tableId: string): Promise<void> {
  const current = draft();
  showError(preview.error, null);
  preview.details.hidden = true;
  preview.summary.textContent = 'Previewing…';
  const result = await api('POST', '/api/admin/policies/preview', {
    table_id: tableId,
    user_id: preview.user?.value ?? '',
    // An unnamed draft has no policy to replace or add: the saved policies alone are previewed.
    ...(current.name ? { policy: current } : {}),
  });
  if (!result.ok) {
    preview.summary.textContent = '';
    showError(preview.error, errorText(result));
    return;
  }
  const shown = result.data as unknown as PolicyPreview;
  const names = shown.policies.map((p) => p.name).join(', ');
  preview.summary.textContent = `${shown.kind}: ${KIND_TEXT[shown.kind]}${names ? ` (${names})` : ''}. ${shown.rows.toLocaleString('en-US')} rows.`;
  preview.filter.textContent = shown.bound_filter ?? '(all rows)';
  preview.masked.textContent =
    shown.masked_columns.length > 0
      ? `Masked columns: ${shown.masked_columns.map((m) => `${m.column} (${m.mask})`).join(', ')}`
      : 'No masked columns.';
  preview.rows.replaceChildren(resultTable(shown.sample));
  preview.details.hidden = false;
}

if (form) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void save(form).catch(() => showError(errorBox, UNREACHABLE));
  });
  document.getElementById('preview-run')?.addEventListener('click', () => {
    void runPreview(form.dataset.tableId ?? '').catch(() => showError(preview.error, UNREACHABLE));
  });
}
