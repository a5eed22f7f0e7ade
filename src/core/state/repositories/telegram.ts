import type { Kysely, Selectable } from 'kysely';
import { type Clock, nowIso, systemClock } from '../../time.js';
import type { Database, PendingCodesTable, TelegramLinksTable } from '../schema.js';
import { translateViolations } from './constraint-errors.js';
import { inTransaction } from './in-transaction.js';

export type TelegramLink = Selectable<TelegramLinksTable>;
export type PendingCode = Selectable<PendingCodesTable>;

export interface NewPendingCode {
  /** SHA-256 hex of the code shown to the chat; the code itself is never stored. */
  code: string;
  chat_id: number;
  expires_at: string;
  telegram_username?: string | null;
}

export function createTelegramRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    /** Links or re-links the user; a chat already linked to another user is a conflict. */
    link(userId: string, chatId: number, telegramUsername: string | null): Promise<TelegramLink> {
      const row = {
        user_id: userId,
        chat_id: chatId,
        linked_at: nowIso(clock),
        telegram_username: telegramUsername,
      };
      const upsert = db
        .insertInto('telegram_links')
        .values(row)
        .onConflict((oc) =>
          oc.column('user_id').doUpdateSet({
            chat_id: row.chat_id,
            linked_at: row.linked_at,
            telegram_username: row.telegram_username,
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return translateViolations(upsert, {
        unique: 'this chat is linked to another user',
        foreignKey: 'user not found',
      });
    },

    async unlink(userId: string): Promise<boolean> {
      const result = await db.deleteFrom('telegram_links').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    getByUser(userId: string): Promise<TelegramLink | undefined> {
      return db.selectFrom('telegram_links').selectAll().where('user_id', '=', userId).executeTakeFirst();
    },

    getByChat(chatId: number): Promise<TelegramLink | undefined> {
      return db.selectFrom('telegram_links').selectAll().where('chat_id', '=', chatId).executeTakeFirst();
    },

    /** A new code invalidates the chat's earlier ones, so only the latest code shown works. */
    createCode(input: NewPendingCode): Promise<PendingCode> {
      return inTransaction(db, async (trx) => {
        await trx.deleteFrom('pending_codes').where('chat_id', '=', input.chat_id).execute();
        return trx
          .insertInto('pending_codes')
          .values({ ...input, created_at: nowIso(clock) })
          .returningAll()
          .executeTakeFirstOrThrow();
      });
    },

    /** Single use: one DELETE both checks expiry and removes, so a code links at most once. */
    consumeCode(code: string): Promise<PendingCode | undefined> {
      return db
        .deleteFrom('pending_codes')
        .where('code', '=', code)
        .where('expires_at', '>', nowIso(clock))
        .returningAll()
        .executeTakeFirst();
    },

    async pruneCodes(): Promise<number> {
      const result = await db
        .deleteFrom('pending_codes')
        .where('expires_at', '<=', nowIso(clock))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type TelegramRepository = ReturnType<typeof createTelegramRepository>;
