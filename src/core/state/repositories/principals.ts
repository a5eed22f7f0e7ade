import type { Kysely, Selectable } from 'kysely';
import { preparedQuery } from '../prepared.js';
import type { Database, PersonalAccessTokensTable, UsersTable } from '../schema.js';

export interface PrincipalRecord {
  user: Selectable<UsersTable>;
  groups: { id: string; name: string }[];
}

export interface PatPrincipalRecord extends PrincipalRecord {
  token: Pick<Selectable<PersonalAccessTokensTable>, 'id' | 'created_at' | 'expires_at' | 'revoked_at'>;
}

export interface SessionPrincipalRecord extends PrincipalRecord {
  /** Whether the session's `jti` was revoked (logout). */
  revoked: boolean;
}

const USER_COLUMNS = [
  'users.id',
  'users.email',
  'users.name',
  'users.role',
  'users.password_hash',
  'users.setup_token',
  'users.setup_token_created',
  'users.reset_token',
  'users.reset_token_created',
  'users.created_at',
  'users.updated_at',
  'users.active',
  'users.is_service',
  'users.sessions_valid_after',
  'users.last_login_at',
] as const;

type Row = Selectable<UsersTable> & { group_id: string | null; group_name: string | null };

function groupsOf(rows: readonly Row[]): { id: string; name: string }[] {
  return rows.flatMap((row) =>
    row.group_id && row.group_name ? [{ id: row.group_id, name: row.group_name }] : [],
  );
}

function userOf(row: Row): Selectable<UsersTable> {
  const { group_id: _groupId, group_name: _groupName, ...user } = row;
  return user;
}

/**
 * The lookups that authenticate a request: the credential, the user row and the user's groups in
 * one query, so every request reads the live user (role, activity, groups) at the cost of one
 * indexed SELECT.
 */
export function createPrincipalsRepository(db: Kysely<Database>) {
  const byTokenHash = preparedQuery<
    [string],
    Row & {
      token_id: string;
      token_created_at: string;
      token_expires_at: string | null;
      token_revoked_at: string | null;
    }
  >(
    db,
    (hash) =>
      db
        .selectFrom('personal_access_tokens')
        .innerJoin('users', 'users.id', 'personal_access_tokens.user_id')
        .leftJoin('group_members', 'group_members.user_id', 'users.id')
        .leftJoin('groups', 'groups.id', 'group_members.group_id')
        .select([
          ...USER_COLUMNS,
          'personal_access_tokens.id as token_id',
          'personal_access_tokens.created_at as token_created_at',
          'personal_access_tokens.expires_at as token_expires_at',
          'personal_access_tokens.revoked_at as token_revoked_at',
          'groups.id as group_id',
          'groups.name as group_name',
        ])
        .where('personal_access_tokens.token_hash', '=', hash!)
        .orderBy('groups.name_key'),
    1,
  );

  const bySession = preparedQuery<[string, string], Row & { revoked_jti: string | null }>(
    db,
    (userId, jti) =>
      db
        .selectFrom('users')
        .leftJoin('group_members', 'group_members.user_id', 'users.id')
        .leftJoin('groups', 'groups.id', 'group_members.group_id')
        .leftJoin('revoked_tokens', (join) => join.on((eb) => eb('revoked_tokens.jti', '=', jti!)))
        .select([
          ...USER_COLUMNS,
          'groups.id as group_id',
          'groups.name as group_name',
          'revoked_tokens.jti as revoked_jti',
        ])
        .where('users.id', '=', userId!)
        .orderBy('groups.name_key'),
    2,
  );

  return {
    async byTokenHash(tokenHash: string): Promise<PatPrincipalRecord | undefined> {
      const rows = await byTokenHash(tokenHash);
      const first = rows[0];
      if (!first) return undefined;
      const { token_id, token_created_at, token_expires_at, token_revoked_at, ...userRow } = first;
      return {
        user: userOf(userRow),
        groups: groupsOf(rows),
        token: {
          id: token_id,
          created_at: token_created_at,
          expires_at: token_expires_at,
          revoked_at: token_revoked_at,
        },
      };
    },

    async bySession(userId: string, jti: string): Promise<SessionPrincipalRecord | undefined> {
      const rows = await bySession(userId, jti);
      const first = rows[0];
      if (!first) return undefined;
      const { revoked_jti, ...userRow } = first;
      return { user: userOf(userRow), groups: groupsOf(rows), revoked: revoked_jti !== null };
    },
  };
}

export type PrincipalsRepository = ReturnType<typeof createPrincipalsRepository>;
