import type { Kysely } from 'kysely';
import { RevisionCache } from '../revision-cache.js';
import type { Database } from '../schema.js';
import type { EffectiveGrant, PermissionsRepository } from './permissions.js';
import type { RegistryEntry, RegistryRepository } from './registry.js';
import type { RevisionsRepository } from './revisions.js';

const CACHED_USERS = 10_000;

/**
 * The reads behind the access function, made on almost every request — the whole registry and
 * one user's grants — kept while their revision (bumped by database triggers on every write, from
 * any process or replica) holds: one indexed one-row read instead of the whole registry. Inside a
 * transaction, which may hold its own uncommitted writes, the reads go to the database.
 * Entries are frozen: every caller shares them.
 */
export function cacheHotReads(
  db: Kysely<Database>,
  repos: { registry: RegistryRepository; permissions: PermissionsRepository; revisions: RevisionsRepository },
): void {
  if (db.isTransaction) return;
  const { registry, permissions, revisions } = repos;

  const listRegistry = registry.list;
  let registryAt: { revision: number; entries: Promise<readonly RegistryEntry[]> } | null = null;
  registry.list = async (filter = {}) => {
    if (filter.source !== undefined) return listRegistry(filter);
    const revision = await revisions.catalog();
    if (registryAt?.revision !== revision) {
      const entries = listRegistry().then((rows) => rows.map((row) => Object.freeze(row)));
      registryAt = { revision, entries };
      entries.catch(() => {
        if (registryAt?.entries === entries) registryAt = null;
      });
    }
    return [...(await registryAt.entries)];
  };

  const grantsForUser = permissions.grantsForUser;
  const grants = new RevisionCache<readonly EffectiveGrant[]>(CACHED_USERS);
  permissions.grantsForUser = async (userId) => {
    const revision = await revisions.grants();
    let found = grants.get(userId, revision);
    if (!found) {
      found = (await grantsForUser(userId)).map((grant) => Object.freeze(grant));
      grants.set(userId, revision, found);
    }
    return [...found];
  };
}
