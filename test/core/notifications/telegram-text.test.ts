import { describe, expect, it } from 'vitest';
import { escapeTelegramHtml, telegramText } from '../../../src/core/notifications/telegram-text.js';

describe('telegramText', () => {
  it('puts the escaped title in bold above the escaped message', () => {
    expect(telegramText('<b>Orders & co</b>', 'rows < 10 > 5 & "quoted"')).toBe(
      '<b>&lt;b&gt;Orders &amp; co&lt;/b&gt;</b>\nrows &lt; 10 &gt; 5 &amp; "quoted"',
    );
    expect(escapeTelegramHtml('a&amp;b')).toBe('a&amp;amp;b');
  });

  it('keeps a text of exactly 4,096 characters whole', () => {
    const message = 'x'.repeat(4096 - '<b>T</b>\n'.length);
    expect(telegramText('T', message)).toBe(`<b>T</b>\n${message}`);
  });

  it('cuts a longer text at 4,093 characters plus an ellipsis', () => {
    const text = telegramText('Title', 'y'.repeat(5000));
    expect(text).toHaveLength(4094);
    expect(text.endsWith('y…')).toBe(true);
    expect(text.startsWith('<b>Title</b>\nyyy')).toBe(true);
  });

  it('never cuts through an escaped character or a surrogate pair', () => {
    const prefix = '<b>T</b>\n';
    const filler = 'z'.repeat(4093 - prefix.length - 2);
    const entity = telegramText('T', `${filler}<<<`);
    expect(entity).toBe(`${prefix}${filler}…`);
    const emoji = telegramText('T', `${'z'.repeat(4093 - prefix.length - 1)}😀😀😀`);
    expect(emoji).toBe(`${prefix}${'z'.repeat(4093 - prefix.length - 1)}…`);
  });
});
