import { describe, expect, it } from 'vitest';
import {
  GOVERNANCE_ACTIONS,
  reviewDue,
  statusesAllowing,
  transitionTarget,
} from '../../../src/core/memory/governance.js';
import type { KnowledgeStatus } from '../../../src/core/state/schema.js';

// 08 §4.2, row by row; null is 409 invalid_transition.
const TABLE: Record<
  KnowledgeStatus,
  [KnowledgeStatus | null, KnowledgeStatus | null, KnowledgeStatus | null, KnowledgeStatus | null]
> = {
  pending: ['approved', 'rejected', 'mandatory', null],
  approved: [null, 'rejected', 'mandatory', 'revoked'],
  mandatory: ['approved', null, null, 'revoked'],
  rejected: ['approved', null, null, null],
  revoked: ['approved', null, null, null],
  expired: ['approved', 'rejected', 'mandatory', 'revoked'],
};

describe('governance transitions', () => {
  it('follow the table of 08 §4.2 for every status and action', () => {
    expect(GOVERNANCE_ACTIONS).toEqual(['approve', 'reject', 'mandate', 'revoke']);
    for (const [status, targets] of Object.entries(TABLE) as [
      KnowledgeStatus,
      (KnowledgeStatus | null)[],
    ][]) {
      GOVERNANCE_ACTIONS.forEach((action, i) => {
        expect(transitionTarget(status, action), `${status} ${action}`).toBe(targets[i]);
      });
    }
  });

  it('lists the statuses each action may start from', () => {
    expect(statusesAllowing('revoke')).toEqual(['approved', 'mandatory', 'expired']);
    expect(statusesAllowing('approve')).toEqual(['pending', 'mandatory', 'rejected', 'revoked', 'expired']);
  });
});

describe('reviewDue', () => {
  it('adds whole months, clamped to the end of a shorter month', () => {
    expect(reviewDue(new Date('2026-03-15T10:00:00Z'), 12).toISOString()).toBe('2027-03-15T10:00:00.000Z');
    expect(reviewDue(new Date('2026-01-31T08:00:00Z'), 1).toISOString()).toBe('2026-02-28T08:00:00.000Z');
    expect(reviewDue(new Date('2027-12-31T00:00:00Z'), 2).toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });
});
