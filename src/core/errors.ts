/**
 * The registry of stable error codes, each documented in docs/errors.md. Every code maps to one
 * HTTP status; the server's error mapper, the CLI and the UI switch on `code`, never on message text.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_name: 400,
  invalid_filename: 400,
  invalid_metric_path: 400,
  no_password: 400,
  unknown_table: 400,
  empty_query: 400,
  multiple_statements: 400,
  invalid_sql: 400,
  not_select: 400,
  unsupported_construct: 400,
  invalid_table_reference: 400,
  forbidden_function: 400,
  query_failed: 400,
  empty_payload: 400,
  invalid_json: 400,
  not_an_object: 400,
  invalid_event: 400,
  invalid_issue_key: 400,
  invalid_code: 400,
  empty_source: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  invalid_token: 401,
  invalid_link: 401,
  invalid_bootstrap_token: 401,
  invalid_signature: 401,
  forbidden: 403,
  forbidden_role: 403,
  csrf_failed: 403,
  bootstrap_disabled: 403,
  no_access: 403,
  table_forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  query_timeout: 408,
  request_timeout: 408,
  conflict: 409,
  rebuild_locked: 409,
  email_exists: 409,
  name_exists: 409,
  last_admin: 409,
  too_many_tokens: 409,
  already_pending: 409,
  already_granted: 409,
  too_many_pending: 409,
  not_pending: 409,
  table_unregistered: 409,
  already_registered: 409,
  multi_file_table: 409,
  stale_manifest: 409,
  remote_table: 409,
  service_account: 409,
  too_many_alerts: 409,
  alert_disabled: 409,
  chat_linked_elsewhere: 409,
  already_linked: 409,
  duplicate: 409,
  not_votable: 409,
  invalid_transition: 409,
  policy_exists: 409,
  payload_too_large: 413,
  sql_too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  validation_failed: 422,
  password_policy: 422,
  invalid_dataset: 422,
  unknown_tables: 422,
  invalid_policy: 422,
  rate_limited: 429,
  too_many_queries: 429,
  server_busy: 429,
  too_many_runs: 429,
  internal_error: 500,
  metric_invalid: 500,
  upstream_error: 502,
  not_configured: 503,
  email_not_configured: 503,
  unavailable: 503,
  sandbox_unavailable: 503,
  webhook_secret_not_configured: 503,
  jira_not_configured: 503,
  scripts_disabled: 503,
  isolation_unavailable: 503,
  runtime_unavailable: 503,
  slice_pending: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error whose `detail` is safe to show to a client: no paths, secrets or stack traces. */
export class AgnesError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;

  /** Extra fields for the response body (e.g. `status` of a request that is no longer pending). */
  readonly extra: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    detail: string,
    options?: { cause?: unknown; status?: number; extra?: Record<string, unknown> },
  ) {
    super(detail, options);
    this.name = 'AgnesError';
    this.code = code;
    // A few codes keep one name across two statuses, e.g. `invalid_token`: 401 for a session,
    // 400 for a one-time link token in a form.
    this.status = options?.status ?? ERROR_STATUS[code];
    this.detail = detail;
    this.extra = options?.extra;
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
