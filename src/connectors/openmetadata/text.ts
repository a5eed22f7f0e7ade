/**
 * Upstream text is untrusted (07 §0 common model). OpenMetadata stores descriptions as HTML from
 * its rich-text editor; the catalog shows plain text, so markup is removed rather than sanitised:
 * what leaves here is text, never HTML, and it is rendered escaped.
 */

/** Longest description kept; longer ones are cut with an ellipsis. */
export const MAX_DESCRIPTION_CHARS = 4000;
/** Names, tags, owners and other one-line values. */
export const MAX_LABEL_CHARS = 200;

// Elements whose content is code or styling, never text to show.
const HIDDEN_ELEMENTS =
  /<(script|style|template|noscript|iframe|object|svg|math)\b[^>]*>[\s\S]*?(?:<\/\1\s*>|$)/gi;
const COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
const DECLARATION = /<![^>]*>|<\?[^>]*>/g;
const LIST_ITEM = /<li\b[^>]*>/gi;
const BLOCK_BREAK =
  /<\/?(?:p|div|br|hr|h[1-6]|ul|ol|li|tr|table|thead|tbody|blockquote|pre|section|article|header|footer|dl|dt|dd)\b[^>]*>/gi;
const CELL = /<\/?t[dh]\b[^>]*>/gi;
const TAG = /<\/?[a-zA-Z][^>]*>/g;

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  laquo: '«',
  raquo: '»',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  bull: '•',
  middot: '·',
  copy: '©',
  reg: '®',
  trade: '™',
  deg: '°',
  euro: '€',
  times: '×',
};
const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]{2,8}));/g;

function codePoint(value: number): string {
  const valid = value > 0 && value <= 0x10ffff && !(value >= 0xd800 && value <= 0xdfff);
  return valid ? String.fromCodePoint(value) : '\uFFFD';
}

/** Decodes numeric entities and the common named ones; unknown names stay as written. */
export function decodeEntities(text: string): string {
  return text.replace(
    ENTITY,
    (match, decimal: string | undefined, hex: string | undefined, name?: string) => {
      if (decimal !== undefined) return codePoint(Number.parseInt(decimal, 10));
      if (hex !== undefined) return codePoint(Number.parseInt(hex, 16));
      return NAMED_ENTITIES[name ?? ''] ?? match;
    },
  );
}

// C0 and C1 controls except tab and newline, plus zero-width and bidirectional overrides that can
// disguise text; tabs become spaces below.
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** Cuts to `max` characters (whole code points), marking the cut with an ellipsis. */
export function limitLength(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Multi-line plain text: controls removed, blank runs collapsed, length-limited. */
export function plainText(text: string, max: number = MAX_DESCRIPTION_CHARS): string {
  const cleaned = text
    .replace(/\r\n?/g, '\n')
    .replace(CONTROL, '')
    .replace(/[\t\u00a0]/g, ' ')
    .split('\n')
    .map((line) => line.replace(/ {2,}/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return limitLength(cleaned, max);
}

/** Code (a metric's expression): controls removed but line breaks and indentation kept. */
export function codeText(text: string, max: number): string {
  return limitLength(text.replace(/\r\n?/g, '\n').replace(CONTROL, '').trim(), max);
}

/** One-line text (a name, a tag, an owner): every line break becomes a space. */
export function labelText(value: unknown, max: number = MAX_LABEL_CHARS): string {
  if (typeof value !== 'string') return '';
  return plainText(value.replace(/[\r\n]+/g, ' '), max);
}

/** An HTML (or plain) description from upstream → plain text; null when nothing remains. */
export function htmlToText(value: unknown, max: number = MAX_DESCRIPTION_CHARS): string | null {
  if (typeof value !== 'string') return null;
  const text = value
    .replace(COMMENT, '')
    .replace(HIDDEN_ELEMENTS, '')
    .replace(DECLARATION, '')
    .replace(LIST_ITEM, '\n- ')
    .replace(BLOCK_BREAK, '\n')
    .replace(CELL, ' ')
    .replace(TAG, '');
  const plain = plainText(decodeEntities(text), max);
  return plain === '' ? null : plain;
}
