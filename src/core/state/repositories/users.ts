import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { type Clock, nowIso, systemClock } from '../../time.js';
import type { Database, Role, UsersTable } from '../schema.js';
import { translateViolations } from './constraint-errors.js';
import { isIn } from './in-list.js';
import { type Page, type PageRequest, paginate } from './paginate.js';
import { containsText } from './text-search.js';

export type User = Selectable<UsersTable>;

export interface NewUser {
  email: string;
  name?: string;
  role?: Role;
  password_hash?: string | null;
  active?: boolean;
  is_service?: boolean;
  setup_token?: string | null;
  setup_token_created?: string | null;
}

export type UserPatch = Partial<
  Pick<
    User,
    | 'name'
    | 'role'
    | 'active'
    | 'is_service'
    | 'password_hash'
    | 'sessions_valid_after'
    | 'last_login_at'
    | 'setup_token'
    | 'setup_token_created'
    | 'reset_token'
    | 'reset_token_created'
  >
>;

export interface UserFilter {
  /** Substring of email or name. */
  search?: string;
  role?: Role;
  active?: boolean;
}

const ROLES: readonly Role[] = ['viewer', 'analyst', 'km_admin', 'admin'];

/** The one spelling of an email address that is stored and looked up. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function createUsersRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  const byColumn = (column: 'id' | 'email' | 'setup_token' | 'reset_token', value: string) =>
    db.selectFrom('users').selectAll().where(column, '=', value).executeTakeFirst();

  return {
    create(input: NewUser): Promise<User> {
      const now = nowIso(clock);
      const insert = db
        .insertInto('users')
        .values({
          name: '',
          role: 'analyst',
          active: true,
          is_service: false,
          ...input,
          id: randomUUID(),
          email: normaliseEmail(input.email),
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return translateViolations(insert, { unique: 'a user with this email already exists' });
    },

    getById: (id: string): Promise<User | undefined> => byColumn('id', id),
    getByEmail: (email: string): Promise<User | undefined> => byColumn('email', normaliseEmail(email)),
    /** Looks up by the SHA-256 hex of an invite token (the token itself is never stored). */
    getBySetupToken: (hash: string): Promise<User | undefined> => byColumn('setup_token', hash),
    getByResetToken: (hash: string): Promise<User | undefined> => byColumn('reset_token', hash),

    /** The users among `ids` that exist, in no particular order. */
    getMany(ids: readonly string[]): Promise<User[]> {
      return db
        .selectFrom('users')
        .selectAll()
        .where((eb) => isIn(eb, 'id', [...new Set(ids)]))
        .execute();
    },

    /** Sorted by email (unique, hence stable). */
    list(filter: UserFilter = {}, page?: PageRequest): Promise<Page<User>> {
      let query = db.selectFrom('users').selectAll().orderBy('email');
      if (filter.search) {
        const text = filter.search;
        query = query.where((eb) => containsText(eb, ['email', 'name'], text));
      }
      if (filter.role !== undefined) query = query.where('role', '=', filter.role);
      if (filter.active !== undefined) query = query.where('active', '=', filter.active);
      return paginate(query, page);
    },

    update(id: string, patch: UserPatch): Promise<User | undefined> {
      return db
        .updateTable('users')
        .set({ ...patch, updated_at: nowIso(clock) })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    /**
     * Single use: clears an invite or reset token in one conditional UPDATE, only when it was
     * issued at or after `issuedAfter`, so of two concurrent uses exactly one gets the user.
     */
    claimToken(kind: 'setup' | 'reset', hash: string, issuedAfter: string): Promise<User | undefined> {
      const token = kind === 'setup' ? 'setup_token' : 'reset_token';
      const created = kind === 'setup' ? 'setup_token_created' : 'reset_token_created';
      return db
        .updateTable('users')
        .set({ [token]: null, [created]: null, updated_at: nowIso(clock) })
        .where(token, '=', hash)
        .where(created, '>=', issuedAfter)
        .returningAll()
        .executeTakeFirst();
    },

    /** Tokens, memberships, grants, settings, votes, links, alerts and notifications go by FK cascade. */
    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async countByRole(): Promise<Record<Role, number>> {
      const rows = await db
        .selectFrom('users')
        .select((eb) => ['role', eb.fn.countAll().as('n')])
        .groupBy('role')
        .execute();
      const counts = Object.fromEntries(ROLES.map((role) => [role, 0])) as Record<Role, number>;
      for (const row of rows) counts[row.role] = Number(row.n);
      return counts;
    },

    /** For last-admin protection: demoting, deactivating or deleting must leave at least one. */
    async countActiveAdmins(): Promise<number> {
      const row = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('role', '=', 'admin')
        .where('active', '=', true)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async count(): Promise<number> {
      const row = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
