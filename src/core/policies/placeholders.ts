import { AgnesError } from '../errors.js';
import { type SkippedSpan, type SqlToken, tokenize } from '../query/sql-tokens.js';

/**
 * The lexical rules of a policy filter (12 §2): what is decided on the text before the parser
 * sees it. Placeholders are not SQL, so they are found here, as whole tokens of code, and replaced
 * by parameters (template) or engine-built literals (binding) before parsing. The tokenizer is the
 * guard's, so a string, a quoted identifier or a comment is seen exactly as the guard sees it.
 */

export const ATTRIBUTE_KEY_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;
export const MAX_FILTER_CHARS = 4_000;

export type Placeholder =
  | { kind: 'email' }
  | { kind: 'id' }
  | { kind: 'groups' }
  | { kind: 'attr'; key: string };

/** One placeholder of a filter text: its span (braces included) and what it stands for. */
export interface PlaceholderUse {
  start: number;
  end: number;
  /** The placeholder as written, e.g. `{{user.attr.regions}}`; never anything but a valid name. */
  text: string;
  placeholder: Placeholder;
}

const PLACEHOLDER_SHAPE = /\{\{[^{}]*\}\}/g;
const KNOWN: Readonly<Record<string, Placeholder>> = {
  'user.email': { kind: 'email' },
  'user.id': { kind: 'id' },
  'user.groups': { kind: 'groups' },
};
const ATTR_PREFIX = 'user.attr.';

export const invalidPolicy = (detail: string) => new AgnesError('invalid_policy', detail);

function parsePlaceholder(inner: string): Placeholder {
  // Own properties only: `{{constructor}}` must not find Object's.
  if (Object.hasOwn(KNOWN, inner)) return KNOWN[inner] as Placeholder;
  if (inner.startsWith(ATTR_PREFIX)) {
    const key = inner.slice(ATTR_PREFIX.length);
    if (!ATTRIBUTE_KEY_PATTERN.test(key))
      throw invalidPolicy('the key of a {{user.attr.<key>}} placeholder must match ^[a-z][a-z0-9_]{0,39}$');
    return { kind: 'attr', key };
  }
  throw invalidPolicy(
    'unknown placeholder: use {{user.email}}, {{user.id}}, {{user.groups}} or {{user.attr.<key>}}',
  );
}

/**
 * The rules every filter text obeys, template or bound: no comment, one expression (no `;`), no
 * query parameter of its own, and parentheses that close within the text, so that the wrapper
 * `WHERE (<filter>\n)` and the `(…) OR (…)` of several policies keep their meaning.
 */
function checkCode(tokens: readonly SqlToken[], skipped: readonly SkippedSpan[]): void {
  if (skipped.some((span) => span.kind === 'comment'))
    throw invalidPolicy('comments (-- and /* */) are not allowed in a policy filter');
  let depth = 0;
  for (const token of tokens) {
    if (token.kind !== 'punct') continue;
    if (token.text === ';') throw invalidPolicy('a policy filter is one expression; ";" is not allowed');
    if (token.text === '$' || token.text === '?')
      throw invalidPolicy('query parameters are not allowed in a policy filter; use a placeholder');
    if (token.text === '(') depth += 1;
    else if (token.text === ')' && --depth < 0)
      throw invalidPolicy('the parentheses of the filter do not balance');
  }
  if (depth !== 0) throw invalidPolicy('the parentheses of the filter do not balance');
}

/** Lexical check of a filter template; returns its placeholders in text order. */
export function scanTemplate(filter: string): PlaceholderUse[] {
  if (filter.length > MAX_FILTER_CHARS)
    throw invalidPolicy(`a policy filter has at most ${MAX_FILTER_CHARS} characters`);
  if (filter.trim() === '') throw invalidPolicy('the filter is empty; use null for all rows');
  const skipped: SkippedSpan[] = [];
  const tokens = tokenize(filter, skipped);
  checkCode(tokens, skipped);
  const codeBraces = new Set<number>();
  for (const token of tokens) if (token.kind === 'punct' && token.text === '{') codeBraces.add(token.start);
  const uses: PlaceholderUse[] = [];
  for (const match of filter.matchAll(PLACEHOLDER_SHAPE)) {
    if (!codeBraces.has(match.index))
      throw invalidPolicy('a placeholder inside a string literal or a quoted identifier is not allowed');
    const placeholder = parsePlaceholder(match[0].slice(2, -2));
    uses.push({ start: match.index, end: match.index + match[0].length, text: match[0], placeholder });
  }
  const starts = new Set(uses.map((use) => use.start));
  for (const at of codeBraces)
    if (codeBraces.has(at + 1) && !starts.has(at))
      throw invalidPolicy('a placeholder is written {{user.<name>}}, with nothing else between the braces');
  return uses;
}

/** Lexical check of a bound filter: values are string literals now, so only the code rules apply. */
export function scanBound(bound: string): void {
  const skipped: SkippedSpan[] = [];
  checkCode(tokenize(bound, skipped), skipped);
}

/**
 * The text with each placeholder replaced by `replacement(use, index)`, set apart by spaces so
 * that it can never merge with a neighbouring token.
 */
export function substitute(
  filter: string,
  uses: readonly PlaceholderUse[],
  replacement: (use: PlaceholderUse, index: number) => string,
): string {
  let text = '';
  let at = 0;
  uses.forEach((use, index) => {
    text += `${filter.slice(at, use.start)} ${replacement(use, index)} `;
    at = use.end;
  });
  return text + filter.slice(at);
}
