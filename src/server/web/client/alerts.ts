import type { AlertTestResult } from '../../../contract/index.js';
import { api, errorText } from './forms.js';
import { resultTable } from './results.js';

/**
 * The alerts page: sends the create/edit form (its condition and channels nest, which the generic
 * form script cannot express) and shows a test's rendered message and result preview, every
 * value set as text.
 */

const form = document.getElementById('alert-form') as HTMLFormElement;
const panel = document.getElementById('test-panel') as HTMLElement;
const summary = document.getElementById('test-summary') as HTMLElement;
const errorBox = document.getElementById('test-error') as HTMLElement;
const message = document.getElementById('test-message') as HTMLElement;
const preview = document.getElementById('test-preview') as HTMLElement;

function field(name: string): HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement {
  return form.elements.namedItem(name) as HTMLInputElement;
}

/** A number when the field reads as one, unless the owner asked for a text comparison. */
function threshold(): number | string {
  const text = field('threshold').value.trim();
  const asText = (field('text_threshold') as HTMLInputElement).checked;
  const number = Number(text);
  return !asText && text !== '' && Number.isFinite(number) ? number : text;
}

function alertBody(): Record<string, unknown> {
  const column = field('column').value.trim();
  const channels = Array.from(form.querySelectorAll<HTMLInputElement>('input[name=channel]'))
    .filter((box) => box.checked && !box.disabled)
    .map((box) => box.value);
  return {
    name: field('name').value.trim(),
    sql: field('sql').value,
    condition: {
      type: field('type').value,
      op: field('op').value,
      threshold: threshold(),
      ...(column ? { column } : {}),
    },
    message_template: field('message_template').value,
    schedule: field('schedule').value.trim(),
    channels,
    cooldown_minutes: Number.parseInt(field('cooldown_minutes').value, 10),
  };
}

function setStatus(text: string, error: boolean): void {
  const status = form.querySelector<HTMLElement>('[data-status]');
  if (!status) return;
  status.textContent = text;
  status.classList.toggle('error', error);
}

async function save(): Promise<void> {
  const id = form.getAttribute('data-alert-id');
  setStatus('Saving…', false);
  const result = id
    ? await api('PATCH', `/api/alerts/${encodeURIComponent(id)}`, alertBody())
    : await api('POST', '/api/alerts', alertBody());
  if (!result.ok) {
    setStatus(errorText(result), true);
    return;
  }
  window.location.assign('/alerts');
}

async function test(id: string): Promise<void> {
  panel.hidden = false;
  errorBox.hidden = true;
  message.textContent = '';
  preview.replaceChildren();
  summary.textContent = 'Testing…';
  const result = await api('POST', `/api/alerts/${encodeURIComponent(id)}/test`, {});
  if (!result.ok) {
    summary.textContent = '';
    errorBox.textContent = errorText(result);
    errorBox.hidden = false;
    return;
  }
  const tested = result.data as unknown as AlertTestResult;
  summary.textContent = `${tested.fired ? 'The condition holds: it would fire.' : 'The condition does not hold.'} ${tested.row_count.toLocaleString('en-US')} rows.`;
  message.textContent = tested.message;
  preview.replaceChildren(resultTable(tested.preview));
  panel.scrollIntoView({ block: 'nearest' });
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void save().catch(() =>
    setStatus('The server could not be reached. Check your connection and try again.', true),
  );
});

document.addEventListener('click', (event) => {
  const button =
    event.target instanceof Element ? event.target.closest<HTMLElement>('[data-test-alert]') : null;
  const id = button?.dataset.testAlert;
  if (!id) return;
  void test(id).catch(() => {
    summary.textContent = '';
    errorBox.textContent = 'The server could not be reached. Check your connection and try again.';
    errorBox.hidden = false;
  });
});
