import { AgnesError, errorMessage } from '../errors.js';

/** Engine errors as client errors (05 §7): mapped by class, never passed through raw. */

const MAX_DETAIL = 300;

export interface EngineErrorContext {
  /** DATA_DIR, replaced wherever it appears. */
  dataDir: string;
  /** Values of configured secret variables, removed wherever they appear. */
  secrets: readonly string[];
  /** The engine's timer interrupted the query. */
  timedOut: boolean;
  timeoutSeconds: number;
  /** The engine interrupted the query because the server is stopping. */
  shuttingDown: boolean;
  /**
   * Called for refusals inside the engine (a file outside the allow-list, a view or function the
   * sandbox does not have): each one means a statement got past the tree walk.
   */
  onPossibleBypass(message: string): void;
}

const MISSING_IN_SANDBOX =
  /^Catalog Error: (Table|Table Function|Scalar Function|Macro Function) with name .* does not exist/;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * First line only; "Did you mean …" suggestions and candidate lists removed (they can name
 * catalogs of attached sources); secrets, DATA_DIR and absolute paths replaced; 300 characters.
 */
export function sanitizeEngineMessage(message: string, dataDir: string, secrets: readonly string[]): string {
  let line = (message.split('\n')[0] ?? '').trim();
  line = line.replace(/\s*(Did you mean|Candidate bindings|Candidate tables)\b.*$/i, '');
  for (const secret of secrets) if (secret.length >= 4) line = line.replaceAll(secret, '<redacted>');
  // URLs first: their `//` would otherwise read as an absolute path after the scheme.
  line = line.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"),\]]*/gi, '<path>');
  // DATA_DIR with whatever follows it, even where it is not preceded by a separator.
  if (dataDir) line = line.replace(new RegExp(`${escapeRegExp(dataDir)}[^\\s'"),\\]]*`, 'g'), '<path>');
  line = line.replace(/(^|[\s'"(=:,[])\/[^\s'"),\]]*/g, '$1<path>');
  if (line.length > MAX_DETAIL) line = `${line.slice(0, MAX_DETAIL - 1)}…`;
  return line || 'the query failed';
}

export function mapEngineError(error: unknown, context: EngineErrorContext): AgnesError {
  if (error instanceof AgnesError) return error;
  const message = errorMessage(error);
  if (/INTERRUPT/i.test(message) || context.timedOut) {
    if (context.shuttingDown && !context.timedOut)
      return new AgnesError('unavailable', 'the server is shutting down; the query was interrupted');
    return new AgnesError('query_timeout', `query timed out after ${context.timeoutSeconds} s`);
  }
  if (/^Parser Error/.test(message))
    return new AgnesError(
      'invalid_sql',
      sanitizeEngineMessage(message.replace(/^Parser Error:\s*/, ''), context.dataDir, context.secrets),
    );
  if (/^Permission Error/.test(message)) {
    context.onPossibleBypass(message);
    return new AgnesError('query_failed', 'access to external resources is not allowed');
  }
  // The walk admits only readable views and allow-listed functions, all of which the sandbox has.
  if (MISSING_IN_SANDBOX.test(message)) context.onPossibleBypass(message);
  if (/^Out of Memory Error/.test(message)) {
    if (/temp|disk|spill|max_temp_directory_size/i.test(message))
      return new AgnesError('query_failed', 'query exceeded the temporary storage limit');
    return new AgnesError('query_failed', 'query exceeded the memory limit');
  }
  if (error instanceof RangeError || /Cannot create a string longer|Invalid string length/.test(message))
    return new AgnesError('query_failed', 'a result value is too large to return');
  return new AgnesError('query_failed', sanitizeEngineMessage(message, context.dataDir, context.secrets));
}
