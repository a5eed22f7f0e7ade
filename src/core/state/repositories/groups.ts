import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { type Clock, nowIso, systemClock } from '../../time.js';
import type { Database, GroupMembersTable, GroupsTable } from '../schema.js';
import { translateViolations } from './constraint-errors.js';
import { isIn } from './in-list.js';
import { type Page, type PageRequest, paginate } from './paginate.js';

export type Group = Selectable<GroupsTable>;
export type GroupMembership = Selectable<GroupMembersTable>;

export interface GroupSummary extends Group {
  member_count: number;
  permission_count: number;
}

export interface GroupMember {
  id: string;
  email: string;
  name: string;
  added_by: string | null;
  added_at: string;
}

export interface NewGroup {
  name: string;
  description?: string | null;
  created_by?: string | null;
}

export type GroupPatch = Partial<Pick<Group, 'name' | 'description'>>;

const NAME_TAKEN = 'a group with this name already exists';

/** The unique key of a group name: names differing only in case are the same group. */
export function groupNameKey(name: string): string {
  return name.toLowerCase();
}

export function createGroupsRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    create(input: NewGroup): Promise<Group> {
      const insert = db
        .insertInto('groups')
        .values({ ...input, id: randomUUID(), name_key: groupNameKey(input.name), created_at: nowIso(clock) })
        .returningAll()
        .executeTakeFirstOrThrow();
      return translateViolations(insert, { unique: NAME_TAKEN });
    },

    /** Renames and/or re-describes; renaming to another group's name (in any case) is a conflict. */
    update(id: string, patch: GroupPatch): Promise<Group | undefined> {
      const nameKey = patch.name === undefined ? {} : { name_key: groupNameKey(patch.name) };
      const update = db
        .updateTable('groups')
        .set({ ...patch, ...nameKey })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return translateViolations(update, { unique: NAME_TAKEN });
    },

    /** Members and grants of the group go by FK cascade. */
    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('groups').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    getById(id: string): Promise<Group | undefined> {
      return db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
    },

    getByName(name: string): Promise<Group | undefined> {
      return db
        .selectFrom('groups')
        .selectAll()
        .where('name_key', '=', groupNameKey(name))
        .executeTakeFirst();
    },

    /** Sorted by name (case-insensitively, via the unique key). */
    async list(page?: PageRequest): Promise<Page<GroupSummary>> {
      const query = db
        .selectFrom('groups')
        .selectAll('groups')
        .select((eb) => [
          eb
            .selectFrom('group_members')
            .select(eb.fn.countAll().as('n'))
            .whereRef('group_members.group_id', '=', 'groups.id')
            .as('member_count'),
          eb
            .selectFrom('group_permissions')
            .select(eb.fn.countAll().as('n'))
            .whereRef('group_permissions.group_id', '=', 'groups.id')
            .as('permission_count'),
        ])
        .orderBy('name_key');
      const result = await paginate(query, page);
      const items = result.items.map((row) => ({
        ...row,
        member_count: Number(row.member_count),
        permission_count: Number(row.permission_count),
      }));
      return { ...result, items };
    },

    /** True when added, false when the user already was a member; unknown group or user → not_found. */
    async addMember(groupId: string, userId: string, addedBy: string | null): Promise<boolean> {
      const insert = db
        .insertInto('group_members')
        .values({ group_id: groupId, user_id: userId, added_by: addedBy, added_at: nowIso(clock) })
        .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
        .executeTakeFirst();
      const result = await translateViolations(insert, { foreignKey: 'group or user not found' });
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async removeMember(groupId: string, userId: string): Promise<boolean> {
      const result = await db
        .deleteFrom('group_members')
        .where('group_id', '=', groupId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    listMembers(groupId: string): Promise<GroupMember[]> {
      return db
        .selectFrom('group_members')
        .innerJoin('users', 'users.id', 'group_members.user_id')
        .select(['users.id', 'users.email', 'users.name', 'group_members.added_by', 'group_members.added_at'])
        .where('group_members.group_id', '=', groupId)
        .orderBy('users.email')
        .execute();
    },

    /** Groups of several users at once (user lists), each user's groups by name. */
    async listGroupsOfUsers(userIds: readonly string[]): Promise<Map<string, Group[]>> {
      const rows = await db
        .selectFrom('groups')
        .innerJoin('group_members', 'group_members.group_id', 'groups.id')
        .selectAll('groups')
        .select('group_members.user_id')
        .where((eb) => isIn(eb, 'group_members.user_id', [...new Set(userIds)]))
        .orderBy('groups.name_key')
        .execute();
      const byUser = new Map<string, Group[]>();
      for (const { user_id, ...group } of rows) {
        const list = byUser.get(user_id) ?? [];
        list.push(group);
        byUser.set(user_id, list);
      }
      return byUser;
    },

    listGroupsOfUser(userId: string): Promise<Group[]> {
      return db
        .selectFrom('groups')
        .innerJoin('group_members', 'group_members.group_id', 'groups.id')
        .selectAll('groups')
        .where('group_members.user_id', '=', userId)
        .orderBy('groups.name_key')
        .execute();
    },
  };
}

export type GroupsRepository = ReturnType<typeof createGroupsRepository>;
