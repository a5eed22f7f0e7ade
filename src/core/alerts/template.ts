/** The longest message an alert sends (08 §7); Telegram's limit less room for escaping. */
export const MAX_MESSAGE_CHARS = 3_500;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export interface TemplateValues {
  alert_name: string;
  row_count: number;
  value: unknown;
  /** The first row by column name; empty when there is no row. */
  firstRow: ReadonlyMap<string, unknown>;
}

/** A cell as message text: strings as they are, NULL as nothing, other values as JSON (05 §6 encoding). */
function textOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Renders `message_template` (08 §7): `{{alert_name}}`, `{{row_count}}`, `{{value}}` and
 * `{{<column>}}` of the first row; the three fixed names win over columns of the same name and
 * unknown placeholders render empty. The result is plain text, escaped per channel only at
 * delivery, and cut to 3,500 characters (whole code points).
 */
export function renderMessage(template: string, values: TemplateValues): string {
  const rendered = template.replace(PLACEHOLDER, (_, name: string) => {
    if (name === 'alert_name') return values.alert_name;
    if (name === 'row_count') return String(values.row_count);
    if (name === 'value') return textOf(values.value);
    return textOf(values.firstRow.get(name));
  });
  const chars = Array.from(rendered);
  return chars.length > MAX_MESSAGE_CHARS ? chars.slice(0, MAX_MESSAGE_CHARS).join('') : rendered;
}
