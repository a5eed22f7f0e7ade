import { api, errorText } from './forms.js';

/**
 * The attributes editor of `/admin/users/{id}` (12 §1): rows of a key and its values (one per
 * line, kept exactly as typed), added and removed in the page and saved together with one PUT that
 * replaces every stored key.
 */

const form = document.getElementById('attributes-form') as HTMLFormElement | null;
const rows = form?.querySelector<HTMLElement>('[data-attribute-rows]');
const template = document.getElementById('attribute-template') as HTMLTemplateElement | null;
let added = 0;

function setStatus(text: string, error: boolean): void {
  const status = form?.querySelector<HTMLElement>('[data-status]');
  if (!status) return;
  status.textContent = text;
  status.classList.toggle('error', error);
}

/** A fresh row from the template, with ids of its own so its labels stay bound. */
function addRow(): void {
  const fragment = template?.content.cloneNode(true) as DocumentFragment | undefined;
  if (!fragment || !rows) return;
  added += 1;
  for (const field of Array.from(fragment.querySelectorAll<HTMLElement>('[id]'))) {
    const label = fragment.querySelector<HTMLLabelElement>(`label[for="${field.id}"]`);
    field.id = `${field.id}-${added}`;
    if (label) label.htmlFor = field.id;
  }
  rows.append(fragment);
  rows.lastElementChild?.querySelector<HTMLInputElement>('input[name=key]')?.focus();
}

/** Every row with a key; values are the non-empty lines of its text box. */
function attributes(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const row of Array.from(rows?.querySelectorAll<HTMLElement>('[data-attribute-row]') ?? [])) {
    const key = row.querySelector<HTMLInputElement>('input[name=key]')?.value.trim() ?? '';
    const text = row.querySelector<HTMLTextAreaElement>('textarea[name=values]')?.value ?? '';
    if (key) out[key] = text.split(/\r?\n/).filter((value) => value !== '');
  }
  return out;
}

async function save(userId: string): Promise<void> {
  setStatus('Saving…', false);
  const result = await api('PUT', `/api/admin/users/${encodeURIComponent(userId)}/attributes`, {
    attributes: attributes(),
  });
  if (!result.ok) {
    setStatus(errorText(result), true);
    return;
  }
  window.location.reload();
}

if (form) {
  document.getElementById('add-attribute')?.addEventListener('click', addRow);
  form.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest('[data-remove-attribute]') : null;
    button?.closest('[data-attribute-row]')?.remove();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void save(form.dataset.userId ?? '').catch(() =>
      setStatus('The server could not be reached. Check your connection and try again.', true),
    );
  });
}
