/**
 * Atlassian Document Format → plain text (07 §5.4, §5.7): text nodes concatenated; paragraphs,
 * headings, list items and hard breaks separated by `\n`; a mention renders its `text`, an inline
 * card its URL. A plain string (API v2 fields) is returned as it is.
 */

type Node = Record<string, unknown>;

const BLOCKS = new Set([
  'paragraph',
  'heading',
  'listItem',
  'codeBlock',
  'blockquote',
  'panel',
  'tableCell',
  'tableHeader',
  'rule',
  'mediaSingle',
]);

function isNode(value: unknown): value is Node {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function attr(node: Node, name: string): string {
  const attrs = isNode(node.attrs) ? node.attrs : {};
  const value = attrs[name];
  return typeof value === 'string' ? value : '';
}

export function adfToText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (!isNode(value)) return null;
  const lines: string[] = [];
  let line = '';
  const flush = () => {
    if (line !== '') lines.push(line);
    line = '';
  };
  const visit = (node: Node, depth: number): void => {
    // Documents are shallow; a pathological nesting depth is cut rather than overflowing the stack.
    if (depth > 100) return;
    switch (node.type) {
      case 'text':
        line += typeof node.text === 'string' ? node.text : '';
        return;
      case 'mention':
        line += attr(node, 'text');
        return;
      case 'inlineCard':
      case 'blockCard':
        line += attr(node, 'url');
        return;
      case 'emoji':
        line += attr(node, 'text') || attr(node, 'shortName');
        return;
      case 'hardBreak':
        lines.push(line);
        line = '';
        return;
    }
    const block = BLOCKS.has(String(node.type));
    if (block) flush();
    for (const child of Array.isArray(node.content) ? node.content : [])
      if (isNode(child)) visit(child, depth + 1);
    if (block) flush();
  };
  visit(value, 0);
  flush();
  return lines.join('\n');
}
