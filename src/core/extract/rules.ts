import { posix } from 'node:path';
import { hasControlCharacters } from '../duckdb/sql.js';
import { ENV_NAME_PATTERN, isValidViewName, SOURCE_NAME_PATTERN } from '../ids.js';
import { SHA256_HEX } from '../sync/hashing.js';
import type { ColumnRule, FilesRow, MetaRow, RemoteAttachRow } from './contract.js';

/**
 * Pure checks of the contract rules, shared by the validator and the orchestrator so both judge
 * an extract the same way. Each returns a message, or null when the value is fine.
 */

export function checkColumns(
  table: string,
  actual: readonly { name: string; type: string }[],
  rules: readonly ColumnRule[],
): string | null {
  const expected = rules.map((r) => `${r.name} ${r.label}`).join(', ');
  if (actual.length !== rules.length) return `${table} must have exactly the columns (${expected})`;
  for (const [i, rule] of rules.entries()) {
    const column = actual[i]!;
    if (column.name !== rule.name || !rule.accepts(column.type)) {
      return `${table} must have exactly the columns (${expected}); column ${i + 1} is ${column.name} ${column.type}`;
    }
  }
  return null;
}

export function checkTableName(name: string): string | null {
  if (!isValidViewName(name)) return 'does not match identifier pattern or starts with _';
  return null;
}

export function checkMetaValues(row: MetaRow): string | null {
  if (row.query_mode !== 'local' && row.query_mode !== 'remote') return 'query_mode must be local or remote';
  if (row.rows !== null && row.rows < 0) return 'rows must be NULL or >= 0';
  if (row.size_bytes !== null && row.size_bytes < 0) return 'size_bytes must be NULL or >= 0';
  return null;
}

const CREDENTIAL_PARAMETER = /(^|[?&;\s])(token|password|secret|key)=/i;

export function checkRemoteAttach(row: RemoteAttachRow): string | null {
  if (!SOURCE_NAME_PATTERN.test(row.alias ?? '')) return 'alias is not an identifier';
  if (!SOURCE_NAME_PATTERN.test(row.extension ?? '')) return 'extension is not an identifier';
  if (row.token_env && !ENV_NAME_PATTERN.test(row.token_env))
    return 'token_env is not an environment variable name';
  if (typeof row.url !== 'string' || hasControlCharacters(row.url)) return 'url contains control characters';
  if (CREDENTIAL_PARAMETER.test(row.url)) return 'url contains a credential-looking parameter';
  return null;
}

/** A `_files` path: relative, normalised, no `..`, inside `data/`. */
export function checkRelativeDataPath(path: string): string | null {
  if (typeof path !== 'string' || path === '' || hasControlCharacters(path))
    return 'path is empty or has control characters';
  if (path.startsWith('/') || path.includes('\\')) return 'path must be relative to data/';
  if (
    posix.normalize(path) !== path ||
    path.split('/').some((part) => part === '..' || part === '.' || part === '')
  ) {
    return 'path must be normalised and stay inside data/';
  }
  return null;
}

export function checkFilesRow(row: FilesRow): string | null {
  const pathProblem = checkRelativeDataPath(row.path);
  if (pathProblem) return pathProblem;
  if (!SHA256_HEX.test(row.sha256 ?? '')) return 'sha256 must be 64 lower-case hex characters';
  if (!(row.size_bytes >= 0)) return 'size_bytes must be >= 0';
  return null;
}

/** True when `child` is `parent` or lies beneath it (both absolute, already resolved). */
export function isInside(parent: string, child: string): boolean {
  const rel = posix.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !posix.isAbsolute(rel);
}
