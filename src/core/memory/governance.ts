import type { KnowledgeStatus } from '../state/schema.js';

/** The governance actions that move an item between statuses (08 §4.2); `edit` never does. */
export const GOVERNANCE_ACTIONS = ['approve', 'reject', 'mandate', 'revoke'] as const;
export type GovernanceAction = (typeof GOVERNANCE_ACTIONS)[number];

/** The status each action leads to from each status; a missing entry is an invalid transition (409). */
const TRANSITIONS: Record<KnowledgeStatus, Partial<Record<GovernanceAction, KnowledgeStatus>>> = {
  pending: { approve: 'approved', reject: 'rejected', mandate: 'mandatory' },
  approved: { reject: 'rejected', mandate: 'mandatory', revoke: 'revoked' },
  mandatory: { approve: 'approved', revoke: 'revoked' },
  rejected: { approve: 'approved' },
  revoked: { approve: 'approved' },
  expired: { approve: 'approved', reject: 'rejected', mandate: 'mandatory', revoke: 'revoked' },
};

/** Where `action` takes an item in `status`, or null when the table forbids it. */
export function transitionTarget(status: KnowledgeStatus, action: GovernanceAction): KnowledgeStatus | null {
  return TRANSITIONS[status][action] ?? null;
}

/** The statuses `action` may start from: the guard of the conditional UPDATE. */
export function statusesAllowing(action: GovernanceAction): KnowledgeStatus[] {
  return (Object.keys(TRANSITIONS) as KnowledgeStatus[]).filter((status) => TRANSITIONS[status][action]);
}

/** The status of an approved or mandated item is the published knowledge assistants read. */
export function isPublished(status: KnowledgeStatus): boolean {
  return status === 'approved' || status === 'mandatory';
}

/**
 * When an item approved or mandated at `approvedAt` falls due for review: the same day
 * `reviewPeriodMonths` later, or that month's last day (31 January + 1 month is 28 or 29 February,
 * not 2 or 3 March).
 */
export function reviewDue(approvedAt: Date, reviewPeriodMonths: number): Date {
  const due = new Date(approvedAt.getTime());
  due.setUTCDate(1);
  due.setUTCMonth(due.getUTCMonth() + reviewPeriodMonths);
  const lastDay = new Date(Date.UTC(due.getUTCFullYear(), due.getUTCMonth() + 1, 0)).getUTCDate();
  due.setUTCDate(Math.min(approvedAt.getUTCDate(), lastDay));
  return due;
}
