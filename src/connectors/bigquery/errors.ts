import { HttpFailure } from '../../core/http/retry.js';
import { untrustedLine } from '../../core/text/untrusted.js';

/** Failure classes of BigQuery calls; each becomes a per-table failure code. */
export type BigQueryErrorCode =
  | 'credentials_required'
  | 'auth_failed'
  | 'not_found'
  | 'upstream_failed'
  | 'timeout'
  | 'unsupported_query_mode';

export class BigQueryError extends Error {
  constructor(
    readonly code: BigQueryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BigQueryError';
  }
}

/** Maps a failed request to a code; `who` names the refusing party without any credential. */
export function fromHttpFailure(error: unknown, who: string): unknown {
  if (!(error instanceof HttpFailure)) return error;
  if (error.kind === 'timeout') return new BigQueryError('timeout', error.message);
  if (error.status === 401 || error.status === 403)
    return new BigQueryError('auth_failed', `${who} refused the credentials (HTTP ${error.status})`);
  if (error.status === 404)
    return new BigQueryError('not_found', error.message.replace(/HTTP 404$/, 'not found'));
  return new BigQueryError('upstream_failed', error.message);
}

/** Reads a JSON body; a cut or non-JSON body is an upstream failure, not a crash. */
export async function readJson(response: Response, what: string): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    throw new BigQueryError('upstream_failed', `response of ${what} is not complete JSON`);
  }
}

/** Upstream text is untrusted (07 §0 common model): control characters out, length-limited. */
export function untrustedText(text: string): string {
  return untrustedLine(text, 1000);
}
