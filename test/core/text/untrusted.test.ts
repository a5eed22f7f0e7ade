import { describe, expect, it } from 'vitest';
import { untrustedLine } from '../../../src/core/text/untrusted.js';

describe('untrustedLine', () => {
  it('turns runs of control characters into one space, trims and cuts to the limit', () => {
    expect(untrustedLine('  a\u0000\u0007b\r\nc\u007f ', 100)).toBe('a b c');
    expect(untrustedLine('x'.repeat(50), 10)).toBe('x'.repeat(10));
  });
});
