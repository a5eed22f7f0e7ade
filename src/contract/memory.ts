import { type Static, Type } from '@sinclair/typebox';
import { NullableString, NullableTimestamp, PageFields, Timestamp } from './common.js';

/** Corporate memory (03 §13, 08 §4): items, votes, governance. */

export const MemoryStatusSchema = Type.Union([
  Type.Literal('pending'),
  Type.Literal('approved'),
  Type.Literal('mandatory'),
  Type.Literal('rejected'),
  Type.Literal('revoked'),
  Type.Literal('expired'),
]);
export type MemoryStatus = Static<typeof MemoryStatusSchema>;

export const MEMORY_STATUSES: readonly MemoryStatus[] = [
  'pending',
  'approved',
  'mandatory',
  'rejected',
  'revoked',
  'expired',
];

/** `all`, or `group:<group_id>`. */
export const MemoryAudienceSchema = Type.String({ pattern: '^(all|group:[A-Za-z0-9_-]{1,100})$' });

const PersonRef = Type.Object({ id: Type.String(), name: Type.String() });
const MyVote = Type.Union([Type.Literal(1), Type.Literal(-1), Type.Null()]);

export const MemoryItemSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  content: Type.String(),
  category: NullableString,
  tags: Type.Array(Type.String()),
  status: MemoryStatusSchema,
  audience: Type.String(),
  origin: Type.Union([Type.Literal('manual'), Type.Literal('collector')]),
  contributors: Type.Array(PersonRef),
  source_user: Type.Union([PersonRef, Type.Null()]),
  upvotes: Type.Integer(),
  downvotes: Type.Integer(),
  score: Type.Integer(),
  my_vote: MyVote,
  created_at: Timestamp,
  updated_at: Timestamp,
  approved_at: NullableTimestamp,
  status_reason: NullableString,
});
export type MemoryItem = Static<typeof MemoryItemSchema>;

export const MemoryListSchema = Type.Object({
  items: Type.Array(MemoryItemSchema),
  /** Repeats `total` (03 §13). */
  count: Type.Integer(),
  ...PageFields,
});
export type MemoryList = Static<typeof MemoryListSchema>;

export const MemoryStatsSchema = Type.Object({
  total: Type.Integer(),
  by_status: Type.Record(Type.String(), Type.Integer()),
  categories: Type.Record(Type.String(), Type.Integer()),
});
export type MemoryStats = Static<typeof MemoryStatsSchema>;

export const MandatoryMemorySchema = Type.Object({ items: Type.Array(MemoryItemSchema) });
export type MandatoryMemory = Static<typeof MandatoryMemorySchema>;

export const MemoryHistorySchema = Type.Object({
  revisions: Type.Array(
    Type.Object({
      revision: Type.Integer(),
      title: Type.String(),
      content: Type.String(),
      category: NullableString,
      tags: Type.Array(Type.String()),
      edited_by: NullableString,
      edited_at: Timestamp,
    }),
  ),
});
export type MemoryHistory = Static<typeof MemoryHistorySchema>;

export const NewMemoryItemSchema = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    content: Type.String({ minLength: 1, maxLength: 10_000 }),
    category: Type.String({ minLength: 1, maxLength: 100 }),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 10 })),
    audience: Type.Optional(MemoryAudienceSchema),
  },
  { additionalProperties: false },
);
export type NewMemoryItem = Static<typeof NewMemoryItemSchema>;

export const MemoryCreatedSchema = Type.Object({
  id: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('approved')]),
});
export type MemoryCreated = Static<typeof MemoryCreatedSchema>;

export const MemoryVoteSchema = Type.Object(
  { vote: Type.Union([Type.Literal(-1), Type.Literal(0), Type.Literal(1)]) },
  { additionalProperties: false },
);

export const MemoryVoteResultSchema = Type.Object({
  upvotes: Type.Integer(),
  downvotes: Type.Integer(),
  score: Type.Integer(),
  my_vote: MyVote,
});
export type MemoryVoteResult = Static<typeof MemoryVoteResultSchema>;

export const MyMemoryVotesSchema = Type.Record(
  Type.String(),
  Type.Union([Type.Literal(1), Type.Literal(-1)]),
);
export type MyMemoryVotes = Static<typeof MyMemoryVotesSchema>;

export const MemoryGovernanceActionSchema = Type.Union([
  Type.Literal('approve'),
  Type.Literal('reject'),
  Type.Literal('mandate'),
  Type.Literal('revoke'),
]);
export type MemoryGovernanceAction = Static<typeof MemoryGovernanceActionSchema>;

export const MemoryReason = Type.String({ maxLength: 1000 });

export const MemoryEditSchema = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    content: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
    category: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 10 })),
    audience: Type.Optional(MemoryAudienceSchema),
  },
  { additionalProperties: false },
);
export type MemoryEdit = Static<typeof MemoryEditSchema>;

export const MemoryEditedSchema = Type.Object({ id: Type.String(), updated: Type.Array(Type.String()) });
export type MemoryEdited = Static<typeof MemoryEditedSchema>;

export const MemoryBatchSchema = Type.Object(
  {
    item_ids: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 200 }),
    action: MemoryGovernanceActionSchema,
    reason: Type.Optional(MemoryReason),
    audience: Type.Optional(MemoryAudienceSchema),
  },
  { additionalProperties: false },
);
export type MemoryBatch = Static<typeof MemoryBatchSchema>;

export const MemoryBatchResultSchema = Type.Object({
  success: Type.Array(Type.String()),
  not_found: Type.Array(Type.String()),
  invalid: Type.Array(Type.Object({ id: Type.String(), status: MemoryStatusSchema })),
});
export type MemoryBatchResult = Static<typeof MemoryBatchResultSchema>;
