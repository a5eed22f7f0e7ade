/** Parameter redaction for the audit log (04 §8): secrets and free-text content never reach it. */

const SECRET_KEY = /password|token|secret|authorization|api_key|^code$|content|csrf/i;
const SQL_KEY = /^sql$|query$/i;
const MAX_SQL = 2_000;
const MAX_STRING = 500;
const MAX_DEPTH = 4;

export const REDACTED = '[redacted]';

export function redactParams(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[…]';
  if (Array.isArray(value)) return value.slice(0, 50).map((item) => redactParams(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    // A parameter that was not given is left out, not recorded as null.
    if (child === undefined) continue;
    if (SECRET_KEY.test(key)) out[key] = REDACTED;
    else if (SQL_KEY.test(key) && typeof child === 'string') out[key] = child.slice(0, MAX_SQL);
    else out[key] = redactParams(child, depth + 1);
  }
  return out;
}

export type AuditResult = 'ok' | 'denied' | 'error';

export function auditResult(statusCode: number): AuditResult {
  if (statusCode < 400) return 'ok';
  if (statusCode === 401 || statusCode === 403 || statusCode === 429) return 'denied';
  return 'error';
}
