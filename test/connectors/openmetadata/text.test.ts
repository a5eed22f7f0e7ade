import { describe, expect, it } from 'vitest';
import {
  codeText,
  decodeEntities,
  htmlToText,
  labelText,
  limitLength,
  plainText,
} from '../../../src/connectors/openmetadata/text.js';

/** Untrusted upstream text (07 §0): HTML descriptions become plain text, controls go, length is capped. */
describe('htmlToText', () => {
  it('turns paragraphs, breaks and list items into lines and drops the markup', () => {
    const html =
      '<p>Orders placed <strong>online</strong>.</p><ul><li>one</li><li>two</li></ul><p>Line<br/>break</p>';
    expect(htmlToText(html)).toBe('Orders placed online.\n\n- one\n\n- two\n\nLine\nbreak');
  });

  it('drops scripts, styles and comments with their content, also when left open', () => {
    expect(htmlToText('<p>Safe</p><script>alert("x")</script><style>p{}</style><!-- note -->')).toBe('Safe');
    expect(htmlToText('Before<SCRIPT type="text/javascript">steal()')).toBe('Before');
    expect(htmlToText('<iframe src="https://evil.example">inside</iframe>after')).toBe('after');
  });

  it('decodes entities after removing tags, so encoded markup stays text', () => {
    expect(htmlToText('<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; more&nbsp;text</p>')).toBe(
      '<script>alert(1)</script> & more text',
    );
  });

  it('keeps a lone less-than sign that starts no tag', () => {
    expect(htmlToText('a < b and c > d')).toBe('a < b and c > d');
  });

  it('strips control characters and bidirectional overrides', () => {
    expect(htmlToText('Revenue\u0000\u0007 in \u202eEUR\u202c\u200b\u009b')).toBe('Revenue in EUR');
  });

  it('caps the length with an ellipsis, counting code points', () => {
    const text = htmlToText(`<p>${'😀'.repeat(50)}</p>`, 10);
    expect(Array.from(text ?? '')).toHaveLength(10);
    expect(text?.endsWith('…')).toBe(true);
  });

  it('gives null for anything but a string, and for markup without text', () => {
    expect(htmlToText(undefined)).toBeNull();
    expect(htmlToText(42)).toBeNull();
    expect(htmlToText('<p> </p><br>')).toBeNull();
  });
});

describe('decodeEntities', () => {
  it('decodes numeric and named entities, and keeps unknown or invalid ones safe', () => {
    expect(decodeEntities('&#65;&#x42;&quot;&apos;&euro;')).toBe('AB"\'€');
    expect(decodeEntities('&unknown; &#0; &#xD800; &#x110000;')).toBe('&unknown; \uFFFD \uFFFD \uFFFD');
  });
});

describe('plain, label and code text', () => {
  it('collapses blank runs and spaces in plain text', () => {
    expect(plainText('  a\t\tb \r\n\r\n\r\n\r\nc  ')).toBe('a b\n\nc');
  });

  it('keeps labels on one line and ignores non-strings', () => {
    expect(labelText('Sales\nTeam\u0001')).toBe('Sales Team');
    expect(labelText({ name: 'x' })).toBe('');
  });

  it('keeps indentation and line breaks of code but not control characters', () => {
    expect(codeText('SELECT\n    sum(amount)\u0000\n  FROM orders\r\n', 100)).toBe(
      'SELECT\n    sum(amount)\n  FROM orders',
    );
  });

  it('leaves text within the limit untouched', () => {
    expect(limitLength('short', 5)).toBe('short');
    expect(limitLength('longer', 5)).toBe('long…');
  });
});
