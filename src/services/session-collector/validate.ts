/**
 * What makes an uploaded transcript acceptable (08 §5): within the size limit, UTF-8, and every
 * non-empty line a JSON value of at most 1 MiB. Also where it is filed: the month of its first
 * line's `timestamp` (08 §4.3), else the month it arrived.
 */

export const MAX_LINE_BYTES = 1024 * 1024;

export type Verdict =
  | { valid: true; month: { year: string; month: string } | null }
  | { valid: false; reason: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

export function validateTranscript(bytes: Uint8Array, maxBytes: number): Verdict {
  if (bytes.byteLength > maxBytes) return { valid: false, reason: `larger than ${maxBytes} bytes` };
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { valid: false, reason: 'not valid UTF-8' };
  }
  let first: unknown;
  let seen = false;
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (!line.trim()) continue;
    if (Buffer.byteLength(line, 'utf8') > MAX_LINE_BYTES)
      return { valid: false, reason: `line ${index + 1} is longer than 1 MiB` };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return { valid: false, reason: `line ${index + 1} is not JSON` };
    }
    if (!seen) {
      first = value;
      seen = true;
    }
  }
  return { valid: true, month: monthOf(first) };
}

function monthOf(first: unknown): { year: string; month: string } | null {
  const timestamp = (first as { timestamp?: unknown } | undefined)?.timestamp;
  if (typeof timestamp !== 'string') return null;
  const at = new Date(timestamp);
  if (Number.isNaN(at.getTime())) return null;
  const year = at.getUTCFullYear();
  if (year < 1970 || year > 9999) return null;
  return { year: String(year), month: String(at.getUTCMonth() + 1).padStart(2, '0') };
}

export function monthOfDate(at: Date): { year: string; month: string } {
  return { year: String(at.getUTCFullYear()), month: String(at.getUTCMonth() + 1).padStart(2, '0') };
}
