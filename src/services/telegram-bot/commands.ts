import type { TelegramChat, TelegramCodeResponse } from '../../contract/index.js';

/** What the bot asks the app (03 §19): a link code for a chat, and what a chat is linked to. */
export interface TelegramAppPort {
  /** A new code, or `null` when the chat turned out to be linked already (409 `already_linked`). */
  requestCode(chatId: number, telegramUsername: string | undefined): Promise<TelegramCodeResponse | null>;
  chat(chatId: number): Promise<TelegramChat>;
}

export interface ReplySettings {
  instanceName: string;
  /** `<server.public_url>/account`, or null when the public URL is not configured. */
  accountUrl: string | null;
  codeTtlMinutes: number;
}

/**
 * The replies of the bot's commands (08 §2), as plain text: Telegram shows it as it is, so an
 * account name or email can never be read as markup.
 */
export class CommandReplies {
  constructor(
    private readonly port: TelegramAppPort,
    private readonly settings: ReplySettings,
  ) {}

  async start(chatId: number, telegramUsername: string | undefined): Promise<string> {
    const current = await this.port.chat(chatId);
    if (current.linked) return linkedTo(current);
    const issued = await this.port.requestCode(chatId, telegramUsername);
    if (!issued) return linkedTo(await this.port.chat(chatId));
    const where = this.settings.accountUrl ?? `the account page of ${this.settings.instanceName}`;
    const minutes = this.settings.codeTtlMinutes;
    return [
      `Your link code: ${issued.code}`,
      `It is valid for ${minutes} minute${minutes === 1 ? '' : 's'} and works once.`,
      `Enter it under Telegram on ${where} to link this chat to your account.`,
    ].join('\n');
  }

  async status(chatId: number): Promise<string> {
    const chat = await this.port.chat(chatId);
    if (!chat.linked || !chat.user) return NOT_LINKED;
    return [
      linkedTo(chat),
      `Readable tables: ${chat.readable_tables}`,
      `Last data update: ${chat.last_data_update ? readableTime(chat.last_data_update) : 'never'}`,
      `Active alerts: ${chat.active_alerts}`,
      `Unread notifications: ${chat.unread_notifications}`,
    ].join('\n');
  }

  async whoami(chatId: number): Promise<string> {
    const chat = await this.port.chat(chatId);
    if (!chat.linked || !chat.user) return 'This chat is not linked.';
    return chat.user.name ? `${chat.user.name} <${chat.user.email}>` : chat.user.email;
  }

  help(): string {
    return HELP;
  }

  unknown(): string {
    return UNKNOWN;
  }
}

const NOT_LINKED = 'This chat is not linked to an account. Send /start to get a link code.';

export const HELP = [
  'Commands:',
  '/start - get a code to link this chat to your account',
  '/status - what your account can read, your alerts and unread notifications',
  '/whoami - the account this chat is linked to',
  '/help - this list',
].join('\n');

export const UNKNOWN = 'Unknown command. Send /help for the list of commands.';

function linkedTo(chat: TelegramChat): string {
  return `This chat is linked to ${chat.user?.email ?? 'an account'}.`;
}

/** `2026-03-15 12:00 UTC`: minutes are all a chat needs. */
function readableTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
