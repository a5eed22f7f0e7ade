import { type Static, Type } from '@sinclair/typebox';
import { NullableTimestamp, Timestamp } from './common.js';

/** Telegram linking (03 §19) and the bot's dispatch endpoint (08 §2, §9). */

/** Telegram chat ids are 64-bit integers; JSON numbers carry them exactly up to 2^53. */
export const ChatId = Type.Integer({ minimum: -(2 ** 53 - 1), maximum: 2 ** 53 - 1 });

/** The alphabet of link codes: no 0/O, 1/I, so a code read aloud or retyped survives. */
export const LINK_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const LINK_CODE_LENGTH = 8;

export const TelegramVerifyRequestSchema = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
export type TelegramVerifyRequest = Static<typeof TelegramVerifyRequestSchema>;

export const TelegramVerifyResponseSchema = Type.Object({
  status: Type.Literal('linked'),
  chat_id: ChatId,
});
export type TelegramVerifyResponse = Static<typeof TelegramVerifyResponseSchema>;

export const TelegramUnlinkResponseSchema = Type.Object({
  status: Type.Literal('unlinked'),
  was_linked: Type.Boolean(),
});
export type TelegramUnlinkResponse = Static<typeof TelegramUnlinkResponseSchema>;

export const TelegramStatusSchema = Type.Object({
  linked: Type.Boolean(),
  chat_id: Type.Optional(ChatId),
  linked_at: Type.Optional(Timestamp),
  bot_username: Type.String({ description: 'telegram.bot_username; empty when not configured' }),
});
export type TelegramStatus = Static<typeof TelegramStatusSchema>;

export const TelegramCodeRequestSchema = Type.Object(
  {
    chat_id: ChatId,
    telegram_username: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type TelegramCodeRequest = Static<typeof TelegramCodeRequestSchema>;

export const TelegramCodeResponseSchema = Type.Object({
  code: Type.String({ minLength: LINK_CODE_LENGTH, maxLength: LINK_CODE_LENGTH }),
  expires_at: Timestamp,
});
export type TelegramCodeResponse = Static<typeof TelegramCodeResponseSchema>;

export const TelegramChatSchema = Type.Object({
  linked: Type.Boolean(),
  user: Type.Union([
    Type.Object({ id: Type.String(), email: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }),
    Type.Null(),
  ]),
  readable_tables: Type.Integer({ minimum: 0 }),
  last_data_update: NullableTimestamp,
  active_alerts: Type.Integer({ minimum: 0 }),
  unread_notifications: Type.Integer({ minimum: 0 }),
});
export type TelegramChat = Static<typeof TelegramChatSchema>;

/** `POST /send` of the bot's dispatch endpoint: what the app's dispatcher sends (08 §9). */
export const TelegramSendRequestSchema = Type.Object(
  {
    chat_id: ChatId,
    text: Type.String({ minLength: 1, maxLength: 4096 }),
    parse_mode: Type.Literal('HTML'),
    notification_id: Type.String({ minLength: 1, maxLength: 100 }),
  },
  { additionalProperties: false },
);
export type TelegramSendRequest = Static<typeof TelegramSendRequestSchema>;

export const TelegramSendResponseSchema = Type.Object({
  ok: Type.Literal(true),
  message_id: Type.Integer(),
});
export type TelegramSendResponse = Static<typeof TelegramSendResponseSchema>;

/** A refused `/send`: `chat_unreachable` (410) is permanent, `telegram_error` (502) may be retried. */
export const TelegramSendFailureSchema = Type.Object({
  ok: Type.Literal(false),
  error: Type.String(),
});
export type TelegramSendFailure = Static<typeof TelegramSendFailureSchema>;
