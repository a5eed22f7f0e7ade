/**
 * What of a Claude Code JSONL transcript the collector reads (08 §4.3 Inputs): the user's own
 * words only — lines with `type: "user"` and `message.role: "user"` whose content is a string or
 * `text` blocks. Tool results, assistant turns and anything unparsable are left out: they hold
 * file contents and command output, not what the analyst knows.
 */
export function userMessages(jsonl: string): string {
  const messages: string[] = [];
  for (const line of jsonl.split('\n')) {
    if (!line.trim()) continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    const text = userText(entry);
    if (text) messages.push(text);
  }
  return messages.join('\n\n');
}

function userText(entry: unknown): string | null {
  if (typeof entry !== 'object' || entry === null) return null;
  const { type, message } = entry as { type?: unknown; message?: { role?: unknown; content?: unknown } };
  if (type !== 'user' || typeof message !== 'object' || message === null || message.role !== 'user')
    return null;
  const { content } = message;
  if (typeof content === 'string') return content.trim() || null;
  if (!Array.isArray(content)) return null;
  const texts = content
    .filter(
      (block): block is { type: 'text'; text: string } =>
        block?.type === 'text' && typeof block.text === 'string',
    )
    .map((block) => block.text.trim())
    .filter(Boolean);
  return texts.length > 0 ? texts.join('\n') : null;
}

/** The last `max` characters: the end of a session holds what it concluded. */
export function lastChars(text: string, max: number): string {
  return text.length <= max ? text : text.slice(text.length - max);
}
