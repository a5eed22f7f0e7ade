import { createHash } from 'node:crypto';

/**
 * Knowledge item identity for deduplication (08 §4.3): NFKC, trimmed, whitespace collapsed and
 * case folded, so the same title or note typed twice compares equal.
 */
function normalizeText(s: string): string {
  return s.normalize('NFKC').trim().replace(/\s+/gu, ' ').toLowerCase();
}

export function normalizeTitle(s: string): string {
  return normalizeText(s);
}

/** SHA-256 hex of the normalised content only (title, category and tags do not count). */
export function contentHash(s: string): string {
  return createHash('sha256').update(normalizeText(s)).digest('hex');
}
