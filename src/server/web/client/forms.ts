/**
 * Shared browser module of every page (09 §1 rules common to all pages): sends `form[data-api]` forms to the JSON API with
 * the CSRF header, shows the API's `detail` and `code` on failure, confirms destructive actions,
 * reveals a once-only result, follows sync jobs until they finish, and copies text on request.
 */

import type { FieldError, SyncTriggerResponse } from '../../../contract/index.js';

export interface ApiResult {
  ok: boolean;
  status: number;
  data: Record<string, unknown> | null;
}

export function csrfToken(): string {
  const entry = document.cookie.split('; ').find((c) => c.startsWith('agnes_csrf='));
  return entry ? decodeURIComponent(entry.slice('agnes_csrf='.length)) : '';
}

export async function api(method: string, url: string, body?: unknown): Promise<ApiResult> {
  const headers: Record<string, string> = { 'X-CSRF-Token': csrfToken(), Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await response.text();
  let data: Record<string, unknown> | null = null;
  try {
    data = text ? (JSON.parse(text) as Record<string, unknown>) : null;
  } catch {
    data = null;
  }
  return { ok: response.ok, status: response.status, data };
}

/** The message of a failed API call: its `detail` and `code`, as text. */
export function errorText(result: ApiResult): string {
  const detail =
    typeof result.data?.detail === 'string' ? result.data.detail : `request failed (${result.status})`;
  const code = typeof result.data?.code === 'string' ? ` (${result.data.code})` : '';
  const fields = Array.isArray(result.data?.errors)
    ? (result.data.errors as FieldError[]).map((e) => `${e.path} ${e.message}`).join('; ')
    : '';
  return `${detail}${code}${fields ? `: ${fields}` : ''}`;
}

function fieldValue(field: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement): unknown {
  const type = field.dataset.type;
  if (field instanceof HTMLInputElement && field.type === 'checkbox') return field.checked;
  const value = field.value;
  if (type === 'int') return value === '' ? undefined : Number.parseInt(value, 10);
  if (type === 'bool') return value === 'true';
  if (type === 'list')
    return value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
  if (type === 'nullable') return value === '' ? null : value;
  return value === '' ? undefined : value;
}

function formBody(form: HTMLFormElement): Record<string, unknown> | undefined {
  const body: Record<string, unknown> = {};
  for (const element of Array.from(form.elements)) {
    if (
      !(
        element instanceof HTMLInputElement ||
        element instanceof HTMLSelectElement ||
        element instanceof HTMLTextAreaElement
      )
    )
      continue;
    if (!element.name || element.name === '_csrf' || element.disabled) continue;
    const value = fieldValue(element);
    if (value !== undefined) body[element.name] = value;
  }
  return Object.keys(body).length > 0 ? body : undefined;
}

/**
 * A `data-*` attribute of a form. Not `form.dataset`: a form exposes its controls as properties,
 * so a field named `dataset` would hide it.
 */
function data(form: HTMLFormElement, name: string): string | null {
  return form.getAttribute(`data-${name}`);
}

function setStatus(form: HTMLElement, text: string, error: boolean): void {
  const status = form.querySelector<HTMLElement>('[data-status]');
  if (!status) return;
  status.textContent = text;
  status.classList.toggle('error', error);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const FINISHED = new Set(['succeeded', 'failed', 'interrupted', 'cancelled', 'ok', 'error', 'partial']);

/** Follows the jobs a trigger queued (`GET /api/sync/jobs/{id}`) until each has finished. */
async function followJobs(form: HTMLElement, ids: string[]): Promise<void> {
  for (;;) {
    const states = await Promise.all(ids.map((id) => api('GET', `/api/sync/jobs/${encodeURIComponent(id)}`)));
    const text = states
      .map((s, i) => `Job ${ids[i]}: ${s.ok ? String(s.data?.status) : errorText(s)}`)
      .join(' · ');
    setStatus(
      form,
      text,
      states.some((s) => !s.ok || s.data?.status === 'failed'),
    );
    if (states.every((s) => !s.ok || FINISHED.has(String(s.data?.status)))) return;
    await sleep(1000);
  }
}

function jobIds(data: Record<string, unknown> | null): string[] {
  if (typeof data?.job_id === 'string') return [data.job_id];
  if (Array.isArray(data?.jobs)) return (data.jobs as SyncTriggerResponse['jobs']).map((j) => j.id);
  return [];
}

/** What a sync trigger skipped and why (`skipped: [{table, reason}]`). */
function skippedText(data: Record<string, unknown> | null): string {
  const skipped = Array.isArray(data?.skipped) ? (data.skipped as SyncTriggerResponse['skipped']) : [];
  return skipped.length > 0 ? `: ${skipped.map((s) => `${s.table} (${s.reason})`).join(', ')}` : '';
}

async function submit(form: HTMLFormElement, submitter: HTMLElement | null): Promise<void> {
  const message = data(form, 'confirm');
  if (message && !window.confirm(message)) return;
  const button = submitter instanceof HTMLButtonElement ? submitter : form.querySelector('button');
  if (button) button.disabled = true;
  setStatus(form, 'Working…', false);
  try {
    // A second submit button may name its own endpoint (approve / deny on one form).
    const url = (submitter instanceof HTMLElement && submitter.dataset.api) || data(form, 'api') || '';
    const method = data(form, 'method') ?? 'POST';
    const body = formBody(form);
    const result =
      method === 'GET' || data(form, 'query') !== null
        ? await api(method, `${url}?${new URLSearchParams(body as Record<string, string>)}`)
        : await api(method, url, body);
    if (!result.ok) {
      setStatus(form, errorText(result), true);
      return;
    }
    const show = data(form, 'show');
    if (show) {
      const box = form.querySelector<HTMLElement>('[data-result]');
      const value = form.querySelector<HTMLElement>('[data-result-value]');
      if (box && value && (show === '*' || result.data?.[show] !== undefined)) {
        const shown = show === '*' ? JSON.stringify(result.data, null, 2) : String(result.data?.[show] ?? '');
        value.textContent = shown;
        box.hidden = false;
        setStatus(form, 'Done.', false);
        value.focus();
        return;
      }
    }
    if (data(form, 'poll')) {
      const ids = jobIds(result.data);
      if (ids.length > 0) await followJobs(form, ids);
      else setStatus(form, `Nothing was queued${skippedText(result.data)}.`, false);
      return;
    }
    setStatus(form, 'Done.', false);
    const next = data(form, 'next');
    if (next) window.location.assign(next);
    else window.location.reload();
  } catch {
    setStatus(form, 'The server could not be reached. Check your connection and try again.', true);
  } finally {
    if (button) button.disabled = false;
  }
}

document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || data(form, 'api') === null) return;
  event.preventDefault();
  void submit(form, event.submitter);
});

document.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target.closest<HTMLElement>('[data-copy]') : null;
  if (!target) return;
  const source = document.getElementById(target.dataset.copy ?? '');
  if (!source) return;
  navigator.clipboard.writeText(source.textContent ?? '').then(
    () => {
      target.textContent = 'Copied';
    },
    () => {
      target.textContent = 'Select and copy';
    },
  );
});
