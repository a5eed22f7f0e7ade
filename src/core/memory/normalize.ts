import { createHash } from 'node:crypto';

/**
 * The normal form two knowledge items are compared in (08 §4.3 dedup): NFKC, trimmed, runs of
 * whitespace collapsed to one space, case folded. Upper-casing before lower-casing folds what
 * `toLowerCase` alone keeps apart (`ß`/`SS`, final sigma); NFKC runs again because case mapping
 * can leave a decomposed sequence behind.
 */
export function normalizeTitle(text: string): string {
  return text.normalize('NFKC').trim().replace(/\s+/gu, ' ').toUpperCase().toLowerCase().normalize('NFKC');
}

/** SHA-256 (hex) of the normalised content only: whitespace and case changes keep the hash. */
export function contentHash(content: string): string {
  return createHash('sha256').update(normalizeTitle(content), 'utf8').digest('hex');
}
