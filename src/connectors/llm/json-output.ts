/**
 * Lenient reading of a model's text answer (07 §7, `structured_output: auto`): the text as it is,
 * else a fenced code block, else the span from the first `{` to the last `}` — models without a
 * JSON mode wrap their answer in prose or Markdown. Null when none of them is JSON.
 */
export function parseJsonLenient(text: string): { value: unknown } | null {
  const direct = tryParse(text);
  if (direct) return direct;
  for (const block of text.matchAll(/```[\w-]*[^\S\n]*\n?([\s\S]*?)```/g)) {
    const fenced = tryParse(block[1] ?? '');
    if (fenced) return fenced;
  }
  const first = text.indexOf('{');
  const last = text.lastIndexOf('}');
  return first >= 0 && last > first ? tryParse(text.slice(first, last + 1)) : null;
}

function tryParse(text: string): { value: unknown } | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  try {
    return { value: JSON.parse(trimmed) };
  } catch {
    return null;
  }
}
