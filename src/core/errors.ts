/**
 * The registry of stable error codes. Every code maps to one HTTP status; the server's error
 * mapper, the CLI and the UI switch on `code`, never on message text.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_name: 400,
  unauthorized: 401,
  forbidden: 403,
  forbidden_role: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  rebuild_locked: 409,
  payload_too_large: 413,
  validation_failed: 422,
  rate_limited: 429,
  internal_error: 500,
  upstream_error: 502,
  not_configured: 503,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error whose `detail` is safe to show to a client: no paths, secrets or stack traces. */
export class AgnesError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;

  constructor(code: ErrorCode, detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.name = 'AgnesError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.detail = detail;
  }
}

export function isAgnesError(error: unknown): error is AgnesError {
  return error instanceof AgnesError;
}

/** Message of an unknown thrown value, for logs and internal reports only. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
