/**
 * `${NAME}` / `${NAME?}` / `${NAME:-fallback}` / `$${` resolution over string values
 * (11-configuration.md §4). Keys are never resolved; resolved values are never scanned again.
 */

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const NAME = /^[A-Z_][A-Z0-9_]*$/;

export const ABSENT: unique symbol = Symbol('absent');

export type Env = Record<string, string | undefined>;

export interface EnvProblem {
  path: string;
  message: string;
}

/** Resolves one string. Returns ABSENT when an optional reference is unset or empty. */
export function resolveString(
  value: string,
  env: Env,
  path: string,
  problems: EnvProblem[],
): string | typeof ABSENT {
  let absent = false;
  const out = value.replace(REFERENCE, (match, inner: string | undefined) => {
    if (match === '$${') return '${';
    const body = inner ?? '';
    const fallbackAt = body.indexOf(':-');
    const optional = fallbackAt < 0 && body.endsWith('?');
    const name = fallbackAt >= 0 ? body.slice(0, fallbackAt) : optional ? body.slice(0, -1) : body;
    if (!NAME.test(name)) {
      problems.push({ path, message: `invalid environment reference "\${${body}}"` });
      return '';
    }
    const current = env[name];
    if (current !== undefined && current !== '') return current;
    if (fallbackAt >= 0) return body.slice(fallbackAt + 2);
    if (optional) {
      absent = true;
      return '';
    }
    problems.push({ path, message: `environment variable ${name} is not set` });
    return '';
  });
  return absent ? ABSENT : out;
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** Resolves every string in a parsed YAML tree; optional-unset keys and list items are removed. */
export function resolveTree(value: unknown, env: Env, problems: EnvProblem[], path = ''): unknown {
  if (typeof value === 'string') return resolveString(value, env, path, problems);
  if (Array.isArray(value)) {
    return value
      .map((item, index) => resolveTree(item, env, problems, join(path, index)))
      .filter((item) => item !== ABSENT);
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const resolved = resolveTree(child, env, problems, join(path, key));
      if (resolved !== ABSENT) out[key] = resolved;
    }
    return out;
  }
  return value;
}
