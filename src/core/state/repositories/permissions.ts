import type { Kysely, Selectable } from 'kysely';
import { type Clock, nowIso, systemClock } from '../../time.js';
import type { Access, Database, DatasetPermissionsTable, GroupPermissionsTable } from '../schema.js';
import { translateViolations } from './constraint-errors.js';
import { inTransaction } from './in-transaction.js';
import { type Page, type PageRequest, paginate } from './paginate.js';

export type UserPermission = Selectable<DatasetPermissionsTable>;
export type GroupPermission = Selectable<GroupPermissionsTable>;

export interface UserPermissionWithEmail extends UserPermission {
  email: string;
}

export interface Grant {
  /** A table id or `<bucket>.*`. */
  dataset: string;
  access: Access;
  granted_by: string | null;
}

/** Where a user's grant comes from: directly, or through membership of a group. */
export type GrantSource = { kind: 'user' } | { kind: 'group'; group_id: string; group_name: string };

export interface EffectiveGrant {
  dataset: string;
  access: Access;
  via: GrantSource;
}

export interface DatasetGrants {
  users: UserPermission[];
  groups: GroupPermission[];
}

/**
 * Stored grants only. Deciding access (public tables, admins, bucket wildcards, `none` never
 * denying) is the access function's job (04-auth-and-access.md §6.1).
 */
export function createPermissionsRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    /** Upsert: granting again replaces access, grantor and time. */
    grantUser(userId: string, grant: Grant): Promise<UserPermission> {
      const row = { user_id: userId, ...grant, granted_at: nowIso(clock) };
      const upsert = db
        .insertInto('dataset_permissions')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['user_id', 'dataset']).doUpdateSet({
            access: row.access,
            granted_by: row.granted_by,
            granted_at: row.granted_at,
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return translateViolations(upsert, { foreignKey: 'user not found' });
    },

    async revokeUser(userId: string, dataset: string): Promise<boolean> {
      const result = await db
        .deleteFrom('dataset_permissions')
        .where('user_id', '=', userId)
        .where('dataset', '=', dataset)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    grantGroup(groupId: string, grant: Grant): Promise<GroupPermission> {
      const row = { group_id: groupId, ...grant, granted_at: nowIso(clock) };
      const upsert = db
        .insertInto('group_permissions')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['group_id', 'dataset']).doUpdateSet({
            access: row.access,
            granted_by: row.granted_by,
            granted_at: row.granted_at,
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return translateViolations(upsert, { foreignKey: 'group not found' });
    },

    async revokeGroup(groupId: string, dataset: string): Promise<boolean> {
      const result = await db
        .deleteFrom('group_permissions')
        .where('group_id', '=', groupId)
        .where('dataset', '=', dataset)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** Removes every user and group grant on exactly `dataset` (unregistering a table). */
    revokeAllForDataset(dataset: string): Promise<number> {
      return inTransaction(db, async (trx) => {
        const users = await trx
          .deleteFrom('dataset_permissions')
          .where('dataset', '=', dataset)
          .executeTakeFirst();
        const groups = await trx
          .deleteFrom('group_permissions')
          .where('dataset', '=', dataset)
          .executeTakeFirst();
        return Number(users.numDeletedRows) + Number(groups.numDeletedRows);
      });
    },

    listForUser(userId: string): Promise<UserPermission[]> {
      return db
        .selectFrom('dataset_permissions')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('dataset')
        .execute();
    },

    listForGroup(groupId: string): Promise<GroupPermission[]> {
      return db
        .selectFrom('group_permissions')
        .selectAll()
        .where('group_id', '=', groupId)
        .orderBy('dataset')
        .execute();
    },

    async listForDataset(dataset: string): Promise<DatasetGrants> {
      const users = await db
        .selectFrom('dataset_permissions')
        .selectAll()
        .where('dataset', '=', dataset)
        .orderBy('user_id')
        .execute();
      const groups = await db
        .selectFrom('group_permissions')
        .selectAll()
        .where('dataset', '=', dataset)
        .orderBy('group_id')
        .execute();
      return { users, groups };
    },

    /** Direct user grants with the grantee's email, optionally for one dataset; by dataset, then email. */
    listUserGrants(
      filter: { dataset?: string } = {},
      page?: PageRequest,
    ): Promise<Page<UserPermissionWithEmail>> {
      let query = db
        .selectFrom('dataset_permissions')
        .innerJoin('users', 'users.id', 'dataset_permissions.user_id')
        .selectAll('dataset_permissions')
        .select('users.email')
        .orderBy('dataset_permissions.dataset')
        .orderBy('users.email');
      if (filter.dataset !== undefined)
        query = query.where('dataset_permissions.dataset', '=', filter.dataset);
      return paginate(query, page);
    },

    /** Every grant that applies to the user, direct ones first, then per group by group name. */
    async grantsForUser(userId: string): Promise<EffectiveGrant[]> {
      const direct = await db
        .selectFrom('dataset_permissions')
        .select(['dataset', 'access'])
        .where('user_id', '=', userId)
        .orderBy('dataset')
        .execute();
      const viaGroups = await db
        .selectFrom('group_permissions')
        .innerJoin('group_members', 'group_members.group_id', 'group_permissions.group_id')
        .innerJoin('groups', 'groups.id', 'group_permissions.group_id')
        .select(['group_permissions.dataset', 'group_permissions.access', 'groups.id', 'groups.name'])
        .where('group_members.user_id', '=', userId)
        .orderBy('groups.name_key')
        .orderBy('group_permissions.dataset')
        .execute();
      return [
        ...direct.map(({ dataset, access }) => ({ dataset, access, via: { kind: 'user' } as const })),
        ...viaGroups.map(({ dataset, access, id, name }) => ({
          dataset,
          access,
          via: { kind: 'group', group_id: id, group_name: name } as const,
        })),
      ];
    },
  };
}

export type PermissionsRepository = ReturnType<typeof createPermissionsRepository>;
