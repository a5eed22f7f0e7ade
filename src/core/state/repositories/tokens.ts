import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { type Clock, nowIso, systemClock } from '../../time.js';
import type {
  Database,
  MagicLinkTokensTable,
  PersonalAccessTokensTable,
  RevokedTokensTable,
} from '../schema.js';
import { translateViolations } from './constraint-errors.js';
import { isIn } from './in-list.js';
import { inTransaction } from './in-transaction.js';

export type PersonalAccessToken = Selectable<PersonalAccessTokensTable>;
export type RevokedToken = Selectable<RevokedTokensTable>;
export type MagicLinkToken = Selectable<MagicLinkTokensTable>;

export interface NewPersonalAccessToken {
  user_id: string;
  name: string;
  /** SHA-256 hex of the token; the token itself is shown once and never stored. */
  token_hash: string;
  prefix: string;
  expires_at: string | null;
}

export interface NewMagicLink {
  token_hash: string;
  user_id: string;
  expires_at: string;
  next_path?: string | null;
}

export interface PrunedTokens {
  revoked_tokens: number;
  magic_link_tokens: number;
}

/** Personal access tokens, revoked JWT ids and magic-link tokens: every credential the store holds. */
export function createTokensRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    create(input: NewPersonalAccessToken): Promise<PersonalAccessToken> {
      const insert = db
        .insertInto('personal_access_tokens')
        .values({ ...input, id: randomUUID(), created_at: nowIso(clock) })
        .returningAll()
        .executeTakeFirstOrThrow();
      return translateViolations(insert, { foreignKey: 'user not found' });
    },

    /** The row whatever its state; the caller decides what revoked or expired means for it. */
    findByHash(tokenHash: string): Promise<PersonalAccessToken | undefined> {
      return db
        .selectFrom('personal_access_tokens')
        .selectAll()
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst();
    },

    getById(id: string): Promise<PersonalAccessToken | undefined> {
      return db.selectFrom('personal_access_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    },

    listByUser(userId: string): Promise<PersonalAccessToken[]> {
      return db
        .selectFrom('personal_access_tokens')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute();
    },

    /** Revokes the user's own token; false when it is unknown, someone else's or already revoked. */
    async revoke(id: string, userId: string): Promise<boolean> {
      const result = await db
        .updateTable('personal_access_tokens')
        .set({ revoked_at: nowIso(clock) })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Revokes every active token of the user (deactivation, 04 §1.5 personal access tokens); returns how many. */
    async revokeAllForUser(userId: string): Promise<number> {
      const result = await db
        .updateTable('personal_access_tokens')
        .set({ revoked_at: nowIso(clock) })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async touchLastUsed(id: string, ip: string | null): Promise<void> {
      await db
        .updateTable('personal_access_tokens')
        .set({ last_used_at: nowIso(clock), last_used_ip: ip })
        .where('id', '=', id)
        .execute();
    },

    /** Not revoked and not expired: what counts against `auth.pat.max_per_user`. */
    async countActiveByUser(userId: string): Promise<number> {
      const now = nowIso(clock);
      const row = await db
        .selectFrom('personal_access_tokens')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Idempotent: revoking a JWT id twice keeps the first revocation. */
    async revokeJti(jti: string, userId: string, expiresAt: string): Promise<void> {
      await db
        .insertInto('revoked_tokens')
        .values({ jti, user_id: userId, revoked_at: nowIso(clock), expires_at: expiresAt })
        .onConflict((oc) => oc.column('jti').doNothing())
        .execute();
    },

    /**
     * Records a single-use JWT id as spent (WebSocket tickets, 08 §9); true only for the first
     * call, so two concurrent uses cannot both succeed.
     */
    async consumeJti(jti: string, userId: string, expiresAt: string): Promise<boolean> {
      const result = await db
        .insertInto('revoked_tokens')
        .values({ jti, user_id: userId, revoked_at: nowIso(clock), expires_at: expiresAt })
        .onConflict((oc) => oc.column('jti').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    },

    /** The JWT ids among `jtis` that are revoked (or spent). */
    async revokedAmong(jtis: readonly string[]): Promise<Set<string>> {
      const rows = await db
        .selectFrom('revoked_tokens')
        .select('jti')
        .where((eb) => isIn(eb, 'jti', [...new Set(jtis)]))
        .execute();
      return new Set(rows.map((row) => row.jti));
    },

    /** The personal access tokens among `ids` that exist, in no particular order. */
    getMany(ids: readonly string[]): Promise<PersonalAccessToken[]> {
      return db
        .selectFrom('personal_access_tokens')
        .selectAll()
        .where((eb) => isIn(eb, 'id', [...new Set(ids)]))
        .execute();
    },

    async isRevoked(jti: string): Promise<boolean> {
      const row = await db
        .selectFrom('revoked_tokens')
        .select('jti')
        .where('jti', '=', jti)
        .executeTakeFirst();
      return row !== undefined;
    },

    /** Drops revocations of JWTs that have expired anyway, and magic links past their expiry. */
    pruneExpired(): Promise<PrunedTokens> {
      const now = nowIso(clock);
      return inTransaction(db, async (trx) => {
        const revoked = await trx
          .deleteFrom('revoked_tokens')
          .where('expires_at', '<=', now)
          .executeTakeFirst();
        const links = await trx
          .deleteFrom('magic_link_tokens')
          .where('expires_at', '<=', now)
          .executeTakeFirst();
        return {
          revoked_tokens: Number(revoked.numDeletedRows),
          magic_link_tokens: Number(links.numDeletedRows),
        };
      });
    },

    createMagicLink(input: NewMagicLink): Promise<MagicLinkToken> {
      const insert = db
        .insertInto('magic_link_tokens')
        .values({ ...input, created_at: nowIso(clock) })
        .returningAll()
        .executeTakeFirstOrThrow();
      return translateViolations(insert, { foreignKey: 'user not found' });
    },

    /**
     * Single use: one conditional UPDATE both checks and marks the token, so of two concurrent
     * consumes exactly one gets the row. Unknown, used and expired tokens give undefined.
     */
    consumeMagicLink(tokenHash: string): Promise<MagicLinkToken | undefined> {
      const now = nowIso(clock);
      return db
        .updateTable('magic_link_tokens')
        .set({ consumed_at: now })
        .where('token_hash', '=', tokenHash)
        .where('consumed_at', 'is', null)
        .where('expires_at', '>', now)
        .returningAll()
        .executeTakeFirst();
    },
  };
}

export type TokensRepository = ReturnType<typeof createTokensRepository>;
