import type { MemoryBatchResult, MemoryVoteResult } from '../../../contract/index.js';
import { api, errorText } from './forms.js';

/**
 * The corporate memory pages: vote buttons (the score and the pressed state follow the answer),
 * a km_admin's decision on one item (approve, reject, mandate, revoke with a reason, and an
 * audience only for mandate), and the batch decision on the selected items.
 */

function setStatus(scope: Element, text: string, error = false): void {
  const box = scope.querySelector<HTMLElement>('[data-status]');
  if (!box) return;
  box.textContent = text;
  box.classList.toggle('error', error);
}

function field(form: HTMLFormElement, name: string): string {
  const value = new FormData(form).get(name);
  return typeof value === 'string' ? value.trim() : '';
}

/** `{reason?, audience?}`: empty fields are left out, and only mandate takes an audience. */
function decision(form: HTMLFormElement, action: string): Record<string, string> {
  const body: Record<string, string> = {};
  const reason = field(form, 'reason');
  const audience = field(form, 'audience');
  if (reason) body.reason = reason;
  if (action === 'mandate' && audience) body.audience = audience;
  return body;
}

async function vote(button: HTMLButtonElement): Promise<void> {
  const box = button.closest<HTMLElement>('[data-votes]');
  if (!box) return;
  const pressed = button.getAttribute('aria-pressed') === 'true';
  const value = pressed ? 0 : Number(button.dataset.vote);
  const result = await api('POST', `/api/memory/${encodeURIComponent(box.dataset.votes ?? '')}/vote`, {
    vote: value,
  });
  if (!result.ok) {
    setStatus(box, errorText(result), true);
    return;
  }
  const tally = result.data as unknown as MemoryVoteResult;
  const score = box.querySelector<HTMLElement>('[data-score]');
  if (score) score.textContent = tally.score > 0 ? `+${tally.score}` : String(tally.score);
  for (const other of Array.from(box.querySelectorAll<HTMLButtonElement>('[data-vote]'))) {
    other.setAttribute('aria-pressed', String(Number(other.dataset.vote) === tally.my_vote));
  }
  setStatus(box, tally.my_vote === null ? 'Vote removed.' : 'Vote saved.');
}

async function govern(form: HTMLFormElement, action: string): Promise<void> {
  setStatus(form, 'Working…');
  const id = encodeURIComponent(form.dataset.govern ?? '');
  const result = await api('POST', `/api/memory/admin/${action}?item_id=${id}`, decision(form, action));
  if (!result.ok) {
    setStatus(form, errorText(result), true);
    return;
  }
  setStatus(form, 'Done.');
  window.location.reload();
}

async function batch(form: HTMLFormElement): Promise<void> {
  const ids = Array.from(document.querySelectorAll<HTMLInputElement>('input[data-pick]:checked')).map(
    (box) => box.dataset.pick ?? '',
  );
  if (ids.length === 0) {
    setStatus(form, 'Select at least one item first.', true);
    return;
  }
  const action = field(form, 'action');
  setStatus(form, 'Working…');
  const result = await api('POST', '/api/memory/admin/batch', {
    item_ids: ids,
    action,
    ...decision(form, action),
  });
  if (!result.ok) {
    setStatus(form, errorText(result), true);
    return;
  }
  const outcome = result.data as unknown as MemoryBatchResult;
  const failed = outcome.not_found.length + outcome.invalid.length;
  setStatus(
    form,
    `${outcome.success.length} done${failed > 0 ? `, ${failed} not possible (${outcome.invalid.map((i) => i.status).join(', ') || 'not found'})` : ''}.`,
    failed > 0,
  );
  if (failed === 0) window.location.reload();
}

document.addEventListener('click', (event) => {
  const button =
    event.target instanceof Element ? event.target.closest<HTMLButtonElement>('button[data-vote]') : null;
  if (button) void vote(button);
});

document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  if (form.dataset.govern !== undefined) {
    event.preventDefault();
    const action = event.submitter instanceof HTMLElement ? event.submitter.dataset.action : undefined;
    if (action) void govern(form, action);
  } else if (form.dataset.batch !== undefined) {
    event.preventDefault();
    void batch(form);
  }
});
