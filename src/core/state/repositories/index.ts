import type { Kysely } from 'kysely';
import { type Clock, systemClock } from '../../time.js';
import type { Database } from '../schema.js';
import { type AccessRequestsRepository, createAccessRequestsRepository } from './access-requests.js';
import { type AlertsRepository, createAlertsRepository } from './alerts.js';
import { type AuditRepository, createAuditRepository } from './audit.js';
import { cacheHotReads } from './cached-reads.js';
import { createGroupsRepository, type GroupsRepository } from './groups.js';
import { inTransaction } from './in-transaction.js';
import { createJiraEventsRepository, type JiraEventsRepository } from './jira-events.js';
import { createJobsRepository, type JobsRepository } from './jobs.js';
import { createKnowledgeRepository, type KnowledgeRepository } from './knowledge.js';
import { createNotificationsRepository, type NotificationsRepository } from './notifications.js';
import { createPermissionsRepository, type PermissionsRepository } from './permissions.js';
import { createPoliciesRepository, type PoliciesRepository } from './policies.js';
import { createPolicySlicesRepository, type PolicySlicesRepository } from './policy-slices.js';
import { createPrincipalsRepository, type PrincipalsRepository } from './principals.js';
import { createProfilesRepository, type ProfilesRepository } from './profiles.js';
import { createRateLimitsRepository, type RateLimitsRepository } from './rate-limits.js';
import { createRebuildRequestsRepository, type RebuildRequestsRepository } from './rebuild-requests.js';
import { createRegistryRepository, type RegistryRepository } from './registry.js';
import { createReplicasRepository, type ReplicasRepository } from './replicas.js';
import { createRevisionsRepository, type RevisionsRepository } from './revisions.js';
import { createScriptsRepository, type ScriptsRepository } from './scripts.js';
import { createSyncStateRepository, type SyncStateRepository } from './sync-state.js';
import { createTelegramRepository, type TelegramRepository } from './telegram.js';
import { createTokensRepository, type TokensRepository } from './tokens.js';
import { createUserAttributesRepository, type UserAttributesRepository } from './user-attributes.js';
import { createUsersRepository, type UsersRepository } from './users.js';

export * from './access-requests.js';
export * from './alerts.js';
export * from './audit.js';
export * from './groups.js';
export * from './jira-events.js';
export * from './jobs.js';
export * from './knowledge.js';
export * from './notifications.js';
export { MAX_PER_PAGE, type Page, type PageRequest, pageFields } from './paginate.js';
export * from './permissions.js';
export * from './policies.js';
export * from './policy-slices.js';
export type { PatPrincipalRecord, PrincipalRecord, SessionPrincipalRecord } from './principals.js';
export * from './profiles.js';
export * from './rate-limits.js';
export * from './rebuild-requests.js';
export * from './registry.js';
export * from './replicas.js';
export * from './revisions.js';
export * from './scripts.js';
export * from './sync-state.js';
export * from './telegram.js';
export * from './tokens.js';
export * from './user-attributes.js';
export * from './users.js';

export interface Repositories {
  users: UsersRepository;
  tokens: TokensRepository;
  groups: GroupsRepository;
  permissions: PermissionsRepository;
  principals: PrincipalsRepository;
  registry: RegistryRepository;
  syncState: SyncStateRepository;
  revisions: RevisionsRepository;
  profiles: ProfilesRepository;
  accessRequests: AccessRequestsRepository;
  knowledge: KnowledgeRepository;
  audit: AuditRepository;
  telegram: TelegramRepository;
  scripts: ScriptsRepository;
  alerts: AlertsRepository;
  notifications: NotificationsRepository;
  jobs: JobsRepository;
  jiraEvents: JiraEventsRepository;
  policies: PoliciesRepository;
  userAttributes: UserAttributesRepository;
  policySlices: PolicySlicesRepository;
  rateLimits: RateLimitsRepository;
  rebuildRequests: RebuildRequestsRepository;
  replicas: ReplicasRepository;
  /**
   * Runs `work` in one transaction with every repository bound to it, for changes spanning
   * aggregates (approve + grant, unregister + revoke + cancel). Inside a transaction it joins it.
   */
  transaction<T>(work: (repositories: Repositories) => Promise<T>): Promise<T>;
  /**
   * Runs `effect` once the change made through these repositories is committed: at once outside a
   * transaction, after the outermost commit inside one, never after a rollback. For signals to
   * other parts of the process (waking the outbox dispatcher), which must not see uncommitted rows.
   */
  afterCommit(effect: () => void): void;
}

/**
 * Every repository over one database handle (or transaction) and one clock. `committed` holds the
 * after-commit effects of the transaction `db` belongs to; null outside a transaction.
 */
export function createRepositories(
  db: Kysely<Database>,
  clock: Clock = systemClock,
  committed: (() => void)[] | null = null,
): Repositories {
  const repos: Repositories = {
    users: createUsersRepository(db, clock),
    tokens: createTokensRepository(db, clock),
    groups: createGroupsRepository(db, clock),
    permissions: createPermissionsRepository(db, clock),
    principals: createPrincipalsRepository(db),
    registry: createRegistryRepository(db, clock),
    syncState: createSyncStateRepository(db, clock),
    revisions: createRevisionsRepository(db),
    profiles: createProfilesRepository(db, clock),
    accessRequests: createAccessRequestsRepository(db, clock),
    knowledge: createKnowledgeRepository(db, clock),
    audit: createAuditRepository(db, clock),
    telegram: createTelegramRepository(db, clock),
    scripts: createScriptsRepository(db, clock),
    alerts: createAlertsRepository(db, clock),
    notifications: createNotificationsRepository(db, clock),
    jobs: createJobsRepository(db, clock),
    jiraEvents: createJiraEventsRepository(db),
    policies: createPoliciesRepository(db, clock),
    userAttributes: createUserAttributesRepository(db),
    policySlices: createPolicySlicesRepository(db, clock),
    rateLimits: createRateLimitsRepository(db, clock),
    rebuildRequests: createRebuildRequestsRepository(db, clock),
    replicas: createReplicasRepository(db, clock),
    transaction: async (work) => {
      if (committed) return inTransaction(db, (trx) => work(createRepositories(trx, clock, committed)));
      const effects: (() => void)[] = [];
      const result = await inTransaction(db, (trx) => work(createRepositories(trx, clock, effects)));
      for (const effect of effects) effect();
      return result;
    },
    afterCommit: (effect) => {
      if (committed) committed.push(effect);
      else effect();
    },
  };
  cacheHotReads(db, repos);
  return repos;
}
