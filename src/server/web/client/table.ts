import type { QueryResult } from '../../../contract/index.js';
import { api, errorText } from './forms.js';
import { resultTable } from './results.js';

/** The table page's "Preview 20 rows": the first rows through the query guard, shown as text. */
const button = document.getElementById('preview');
const box = document.getElementById('preview-rows');
if (button instanceof HTMLButtonElement && box) {
  button.addEventListener('click', async () => {
    button.disabled = true;
    const result = await api(
      'GET',
      `/api/catalog/tables/${encodeURIComponent(button.dataset.table ?? '')}/preview`,
    );
    button.disabled = false;
    if (!result.ok) {
      box.textContent = errorText(result);
      return;
    }
    box.replaceChildren(resultTable(result.data as unknown as QueryResult));
  });
}
