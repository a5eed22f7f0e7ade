import { createHash, randomInt } from 'node:crypto';
import {
  LINK_CODE_ALPHABET,
  LINK_CODE_LENGTH,
  type TelegramChat,
  type TelegramCodeResponse,
  type TelegramStatus,
} from '../../contract/index.js';
import { loadAccessView } from '../access/access.js';
import type { Principal } from '../access/decide.js';
import { principalOfUser } from '../access/principal.js';
import type { InstanceConfig } from '../config/index.js';
import { AgnesError } from '../errors.js';
import type { Repositories } from '../state/repositories/index.js';

/** Telegram linking (03 §19, 08 §2, §9): codes for chats, links for users, a chat's summary. */

export interface TelegramDeps {
  repos: Repositories;
  config: Pick<InstanceConfig, 'telegram'>;
}

/** Eight characters of a 32-letter alphabet from the CSPRNG: 40 bits, uniformly drawn. */
export function generateLinkCode(): string {
  let code = '';
  for (let i = 0; i < LINK_CODE_LENGTH; i += 1)
    code += LINK_CODE_ALPHABET[randomInt(LINK_CODE_ALPHABET.length)];
  return code;
}

/**
 * The code as stored: people retype codes in lower case or with spaces, so those are forgiven;
 * anything else outside the alphabet cannot be a code.
 */
export function normaliseLinkCode(input: string): string | null {
  const code = input.replace(/[\s-]+/g, '').toUpperCase();
  if (code.length !== LINK_CODE_LENGTH) return null;
  for (const char of code) if (!LINK_CODE_ALPHABET.includes(char)) return null;
  return code;
}

/** Only the SHA-256 of a code is stored, so a copy of the state store links no chat. */
export function hashLinkCode(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

/**
 * A new code for a chat that is not linked yet; the chat's earlier codes stop working. A chat that
 * is linked gets 409 `already_linked` naming the account, which the bot tells the chat.
 */
export async function issueLinkCode(
  { repos, config }: TelegramDeps,
  input: { chat_id: number; telegram_username?: string | undefined },
  now: Date,
): Promise<TelegramCodeResponse> {
  const link = await repos.telegram.getByChat(input.chat_id);
  if (link) {
    const user = await repos.users.getById(link.user_id);
    throw new AgnesError('already_linked', 'this chat is already linked', {
      extra: { user_email: user?.email ?? null },
    });
  }
  // Expired codes are dropped as new ones are made, so the store never grows with unused codes.
  await repos.telegram.pruneCodes();
  const code = generateLinkCode();
  const expiresAt = new Date(now.getTime() + config.telegram.code_ttl_minutes * 60_000).toISOString();
  await repos.telegram.createCode({
    code: hashLinkCode(code),
    chat_id: input.chat_id,
    expires_at: expiresAt,
    telegram_username: input.telegram_username ?? null,
  });
  return { code, expires_at: expiresAt };
}

/**
 * Links the caller to the code's chat. A code works once and only before it expires; a caller
 * already linked to another chat moves to this one (08 §9), but a chat linked to someone else
 * stays theirs (409).
 */
export async function verifyLinkCode(
  { repos }: TelegramDeps,
  principal: Principal,
  input: string,
): Promise<{ chat_id: number; previous_chat_id: number | null }> {
  const code = normaliseLinkCode(input);
  const pending = code === null ? undefined : await repos.telegram.consumeCode(hashLinkCode(code));
  if (!pending) throw new AgnesError('invalid_code', 'the code is unknown or has expired');
  const [holder, previous] = await Promise.all([
    repos.telegram.getByChat(pending.chat_id),
    repos.telegram.getByUser(principal.id),
  ]);
  if (holder && holder.user_id !== principal.id) throw chatLinkedElsewhere();
  try {
    await repos.telegram.link(principal.id, pending.chat_id, pending.telegram_username);
  } catch (error) {
    // Another account linked the chat between the check and the write.
    if (error instanceof AgnesError && error.code === 'conflict') throw chatLinkedElsewhere();
    throw error;
  }
  return { chat_id: pending.chat_id, previous_chat_id: previous?.chat_id ?? null };
}

function chatLinkedElsewhere(): AgnesError {
  return new AgnesError('chat_linked_elsewhere', 'this Telegram chat is linked to another account');
}

export async function telegramStatus(
  { repos, config }: TelegramDeps,
  userId: string,
): Promise<TelegramStatus> {
  const link = await repos.telegram.getByUser(userId);
  const bot_username = config.telegram.bot_username;
  return link
    ? { linked: true, chat_id: link.chat_id, linked_at: link.linked_at, bot_username }
    : { linked: false, bot_username };
}

/**
 * What the bot's `/status` shows a chat (03 §19): counts for the linked account, read with that
 * account's current rights, so the chat never learns more than its owner could.
 */
export async function chatSummary({ repos }: TelegramDeps, chatId: number): Promise<TelegramChat> {
  const link = await repos.telegram.getByChat(chatId);
  const user = link ? await repos.users.getById(link.user_id) : undefined;
  if (!user)
    return {
      linked: false,
      user: null,
      readable_tables: 0,
      last_data_update: null,
      active_alerts: 0,
      unread_notifications: 0,
    };
  const owner = await principalOfUser(repos, user);
  const [view, states, alerts, unread] = await Promise.all([
    loadAccessView(repos, owner),
    repos.syncState.listStates(),
    repos.alerts.list(user.id),
    repos.notifications.countUnread(user.id),
  ]);
  const readable = new Set(view.readableTables());
  const lastUpdate = states
    .filter((s) => readable.has(s.table_id) && s.last_sync !== null)
    .reduce<string | null>(
      (latest, s) => (latest === null || s.last_sync! > latest ? s.last_sync : latest),
      null,
    );
  return {
    linked: true,
    user: { id: user.id, email: user.email, name: user.name },
    readable_tables: readable.size,
    last_data_update: lastUpdate,
    active_alerts: alerts.filter((a) => a.enabled).length,
    unread_notifications: unread,
  };
}
