import { errorMessage } from '../errors.js';
import { untrustedLine } from '../text/untrusted.js';

const ABSOLUTE_PATH = /(?:[A-Za-z]:)?\/(?:[^\s'"`:,;)(]+\/)*[^\s'"`:,;)(]*/g;

/**
 * A short, safe `detail` for reports and the state store: no absolute paths (they reveal the
 * deployment), no secret values, no control characters, at most 300 characters.
 */
export function sanitizeDetail(error: unknown, secrets: readonly string[] = []): string {
  let text = errorMessage(error);
  for (const secret of secrets) if (secret.length >= 4) text = text.split(secret).join('***');
  return untrustedLine(
    text.replace(ABSOLUTE_PATH, (match) => (match.length > 1 ? '<path>' : match)),
    300,
  );
}
