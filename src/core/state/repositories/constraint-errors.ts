import { AgnesError, type ErrorCode } from '../../errors.js';

/**
 * Driver error codes of constraint violations: better-sqlite3 names them, Postgres uses SQLSTATE.
 * Mapping both here keeps every repository dialect-neutral.
 */
const UNIQUE_CODES: ReadonlySet<string> = new Set([
  'SQLITE_CONSTRAINT_UNIQUE',
  'SQLITE_CONSTRAINT_PRIMARYKEY',
  '23505',
]);
const FOREIGN_KEY_CODES: ReadonlySet<string> = new Set(['SQLITE_CONSTRAINT_FOREIGNKEY', '23503']);

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function isUniqueViolation(error: unknown): boolean {
  return UNIQUE_CODES.has(codeOf(error) ?? '');
}

function isForeignKeyViolation(error: unknown): boolean {
  return FOREIGN_KEY_CODES.has(codeOf(error) ?? '');
}

export interface ViolationMessages {
  /** Detail of the `conflict` error raised for a unique violation. */
  unique?: string;
  /** The code of that error, when the API names the clash more precisely than `conflict`. */
  uniqueCode?: ErrorCode;
  /** Detail of the `not_found` error raised when a referenced row does not exist. */
  foreignKey?: string;
}

/** Awaits `work`, turning the named constraint violations into client-safe AgnesErrors. */
export async function translateViolations<T>(work: Promise<T>, messages: ViolationMessages): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (messages.unique !== undefined && isUniqueViolation(error)) {
      throw new AgnesError(messages.uniqueCode ?? 'conflict', messages.unique, { cause: error });
    }
    if (messages.foreignKey !== undefined && isForeignKeyViolation(error)) {
      throw new AgnesError('not_found', messages.foreignKey, { cause: error });
    }
    throw error;
  }
}
