/**
 * Validates a `next` redirect target (04 §4.3): after one percent-decoding, at most 512 characters,
 * exactly one leading `/`, no `//` or `/\` start, no backslash, no control character, no scheme.
 * Anything else becomes the fallback; redirects never use an absolute URL from input.
 */
export function safeNext(next: unknown, fallback = '/dashboard'): string {
  if (typeof next !== 'string' || next === '') return fallback;
  let decoded: string;
  try {
    decoded = decodeURIComponent(next);
  } catch {
    return fallback;
  }
  if (decoded.length > 512) return fallback;
  if (!decoded.startsWith('/') || decoded.startsWith('//') || decoded.startsWith('/\\')) return fallback;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\\\u0000-\u001f\u007f]/.test(decoded)) return fallback;
  if (/^\/*[a-z][a-z0-9+.-]*:/i.test(decoded)) return fallback;
  // A Location header carries Latin-1 only: spaces and non-ASCII characters go out percent-encoded
  // (a lone surrogate cannot be encoded and falls back).
  try {
    return decoded.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
  } catch {
    return fallback;
  }
}
