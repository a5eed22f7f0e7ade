/** Telegram's limit on one message's text. */
export const TELEGRAM_MAX_TEXT = 4096;

const ELLIPSIS = '…';

/** Escapes what Telegram's HTML parse mode reads as markup (its documented set: `&`, `<`, `>`). */
export function escapeTelegramHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The message the bot sends (08 §2): the title in bold, a newline, the message, every dynamic
 * value escaped. A longer text is cut at 4,093 characters plus `…`; the cut never splits an
 * entity (`&amp;`) or a surrogate pair. Titles are short (alert names, script titles ≤ 200), so
 * the cut falls in the message and the bold tag stays closed.
 */
export function telegramText(title: string, message: string): string {
  const full = `<b>${escapeTelegramHtml(title)}</b>\n${escapeTelegramHtml(message)}`;
  if (full.length <= TELEGRAM_MAX_TEXT) return full;
  const limit = TELEGRAM_MAX_TEXT - 3;
  let cut = full.slice(0, limit);
  const entity = cut.lastIndexOf('&');
  if (entity > cut.lastIndexOf(';')) cut = cut.slice(0, entity);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}${ELLIPSIS}`;
}
