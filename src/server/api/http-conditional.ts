/**
 * Conditional and range requests for downloads (03 §5, RFC 9110 §13–14): pure functions of the
 * request headers and the file's validators, so every rule is testable without a socket.
 */

/** Strips a weak prefix: `If-None-Match` uses the weak comparison. */
function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/** `If-None-Match`: a comma-separated list compared weakly; `*` matches any current representation. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const wanted = opaque(etag);
  return header
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || (tag !== '' && opaque(tag) === wanted));
}

/**
 * `If-Range`: the range applies only while the validator still matches. An entity tag must match
 * strongly (a weak one never does); a date must equal `Last-Modified` exactly.
 */
export function ifRangeHolds(header: string | undefined, etag: string, lastModified: string): boolean {
  if (header === undefined) return true;
  const value = header.trim();
  if (value.startsWith('W/')) return false;
  if (value.startsWith('"')) return value === etag;
  const date = Date.parse(value);
  return !Number.isNaN(date) && date === Date.parse(lastModified);
}

export type RangeDecision =
  /** No usable single range: the whole body with 200 (absent, malformed or several ranges). */
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  /** 416 with `Content-Range: bytes *\/<size>`. */
  | { kind: 'unsatisfiable' };

const SPEC = /^(\d*)-(\d*)$/;

/**
 * `Range: bytes=a-b | a- | -n` (03 §5 data download). One range gives 206; several give the full body (no
 * multipart responses); a syntactically invalid header is ignored, as RFC 9110 §14.2 prescribes.
 */
export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  const match = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!match) return { kind: 'full' };
  const specs = (match[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length !== 1) return { kind: 'full' };
  const parts = SPEC.exec(specs[0]!);
  if (!parts) return { kind: 'full' };
  const [, first = '', last = ''] = parts;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}
