import { describe, expect, it } from 'vitest';
import { contentHash, normalizeTitle } from '../../../src/core/memory/normalize.js';

describe('normalizeTitle', () => {
  it('applies NFKC, trims, collapses whitespace and folds case', () => {
    expect(normalizeTitle('  Revenue\t\n  BY   Region ')).toBe('revenue by region');
    // Full-width letters and the "ﬁ" ligature are compatibility forms NFKC unfolds.
    expect(normalizeTitle('ＡＰＩ ﬁles')).toBe('api files');
    expect(normalizeTitle('Straße')).toBe(normalizeTitle('STRASSE'));
    expect(normalizeTitle('ΟΔΟΣ')).toBe(normalizeTitle('οδος'));
    expect(normalizeTitle('\u00a0Café\u2003')).toBe('café');
    expect(normalizeTitle('Cafe\u0301')).toBe(normalizeTitle('Café'));
  });

  it('keeps different words different', () => {
    expect(normalizeTitle('net revenue')).not.toBe(normalizeTitle('gross revenue'));
  });
});

describe('contentHash', () => {
  it('is the SHA-256 of the normalised content, stable under spacing and case', () => {
    expect(contentHash('Use  the\nEU region')).toBe(contentHash('use the eu region  '));
    expect(contentHash('abc')).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHash('abc')).not.toBe(contentHash('abd'));
  });
});
