/** Quoting for the few places where a name or path must be spliced into DuckDB SQL. */

// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find control characters
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export function hasControlCharacters(value: string): boolean {
  return CONTROL_CHARACTERS.test(value);
}

/** Double-quoted identifier. Callers validate names first; quoting is the second line. */
export function quoteIdent(name: string): string {
  if (hasControlCharacters(name)) throw new Error('identifier contains control characters');
  return `"${name.replaceAll('"', '""')}"`;
}

/** Single-quoted string literal (paths, URLs). Control characters are refused outright. */
export function quoteLiteral(value: string): string {
  if (hasControlCharacters(value)) throw new Error('literal contains control characters');
  return `'${value.replaceAll("'", "''")}'`;
}

/** String literal for free text such as SQL handed to the parser: newlines and tabs are fine, NUL is not. */
export function quoteText(value: string): string {
  if (value.includes('\u0000')) throw new Error('text contains NUL');
  return `'${value.replaceAll("'", "''")}'`;
}
