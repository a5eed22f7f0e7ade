/**
 * A lexer for the few questions the guard asks of the caller's text rather than of its tree
 * (05 §3: clauses the parser drops). It follows DuckDB's scanner where the two could disagree
 * about what is code: standard strings (`''` doubles a quote, backslash is literal), `E'…'`
 * strings (backslash escapes), dollar quotes, double-quoted identifiers, `--` comments and nested
 * block comments. Strings and comments produce no token, so a keyword inside them never counts.
 * Anything it cannot close runs to the end of the text: such text does not parse, and the guard
 * has already refused it.
 */

export type SqlToken =
  | { kind: 'word'; text: string; lower: string; start: number }
  | { kind: 'quoted'; text: string; lower: string; start: number }
  | { kind: 'punct'; text: string; start: number; end: number };

/** Text the lexer skips as not code: a string literal (any quoting) or a comment. */
export interface SkippedSpan {
  kind: 'string' | 'comment';
  start: number;
  end: number;
}

// Sticky, so a word is matched where the scan stands without slicing the text.
const WORD = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y;
const WHITESPACE = /\s/;

function skipQuoted(sql: string, from: number, quote: string, backslash: boolean): number {
  let i = from;
  while (i < sql.length) {
    const ch = sql[i];
    if (backslash && ch === '\\') i += 2;
    else if (ch === quote && sql[i + 1] === quote) i += 2;
    else if (ch === quote) return i + 1;
    else i += 1;
  }
  return i;
}

function skipBlockComment(sql: string, from: number): number {
  let depth = 1;
  let i = from + 2;
  while (i < sql.length && depth > 0) {
    if (sql.startsWith('/*', i)) {
      depth += 1;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth -= 1;
      i += 2;
    } else i += 1;
  }
  return i;
}

const DOLLAR_TAG = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/;

function wordAt(sql: string, at: number): boolean {
  WORD.lastIndex = at;
  const code = sql.charCodeAt(at);
  // Letters and underscore inline; the regex (for the rest of Unicode) only when it may match.
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95 || code >= 128;
}

/**
 * The code tokens of `sql`. `skipped`, when given, receives the strings and comments the tokens
 * leave out (policy filters refuse comments and placeholders inside strings, 12 §2).
 */
export function tokenize(sql: string, skipped?: SkippedSpan[]): SqlToken[] {
  const tokens: SqlToken[] = [];
  let i = 0;
  const skip = (kind: SkippedSpan['kind'], start: number, end: number) => {
    skipped?.push({ kind, start, end });
    i = end;
  };
  while (i < sql.length) {
    const ch = sql[i] as string;
    if (ch <= ' ' || (ch > '~' && WHITESPACE.test(ch))) {
      i += 1;
    } else if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      skip('comment', i, end === -1 ? sql.length : end + 1);
    } else if (sql.startsWith('/*', i)) {
      skip('comment', i, skipBlockComment(sql, i));
    } else if (ch === "'") {
      skip('string', i, skipQuoted(sql, i + 1, "'", false));
    } else if ((ch === 'e' || ch === 'E') && sql[i + 1] === "'") {
      skip('string', i, skipQuoted(sql, i + 2, "'", true));
    } else if (ch === '"') {
      const end = skipQuoted(sql, i + 1, '"', false);
      const text = sql.slice(i + 1, end - 1).replaceAll('""', '"');
      tokens.push({ kind: 'quoted', text, lower: text.toLowerCase(), start: i });
      i = end;
    } else if (ch === '$' && DOLLAR_TAG.test(sql.slice(i, i + 64))) {
      const tag = (DOLLAR_TAG.exec(sql.slice(i, i + 64)) as RegExpExecArray)[0];
      const end = sql.indexOf(tag, i + tag.length);
      skip('string', i, end === -1 ? sql.length : end + tag.length);
    } else if (wordAt(sql, i)) {
      const text = WORD.exec(sql)?.[0] as string;
      tokens.push({ kind: 'word', text, lower: text.toLowerCase(), start: i });
      i += text.length;
    } else {
      tokens.push({ kind: 'punct', text: ch, start: i, end: i + 1 });
      i += 1;
    }
  }
  return tokens;
}

/** Keyword tokens (unquoted words) equal to `keyword`, lower case. */
export function countKeyword(tokens: readonly SqlToken[], keyword: string): number {
  let count = 0;
  for (const token of tokens) if (token.kind === 'word' && token.lower === keyword) count += 1;
  return count;
}

/** Index of the `)` closing the `(` at `open`, or -1. */
function closingParen(tokens: readonly SqlToken[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const token = tokens[i] as SqlToken;
    if (token.kind !== 'punct') continue;
    if (token.text === '(') depth += 1;
    else if (token.text === ')' && --depth === 0) return i;
  }
  return -1;
}

/**
 * The text inside the parentheses of every named window (`WINDOW w AS (…), v AS (…)`), used or
 * not: DuckDB's parser inlines used windows into their `OVER` and drops the rest, so the walk
 * never sees an unused one. `null` when a WINDOW clause has a shape this lexer does not follow.
 */
export function namedWindowSpecs(sql: string, tokens: readonly SqlToken[]): string[] | null {
  const specs: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as SqlToken;
    if (token.kind !== 'word' || token.lower !== 'window') continue;
    // `AS window` is an alias, not a clause (WINDOW is reserved everywhere else).
    const previous = tokens[i - 1];
    if (previous?.kind === 'word' && previous.lower === 'as') continue;
    let at = i + 1;
    for (;;) {
      const name = tokens[at];
      const as = tokens[at + 1];
      const open = tokens[at + 2];
      if (!name || name.kind === 'punct' || as?.kind !== 'word' || as.lower !== 'as') return null;
      if (open?.kind !== 'punct' || open.text !== '(') return null;
      const close = closingParen(tokens, at + 2);
      if (close === -1) return null;
      specs.push(sql.slice(open.end, (tokens[close] as { start: number }).start));
      const next = tokens[close + 1];
      if (next?.kind === 'punct' && next.text === ',') at = close + 2;
      else {
        i = close;
        break;
      }
    }
  }
  return specs;
}
